"""Fault injection for :class:`~chalk_client.testing.ChalkServer`: make chosen endpoints misbehave.

A :class:`Fault` says *what* goes wrong and *where*; the server's :class:`FaultPlan`
(``server.faults``) holds the faults in force and applies them, request by request. Give faults to
the constructor, or add and remove them at any time from any thread::

    from chalk_client.testing import ChalkServer, Fault

    with ChalkServer(faults=[Fault.status("/v1/query/online", 503, count=2)]) as server:
        ...                                          # the next two online queries answer 503
        server.faults.rate_limit("query_online", retry_after=2)   # then one 429, Retry-After: 2
        server.faults.clear()                        # everything works again

Where
    ``endpoint`` names the requests a fault applies to: a path (``"/v1/query/online"``), a route
    template (``"/v1/runs/{run_id}"``: every run), an operation name of ``openapi/chalk.yaml``
    (``"query_online"``, ``"get_token"``, ``"upload_features"``, ...: see
    :data:`~chalk_client.testing._faults._endpoints.OPERATIONS`), or ``"*"`` for every endpoint.
    Online and bulk queries reach both addresses (the API server and the engine); ``served_by="engine"`` or
    ``"api"`` narrows a fault to one. Only requests that were routed are faulted: a 404, a 405 or a
    413 is answered as usual.

How often
    ``count`` is how many matching calls the fault affects (1 by default); ``None`` keeps it in
    force until it is removed. ``skip`` lets that many matching calls through first (``skip=2``:
    the third call fails). When several faults match a call, the one added first applies, and a
    call gets one fault at most.

What (the constructors of :class:`Fault`; the :class:`FaultKind` of each in brackets)
    - ``Fault.status(endpoint, 503)`` [status]: answer that status with the Chalk error body
      (``detail``, ``trace``, ``errors``), or with your ``body`` and ``headers``. The endpoint's
      handler does not run.
    - ``Fault.rate_limit(endpoint, retry_after=2.5)`` [rate_limit]: answer 429 with
      ``Retry-After: 2.5`` (``retry_after=None``: no header).
    - ``Fault.delay(endpoint, 0.5)`` [delay]: wait, then answer normally (a client whose read
      timeout is shorter gives up; the handler still runs afterwards, as a slow server's would).
    - ``Fault.drop(endpoint, when="before")`` [drop_before]: read the request, then close the
      connection without running the handler or answering: nothing was done.
    - ``Fault.drop(endpoint, when="mid_body")`` [drop_mid_body]: run the handler, send the status,
      the headers (with the full ``Content-Length``) and half of the body, then close.
    - ``Fault.drop(endpoint, when="after_store")`` [drop_after_store]: run the handler (an upload's
      rows are stored, a run is triggered), then close without answering.
    - ``Fault.invalid_json(endpoint)`` [invalid_json]: 200, ``application/json``, a truncated JSON
      document.
    - ``Fault.html_page(endpoint)`` [html_page]: a proxy's HTML error page, 502 by default.
    - ``Fault.empty_body(endpoint)`` [empty_body]: 200, ``application/json``, no body at all.
    - ``Fault.missing_fields(endpoint)`` [missing_fields]: the handler's answer without the fields
      the spec requires (``access_token`` of the token answer, ``data`` of a query, ``user`` of
      who-am-i, ...; every field where the spec requires none), or without the ``fields`` given. An
      error answer of the handler, or one that is not JSON (the bulk query's), is left as it is.
    - ``Fault.unknown_error_code(endpoint)`` [unknown_error_code]: a 400 error body whose error has
      a code the spec does not define (``"QUOTA_EXCEEDED"``); with a 2xx ``status``, the handler's
      answer with such an error added to its ``errors`` list (a binary answer is left as it is).
    - ``Fault.revoke_token(endpoint)`` [revoke_token]: revoke every token issued so far, then handle
      the call, which is therefore answered 401 although its token has not expired by the clock.

Shortcuts on :class:`FaultPlan` (each returns the :class:`FaultRule` it added)::

    server.faults.fail_next("/v1/query/online", 3, status=500)
    server.faults.rate_limit("query_online", retry_after=1)
    server.faults.delay("query_online", 0.5)
    server.faults.drop("upload_features", when="after_store")
    server.faults.token_endpoint_down()      # the token endpoint answers 503 until ...
    server.faults.token_endpoint_up()        # ... this; query endpoints work throughout
    server.faults.revoke_current_token()     # now: tokens in use get 401 on their next call

A :class:`FaultRule` tells how many calls it affected (``hits``) and has left (``remaining``).
A faulted call may go on after its client gave up (a delay, then the handler):
``server.faults.in_flight`` counts those still running, and ``server.faults.wait_idle()`` waits
for them, before a test counts what the server did.

The request log (``server.requests``) records every faulted request with its ``fault`` (the kind's
value, e.g. ``"drop_before"``) and, as ``status``, the status line the client received: 0 when the
connection was dropped before any status was sent.

Over HTTP (for tests in another process or language), on the API address, without a token:
``POST /_faults`` with a JSON object of :class:`Fault`'s fields (``{"kind": "status",
"endpoint": "/v1/query/online", "count": 2, "status_code": 503}``; ``body`` as text) adds a fault
and answers the rule; ``GET /_faults`` lists the rules; ``DELETE /_faults`` removes them all;
``POST /_faults/revoke_tokens`` revokes every token. Faults never apply to these paths.

:mod:`chalk_client.testing` exports :class:`Fault`, :class:`FaultKind`, :class:`FaultPlan` and
:class:`FaultRule`. The modules of this package, one concern each:

- ``_fault``: :class:`Fault`, its constructors and checks, and :class:`FaultKind`.
- ``_endpoints``: endpoint selectors, the operation names, the fields each answer requires.
- ``_plan``: :class:`FaultPlan` and its rules (:class:`FaultRule`): which fault applies to a call.
- ``_injection``: what a fault does to the one call it applies to, from the answer to the wire.
- ``_connections``: the open connections' transports, which drop faults close.
- ``_control``: the HTTP control API (``/_faults``).
"""
