"""chalk_client.testing.ChalkServer, exercised over real HTTP with httpx."""

from __future__ import annotations

import asyncio
import base64
import gc
import importlib
import json
import logging
import re
import socket
import sys
import threading
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from chalk_client.testing import ChalkServer, _server, _serving
from chalk_client.testing._http import App, Request, Response, Router, json_response
from tests.conftest import ServerClock

TOKEN_PATH = "/v1/oauth/token"
NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z


@pytest.fixture
def clock() -> ServerClock:
    return ServerClock()


@pytest.fixture
def server(clock: ServerClock) -> Iterator[ChalkServer]:
    with ChalkServer(clock=clock) as running:
        yield running


@pytest.fixture
def http(server: ChalkServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client


def credentials(server: ChalkServer, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "grant_type": "client_credentials",
    }
    body.update(overrides)
    return body


def exchange(http: httpx.Client, server: ChalkServer, **overrides: Any) -> httpx.Response:
    return http.post(TOKEN_PATH, json=credentials(server, **overrides))


def token_of(http: httpx.Client, server: ChalkServer) -> str:
    response = exchange(http, server)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The shared error body: detail, a hex trace id, and ChalkErrors led by `code`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert re.fullmatch(r"[0-9a-f]{16,}", body["trace"])
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) >= {"code", "category", "message"}
        assert error["category"] == "REQUEST"
        assert isinstance(error["message"], str)
    assert body["errors"][0]["code"] == code
    return body


def b64url_json(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def port_of(server: ChalkServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


# -- listening ---------------------------------------------------------------------------------


def test_listens_on_loopback(server: ChalkServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
    assert port_of(server) > 0
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=5):
        pass


def test_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not been started"):
        _ = ChalkServer().url


def test_two_servers_get_different_ports_and_credentials() -> None:
    with ChalkServer() as first, ChalkServer() as second, httpx.Client() as http:
        assert first.url != second.url
        assert first.client_id != second.client_id
        assert first.client_secret != second.client_secret
        token = http.post(first.url + TOKEN_PATH, json=credentials(first)).json()["access_token"]
        assert first.is_valid_token(token)
        assert not second.is_valid_token(token)
        assert http.post(second.url + TOKEN_PATH, json=credentials(first)).status_code == 401


def test_stop_releases_the_port() -> None:
    server = ChalkServer().start()
    url = server.url
    server.stop()
    with pytest.raises(httpx.ConnectError), httpx.Client() as http:
        http.post(url + TOKEN_PATH, json={})
    server.stop()  # stopping twice does nothing


def test_start_twice_is_an_error_and_restart_works(server: ChalkServer) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        server.start()
    server.stop()
    server.start()
    with httpx.Client(base_url=server.url) as http:
        assert exchange(http, server).status_code == 200


def test_port_in_use_is_a_clear_error(server: ChalkServer) -> None:
    with pytest.raises(RuntimeError, match=f"could not listen on 127.0.0.1:{port_of(server)}"):
        ChalkServer(port=port_of(server)).start()


def test_given_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with ChalkServer(port=port) as server:
        assert server.url == f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("port", [-1, 65536, 1.5, True])
def test_bad_port_is_rejected(port: Any) -> None:
    with pytest.raises(ValueError, match="port"):
        ChalkServer(port=port)


def test_failure_to_start_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async def failing_startup(self: object, sockets: object = None) -> None:
        raise OSError("no luck")

    monkeypatch.setattr(_serving.UvicornServer, "startup", failing_startup)
    before = set(threading.enumerate())
    server = ChalkServer()
    with pytest.raises(RuntimeError, match="failed to start") as raised:
        server.start()
    assert isinstance(raised.value.__cause__, OSError)
    assert set(threading.enumerate()) == before
    server.stop()  # nothing to stop
    gc.collect()


def test_serves_with_h11_when_httptools_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_server, "_HTTP_IMPL", "h11")
    with ChalkServer() as server, httpx.Client(base_url=server.url) as http:
        assert exchange(http, server).status_code == 200
        assert_error(http.get("/nope"), 404, "VALIDATION_FAILED")
        assert exchange(http, server).status_code == 200


def test_keep_alive_reuses_one_connection(server: ChalkServer, http: httpx.Client) -> None:
    addresses = set()
    for response in (exchange(http, server), http.get("/nope"), exchange(http, server, client_secret="x")):
        addresses.add(response.extensions["network_stream"].get_extra_info("client_addr"))
    assert len(addresses) == 1


def test_start_stop_cycles_leave_nothing_behind() -> None:
    before = set(threading.enumerate())
    for _ in range(20):
        with ChalkServer() as server, httpx.Client(base_url=server.url) as http:
            assert exchange(http, server).status_code == 200
    gc.collect()  # an unclosed socket or loop would warn here, and warnings are errors
    assert set(threading.enumerate()) == before


# -- the token exchange ------------------------------------------------------------------------


def test_token_exchange_answers_every_field(server: ChalkServer, http: httpx.Client) -> None:
    response = exchange(http, server)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "expires_at",
        "api_server",
        "primary_environment",
        "engines",
        "grpc_engines",
        "environment_id_to_name",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert type(body["expires_in"]) is int
    assert body["expires_at"].endswith("Z")
    assert datetime.fromisoformat(body["expires_at"]) == datetime.fromtimestamp(NOW + 3600, tz=UTC)
    assert body["api_server"] == server.url
    assert body["primary_environment"] == "env-dev-1"
    assert body["environment_id_to_name"] == {"env-dev-1": "dev", "env-prod-1": "prod"}
    assert body["engines"] == {"env-dev-1": server.engine_url, "env-prod-1": server.engine_url}
    address = f"127.0.0.1:{port_of(server)}"
    assert body["grpc_engines"] == {"env-dev-1": address, "env-prod-1": address}


def test_access_token_is_a_signed_jwt(server: ChalkServer, http: httpx.Client) -> None:
    token = token_of(http, server)

    header, payload, signature = token.split(".")
    assert b64url_json(header) == {"alg": "HS256", "typ": "JWT"}
    claims = b64url_json(payload)
    assert claims["sub"] == server.client_id
    assert claims["iat"] == NOW
    assert claims["exp"] == NOW + 3600
    assert isinstance(claims["jti"], str)
    assert len(base64.urlsafe_b64decode(signature + "=")) == 32
    assert not re.search(r"[=+/]", token)


def test_each_exchange_issues_a_distinct_token_and_is_counted(
    server: ChalkServer, http: httpx.Client
) -> None:
    tokens = [token_of(http, server) for _ in range(3)]

    assert len(set(tokens)) == 3
    assert len({b64url_json(token.split(".")[1])["jti"] for token in tokens}) == 3
    assert server.token_exchanges == 3
    assert server.token_requests == 3
    assert exchange(http, server, client_secret="wrong").status_code == 401
    assert http.post(TOKEN_PATH, content=b"{").status_code == 400
    assert server.token_exchanges == 3
    assert server.token_requests == 5


def test_counts_are_exact_under_concurrency(server: ChalkServer) -> None:
    def work() -> None:
        with httpx.Client(base_url=server.url) as http:
            for _ in range(10):
                assert exchange(http, server).status_code == 200

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.token_exchanges == 40


def test_fractional_lifetime_is_exact_in_expires_at(clock: ServerClock) -> None:
    with ChalkServer(clock=clock, token_lifetime=0.25) as server, httpx.Client(base_url=server.url) as http:
        body = exchange(http, server).json()
    assert body["expires_in"] == 1
    assert body["expires_at"] == "2027-01-15T08:00:00.250000Z"


def test_token_lifetime_can_change_at_runtime(server: ChalkServer, http: httpx.Client) -> None:
    server.token_lifetime = 90.5
    body = exchange(http, server).json()

    assert server.token_lifetime == 90.5
    assert body["expires_in"] == 90
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert expires_at == datetime.fromtimestamp(NOW, tz=UTC) + timedelta(seconds=90.5)


@pytest.mark.parametrize("lifetime", [0, -1, float("inf"), float("nan")])
def test_token_lifetime_must_be_positive(lifetime: float) -> None:
    with pytest.raises(ValueError, match="token_lifetime"):
        ChalkServer(token_lifetime=lifetime)
    server = ChalkServer()
    with pytest.raises(ValueError, match="token_lifetime"):
        server.token_lifetime = lifetime


def test_given_credentials_and_environments() -> None:
    environments = {"env-a": "alpha", "env-b": "beta", "env-c": "gamma"}
    with (
        ChalkServer(client_id="my-id", client_secret="my-secret", environments=environments) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        assert (server.client_id, server.client_secret) == ("my-id", "my-secret")
        body = exchange(http, server).json()
    assert body["primary_environment"] == "env-a"
    assert body["environment_id_to_name"] == environments
    assert set(body["engines"]) == set(environments)


def test_no_environments_is_an_error() -> None:
    with pytest.raises(ValueError, match="environment"):
        ChalkServer(environments={})


@pytest.mark.parametrize("scope", [None, "", "offline"])
def test_scope_is_optional(server: ChalkServer, http: httpx.Client, scope: str | None) -> None:
    assert exchange(http, server, scope=scope).status_code == 200


# -- rejected exchanges --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["client_secret", "client_id"],
)
def test_wrong_credentials_are_401(server: ChalkServer, http: httpx.Client, field: str) -> None:
    wrong = "wrong-" + "s3cr3t-value-that-must-not-leak"
    response = exchange(http, server, **{field: wrong})

    body = assert_error(response, 401, "UNAUTHENTICATED")
    assert body["detail"] == "invalid client credentials"
    assert wrong not in response.text
    assert server.client_secret not in response.text
    assert server.token_exchanges == 0


def test_non_ascii_credentials_are_401_not_500(server: ChalkServer, http: httpx.Client) -> None:
    response = http.post(
        TOKEN_PATH,
        content=json.dumps(credentials(server, client_secret="\ud800é")).encode(),
        headers={"content-type": "application/json"},
    )
    assert_error(response, 401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"not json", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000],
    ids=["empty", "truncated", "text", "not-utf8", "too-deep"],
)
def test_body_that_is_not_json_is_400(http: httpx.Client, content: bytes) -> None:
    response = http.post(TOKEN_PATH, content=content, headers={"content-type": "application/json"})
    assert_error(response, 400, "PARSE_FAILED")


@pytest.mark.parametrize("document", [b"[]", b'"text"', b"1", b"null"])
def test_body_that_is_not_an_object_is_400(http: httpx.Client, document: bytes) -> None:
    assert_error(http.post(TOKEN_PATH, content=document), 400, "VALIDATION_FAILED")


@pytest.mark.parametrize("field", ["client_id", "client_secret", "grant_type"])
def test_missing_field_is_400(server: ChalkServer, http: httpx.Client, field: str) -> None:
    body = credentials(server)
    del body[field]
    error = assert_error(http.post(TOKEN_PATH, json=body), 400, "VALIDATION_FAILED")
    assert field in error["errors"][0]["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("client_id", 1), ("client_secret", None), ("grant_type", ["client_credentials"]), ("scope", 3)],
)
def test_field_of_wrong_type_is_400(
    server: ChalkServer, http: httpx.Client, field: str, value: object
) -> None:
    error = assert_error(exchange(http, server, **{field: value}), 400, "VALIDATION_FAILED")
    assert field in error["errors"][0]["message"]


def test_every_problem_is_reported(http: httpx.Client) -> None:
    error = assert_error(http.post(TOKEN_PATH, json={"client_secret": 5}), 400, "VALIDATION_FAILED")
    assert len(error["errors"]) == 3


def test_other_grant_type_is_400(server: ChalkServer, http: httpx.Client) -> None:
    response = exchange(http, server, grant_type="password")
    error = assert_error(response, 400, "VALIDATION_FAILED")
    assert "grant_type" in error["detail"]
    assert server.client_secret not in response.text


def test_unknown_path_is_404(http: httpx.Client) -> None:
    assert_error(http.get("/v1/nothing-here"), 404, "VALIDATION_FAILED")
    assert_error(http.post(TOKEN_PATH + "/"), 404, "VALIDATION_FAILED")


def test_wrong_method_is_405_with_allow(http: httpx.Client) -> None:
    response = http.get(TOKEN_PATH)
    assert_error(response, 405, "VALIDATION_FAILED")
    assert response.headers["allow"] == "POST"


def test_announced_body_over_the_cap_is_413(server: ChalkServer) -> None:
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=5) as conn:
        conn.sendall(
            b"POST /v1/oauth/token HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 16777217\r\n\r\n{"
        )
        answer = b""
        while chunk := conn.recv(65536):  # the server closes the connection after answering
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in head.lower()
    assert json.loads(body)["errors"][0]["code"] == "VALIDATION_FAILED"


# -- token validity ----------------------------------------------------------------------------


def test_issued_token_is_valid_and_garbage_is_not(server: ChalkServer, http: httpx.Client) -> None:
    token = token_of(http, server)
    header, payload, signature = token.split(".")
    claims = b64url_json(payload)
    claims["exp"] = NOW + 10**9
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    assert server.is_valid_token(token)
    for garbage in [
        "",
        "garbage",
        "a.b.c",
        token + "x",
        token[:-2],
        f"{header}.{forged_payload}.{signature}",
        "é.é.é",
    ]:
        assert not server.is_valid_token(garbage), garbage


def test_revoked_tokens_are_invalid(server: ChalkServer, http: httpx.Client) -> None:
    old = [token_of(http, server) for _ in range(2)]
    server.revoke_tokens()

    assert not any(server.is_valid_token(token) for token in old)
    assert server.is_valid_token(token_of(http, server))


def test_tokens_expire_by_the_server_clock(clock: ServerClock) -> None:
    with ChalkServer(clock=clock, token_lifetime=0.2) as server, httpx.Client(base_url=server.url) as http:
        token = token_of(http, server)
        clock.now = NOW + 0.199
        assert server.is_valid_token(token)
        clock.now = NOW + 0.2  # expiry is exclusive
        assert not server.is_valid_token(token)
        clock.advance(3600)
        assert not server.is_valid_token(token)
        assert server.is_valid_token(token_of(http, server))


# -- what it must not show -----------------------------------------------------------------------


def test_repr_hides_the_secret_and_tokens(server: ChalkServer, http: httpx.Client) -> None:
    token = token_of(http, server)
    text = repr(server)
    assert server.client_secret not in text
    assert token not in text
    assert server.url in text
    server.stop()
    assert "stopped" in repr(server)
    assert server.client_secret not in repr(server)


def test_import_without_uvicorn_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name == "chalk_client.testing" or name.startswith("chalk_client.testing."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'chalk-client[testing]'")):
        importlib.import_module("chalk_client.testing")


# -- the HTTP layer on its own -------------------------------------------------------------------


def call_app(app: App, method: str, path: str, chunks: list[bytes]) -> tuple[int, dict[bytes, bytes], Any]:
    """Drive the ASGI app directly: `chunks` arrive as separate http.request messages."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": []}
    asyncio.run(app(scope, receive, send))
    start, body = sent
    return start["status"], dict(start["headers"]), json.loads(body["body"])


async def echo(request: Request) -> Response:
    return json_response({"params": dict(request.path_params), "size": len(request.body)})


def test_app_reads_a_chunked_body_and_caps_it() -> None:
    router = Router()
    router.add("POST", "/echo", echo)
    app = App(router, max_body_bytes=10)

    assert call_app(app, "POST", "/echo", [b"abc", b"def", b"gh"])[2]["size"] == 8
    status, headers, body = call_app(app, "POST", "/echo", [b"abcdef", b"ghijk"])
    assert status == 413
    assert headers[b"connection"] == b"close"
    assert body["errors"][0]["code"] == "VALIDATION_FAILED"


def test_router_templates_and_duplicates() -> None:
    router = Router()
    router.add("GET", "/v1/runs/{run_id}", echo)
    router.add("POST", "/v1/runs/{run_id}", echo)
    app = App(router)

    assert call_app(app, "GET", "/v1/runs/r-1", [b""])[2]["params"] == {"run_id": "r-1"}
    assert call_app(app, "GET", "/v1/runs/a/b", [b""])[0] == 404
    status, headers, _ = call_app(app, "DELETE", "/v1/runs/r-1", [b""])
    assert (status, headers[b"allow"]) == (405, b"GET, POST")
    with pytest.raises(ValueError, match="already defined"):
        router.add("get", "/v1/runs/{run_id}", echo)


def test_handler_failure_is_a_500_with_the_error_body(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: Request) -> Response:
        raise KeyError("boom")

    router = Router()
    router.add("GET", "/broken", broken)
    with caplog.at_level(logging.ERROR, logger="chalk_client.testing"):
        status, _, body = call_app(App(router), "GET", "/broken", [b""])
    assert status == 500
    assert body["errors"][0]["code"] == "INTERNAL_SERVER_ERROR"
    assert "boom" not in json.dumps(body)
    assert "GET /broken" in caplog.text
