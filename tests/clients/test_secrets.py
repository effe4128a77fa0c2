"""A secret and a token with distinctive values never appear in a repr, str, message or DEBUG log."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chalk_client import AsyncChalkClient, ChalkClient, ChalkClientConfig, ChalkSDKError
from chalk_client.testing import ChalkServer, Fault
from tests.conftest import SECRET, ClientUnderTest, json_response


@pytest.fixture
def server() -> Iterator[ChalkServer]:
    with ChalkServer(client_secret=SECRET, token_lifetime=3600, offline_duration=0) as server:
        yield server


@pytest.fixture
def client_options() -> dict[str, Any]:
    """Each test names its client's arguments."""
    return {}


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the root logger: chalk_client, httpx, httpcore, uvicorn
    return caplog


def texts_of(*objects: Any) -> list[str]:
    out: list[str] = []
    for obj in objects:
        out += [repr(obj), str(obj), f"{obj}", f"{obj!r}"]
        if isinstance(obj, BaseException):
            out.append("".join(traceback.format_exception(obj)))
    return out


def assert_absent(values: list[str], texts: list[str], caplog: pytest.LogCaptureFixture) -> None:
    records = [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]
    assert caplog.records, "DEBUG logging captured nothing: the check would be vacuous"
    for value in values:
        for text in texts + records:
            assert value not in text


def test_success_path_sync(server: ChalkServer, debug_logs: pytest.LogCaptureFixture) -> None:
    with ChalkClient(client_id=server.client_id, client_secret=SECRET, api_server=server.url) as client:
        token = client.get_token()
        texts = texts_of(client, client.config, token, client._tokens)
    assert token.access_token  # a real token was issued, and is what we look for
    assert_absent([SECRET, token.access_token], texts, debug_logs)


def test_success_path_async(server: ChalkServer, debug_logs: pytest.LogCaptureFixture) -> None:
    async def main() -> tuple[Any, list[str]]:
        async with AsyncChalkClient(
            client_id=server.client_id, client_secret=SECRET, api_server=server.url
        ) as client:
            token = await client.get_token()
            return token, texts_of(client, client.config, token)

    token, texts = asyncio.run(main())
    assert_absent([SECRET, token.access_token], texts, debug_logs)


def test_rejected_credentials_path(server: ChalkServer, debug_logs: pytest.LogCaptureFixture) -> None:
    wrong = "wRoNg-SeCrEt-1b2c3d-never-print-me"
    with ChalkClient(client_id=server.client_id, client_secret=wrong, api_server=server.url) as client:
        with pytest.raises(ChalkSDKError) as info:
            client.get_token()
        texts = texts_of(info.value, client, client.config)
    assert_absent([wrong, SECRET], texts, debug_logs)


def test_failure_that_echoes_the_secret_and_token(debug_logs: pytest.LogCaptureFixture) -> None:
    token_value = "eyJhbGciOi.tOkEn-echoed-by-a-bad-proxy.sig"
    answer = json_response(502, {"detail": f"upstream said {SECRET} / {token_value}", "trace": "t"})
    transport = httpx.MockTransport(answer)
    with (
        ChalkClient(
            client_id="id", client_secret=SECRET, api_server="https://x.test", transport=transport
        ) as c,
        pytest.raises(ChalkSDKError) as info,
    ):
        c.get_token()
    assert SECRET not in str(info.value)
    assert "tOkEn-echoed" not in str(info.value)  # JWT-shaped text from a server is redacted too
    assert_absent([SECRET, token_value], texts_of(info.value), debug_logs)


def test_config_errors_never_show_the_secret(tmp_path: Any) -> None:
    with pytest.raises(ChalkSDKError) as info:
        ChalkClientConfig.resolve(
            client_id="id", client_secret=SECRET, api_server="http://public.example.com"
        )
    assert "allow_insecure_http" in str(info.value)
    assert SECRET not in "".join(traceback.format_exception(info.value))


CALLS: list[Any] = [
    lambda c: c.query({"user.id": 13}, ["user.name", "user.credit_score"], include_meta=True),
    lambda c: c.upload_features({"user.id": 77, "user.name": "X"}),
    lambda c: c.whoami(),
    lambda c: c.trigger_resolver_run("resolvers.get_user_name"),
    lambda c: c.get_run_status("no-such-run"),  # 404
    lambda c: c.upload_features({"user.id": 77, "user.age": "old"}),  # errors in a 200 answer
    lambda c: c.query({"user.id": 1}, ["user.name"], environment="nowhere"),  # unknown environment
]


def test_every_call_never_shows_the_secret_or_token(
    server: ChalkServer,
    debug_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
    make_client: Callable[..., ClientUnderTest],
) -> None:
    """Every public call, through success and failure (the cassettes on disk are checked by
    tests/clients/test_cassettes.py::test_no_cassette_holds_a_secret_or_token)."""
    client = make_client(client_id=server.client_id, client_secret=SECRET, api_server=server.url)
    results: list[Any] = []
    first_tokens: list[str] = []

    def after_revoking(sdk_client: Any) -> Any:
        first_tokens.append(sdk_client._tokens._entry.token.access_token)
        server.revoke_tokens()  # the 401 path: invalidate, exchange, replay
        return sdk_client.whoami()

    def offline() -> list[Any]:
        # Every offline-query method, a job that fails, and injected faults: 5xx, an HTML page.
        job = client("offline_query", {"user.id": [1, 2]}, ["user.name"], wait=True)
        out = [
            job,
            client.run(job.status()),
            client.run(job.urls()),
            client.run(job.download(tmp_path)),
            client.run(job.to_arrow()),
        ]
        out.append(client.run(client("get_offline_query", job.job_id).cancel()))
        for failing in (
            lambda: client("offline_query", {"user.id": [1]}, ["user.nope"], wait=True),
            lambda: (
                server.faults.fail_next("query_online", 3, status=503),
                client("query", {"user.id": 1}, ["user.name"]),
            ),
            lambda: (server.faults.add(Fault.html_page("who_am_i", status=200)), client("whoami")),
        ):
            try:
                out.append(failing())
            except ChalkSDKError as err:
                out.append(err)
        return out

    for call in [*CALLS, after_revoking]:
        try:
            results.append(client.run(call(client.client)))
        except ChalkSDKError as err:
            results.append(err)
    results.extend(offline())
    tokens = [client("get_token").access_token]
    texts = texts_of(client.client)
    errors = [r for r in results if isinstance(r, ChalkSDKError)]
    # The 404, the upload's errors, the environment; the failed job, the 5xx storm, the HTML page.
    assert [type(e).__name__ for e in errors] == [
        "ChalkNotFoundError",
        "ChalkResultError",
        "ChalkEnvironmentError",
        "ChalkOfflineQueryError",
        "ChalkServerError",
        "ChalkInvalidResponseError",
    ], results
    assert server.token_exchanges == 2
    features = [f for r in results if hasattr(r, "raise_for_errors") for f in r]
    assert first_tokens != tokens  # two distinct tokens, both looked for
    assert_absent([SECRET, *first_tokens, *tokens], texts + texts_of(*results, *features), debug_logs)


PROXY_PASSWORD = "pr0xy-pa55w0rd-never-print-me"


def test_proxy_credentials_never_show(
    server: ChalkServer, debug_logs: pytest.LogCaptureFixture, make_client: Callable[..., ClientUnderTest]
) -> None:
    """Through an authenticated proxy: successes, a rejected proxy login, a proxy that is down, and a
    configuration error all keep the proxy's password (and the client secret) out of every text."""
    from tests.forward_proxy import ForwardProxy

    texts: list[str] = []
    with ForwardProxy(auth=("proxy-user", PROXY_PASSWORD)) as proxy:
        good = proxy.url.replace("http://", f"http://proxy-user:{PROXY_PASSWORD}@")
        bad = proxy.url.replace("http://", f"http://proxy-user:{PROXY_PASSWORD}-x@")
        down = f"http://proxy-user:{PROXY_PASSWORD}@127.0.0.1:9"
        kwargs = {"client_id": server.client_id, "client_secret": SECRET, "api_server": server.url}
        for url in (good, bad, down):
            with make_client(proxy=url, token_retries=0, max_retries=0, **kwargs) as client:
                texts += texts_of(client.client, client.client.config)
                try:
                    texts += texts_of(client("query", {"user.id": 1}, ["user.name"]))
                except ChalkSDKError as err:
                    texts += texts_of(err)
        assert any(r.authorized for r in proxy.records)
        assert any(not r.authorized for r in proxy.records)
    with pytest.raises(ChalkSDKError) as info:  # a proxy aiohttp cannot use: the config error masks it
        AsyncChalkClient(proxy=f"socks5://u:{PROXY_PASSWORD}@127.0.0.1:1080", **kwargs)
    texts += texts_of(info.value)
    assert_absent([PROXY_PASSWORD, SECRET], texts, debug_logs)
