"""The one call flow: every attempt of an API call, and of the token exchange, as steps for a driver.

A call goes out in this order, so that a token never ages in a queue:

1. it is routed with the cached token (:data:`~chalk_client._core.steps.GET_TOKEN`);
2. it takes a slot on its pool (:class:`~chalk_client._core.steps.TakeSlot`: ``limits.max_connections``
   of them, waiting at most ``Timeout.pool``);
3. it reads the token again (a call that queued may find it refreshed, or must wait for the
   refresh), routes again if it changed, puts it in ``Authorization``, and sends
   (:class:`~chalk_client._core.steps.Send`);
4. a 401 is replayed with a new token (:func:`chalk_client._core.auth.replay_after_401`), other
   failures are retried by the rules of :mod:`chalk_client._core.retry`, after a
   :class:`~chalk_client._core.steps.Sleep`.

The token exchange takes no slot (its pool has one connection more than there are slots), so it can
never wait behind the calls that wait for it. It is retried inside its single flight
(``token_retries``) on connection failures, timeouts, 408, 429 and 5xx, so one blip reaches no caller.

Nothing here does I/O: the drivers in ``chalk_client._io.async_driver`` and ``sync_driver`` carry the steps out. Offline
waits and downloads (:mod:`chalk_client._api.offline_flows`) make their calls through this flow.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

import attrs
import httpx

from chalk_client._api.calls import Call, wire_template
from chalk_client._core.answers import Answer, error_for_status, parse_model, transport_error
from chalk_client._core.auth import replay_after_401
from chalk_client._core.config import ChalkClientConfig, rejected_credentials_hint
from chalk_client._core.defaults import USER_AGENT, TimeoutArg, UseClientDefault, as_timeout
from chalk_client._core.errors import ChalkSDKError
from chalk_client._core.retry import Idempotency, decide_retry, never_sent
from chalk_client._core.routing import Plane, Route, route
from chalk_client._core.steps import GET_TOKEN, Flow, Send, Sleep, TakeSlot, ask
from chalk_client._core.token import Clock, Token

if TYPE_CHECKING:
    from chalk_openapi.models.token_response import TokenResponse

__all__ = ["DEFAULT_TOKEN_RETRIES", "CallFlows", "Parser", "TokenView"]

logger = logging.getLogger("chalk_client.http")

_R = TypeVar("_R")
# How often the token exchange is retried (inside its single flight) after a transient failure.
DEFAULT_TOKEN_RETRIES: Final = 2
# Routes remembered per token (kinds of call: plane, environment, branch, query name).
_MAX_ROUTES: Final = 256
# Turns a call's 2xx answer into its result: (call, answer, secrets to redact) -> result.
Parser = Callable[[Call, Answer, Sequence[str | None]], _R]


class TokenView(Protocol):
    """What the call flow reads of the token cache (it never waits on it: that is a step)."""

    def peek(self) -> Token | None:
        """The cached token if it is fresh, else None."""
        ...

    def expired(self, token: Token) -> bool:
        """Whether `token` has expired by the cache's clock."""
        ...

    def invalidate(self, token: Token | str) -> bool:
        """Drop the cached token if it is still `token`."""
        ...


@attrs.define(kw_only=True, eq=False)
class CallFlows:
    """Makes the flows of one client's calls: its configuration, retry knobs and routes."""

    config: ChalkClientConfig
    tokens: TokenView
    clock: Clock
    rand: Callable[[], float]
    timeout: httpx.Timeout
    token_timeout: httpx.Timeout
    max_retries: int
    token_retries: int
    secrets: tuple[str | None, ...]
    # The routes of the current token (see _route); replaced whole when the token changes.
    _routes: tuple[Token | None, dict[tuple[Any, ...], Route]] = attrs.field(
        init=False, factory=lambda: (None, {})
    )

    def call(self, call: Call, parse: Parser[_R], timeout: TimeoutArg | UseClientDefault) -> Flow[_R]:
        """Every attempt of `call`, as steps; returns the parsed answer or raises the SDK error."""
        effective = self.timeout if isinstance(timeout, UseClientDefault) else as_timeout(timeout)
        tokens = self.tokens
        token, exchanged = yield from ask(GET_TOKEN)
        where = self._route(token, call)
        url = where.base_url + call.path
        slot = TakeSlot(call.plane is Plane.DATA, effective.pool, url)
        body_type = call.media if call.body is not None else None
        attempt = 0
        while True:
            attempt += 1
            replays = 0
            while True:
                lease = yield from ask(slot)
                if isinstance(lease, httpx.TransportError):  # no free slot in time: nothing was sent
                    outcome: Answer | httpx.TransportError = lease
                    break
                fresh = tokens.peek()  # the token may have changed while the call queued
                if fresh is None:
                    fresh, waited = yield from ask(GET_TOKEN)
                    exchanged = waited or (exchanged and fresh is token)
                elif fresh is not token:
                    exchanged = False
                if fresh is not token:
                    token = fresh
                    where = self._route(token, call)
                route_headers = where.headers + call.headers if call.headers else where.headers
                url, constant = wire_template(
                    where.base_url, call.path, route_headers, body_type, call.accept, user_agent=USER_AGENT
                )
                headers = constant.copy()
                headers["Authorization"] = f"Bearer {token.access_token}"
                outcome = yield from ask(Send(call.method, url, headers, call.body, effective, lease=lease))
                if isinstance(outcome, httpx.TransportError) or outcome.status_code != 401:
                    break
                if not replay_after_401(
                    token,
                    exchanged=exchanged,
                    replays=replays,
                    expired=tokens.expired,
                    invalidate=tokens.invalidate,
                    what=f"{call.method} {url}",
                ):
                    break
                fresh, waited = yield from ask(GET_TOKEN)
                exchanged = waited or (exchanged and fresh is token)
                if fresh is not token:
                    token = fresh
                    where = self._route(token, call)
                replays += 1
            if not isinstance(outcome, httpx.TransportError) and outcome.is_success:
                return parse(call, outcome, self.secrets)
            delay = self._retry_delay(
                f"{call.method} {url}", call.idempotency, attempt, self.max_retries, outcome
            )
            if delay is None:
                raise self._failure(call, url, outcome, attempt)
            yield from ask(Sleep(delay))
            exchanged = False  # the next attempt reads the cache anew

    def exchange(self) -> Flow[TokenResponse]:
        """Every attempt of one token exchange: the request, pauses, the parsed answer.

        The request is built by the generated endpoint (JSON body, no ``Authorization``).
        Connection failures, timeouts, 408, 429 and 5xx are retried ``token_retries`` times, with
        the calls' backoff and ``Retry-After`` rules; rejected credentials (any other 4xx) are
        final. The error it ends with carries the attempts made.
        """
        from chalk_openapi.api.auth import get_token
        from chalk_openapi.models.token_request import TokenRequest
        from chalk_openapi.models.token_response import TokenResponse

        body = TokenRequest(
            client_id=self.config.client_id or "",
            client_secret=self.config.client_secret or "",
            grant_type="client_credentials",
        )
        kwargs = get_token._get_kwargs(body=body)
        method = str(kwargs["method"]).upper()
        url = self.config.api_server.rstrip("/") + kwargs["url"]
        content = json.dumps(kwargs["json"]).encode()
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", "Content-Type": "application/json"}
        send = Send(method, url, headers, content, self.token_timeout, lease=None)
        attempt = 0
        while True:
            attempt += 1
            outcome = yield from ask(send)
            if not isinstance(outcome, httpx.TransportError) and outcome.is_success:
                return parse_model(TokenResponse, outcome, required=("access_token",), secrets=self.secrets)
            rejected = (
                not isinstance(outcome, httpx.TransportError)
                and 400 <= outcome.status_code < 500
                and outcome.status_code not in (408, 429)
            )
            if rejected:
                logger.debug(
                    "token exchange: not retried after attempt %d: the credentials were rejected", attempt
                )
                raise self._exchange_error(outcome, method, url, attempt)
            delay = self._retry_delay(
                "token exchange", Idempotency.SAFE, attempt, self.token_retries, outcome
            )
            if delay is None:
                raise self._exchange_error(outcome, method, url, attempt)
            yield from ask(Sleep(delay))

    def _retry_delay(
        self,
        what: str,
        idempotency: Idempotency,
        attempt: int,
        max_retries: int,
        outcome: Answer | httpx.TransportError,
    ) -> float | None:
        """How long to wait before retrying `what` after attempt `attempt` failed; None: do not retry."""
        decision = decide_retry(
            idempotency=idempotency,
            attempt=attempt,
            max_retries=max_retries,
            outcome=outcome,
            rand=self.rand,
            wall_clock=self.clock.time,
        )
        if decision.delay is None:
            logger.debug("%s: not retried after attempt %d: %s", what, attempt, decision.reason)
        else:
            logger.debug(
                "%s: retry %d of %d in %.2f s: %s",
                what,
                attempt,
                max_retries,
                decision.delay,
                decision.reason,
            )
        return decision.delay

    def _exchange_error(
        self, outcome: Answer | httpx.TransportError, method: str, url: str, attempts: int
    ) -> ChalkSDKError:
        """The SDK error a token exchange ends with after `attempts` attempts."""
        if not isinstance(outcome, httpx.TransportError):
            answered = error_for_status(
                outcome,
                secrets=self.secrets,
                credentials_exchange=True,
                wall_clock=self.clock.time,
                attempts=attempts,
            )
            if outcome.status_code in (400, 401, 403):  # the credentials were rejected
                answered.add_hint(rejected_credentials_hint(self.config))
            return answered
        error = transport_error(outcome, method=method, url=url, attempts=attempts, secrets=self.secrets)
        error.__cause__ = outcome
        return error

    def _route(self, token: Token, call: Call) -> Route:
        """The route of `call` with `token`, computed once per token and kind of call."""
        routes = self._routes
        if routes[0] is not token:  # a new token may name other engines: start afresh
            routes = self._routes = (token, {})
        key = (call.plane, call.environment, call.branch, call.query_name, call.branchless)
        where = routes[1].get(key)
        if where is None:
            where = route(
                self.config,
                token,
                plane=call.plane,
                environment=call.environment,
                branch=call.branch,
                query_name=call.query_name,
                branchless=call.branchless,
            )
            if len(routes[1]) < _MAX_ROUTES:
                routes[1][key] = where
        return where

    def _failure(
        self, call: Call, url: str, outcome: Answer | httpx.TransportError, attempts: int
    ) -> Exception:
        """The error a call ends with after its last attempt."""
        if not isinstance(outcome, httpx.TransportError):
            return error_for_status(
                outcome, secrets=self.secrets, wall_clock=self.clock.time, attempts=attempts
            )
        note = ""
        if call.idempotency is Idempotency.UNSAFE:
            note = (
                "; nothing was sent"
                if never_sent(outcome)
                else f"; {call.what} may or may not have reached the server, and was not retried "
                "because sending it again could store it twice"
            )
        error = transport_error(
            outcome, method=call.method, url=url, attempts=attempts, note=note, secrets=self.secrets
        )
        error.__cause__ = outcome
        return error
