"""The infrastructure for proxy and TLS tests: HTTPS ChalkServer, mTLS, and the loopback ForwardProxy.

Exercised with plain httpx and aiohttp (not the SDK's clients): a ChalkServer given certificates
serves TLS on both addresses and, asked to, requires a client certificate; the ForwardProxy relays
plain HTTP and CONNECT tunnels to loopback targets only, counts them, and checks credentials.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from chalk_client.testing import ChalkServer
from tests.forward_proxy import ForwardProxy, ProxyRecord
from tests.tls import TLSFiles, make_tls_files, ssl_context_from

TOKEN_PATH = "/v1/oauth/token"
TIMEOUT = httpx.Timeout(10.0)
AIO_TIMEOUT = aiohttp.ClientTimeout(total=10.0)
# TEST-NET-1 (RFC 5737): documentation only, routed nowhere; the proxy must refuse it unseen.
OFF_MACHINE = "192.0.2.1"


def credentials(server: ChalkServer) -> dict[str, str]:
    return {
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "grant_type": "client_credentials",
    }


def exchange(http: httpx.Client, server: ChalkServer) -> httpx.Response:
    return http.post(server.url + TOKEN_PATH, json=credentials(server))


def verify_failed(error: BaseException) -> bool:
    return "CERTIFICATE_VERIFY_FAILED" in repr(error) or "certificate verify failed" in str(error)


@pytest.fixture
def server() -> Iterator[ChalkServer]:
    with ChalkServer() as running:
        yield running


@pytest.fixture
def auth_proxy() -> Iterator[ForwardProxy]:
    with ForwardProxy(auth=("proxy-user", "proxy-pass")) as proxy:
        yield proxy


def auth_url(proxy: ForwardProxy, user: str = "proxy-user", password: str = "proxy-pass") -> str:
    return proxy.url.replace("http://", f"http://{user}:{password}@")


# -- tls.py ------------------------------------------------------------------------------------


def test_make_tls_files_writes_pem_files_that_load(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path / "certs")
    names = {path.name for path in (tmp_path / "certs").iterdir()}
    assert {"ca.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem"} <= names
    for path in (files.ca, files.other_ca):
        assert path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(files.server_cert, files.server_key)
    server_side.load_cert_chain(files.server_combined)
    ssl_context_from(files.ca, files.client_cert, files.client_key)
    ssl_context_from(files.ca, files.client_combined)
    ssl_context_from(files.other_ca, files.stranger_cert, files.stranger_key)


# -- HTTPS ChalkServer -------------------------------------------------------------------------


def test_https_server_answers_the_token_exchange_over_tls(
    https_server: ChalkServer, tls_files: TLSFiles
) -> None:
    assert https_server.tls
    assert not https_server.requires_client_cert
    assert https_server.url.startswith("https://127.0.0.1:")
    assert https_server.engine_url.startswith("https://127.0.0.1:")
    assert "https://" in repr(https_server)
    with httpx.Client(verify=ssl_context_from(tls_files.ca), timeout=TIMEOUT) as http:
        response = exchange(http, https_server)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["api_server"] == https_server.url
        assert body["engines"] == dict.fromkeys(body["environment_id_to_name"], https_server.engine_url)
        assert response.extensions["network_stream"].get_extra_info("ssl_object") is not None

        # The engine address serves TLS too: an online query there, with the token.
        query = http.post(
            https_server.engine_url + "/v1/query/online",
            json={"inputs": {"user.id": 1}, "outputs": ["user.name"]},
            headers={"Authorization": f"Bearer {body['access_token']}"},
        )
        assert query.status_code == 200, query.text
        assert query.json()["data"][0]["value"] == "Ada Lovelace"
    assert [(record.served_by, record.path) for record in https_server.requests] == [
        ("api", TOKEN_PATH),
        ("engine", "/v1/query/online"),
    ]


def test_https_server_also_answers_to_localhost(https_server: ChalkServer, tls_files: TLSFiles) -> None:
    url = https_server.url.replace("127.0.0.1", "localhost") + TOKEN_PATH
    with httpx.Client(verify=ssl_context_from(tls_files.ca), timeout=TIMEOUT) as http:
        try:
            response = http.post(url, json=credentials(https_server))
        except httpx.ConnectError as exc:  # localhost resolves to ::1 only here: nothing to test
            pytest.skip(f"localhost does not reach 127.0.0.1: {exc}")
    assert response.status_code == 200


@pytest.mark.parametrize("trust", ["system", "other-ca"])
def test_https_server_fails_verification_without_its_ca(
    https_server: ChalkServer, tls_files: TLSFiles, trust: str
) -> None:
    verify = ssl_context_from(None if trust == "system" else tls_files.other_ca)
    with httpx.Client(verify=verify, timeout=TIMEOUT) as http, pytest.raises(httpx.ConnectError) as raised:
        exchange(http, https_server)
    assert verify_failed(raised.value), raised.value
    assert https_server.token_requests == 0


def test_plain_http_to_the_https_server_gets_no_answer(https_server: ChalkServer) -> None:
    with httpx.Client(timeout=TIMEOUT) as http, pytest.raises(httpx.TransportError):
        http.post(https_server.url.replace("https://", "http://") + TOKEN_PATH, json={})


def test_https_server_with_a_combined_certificate_file(tls_files: TLSFiles) -> None:
    with (
        ChalkServer(ssl_certfile=tls_files.server_combined) as server,
        httpx.Client(verify=ssl_context_from(tls_files.ca), timeout=TIMEOUT) as http,
    ):
        assert exchange(http, server).status_code == 200


def test_faults_work_over_tls(https_server: ChalkServer, tls_files: TLSFiles) -> None:
    https_server.faults.fail_next(TOKEN_PATH, status=503)
    https_server.faults.drop(TOKEN_PATH)
    with httpx.Client(verify=ssl_context_from(tls_files.ca), timeout=TIMEOUT) as http:
        assert exchange(http, https_server).status_code == 503
        with pytest.raises(httpx.TransportError):
            exchange(http, https_server)
        assert exchange(http, https_server).status_code == 200


def test_https_server_restarts_with_tls(tls_files: TLSFiles) -> None:
    server = ChalkServer(**tls_files.server_kwargs())
    for _ in range(2):
        with server, httpx.Client(verify=ssl_context_from(tls_files.ca), timeout=TIMEOUT) as http:
            assert server.url.startswith("https://")
            assert exchange(http, server).status_code == 200
    assert server.token_exchanges == 2


def test_aiohttp_verifies_the_https_server(https_server: ChalkServer, tls_files: TLSFiles) -> None:
    async def main() -> tuple[int, str]:
        async with aiohttp.ClientSession(timeout=AIO_TIMEOUT) as session:
            async with session.post(
                https_server.url + TOKEN_PATH,
                json=credentials(https_server),
                ssl=ssl_context_from(tls_files.ca),
            ) as response:
                status, body = response.status, await response.json()
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await session.post(https_server.url + TOKEN_PATH, json=credentials(https_server))
            return status, body["api_server"]

    assert asyncio.run(main()) == (200, https_server.url)


def test_plain_server_is_unchanged(server: ChalkServer) -> None:
    assert not server.tls
    assert not server.requires_client_cert
    assert server.url.startswith("http://127.0.0.1:")
    assert server.engine_url.startswith("http://127.0.0.1:")


# -- mTLS --------------------------------------------------------------------------------------


def test_mtls_server_accepts_a_client_certificate_signed_by_its_ca(
    mtls_server: ChalkServer, tls_files: TLSFiles
) -> None:
    assert mtls_server.requires_client_cert
    for verify in (
        ssl_context_from(tls_files.ca, tls_files.client_cert, tls_files.client_key),
        ssl_context_from(tls_files.ca, tls_files.client_combined),
    ):
        with httpx.Client(verify=verify, timeout=TIMEOUT) as http:
            assert exchange(http, mtls_server).status_code == 200
    assert mtls_server.token_exchanges == 2


@pytest.mark.parametrize("client_cert", ["none", "stranger"])
def test_mtls_server_refuses_a_client_without_a_certificate_it_trusts(
    mtls_server: ChalkServer, tls_files: TLSFiles, client_cert: str
) -> None:
    if client_cert == "none":
        verify = ssl_context_from(tls_files.ca)
    else:
        verify = ssl_context_from(tls_files.ca, tls_files.stranger_cert, tls_files.stranger_key)
    with httpx.Client(verify=verify, timeout=TIMEOUT) as http, pytest.raises(httpx.TransportError):
        exchange(http, mtls_server)
    assert mtls_server.token_requests == 0


def test_mtls_with_aiohttp(mtls_server: ChalkServer, tls_files: TLSFiles) -> None:
    with_cert = ssl_context_from(tls_files.ca, tls_files.client_cert, tls_files.client_key)

    async def main() -> int:
        async with aiohttp.ClientSession(timeout=AIO_TIMEOUT) as session:
            async with session.post(
                mtls_server.url + TOKEN_PATH, json=credentials(mtls_server), ssl=with_cert
            ) as response:
                status = response.status
            with pytest.raises(aiohttp.ClientError):
                async with session.post(
                    mtls_server.url + TOKEN_PATH,
                    json=credentials(mtls_server),
                    ssl=ssl_context_from(tls_files.ca),
                ) as refused:
                    await refused.read()
            return status

    assert asyncio.run(main()) == 200
    assert mtls_server.token_exchanges == 1


def test_ca_certs_alone_make_a_client_certificate_optional_but_checked(tls_files: TLSFiles) -> None:
    with ChalkServer(
        ssl_certfile=tls_files.server_cert, ssl_keyfile=tls_files.server_key, ssl_ca_certs=tls_files.ca
    ) as server:
        assert not server.requires_client_cert
        for verify in (
            ssl_context_from(tls_files.ca),
            ssl_context_from(tls_files.ca, tls_files.client_cert, tls_files.client_key),
        ):
            with httpx.Client(verify=verify, timeout=TIMEOUT) as http:
                assert exchange(http, server).status_code == 200
        stranger = ssl_context_from(tls_files.ca, tls_files.stranger_cert, tls_files.stranger_key)
        with httpx.Client(verify=stranger, timeout=TIMEOUT) as http, pytest.raises(httpx.TransportError):
            exchange(http, server)


# -- argument checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ssl_keyfile": "server-key.pem"}, "ssl_keyfile needs ssl_certfile"),
        ({"ssl_ca_certs": "ca.pem"}, "ssl_ca_certs needs ssl_certfile"),
        ({"ssl_require_client_cert": True}, "ssl_require_client_cert needs ssl_certfile"),
        ({"ssl_certfile": "server.pem", "ssl_require_client_cert": True}, "needs ssl_ca_certs"),
        ({"ssl_certfile": "server.pem", "ssl_require_client_cert": "yes"}, "must be a bool"),
        ({"ssl_certfile": 42}, "ssl_certfile must be a path"),
        ({"ssl_certfile": ""}, "ssl_certfile must not be empty"),
    ],
)
def test_inconsistent_tls_arguments_are_value_errors(
    tls_files: TLSFiles, monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any], message: str
) -> None:
    monkeypatch.chdir(tls_files.directory)  # the relative names exist: only the combination is wrong
    with pytest.raises(ValueError, match=message):
        ChalkServer(**kwargs)


@pytest.mark.parametrize("argument", ["ssl_certfile", "ssl_keyfile", "ssl_ca_certs"])
def test_a_missing_tls_file_is_a_value_error_naming_it(
    tls_files: TLSFiles, tmp_path: Path, argument: str
) -> None:
    kwargs: dict[str, Any] = {
        "ssl_certfile": tls_files.server_cert,
        "ssl_keyfile": tls_files.server_key,
        "ssl_ca_certs": tls_files.ca,
    }
    missing = tmp_path / "no-such-file.pem"
    kwargs[argument] = missing
    with pytest.raises(ValueError, match=f"{argument}: .*no-such-file.pem does not exist"):
        ChalkServer(**kwargs)
    kwargs[argument] = tmp_path
    with pytest.raises(ValueError, match=f"{argument}: .* is not a file"):
        ChalkServer(**kwargs)


def test_a_tls_file_that_does_not_load_is_a_value_error(tls_files: TLSFiles, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"could not load a certificate and key from .*ca\.pem"):
        ChalkServer(ssl_certfile=tls_files.ca)
    with pytest.raises(ValueError, match="could not load a certificate and key"):
        ChalkServer(ssl_certfile=tls_files.server_cert, ssl_keyfile=tls_files.client_key)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ValueError, match=r"ssl_ca_certs=.*garbage\.pem"):
        ChalkServer(ssl_certfile=tls_files.server_combined, ssl_ca_certs=garbage)


# -- the forward proxy: plain HTTP -------------------------------------------------------------


def test_proxy_relays_plain_http_and_counts_it(forward_proxy: ForwardProxy, server: ChalkServer) -> None:
    assert forward_proxy.url.startswith("http://127.0.0.1:")
    with httpx.Client(proxy=forward_proxy.url, timeout=TIMEOUT) as http:
        for _ in range(3):
            response = exchange(http, server)
            assert response.status_code == 200, response.text
        missing = http.get(server.url + "/nope?x=1")
        assert missing.status_code == 404
    target = server.url + TOKEN_PATH
    assert forward_proxy.requests == [("POST", target)] * 3 + [("GET", server.url + "/nope?x=1")]
    assert forward_proxy.connections == 1  # keep-alive, client side
    assert [(record.status, record.relayed) for record in forward_proxy.records] == [(200, True)] * 3 + [
        (404, True)
    ]
    assert server.token_exchanges == 3
    seen = server.requests
    assert [record.path for record in seen] == [TOKEN_PATH] * 3 + ["/nope"]
    assert all(record.headers.get("via") == "1.1 forward-proxy" for record in seen)
    forward_proxy.clear()
    assert forward_proxy.requests == []
    assert forward_proxy.connections == 0


def test_proxy_relays_to_localhost(forward_proxy: ForwardProxy, server: ChalkServer) -> None:
    url = server.url.replace("127.0.0.1", "localhost") + TOKEN_PATH
    with httpx.Client(proxy=forward_proxy.url, timeout=TIMEOUT) as http:
        response = http.post(url, json=credentials(server))
    if response.status_code == 502:  # localhost resolves to ::1 only here
        pytest.skip("localhost does not reach 127.0.0.1")
    assert response.status_code == 200
    assert forward_proxy.requests == [("POST", url)]


def test_plain_http_without_a_proxy_does_not_reach_it(
    forward_proxy: ForwardProxy, server: ChalkServer
) -> None:
    with httpx.Client(timeout=TIMEOUT) as http:
        assert exchange(http, server).status_code == 200
    assert forward_proxy.requests == []
    assert forward_proxy.connections == 0


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """Answers with the request's body, chunked (``/chunked``), with Content-Length, or to EOF (``/eof``)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            for _ in range(10_000):
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
            framing = "chunked"
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            framing = "length"
        self.send_response(200)
        self.send_header("X-Request-Framing", framing)
        self.send_header("X-Via", self.headers.get("Via", ""))
        self.send_header("X-Proxy-Authorization", self.headers.get("Proxy-Authorization", ""))
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (body[: len(body) // 2], body[len(body) // 2 :]):
                if part:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        elif self.path == "/eof":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture
def echo_server() -> Iterator[str]:
    """A stdlib HTTP/1.1 server on 127.0.0.1 that echoes request bodies; yields its URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)
        assert not thread.is_alive()


def test_proxy_relays_chunked_bodies_both_ways(forward_proxy: ForwardProxy, echo_server: str) -> None:
    payload = b"x" * 100_000 + b"end"

    def parts() -> Iterator[bytes]:
        for start in range(0, len(payload), 7_000):
            yield payload[start : start + 7_000]

    with httpx.Client(proxy=forward_proxy.url, timeout=TIMEOUT) as http:
        chunked_both = http.post(echo_server + "/chunked", content=parts())
        assert chunked_both.status_code == 200
        assert chunked_both.headers["x-request-framing"] == "chunked"
        assert chunked_both.headers["transfer-encoding"] == "chunked"
        assert chunked_both.content == payload

        length_both = http.post(echo_server + "/length", content=payload)
        assert length_both.headers["x-request-framing"] == "length"
        assert length_both.headers["content-length"] == str(len(payload))
        assert length_both.content == payload
        assert length_both.headers["x-via"] == "1.1 forward-proxy"

        empty = http.post(echo_server + "/chunked", content=b"")
        assert empty.status_code == 200
        assert empty.content == b""
    assert forward_proxy.connections == 1
    assert len(forward_proxy.requests) == 3


def test_proxy_relays_an_answer_that_ends_with_the_connection(
    forward_proxy: ForwardProxy, echo_server: str
) -> None:
    with httpx.Client(proxy=forward_proxy.url, timeout=TIMEOUT) as http:
        for _ in range(2):
            response = http.post(echo_server + "/eof", content=b"to the end")
            assert response.content == b"to the end"
            assert response.headers["connection"] == "close"
    # Each answer ran to EOF, so the proxy closed the client's connection after it.
    assert forward_proxy.connections == 2


def test_proxy_with_aiohttp(forward_proxy: ForwardProxy, server: ChalkServer) -> None:
    async def main() -> list[int]:
        async with aiohttp.ClientSession(timeout=AIO_TIMEOUT) as session:
            statuses = []
            for _ in range(2):
                async with session.post(
                    server.url + TOKEN_PATH, json=credentials(server), proxy=forward_proxy.url
                ) as response:
                    await response.read()
                    statuses.append(response.status)
            return statuses

    assert asyncio.run(main()) == [200, 200]
    assert forward_proxy.requests == [("POST", server.url + TOKEN_PATH)] * 2


# -- the forward proxy: CONNECT ----------------------------------------------------------------


def test_proxy_tunnels_https_with_connect(
    forward_proxy: ForwardProxy, https_server: ChalkServer, tls_files: TLSFiles
) -> None:
    with httpx.Client(
        proxy=forward_proxy.url, verify=ssl_context_from(tls_files.ca), timeout=TIMEOUT
    ) as http:
        for _ in range(2):
            assert exchange(http, https_server).status_code == 200
    authority = https_server.url.removeprefix("https://")
    assert forward_proxy.requests == [("CONNECT", authority)]  # one tunnel, two requests in it
    assert https_server.token_exchanges == 2
    # Through the tunnel the server sees the client's own request: no Via from the proxy.
    assert all("via" not in record.headers for record in https_server.requests)


def test_proxy_tunnels_mtls(
    forward_proxy: ForwardProxy, mtls_server: ChalkServer, tls_files: TLSFiles
) -> None:
    verify = ssl_context_from(tls_files.ca, tls_files.client_cert, tls_files.client_key)
    with httpx.Client(proxy=forward_proxy.url, verify=verify, timeout=TIMEOUT) as http:
        assert exchange(http, mtls_server).status_code == 200
    assert forward_proxy.requests == [("CONNECT", mtls_server.url.removeprefix("https://"))]


def test_verification_still_fails_through_the_tunnel(
    forward_proxy: ForwardProxy, https_server: ChalkServer
) -> None:
    with (
        httpx.Client(proxy=forward_proxy.url, verify=ssl_context_from(None), timeout=TIMEOUT) as http,
        pytest.raises(httpx.ConnectError) as raised,
    ):
        exchange(http, https_server)
    assert verify_failed(raised.value), raised.value
    assert len(forward_proxy.requests) == 1


def test_connect_with_aiohttp(
    forward_proxy: ForwardProxy, https_server: ChalkServer, tls_files: TLSFiles
) -> None:
    async def main() -> int:
        async with (
            aiohttp.ClientSession(timeout=AIO_TIMEOUT) as session,
            session.post(
                https_server.url + TOKEN_PATH,
                json=credentials(https_server),
                proxy=forward_proxy.url,
                ssl=ssl_context_from(tls_files.ca),
            ) as response,
        ):
            await response.read()
            return response.status

    assert asyncio.run(main()) == 200
    assert forward_proxy.requests == [("CONNECT", https_server.url.removeprefix("https://"))]


def test_connect_to_a_closed_port_is_a_502(forward_proxy: ForwardProxy) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with (
            httpx.Client(proxy=forward_proxy.url, timeout=TIMEOUT) as http,
            pytest.raises(httpx.ProxyError, match="502"),
        ):
            http.get(f"https://127.0.0.1:{port}/")
    assert forward_proxy.requests == []
    assert [record.status for record in forward_proxy.records] == [502]


# -- the forward proxy: loopback only ----------------------------------------------------------


@pytest.fixture
def no_connections(forward_proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Records every connection the proxy would open (and opens none)."""
    attempts: list[tuple[str, int]] = []

    async def refuse(host: str, port: int) -> Any:
        attempts.append((host, port))
        raise AssertionError("the proxy tried to connect")

    monkeypatch.setattr(forward_proxy, "_open", refuse)
    return attempts


@pytest.mark.parametrize(
    "url", [f"http://{OFF_MACHINE}/v1/oauth/token", "http://example.com:8080/", "http://10.0.0.1/"]
)
def test_proxy_refuses_a_plain_request_off_the_machine_without_connecting(
    forward_proxy: ForwardProxy, no_connections: list[tuple[str, int]], url: str
) -> None:
    with httpx.Client(proxy=forward_proxy.url, timeout=TIMEOUT) as http:
        response = http.post(url, json={"a": 1})
    assert response.status_code == 403
    assert "only to loopback" in response.text
    assert no_connections == []
    assert forward_proxy.requests == []
    assert forward_proxy.records == [ProxyRecord("POST", url, 403, False, False, False)]


def test_proxy_refuses_a_tunnel_off_the_machine_without_connecting(
    forward_proxy: ForwardProxy, no_connections: list[tuple[str, int]]
) -> None:
    with (
        httpx.Client(proxy=forward_proxy.url, timeout=TIMEOUT) as http,
        pytest.raises(httpx.ProxyError, match="403"),
    ):
        http.get(f"https://{OFF_MACHINE}/")
    assert no_connections == []
    assert forward_proxy.requests == []
    assert forward_proxy.records == [ProxyRecord("CONNECT", f"{OFF_MACHINE}:443", 403, False, False, False)]


def test_proxy_refuses_a_request_that_is_not_a_proxy_request(
    forward_proxy: ForwardProxy, no_connections: list[tuple[str, int]]
) -> None:
    with httpx.Client(timeout=TIMEOUT) as http:  # straight to the proxy: origin form
        response = http.get(forward_proxy.url + "/v1/who-am-i")
    assert response.status_code == 400
    assert no_connections == []


# -- the forward proxy: authentication ---------------------------------------------------------


def test_proxy_wants_credentials_when_auth_is_on(auth_proxy: ForwardProxy, server: ChalkServer) -> None:
    with httpx.Client(proxy=auth_proxy.url, timeout=TIMEOUT) as http:
        response = exchange(http, server)
    assert response.status_code == 407
    assert response.headers["proxy-authenticate"] == 'Basic realm="forward-proxy"'
    assert auth_proxy.requests == []
    assert server.token_requests == 0
    (record,) = auth_proxy.records
    assert (record.status, record.sent_credentials, record.authorized) == (407, False, False)


def test_proxy_refuses_wrong_credentials(auth_proxy: ForwardProxy, server: ChalkServer) -> None:
    with httpx.Client(proxy=auth_url(auth_proxy, password="wrong"), timeout=TIMEOUT) as http:
        assert exchange(http, server).status_code == 407
    (record,) = auth_proxy.records
    assert (record.status, record.sent_credentials, record.authorized) == (407, True, False)


def test_proxy_relays_with_credentials_and_does_not_pass_them_on(
    auth_proxy: ForwardProxy, server: ChalkServer, echo_server: str
) -> None:
    with httpx.Client(proxy=auth_url(auth_proxy), timeout=TIMEOUT) as http:
        assert exchange(http, server).status_code == 200
        echoed = http.post(echo_server + "/length", content=b"hi")
    assert echoed.headers["x-proxy-authorization"] == ""
    assert all("proxy-authorization" not in record.headers for record in server.requests)
    assert auth_proxy.requests == [("POST", server.url + TOKEN_PATH), ("POST", echo_server + "/length")]
    assert all(record.authorized and record.sent_credentials for record in auth_proxy.records)


def test_proxy_auth_on_connect(
    auth_proxy: ForwardProxy, https_server: ChalkServer, tls_files: TLSFiles
) -> None:
    verify = ssl_context_from(tls_files.ca)
    with (
        httpx.Client(proxy=auth_proxy.url, verify=verify, timeout=TIMEOUT) as http,
        pytest.raises(httpx.ProxyError, match="407"),
    ):
        exchange(http, https_server)
    with httpx.Client(proxy=auth_url(auth_proxy), verify=verify, timeout=TIMEOUT) as http:
        assert exchange(http, https_server).status_code == 200
    assert auth_proxy.requests == [("CONNECT", https_server.url.removeprefix("https://"))]
    assert [(record.status, record.authorized) for record in auth_proxy.records] == [
        (407, False),
        (200, True),
    ]


def test_proxy_auth_with_aiohttp(auth_proxy: ForwardProxy, server: ChalkServer) -> None:
    async def main() -> list[int]:
        statuses = []
        async with aiohttp.ClientSession(timeout=AIO_TIMEOUT) as session:
            for proxy in (auth_proxy.url, auth_url(auth_proxy)):
                async with session.post(
                    server.url + TOKEN_PATH, json=credentials(server), proxy=proxy
                ) as response:
                    await response.read()
                    statuses.append(response.status)
        return statuses

    assert asyncio.run(main()) == [407, 200]


def test_proxy_auth_header_forms(auth_proxy: ForwardProxy, server: ChalkServer) -> None:
    good = base64.b64encode(b"proxy-user:proxy-pass").decode()
    with httpx.Client(proxy=auth_proxy.url, timeout=TIMEOUT) as http:
        for value, status in (
            (f"Basic {good}", 200),
            (f"basic {good}", 200),
            ("Basic !!!not-base64", 407),
            (f"Bearer {good}", 407),
        ):
            # A fresh connection each time: a 407 closes the one it was sent on.
            response = http.post(
                server.url + TOKEN_PATH, json=credentials(server), headers={"Proxy-Authorization": value}
            )
            assert response.status_code == status, value


def test_proxy_rejects_a_malformed_auth_argument() -> None:
    with pytest.raises(ValueError, match="user, password"):
        ForwardProxy(auth=("user:x", "pass"))
    with pytest.raises(ValueError, match="user, password"):
        ForwardProxy(auth=("user",))  # type: ignore[arg-type]


# -- the forward proxy: lifecycle --------------------------------------------------------------


def test_proxy_stops_with_a_tunnel_and_a_keep_alive_connection_open(
    https_server: ChalkServer, server: ChalkServer, tls_files: TLSFiles
) -> None:
    before = set(threading.enumerate())
    proxy = ForwardProxy().start()
    tunnelled = httpx.Client(proxy=proxy.url, verify=ssl_context_from(tls_files.ca), timeout=TIMEOUT)
    plain = httpx.Client(proxy=proxy.url, timeout=TIMEOUT)
    try:
        assert exchange(tunnelled, https_server).status_code == 200
        assert exchange(plain, server).status_code == 200
        proxy.stop()  # both client connections are still open in the pools
        assert set(threading.enumerate()) == before
        proxy.stop()  # idempotent
        with pytest.raises(RuntimeError, match="has not been started"):
            ForwardProxy().url  # noqa: B018
    finally:
        tunnelled.close()
        plain.close()


def test_proxy_restarts_on_a_new_port(server: ChalkServer) -> None:
    proxy = ForwardProxy()
    urls = []
    for _ in range(2):
        with proxy, httpx.Client(proxy=proxy.url, timeout=TIMEOUT) as http:
            urls.append(proxy.url)
            assert exchange(http, server).status_code == 200
    assert len(proxy.requests) == 2
    assert "relayed=2" in repr(proxy)
