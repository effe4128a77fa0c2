"""Shared fixtures: a clean environment, a fake clock, a fake token endpoint on httpx.MockTransport,
and the client under test (`client`, `make_client`), run once on each client, sync and async."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

pytest_plugins = ["tests.fake_api", "tests.forward_proxy", "tests.tls", "tests.contract.plugin"]

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


class ClientUnderTest:
    """A ChalkClient or an AsyncChalkClient behind one calling convention, so one test body checks
    both: ``client("query", ...)`` (or ``client.call("query", ...)``) runs the method, on an
    asyncio.Runner for the async client; ``client.run(value)`` awaits what a job handle's method
    returned there. ``.client`` is the SDK client itself, ``.sleeps`` the waits it was asked for
    (with ``fake_sleep``)."""

    def __init__(self, kind: str, client: Any, sleeps: list[float]) -> None:
        self.kind = kind
        self.client = client
        self.sleeps = sleeps
        self._runner = asyncio.Runner() if kind == "async" else None
        self._closed = False

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.run(getattr(self.client, method)(*args, **kwargs))

    __call__ = call

    def run(self, value: Any) -> Any:
        """`value` on the sync client; on the async one, the awaitable `value` awaited."""
        if self._runner is None:
            return value
        return self._runner.run(value)

    def many(self, n: int, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """`n` concurrent calls (threads, or tasks); each result or exception, in order."""
        bound = getattr(self.client, method)
        if self._runner is None:
            with concurrent.futures.ThreadPoolExecutor(n) as pool:
                futures = [pool.submit(bound, *args, **kwargs) for _ in range(n)]
                return [f.exception(timeout=20) or f.result() for f in futures]

        async def all_of_them() -> list[Any]:
            return await asyncio.wait_for(
                asyncio.gather(*(bound(*args, **kwargs) for _ in range(n)), return_exceptions=True), 20
            )

        return self._runner.run(all_of_them())

    def close(self) -> None:
        """Closes the client (and the async one's runner); again does nothing."""
        if self._closed:
            return
        self._closed = True
        if self._runner is None:
            self.client.close()
        else:
            self._runner.run(self.client.aclose())
            self._runner.close()

    def __enter__(self) -> ClientUnderTest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_client(
    kind: str,
    *,
    api: Any = None,
    handler: Callable[[httpx.Request], httpx.Response] | None = None,
    server: Any = None,
    fake_sleep: bool | Callable[[float], object] = False,
    **kwargs: Any,
) -> ClientUnderTest:
    """A new `kind` ("sync" or "async") client, from the client's own arguments `kwargs` (which win)
    and at most one of:

    - `api`: a fake API with ``transport()``, ``async_transport()`` and a ``clock``
      (tests/fake_api.py's FakeChalkAPI, FakeTokenEndpoint), on the test credentials (client_kwargs);
    - `handler`: a function from request to response, on httpx.MockTransport, with the test
      credentials and ``clock=`` (required);
    - `server`: a ChalkServer: its credentials and URL.

    With `fake_sleep`, the client's waits are recorded in ``.sleeps``, never slept; a callable is
    also called with each (to move a fake clock instead).
    """
    from chalk_client import AsyncChalkClient, ChalkClient

    assert kind in ("sync", "async"), kind
    assert sum(source is not None for source in (api, handler, server)) <= 1, "api, handler or server"
    arguments: dict[str, Any] = {}
    if api is not None:
        arguments = client_kwargs(
            api.clock, transport=api.transport() if kind == "sync" else api.async_transport()
        )
    elif handler is not None:
        arguments = client_kwargs(kwargs.pop("clock"), transport=_mock_transport(kind, handler))
    elif server is not None:
        arguments = {
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "api_server": server.url,
        }
    arguments.update(kwargs)
    sleeps: list[float] = []
    if fake_sleep:
        assert "sleep" not in arguments, "sleep= or fake_sleep, not both"
        then = fake_sleep if callable(fake_sleep) else None

        def record(seconds: float) -> None:
            sleeps.append(seconds)
            if then is not None:
                then(seconds)

        async def sleep(seconds: float) -> None:
            record(seconds)

        arguments["sleep"] = record if kind == "sync" else sleep
    client = ChalkClient(**arguments) if kind == "sync" else AsyncChalkClient(**arguments)
    return ClientUnderTest(kind, client, sleeps)


def _mock_transport(kind: str, handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    if kind == "sync":
        return httpx.MockTransport(handler)

    async def handle(request: httpx.Request) -> httpx.Response:
        return handler(request)

    return httpx.MockTransport(handle)


# The client fixtures. A test names `client` (the client under test, built from `client_options`) or
# `make_client` (builds more, each from `client_options` updated with its arguments), and runs once on
# each client: ids [sync] and [async]. A module says how its clients are built by overriding
# `client_options`, and pins one kind by overriding `client_kind`. `client_factory(kind, **options)`
# builds a client of a given kind. Every client built is closed after the test.


@pytest.fixture(params=["sync", "async"])
def client_kind(request: pytest.FixtureRequest) -> str:
    """Which client the test runs on: "sync" (ChalkClient) or "async" (AsyncChalkClient)."""
    return str(request.param)


@pytest.fixture
def client_options(api: Any) -> dict[str, Any]:
    """How `client` and `make_client` build a client (build_client's options): by default on the
    fake API (tests/fake_api.py), its waits recorded, never slept."""
    return {"api": api, "fake_sleep": True}


@pytest.fixture
def client_factory() -> Iterator[Callable[..., ClientUnderTest]]:
    """build_client(kind, **options); each client it built is closed after the test."""
    made: list[ClientUnderTest] = []

    def make(kind: str, **options: Any) -> ClientUnderTest:
        built = build_client(kind, **options)
        made.append(built)
        return built

    yield make
    for built in made:
        built.close()


@pytest.fixture
def make_client(
    client_factory: Callable[..., ClientUnderTest], client_kind: str, client_options: dict[str, Any]
) -> Callable[..., ClientUnderTest]:
    """Builds a client of the test's kind from `client_options`, updated with the arguments."""

    def make(**options: Any) -> ClientUnderTest:
        return client_factory(client_kind, **{**client_options, **options})

    return make


@pytest.fixture
def client(make_client: Callable[..., ClientUnderTest]) -> ClientUnderTest:
    """The client under test (sync or async), built from `client_options`."""
    return make_client()


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Register the cassette matcher that compares JSON bodies without the secret."""
    from tests.clients.test_cassettes import json_body_matcher

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
