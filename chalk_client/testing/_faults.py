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
    (``"query_online"``, ``"get_token"``, ``"upload_features"``, ...: see :data:`OPERATIONS`), or
    ``"*"`` for every endpoint. Online queries reach both addresses (the API server and the
    engine); ``served_by="engine"`` or ``"api"`` narrows a fault to one. Only requests that were
    routed are faulted: a 404, a 405 or a 413 is answered as usual.

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
      error answer of the handler is left as it is.
    - ``Fault.unknown_error_code(endpoint)`` [unknown_error_code]: a 400 error body whose error has
      a code the spec does not define (``"QUOTA_EXCEEDED"``); with a 2xx ``status``, the handler's
      answer with such an error added to its ``errors`` list.
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

Dropping a connection needs the connection's transport, which ASGI does not expose: the server runs
uvicorn with an HTTP protocol class made by :meth:`FaultPlan.protocol_class`, which files each
transport under the addresses the ASGI scope carries (see :class:`Connections`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import http
import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal, TypedDict, Unpack

from chalk_client.testing._http import (
    ApiError,
    Handler,
    RawHeaders,
    Receive,
    Request,
    Response,
    Router,
    Scope,
    Send,
    chalk_error,
    error_response,
    json_response,
)

__all__ = [
    "CONTROL_PATH",
    "OPERATIONS",
    "Connections",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "Injection",
]

TOKEN_PATH: Final = "/v1/oauth/token"
CONTROL_PATH: Final = "/_faults"

OPERATIONS: Final[Mapping[str, str]] = {
    "get_token": TOKEN_PATH,
    "query_online": "/v1/query/online",
    "upload_features": "/v1/upload_features",
    "who_am_i": "/v1/who-am-i",
    "trigger_resolver_run": "/v1/runs/trigger",
    "get_run_status": "/v1/runs/{run_id}",
    "submit_offline_query": "/v4/offline_query",
    "get_offline_query_status": "/v4/offline_query/status",
    "get_offline_query_progress": "/v4/offline_query/{job_id}/status",
    "cancel_offline_query": "/v4/offline_query/{job_id}/cancel",
    "get_dataset_revision": "/v2/offline_query/{revision_id}",
}
"""Operation name (``operationId`` in ``openapi/chalk.yaml``) to its path or path template."""

# The fields each answer must have, per the spec: what ``missing_fields`` leaves out by default.
_REQUIRED_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    TOKEN_PATH: ("access_token",),
    "/v1/query/online": ("data",),
    "/v1/who-am-i": ("user",),
    "/v1/runs/trigger": ("id", "status"),
    "/v1/runs/{run_id}": ("id", "status"),
    "/v4/offline_query": ("is_finished", "revisions"),
    "/v4/offline_query/status": ("is_finished",),
    "/v4/offline_query/{job_id}/status": ("report",),
    "/v4/offline_query/{job_id}/cancel": ("report",),
    "/v2/offline_query/{revision_id}": ("revision_id", "status"),
}

_UNKNOWN_CODE: Final = "QUOTA_EXCEEDED"
# A JSON document cut off in the middle, as a proxy that gave up half-way would deliver it.
_TRUNCATED_JSON: Final = b'{"data":[{"field":"user.name","value":"Ada Lov'
_JSON: Final = (b"content-type", b"application/json")
_PARAM: Final = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


class FaultKind(enum.Enum):
    """What a :class:`Fault` does to the calls it applies to (see the module docstring)."""

    STATUS = "status"
    RATE_LIMIT = "rate_limit"
    DELAY = "delay"
    DROP_BEFORE = "drop_before"
    DROP_MID_BODY = "drop_mid_body"
    DROP_AFTER_STORE = "drop_after_store"
    INVALID_JSON = "invalid_json"
    HTML_PAGE = "html_page"
    EMPTY_BODY = "empty_body"
    MISSING_FIELDS = "missing_fields"
    UNKNOWN_ERROR_CODE = "unknown_error_code"
    REVOKE_TOKEN = "revoke_token"


# The status each kind answers with when none is given; kinds absent here send no status of their own.
_DEFAULT_STATUS: Final[Mapping[FaultKind, int]] = {
    FaultKind.STATUS: 503,
    FaultKind.RATE_LIMIT: 429,
    FaultKind.INVALID_JSON: 200,
    FaultKind.HTML_PAGE: 502,
    FaultKind.EMPTY_BODY: 200,
    FaultKind.UNKNOWN_ERROR_CODE: 400,
}
_DROP_KINDS: Final[Mapping[str, FaultKind]] = {
    "before": FaultKind.DROP_BEFORE,
    "mid_body": FaultKind.DROP_MID_BODY,
    "after_store": FaultKind.DROP_AFTER_STORE,
}
# Kinds whose answer comes from the endpoint's handler (possibly altered, delayed or cut short).
_RUN_HANDLER: Final = frozenset(
    {
        FaultKind.DELAY,
        FaultKind.DROP_MID_BODY,
        FaultKind.DROP_AFTER_STORE,
        FaultKind.MISSING_FIELDS,
        FaultKind.REVOKE_TOKEN,
    }
)


class Where(TypedDict, total=False):
    """The keyword arguments every :class:`Fault` constructor takes besides its own."""

    count: int | None
    skip: int
    served_by: Literal["api", "engine"] | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fault:
    """One way for chosen calls to go wrong; build it with a constructor (``Fault.status(...)``).

    Attributes:
        kind: What happens.
        endpoint: Which calls: a path, a route template, an operation name, or ``"*"``.
        count: How many matching calls it affects; None: until it is removed.
        skip: Matching calls let through before it applies.
        served_by: ``"api"`` or ``"engine"``: only calls to that address; None: both.
        status_code: The status answered (status, rate_limit, invalid_json, html_page, empty_body,
            unknown_error_code); None for the other kinds.
        body: status: the body to send instead of the Chalk error body.
        headers: Extra headers of the answer (kinds that answer).
        seconds: delay: how long to wait before handling the call.
        retry_after: rate_limit: the ``Retry-After`` value in seconds (None: no header).
        fields: missing_fields: the top-level fields to leave out (None: those the spec requires).
        code: unknown_error_code: the error code to send.
    """

    kind: FaultKind
    endpoint: str = "*"
    count: int | None = 1
    skip: int = 0
    served_by: Literal["api", "engine"] | None = None
    status_code: int | None = None
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    retry_after: float | None = None
    fields: tuple[str, ...] | None = None
    code: str = _UNKNOWN_CODE

    def __post_init__(self) -> None:
        kind = self.kind
        if not isinstance(kind, FaultKind):
            raise TypeError(f"kind must be a FaultKind, not {kind!r}")
        _path_of(self.endpoint)  # raises for an unknown selector
        count = self.count
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError(f"count must be an int >= 1, or None for 'until removed'; not {count!r}")
        if isinstance(self.skip, bool) or not isinstance(self.skip, int) or self.skip < 0:
            raise ValueError(f"skip must be an int >= 0, not {self.skip!r}")
        if self.served_by not in (None, "api", "engine"):
            raise ValueError(f"served_by must be 'api', 'engine' or None, not {self.served_by!r}")
        default = _DEFAULT_STATUS.get(kind)
        if default is None:
            if self.status_code is not None:
                raise ValueError(f"a {kind.value} fault sends no status of its own; leave status_code unset")
        elif self.status_code is None:
            object.__setattr__(self, "status_code", default)
        else:
            _check_status(self.status_code)
            if kind is FaultKind.RATE_LIMIT and self.status_code != 429:
                raise ValueError("a rate_limit fault answers 429; use Fault.status for other statuses")
        if self.body is not None and kind is not FaultKind.STATUS:
            raise ValueError("only a status fault takes a body")
        if self.body is not None and not isinstance(self.body, bytes):
            raise TypeError(f"body must be bytes, not {type(self.body).__name__}")
        object.__setattr__(self, "headers", tuple((str(k), str(v)) for k, v in self.headers))
        _check_seconds("seconds", self.seconds)
        if self.retry_after is not None:
            _check_seconds("retry_after", self.retry_after)
        if self.fields is not None:
            object.__setattr__(self, "fields", tuple(self.fields))
        if not isinstance(self.code, str) or not self.code:
            raise ValueError(f"code must be a non-empty string, not {self.code!r}")

    # -- constructors ----------------------------------------------------------------------------

    @classmethod
    def status(
        cls,
        endpoint: str,
        status: int = 503,
        *,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        **where: Unpack[Where],
    ) -> Fault:
        """Answer `status`, with the Chalk error body unless `body` is given (the handler does not run).

        Example: ``Fault.status("/v1/query/online", 500, count=3)``.
        """
        raw = body.encode() if isinstance(body, str) else body
        return cls(
            kind=FaultKind.STATUS,
            endpoint=endpoint,
            status_code=status,
            body=raw,
            headers=_header_items(headers),
            **where,
        )

    @classmethod
    def rate_limit(cls, endpoint: str, retry_after: float | None = 1.0, **where: Unpack[Where]) -> Fault:
        """Answer 429 with ``Retry-After: <retry_after>`` (no header when None).

        Example: ``Fault.rate_limit("query_online", retry_after=2.5)``.
        """
        return cls(kind=FaultKind.RATE_LIMIT, endpoint=endpoint, retry_after=retry_after, **where)

    @classmethod
    def delay(cls, endpoint: str, seconds: float, **where: Unpack[Where]) -> Fault:
        """Wait `seconds`, then handle the call normally.

        Example: ``Fault.delay("query_online", 0.5)`` against a client with a 0.2 s read timeout.
        """
        return cls(kind=FaultKind.DELAY, endpoint=endpoint, seconds=seconds, **where)

    @classmethod
    def drop(
        cls,
        endpoint: str,
        when: Literal["before", "mid_body", "after_store"] = "before",
        **where: Unpack[Where],
    ) -> Fault:
        """Close the connection: `before` handling, in the middle of the body, or `after_store`.

        Example: ``Fault.drop("upload_features", when="after_store")``: the rows are stored, the
        client gets no answer.
        """
        kind = _DROP_KINDS.get(when)
        if kind is None:
            raise ValueError(f"when must be one of {', '.join(map(repr, _DROP_KINDS))}; not {when!r}")
        return cls(kind=kind, endpoint=endpoint, **where)

    @classmethod
    def invalid_json(cls, endpoint: str, status: int = 200, **where: Unpack[Where]) -> Fault:
        """Answer `status` with ``Content-Type: application/json`` and a truncated JSON document."""
        return cls(kind=FaultKind.INVALID_JSON, endpoint=endpoint, status_code=status, **where)

    @classmethod
    def html_page(cls, endpoint: str, status: int = 502, **where: Unpack[Where]) -> Fault:
        """Answer `status` with a proxy's HTML error page (``text/html``)."""
        return cls(kind=FaultKind.HTML_PAGE, endpoint=endpoint, status_code=status, **where)

    @classmethod
    def empty_body(cls, endpoint: str, status: int = 200, **where: Unpack[Where]) -> Fault:
        """Answer `status` with ``Content-Type: application/json`` and no body."""
        return cls(kind=FaultKind.EMPTY_BODY, endpoint=endpoint, status_code=status, **where)

    @classmethod
    def missing_fields(
        cls, endpoint: str, fields: Sequence[str] | None = None, **where: Unpack[Where]
    ) -> Fault:
        """Answer what the handler answers, without `fields` (default: those the spec requires)."""
        return cls(
            kind=FaultKind.MISSING_FIELDS,
            endpoint=endpoint,
            fields=None if fields is None else tuple(fields),
            **where,
        )

    @classmethod
    def unknown_error_code(
        cls, endpoint: str, status: int = 400, *, code: str = _UNKNOWN_CODE, **where: Unpack[Where]
    ) -> Fault:
        """An error whose code the spec does not define: a `status` error body, or (2xx) in the answer."""
        return cls(
            kind=FaultKind.UNKNOWN_ERROR_CODE, endpoint=endpoint, status_code=status, code=code, **where
        )

    @classmethod
    def revoke_token(cls, endpoint: str = "*", **where: Unpack[Where]) -> Fault:
        """Revoke every token issued so far just before handling the call (which then gets a 401)."""
        return cls(kind=FaultKind.REVOKE_TOKEN, endpoint=endpoint, **where)


def _check_status(status: object) -> None:
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise ValueError(f"status must be an int in 200..599, not {status!r}")
    if status in (204, 304):
        raise ValueError(f"status {status} cannot carry a body; choose another")


def _check_seconds(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, not {value!r}")


def _header_items(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((headers or {}).items())


def _path_of(endpoint: object) -> str:
    """The path or template an endpoint selector stands for (``"*"`` stays ``"*"``)."""
    if not isinstance(endpoint, str) or not endpoint:
        raise ValueError(f"endpoint must be a path, an operation name or '*', not {endpoint!r}")
    if endpoint == "*" or endpoint.startswith("/"):
        return endpoint
    path = OPERATIONS.get(endpoint)
    if path is None:
        raise ValueError(
            f"unknown endpoint {endpoint!r}: give a path such as '/v1/query/online', '*', or an "
            f"operation name: {', '.join(OPERATIONS)}"
        )
    return path


def _selector(endpoint: str) -> Callable[[str, bool], bool]:
    """``(path, routed_by_template) -> bool`` for an endpoint selector.

    A template selector matches only calls routed by a template, so ``/v1/runs/{run_id}`` does not
    match ``/v1/runs/trigger`` (an exact route of its own).
    """
    path = _path_of(endpoint)
    if path == "*":
        return lambda _path, _templated: True
    if _PARAM.search(path) is None:
        return lambda request_path, _templated: request_path == path
    parts = _PARAM.split(path)
    pattern = re.compile("[^/]+".join(re.escape(part) for part in parts))
    return lambda request_path, templated: templated and pattern.fullmatch(request_path) is not None


def _required_fields(path: str, templated: bool) -> tuple[str, ...] | None:
    fields = _REQUIRED_FIELDS.get(path)
    if fields is not None or not templated:
        return fields
    for template, names in _REQUIRED_FIELDS.items():
        if _PARAM.search(template) is not None and _selector(template)(path, True):
            return names
    return None


class FaultRule:
    """A fault in force in a :class:`FaultPlan`, and what it has done so far.

    Attributes:
        fault: The fault.
        id: A number unique within its plan (what the HTTP control API shows).
    """

    def __init__(self, fault: Fault, rule_id: int) -> None:
        self.fault = fault
        self.id = rule_id
        self._matches = _selector(fault.endpoint)
        self._served_by = fault.served_by
        self._remaining = fault.count
        self._skip = fault.skip
        self._hits = 0
        self._active = True

    @property
    def hits(self) -> int:
        """Calls it has affected."""
        return self._hits

    @property
    def remaining(self) -> int | None:
        """Calls it will still affect; None: until removed."""
        return self._remaining

    @property
    def active(self) -> bool:
        """Whether it is still in force (not used up, not removed)."""
        return self._active

    def to_json(self) -> dict[str, Any]:
        """What the HTTP control API shows of it."""
        fault = self.fault
        return {
            "id": self.id,
            "kind": fault.kind.value,
            "endpoint": fault.endpoint,
            "count": fault.count,
            "status_code": fault.status_code,
            "remaining": self._remaining,
            "hits": self._hits,
            "active": self._active,
        }

    def __repr__(self) -> str:
        left = "until removed" if self._remaining is None else f"{self._remaining} left"
        return (
            f"<FaultRule {self.id} {self.fault.kind.value} {self.fault.endpoint}: {self._hits} hits, {left}>"
        )


class Connections:
    """The open connections of a running server, by ``(local address, peer address)``.

    The keys are the ``server`` and ``client`` of the ASGI scope, so the app finds the transport
    of the request it is answering. Only the server's event loop thread touches the table; the
    counters may be read from anywhere.

    Attributes:
        opened: Connections accepted since the server was made.
    """

    def __init__(self) -> None:
        self._open: dict[tuple[Any, Any], asyncio.Transport] = {}
        self.opened = 0

    def add(self, key: tuple[Any, Any], transport: asyncio.Transport) -> None:
        """File a new connection's transport."""
        self._open[key] = transport
        self.opened += 1

    def discard(self, key: tuple[Any, Any], transport: asyncio.Transport) -> None:
        """Forget a closed connection (if `key` still names this transport)."""
        if self._open.get(key) is transport:
            del self._open[key]

    def find(self, scope: Scope) -> asyncio.Transport | None:
        """The transport of the connection an ASGI request came in on, if known."""
        return self._open.get((scope.get("server"), scope.get("client")))

    def __len__(self) -> int:
        """Connections open now."""
        return len(self._open)


def _tracked(base: type[Any], connections: Connections) -> type[asyncio.Protocol]:
    """A subclass of uvicorn's HTTP protocol class `base` that files its transport in `connections`."""

    class Tracked(base):  # type: ignore[misc]
        _chalk_key: tuple[Any, Any] | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            # uvicorn puts exactly these two values in every request's scope.
            self._chalk_key = (self.server, self.client)
            connections.add(self._chalk_key, transport)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._chalk_key is not None:
                connections.discard(self._chalk_key, self.transport)
            super().connection_lost(exc)

    Tracked.__name__ = Tracked.__qualname__ = f"Tracked{base.__name__}"
    return Tracked


class Injection:
    """One fault applied to one call: builds the answer, then delivers it (or drops it).

    Made by :meth:`FaultPlan.take` for the app; its methods run on the server's event loop. The
    call counts as in flight (:attr:`FaultPlan.in_flight`) until :meth:`deliver` is done, or
    :meth:`respond` is cancelled.
    """

    __slots__ = ("_connections", "_done", "_finish", "_revoke", "fault")

    def __init__(
        self,
        fault: Fault,
        *,
        revoke: Callable[[], None],
        connections: Connections,
        finish: Callable[[], None],
    ) -> None:
        self.fault = fault
        self._revoke = revoke
        self._connections = connections
        self._finish = finish
        self._done = False

    def _finished(self) -> None:
        if not self._done:
            self._done = True
            self._finish()

    async def respond(self, request: Request, handler: Handler) -> Response:
        """The answer to `request` under the fault (the handler's, altered, or one of its own)."""
        try:
            return await self._respond(request, handler)
        except Exception:
            raise  # the app answers with the error, then calls deliver()
        except BaseException:
            self._finished()  # cancelled (the server is stopping): deliver() will not run
            raise

    async def _respond(self, request: Request, handler: Handler) -> Response:
        fault = self.fault
        kind = fault.kind
        if kind in _RUN_HANDLER:
            if kind is FaultKind.DELAY:
                await asyncio.sleep(fault.seconds)
            elif kind is FaultKind.REVOKE_TOKEN:
                self._revoke()
            response = await handler(request)
            if kind is FaultKind.MISSING_FIELDS:
                return _without_fields(response, fault.fields, request)
            return response
        if kind is FaultKind.DROP_BEFORE:
            return Response(0, [], b"")  # never sent
        status = fault.status_code
        assert status is not None  # every other kind has one (Fault.__post_init__)
        if kind is FaultKind.STATUS:
            if fault.body is not None:
                length = (b"content-length", str(len(fault.body)).encode())
                content_type = [] if _has_header(fault.headers, "content-type") else [_JSON]
                return Response(status, [*content_type, length], fault.body)
            return _status_answer(status, f"injected fault: {_phrase(status)}")
        if kind is FaultKind.RATE_LIMIT:
            headers: RawHeaders = []
            if fault.retry_after is not None:
                headers.append((b"retry-after", f"{fault.retry_after:g}".encode()))
            return error_response(
                429,
                "injected fault: too many requests",
                [chalk_error("UPSTREAM_FAILED", "rate limited; slow down", "NETWORK")],
                headers,
            )
        if kind is FaultKind.INVALID_JSON:
            return _raw(status, b"application/json", _TRUNCATED_JSON)
        if kind is FaultKind.HTML_PAGE:
            return _raw(status, b"text/html; charset=utf-8", _html_page(status))
        if kind is FaultKind.EMPTY_BODY:
            return _raw(status, b"application/json", b"")
        # UNKNOWN_ERROR_CODE
        unknown = chalk_error(fault.code, f"an error of a kind this client has not seen ({fault.code})")
        if status >= 400:
            return error_response(status, f"injected fault: error code {fault.code}", [unknown])
        response = await handler(request)
        return _with_error(response, unknown, status)

    def status_sent(self, response: Response) -> int:
        """The status line the client receives under the fault: 0 when the connection is dropped first."""
        if self.fault.kind in (FaultKind.DROP_BEFORE, FaultKind.DROP_AFTER_STORE):
            return 0
        return response.status

    async def deliver(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        """Send `response` as the fault says: whole, cut off half-way, or not at all."""
        try:
            await self._deliver(response, scope, receive, send)
        finally:
            self._finished()

    async def _deliver(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self.fault
        kind = fault.kind
        headers = response.headers
        if fault.headers:
            headers = [
                *headers,
                *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in fault.headers),
            ]
        if kind in (FaultKind.DROP_BEFORE, FaultKind.DROP_AFTER_STORE):
            await self._abort(scope, receive)
            return
        if kind is FaultKind.DROP_MID_BODY:
            body = response.body
            declared = max(len(body), 1)  # always more than the half that is sent
            headers = [(k, v) for k, v in headers if k != b"content-length"]
            headers.append((b"content-length", str(declared).encode()))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            await self._abort(scope, receive)
            return
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _abort(self, scope: Scope, receive: Receive) -> None:
        transport = self._connections.find(scope)
        if transport is None:
            raise RuntimeError(
                "a drop fault needs the connection's transport: serve the app with "
                "FaultPlan.protocol_class() as uvicorn's http protocol"
            )
        transport.abort()
        # Wait until uvicorn has seen the connection go (it then expects no answer).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receive(), 1.0)


def _phrase(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _status_code_of(status: int) -> str | None:
    if status == 401:
        return "UNAUTHENTICATED"
    if status == 403:
        return "UNAUTHORIZED"
    if status in (408, 504):
        return "DEADLINE_EXCEEDED"
    if status in (502, 503):
        return "UPSTREAM_FAILED"
    if status >= 500:
        return "INTERNAL_SERVER_ERROR"
    if status >= 400:
        return "VALIDATION_FAILED"
    return None


def _status_answer(status: int, detail: str) -> Response:
    code = _status_code_of(status)
    if code is None:  # a 2xx or 3xx "fault": an empty JSON object
        return json_response({}, status)
    return error_response(status, detail, [chalk_error(code, detail)])


def _raw(status: int, content_type: bytes, body: bytes) -> Response:
    return Response(
        status, [(b"content-type", content_type), (b"content-length", str(len(body)).encode())], body
    )


def _html_page(status: int) -> bytes:
    phrase = _phrase(status)
    return (
        f"<!DOCTYPE html>\n<html><head><title>{phrase}</title></head>\n"
        f"<body><center><h1>{phrase}</h1></center><hr><center>nginx</center></body></html>\n"
    ).encode()


def _has_header(headers: Iterable[tuple[str, str]], name: str) -> bool:
    return any(key.lower() == name for key, _ in headers)


def _json_object(response: Response) -> dict[str, Any] | None:
    try:
        data = json.loads(response.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _without_fields(response: Response, fields: tuple[str, ...] | None, request: Request) -> Response:
    if response.status >= 400:
        return response
    data = _json_object(response)
    if data is None:
        return response
    if fields is None:
        fields = _required_fields(request.path, bool(request.path_params))
    kept = {} if fields is None else {k: v for k, v in data.items() if k not in fields}
    return _rebuilt(response, kept)


def _with_error(response: Response, error: dict[str, Any], status: int) -> Response:
    data = _json_object(response)
    if data is None or response.status >= 400:
        return response
    errors = data.get("errors")
    data["errors"] = [*(errors if isinstance(errors, list) else []), error]
    return _rebuilt(response, data, status)


def _rebuilt(response: Response, data: dict[str, Any], status: int | None = None) -> Response:
    extra = [(k, v) for k, v in response.headers if k not in (b"content-type", b"content-length")]
    return json_response(data, response.status if status is None else status, extra)


class FaultPlan:
    """The faults in force on one server: any thread may change them while it serves.

    ``server.faults`` is the server's plan. Checking it costs the app one attribute read per
    request while no fault is in force (:attr:`armed`).

    Args:
        faults: Faults in force from the start.
        revoke: Revokes every token the server issued (what ``revoke_token`` faults call).
    """

    def __init__(self, faults: Iterable[Fault] = (), *, revoke: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._revoke = revoke if revoke is not None else _no_revoke
        self.connections = Connections()
        self.armed = False
        """True while a fault is in force: the app's one check per request."""
        for fault in faults:
            self.add(fault)

    # -- the rules -------------------------------------------------------------------------------

    def add(self, fault: Fault) -> FaultRule:
        """Put `fault` in force (after the faults already there); returns its rule."""
        if not isinstance(fault, Fault):
            raise TypeError(f"expected a Fault, not {type(fault).__name__}")
        with self._lock:
            rule = FaultRule(fault, self._next_id)
            self._next_id += 1
            self._rules.append(rule)
            self.armed = True
        return rule

    def remove(self, rule: FaultRule) -> bool:
        """Take `rule` out of force; False if it was not in force any more."""
        with self._lock:
            if rule not in self._rules:
                return False
            self._drop(rule)
            return True

    def clear(self) -> None:
        """Take every fault out of force."""
        with self._lock:
            for rule in self._rules:
                rule._active = False
            self._rules.clear()
            self.armed = False

    @property
    def rules(self) -> list[FaultRule]:
        """The rules in force, in the order they apply (a copy)."""
        with self._lock:
            return list(self._rules)

    @property
    def in_flight(self) -> int:
        """Faulted calls the server is still handling (a delay sleeping, a handler running, ...)."""
        with self._lock:
            return self._in_flight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no faulted call is in flight; False if some still are after `timeout` seconds.

        A delayed call goes on after its client gave up: wait for it before counting what the
        server did (a token exchange, a stored upload) or before the next test.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def _finish(self) -> None:
        with self._idle:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.notify_all()

    def _drop(self, rule: FaultRule) -> None:  # with the lock held
        rule._active = False
        self._rules.remove(rule)
        self.armed = bool(self._rules)

    # -- shortcuts -------------------------------------------------------------------------------

    def fail_next(
        self,
        endpoint: str,
        count: int | None = 1,
        *,
        status: int = 503,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FaultRule:
        """Answer the next `count` calls to `endpoint` with `status` (None: until removed)."""
        return self.add(Fault.status(endpoint, status, body=body, headers=headers, count=count))

    def rate_limit(
        self, endpoint: str, *, retry_after: float | None = 1.0, count: int | None = 1
    ) -> FaultRule:
        """Answer the next `count` calls to `endpoint` with 429 and ``Retry-After: <retry_after>``."""
        return self.add(Fault.rate_limit(endpoint, retry_after, count=count))

    def delay(self, endpoint: str, seconds: float, *, count: int | None = 1) -> FaultRule:
        """Answer the next `count` calls to `endpoint` normally, `seconds` late."""
        return self.add(Fault.delay(endpoint, seconds, count=count))

    def drop(
        self,
        endpoint: str,
        when: Literal["before", "mid_body", "after_store"] = "before",
        *,
        count: int | None = 1,
    ) -> FaultRule:
        """Close the connection of the next `count` calls to `endpoint` (see :meth:`Fault.drop`)."""
        return self.add(Fault.drop(endpoint, when, count=count))

    def token_endpoint_down(self, status: int = 503) -> FaultRule:
        """Answer every token request with `status` until :meth:`token_endpoint_up`; nothing else changes."""
        return self.add(Fault.status(TOKEN_PATH, status, count=None))

    def token_endpoint_up(self) -> int:
        """Remove every fault aimed at the token endpoint (not ``"*"`` ones); returns how many."""
        with self._lock:
            aimed = [r for r in self._rules if r.fault.endpoint != "*" and r._matches(TOKEN_PATH, False)]
            for rule in aimed:
                self._drop(rule)
        return len(aimed)

    def revoke_current_token(self) -> None:
        """Revoke every token issued so far, now: their next call gets a 401 though the clock says valid."""
        self._revoke()

    # -- the app's side --------------------------------------------------------------------------

    def take(self, request: Request) -> Injection | None:
        """The fault for `request`, if one applies; counts it against its rule and marks the request."""
        path = request.path
        if path.startswith(CONTROL_PATH):
            return None
        templated = bool(request.path_params)
        with self._lock:
            for rule in self._rules:
                if rule._served_by not in (None, request.served_by) or not rule._matches(path, templated):
                    continue
                if rule._skip:
                    rule._skip -= 1
                    continue
                rule._hits += 1
                self._in_flight += 1
                if rule._remaining is not None:
                    rule._remaining -= 1
                    if rule._remaining == 0:
                        self._drop(rule)
                fault = rule.fault
                break
            else:
                return None
        request.fault = fault.kind.value
        return Injection(fault, revoke=self._revoke, connections=self.connections, finish=self._finish)

    def protocol_class(self, http: str) -> type[asyncio.Protocol]:
        """uvicorn's HTTP protocol class for `http` (``"httptools"`` or ``"h11"``), filing each
        connection's transport in :attr:`connections` so drop faults can close it."""
        if http == "httptools":
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

            return _tracked(HttpToolsProtocol, self.connections)
        if http == "h11":
            from uvicorn.protocols.http.h11_impl import H11Protocol

            return _tracked(H11Protocol, self.connections)
        raise ValueError(f"http must be 'httptools' or 'h11', not {http!r}")

    # -- the HTTP control API --------------------------------------------------------------------

    def add_control_routes(self, router: Router) -> None:
        """Serve the HTTP control API (see the module docstring) from `router`."""
        router.add("GET", CONTROL_PATH, self._list)
        router.add("POST", CONTROL_PATH, self._add)
        router.add("DELETE", CONTROL_PATH, self._clear)
        router.add("POST", CONTROL_PATH + "/revoke_tokens", self._revoke_tokens)

    async def _list(self, request: Request) -> Response:
        return json_response({"rules": [rule.to_json() for rule in self.rules]})

    async def _add(self, request: Request) -> Response:
        rule = self.add(_fault_from_json(request.json()))
        return json_response(rule.to_json())

    async def _clear(self, request: Request) -> Response:
        self.clear()
        return json_response({"rules": []})

    async def _revoke_tokens(self, request: Request) -> Response:
        self.revoke_current_token()
        return json_response({"revoked": True})

    def __repr__(self) -> str:
        return f"<FaultPlan {len(self._rules)} rules>"


def _no_revoke() -> None:
    raise RuntimeError("this FaultPlan has no server to revoke tokens on")


_FIELDS: Final = frozenset(field.name for field in dataclasses.fields(Fault))


def _fault_from_json(data: object) -> Fault:
    """A :class:`Fault` from the control API's JSON object; a 400 for anything else."""

    def invalid(message: str) -> ApiError:
        return ApiError(400, "VALIDATION_FAILED", message)

    if not isinstance(data, dict):
        raise invalid("the body must be a JSON object of Fault fields")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise invalid(f"unknown fields {unknown}; a Fault has {sorted(_FIELDS)}")
    values = dict(data)
    try:
        values["kind"] = FaultKind(values.get("kind"))
    except ValueError:
        raise invalid(f"'kind' must be one of {[k.value for k in FaultKind]}") from None
    body = values.get("body")
    if isinstance(body, str):
        values["body"] = body.encode()
    headers = values.get("headers")
    if isinstance(headers, dict):
        values["headers"] = tuple(headers.items())
    elif headers is not None:
        raise invalid("'headers' must be an object of strings")
    if isinstance(values.get("fields"), list):
        values["fields"] = tuple(values["fields"])
    try:
        return Fault(**values)
    except (TypeError, ValueError) as exc:
        raise invalid(str(exc)) from None
