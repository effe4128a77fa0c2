"""``ChalkClient`` and ``AsyncChalkClient``: thin loops over shared, I/O-free decisions.

Everything the two clients decide (effective configuration, the exchange request, what an
answer means, the token policy) lives in one place, :class:`_ClientCore` and the modules it uses.
The two public classes only send requests and wait, one with ``await`` and one without.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from chalk_client._config import ChalkClientConfig
from chalk_client._errors import ChalkSDKError
from chalk_client._fork import keep_inherited, reset_after_fork
from chalk_client._http import DEFAULT_LIMITS, DEFAULT_TIMEOUT, TOKEN_TIMEOUT, USER_AGENT, PerLoopAsyncClient
from chalk_client._responses import error_for_status, parse_model, transport_error
from chalk_client._token import DEFAULT_REFRESH_BUFFER, Clock, Token
from chalk_client._token_cache import TokenCache

if TYPE_CHECKING:
    from chalk_openapi.models.token_response import TokenResponse

__all__ = ["AsyncChalkClient", "ChalkClient"]

logger = logging.getLogger("chalk_client")


class _ClientCore:
    """What both clients share: configuration, the token cache, and request/answer handling."""

    def __init__(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        api_server: str | None,
        environment: str | None,
        branch: str | None,
        deployment_tag: str | None,
        query_server: str | None,
        config: ChalkClientConfig | None,
        allow_insecure_http: bool,
        refresh_buffer: float,
        token_timeout: float,
        timeout: httpx.Timeout | float | None,
        limits: httpx.Limits,
        clock: Clock | None,
        rand: Callable[[], float] | None,
    ) -> None:
        if config is None:
            config = ChalkClientConfig.resolve(
                client_id=client_id,
                client_secret=client_secret,
                api_server=api_server,
                environment=environment,
                branch=branch,
                deployment_tag=deployment_tag,
                query_server=query_server,
                allow_insecure_http=allow_insecure_http,
            )
        else:
            explicit: dict[str, Any] = {
                "client_id": client_id,
                "client_secret": client_secret,
                "api_server": api_server,
                "environment": environment,
                "branch": branch,
                "deployment_tag": deployment_tag,
                "query_server": query_server,
            }
            changes = {name: value for name, value in explicit.items() if value is not None}
            if changes or allow_insecure_http:
                config = config.with_options(
                    allow_insecure_http=allow_insecure_http or config.allow_insecure_http, **changes
                )
        self.config = config
        self.tokens = TokenCache(refresh_buffer=refresh_buffer, clock=clock, rand=rand)
        self.token_timeout = httpx.Timeout(token_timeout)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.limits = limits
        self.headers = {"User-Agent": USER_AGENT}
        self._secrets = (config.client_secret,)

    def http_options(self) -> dict[str, Any]:
        """Keyword arguments shared by the sync and async httpx clients."""
        return {
            "base_url": self.config.api_server,
            "headers": self.headers,
            "timeout": self.timeout,
            "follow_redirects": False,
        }

    def exchange_request(self) -> dict[str, Any]:
        """The token request, built by the generated endpoint: JSON body, no ``Authorization``."""
        from chalk_openapi.api.auth import get_token
        from chalk_openapi.models.token_request import TokenRequest

        body = TokenRequest(
            client_id=self.config.client_id or "",
            client_secret=self.config.client_secret or "",
            grant_type="client_credentials",
        )
        kwargs = get_token._get_kwargs(body=body)
        # Our own timeout, no redirects (a redirect could carry the secret elsewhere), no auth flow.
        kwargs.update(timeout=self.token_timeout, follow_redirects=False, auth=None)
        return kwargs

    def exchange_result(self, response: httpx.Response) -> TokenResponse:
        """The parsed token answer, or the SDK error that fits it."""
        from chalk_openapi.models.token_response import TokenResponse

        if not response.is_success:
            raise error_for_status(response, secrets=self._secrets, credentials_exchange=True)
        return parse_model(TokenResponse, response, required=("access_token",), secrets=self._secrets)

    def exchange_failed(self, err: httpx.TransportError, kwargs: dict[str, Any]) -> Exception:
        """The SDK error for a token request that never got a full answer."""
        return transport_error(err, method=kwargs["method"].upper(), url=self.url(kwargs["url"]))

    def url(self, path: str) -> str:
        """The absolute URL of an API-server path."""
        return self.config.api_server.rstrip("/") + path

    def repr(self, cls: type) -> str:
        """A repr that names the client and where it points, never a secret."""
        c = self.config
        return f"<{cls.__name__} client_id={c.client_id!r} api_server={c.api_server!r} environment={c.environment!r}>"


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


class ChalkClient:
    """The synchronous Chalk client; safe to share between threads.

    Example::

        from chalk_client import ChalkClient

        with ChalkClient() as client:  # credentials from the environment or `chalk login`
            token = client.get_token()
            print(token.primary_environment, token.expires_at)
    """

    __doc__ = (__doc__ or "") + _CLIENT_ARGS_DOC

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
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        self._core = _ClientCore(
            client_id=client_id,
            client_secret=client_secret,
            api_server=api_server,
            environment=environment,
            branch=branch,
            deployment_tag=deployment_tag,
            query_server=query_server,
            config=config,
            allow_insecure_http=allow_insecure_http,
            refresh_buffer=refresh_buffer,
            token_timeout=token_timeout,
            timeout=timeout,
            limits=limits,
            clock=clock,
            rand=rand,
        )
        self._transport = transport
        self._http = self._new_http()
        self._closed = False
        reset_after_fork(self)

    @property
    def config(self) -> ChalkClientConfig:
        """The resolved configuration (its secret is masked when printed)."""
        return self._core.config

    def get_token(self) -> Token:
        """A valid access token, from the cache or from a new exchange.

        Raises:
            ChalkAuthenticationError: the credentials were rejected.
            ChalkUnavailableError: the token server or the network failed; try again later.
            ChalkInvalidResponseError: the token server's answer did not parse.
        """
        return self._core.tokens.get(self._exchange)

    def invalidate_token(self, token: Token | str) -> bool:
        """Drop the cached token if it is still `token`; the next call exchanges anew."""
        return self._core.tokens.invalidate(token)

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

    def __repr__(self) -> str:
        return self._core.repr(type(self))

    def _exchange(self) -> TokenResponse:
        if self._closed:
            raise ChalkSDKError("this ChalkClient is closed; create a new one")
        kwargs = self._core.exchange_request()
        try:
            response = self._http.request(**kwargs)
        except httpx.TransportError as err:
            raise self._core.exchange_failed(err, kwargs) from err
        return self._core.exchange_result(response)

    def _new_http(self) -> httpx.Client:
        transport = self._transport or httpx.HTTPTransport(limits=self._core.limits)
        return httpx.Client(transport=transport, **self._core.http_options())

    def _reset_after_fork(self) -> None:
        keep_inherited(self._http)
        if self._transport is None:
            self._http = self._new_http()


class AsyncChalkClient:
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
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        self._core = _ClientCore(
            client_id=client_id,
            client_secret=client_secret,
            api_server=api_server,
            environment=environment,
            branch=branch,
            deployment_tag=deployment_tag,
            query_server=query_server,
            config=config,
            allow_insecure_http=allow_insecure_http,
            refresh_buffer=refresh_buffer,
            token_timeout=token_timeout,
            timeout=timeout,
            limits=limits,
            clock=clock,
            rand=rand,
        )
        self._transport = transport
        self._http = PerLoopAsyncClient(self._new_http)

    @property
    def config(self) -> ChalkClientConfig:
        """The resolved configuration (its secret is masked when printed)."""
        return self._core.config

    async def get_token(self) -> Token:
        """A valid access token, from the cache or from a new exchange (see ``ChalkClient.get_token``)."""
        return await self._core.tokens.aget(self._exchange)

    def invalidate_token(self, token: Token | str) -> bool:
        """Drop the cached token if it is still `token`; the next call exchanges anew."""
        return self._core.tokens.invalidate(token)

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

    def __repr__(self) -> str:
        return self._core.repr(type(self))

    async def _exchange(self) -> TokenResponse:
        kwargs = self._core.exchange_request()
        http = await self._http.get()
        try:
            response = await http.request(**kwargs)
        except httpx.TransportError as err:
            raise self._core.exchange_failed(err, kwargs) from err
        return self._core.exchange_result(response)

    def _new_http(self) -> httpx.AsyncClient:
        transport = self._transport or httpx.AsyncHTTPTransport(limits=self._core.limits)
        return httpx.AsyncClient(transport=transport, **self._core.http_options())
