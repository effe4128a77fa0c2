"""``ChalkClient`` and ``AsyncChalkClient``: thin loops over shared, I/O-free decisions.

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
import os
import random
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, Self, TypeVar

import attrs
import httpx

from chalk_client._api import calls as _calls
from chalk_client._api import offline as _offline
from chalk_client._api.calls import Call, build_request, wire_template
from chalk_client._api.offline import AsyncOfflineQuery, OfflineQuery, ProgressCallback, _Where
from chalk_client._api.results import OnlineQueryResult, ResolverRun, UploadResult, WhoAmI
from chalk_client._core.answers import Answer, error_for_status, parse_model, transport_error
from chalk_client._core.auth import replay_after_401
from chalk_client._core.config import ChalkClientConfig
from chalk_client._core.errors import ChalkClientClosedError, ChalkConfigError, ChalkInputError, ChalkSDKError
from chalk_client._core.network import CertArg, VerifyArg, resolve_network
from chalk_client._core.retry import DEFAULT_MAX_RETRIES, Idempotency, decide_retry, never_sent
from chalk_client._core.routing import Plane, Route, route
from chalk_client._core.token import DEFAULT_REFRESH_BUFFER, Clock, SystemClock, Token
from chalk_client._io.fork import keep_inherited, reset_after_fork
from chalk_client._io.pools import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    TOKEN_TIMEOUT,
    USE_CLIENT_DEFAULT,
    USER_AGENT,
    AsyncPool,
    PerLoopAsyncClient,
    SyncPool,
    TimeoutArg,
    UseClientDefault,
    as_timeout,
    pool_timeout_error,
)
from chalk_client._io.token_cache import TokenCache

if TYPE_CHECKING:
    import asyncio

    from chalk_openapi.models.token_response import TokenResponse

__all__ = ["AsyncChalkClient", "ChalkClient"]

logger = logging.getLogger("chalk_client.http")

_TransportT = TypeVar("_TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
_SleepT = TypeVar("_SleepT", Callable[[float], None], Callable[[float], Awaitable[None]])
_R = TypeVar("_R")


class _NeedToken:
    """What a flow yields to get ``(token, exchanged_for_this_call)`` (to route, then to send)."""


@attrs.frozen
class _Pause:
    """What a flow yields to wait before the next attempt."""

    seconds: float


class _Send:
    """What a flow yields to send one attempt of a call.

    The driver takes a slot, reads the token again (rebinding the send with :meth:`_BaseChalkClient._bind`
    when it changed), and sends with it; ``token`` and ``exchanged`` then say what was sent.
    """

    __slots__ = ("call", "engine", "exchanged", "route", "timeout", "token", "url")

    def __init__(
        self, call: Call, route: Route, token: Token, exchanged: bool, timeout: httpx.Timeout
    ) -> None:
        self.call = call
        self.route = route
        self.token = token
        self.exchanged = exchanged  # the token came from an exchange this call waited for
        self.timeout = timeout
        self.engine = call.plane is Plane.DATA  # online queries use the engine pool
        self.url = route.base_url + call.path

    def httpx_request(self) -> httpx.Request:
        """The request as httpx's, with the bound token."""
        request = build_request(self.call, self.route, user_agent=USER_AGENT, timeout=self.timeout)
        request.headers["Authorization"] = f"Bearer {self.token.access_token}"
        return request

    def wire_headers(self) -> dict[str, str]:
        """The request's headers as a new dict, with the bound token."""
        _, constant = wire_template(
            self.route.base_url, self.call.path, self.route.headers, self.call.body is not None, USER_AGENT
        )
        headers = constant.copy()
        headers["Authorization"] = f"Bearer {self.token.access_token}"
        return headers


_NEED_TOKEN: Final = _NeedToken()
# How often the token exchange is retried (inside its single flight) after a transient failure.
DEFAULT_TOKEN_RETRIES: Final = 2
# Routes remembered per token (kinds of call: plane, environment, branch, query name).
_MAX_ROUTES: Final = 256
# A flow yields one of these and is sent back: a Token, an answer or a transport error, or None.
_Command = _NeedToken | _Send | _Pause
_Flow = Generator[_Command, Any, _R]
# Turns a call's 2xx answer into its result: (call, answer, secrets to redact) -> result.
_Parser = Callable[[Call, Answer, Sequence[str | None]], _R]
# The token exchange's flow: yields the keyword arguments of a request, or a pause.
_ExchangeFlow = Generator[
    "dict[str, Any] | _Pause", "httpx.Response | httpx.TransportError | None", "TokenResponse"
]


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
        """Where an offline job's calls go: the call's environment and branch, else the client's branch."""
        return _Where(
            environment=_calls._header_string(environment, "environment"),
            branch=_calls._header_string(branch, "branch") or self._config.branch,
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


_CLIENT_ARGS_DOC = """
    Every argument is optional; what is not given is resolved from the environment and the
    ``chalk login`` file (see :class:`ChalkClientConfig` for the order).

    Args:
        client_id: The client id of a Chalk service token.
        client_secret: Its secret. Never printed: masked in every repr and message.
        api_server: The API server, ``https://api.chalk.ai`` by default.
        environment: An environment id or name (any case); default: the token's primary environment.
        branch: A branch to send every call to (on the API server).
        deployment_tag: A deployment tag.
        query_server: Where online queries go, overriding the token's engine URL.
        config: An already resolved configuration; the arguments above override single fields.
        allow_insecure_http: Allow credentials over plain ``http://`` to a non-loopback host.
        refresh_buffer: Refresh the token this many seconds before it expires (default 60,
            capped at half the token's lifetime).
        token_timeout: Seconds the token exchange may take (default 10).
        timeout: The timeout for API calls (default: 5 s to connect, 30 s to read); each call
            can override it.
        limits: Limits of each connection pool (``httpx.Limits``). A client keeps two pools,
            alive across calls: one for the API server (API calls, the token exchange, result
            downloads) and one for the query engines (online queries). Default: 100
            connections, all of which may stay open when idle, for 30 s. A call waits for one
            of ``max_connections`` slots (at most ``Timeout.pool``) before it reads the token it
            sends, so no token expires in the queue.
        max_retries: Retries after a failed attempt of a call that is safe to repeat (default 2).
        proxy: A proxy URL for every call (``http://user:pass@proxy:3128``), overriding the
            environment's. ``AsyncChalkClient`` can use ``http://`` proxies only.
        verify: Verify TLS certificates: True (certifi's bundle, or ``SSL_CERT_FILE`` /
            ``SSL_CERT_DIR`` under `trust_env`), False, a CA bundle file or directory, or an
            ``ssl.SSLContext`` used as given.
        cert: A client certificate for mutual TLS: a PEM file with its key, or a (certificate,
            key) pair of files.
        trust_env: Read ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``,
            ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` (default True), as httpx does.
        token_retries: Retries of a token exchange after a connection failure, a timeout, 408,
            429 or 5xx, inside its single flight (default 2); rejected credentials are final.
        transport: An httpx transport to send through, replacing the default one (httpx's for
            ``ChalkClient``, aiohttp for ``AsyncChalkClient``); tests pass ``httpx.MockTransport``.
        clock: Where the token layer reads time (tests pass a fake clock).
        rand: A source of floats in [0, 1) for jitter (tests pass ``lambda: 0.0``).
        sleep: How to wait between attempts (tests pass one that records the delays).
"""


class ChalkClient(_BaseChalkClient[httpx.BaseTransport, Callable[[float], None]]):
    """The synchronous Chalk client; safe to share between threads.

    Example::

        from chalk_client import ChalkClient

        with ChalkClient() as client:  # credentials from the environment or `chalk login`
            result = client.query(input={"user.id": 1}, output=["user.name", "user.credit_score"])
            print(result.get_value("user.name"))
    """

    __doc__ = (__doc__ or "") + _CLIENT_ARGS_DOC

    def _setup(self) -> None:
        # Two pools: the API server's (API calls, the token exchange, downloads) and the engines'
        # (online queries); a caller's transport serves both.
        self._http = self._new_http()
        self._engine_http = self._new_http() if self._transport is None else self._http
        self._closed = False
        self._sent = False  # whether a connection may be open (for the unclosed-client warning)
        self._warned_loop = False
        self._owner_pid: int | None = os.getpid()
        reset_after_fork(self)

    def get_token(self) -> Token:
        """A valid access token, from the cache or from a new exchange.

        Example::

            token = client.get_token()
            print(token.primary_environment, token.expires_at)

        Raises:
            ChalkAuthenticationError: the credentials were rejected.
            ChalkUnavailableError: the token server or the network failed; try again later.
            ChalkInvalidResponseError: the token server's answer did not parse.
        """
        return self._tokens.get(self._exchange)

    def query(
        self,
        input: Mapping[str, Any],
        output: Sequence[str],
        *,
        now: datetime | None = None,
        staleness: Mapping[str, str] | None = None,
        tags: Sequence[str] | None = None,
        query_name: str | None = None,
        correlation_id: str | None = None,
        include_meta: bool = False,
        explain: bool = False,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> OnlineQueryResult:
        """Compute or look up feature values for one entity (an online query).

        Args:
            input: Primary keys and known values, e.g. ``{"user.id": 1}``; values are any JSON
                (datetimes must be aware and are sent as ISO 8601).
            output: The features to return, e.g. ``["user.name", "user.credit_score"]``.
            now: Compute as of this time (an aware datetime; a naive one is an error).
            staleness: Maximum age of cached values per feature, e.g. ``{"user.credit_score": "1h"}``.
            tags: Resolver tags for this query.
            query_name: A named query; sent as ``X-Chalk-Query-Name`` too.
            correlation_id: An id to find this query in Chalk's logs.
            include_meta: Ask for per-feature metadata (resolver, cache hit) and query facts.
            explain: Ask for the query plan (in ``result.meta.explain_output``).
            environment: This call's environment (id or name), instead of the client's.
            branch: This call's branch, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Returns:
            The values. Errors for single features are on the result (``errors``,
            ``get(name).error``), not raised; call ``raise_for_errors()`` to raise them.

        Raises:
            ChalkInputError: an argument is invalid (nothing was sent).
            ChalkAPIStatusError: the server refused the query (a subclass per status).
            ChalkUnavailableError: the server or the network failed after the retries.

        Example::

            result = client.query(input={"user.id": 1}, output=["user.name", "user.credit_score"])
            print(result.get_value("user.name"), result.errors)
        """
        call = _calls.online_query_call(
            input,
            output,
            now=now,
            staleness=staleness,
            tags=tags,
            query_name=query_name,
            correlation_id=correlation_id,
            include_meta=include_meta,
            explain=explain,
            environment=environment,
            branch=branch,
            default_branch=self._config.branch,
        )
        return self._drive(self._flow(call, _calls.parse_online_query, timeout))

    def upload_features(
        self,
        input: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        query_name: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> UploadResult:
        """Write feature values: a column per feature, every column the same length.

        A scalar counts as a column of one, so ``{"user.id": 1, "user.name": "Ada"}`` writes one row.
        Uploads are not retried once they may have reached the server (a repeat could store the
        rows twice); only a connection that never opened is retried.

        Args:
            input: Feature name to a value or a list of values.
            correlation_id: An id to find this upload in Chalk's logs.
            query_name: A name for the upload; sent as ``X-Chalk-Query-Name`` too.
            environment: This call's environment, instead of the client's.
            branch: This call's branch, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Returns:
            What the server reported: rows sent and the trace id.

        Raises:
            ChalkInputError: empty input, a key that is not a string, or columns of different
                lengths (nothing was sent).
            ChalkResultError: the server answered with errors (nothing was stored).
            ChalkConnectionError: the connection failed; the message says whether the upload may
                have reached the server.

        Example::

            client.upload_features({"user.id": [1, 2], "user.name": ["Ada", "Grace"]})
        """
        call = _calls.upload_features_call(
            input,
            correlation_id=correlation_id,
            query_name=query_name,
            environment=environment,
            branch=branch,
        )
        return self._drive(self._flow(call, _calls.parse_upload, timeout))

    def whoami(
        self,
        *,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> WhoAmI:
        """The identity behind the credentials: user, team and environment.

        Example::

            print(client.whoami().user)
        """
        call = _calls.whoami_call(environment=environment, branch=branch)
        return self._drive(self._flow(call, _calls.parse_whoami, timeout))

    def trigger_resolver_run(
        self,
        resolver_fqn: str,
        *,
        lower_bound: datetime | str | None = None,
        upper_bound: datetime | str | None = None,
        timestamping_mode: str | None = None,
        persist_online: bool | None = None,
        persist_offline: bool | None = None,
        idempotency_key: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> ResolverRun:
        """Start a run of a resolver.

        Safe to retry: the trigger carries an idempotency key (yours, or one generated for this
        call) that stays the same across attempts, so the server starts one run at most.

        Args:
            resolver_fqn: The resolver's fully qualified name.
            lower_bound: Only rows observed at or after this time (aware datetime or ISO 8601).
            upper_bound: Only rows observed before this time.
            timestamping_mode: ``"feature_time"`` or ``"online_store_write_time"``.
            persist_online: Whether to write the results to the online store.
            persist_offline: Whether to write the results to the offline store.
            idempotency_key: Triggers with the same key start one run.
            environment: This call's environment, instead of the client's.
            branch: This call's branch, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Example::

            run = client.trigger_resolver_run("resolvers.get_credit_score")
            print(run.id, run.status)
        """
        call = _calls.trigger_run_call(
            resolver_fqn,
            lower_bound=lower_bound,
            upper_bound=upper_bound,
            timestamping_mode=timestamping_mode,
            persist_online=persist_online,
            persist_offline=persist_offline,
            idempotency_key=idempotency_key,
            environment=environment,
            branch=branch,
        )
        return self._drive(self._flow(call, _calls.parse_run, timeout))

    def get_run_status(
        self,
        run_id: str,
        *,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> ResolverRun:
        """The status of a resolver run.

        Example::

            run = client.get_run_status(run.id)
            print(run.status, run.finished)
        """
        call = _calls.run_status_call(run_id, environment=environment, branch=branch)
        return self._drive(self._flow(call, _calls.parse_run, timeout))

    def offline_query(
        self,
        input: object = None,
        output: Sequence[str] = (),
        *,
        required_output: Sequence[str] = (),
        dataset_name: str | None = None,
        max_samples: int | None = None,
        recompute_features: bool = False,
        lower_bound: datetime | str | None = None,
        upper_bound: datetime | str | None = None,
        tags: Sequence[str] | None = None,
        correlation_id: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        wait: bool = False,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        cancel_on_timeout: bool = False,
    ) -> OfflineQuery:
        """Start an offline query: a dataset computed in the background, as parquet files.

        The job runs on the server; the handle returned polls it, reports progress, downloads its
        parquet files and reads them as tables.

        Args:
            input: The rows to compute features for: a mapping of feature name to column (equal
                lengths; datetimes must be aware), or a pandas, polars or pyarrow table. None: let
                the server sample the entities.
            output: The features to compute, e.g. ``["user.credit_score"]``.
            required_output: Features every row must have; rows missing one are dropped.
            dataset_name: Name the resulting dataset (a name used again gets a new version).
            max_samples: Keep at most this many rows.
            recompute_features: Compute every feature anew instead of reading stored values.
            lower_bound: Only values observed at or after this time (aware datetime or ISO 8601).
            upper_bound: Only values observed before this time.
            tags: Resolver tags.
            correlation_id: An id to find this query in Chalk's logs.
            environment: This query's environment, instead of the client's.
            branch: This query's branch, instead of the client's.
            wait: Wait for the job before returning (see ``OfflineQuery.wait``).
            timeout: With `wait`, seconds to wait at most (None: no limit).
            on_progress: Called with an ``OfflineQueryStatus`` as the job progresses (while
                waiting, here or in ``wait()``).
            cancel_on_timeout: With `wait` and `timeout`, cancel the job when the time runs out.

        Raises:
            ChalkInputError: an argument is invalid (nothing was sent).
            ChalkResultError: the server refused the query in its answer.
            ChalkOfflineQueryError: with `wait`, the job failed or was cancelled.
            ChalkOfflineQueryTimeoutError: with `wait`, it did not finish within `timeout`.

        Example::

            job = client.offline_query(input={"user.id": [1, 2]}, output=["user.credit_score"])
            frame = job.wait(timeout=600, on_progress=print).to_pandas()
        """
        call, where = self._offline_submission(
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
            environment=environment,
            branch=branch,
            timeout=timeout,
        )
        submitted = self._drive(self._flow(call, _offline.parse_dataset, USE_CLIENT_DEFAULT))
        job = OfflineQuery(_JobRunner(self), submitted, where, on_progress)
        if wait:
            job.wait(timeout, cancel_on_timeout=cancel_on_timeout)
        return job

    def get_offline_query(
        self,
        job_id: str,
        *,
        environment: str | None = None,
        branch: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> OfflineQuery:
        """A handle on an offline query job started earlier (by this process or another).

        Example::

            job = client.get_offline_query("job-id")
            print(job.status())
        """
        where = self._offline_where(environment, branch)
        call = _offline.revision_call(job_id, where)
        submitted = self._drive(self._flow(call, _offline.parse_dataset, USE_CLIENT_DEFAULT))
        return OfflineQuery(_JobRunner(self), submitted, where, on_progress)

    def close(self) -> None:
        """Close the connection pools. The client cannot be used afterwards."""
        self._closed = True
        self._http.close()
        self._engine_http.close()

    def __del__(self) -> None:
        # As aiohttp does for a session: a client that sent and was never closed leaves its
        # connections to the garbage collector. Never in a forked child, which inherited it.
        if getattr(self, "_sent", False) and not self._closed and self._owner_pid == os.getpid():
            warnings.warn(
                f"unclosed {self!r}: call close(), or use it as `with ChalkClient(...) as client:`",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _drive(self, flow: _Flow[_R]) -> _R:
        """Run a flow's commands: hand it the token, send its requests, wait its pauses."""
        if self._closed:
            raise self._closed_error()
        self._sent = True
        if not self._warned_loop:
            self._warn_inside_event_loop()
        reply: Any = None
        while True:
            try:
                command = flow.send(reply)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if isinstance(command, _Send):
                reply = self._send(command)
            elif isinstance(command, _Pause):
                self._pause(command.seconds)
                reply = None
            else:
                reply = self._tokens.acquire(self._exchange)

    def _send(self, send: _Send) -> Answer | httpx.TransportError:
        """One attempt: take a slot, read the token again, send (see the module docstring)."""
        pool = self._engine_http if send.engine else self._http
        slots = pool.slots
        if slots is not None:
            wait = send.timeout.pool
            if not slots.acquire(timeout=wait):
                return pool_timeout_error(wait, send.url)
        try:
            token = self._tokens.peek()
            if token is not send.token:
                if token is None:
                    token, exchanged = self._tokens.acquire(self._exchange)
                else:
                    exchanged = False
                self._bind(send, token, exchanged)
            try:
                if pool.session is not None:
                    call = send.call
                    return pool.session.send(
                        call.method, send.url, send.wire_headers(), call.body, send.timeout
                    )
                return pool.http.send(send.httpx_request())
            except httpx.TransportError as err:
                return err
        finally:
            if slots is not None:
                slots.release()

    def _warn_inside_event_loop(self) -> None:
        """Log once per client if it is called from a running event loop (it blocks the loop)."""
        asyncio = sys.modules.get("asyncio")  # not loaded: no loop can be running
        if asyncio is None or asyncio.events._get_running_loop() is None:
            return
        self._warned_loop = True
        logger.warning(
            "%r is called from a running event loop: each call blocks the loop (and every other task) "
            "until it answers; use AsyncChalkClient in async code",
            self,
        )

    def _pause(self, seconds: float) -> None:
        (self._sleep or time.sleep)(seconds)

    def _exchange(self) -> TokenResponse:
        if self._closed:
            raise self._closed_error()
        self._sent = True
        flow = self._exchange_flow()
        reply: httpx.Response | httpx.TransportError | None = None
        while True:
            try:
                command = flow.send(reply)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if isinstance(command, _Pause):
                self._pause(command.seconds)
                reply = None
                continue
            try:
                reply = self._http.http.request(**command)
            except httpx.TransportError as err:
                reply = err

    def _new_http(self) -> SyncPool:
        options = self._http_options()
        slots = self._limits.max_connections
        if self._transport is not None:
            return SyncPool(httpx.Client(transport=self._transport, **options), None, slots)
        from chalk_client._io.urllib3_transport import Urllib3Session, Urllib3Transport

        network = self._network
        session = Urllib3Session(self._limits, ssl=network.ssl_context, proxies=network.proxies)
        return SyncPool(httpx.Client(transport=Urllib3Transport(session), **options), session, slots)

    def _reset_after_fork(self) -> None:
        self._owner_pid = None  # a forked child never warns about a client it inherited
        keep_inherited((self._http, self._engine_http))
        if self._transport is None:
            self._http = self._new_http()
            self._engine_http = self._new_http()


class AsyncChalkClient(_BaseChalkClient[httpx.AsyncBaseTransport, Callable[[float], Awaitable[None]]]):
    """The asyncio Chalk client; one instance serves many tasks, and successive event loops.

    Example::

        import asyncio
        from chalk_client import AsyncChalkClient

        async def main() -> None:
            async with AsyncChalkClient() as client:
                result = await client.query(input={"user.id": 1}, output=["user.name"])
                print(result.get_value("user.name"))

        asyncio.run(main())
    """

    __doc__ = (__doc__ or "") + _CLIENT_ARGS_DOC
    _TRANSPORT = "aiohttp"

    def _setup(self) -> None:
        self._http = PerLoopAsyncClient(self._new_http)  # as ChalkClient: API server, engines
        self._engine_http = PerLoopAsyncClient(self._new_http) if self._transport is None else self._http
        self._owner_pid: int | None = os.getpid()
        self._closed = False
        reset_after_fork(self)

    def _reset_after_fork(self) -> None:
        self._owner_pid = None  # the pools reset themselves (PerLoopAsyncClient)

    async def get_token(self) -> Token:
        """A valid access token, from the cache or from a new exchange (see ``ChalkClient.get_token``).

        Example::

            token = await client.get_token()
        """
        return await self._tokens.aget(self._exchange)

    async def query(
        self,
        input: Mapping[str, Any],
        output: Sequence[str],
        *,
        now: datetime | None = None,
        staleness: Mapping[str, str] | None = None,
        tags: Sequence[str] | None = None,
        query_name: str | None = None,
        correlation_id: str | None = None,
        include_meta: bool = False,
        explain: bool = False,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> OnlineQueryResult:
        """Compute or look up feature values for one entity (an online query).

        Args:
            input: Primary keys and known values, e.g. ``{"user.id": 1}``; values are any JSON
                (datetimes must be aware and are sent as ISO 8601).
            output: The features to return, e.g. ``["user.name", "user.credit_score"]``.
            now: Compute as of this time (an aware datetime; a naive one is an error).
            staleness: Maximum age of cached values per feature, e.g. ``{"user.credit_score": "1h"}``.
            tags: Resolver tags for this query.
            query_name: A named query; sent as ``X-Chalk-Query-Name`` too.
            correlation_id: An id to find this query in Chalk's logs.
            include_meta: Ask for per-feature metadata (resolver, cache hit) and query facts.
            explain: Ask for the query plan (in ``result.meta.explain_output``).
            environment: This call's environment (id or name), instead of the client's.
            branch: This call's branch, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Returns:
            The values. Errors for single features are on the result (``errors``,
            ``get(name).error``), not raised; call ``raise_for_errors()`` to raise them.

        Raises:
            ChalkInputError: an argument is invalid (nothing was sent).
            ChalkAPIStatusError: the server refused the query (a subclass per status).
            ChalkUnavailableError: the server or the network failed after the retries.

        Example::

            result = await client.query(input={"user.id": 1}, output=["user.name"])
            print(result.get_value("user.name"), result.errors)
        """
        call = _calls.online_query_call(
            input,
            output,
            now=now,
            staleness=staleness,
            tags=tags,
            query_name=query_name,
            correlation_id=correlation_id,
            include_meta=include_meta,
            explain=explain,
            environment=environment,
            branch=branch,
            default_branch=self._config.branch,
        )
        return await self._drive(self._flow(call, _calls.parse_online_query, timeout))

    async def upload_features(
        self,
        input: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        query_name: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> UploadResult:
        """Write feature values: a column per feature, every column the same length.

        A scalar counts as a column of one, so ``{"user.id": 1, "user.name": "Ada"}`` writes one row.
        Uploads are not retried once they may have reached the server (a repeat could store the
        rows twice); only a connection that never opened is retried.

        Args:
            input: Feature name to a value or a list of values.
            correlation_id: An id to find this upload in Chalk's logs.
            query_name: A name for the upload; sent as ``X-Chalk-Query-Name`` too.
            environment: This call's environment, instead of the client's.
            branch: This call's branch, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Returns:
            What the server reported: rows sent and the trace id.

        Raises:
            ChalkInputError: empty input, a key that is not a string, or columns of different
                lengths (nothing was sent).
            ChalkResultError: the server answered with errors (nothing was stored).
            ChalkConnectionError: the connection failed; the message says whether the upload may
                have reached the server.

        Example::

            await client.upload_features({"user.id": [1, 2], "user.name": ["Ada", "Grace"]})
        """
        call = _calls.upload_features_call(
            input,
            correlation_id=correlation_id,
            query_name=query_name,
            environment=environment,
            branch=branch,
        )
        return await self._drive(self._flow(call, _calls.parse_upload, timeout))

    async def whoami(
        self,
        *,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> WhoAmI:
        """The identity behind the credentials: user, team and environment.

        Example::

            print((await client.whoami()).user)
        """
        call = _calls.whoami_call(environment=environment, branch=branch)
        return await self._drive(self._flow(call, _calls.parse_whoami, timeout))

    async def trigger_resolver_run(
        self,
        resolver_fqn: str,
        *,
        lower_bound: datetime | str | None = None,
        upper_bound: datetime | str | None = None,
        timestamping_mode: str | None = None,
        persist_online: bool | None = None,
        persist_offline: bool | None = None,
        idempotency_key: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> ResolverRun:
        """Start a run of a resolver.

        Safe to retry: the trigger carries an idempotency key (yours, or one generated for this
        call) that stays the same across attempts, so the server starts one run at most.

        Args:
            resolver_fqn: The resolver's fully qualified name.
            lower_bound: Only rows observed at or after this time (aware datetime or ISO 8601).
            upper_bound: Only rows observed before this time.
            timestamping_mode: ``"feature_time"`` or ``"online_store_write_time"``.
            persist_online: Whether to write the results to the online store.
            persist_offline: Whether to write the results to the offline store.
            idempotency_key: Triggers with the same key start one run.
            environment: This call's environment, instead of the client's.
            branch: This call's branch, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Example::

            run = await client.trigger_resolver_run("resolvers.get_credit_score")
        """
        call = _calls.trigger_run_call(
            resolver_fqn,
            lower_bound=lower_bound,
            upper_bound=upper_bound,
            timestamping_mode=timestamping_mode,
            persist_online=persist_online,
            persist_offline=persist_offline,
            idempotency_key=idempotency_key,
            environment=environment,
            branch=branch,
        )
        return await self._drive(self._flow(call, _calls.parse_run, timeout))

    async def get_run_status(
        self,
        run_id: str,
        *,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> ResolverRun:
        """The status of a resolver run.

        Example::

            run = await client.get_run_status(run.id)
        """
        call = _calls.run_status_call(run_id, environment=environment, branch=branch)
        return await self._drive(self._flow(call, _calls.parse_run, timeout))

    async def offline_query(
        self,
        input: object = None,
        output: Sequence[str] = (),
        *,
        required_output: Sequence[str] = (),
        dataset_name: str | None = None,
        max_samples: int | None = None,
        recompute_features: bool = False,
        lower_bound: datetime | str | None = None,
        upper_bound: datetime | str | None = None,
        tags: Sequence[str] | None = None,
        correlation_id: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        wait: bool = False,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        cancel_on_timeout: bool = False,
    ) -> AsyncOfflineQuery:
        """Start an offline query: a dataset computed in the background (see ``ChalkClient.offline_query``).

        The job runs on the server; the handle returned polls it, reports progress, downloads its
        parquet files and reads them as tables.

        Args:
            input: The rows to compute features for: a mapping of feature name to column (equal
                lengths; datetimes must be aware), or a pandas, polars or pyarrow table. None: let
                the server sample the entities.
            output: The features to compute, e.g. ``["user.credit_score"]``.
            required_output: Features every row must have; rows missing one are dropped.
            dataset_name: Name the resulting dataset (a name used again gets a new version).
            max_samples: Keep at most this many rows.
            recompute_features: Compute every feature anew instead of reading stored values.
            lower_bound: Only values observed at or after this time (aware datetime or ISO 8601).
            upper_bound: Only values observed before this time.
            tags: Resolver tags.
            correlation_id: An id to find this query in Chalk's logs.
            environment: This query's environment, instead of the client's.
            branch: This query's branch, instead of the client's.
            wait: Wait for the job before returning (see ``OfflineQuery.wait``).
            timeout: With `wait`, seconds to wait at most (None: no limit).
            on_progress: Called with an ``OfflineQueryStatus`` as the job progresses (while
                waiting, here or in ``wait()``).
            cancel_on_timeout: With `wait` and `timeout`, cancel the job when the time runs out.

        Raises:
            ChalkInputError: an argument is invalid (nothing was sent).
            ChalkResultError: the server refused the query in its answer.
            ChalkOfflineQueryError: with `wait`, the job failed or was cancelled.
            ChalkOfflineQueryTimeoutError: with `wait`, it did not finish within `timeout`.

        Example::

            job = await client.offline_query(input={"user.id": [1, 2]}, output=["user.credit_score"])
            frame = await (await job.wait(timeout=600)).to_pandas()
        """
        call, where = self._offline_submission(
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
            environment=environment,
            branch=branch,
            timeout=timeout,
        )
        submitted = await self._drive(self._flow(call, _offline.parse_dataset, USE_CLIENT_DEFAULT))
        job = AsyncOfflineQuery(_AsyncJobRunner(self), submitted, where, on_progress)
        if wait:
            await job.wait(timeout, cancel_on_timeout=cancel_on_timeout)
        return job

    async def get_offline_query(
        self,
        job_id: str,
        *,
        environment: str | None = None,
        branch: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> AsyncOfflineQuery:
        """A handle on an offline query job started earlier (by this process or another).

        Example::

            job = await client.get_offline_query("job-id")
            print(await job.status())
        """
        where = self._offline_where(environment, branch)
        call = _offline.revision_call(job_id, where)
        submitted = await self._drive(self._flow(call, _offline.parse_dataset, USE_CLIENT_DEFAULT))
        return AsyncOfflineQuery(_AsyncJobRunner(self), submitted, where, on_progress)

    async def aclose(self) -> None:
        """Close the connection pools of the running event loop. The client cannot be used afterwards
        (a pool another event loop opened was closed with that loop)."""
        self._closed = True
        await self._http.aclose()
        if self._engine_http is not self._http:
            await self._engine_http.aclose()

    async def close(self) -> None:
        """The same as :meth:`aclose` (a coroutine: ``await client.close()``)."""
        await self.aclose()

    def __del__(self) -> None:
        # A pool in a loop that has ended was closed with it; one in a loop that still runs was not.
        pools = (getattr(self, "_http", None), getattr(self, "_engine_http", None))
        if getattr(self, "_owner_pid", None) == os.getpid() and any(p is not None and p.open for p in pools):
            warnings.warn(
                f"unclosed {self!r}: call `await client.aclose()`, or use it as "
                "`async with AsyncChalkClient(...) as client:`",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _drive(self, flow: _Flow[_R]) -> _R:
        """Run a flow's commands with ``await`` (see ``ChalkClient._drive``)."""
        if self._closed:
            raise self._closed_error()
        reply: Any = None
        while True:
            try:
                command = flow.send(reply)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if isinstance(command, _Send):
                reply = await self._send(command)
            elif isinstance(command, _Pause):
                await self._pause(command.seconds)
                reply = None
            else:
                reply = await self._tokens.aacquire(self._exchange)

    async def _pause(self, seconds: float) -> None:
        if self._sleep is not None:
            await self._sleep(seconds)
        else:
            import asyncio  # only the async client waits this way; `import chalk_client` skips it

            await asyncio.sleep(seconds)

    async def _send(self, send: _Send) -> Answer | httpx.TransportError:
        """One attempt: take a slot, read the token again, send (see the module docstring)."""
        pool = await (self._engine_http if send.engine else self._http).get()
        slots = pool.slots
        if slots is not None:
            if not slots.locked():
                await slots.acquire()  # a free slot: no timer needed
            elif not await _acquire_within(slots, send.timeout.pool):
                return pool_timeout_error(send.timeout.pool, send.url)
        try:
            token = self._tokens.peek()
            if token is not send.token:
                if token is None:
                    token, exchanged = await self._tokens.aacquire(self._exchange)
                else:
                    exchanged = False
                self._bind(send, token, exchanged)
            try:
                if pool.aio is not None:
                    call = send.call
                    return await pool.aio.send(
                        call.method, send.url, send.wire_headers(), call.body, send.timeout
                    )
                return await pool.http.send(send.httpx_request())
            except httpx.TransportError as err:
                return err
        finally:
            if slots is not None:
                slots.release()

    async def _exchange(self) -> TokenResponse:
        if self._closed:
            raise self._closed_error()
        flow = self._exchange_flow()
        reply: httpx.Response | httpx.TransportError | None = None
        while True:
            try:
                command = flow.send(reply)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if isinstance(command, _Pause):
                await self._pause(command.seconds)
                reply = None
                continue
            http = (await self._http.get()).http
            try:
                reply = await http.request(**command)
            except httpx.TransportError as err:
                reply = err

    def _new_http(self) -> AsyncPool:
        options = self._http_options()
        slots = self._limits.max_connections
        if self._transport is not None:
            return AsyncPool(httpx.AsyncClient(transport=self._transport, **options), None, slots)
        from chalk_client._io.aiohttp_transport import (  # aiohttp: only once a client sends
            AiohttpTransport,
            AioSession,
        )

        aio = AioSession(self._limits, ssl=self._network.ssl_context, proxies=self._network.proxies)
        return AsyncPool(httpx.AsyncClient(transport=AiohttpTransport(aio), **options), aio, slots)


class _JobRunner:
    """What an :class:`OfflineQuery` needs of its ``ChalkClient`` (``_offline.JobRunner``)."""

    def __init__(self, client: ChalkClient) -> None:
        self._client = client
        self.max_retries = client._max_retries
        self.rand = client._rand
        self.monotonic = client._clock.monotonic

    def call(self, call: Call, parse: _Parser[Any]) -> Any:  # noqa: ANN401 - the parser's result
        """Send `call` with the client's retries and token handling."""
        client = self._client
        return client._drive(client._flow(call, parse, client._timeout))

    def pause(self, seconds: float) -> None:
        """Wait as the client waits between attempts."""
        self._client._pause(seconds)

    def fetch(self, fetch: _offline._Fetch) -> int | Exception | None:
        """Download one result file through the API server's pool."""
        return _offline.fetch_file(self._client._http.http, fetch)


class _AsyncJobRunner:
    """What an :class:`AsyncOfflineQuery` needs of its ``AsyncChalkClient`` (``_offline.AsyncJobRunner``)."""

    def __init__(self, client: AsyncChalkClient) -> None:
        self._client = client
        self.max_retries = client._max_retries
        self.rand = client._rand
        self.monotonic = client._clock.monotonic

    async def call(self, call: Call, parse: _Parser[Any]) -> Any:  # noqa: ANN401 - the parser's result
        """Send `call` with the client's retries and token handling."""
        client = self._client
        return await client._drive(client._flow(call, parse, client._timeout))

    async def pause(self, seconds: float) -> None:
        """Wait as the client waits between attempts."""
        await self._client._pause(seconds)

    async def fetch(self, fetch: _offline._Fetch) -> int | Exception | None:
        """Download one result file through the API server's pool of the running loop."""
        return await _offline.afetch_file((await self._client._http.get()).http, fetch)


async def _acquire_within(slots: asyncio.Semaphore, seconds: float | None) -> bool:
    """Take a slot, waiting at most `seconds` (None: as long as it takes); False if none came free."""
    import asyncio

    if seconds is None:
        await slots.acquire()
        return True
    try:
        await asyncio.wait_for(slots.acquire(), seconds)
    except TimeoutError:
        return False
    return True


def _pool_limits(limits: httpx.Limits) -> httpx.Limits:
    """The limits of the pool under the slots: one connection more, for the token exchange."""
    most = limits.max_connections
    if most is None:
        return limits
    keepalive = limits.max_keepalive_connections
    return httpx.Limits(
        max_connections=most + 1,
        max_keepalive_connections=None if keepalive is None else keepalive + (keepalive >= most),
        keepalive_expiry=limits.keepalive_expiry,
    )
