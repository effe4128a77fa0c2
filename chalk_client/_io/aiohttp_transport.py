"""The async client's default transport: aiohttp, with the SDK's own error mapping.

httpcore's async pool serves a couple of hundred calls a second once hundreds of tasks wait on it;
aiohttp serves thousands on the same machine. So :class:`~chalk_client.AsyncChalkClient` sends
through one ``aiohttp.ClientSession`` per connection pool and event loop (:class:`AioSession`):

- API calls and online queries take the direct path, :meth:`AioSession.send`: no ``httpx.Request``
  or ``httpx.Response`` is built per call (their construction is a measurable share of a call under
  load); the answer is a :class:`PlainAnswer`, which the parsers read as they read an httpx answer.
- The token exchange and result downloads go through ``httpx.AsyncClient`` over
  :class:`AiohttpTransport`, the same session seen as an ``httpx.AsyncBaseTransport``, with the
  body streamed in chunks.

aiohttp's failures are mapped to httpx's transport errors here (:func:`transport_failure`), and
the SDK's retry rules and messages read those. The mapping keeps one distinction exact: only a
failure to connect proves that nothing was sent (``httpx.ConnectError``, ``httpx.ConnectTimeout``);
a connection that drops later, even before any answer, may have carried the whole request, so an
upload is never sent twice on the strength of it.

This module imports aiohttp, so it is imported only when an async client first sends.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import aiohttp
import httpx
import yarl

from chalk_client._core.answers import PlainAnswer
from chalk_client._core.network import ProxyPlan

__all__ = ["AioSession", "AiohttpTransport", "transport_failure"]

# Headers aiohttp writes itself from the request (an explicit copy would disagree or repeat).
_HOP_HEADERS: Final = frozenset({"host", "content-length", "connection", "transfer-encoding"})
# Chunks of a streamed body (downloads read the file in larger pieces; httpx regroups them).
_STREAM_CHUNK: Final = 64 * 1024


@functools.lru_cache(maxsize=64)
def client_timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    """aiohttp's timeout for httpx's connect and read phases (the pool phase is the SDK's own)."""
    return aiohttp.ClientTimeout(total=None, connect=None, sock_connect=connect, sock_read=read)


@functools.lru_cache(maxsize=512)
def parsed_url(url: str) -> yarl.URL:
    """`url` parsed once: the SDK's URLs come from a few templates, and parsing is per call otherwise."""
    return yarl.URL(url, encoded=True)


def transport_failure(err: BaseException, method: str, url: str) -> httpx.TransportError:
    """httpx's transport error for an aiohttp failure of ``method url``.

    Messages name the kind of failure and never echo aiohttp's text whole: some of it repeats the
    URL, and a signed download URL's query string is a credential.
    """
    request = httpx.Request(method, url)
    kind = type(err).__name__
    if isinstance(err, aiohttp.ClientConnectorCertificateError):
        mapped = httpx.ConnectError(f"certificate verify failed: {err.certificate_error}", request=request)
        mapped.__cause__ = err.certificate_error  # chalk_client._core.network.certificate_failure finds it
        return mapped
    if isinstance(err, aiohttp.ClientHttpProxyError):
        return httpx.ProxyError(f"the proxy answered {err.status} ({err.message})", request=request)
    if isinstance(err, aiohttp.ClientProxyConnectionError):
        return httpx.ProxyError(f"could not connect to the proxy ({_os_reason(err)})", request=request)
    if isinstance(err, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout("timed out while connecting", request=request)
    if isinstance(err, aiohttp.ClientConnectorError):
        return httpx.ConnectError(f"{kind}: {_os_reason(err)}", request=request)
    if isinstance(err, asyncio.TimeoutError):  # aiohttp's SocketTimeoutError is one: the read timed out
        return httpx.ReadTimeout("timed out while waiting for the answer", request=request)
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(
            "the server disconnected without sending a complete answer", request=request
        )
    if isinstance(err, aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(
            "the answer's body was cut short (incomplete message body)", request=request
        )
    if isinstance(err, aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(f"an invalid HTTP answer ({err.message})", request=request)
    if isinstance(err, aiohttp.ClientOSError | OSError):
        return httpx.ReadError(f"{kind}: {_os_reason(err)}", request=request)
    return httpx.RemoteProtocolError(f"the connection failed ({kind})", request=request)


def _os_reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    cause = err.__cause__ or err.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return "the connection failed"


_FAILURES: Final = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class AioSession:
    """One aiohttp session: a connection pool of one event loop.

    Args:
        limits: ``max_connections`` bounds the pool (the SDK's slots admit that many calls; one
            more connection is allowed for the token exchange, which takes no slot);
            ``keepalive_expiry`` is how long an idle connection stays open. aiohttp keeps every
            idle connection it may (``max_keepalive_connections`` has no equivalent).
    """

    def __init__(self, limits: httpx.Limits, *, ssl: ssl.SSLContext, proxies: ProxyPlan) -> None:
        most = limits.max_connections
        options: dict[str, Any] = {
            "limit": most + 1 if most is not None else 0,
            "limit_per_host": 0,
            "ssl": ssl,
        }
        # Proxies are the SDK's to choose (httpx's rules; see chalk_client._core.network), never aiohttp's.
        self.proxy_for = proxies.for_url
        if limits.keepalive_expiry is not None:
            options["keepalive_timeout"] = limits.keepalive_expiry
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(**options),
            cookie_jar=aiohttp.DummyCookieJar(),  # Chalk sets no cookies; none are kept
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,
        )

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: httpx.Timeout
    ) -> PlainAnswer:
        """Send one request and read its whole answer; failures raise httpx's transport errors."""
        try:
            async with self.session.request(
                method,
                parsed_url(url),
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=client_timeout(timeout.connect, timeout.read),
                proxy=self.proxy_for(url),
            ) as response:
                content = await response.read()
                return PlainAnswer(
                    response.status, response.reason or "", response.headers, content, method=method, url=url
                )
        except _FAILURES as err:
            raise transport_failure(err, method, url) from err

    async def aclose(self) -> None:
        """Close the session and its connections."""
        await self.session.close()


class _AioStream(httpx.AsyncByteStream):
    """An aiohttp answer's body as httpx's stream, in chunks; released when httpx closes it."""

    def __init__(self, response: aiohttp.ClientResponse, method: str, url: str) -> None:
        self._response = response
        self._method = method
        self._url = url

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(_STREAM_CHUNK):
                yield chunk
        except _FAILURES as err:
            raise transport_failure(err, self._method, self._url) from err

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An :class:`AioSession` as an httpx transport (the token exchange and downloads use it).

    Redirects are never followed; the body streams; content encodings are decoded by httpx, as
    with its own transport. Closing the transport closes the session.
    """

    def __init__(self, aio: AioSession) -> None:
        self._aio = aio

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through the session; the answer's body streams from the connection."""
        method, url = request.method, str(request.url)
        timeout = request.extensions.get("timeout", {})
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _HOP_HEADERS]
        body = await request.aread()
        try:
            response = await self._aio.session.request(
                method,
                parsed_url(url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                auto_decompress=False,
                timeout=client_timeout(timeout.get("connect"), timeout.get("read")),
                proxy=self._aio.proxy_for(url),
            )
        except _FAILURES as err:
            raise transport_failure(err, method, url) from err
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_AioStream(response, method, url),
            extensions={"reason_phrase": (response.reason or "").encode("latin-1", "replace")},
        )

    async def aclose(self) -> None:
        """Close the session."""
        await self._aio.aclose()
