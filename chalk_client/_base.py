"""What both clients share: configuration, the token cache, and every I/O-free decision of a call.

Everything the two clients decide lives in one place: the effective configuration, the request of
each call (:mod:`chalk_client._api.calls`), its route (:mod:`chalk_client._core.routing`), the retry rules
(:mod:`chalk_client._core.retry`), the 401 replay (:mod:`chalk_client._core.auth`) and what an answer means
(:mod:`chalk_client._core.answers`). The attempts of one call are a generator, :meth:`_BaseChalkClient._flow`,
that yields what it needs done: a token, a request to send, a pause. The two public classes only
drive it, one with ``await`` and one without.

A call goes out in this order, so that a token never ages in a queue:

1. it is routed with the cached token (the flow's first command);
2. the driver takes one of the pool's slots (``limits.max_connections`` of them, waiting at most
   ``Timeout.pool``);
3. it reads the token again (a call that queued may find it refreshed, or must wait for the
   refresh), puts it in ``Authorization``, and sends.

The token exchange takes no slot (its pool has one connection more than there are slots), so it can
never wait behind the calls that wait for it. It is retried inside its single flight
(``token_retries``) on connection failures, timeouts, 429 and 5xx, so one blip reaches no caller.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal

import httpx

from chalk_client._api.arguments import _header_string
from chalk_client._api.calls import Call
from chalk_client._core.answers import Answer, error_for_status, parse_model, transport_error
from chalk_client._core.auth import replay_after_401
from chalk_client._core.config import ChalkClientConfig
from chalk_client._core.errors import ChalkClientClosedError, ChalkConfigError, ChalkInputError, ChalkSDKError
from chalk_client._core.retry import DEFAULT_MAX_RETRIES, Idempotency, decide_retry, never_sent
from chalk_client._core.routing import Route, route
from chalk_client._core.token import DEFAULT_REFRESH_BUFFER, Clock, SystemClock, Token
from chalk_client._io.pools import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    TOKEN_TIMEOUT,
    USER_AGENT,
    TimeoutArg,
    UseClientDefault,
    as_timeout,
)
from chalk_client._io.token_cache import TokenCache
from chalk_client._steps import (
    _MAX_ROUTES,
    _NEED_TOKEN,
    _R,
    DEFAULT_TOKEN_RETRIES,
    _ExchangeFlow,
    _Flow,
    _Parser,
    _Pause,
    _Send,
    _SleepT,
    _TransportT,
)

if TYPE_CHECKING:
    from chalk_client._api.offline_calls import _Where
    from chalk_client._core.network import CertArg, VerifyArg

    pass

logger = logging.getLogger("chalk_client.http")


class _BaseChalkClient(Generic[_TransportT, _SleepT]):
    """What both clients share: configuration, the token cache, and request/answer handling.

    Every decision lives here, without I/O; the subclasses only send and wait.
    """

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        api_server: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        deployment_tag: str | None = None,
        query_server: str | None = None,
        config: ChalkClientConfig | None = None,
        allow_insecure_http: bool = False,
        refresh_buffer: float = DEFAULT_REFRESH_BUFFER,
        token_timeout: float = TOKEN_TIMEOUT,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        max_retries: int = DEFAULT_MAX_RETRIES,
        token_retries: int = DEFAULT_TOKEN_RETRIES,
        proxy: str | None = None,
        verify: VerifyArg = True,
        cert: CertArg | None = None,
        trust_env: bool = True,
        transport: _TransportT | None = None,
        clock: Clock | None = None,
        rand: Callable[[], float] | None = None,
        sleep: _SleepT | None = None,
    ) -> None:
        explicit: dict[str, Any] = {
            "client_id": client_id,
            "client_secret": client_secret,
            "api_server": api_server,
            "environment": environment,
            "branch": branch,
            "deployment_tag": deployment_tag,
            "query_server": query_server,
        }
        self._config = _effective_config(config, explicit, allow_insecure_http)
        for name, value in (("max_retries", max_retries), ("token_retries", token_retries)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ChalkInputError(f"{name} must be an int >= 0, got {value!r}")
        if not isinstance(limits, httpx.Limits):
            raise ChalkInputError(f"limits must be an httpx.Limits, got {limits!r}")
        self._clock = clock if clock is not None else SystemClock()
        self._rand = rand if rand is not None else random.random
        self._tokens = TokenCache(refresh_buffer=refresh_buffer, clock=self._clock, rand=self._rand)
        self._token_timeout = httpx.Timeout(token_timeout)
        self._timeout = as_timeout(timeout)
        self._limits = limits
        self._max_retries = max_retries
        self._token_retries = token_retries
        self._transport: _TransportT | None = transport
        self._sleep: _SleepT | None = sleep
        from chalk_client._core.network import resolve_network  # ~6 ms of attrs classes: at first use

        self._network = resolve_network(
            proxy=proxy,
            verify=verify,
            cert=cert,
            trust_env=trust_env,
            transport=self._TRANSPORT,
            caller_transport=transport is not None,
        )
        self._secrets = (self._config.client_secret, *self._network.secrets)
        # The routes of the current token (see _route); replaced whole when the token changes.
        self._routes: tuple[Token | None, dict[tuple[Any, ...], Route]] = (None, {})
        self._setup()

    # The transport that sends when the caller gives none (its proxy rules differ).
    _TRANSPORT: Literal["urllib3", "aiohttp"] = "urllib3"

    def _setup(self) -> None:
        """Create the HTTP side (the subclasses' part of construction)."""
        raise NotImplementedError

    @property
    def config(self) -> ChalkClientConfig:
        """The resolved configuration (its secret is masked when printed)."""
        return self._config

    def _closed_error(self) -> ChalkClientClosedError:
        return ChalkClientClosedError(
            f"this {type(self).__name__} is closed: a closed client cannot be used again; create a new one"
        )

    def invalidate_token(self, token: Token | str) -> bool:
        """Drop the cached token if it is still `token`; the next call exchanges anew.

        Returns True if it was dropped (False: a newer token is already in place).
        """
        return self._tokens.invalidate(token)

    def __repr__(self) -> str:
        c = self._config
        return (
            f"<{type(self).__name__} client_id={c.client_id!r} api_server={c.api_server!r} "
            f"environment={c.environment!r}>"
        )

    def _http_options(self) -> dict[str, Any]:
        """Keyword arguments shared by the sync and async httpx clients."""
        return {
            "base_url": self._config.api_server,
            "headers": {"User-Agent": USER_AGENT},
            "timeout": self._timeout,
            "follow_redirects": False,
        }

    def _exchange_request(self) -> dict[str, Any]:
        """The token request, built by the generated endpoint: JSON body, no ``Authorization``."""
        from chalk_openapi.api.auth import get_token
        from chalk_openapi.models.token_request import TokenRequest

        body = TokenRequest(
            client_id=self._config.client_id or "",
            client_secret=self._config.client_secret or "",
            grant_type="client_credentials",
        )
        kwargs = get_token._get_kwargs(body=body)
        # Our own timeout, no redirects (a redirect could carry the secret elsewhere), no auth flow.
        kwargs.update(timeout=self._token_timeout, follow_redirects=False, auth=None)
        return kwargs

    def _exchange_flow(self) -> _ExchangeFlow:
        """Every attempt of one token exchange: the request to send, pauses, the parsed answer.

        Connection failures, timeouts, 408, 429 and 5xx are retried ``token_retries`` times, with the
        calls' backoff and ``Retry-After`` rules; rejected credentials (any other 4xx) are final.
        The error it ends with carries the attempts made.
        """
        from chalk_openapi.models.token_response import TokenResponse

        kwargs = self._exchange_request()
        attempt = 0
        while True:
            attempt += 1
            outcome = yield kwargs
            if outcome is None:  # pragma: no cover - the drivers answer a request with its outcome
                raise TypeError("the exchange flow sent a request and got no answer")
            if not isinstance(outcome, httpx.TransportError) and outcome.is_success:
                return parse_model(TokenResponse, outcome, required=("access_token",), secrets=self._secrets)
            if not isinstance(outcome, httpx.TransportError) and 400 <= outcome.status_code < 500:
                transient = outcome.status_code in (408, 429)
            else:
                transient = True
            decision = (
                decide_retry(
                    idempotency=Idempotency.SAFE,
                    attempt=attempt,
                    max_retries=self._token_retries,
                    outcome=outcome,
                    rand=self._rand,
                    wall_clock=self._clock.time,
                )
                if transient
                else None
            )
            if decision is None or decision.delay is None:
                logger.debug(
                    "token exchange: not retried after attempt %d: %s",
                    attempt,
                    decision.reason if decision is not None else "the credentials were rejected",
                )
                raise self._exchange_error(outcome, kwargs, attempt)
            logger.debug(
                "token exchange: retry %d of %d in %.2f s: %s",
                attempt,
                self._token_retries,
                decision.delay,
                decision.reason,
            )
            yield _Pause(decision.delay)

    def _exchange_error(
        self, outcome: httpx.Response | httpx.TransportError, kwargs: dict[str, Any], attempts: int
    ) -> ChalkSDKError:
        """The SDK error a token exchange ends with after `attempts` attempts."""
        if isinstance(outcome, httpx.Response):
            answered = error_for_status(
                outcome,
                secrets=self._secrets,
                credentials_exchange=True,
                wall_clock=self._clock.time,
                attempts=attempts,
            )
            if outcome.status_code in (400, 401, 403):  # the credentials were rejected
                answered.add_hint(self._rejected_credentials_hint())
            return answered
        url = self._config.api_server.rstrip("/") + kwargs["url"]
        error = transport_error(
            outcome, method=kwargs["method"].upper(), url=url, attempts=attempts, secrets=self._secrets
        )
        error.__cause__ = outcome
        return error

    def _rejected_credentials_hint(self) -> str:
        """Which client id (and from where) the exchange rejected, and where to look; never the secret."""
        from chalk_client._core.config import rejected_credentials_hint

        return rejected_credentials_hint(self._config)

    def _offline_where(self, environment: str | None, branch: str | None) -> _Where:
        from chalk_client._api.offline_calls import _Where  # offline queries load only when used

        """Where an offline job's calls go: the call's environment and branch, else the client's branch."""
        return _Where(
            environment=_header_string(environment, "environment"),
            branch=_header_string(branch, "branch") or self._config.branch,
        )

    def _offline_submission(
        self,
        input: object,
        output: Sequence[str],
        *,
        required_output: Sequence[str],
        dataset_name: str | None,
        max_samples: int | None,
        recompute_features: bool,
        lower_bound: datetime | str | None,
        upper_bound: datetime | str | None,
        tags: Sequence[str] | None,
        correlation_id: str | None,
        environment: str | None,
        branch: str | None,
        timeout: float | None,
    ) -> tuple[Call, _Where]:
        """The submit call of an offline query, and where the job's later calls go."""
        from chalk_client._api import offline_calls as _offline  # loaded only when used

        _offline.check_wait_timeout(timeout)
        where = self._offline_where(environment, branch)
        call = _offline.submit_call(
            input,
            output,
            required_output=required_output,
            dataset_name=dataset_name,
            max_samples=max_samples,
            recompute_features=recompute_features,
            lower_bound=lower_bound,
            upper_bound=upper_bound,
            tags=tags,
            correlation_id=correlation_id,
            environment=where.environment,
            branch=where.branch,
        )
        return call, where

    # -- one call: route, attempts, answer -------------------------------------------------------

    def _flow(self, call: Call, parse: _Parser[_R], timeout: TimeoutArg | UseClientDefault) -> _Flow[_R]:
        """Every attempt of `call`, as commands for a driver; returns the parsed answer or raises."""
        effective = self._timeout if isinstance(timeout, UseClientDefault) else as_timeout(timeout)
        token, exchanged = yield _NEED_TOKEN
        send = _Send(call, self._route(token, call), token, exchanged, effective)
        attempt = 0
        while True:
            attempt += 1
            replays = 0
            while True:
                outcome = yield send
                if isinstance(outcome, httpx.TransportError) or outcome.status_code != 401:
                    break
                if not replay_after_401(
                    send.token,
                    exchanged=send.exchanged,
                    replays=replays,
                    expired=self._tokens.expired,
                    invalidate=self._tokens.invalidate,
                    what=f"{call.method} {send.url}",
                ):
                    break
                token, exchanged = yield _NEED_TOKEN
                self._bind(send, token, exchanged)
                replays += 1
            if not isinstance(outcome, httpx.TransportError) and outcome.is_success:
                return parse(call, outcome, self._secrets)
            decision = decide_retry(
                idempotency=call.idempotency,
                attempt=attempt,
                max_retries=self._max_retries,
                outcome=outcome,
                rand=self._rand,
                wall_clock=self._clock.time,
            )
            if decision.delay is None:
                logger.debug(
                    "%s %s: not retried after attempt %d: %s",
                    call.method,
                    send.url,
                    attempt,
                    decision.reason,
                )
                raise self._failure(call, send, outcome, attempt)
            logger.debug(
                "%s %s: retry %d of %d in %.2f s: %s",
                call.method,
                send.url,
                attempt,
                self._max_retries,
                decision.delay,
                decision.reason,
            )
            yield _Pause(decision.delay)
            send.exchanged = False  # the next attempt reads the cache anew

    def _rebind_to_cached(self, send: _Send) -> bool:
        """Point `send` at the cached token if it is fresh and newer; True if the driver must acquire one.

        Called once a call has its slot: the token it was routed with may have been refreshed (or
        may have expired) while it queued.
        """
        token = self._tokens.peek()
        if token is None:
            return True
        if token is not send.token:
            self._bind(send, token, False)
        return False

    def _bind(self, send: _Send, token: Token, exchanged: bool) -> None:
        """Point `send` at `token` (read when the call got its slot), and at the route it implies."""
        if token is send.token:
            send.exchanged = send.exchanged or exchanged
            return
        send.token, send.exchanged = token, exchanged
        where = self._route(token, send.call)
        if where != send.route:
            send.route = where
            send.url = where.base_url + send.call.path

    def _route(self, token: Token, call: Call) -> Route:
        """The route of `call` with `token`, computed once per token and kind of call."""
        routes = self._routes
        if routes[0] is not token:  # a new token may name other engines: start afresh
            routes = self._routes = (token, {})
        key = (call.plane, call.environment, call.branch, call.query_name)
        where = routes[1].get(key)
        if where is None:
            where = route(
                self._config,
                token,
                plane=call.plane,
                environment=call.environment,
                branch=call.branch,
                query_name=call.query_name,
            )
            if len(routes[1]) < _MAX_ROUTES:
                routes[1][key] = where
        return where

    def _failure(
        self,
        call: Call,
        send: _Send,
        outcome: Answer | httpx.TransportError,
        attempts: int,
    ) -> Exception:
        """The error a call ends with after its last attempt."""
        if not isinstance(outcome, httpx.TransportError):
            return error_for_status(
                outcome, secrets=self._secrets, wall_clock=self._clock.time, attempts=attempts
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
            outcome, method=call.method, url=send.url, attempts=attempts, note=note, secrets=self._secrets
        )
        error.__cause__ = outcome
        return error


def _effective_config(
    config: ChalkClientConfig | None, explicit: dict[str, Any], allow_insecure_http: bool
) -> ChalkClientConfig:
    """The client's configuration: resolved from every source, or `config` with arguments on top."""
    if config is None:
        config = ChalkClientConfig.resolve(allow_insecure_http=allow_insecure_http, **explicit)
    else:
        changes = {name: value for name, value in explicit.items() if value is not None}
        if changes or allow_insecure_http:
            config = config.with_options(
                allow_insecure_http=allow_insecure_http or config.allow_insecure_http, **changes
            )
    if not config.client_id or not config.client_secret:
        raise ChalkConfigError(
            "the client needs both a client_id and a client_secret, and the given config lacks one; "
            "resolve it with ChalkClientConfig.resolve() (which requires both) or pass them as arguments"
        )
    return config
