"""``ChalkClient`` and ``AsyncChalkClient``: thin loops over shared, I/O-free decisions.

Everything the two clients decide (effective configuration, the exchange request, what an
answer means, the token policy) lives in one place, :class:`_ClientCore` and the modules it uses.
The two public classes only send requests and wait, one with ``await`` and one without.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import httpx

from chalk_client._config import ChalkClientConfig
from chalk_client._errors import ChalkConfigError, ChalkSDKError
from chalk_client._fork import keep_inherited, reset_after_fork
from chalk_client._http import DEFAULT_LIMITS, DEFAULT_TIMEOUT, TOKEN_TIMEOUT, USER_AGENT, PerLoopAsyncClient
from chalk_client._responses import error_for_status, parse_model, transport_error
from chalk_client._token import DEFAULT_REFRESH_BUFFER, Clock, Token
from chalk_client._token_cache import TokenCache

if TYPE_CHECKING:
    from chalk_openapi.models.token_response import TokenResponse

__all__ = ["AsyncChalkClient", "ChalkClient"]

_TransportT = TypeVar("_TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)


class _BaseChalkClient(Generic[_TransportT]):
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
        transport: _TransportT | None = None,
        clock: Clock | None = None,
        rand: Callable[[], float] | None = None,
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
        self._tokens = TokenCache(refresh_buffer=refresh_buffer, clock=clock, rand=rand)
        self._token_timeout = httpx.Timeout(token_timeout)
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._limits = limits
        self._transport: _TransportT | None = transport
        self._secrets = (self._config.client_secret,)
        self._setup()

    def _setup(self) -> None:
        """Create the HTTP side (the subclasses' part of construction)."""
        raise NotImplementedError

    @property
    def config(self) -> ChalkClientConfig:
        """The resolved configuration (its secret is masked when printed)."""
        return self._config

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

    def _exchange_result(self, response: httpx.Response) -> TokenResponse:
        """The parsed token answer, or the SDK error that fits it."""
        from chalk_openapi.models.token_response import TokenResponse

        if not response.is_success:
            raise error_for_status(response, secrets=self._secrets, credentials_exchange=True)
        return parse_model(TokenResponse, response, required=("access_token",), secrets=self._secrets)

    def _exchange_failed(self, err: httpx.TransportError, kwargs: dict[str, Any]) -> Exception:
        """The SDK error for a token request that never got a full answer."""
        url = self._config.api_server.rstrip("/") + kwargs["url"]
        return transport_error(err, method=kwargs["method"].upper(), url=url)


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
        environment: An environment id or name.
        branch: A branch to send every call to.
        deployment_tag: A deployment tag.
        query_server: Where online queries go, overriding the token's engine URL.
        config: An already resolved configuration; the arguments above override single fields.
        allow_insecure_http: Allow credentials over plain ``http://`` to a non-loopback host.
        refresh_buffer: Refresh the token this many seconds before it expires (default 60,
            capped at half the token's lifetime).
        token_timeout: Seconds the token exchange may take (default 10).
        timeout: The timeout for API calls (default: 5 s to connect, 30 s to read).
        limits: Connection pool limits.
        transport: An httpx transport to send through (tests pass ``httpx.MockTransport``).
        clock: Where the token layer reads time (tests pass a fake clock).
        rand: A source of floats in [0, 1) for jitter (tests pass ``lambda: 0.0``).
"""


class ChalkClient(_BaseChalkClient[httpx.BaseTransport]):
    """The synchronous Chalk client; safe to share between threads.

    Example::

        from chalk_client import ChalkClient

        with ChalkClient() as client:  # credentials from the environment or `chalk login`
            token = client.get_token()
            print(token.primary_environment, token.expires_at)
    """

    __doc__ = (__doc__ or "") + _CLIENT_ARGS_DOC

    def _setup(self) -> None:
        self._http = self._new_http()
        self._closed = False
        reset_after_fork(self)

    def get_token(self) -> Token:
        """A valid access token, from the cache or from a new exchange.

        Raises:
            ChalkAuthenticationError: the credentials were rejected.
            ChalkUnavailableError: the token server or the network failed; try again later.
            ChalkInvalidResponseError: the token server's answer did not parse.
        """
        return self._tokens.get(self._exchange)

    def close(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
        self._closed = True
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _exchange(self) -> TokenResponse:
        if self._closed:
            raise ChalkSDKError("this ChalkClient is closed; create a new one")
        kwargs = self._exchange_request()
        try:
            response = self._http.request(**kwargs)
        except httpx.TransportError as err:
            raise self._exchange_failed(err, kwargs) from err
        return self._exchange_result(response)

    def _new_http(self) -> httpx.Client:
        transport = self._transport or httpx.HTTPTransport(limits=self._limits)
        return httpx.Client(transport=transport, **self._http_options())

    def _reset_after_fork(self) -> None:
        keep_inherited(self._http)
        if self._transport is None:
            self._http = self._new_http()


class AsyncChalkClient(_BaseChalkClient[httpx.AsyncBaseTransport]):
    """The asyncio Chalk client; one instance serves many tasks, and successive event loops.

    Example::

        import asyncio
        from chalk_client import AsyncChalkClient

        async def main() -> None:
            async with AsyncChalkClient() as client:
                token = await client.get_token()
                print(token.primary_environment, token.expires_at)

        asyncio.run(main())
    """

    __doc__ = (__doc__ or "") + _CLIENT_ARGS_DOC

    def _setup(self) -> None:
        self._http = PerLoopAsyncClient(self._new_http)

    async def get_token(self) -> Token:
        """A valid access token, from the cache or from a new exchange (see ``ChalkClient.get_token``)."""
        return await self._tokens.aget(self._exchange)

    async def aclose(self) -> None:
        """Close the connection pool of the running event loop."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _exchange(self) -> TokenResponse:
        kwargs = self._exchange_request()
        http = await self._http.get()
        try:
            response = await http.request(**kwargs)
        except httpx.TransportError as err:
            raise self._exchange_failed(err, kwargs) from err
        return self._exchange_result(response)

    def _new_http(self) -> httpx.AsyncClient:
        transport = self._transport or httpx.AsyncHTTPTransport(limits=self._limits)
        return httpx.AsyncClient(transport=transport, **self._http_options())
