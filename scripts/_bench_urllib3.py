"""A sync ``httpx`` transport over a ``urllib3.PoolManager``, for ``scripts/bench`` to measure.

``scripts/bench`` runs ``ChalkClient(transport=Urllib3Transport(...))`` beside the default
``ChalkClient`` (httpx's own transport, httpcore's pool), with 1 thread and with 64, to decide
whether the SDK should switch its sync transport (issue 11: only if it is at least 1.3x faster at 64
threads and at least 0.95x sequentially). It is a measuring instrument, not part of the SDK, but it
behaves as a transport must, so that the figures are those of a transport the SDK could ship:

- every request goes out as it is (method, URL, headers, body), with no retries and no redirects
  followed (the SDK decides both), and with the timeouts httpx puts in
  ``request.extensions["timeout"]`` (connect, read, pool; urllib3 has no separate write timeout,
  so a write is bounded by the read timeout, as on the socket it shares);
- the answer is streamed (``preload_content=False``), its bytes undecoded (httpx decodes
  ``Content-Encoding`` itself), and its connection goes back to the pool when the body has been
  read or the response closed;
- urllib3's errors become httpx's: a connect failure ``ConnectError``, a connect timeout
  ``ConnectTimeout``, no free connection in time ``PoolTimeout``, a read timeout ``ReadTimeout``,
  a connection that dropped or answered something that is not HTTP ``RemoteProtocolError`` or
  ``ReadError`` (so the SDK's rule for uploads, retried only when nothing was sent, sees a
  request that may have been sent), a proxy failure ``ProxyError``, a URL urllib3 cannot use
  ``UnsupportedProtocol``.

The pool: ``maxsize`` connections per host (default 100, the SDK's default ``max_connections``),
``block=True`` so that a call waits for a free connection (up to the pool timeout) rather than
opening one more; TCP_NODELAY is urllib3's default.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Final

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

CHUNK: Final = 65536
# Hop-by-hop framing that the transport recomputes once the body is read whole.
_FRAMING: Final = frozenset({b"transfer-encoding", b"content-length"})


def _map_error(err: Exception, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception for a urllib3 (or socket) error raised while sending `request`."""
    message = str(err) or type(err).__name__
    if isinstance(err, EmptyPoolError):  # block=True and no connection came back in time
        return httpx.PoolTimeout(message, request=request)
    if isinstance(err, ProxyError):
        return httpx.ProxyError(message, request=request)
    if isinstance(err, NewConnectionError):  # before ConnectTimeoutError, its base class in urllib3
        if isinstance(err.__context__, TimeoutError) or "timed out" in message:
            return httpx.ConnectTimeout(message, request=request)
        return httpx.ConnectError(message, request=request)
    if isinstance(err, ConnectTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(err, ReadTimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(err, SSLError):
        return httpx.ConnectError(message, request=request)
    if isinstance(err, LocationValueError):  # a bad URL or an unknown scheme
        return httpx.UnsupportedProtocol(message, request=request)
    if isinstance(err, ProtocolError):
        cause = err.args[1] if len(err.args) > 1 else err.__cause__
        if isinstance(cause, http.client.RemoteDisconnected | http.client.BadStatusLine):
            return httpx.RemoteProtocolError(message, request=request)
        if isinstance(cause, http.client.IncompleteRead | http.client.HTTPException):
            return httpx.RemoteProtocolError(message, request=request)
        return httpx.ReadError(message, request=request)
    if isinstance(err, TimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(err, http.client.HTTPException):
        return httpx.RemoteProtocolError(message, request=request)
    return httpx.ReadError(message, request=request)


class _ResponseStream(httpx.SyncByteStream):
    """The answer's body, read from urllib3 in chunks; closing it gives the connection back."""

    def __init__(self, response: urllib3.BaseHTTPResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._response.stream(CHUNK, decode_content=False):
                if chunk:
                    yield chunk
        except (HTTPError, OSError, http.client.HTTPException) as err:
            raise _map_error(err, self._request) from err

    def close(self) -> None:
        response = self._response
        # Read to the end, the connection has gone back to the pool already (release_conn=True)
        # and this closes nothing of it; otherwise what is left of the body would be read as the
        # next answer on it, so it is closed (the pool opens another when it is next taken).
        response.close()
        response.release_conn()  # block=True: the pool's slot must come back either way


class Urllib3Transport(httpx.BaseTransport):
    """An ``httpx.BaseTransport`` that sends through one ``urllib3.PoolManager``."""

    def __init__(self, *, maxsize: int = 100, num_pools: int = 10, block: bool = True) -> None:
        self._manager = urllib3.PoolManager(num_pools=num_pools, maxsize=maxsize, block=block, retries=False)
        # Each origin's pool, taken from the manager once (the manager's own lookup parses the URL
        # and normalizes a key on every request); taken again if the manager has since closed it.
        self._pools: dict[tuple[str, str, int | None], urllib3.HTTPConnectionPool] = {}

    def _pool_for(self, url: httpx.URL) -> urllib3.HTTPConnectionPool:
        key = (url.scheme, url.host, url.port)
        pool = self._pools.get(key)
        if pool is None or pool.pool is None:  # new, or closed (evicted by the manager)
            pool = self._manager.connection_from_host(url.host, port=url.port, scheme=url.scheme)
            self._pools[key] = pool
        return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = urllib3.Timeout(connect=timeouts.get("connect"), read=timeouts.get("read"))
        body = request.read()  # the SDK's bodies are bytes already; a stream is read whole
        headers: dict[str, str] = {}
        for raw_name, raw_value in request.headers.raw:
            if raw_name.lower() in _FRAMING:
                continue
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        if body or request.method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            headers["Content-Length"] = str(len(body))
        try:
            response = self._pool_for(request.url).urlopen(
                request.method,
                request.url.raw_path.decode("ascii"),
                body=body or None,
                headers=headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                timeout=timeout,
                pool_timeout=timeouts.get("pool"),
                release_conn=True,  # back to the pool once the body is read
            )
        except (HTTPError, OSError, http.client.HTTPException) as err:
            raise _map_error(err, request) from err
        return httpx.Response(
            status_code=response.status,
            headers=list(response.headers.items()),
            stream=_ResponseStream(response, request),
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
            request=request,
        )

    def close(self) -> None:
        self._pools.clear()
        self._manager.clear()
