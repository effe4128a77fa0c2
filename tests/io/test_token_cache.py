"""The token cache through both clients: states, single flight, shared failure, backoff, fork."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import Any

import httpx
import pytest

from chalk_client import (
    AsyncChalkClient,
    ChalkAuthenticationError,
    ChalkClient,
    ChalkServerError,
    TokenState,
)
from tests.conftest import (
    SECRET,
    TOKEN_PREFIX,
    ClientUnderTest,
    FakeClock,
    FakeTokenEndpoint,
    client_kwargs,
    json_response,
)


@pytest.fixture
def client_kind() -> str:
    """The cache's states on the sync client (the async one's single flight is tested below)."""
    return "sync"


@pytest.fixture
def client_options(endpoint: FakeTokenEndpoint) -> dict[str, Any]:
    return {"api": endpoint}


ERROR_500 = json_response(500, {"detail": "token service down", "trace": "t-500"})
ERROR_401 = json_response(401, {"detail": "invalid client credentials", "trace": "t-401"})


def test_first_call_exchanges_and_second_is_cached(
    client: ClientUnderTest, endpoint: FakeTokenEndpoint
) -> None:
    first = client("get_token")
    second = client("get_token")
    assert endpoint.calls == 1
    assert second is first
    assert first.access_token == f"{TOKEN_PREFIX}1"
    assert first.primary_environment == "env-1"
    assert dict(first.environment_id_to_name) == {"env-1": "dev", "env-2": "prod"}


def test_exchange_request_shape(client: ClientUnderTest, endpoint: FakeTokenEndpoint) -> None:
    client("get_token")
    request = endpoint.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.chalk.test/v1/oauth/token"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("chalk-client-python/")
    assert "authorization" not in request.headers
    assert json.loads(request.content) == {
        "client_id": "client-id-for-tests",
        "client_secret": SECRET,
        "grant_type": "client_credentials",
    }
    assert request.extensions["timeout"] == {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}


def test_fresh_stale_expired_with_a_fake_clock(
    client: ClientUnderTest, endpoint: FakeTokenEndpoint, clock: FakeClock
) -> None:
    cache = client.client._tokens
    assert cache.state() is TokenState.EXPIRED
    token = client("get_token")
    assert cache.state() is TokenState.FRESH
    clock.advance(3600 - 60 - 0.001)  # just before the 60 s buffer
    assert client("get_token") is token
    assert endpoint.calls == 1
    clock.advance(0.002)  # inside the buffer: stale, this caller refreshes
    assert cache.state() is TokenState.STALE
    refreshed = client("get_token")
    assert endpoint.calls == 2
    assert refreshed.access_token != token.access_token
    clock.advance(3600 + 1)  # past the deadline: expired, exchange again
    assert cache.state() is TokenState.EXPIRED
    client("get_token")
    assert endpoint.calls == 3


def test_short_lived_token_refreshes_at_half_life_not_in_a_loop(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock, lifetime=20)
    with ChalkClient(**client_kwargs(clock, transport=endpoint.transport())) as client:
        client.get_token()
        clock.advance(9.9)
        client.get_token()
        assert endpoint.calls == 1  # a 60 s buffer would make every call refresh
        clock.advance(0.2)
        client.get_token()
        assert endpoint.calls == 2


def test_expiry_is_timed_from_the_request_start(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock, lifetime=100)

    def slow(request: httpx.Request) -> httpx.Response:
        body = endpoint.token_body(1)
        clock.advance(30)  # the answer takes 30 s to arrive
        return httpx.Response(200, json=body)

    endpoint.answers.append(slow)
    with ChalkClient(**client_kwargs(clock, transport=endpoint.transport(), refresh_buffer=0)) as client:
        client.get_token()
        clock.advance(69.9)  # 99.9 s after the request started
        client.get_token()
        assert endpoint.calls == 1
        clock.advance(0.2)  # 100.1 s after the start: expired, though only 70 s after the answer
        client.get_token()
        assert endpoint.calls == 2


def test_stale_refresh_failure_keeps_the_valid_token_then_backs_off(
    client: ClientUnderTest, endpoint: FakeTokenEndpoint, clock: FakeClock
) -> None:
    token = client("get_token")
    clock.advance(3600 - 30)  # stale
    endpoint.answers.append(ERROR_500)
    assert client("get_token") is token  # the refresh failed; the caller never sees it
    assert endpoint.calls == 2
    clock.advance(0.5)  # within the 1 s backoff: no new attempt
    assert client("get_token") is token
    assert endpoint.calls == 2
    clock.advance(0.6)  # past it: one new attempt, which succeeds
    assert client("get_token") is not token
    assert endpoint.calls == 3


def test_cold_failure_raises_then_backs_off_exponentially(
    client: ClientUnderTest, endpoint: FakeTokenEndpoint, clock: FakeClock
) -> None:
    endpoint.answers.extend([ERROR_500, ERROR_500, ERROR_500])
    with pytest.raises(ChalkServerError) as first:
        client("get_token")
    assert endpoint.calls == 1
    with pytest.raises(ChalkServerError) as again:  # within 1 s: the same error, no POST
        client("get_token")
    assert again.value is first.value
    assert endpoint.calls == 1
    clock.advance(1.0)
    with pytest.raises(ChalkServerError):
        client("get_token")
    assert endpoint.calls == 2
    clock.advance(1.9)  # the second backoff is 2 s
    with pytest.raises(ChalkServerError):
        client("get_token")
    assert endpoint.calls == 2
    clock.advance(0.1)
    with pytest.raises(ChalkServerError):
        client("get_token")
    assert endpoint.calls == 3
    clock.advance(4.0)
    assert client("get_token").access_token == f"{TOKEN_PREFIX}4"


def test_rejected_credentials_are_an_authentication_error(
    client: ClientUnderTest, endpoint: FakeTokenEndpoint
) -> None:
    endpoint.answers.append(ERROR_401)
    with pytest.raises(ChalkAuthenticationError) as info:
        client("get_token")
    assert info.value.status_code == 401
    assert info.value.trace == "t-401"
    assert "t-401" in str(info.value)


def test_invalidate_is_compare_and_invalidate(
    client: ClientUnderTest, endpoint: FakeTokenEndpoint, clock: FakeClock
) -> None:
    old = client("get_token")
    assert client("invalidate_token", old) is True
    new = client("get_token")
    assert endpoint.calls == 2
    assert client("invalidate_token", old) is False  # an older token: the new one stays
    assert client("invalidate_token", old.access_token) is False
    assert client("get_token") is new
    assert endpoint.calls == 2


def _run_threads(n: int, target: Any) -> list[Any]:
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            results[i] = target()
        except Exception as err:
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
        assert not t.is_alive(), "a thread never finished"
    return results


class _ArrivalGate:
    """Opens the exchange once every caller has arrived (bounded), so they all overlap it."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.arrived = 0
        self.lock = threading.Lock()
        self.all_here = threading.Event()

    def arrive(self) -> None:
        with self.lock:
            self.arrived += 1
            if self.arrived == self.n:
                self.all_here.set()


def test_32_threads_cold_cause_one_exchange(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock)
    gate = _ArrivalGate(32)
    endpoint.gate = gate.all_here
    with ChalkClient(**client_kwargs(clock, transport=endpoint.transport())) as client:

        def call() -> Any:
            gate.arrive()
            return client.get_token()

        results = _run_threads(32, call)
    assert endpoint.calls == 1
    assert {r.access_token for r in results} == {f"{TOKEN_PREFIX}1"}


def test_32_threads_share_one_failure_then_backoff(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock)
    gate = _ArrivalGate(32)
    endpoint.gate = gate.all_here
    endpoint.answers.append(ERROR_500)
    with ChalkClient(**client_kwargs(clock, transport=endpoint.transport())) as client:

        def call() -> Any:
            gate.arrive()
            return client.get_token()

        results = _run_threads(32, call)
        assert endpoint.calls == 1  # one POST ...
        assert all(isinstance(r, ChalkServerError) for r in results)  # ... N errors
        assert len({id(r) for r in results}) == 1  # the same error
        endpoint.gate = None
        again = _run_threads(8, client.get_token)
        assert all(isinstance(r, ChalkServerError) for r in again)
        assert endpoint.calls == 1  # backing off: the same error at once, no POST
        clock.advance(1.0)
        assert client.get_token().access_token == f"{TOKEN_PREFIX}2"


def test_stale_token_one_thread_refreshes_others_get_it_at_once(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock)
    with ChalkClient(**client_kwargs(clock, transport=endpoint.transport())) as client:
        old = client.get_token()
        clock.advance(3600 - 10)
        endpoint.gate = threading.Event()
        endpoint.entered.clear()
        refresher = threading.Thread(target=client.get_token)
        refresher.start()
        assert endpoint.entered.wait(10)  # the refresh is in flight, blocked in the token server
        # No lock is held during the network call: others answer at once with the current token.
        others = _run_threads(16, client.get_token)
        assert all(t is old for t in others)
        endpoint.gate.set()
        refresher.join(10)
        assert endpoint.calls == 2
        assert client.get_token() is not old


def test_32_tasks_cold_cause_one_exchange(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock)

    async def main() -> list[Any]:
        gate = asyncio.Event()
        arrived = 0
        client = AsyncChalkClient(**client_kwargs(clock, transport=endpoint.async_transport(gate)))

        async def call() -> Any:
            nonlocal arrived
            arrived += 1
            if arrived == 32:
                gate.set()
            return await client.get_token()

        async with client:
            return await asyncio.wait_for(asyncio.gather(*(call() for _ in range(32))), 10)

    results = asyncio.run(main())
    assert endpoint.calls == 1
    assert {r.access_token for r in results} == {f"{TOKEN_PREFIX}1"}


def test_32_tasks_share_one_failure(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock)
    endpoint.answers.append(ERROR_401)

    async def main() -> list[Any]:
        gate = asyncio.Event()
        client = AsyncChalkClient(**client_kwargs(clock, transport=endpoint.async_transport(gate)))
        async with client:
            tasks = [asyncio.create_task(client.get_token()) for _ in range(32)]
            await asyncio.sleep(0)  # let every task reach the exchange or its wait (no time passes)
            gate.set()
            return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)

    results = asyncio.run(main())
    assert endpoint.calls == 1
    assert all(isinstance(r, ChalkAuthenticationError) for r in results)


def test_event_loop_is_not_blocked_during_an_exchange(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock)

    async def main() -> int:
        gate = asyncio.Event()
        ticks = 0
        client = AsyncChalkClient(**client_kwargs(clock, transport=endpoint.async_transport(gate)))
        async with client:
            task = asyncio.create_task(client.get_token())
            for _ in range(10):  # the loop keeps running other work while the exchange waits
                await asyncio.sleep(0)
                ticks += 1
            assert not task.done()
            gate.set()
            await asyncio.wait_for(task, 10)
        return ticks

    assert asyncio.run(main()) == 10


def test_cancelled_leader_hands_the_exchange_to_a_waiter(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock)

    async def main() -> Any:
        gate = asyncio.Event()
        client = AsyncChalkClient(**client_kwargs(clock, transport=endpoint.async_transport(gate)))
        async with client:
            leader = asyncio.create_task(client.get_token())
            await asyncio.sleep(0)
            follower = asyncio.create_task(client.get_token())
            await asyncio.sleep(0)
            leader.cancel()
            await asyncio.sleep(0)
            gate.set()
            token = await asyncio.wait_for(follower, 10)
            assert leader.cancelled()
            return token

    token = asyncio.run(main())
    # The cancelled exchange never got its answer; the follower led one of its own instead of
    # waiting forever on the abandoned one.
    assert token.access_token == f"{TOKEN_PREFIX}1"
    assert endpoint.calls == 1


def test_same_async_client_across_successive_event_loops(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock)
    client = AsyncChalkClient(**client_kwargs(clock, transport=endpoint.async_transport()))
    first = asyncio.run(client.get_token())
    second = asyncio.run(client.get_token())
    assert second is first
    clock.advance(7200)
    third = asyncio.run(client.get_token())  # a fresh exchange in a third loop
    assert third is not first
    assert endpoint.calls == 2
    asyncio.run(client.aclose())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_child_after_fork_does_not_wait_on_the_parents_exchange(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock)
    parent = os.getpid()
    gate = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        endpoint.entered.set()
        if os.getpid() == parent:
            assert gate.wait(10)
        return endpoint._answer(request)

    with ChalkClient(**client_kwargs(clock, transport=httpx.MockTransport(handler))) as client:
        leader = threading.Thread(target=client.get_token)
        leader.start()
        assert endpoint.entered.wait(10)  # the parent's exchange is in flight (lock state copied)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its own exchange, not a wait on the parent's
            status = 1
            try:
                token = client.get_token()
                os.write(write_end, token.access_token.encode())
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        gate.set()
        leader.join(10)
        with os.fdopen(read_end, "rb") as pipe:
            child_token = pipe.read().decode()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert child_token.startswith(TOKEN_PREFIX)
        assert client.get_token().access_token.startswith(TOKEN_PREFIX)
        assert endpoint.calls == 1  # in the parent: only its own exchange


def test_refresh_buffer_must_be_non_negative() -> None:
    with pytest.raises(ValueError, match="refresh_buffer"):
        ChalkClient(client_id="a", client_secret="b", refresh_buffer=-1)


def test_a_closed_client_says_so(clock: FakeClock, endpoint: FakeTokenEndpoint) -> None:
    from chalk_client import ChalkSDKError

    client = ChalkClient(**client_kwargs(clock, transport=endpoint.transport()))
    client.close()
    with pytest.raises(ChalkSDKError, match="closed"):
        client.get_token()


def test_a_config_without_credentials_is_refused_up_front() -> None:
    from chalk_client import ChalkClientConfig, ChalkConfigError

    config = ChalkClientConfig.resolve(require_credentials=False, environ={}, cwd="/")
    with pytest.raises(ChalkConfigError, match="client_secret"):
        ChalkClient(config=config)


def test_async_failure_backs_off_then_recovers(clock: FakeClock) -> None:
    endpoint = FakeTokenEndpoint(clock)
    endpoint.answers.append(ERROR_500)

    async def main() -> None:
        async with AsyncChalkClient(**client_kwargs(clock, transport=endpoint.async_transport())) as client:
            with pytest.raises(ChalkServerError):
                await client.get_token()
            with pytest.raises(ChalkServerError):  # within the backoff: no second POST
                await client.get_token()
            assert endpoint.calls == 1
            clock.advance(1.0)
            assert (await client.get_token()).access_token == f"{TOKEN_PREFIX}2"

    asyncio.run(main())
