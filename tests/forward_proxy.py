"""ForwardProxy: a forwarding HTTP proxy on 127.0.0.1 for tests, which counts what it relays.

It serves asyncio streams on its own event loop in a daemon thread, and relays:

- plain-HTTP proxy requests in absolute form (``POST http://127.0.0.1:PORT/path HTTP/1.1``), with
  keep-alive on both sides and bodies framed by ``Content-Length`` or chunked transfer coding
  (passed through as they came, trailers included), to the target in origin form;
- ``CONNECT host:port`` tunnels, bytes both ways until either side closes (https targets).

It never sends traffic off the machine: a target whose host is not ``localhost`` or a loopback
address (``127.0.0.0/8``, ``::1``) is answered 403 before any lookup or connection, and
``localhost`` is connected to only through the loopback addresses it resolves to.

With ``auth=("user", "pass")`` it wants ``Proxy-Authorization: Basic ...`` with those credentials
on every request (and every CONNECT), and answers 407 with ``Proxy-Authenticate`` otherwise.
``Proxy-Authorization`` and the other hop-by-hop headers are not passed on; ``Via: 1.1 forward-proxy``
is added to each relayed request, so the target can tell it came through the proxy.

What it saw: :attr:`ForwardProxy.requests` lists ``(method, target)`` for each request it relayed
(``("CONNECT", "host:port")`` for each tunnel it opened); :attr:`ForwardProxy.records` lists every
request it received, relayed or refused, with its answer's status and whether it carried
(valid) credentials.

Everything is bounded: header sizes, concurrent connections, and each wait (reading from either
side, connecting); :meth:`ForwardProxy.stop` cancels whatever is still running and joins the thread.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import ipaddress
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Protocol
from urllib.parse import urlsplit

import pytest

HOST: Final = "127.0.0.1"
START_TIMEOUT: Final = 10.0
STOP_TIMEOUT: Final = 10.0
MAX_HEADER_BYTES: Final = 64 * 1024
MAX_CONNECTIONS: Final = 256
# A keep-alive connection or a tunnel idle this long is closed; each read from either side waits no
# longer than this either.
IDLE_TIMEOUT: Final = 60.0
CONNECT_TIMEOUT: Final = 5.0
RELAY_CHUNK: Final = 64 * 1024
MAX_INTERIM_ANSWERS: Final = 10
# Hop-by-hop headers (RFC 9110 7.6.1), not passed on. Transfer-Encoding is kept: bodies are relayed
# with the framing they came with.
HOP_BY_HOP: Final = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authorization",
        b"proxy-authenticate",
        b"te",
        b"upgrade",
    }
)


@dataclass(frozen=True)
class ProxyRecord:
    """One request the proxy received.

    ``target`` is the request target as sent (an absolute URL, or ``host:port`` for CONNECT);
    ``status`` is the proxy's own answer (403, 407, 400, 502, 504, 200 for an opened tunnel) or, for a
    relayed plain request, the target's answer (0 when none came); ``relayed`` says whether it went
    on to the target; ``sent_credentials`` whether it carried a ``Proxy-Authorization`` header, and
    ``authorized`` whether that header held the credentials the proxy wants (always False without
    ``auth``).
    """

    method: str
    target: str
    status: int
    relayed: bool
    sent_credentials: bool
    authorized: bool


class _RecordFn(Protocol):
    """Files the record of the request being handled."""

    def __call__(self, status: int, relayed: bool) -> None: ...


class _Refused(Exception):
    """Answer the client with this status and close the connection."""

    def __init__(
        self, status: int, reason: str, detail: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.headers = headers


class _Head:
    """A parsed request or status line with its headers (names kept as sent, compared lower case)."""

    def __init__(self, start: str, headers: list[tuple[bytes, bytes]]) -> None:
        self.start = start
        self.headers = headers

    def get(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def connection_tokens(self) -> set[bytes]:
        tokens: set[bytes] = set()
        for key, value in self.headers:
            if key.lower() in (b"connection", b"proxy-connection"):
                tokens.update(token.strip().lower() for token in value.split(b","))
        return tokens

    def forwarded_headers(self) -> list[tuple[bytes, bytes]]:
        drop = HOP_BY_HOP | self.connection_tokens()
        return [(key, value) for key, value in self.headers if key.lower() not in drop]


async def _read_head(reader: asyncio.StreamReader, *, idle: float) -> _Head | None:
    """The next head from `reader`; None at a clean end of stream before any byte of it."""
    try:
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), idle)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise _Refused(400, "Bad Request", "the connection closed inside a header block") from exc
    except asyncio.LimitOverrunError as exc:
        raise _Refused(431, "Request Header Fields Too Large", "the header block is too large") from exc
    lines = raw[:-4].split(b"\r\n")
    while lines and not lines[0]:  # tolerate blank lines before a request line (RFC 9112 2.2)
        lines.pop(0)
    if not lines:
        return None
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise _Refused(400, "Bad Request", f"a malformed header line: {line[:80]!r}")
        headers.append((name, value.strip()))
    return _Head(lines[0].decode("latin-1"), headers)


async def _relay_body(
    head: _Head, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None, *, until_eof: bool
) -> None:
    """Copy the body that `head` frames from `reader` to `writer` (or drop it when None), as it came."""

    async def copy(data: bytes) -> None:
        if writer is not None and data:
            writer.write(data)
            await writer.drain()

    encoding = head.get(b"transfer-encoding")
    if encoding is not None and encoding.lower().split(b",")[-1].strip() == b"chunked":
        for _ in range(10_000_000):  # chunks; bounded so a broken peer cannot loop forever
            size_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), IDLE_TIMEOUT)
            await copy(size_line)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise _Refused(400, "Bad Request", f"a malformed chunk size: {size_line[:40]!r}") from exc
            if size == 0:
                for _ in range(1000):  # trailer fields, then the blank line that ends the body
                    line = await asyncio.wait_for(reader.readuntil(b"\r\n"), IDLE_TIMEOUT)
                    await copy(line)
                    if line == b"\r\n":
                        return
                raise _Refused(400, "Bad Request", "too many trailer fields")
            remaining = size + 2  # the chunk and its CRLF
            while remaining:
                data = await asyncio.wait_for(reader.read(min(remaining, RELAY_CHUNK)), IDLE_TIMEOUT)
                if not data:
                    raise asyncio.IncompleteReadError(b"", remaining)
                remaining -= len(data)
                await copy(data)
        raise _Refused(400, "Bad Request", "too many chunks")
    length = head.get(b"content-length")
    if length is not None:
        try:
            remaining = int(length)
        except ValueError as exc:
            raise _Refused(400, "Bad Request", f"a malformed Content-Length: {length!r}") from exc
        if remaining < 0:
            raise _Refused(400, "Bad Request", f"a negative Content-Length: {length!r}")
        while remaining:
            data = await asyncio.wait_for(reader.read(min(remaining, RELAY_CHUNK)), IDLE_TIMEOUT)
            if not data:
                raise asyncio.IncompleteReadError(b"", remaining)
            remaining -= len(data)
            await copy(data)
        return
    if until_eof:
        while data := await asyncio.wait_for(reader.read(RELAY_CHUNK), IDLE_TIMEOUT):
            await copy(data)


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_authority(authority: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``) to its parts; raises _Refused(400) when it is not one."""
    host, sep, port_text = authority.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise _Refused(400, "Bad Request", f"not a host:port: {authority!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    port = int(port_text)
    if not 0 < port <= 65535:
        raise _Refused(400, "Bad Request", f"not a port: {port_text!r}")
    return host, port


def _host_port(netloc: str) -> tuple[str, int]:
    """The host and port of an http:// URL's authority (port 80 when absent)."""
    authority = netloc.rpartition("@")[2]
    if authority.endswith("]") or ":" not in authority:
        authority += ":80"
    return _split_authority(authority)


def _encode_head(start: str, headers: list[tuple[bytes, bytes]]) -> bytes:
    lines = [start.encode("latin-1")]
    lines.extend(key + b": " + value for key, value in headers)
    return b"\r\n".join(lines) + b"\r\n\r\n"


class ForwardProxy:
    """A forwarding HTTP proxy on ``127.0.0.1`` (a free port) that relays only to loopback targets.

    Use it as a context manager, or :meth:`start` and :meth:`stop` it; :attr:`url` is what clients
    take as their proxy (``http://127.0.0.1:<port>``).

    Args:
        auth: ``(user, password)`` that every request must carry in ``Proxy-Authorization: Basic``;
            None accepts any request.
    """

    def __init__(self, auth: tuple[str, str] | None = None) -> None:
        if auth is not None and (
            len(auth) != 2 or not all(isinstance(part, str) for part in auth) or ":" in auth[0]
        ):
            raise ValueError("auth must be a (user, password) pair of str, with no ':' in the user")
        self.auth = auth
        self._expected = (
            None if auth is None else b"basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode())
        )
        self._lock = threading.Lock()
        self._records: list[ProxyRecord] = []
        self._connections = 0
        self._url: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what it saw -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (known once started)."""
        if self._url is None:
            raise RuntimeError("ForwardProxy has not been started")
        return self._url

    @property
    def requests(self) -> list[tuple[str, str]]:
        """``(method, target)`` of each request it relayed, oldest first (a copy).

        The target is the absolute URL of a plain request, or ``host:port`` of a CONNECT tunnel.
        Refused requests (403, 407, 400) are not in it: see :attr:`records`.
        """
        with self._lock:
            return [(record.method, record.target) for record in self._records if record.relayed]

    @property
    def records(self) -> list[ProxyRecord]:
        """Every request it received, relayed or refused, oldest first (a copy)."""
        with self._lock:
            return list(self._records)

    @property
    def connections(self) -> int:
        """How many client connections it accepted (keep-alive reuses one for several requests)."""
        with self._lock:
            return self._connections

    def clear(self) -> None:
        """Forget the records and the connection count."""
        with self._lock:
            self._records.clear()
            self._connections = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ForwardProxy:
        """Listen on a free port of 127.0.0.1 and serve from a daemon thread; returns once it accepts."""
        if self._thread is not None:
            raise RuntimeError("ForwardProxy is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.bind((HOST, 0))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        port = sock.getsockname()[1]
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"ForwardProxy {HOST}:{port}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._error is not None:
            self.stop()
            raise RuntimeError(f"ForwardProxy on {HOST}:{port} did not start") from self._error
        self._url = f"http://{HOST}:{port}"
        return self

    def stop(self) -> None:
        """Close the listener and every open connection, and join the thread; idempotent."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(stopping.set)
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError("ForwardProxy did not stop")

    def __enter__(self) -> ForwardProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        auth = " auth" if self.auth is not None else ""
        where = self._url if self._thread is not None else "stopped"
        return f"<ForwardProxy {where}{auth} relayed={len(self.requests)}>"

    # -- serving (on the proxy's loop) -------------------------------------------------------

    def _run(self, sock: socket.socket) -> None:
        try:
            asyncio.run(self._main(sock))
        except BaseException as exc:
            self._error = exc
        finally:
            sock.close()
            self._ready.set()

    async def _main(self, sock: socket.socket) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._accept, sock=sock, limit=MAX_HEADER_BYTES)
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=STOP_TIMEOUT / 2)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), STOP_TIMEOUT / 2)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        with self._lock:
            self._connections += 1
        if len(self._tasks) >= MAX_CONNECTIONS:
            writer.close()
            return
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (_Refused, OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client or the target went away, or went quiet: close its connection
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    def _recorder(self, method: str, target: str, *, sent: bool, valid: bool) -> _RecordFn:
        """The callback that files the record of this request, once its outcome is known."""

        def record(status: int, relayed: bool) -> None:
            with self._lock:
                self._records.append(ProxyRecord(method, target, status, relayed, sent, valid))

        return record

    def _credentials(self, head: _Head) -> tuple[bool, bool]:
        """(sent, valid) for the request's Proxy-Authorization."""
        values = [value for key, value in head.headers if key.lower() == b"proxy-authorization"]
        if not values:
            return False, False
        if self._expected is None or len(values) != 1:
            return True, False
        scheme, _, token = values[0].partition(b" ")
        try:
            decoded = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return True, False
        canonical = scheme.lower() + b" " + base64.b64encode(decoded)
        return True, hmac.compare_digest(canonical, self._expected)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: tuple[str, int, asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            for _ in range(100_000):  # requests on one keep-alive connection
                try:
                    head = await _read_head(reader, idle=IDLE_TIMEOUT)
                except _Refused as refused:
                    await self._refuse(writer, refused)
                    return
                if head is None:
                    return
                parts = head.start.split(" ")
                if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                    await self._refuse(writer, _Refused(400, "Bad Request", "not an HTTP/1.x request line"))
                    return
                method, target, version = parts
                sent, valid = self._credentials(head)
                record = self._recorder(method, target, sent=sent, valid=valid)

                try:
                    if self.auth is not None and not valid:
                        raise _Refused(
                            407,
                            "Proxy Authentication Required",
                            "this proxy wants Proxy-Authorization: Basic credentials",
                            (("Proxy-Authenticate", 'Basic realm="forward-proxy"'),),
                        )
                    if method == "CONNECT":
                        host, port = _split_authority(target)
                        self._check_loopback(host, target)
                    else:
                        url = urlsplit(target)
                        if url.scheme.lower() != "http" or not url.netloc:
                            raise _Refused(
                                400,
                                "Bad Request",
                                f"not an absolute http:// proxy request target: {target!r}",
                            )
                        host, port = _host_port(url.netloc)
                        self._check_loopback(host, target)
                except _Refused as refused:
                    record(refused.status, relayed=False)
                    if method != "CONNECT":
                        # Read the body first, so closing does not reset the answer away.
                        with contextlib.suppress(_Refused):
                            await _relay_body(head, reader, None, until_eof=False)
                    await self._refuse(writer, refused)
                    return

                if method == "CONNECT":
                    if upstream is not None:
                        upstream[3].close()
                        upstream = None
                    await self._tunnel(reader, writer, host, port, record)
                    return

                if upstream is not None and (upstream[0], upstream[1]) != (host, port):
                    upstream[3].close()
                    upstream = None
                if upstream is None:
                    try:
                        up_reader, up_writer = await self._open(host, port)
                    except _Refused as refused:
                        record(refused.status, relayed=False)
                        with contextlib.suppress(_Refused):
                            await _relay_body(head, reader, None, until_eof=False)
                        await self._refuse(writer, refused)
                        return
                    upstream = (host, port, up_reader, up_writer)
                _, _, up_reader, up_writer = upstream
                origin = url.path or "/"
                if url.query:
                    origin += "?" + url.query
                headers = head.forwarded_headers()
                if (head.get(b"expect") or b"").lower() == b"100-continue":
                    # Answer it here: the target sees no Expect, so the body follows the head at once.
                    headers = [(key, value) for key, value in headers if key.lower() != b"expect"]
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    await writer.drain()
                if not any(key.lower() == b"host" for key, _ in headers):
                    headers.insert(0, (b"Host", url.netloc.encode("latin-1")))
                headers.append((b"Via", b"1.1 forward-proxy"))
                up_writer.write(_encode_head(f"{method} {origin} {version}", headers))
                await _relay_body(head, reader, up_writer, until_eof=False)
                await up_writer.drain()

                keep_upstream, keep_client = await self._relay_answer(method, up_reader, writer, record)
                if not keep_upstream:
                    up_writer.close()
                    upstream = None
                if not keep_client or b"close" in head.connection_tokens() or version == "HTTP/1.0":
                    return
        finally:
            if upstream is not None:
                upstream[3].close()

    async def _relay_answer(
        self,
        method: str,
        up_reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        record: _RecordFn,
    ) -> tuple[bool, bool]:
        """Relay the target's answer; whether the target's connection, and the client's, can be reused.

        The client's cannot when no answer came (a 502 was sent) or the answer's body ran to EOF.
        """
        for _ in range(MAX_INTERIM_ANSWERS + 1):
            try:
                answer = await _read_head(up_reader, idle=IDLE_TIMEOUT)
            except (_Refused, asyncio.IncompleteReadError, OSError, TimeoutError):
                answer = None
            if answer is None:
                record(0, relayed=True)
                await self._refuse(
                    writer, _Refused(502, "Bad Gateway", "the target closed without an answer")
                )
                return False, False
            parts = answer.start.split(" ", 2)
            try:
                status = int(parts[1])
            except (IndexError, ValueError):
                record(0, relayed=True)
                await self._refuse(writer, _Refused(502, "Bad Gateway", "the target's answer is not HTTP"))
                return False, False
            if 100 <= status < 200 and status != 101:
                writer.write(_encode_head(answer.start, answer.forwarded_headers()))
                await writer.drain()
                continue
            break
        else:
            record(0, relayed=True)
            await self._refuse(writer, _Refused(502, "Bad Gateway", "too many interim answers"))
            return False, False
        record(status, relayed=True)
        no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
        framed = (
            no_body
            or answer.get(b"content-length") is not None
            or answer.get(b"transfer-encoding") is not None
        )
        keep = framed and b"close" not in answer.connection_tokens() and parts[0] == "HTTP/1.1"
        headers = answer.forwarded_headers()
        if not framed:
            headers.append((b"Connection", b"close"))
        writer.write(_encode_head(answer.start, headers))
        if not no_body:
            await _relay_body(answer, up_reader, writer, until_eof=not framed)
        await writer.drain()
        return keep, framed

    def _check_loopback(self, host: str, target: str) -> None:
        if not _is_loopback(host):
            raise _Refused(
                403, "Forbidden", f"this test proxy relays only to loopback addresses, not to {target!r}"
            )

    async def _open(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect to a loopback target (``localhost`` through its loopback addresses only)."""
        if _is_loopback(host) and host.lower().rstrip(".") != "localhost":
            addresses = [host]
        else:
            loop = asyncio.get_running_loop()
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), CONNECT_TIMEOUT
            )
            addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
            addresses = [address for address in addresses if _is_loopback(address)]
        failure: BaseException | None = None
        for address in addresses[:4]:
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection(address, port, limit=MAX_HEADER_BYTES), CONNECT_TIMEOUT
                )
            except TimeoutError as exc:
                failure = exc
            except OSError as exc:
                failure = exc
        if isinstance(failure, TimeoutError):
            raise _Refused(504, "Gateway Timeout", f"connecting to {host}:{port} timed out")
        raise _Refused(502, "Bad Gateway", f"could not connect to {host}:{port}: {failure}")

    async def _tunnel(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        host: str,
        port: int,
        record: _RecordFn,
    ) -> None:
        try:
            up_reader, up_writer = await self._open(host, port)
        except _Refused as refused:
            record(refused.status, relayed=False)
            await self._refuse(writer, refused)
            return
        record(200, relayed=True)
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, TimeoutError):
                while data := await asyncio.wait_for(source.read(RELAY_CHUNK), IDLE_TIMEOUT):
                    sink.write(data)
                    await sink.drain()
                if sink.can_write_eof():
                    sink.write_eof()

        try:
            pumps = [
                asyncio.create_task(pump(reader, up_writer)),
                asyncio.create_task(pump(up_reader, writer)),
            ]
            try:
                # Until both directions end (each bounded by IDLE_TIMEOUT per read), or stop() cancels.
                await asyncio.gather(*pumps)
            finally:
                for task in pumps:
                    task.cancel()
                await asyncio.wait(pumps, timeout=1.0)
        finally:
            up_writer.close()

    async def _refuse(self, writer: asyncio.StreamWriter, refused: _Refused) -> None:
        body = (refused.detail + "\n").encode()
        headers = [
            (b"Content-Type", b"text/plain; charset=utf-8"),
            (b"Content-Length", str(len(body)).encode()),
            (b"Connection", b"close"),
        ]
        headers.extend((key.encode(), value.encode()) for key, value in refused.headers)
        with contextlib.suppress(OSError):
            writer.write(_encode_head(f"HTTP/1.1 {refused.status} {refused.reason}", headers) + body)
            await writer.drain()


@pytest.fixture
def forward_proxy() -> Iterator[ForwardProxy]:
    """A started ForwardProxy without authentication, stopped after the test."""
    with ForwardProxy() as proxy:
        yield proxy
