"""The sync client's urllib3 transport: the SDK's own mapping of urllib3's failures, and its wire.

As for the async transport (test_aio.py), the reliability tests already run ``ChalkClient`` on this
path against ChalkServer's faults. Here: each kind of urllib3 failure maps to the httpx error the
retry rules read, answers no ChalkServer fault gives come from a raw socket server on 127.0.0.1,
streamed bodies arrive in chunks, and the default client really sends through urllib3.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    EmptyPoolError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from chalk_client import ChalkAPIStatusError, ChalkClient, ChalkConnectionError, ChalkTimeoutError
from chalk_client._core.network import ProxyPlan
from chalk_client._core.retry import never_sent
from chalk_client._io.urllib3_transport import Urllib3Session, Urllib3Transport, transport_failure
from chalk_client.testing import ChalkServer
from tests.conftest import seed_token

URL = "http://127.0.0.1:9/v1/query/online"


def _new_connection_error() -> NewConnectionError:
    conn = urllib3.connection.HTTPConnection("127.0.0.1", 9)
    error = NewConnectionError(conn, "Failed to establish a new connection: [Errno 111] Connection refused")
    error.__context__ = ConnectionRefusedError(111, "Connection refused")
    return error


@pytest.mark.parametrize(
    ("failure", "expected", "sent"),
    [
        (_new_connection_error(), httpx.ConnectError, False),
        (ConnectTimeoutError("connect timed out"), httpx.ConnectTimeout, False),
        (EmptyPoolError(None, "no connection"), httpx.PoolTimeout, False),  # type: ignore[arg-type]
        (ReadTimeoutError(None, URL, "read timed out"), httpx.ReadTimeout, True),  # type: ignore[arg-type]
        (
            ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed")),
            httpx.RemoteProtocolError,
            True,
        ),
        (ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")), httpx.ReadError, True),
        (http.client.BadStatusLine("garbage"), httpx.RemoteProtocolError, True),
        (ConnectionResetError(104, "Connection reset by peer"), httpx.ReadError, True),
    ],
    ids=[
        "refused",
        "connect-timeout",
        "pool",
        "read-timeout",
        "disconnected",
        "reset",
        "not-http",
        "os-error",
    ],
)
def test_each_urllib3_failure_maps_to_the_httpx_error_the_retry_rules_read(
    failure: BaseException, expected: type[httpx.TransportError], sent: bool
) -> None:
    mapped = transport_failure(failure, "POST", URL + "?signature=secret")
    assert type(mapped) is expected
    assert never_sent(mapped) is not sent
    assert "signature" not in str(mapped)


def test_a_connect_failure_is_never_sent_so_even_an_upload_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    with (
        ChalkClient(
            client_id="id",
            client_secret="s",
            api_server=f"http://127.0.0.1:{port}",
            sleep=sleeps.append,
            rand=lambda: 0.0,
            token_retries=1,
        ) as client,
        pytest.raises(ChalkConnectionError) as caught,
    ):
        client.whoami()
    assert "could not connect" in str(caught.value)
    assert caught.value.attempts == 2  # the exchange's two attempts
    assert sleeps == [0.5]


class RawServer:
    """Answers every request on 127.0.0.1 with `reply` (or nothing) and counts the requests."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.requests = 0
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(5)
                try:
                    while True:
                        length = 0
                        line = self.rfile.readline()
                        if not line:
                            return
                        while line not in (b"\r\n", b""):
                            if line.lower().startswith(b"content-length:"):
                                length = int(line.split(b":", 1)[1])
                            line = self.rfile.readline()
                        self.rfile.read(length)
                        outer.requests += 1
                        if not outer.reply:
                            self.rfile.read(1)  # never answers; the client's read timeout ends it
                            return
                        self.wfile.write(outer.reply)
                        self.wfile.flush()
                except OSError:
                    return

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def cached_client() -> Iterator[Callable[..., ChalkClient]]:
    """A ChalkClient whose token is already cached, pointed at a raw server."""
    made: list[ChalkClient] = []

    def make(url: str, **extra: Any) -> ChalkClient:
        client = ChalkClient(
            client_id="id",
            client_secret="secret",
            api_server=url,
            query_server=url,
            sleep=lambda s: None,
            **extra,
        )
        seed_token(client)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def test_an_answer_that_is_not_http_is_a_connection_error_and_an_upload_is_sent_once(
    cached_client: Callable[..., ChalkClient],
) -> None:
    with RawServer(b"NOT HTTP AT ALL\r\n\r\n") as server:
        client = cached_client(server.url)
        with pytest.raises(ChalkConnectionError) as upload:
            client.upload_features({"user.id": 1, "user.name": "x"})
        with pytest.raises(ChalkConnectionError) as query:
            client.query({"user.id": 1}, ["user.name"])
    assert "may or may not have reached the server" in str(upload.value)
    assert upload.value.attempts == 1
    assert query.value.attempts == 3
    assert server.requests == 4


def test_redirects_are_never_followed(cached_client: Callable[..., ChalkClient]) -> None:
    reply = b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\n\r\n"
    with RawServer(reply) as server, pytest.raises(ChalkAPIStatusError) as caught:
        cached_client(server.url).whoami()
    assert caught.value.status_code == 302
    assert "not followed" in str(caught.value)
    assert server.requests == 1


def test_a_read_timeout_is_a_timeout_error(cached_client: Callable[..., ChalkClient]) -> None:
    with RawServer(b"") as server:
        client = cached_client(server.url, timeout=httpx.Timeout(5.0, read=0.1), max_retries=0)
        with pytest.raises(ChalkTimeoutError) as caught:
            client.whoami()
    assert "read timeout" in str(caught.value)
    assert server.requests == 1


def test_a_streamed_body_arrives_in_chunks_and_content_encoding_is_decoded_once() -> None:
    import gzip
    import random

    payload = random.Random(11).randbytes(300 * 1024)
    packed = gzip.compress(payload)
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
        + str(len(packed)).encode()
        + b"\r\n\r\n"
        + packed
    )
    session = Urllib3Session(
        httpx.Limits(max_connections=4), ssl=ssl.create_default_context(), proxies=ProxyPlan()
    )
    with RawServer(reply) as server, httpx.Client(transport=Urllib3Transport(session)) as http:
        sizes = []
        with http.stream("GET", server.url + "/file") as response:
            sizes = [len(chunk) for chunk in response.iter_raw()]
        whole = http.get(server.url + "/again").content
        direct = session.send("GET", server.url + "/direct", {}, None, httpx.Timeout(5.0))
    assert sum(sizes) == len(packed)
    assert len(sizes) > 1
    assert whole == payload
    assert direct.content == payload  # the direct path decodes too
    assert direct.headers["content-encoding"] == "gzip"


def test_the_sync_client_sends_through_urllib3_by_default() -> None:
    with (
        ChalkServer() as server,
        ChalkClient(
            client_id=server.client_id, client_secret=server.client_secret, api_server=server.url
        ) as client,
    ):
        assert client.query({"user.id": 1}, ["user.name"]).get_value("user.name") == "Ada Lovelace"
        assert client._driver.engine.session is not None
        assert client._driver.api.session is not None
