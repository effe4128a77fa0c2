"""Proxies and TLS on both clients, each on its default transport (urllib3, aiohttp).

Against a loopback forwarding proxy that counts what it relays (tests/forward_proxy.py) and an HTTPS
ChalkServer with trustme certificates (tests/tls.py). The autouse environment fixture clears every
``*_PROXY`` and ``SSL_CERT_*`` variable first, so a developer's shell changes nothing here.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from chalk_client import (
    AsyncChalkClient,
    ChalkAPIStatusError,
    ChalkClient,
    ChalkConfigError,
    ChalkConnectionError,
)
from chalk_client._core.network import ProxyPlan, mask_url, resolve_network
from chalk_client.testing import ChalkServer
from tests.conftest import ClientUnderTest
from tests.forward_proxy import ForwardProxy
from tests.tls import TLSFiles


@pytest.fixture
def client_options() -> dict[str, Any]:
    """Each test names its server: ``make_client(server=...)``.

    Tests name `make_client` last, so it is set up after their servers and torn down before them: a
    client closes its connections before the server it talks to stops.
    """
    return {}


@pytest.fixture
def server() -> Iterator[ChalkServer]:
    with ChalkServer() as running:
        yield running


def ask(client: ClientUnderTest) -> Any:
    return client("query", {"user.id": 1}, ["user.name"]).get_value("user.name")


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- proxies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_calls_go_through_the_proxy_the_environment_names(
    server: ChalkServer,
    forward_proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    make_client: Callable[..., ClientUnderTest],
) -> None:
    monkeypatch.setenv(variable, forward_proxy.url)
    client = make_client(server=server)
    assert ask(client) == "Ada Lovelace"
    relayed = forward_proxy.requests
    assert ("POST", server.url + "/v1/oauth/token") in relayed
    assert ("POST", server.engine_url + "/v1/query/online") in relayed


def test_proxy_argument_overrides_the_environment(
    server: ChalkServer,
    forward_proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
    make_client: Callable[..., ClientUnderTest],
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead_port()}")  # would fail if used
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # proxy= ignores NO_PROXY, as httpx's does
    client = make_client(server=server, proxy=forward_proxy.url)
    assert ask(client) == "Ada Lovelace"
    assert len(forward_proxy.requests) == 2


@pytest.mark.parametrize("how", ["NO_PROXY", "trust_env=False"])
def test_no_proxy_and_trust_env_false_go_direct(
    server: ChalkServer,
    forward_proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    make_client: Callable[..., ClientUnderTest],
) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    extra: dict[str, Any] = {}
    if how == "NO_PROXY":
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    else:
        extra["trust_env"] = False
    client = make_client(server=server, **extra)
    assert ask(client) == "Ada Lovelace"
    assert forward_proxy.requests == []
    assert forward_proxy.connections == 0


def test_a_proxy_that_is_down_fails_the_call_and_nothing_goes_direct(
    server: ChalkServer, monkeypatch: pytest.MonkeyPatch, make_client: Callable[..., ClientUnderTest]
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead_port()}")
    client = make_client(server=server, token_retries=0)
    with pytest.raises(ChalkConnectionError):
        ask(client)
    assert server.token_exchanges == 0


def test_an_authenticated_proxy_gets_its_credentials_and_they_are_never_shown(
    server: ChalkServer, caplog: pytest.LogCaptureFixture, make_client: Callable[..., ClientUnderTest]
) -> None:
    password = "pr0xy-pa55-never-print-me"
    with ForwardProxy(auth=("proxy-user", password)) as proxy:
        url = proxy.url.replace("http://", f"http://proxy-user:{password}@")
        client = make_client(server=server, proxy=url)
        with caplog.at_level("DEBUG"):
            assert ask(client) == "Ada Lovelace"
        assert all(record.authorized for record in proxy.records)
        shown = repr(client.client) + repr(client.client._network) + caplog.text
        wrong = make_client(server=server, proxy=url.replace(password, password + "-wrong"), token_retries=0)
        with pytest.raises((ChalkAPIStatusError, ChalkConnectionError)) as caught:  # 407
            ask(wrong)
    shown += str(caught.value) + repr(caught.value)
    assert password not in shown
    assert "proxy-user" not in mask_url(url)


def test_a_transport_together_with_proxy_verify_or_cert_is_a_config_error() -> None:
    for kwargs in ({"proxy": "http://127.0.0.1:3128"}, {"verify": False}, {"cert": "client.pem"}):
        with pytest.raises(ChalkConfigError, match="transport="):
            ChalkClient(
                client_id="i", client_secret="s", transport=httpx.MockTransport(lambda r: None), **kwargs
            )  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    ("where", "url"),
    [
        ("proxy", "https://127.0.0.1:3128"),
        ("proxy", "socks5://127.0.0.1:1080"),
        ("HTTPS_PROXY", "https://p:1"),
    ],
)
def test_the_async_client_refuses_a_proxy_aiohttp_cannot_use(
    where: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kwargs: dict[str, Any] = {}
    if where == "proxy":
        kwargs["proxy"] = url
    else:
        monkeypatch.setenv(where, url)
    with pytest.raises(ChalkConfigError, match="aiohttp") as caught:
        AsyncChalkClient(client_id="i", client_secret="s", **kwargs)
    assert "http:// proxies only" in str(caught.value)
    ChalkClient(client_id="i", client_secret="s", **kwargs).close() if "socks" not in url else None


def test_a_proxy_url_with_credentials_is_masked_in_config_errors() -> None:
    with pytest.raises(ChalkConfigError) as caught:
        AsyncChalkClient(client_id="i", client_secret="s", proxy="https://u:topsecret@127.0.0.1:3128")
    assert "topsecret" not in str(caught.value)
    assert "****" in str(caught.value)


# -- the environment's rules, as httpx reads them ---------------------------------------------------


def _httpx_choice(url: str) -> str | None:
    """The proxy httpx itself would use for `url` under the current environment (host:port)."""
    with httpx.Client() as client:
        for pattern, transport in client._mounts.items():
            if pattern.matches(httpx.URL(url)):
                if transport is None:
                    return None
                proxy_url = transport._pool._proxy_url  # type: ignore[attr-defined]
                return f"{proxy_url.host.decode()}:{proxy_url.port}"
    return None


def _our_choice(url: str) -> str | None:
    network = resolve_network(
        proxy=None, verify=True, cert=None, trust_env=True, transport="urllib3", caller_transport=False
    )
    found = network.proxies.for_url(url)
    if found is None:
        return None
    parts = httpx.URL(found)
    return f"{parts.host}:{parts.port}"


@pytest.mark.parametrize(
    "environ",
    [
        {"HTTP_PROXY": "http://h:1"},
        {"HTTPS_PROXY": "http://s:2"},
        {"ALL_PROXY": "http://a:3"},
        {"HTTP_PROXY": "http://h:1", "HTTPS_PROXY": "http://s:2", "ALL_PROXY": "http://a:3"},
        {"http_proxy": "http://lower:4", "HTTP_PROXY": "http://upper:5"},
        {"HTTP_PROXY": "h:6"},  # no scheme: http://
        {"ALL_PROXY": "http://a:3", "NO_PROXY": "example.com"},
        {"ALL_PROXY": "http://a:3", "NO_PROXY": ".example.com"},
        {"ALL_PROXY": "http://a:3", "NO_PROXY": "localhost, 127.0.0.1 ,::1"},
        {"ALL_PROXY": "http://a:3", "NO_PROXY": "*"},
        {"ALL_PROXY": "http://a:3", "NO_PROXY": "chalk.ai,other.org"},
    ],
)
@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x",
        "https://example.com/x",
        "https://api.example.com:8443/x",
        "http://notexample.com/",
        "https://api.chalk.ai/v1",
        "http://localhost:8000/",
        "http://127.0.0.1:9/",
        "http://[::1]:9/",
    ],
)
def test_the_proxy_for_each_url_is_the_one_httpx_would_use(
    environ: dict[str, str], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert _our_choice(url) == _httpx_choice(url)


def test_no_proxy_takes_networks_and_ports_too() -> None:
    environ = {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8,internal.example:8443"}
    plan = resolve_network(
        proxy=None,
        verify=True,
        cert=None,
        trust_env=True,
        transport="urllib3",
        caller_transport=False,
        environ=environ,
    ).proxies
    assert plan.for_url("https://10.1.2.3/") is None
    assert plan.for_url("https://11.1.2.3/") == "http://p:1"
    assert plan.for_url("https://internal.example:8443/") is None
    assert plan.for_url("https://internal.example/") == "http://p:1"
    assert ProxyPlan().for_url("https://api.chalk.ai") is None


# -- TLS --------------------------------------------------------------------------------------------


def test_verify_with_the_ca_bundle_passes(
    https_server: ChalkServer, tls_files: TLSFiles, make_client: Callable[..., ClientUnderTest]
) -> None:
    assert https_server.url.startswith("https://")
    assert ask(make_client(server=https_server, verify=str(tls_files.ca))) == "Ada Lovelace"


def test_ssl_cert_file_is_honoured_under_trust_env(
    https_server: ChalkServer,
    tls_files: TLSFiles,
    monkeypatch: pytest.MonkeyPatch,
    make_client: Callable[..., ClientUnderTest],
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca))
    assert ask(make_client(server=https_server)) == "Ada Lovelace"
    # trust_env=False ignores it: the default bundle does not know the test CA.
    with pytest.raises(ChalkConnectionError, match="verification failed"):
        ask(make_client(server=https_server, trust_env=False))


def test_an_untrusted_certificate_fails_at_once_with_a_message_naming_verify(
    https_server: ChalkServer, make_client: Callable[..., ClientUnderTest]
) -> None:
    client = make_client(server=https_server)
    with pytest.raises(ChalkConnectionError) as caught:
        ask(client)
    message = str(caught.value)
    assert "certificate verification failed" in message
    assert "verify=" in message
    assert caught.value.attempts == 1  # not retried: it will not fix itself
    assert client.sleeps == []


def test_https_through_the_proxy_tunnels_with_connect(
    https_server: ChalkServer,
    tls_files: TLSFiles,
    forward_proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
    make_client: Callable[..., ClientUnderTest],
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", forward_proxy.url)
    assert ask(make_client(server=https_server, verify=str(tls_files.ca))) == "Ada Lovelace"
    methods = {method for method, _ in forward_proxy.requests}
    assert methods == {"CONNECT"}


@pytest.mark.parametrize("form", ["pair", "combined"])
def test_mtls_presents_the_client_certificate(
    mtls_server: ChalkServer, tls_files: TLSFiles, form: str, make_client: Callable[..., ClientUnderTest]
) -> None:
    cert: Any = (
        (str(tls_files.client_cert), str(tls_files.client_key))
        if form == "pair"
        else str(tls_files.client_combined)
    )
    assert ask(make_client(server=mtls_server, verify=str(tls_files.ca), cert=cert)) == "Ada Lovelace"


def test_mtls_without_a_client_certificate_is_refused(
    mtls_server: ChalkServer, tls_files: TLSFiles, make_client: Callable[..., ClientUnderTest]
) -> None:
    with pytest.raises(ChalkConnectionError):
        ask(make_client(server=mtls_server, verify=str(tls_files.ca), token_retries=0))
    assert mtls_server.token_exchanges == 0


@pytest.mark.parametrize("option", ["verify", "cert", "SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_a_missing_ca_or_certificate_file_is_a_config_error_naming_it(
    option: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(tmp_path / "nowhere.pem")
    kwargs: dict[str, Any] = {}
    if option in ("verify", "cert"):
        kwargs[option] = missing
    else:
        monkeypatch.setenv(option, missing)
    for kind in (ChalkClient, AsyncChalkClient):
        with pytest.raises(ChalkConfigError) as caught:
            kind(client_id="i", client_secret="s", **kwargs)
        assert missing in str(caught.value)
    if option.startswith("SSL_"):  # trust_env=False does not read it
        ChalkClient(client_id="i", client_secret="s", trust_env=False).close()


def test_cert_with_an_ssl_context_is_a_config_error() -> None:
    import ssl

    with pytest.raises(ChalkConfigError, match="load_cert_chain"):
        ChalkClient(client_id="i", client_secret="s", verify=ssl.create_default_context(), cert="c.pem")


def test_config_command_shows_the_proxy_masked_and_the_ca_source(
    monkeypatch: pytest.MonkeyPatch, tls_files: TLSFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalk_client._cli.main import main

    monkeypatch.setenv("HTTPS_PROXY", "http://someone:hunter2@127.0.0.1:3128")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca))
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "proxy" in out
    assert "http://****:****@127.0.0.1:3128 (from HTTPS_PROXY)" in out
    assert f"SSL_CERT_FILE={tls_files.ca}" in out
    assert "hunter2" not in out
    assert os.environ["HTTPS_PROXY"].endswith("3128")
