"""Shared fixtures: a clean environment, a fake clock, and a fake token endpoint on httpx.MockTransport."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

pytest_plugins = ["tests.fake_api", "tests.forward_proxy", "tests.tls"]

CLIENT_ID = "client-id-for-tests"
# Distinctive values: a test that finds them in a repr, a log line or a message has found a leak.
SECRET = "sEcReT-6f1d2b9a-never-print-me"
TOKEN_PREFIX = "tOkEn-4c7e-never-print-me-"
API_SERVER = "https://api.chalk.test"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's CHALK_* variables or ~/.chalk.yml."""
    import os

    for name in list(os.environ):
        # Proxies and CA variables too: tests talk to servers on 127.0.0.1 and must not be routed
        # elsewhere, nor trust what a developer's shell says.
        if name.startswith(("CHALK_", "_CHALK_", "SSL_CERT_")) or name.lower() in (
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "no_proxy",
        ):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.chdir(home)


class FakeClock:
    """Monotonic and wall clocks that move only when told to."""

    def __init__(self, monotonic: float = 1000.0, wall: float = 1_800_000_000.0) -> None:
        self.mono = monotonic
        self.wall = wall

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


class ServerClock:
    """ChalkServer's wall clock (a callable), moved only when told to."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


class FakeTokenEndpoint:
    """A token endpoint for httpx.MockTransport that counts exchanges.

    `answers` is a list of callables (request -> httpx.Response) used in order; when it runs
    out, a valid token is answered. `gate`, when set, makes each exchange wait for it (bounded).
    """

    def __init__(self, clock: FakeClock | None = None, lifetime: float = 3600.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.requests: list[httpx.Request] = []
        self.answers: list[Callable[[httpx.Request], httpx.Response]] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self._lock = threading.Lock()

    def token_body(self, n: int) -> dict[str, Any]:
        now = self.clock.wall if self.clock else 1_800_000_000.0
        return {
            "access_token": f"{TOKEN_PREFIX}{n}",
            "token_type": "Bearer",
            "expires_in": int(self.lifetime),
            "expires_at": rfc3339(now + self.lifetime),
            "api_server": API_SERVER,
            "primary_environment": "env-1",
            "engines": {"env-1": "https://engine.chalk.test"},
            "grpc_engines": {"env-1": "engine.chalk.test:443"},
            "environment_id_to_name": {"env-1": "dev", "env-2": "prod"},
        }

    def _answer(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.calls += 1
            n = self.calls
            self.requests.append(request)
            answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            return answer(request)
        return httpx.Response(200, json=self.token_body(n))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10), "test gate never opened"
        return self._answer(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def async_transport(self, gate: Any = None) -> httpx.MockTransport:
        async def handler(request: httpx.Request) -> httpx.Response:
            self.entered.set()
            if gate is not None:
                await gate.wait()
            return self._answer(request)

        return httpx.MockTransport(handler)


def json_response(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> Callable[..., httpx.Response]:
    return lambda request: httpx.Response(status, content=json.dumps(body).encode(), headers=headers or {})


def raw_response(
    status: int, content: bytes, content_type: str = "text/plain"
) -> Callable[..., httpx.Response]:
    return lambda request: httpx.Response(status, content=content, headers={"content-type": content_type})


@pytest.fixture
def endpoint(clock: FakeClock) -> FakeTokenEndpoint:
    return FakeTokenEndpoint(clock)


def client_kwargs(clock: FakeClock, **extra: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "api_server": API_SERVER,
        "clock": clock,
        "rand": lambda: 0.0,
        # These clients test the cache's policy between exchanges: one attempt per exchange (the
        # retries inside one exchange are tested in test_reliability.py, with recorded sleeps).
        "token_retries": 0,
    }
    kwargs.update(extra)
    return kwargs


@pytest.fixture
def sync_client(clock: FakeClock, endpoint: FakeTokenEndpoint) -> Iterator[Any]:
    from chalk_client import ChalkClient

    with ChalkClient(**client_kwargs(clock, transport=endpoint.transport())) as client:
        yield client


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Register the cassette matcher that compares JSON bodies without the secret."""
    from tests.test_cassettes import json_body_matcher

    vcr.register_matcher("json_body", json_body_matcher)


def seed_token(client: Any, access_token: str = "tok", lifetime: float = 3600.0) -> None:
    """Put a valid token in `client`'s cache, as if exchanged just now (for servers with no token
    endpoint, such as the raw socket servers of the transport tests)."""
    from chalk_openapi.models.token_response import TokenResponse

    from chalk_client._core.token import make_entry

    response = TokenResponse.from_dict(
        {"access_token": access_token, "token_type": "Bearer", "expires_in": lifetime}
    )
    client._tokens._entry = make_entry(
        response,
        started_monotonic=client._clock.monotonic(),
        started_wall=client._clock.time(),
        refresh_buffer=60,
        jitter=0.0,
    )
