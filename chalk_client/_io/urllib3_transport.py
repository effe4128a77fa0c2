"""The sync client's default transport: urllib3, with the SDK's own error mapping.

With 64 threads on one client, httpcore's sync pool serves a few hundred calls a second on this
project's 2-core machine (its pool lock is the bottleneck), while urllib3 serves several times that
with the same connection limit; one thread at a time, the two are level (``scripts/bench`` measures
both). So :class:`~chalk_client.ChalkClient` sends through one :class:`Urllib3Session` per
connection pool:

- API calls and online queries take the direct path, :meth:`Urllib3Session.send`, with no
  ``httpx.Request`` or ``httpx.Response`` per call; the answer is a :class:`PlainAnswer`, which
  the parsers read as they read an httpx answer.
- The token exchange and result downloads go through ``httpx.Client`` over
  :class:`Urllib3Transport`, the same session seen as an ``httpx.BaseTransport``, streaming.

urllib3's failures become httpx's transport errors here (:func:`transport_failure`), read by the
SDK's retry rules. As with the async transport, only a failure to connect counts as "nothing was
sent"; a connection that drops later may have carried the whole request.

Proxies are chosen by the SDK (:class:`~chalk_client._core.network.ProxyPlan`, httpx's rules): one
``urllib3.ProxyManager`` per proxy URL, direct connections through a ``PoolManager``.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any, Final

import httpx
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    EmptyPoolError,
    HTTPError,
    LocationValueError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from chalk_client._core.answers import PlainAnswer
from chalk_client._core.network import ProxyPlan

__all__ = ["Urllib3Session", "Urllib3Transport", "transport_failure"]

_CHUNK: Final = 64 * 1024
# Framing that urllib3 writes itself from the body.
_FRAMING: Final = frozenset({"transfer-encoding", "content-length", "host", "connection"})
_BODILESS: Final = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_FAILURES: Final = (HTTPError, OSError, http.client.HTTPException)


def transport_failure(err: BaseException, method: str, url: str) -> httpx.TransportError:
    """httpx's transport error for a urllib3 (or socket) failure of ``method url``.

    Messages name the kind of failure without urllib3's whole text, which can repeat the URL (a
    signed download URL's query string is a credential).
    """
    request = httpx.Request(method, url)
    kind = type(err).__name__
    if isinstance(err, SSLError):
        cause = err.__cause__ or err.__context__ or (err.args[0] if err.args else None)
        mapped = httpx.ConnectError(f"TLS failed: {cause or kind}", request=request)
        if isinstance(cause, BaseException):
            mapped.__cause__ = cause  # a certificate failure is found there (never retried)
        return mapped
    if isinstance(err, EmptyPoolError):
        return httpx.PoolTimeout("no free connection in time", request=request)
    if isinstance(err, ProxyError):
        return httpx.ProxyError(f"the proxy failed ({type(err.original_error).__name__})", request=request)
    if isinstance(err, NewConnectionError):  # a subclass of ConnectTimeoutError in urllib3 2
        if isinstance(err.__context__, TimeoutError) or "timed out" in str(err):
            return httpx.ConnectTimeout("timed out while connecting", request=request)
        return httpx.ConnectError(f"{kind}: {_reason(err)}", request=request)
    if isinstance(err, ConnectTimeoutError):
        return httpx.ConnectTimeout("timed out while connecting", request=request)
    if isinstance(err, ReadTimeoutError | TimeoutError):
        return httpx.ReadTimeout("timed out while waiting for the answer", request=request)
    if isinstance(err, LocationValueError):
        return httpx.UnsupportedProtocol(f"a URL urllib3 cannot use ({kind})", request=request)
    if isinstance(err, ProtocolError):
        cause = err.args[1] if len(err.args) > 1 else err.__cause__
        if isinstance(cause, http.client.HTTPException):
            return httpx.RemoteProtocolError(
                f"the server disconnected without sending a complete answer ({type(cause).__name__})",
                request=request,
            )
        return httpx.ReadError(
            f"{type(cause).__name__ if cause else kind}: {_reason(cause)}", request=request
        )
    if isinstance(err, http.client.HTTPException):
        return httpx.RemoteProtocolError(f"an invalid HTTP answer ({kind})", request=request)
    return httpx.ReadError(f"{kind}: {_reason(err)}", request=request)


def _reason(err: object) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    if isinstance(err, BaseException):
        cause = err.__cause__ or err.__context__
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    return "the connection failed"


def _proxy_headers(proxy: str) -> dict[str, str]:
    parts = urllib.parse.urlsplit(proxy)
    if parts.username is None:
        return {}
    pair = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}


def _without_credentials(proxy: str) -> str:
    parts = urllib.parse.urlsplit(proxy)
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


class Urllib3Session:
    """urllib3's pools for one connection pool of ``ChalkClient`` (thread-safe).

    Args:
        limits: ``max_connections`` per origin (the SDK's slots admit that many calls; one more
            connection is allowed for the token exchange, which takes no slot). Idle connections
            stay open until the server closes them; a dropped one is noticed before reuse.
        ssl: The SSL context of every TLS connection.
        proxies: Which proxy each URL goes through.
    """

    def __init__(self, limits: httpx.Limits, *, ssl: ssl.SSLContext, proxies: ProxyPlan) -> None:
        most = limits.max_connections
        self._options: dict[str, Any] = {
            "num_pools": 32,
            "maxsize": most + 1 if most is not None else 100,
            "block": most is not None,
            "retries": False,
            "ssl_context": ssl,
        }
        self._proxy_for = proxies.for_url
        self._direct = urllib3.PoolManager(**self._options)
        self._managers: dict[str, urllib3.PoolManager] = {}
        self._pools: dict[str, urllib3.HTTPConnectionPool] = {}  # origin -> its pool
        self._lock = threading.Lock()

    def _manager(self, proxy: str | None) -> urllib3.PoolManager:
        if proxy is None:
            return self._direct
        manager = self._managers.get(proxy)
        if manager is None:
            with self._lock:
                manager = self._managers.get(proxy)
                if manager is None:
                    manager = self._new_proxy_manager(proxy)
                    self._managers[proxy] = manager
        return manager

    def _new_proxy_manager(self, proxy: str) -> urllib3.PoolManager:
        if urllib.parse.urlsplit(proxy).scheme.startswith("socks"):
            from urllib3.contrib.socks import SOCKSProxyManager  # needs PySocks (checked when configured)

            return SOCKSProxyManager(proxy, **self._options)
        return urllib3.ProxyManager(
            _without_credentials(proxy), proxy_headers=_proxy_headers(proxy), **self._options
        )

    def _pool(self, url: str) -> tuple[urllib3.HTTPConnectionPool, str]:
        """The direct pool for `url`'s origin, and the request line's target."""
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        pool = self._pools.get(origin)
        if pool is None or pool.pool is None:  # new, or closed (evicted by its manager)
            pool = self._direct.connection_from_url(origin)
            if len(self._pools) < 256:
                self._pools[origin] = pool
        return pool, url[len(origin) :] or "/"

    def urlopen(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Mapping[str, float | None],
        *,
        stream: bool,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request; failures raise httpx's transport errors."""
        if body is None and method not in _BODILESS:
            headers = {**headers, "Content-Length": "0"}
        options: dict[str, Any] = {
            "body": body,
            "headers": headers,
            "retries": False,
            "redirect": False,
            "preload_content": not stream,
            "decode_content": not stream,
            "timeout": urllib3.Timeout(connect=timeout.get("connect"), read=timeout.get("read")),
            "pool_timeout": timeout.get("pool"),
            "release_conn": True,
        }
        proxy = self._proxy_for(url)
        try:
            if proxy is None:
                pool, target = self._pool(url)
                return pool.urlopen(method, target, assert_same_host=False, **options)
            # Through a proxy urllib3 chooses the request line (absolute for http://, a CONNECT
            # tunnel for https://) and adds the proxy's headers.
            return self._manager(proxy).urlopen(method, url, **options)
        except _FAILURES as err:
            raise transport_failure(err, method, url) from err

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: httpx.Timeout
    ) -> PlainAnswer:
        """Send one request and read its whole answer (decoded); failures raise httpx's errors."""
        response = self.urlopen(
            method,
            url,
            headers,
            body,
            {"connect": timeout.connect, "read": timeout.read, "pool": timeout.pool},
            stream=False,
        )
        return PlainAnswer(
            response.status,
            response.reason or "",
            response.headers,
            response.data,
            method=method,
            url=url,
        )

    def close(self) -> None:
        """Close every connection."""
        self._pools.clear()
        for manager in (self._direct, *self._managers.values()):
            manager.clear()


class _Stream(httpx.SyncByteStream):
    """An answer's raw body, in chunks; closing it gives the connection back."""

    def __init__(self, response: urllib3.BaseHTTPResponse, method: str, url: str) -> None:
        self._response = response
        self._method = method
        self._url = url

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._response.stream(_CHUNK, decode_content=False):
                if chunk:
                    yield chunk
        except _FAILURES as err:
            raise transport_failure(err, self._method, self._url) from err

    def close(self) -> None:
        self._response.close()
        self._response.release_conn()


class Urllib3Transport(httpx.BaseTransport):
    """A :class:`Urllib3Session` as an httpx transport (the token exchange and downloads use it).

    Redirects are never followed; the body streams; content encodings are decoded by httpx.
    Closing the transport closes the session.
    """

    def __init__(self, session: Urllib3Session) -> None:
        self._session = session

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request`; the answer's body streams from the connection."""
        method, url = request.method, str(request.url)
        headers: dict[str, str] = {}
        for name, value in request.headers.multi_items():
            if name.lower() not in _FRAMING:
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
        body = request.read() or None
        response = self._session.urlopen(
            method, url, headers, body, request.extensions.get("timeout", {}), stream=True
        )
        return httpx.Response(
            response.status,
            headers=list(response.headers.items()),
            stream=_Stream(response, method, url),
            extensions={"reason_phrase": (response.reason or "").encode("latin-1", "replace")},
        )

    def close(self) -> None:
        """Close the session."""
        self._session.close()
