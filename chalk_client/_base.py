"""What both clients share: configuration, the token cache, the call flows and the driver.

A client resolves its configuration, makes its token cache, its call flows
(:class:`chalk_client._api.flow.CallFlows`: every attempt of a call, without I/O) and its driver
(``chalk_client._io.async_driver`` and ``sync_driver``: the one place that sends and waits). Each public method builds its
call (:mod:`chalk_client._api.calls`) and has the driver run the call's flow; the two public classes
differ only in the driver they hold, and ``ChalkClient`` is generated from ``AsyncChalkClient``
by ``scripts/unasync``.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import httpx

from chalk_client._api.flow import DEFAULT_TOKEN_RETRIES, CallFlows
from chalk_client._core.config import ChalkClientConfig
from chalk_client._core.defaults import DEFAULT_LIMITS, DEFAULT_TIMEOUT, TOKEN_TIMEOUT, USER_AGENT, as_timeout
from chalk_client._core.errors import ChalkClientClosedError, ChalkConfigError, ChalkInputError
from chalk_client._core.retry import DEFAULT_MAX_RETRIES
from chalk_client._core.token import DEFAULT_REFRESH_BUFFER, Clock, SystemClock, Token
from chalk_client._io.token_cache import TokenCache

if TYPE_CHECKING:
    from chalk_client._core.network import CertArg, VerifyArg

_TransportT = TypeVar("_TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
_SleepT = TypeVar("_SleepT", Callable[[float], None], Callable[[float], Awaitable[None]])


class _BaseChalkClient(Generic[_TransportT, _SleepT]):
    """What both clients share: configuration, the token cache, the call flows, and making the driver.

    Every decision lives in the call flows, without I/O; the driver only sends and waits.
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
        from chalk_client._core.network import resolve_network  # ~6 ms of attrs classes: at first use

        self._network = resolve_network(
            proxy=proxy,
            verify=verify,
            cert=cert,
            trust_env=trust_env,
            transport=self._TRANSPORT,
            caller_transport=transport is not None,
        )
        timeout_ = as_timeout(timeout)
        self._calls = CallFlows(
            config=self._config,
            tokens=self._tokens,
            clock=self._clock,
            rand=self._rand,
            timeout=timeout_,
            token_timeout=httpx.Timeout(token_timeout),
            max_retries=max_retries,
            token_retries=token_retries,
            secrets=(self._config.client_secret, *self._network.secrets),
        )
        self._make_driver(
            tokens=self._tokens,
            exchange=self._calls.exchange,
            http_options={
                "base_url": self._config.api_server,
                "headers": {"User-Agent": USER_AGENT},
                "timeout": timeout_,
                "follow_redirects": False,
            },
            limits=limits,
            network=self._network,
            transport=transport,
            closed_error=self._closed_error,
            sleep=sleep,
        )

    # The transport that sends when the caller gives none (its proxy rules differ).
    _TRANSPORT: Literal["urllib3", "aiohttp"] = "urllib3"

    def _make_driver(self, **options: Any) -> None:  # noqa: ANN401
        """Create the driver (the subclasses' part of construction)."""
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
