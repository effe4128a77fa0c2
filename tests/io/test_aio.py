"""The async client's aiohttp transport: the SDK's own mapping of aiohttp's failures, and its wire.

The reliability tests (test_reliability.py) already run the async client on this path against
ChalkServer's faults (drops before, mid-body and after store, delays, 429, malformed answers). Here:
each kind of aiohttp failure maps to the httpx error the retry rules read; answers no ChalkServer
fault can give (not HTTP at all, a redirect) come from a raw socket server on 127.0.0.1; streamed
bodies arrive in chunks; and aiohttp is imported only once an async client sends.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import httpx
import pytest

from chalk_client import (
    AsyncChalkClient,
    ChalkAPIStatusError,
    ChalkConnectionError,
    ChalkTimeoutError,
)
from chalk_client._core.network import ProxyPlan
from chalk_client._core.retry import never_sent
from chalk_client._io.aiohttp_transport import AiohttpTransport, AioSession, transport_failure
from chalk_client.testing import ChalkServer
from tests.conftest import seed_token

URL = "http://127.0.0.1:9/v1/query/online"


@pytest.mark.parametrize(
    ("failure", "expected", "sent"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout, False),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout, True),
        (TimeoutError(), httpx.ReadTimeout, True),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError, True),
        (aiohttp.ClientPayloadError("Response payload is not completed"), httpx.RemoteProtocolError, True),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), httpx.ReadError, True),
        (ConnectionResetError(104, "Connection reset by peer"), httpx.ReadError, True),
        (aiohttp.ClientConnectionError("closed"), httpx.RemoteProtocolError, True),
    ],
    ids=[
        "connect-timeout",
        "read-timeout",
        "timeout",
        "disconnected",
        "payload",
        "os-error",
        "reset",
        "other",
    ],
)
def test_each_aiohttp_failure_maps_to_the_httpx_error_the_retry_rules_read(
    failure: BaseException, expected: type[httpx.TransportError], sent: bool
) -> None:
    mapped = transport_failure(failure, "POST", URL + "?signature=secret")
    assert type(mapped) is expected
    # Only a failure to connect proves nothing was sent: an upload is retried only then.
    assert never_sent(mapped) is not sent
    assert "signature" not in str(mapped)
    assert mapped.request.method == "POST"


def test_a_connect_failure_is_never_sent_so_even_an_upload_is_retried() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def main() -> BaseException:
        client = AsyncChalkClient(
            client_id="id",
            client_secret="secret",
            api_server=f"http://127.0.0.1:{port}",
            sleep=sleep,
            rand=lambda: 0.0,
            token_retries=0,
        )
        with pytest.raises(ChalkConnectionError) as caught:
            await client.whoami()
        await client.aclose()
        return caught.value

    error = asyncio.run(main())
    assert "could not connect" in str(error)
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert isinstance(error.__cause__.__cause__, aiohttp.ClientConnectorError)


# -- a raw server, for answers ChalkServer never gives ---------------------------------------------


class RawServer:
    """Answers every request on 127.0.0.1 with `reply` (bytes) and counts the requests."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.requests = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    await reader.readexactly(length)
                    self.requests += 1
                    writer.write(self.reply)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
                pass
            finally:
                writer.close()

        self._server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


def run_raw(reply: bytes, body: Callable[[str], Awaitable[Any]]) -> tuple[Any, int]:
    async def main() -> tuple[Any, int]:
        server = RawServer(reply)
        url = await server.start()
        try:
            return await asyncio.wait_for(body(url), 10), server.requests
        finally:
            await server.stop()

    return asyncio.run(main())


@pytest.fixture
def token_for() -> Iterator[Callable[[str], AsyncChalkClient]]:
    """A client whose token is already cached, pointed at a raw server (no exchange goes there)."""
    made: list[AsyncChalkClient] = []

    def make(url: str, **extra: Any) -> AsyncChalkClient:
        async def sleep(seconds: float) -> None:
            return None

        client = AsyncChalkClient(
            client_id="id", client_secret="secret", api_server=url, query_server=url, sleep=sleep, **extra
        )
        seed_token(client)
        made.append(client)
        return client

    return make


def test_an_answer_that_is_not_http_is_a_connection_error_and_an_upload_is_sent_once(
    token_for: Callable[..., AsyncChalkClient],
) -> None:
    async def body(url: str) -> tuple[BaseException, BaseException]:
        client = token_for(url)
        with pytest.raises(ChalkConnectionError) as upload:
            await client.upload_features({"user.id": 1, "user.name": "x"})
        with pytest.raises(ChalkConnectionError) as query:
            await client.query({"user.id": 1}, ["user.name"])
        await client.aclose()
        return upload.value, query.value

    (upload, query), requests = run_raw(b"NOT HTTP AT ALL\r\n\r\n", body)
    assert "may or may not have reached the server" in str(upload)
    assert upload.attempts == 1
    assert query.attempts == 3  # a query is safe to repeat: 1 + max_retries
    assert requests == 4
    assert isinstance(upload.__cause__, httpx.RemoteProtocolError)


def test_redirects_are_never_followed(token_for: Callable[..., AsyncChalkClient]) -> None:
    reply = b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\n\r\n"

    async def body(url: str) -> BaseException:
        client = token_for(url)
        with pytest.raises(ChalkAPIStatusError) as caught:
            await client.whoami()
        await client.aclose()
        return caught.value

    error, requests = run_raw(reply, body)
    assert error.status_code == 302
    assert "not followed" in str(error)
    assert requests == 1


def test_a_read_timeout_is_a_timeout_error(token_for: Callable[..., AsyncChalkClient]) -> None:
    async def body(url: str) -> BaseException:
        client = token_for(url, timeout=httpx.Timeout(5.0, read=0.1), max_retries=0)
        with pytest.raises(ChalkTimeoutError) as caught:
            await client.whoami()
        await client.aclose()
        return caught.value

    error, requests = run_raw(b"", body)  # reads the request, never answers
    assert "read timeout" in str(error)
    assert requests == 1


def test_a_streamed_body_arrives_in_chunks_and_content_encoding_is_decoded_once() -> None:
    import gzip
    import random

    payload = random.Random(11).randbytes(300 * 1024)  # incompressible: 300 KiB on the wire too
    packed = gzip.compress(payload)
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
        + str(len(packed)).encode()
        + b"\r\n\r\n"
        + packed
    )

    async def body(url: str) -> tuple[list[int], bytes]:
        aio = AioSession(
            httpx.Limits(max_connections=4), ssl=ssl.create_default_context(), proxies=ProxyPlan()
        )
        async with httpx.AsyncClient(transport=AiohttpTransport(aio)) as http:
            sizes = []
            async with http.stream("GET", url + "/file") as response:
                async for chunk in response.aiter_raw():
                    sizes.append(len(chunk))
            whole = (await http.get(url + "/again")).content
        return sizes, whole

    (sizes, whole), requests = run_raw(reply, body)
    assert sum(sizes) == len(packed)
    assert len(sizes) > 1
    assert whole == payload  # decoded by httpx, once
    assert requests == 2


def test_the_async_client_sends_through_aiohttp_by_default() -> None:
    with ChalkServer() as server:

        async def main() -> tuple[Any, Any]:
            client = AsyncChalkClient(
                client_id=server.client_id, client_secret=server.client_secret, api_server=server.url
            )
            result = await client.query({"user.id": 1}, ["user.name"])
            pool = await client._driver.engine.get()
            await client.aclose()
            return result, pool

        result, pool = asyncio.run(main())
    assert result.get_value("user.name") == "Ada Lovelace"
    assert pool.session is not None


def test_import_does_not_import_aiohttp_until_an_async_client_sends() -> None:
    code = (
        "import sys, asyncio\n"
        "import chalk_client\n"
        "assert 'aiohttp' not in sys.modules, 'imported by import chalk_client'\n"
        "client = chalk_client.AsyncChalkClient(client_id='i', client_secret='s')\n"
        "chalk_client.ChalkClient(client_id='i', client_secret='s').close()\n"
        "assert 'aiohttp' not in sys.modules, 'imported by making clients'\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
