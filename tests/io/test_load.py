"""A token is read when the request can go out: deterministic tests of the slots (issue 11, §2).

Every test runs on a fake clock and a gated transport: queries that reach the transport wait at a
gate while others queue for a slot, the clock moves past the token's expiry, and the gate opens.
Nothing sleeps; every wait is bounded.

The transport plays the server: it answers the token exchange, and for each query it records the
bearer token it carried and whether that token had expired when it arrived (by the fake clock).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chalk_client import AsyncChalkClient, ChalkClient, ChalkTimeoutError
from tests.conftest import FakeClock, FakeTokenEndpoint, client_kwargs

QUERY = "/v1/query/online"
LIFETIME = 100.0  # seconds; with refresh_buffer=10 and rand=0 the token is refreshed at 90 s
BUFFER = 10.0
BOUND = 10.0  # seconds any wait in these tests may take at most


class GatedServer:
    """A token endpoint and a query endpoint whose queries wait at a gate (sync or async)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.tokens = FakeTokenEndpoint(clock, lifetime=LIFETIME)
        self.issued: dict[str, float] = {}  # access token -> its expiry on the fake monotonic clock
        self.seen: list[tuple[str, bool]] = []  # (token, expired on arrival) per query
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.agate: asyncio.Event | None = None
        self.gated = 0  # queries waiting at the gate
        self.arrived = threading.Condition(self.lock)

    def _token(self, request: httpx.Request) -> httpx.Response:
        response = self.tokens._answer(request)
        body = json.loads(response.content)
        with self.lock:
            self.issued[body["access_token"]] = self.clock.mono + LIFETIME
        return httpx.Response(200, json=body)

    def _arrive(self, request: httpx.Request) -> None:
        token = request.headers["authorization"].removeprefix("Bearer ")
        with self.lock:
            expired = self.clock.mono >= self.issued.get(token, float("-inf"))
            self.seen.append((token, expired))
            self.gated += 1
            self.arrived.notify_all()

    @staticmethod
    def _answer(request: httpx.Request) -> httpx.Response:
        user = json.loads(request.content)["inputs"]["user.id"]
        return httpx.Response(200, json={"data": [{"field": "user.id", "value": user}], "errors": None})

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/oauth/token"):
                return self._token(request)
            self._arrive(request)
            assert self.gate.wait(BOUND), "the test's gate never opened"
            return self._answer(request)

        return httpx.MockTransport(handler)

    def async_transport(self) -> httpx.MockTransport:
        async def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/oauth/token"):
                return self._token(request)
            self._arrive(request)
            assert self.agate is not None
            await asyncio.wait_for(self.agate.wait(), BOUND)
            return self._answer(request)

        return httpx.MockTransport(handler)

    def wait_gated(self, n: int) -> None:
        with self.lock:
            assert self.arrived.wait_for(lambda: self.gated >= n, BOUND), f"{self.gated} of {n} arrived"

    @property
    def expired_seen(self) -> int:
        return sum(expired for _, expired in self.seen)


class CountingSlots(threading.BoundedSemaphore):
    """A pool's slots that count the callers waiting for one (so a test knows they queue)."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.waiting = 0
        self.changed = threading.Condition()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if super().acquire(blocking=False):
            return True
        with self.changed:
            self.waiting += 1
            self.changed.notify_all()
        return super().acquire(blocking, timeout)

    def wait_waiting(self, n: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.waiting >= n, BOUND), f"{self.waiting} of {n} queued"


class CountingAsyncSlots(asyncio.Semaphore):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.waiting = 0

    async def acquire(self) -> bool:
        if self.locked():
            self.waiting += 1
        return await super().acquire()


def sync_client(server: GatedServer, clock: FakeClock, slots: int, **extra: Any) -> ChalkClient:
    client = ChalkClient(
        **client_kwargs(
            clock,
            transport=server.transport(),
            refresh_buffer=BUFFER,
            limits=httpx.Limits(max_connections=slots),
            **extra,
        )
    )
    counting = CountingSlots(slots)
    client._driver.api.slots = counting  # one pool serves both planes with a caller's transport
    assert client._driver.engine is client._driver.api
    return client


def run_threads(n: int, call: Callable[[int], Any]) -> tuple[list[threading.Thread], list[Any]]:
    results: list[Any] = [None] * n

    def work(i: int) -> None:
        try:
            results[i] = call(i)
        except Exception as err:  # the test asserts on it
            results[i] = err

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    return threads, results


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(BOUND)
        assert not thread.is_alive(), "a caller never finished"


def test_a_call_queued_past_its_tokens_expiry_goes_out_with_the_fresh_token(clock: FakeClock) -> None:
    server = GatedServer(clock)
    with sync_client(server, clock, slots=1) as client:
        first, _ = run_threads(1, lambda i: client.query({"user.id": 1}, ["user.id"]))
        server.wait_gated(1)  # the first call holds the only slot, at the gate
        second, results = run_threads(1, lambda i: client.query({"user.id": 2}, ["user.id"]))
        client._driver.api.slots.wait_waiting(1)  # the second was routed with token 1, and queues
        clock.advance(LIFETIME + 1)  # token 1 expires while it waits
        server.gate.set()
        join(first + second)
    assert results[0].get_value("user.id") == 2
    assert [token for token, _ in server.seen] == [
        server.tokens.token_body(1)["access_token"],
        server.tokens.token_body(2)["access_token"],
    ]
    assert server.expired_seen == 0
    assert server.tokens.calls == 2


def test_64_threads_from_cold_cause_the_implied_exchanges_and_send_no_expired_token(clock: FakeClock) -> None:
    server = GatedServer(clock)
    slots = 8
    with sync_client(server, clock, slots=slots) as client:
        threads, results = run_threads(64, lambda i: client.query({"user.id": i}, ["user.id"]))
        server.wait_gated(slots)  # 8 calls at the gate with token 1, 56 queued for a slot
        client._driver.api.slots.wait_waiting(64 - slots)
        assert server.tokens.calls == 1  # from cold: one exchange for all 64
        clock.advance(LIFETIME + 1)  # token 1 expires while 56 calls queue
        server.gate.set()
        join(threads)
    assert [r.get_value("user.id") for r in results] == list(range(64))
    # The schedule implies 2 exchanges: one from cold, one after the expiry (one flight for 56).
    assert server.tokens.calls == 2
    assert server.expired_seen == 0
    assert len(server.seen) == 64  # no 401, so no replay


def test_256_tasks_from_cold_cause_the_implied_exchanges_and_send_no_expired_token(clock: FakeClock) -> None:
    server = GatedServer(clock)
    slots = 16

    async def main() -> list[Any]:
        server.agate = asyncio.Event()
        client = AsyncChalkClient(
            **client_kwargs(
                clock,
                transport=server.async_transport(),
                refresh_buffer=BUFFER,
                limits=httpx.Limits(max_connections=slots),
            )
        )
        pool = await client._driver.api.get()
        pool.slots = counting = CountingAsyncSlots(slots)
        tasks = [asyncio.create_task(client.query({"user.id": i}, ["user.id"])) for i in range(256)]
        for _ in range(100):  # scheduling steps, not time: until every task is at the gate or queued
            if server.gated >= slots and counting.waiting >= 256 - slots:
                break
            await asyncio.sleep(0)
        assert (server.gated, counting.waiting) == (slots, 256 - slots)
        assert server.tokens.calls == 1
        clock.advance(LIFETIME + 1)  # token 1 expires while 240 tasks queue
        server.agate.set()
        results = await asyncio.wait_for(asyncio.gather(*tasks), BOUND)
        await client.aclose()
        return results

    results = asyncio.run(main())
    assert [r.get_value("user.id") for r in results] == list(range(256))
    assert server.tokens.calls == 2
    assert server.expired_seen == 0
    assert len(server.seen) == 256


def test_a_refresh_point_passed_while_queued_refreshes_once_and_nobody_waits(clock: FakeClock) -> None:
    # Past the refresh point (90 s) but before expiry (100 s): one queued caller refreshes, the
    # others send the still-valid token; nobody sends an expired one.
    server = GatedServer(clock)
    slots = 4
    with sync_client(server, clock, slots=slots) as client:
        threads, results = run_threads(32, lambda i: client.query({"user.id": i}, ["user.id"]))
        server.wait_gated(slots)
        client._driver.api.slots.wait_waiting(32 - slots)
        clock.advance(LIFETIME - BUFFER + 1)
        server.gate.set()
        join(threads)
    assert all(not isinstance(r, Exception) for r in results), results
    assert server.tokens.calls == 2
    assert server.expired_seen == 0


def test_no_free_slot_within_the_pool_timeout_is_a_timeout_error_and_nothing_is_sent(
    clock: FakeClock,
) -> None:
    server = GatedServer(clock)
    timeout = httpx.Timeout(5.0, pool=0.05)
    with sync_client(server, clock, slots=1, timeout=timeout, max_retries=0) as client:
        first, _ = run_threads(1, lambda i: client.query({"user.id": 1}, ["user.id"]))
        server.wait_gated(1)
        with pytest.raises(ChalkTimeoutError) as caught:
            client.query({"user.id": 2}, ["user.id"])
        server.gate.set()
        join(first)
    assert "pool timeout" in str(caught.value)
    assert caught.value.attempts == 1
    assert len(server.seen) == 1  # the second call never reached the transport


def test_a_pool_timeout_on_the_async_client_is_a_timeout_error(clock: FakeClock) -> None:
    server = GatedServer(clock)

    async def main() -> BaseException:
        server.agate = asyncio.Event()
        client = AsyncChalkClient(
            **client_kwargs(
                clock,
                transport=server.async_transport(),
                limits=httpx.Limits(max_connections=1),
                timeout=httpx.Timeout(5.0, pool=0.05),
                max_retries=0,
            )
        )
        first = asyncio.create_task(client.query({"user.id": 1}, ["user.id"]))
        for _ in range(100):
            if server.gated:
                break
            await asyncio.sleep(0)
        with pytest.raises(ChalkTimeoutError) as caught:
            await client.query({"user.id": 2}, ["user.id"])
        server.agate.set()
        await asyncio.wait_for(first, BOUND)
        await client.aclose()
        return caught.value

    error = asyncio.run(main())
    assert "pool timeout" in str(error)
    assert len(server.seen) == 1


def test_the_token_exchange_takes_no_slot(clock: FakeClock) -> None:
    # Every slot is held by a call that waits for the exchange: the exchange still goes out.
    endpoint = FakeTokenEndpoint(clock)
    endpoint.gate = threading.Event()
    transport = httpx.MockTransport(
        lambda request: (
            endpoint(request) if request.url.path.endswith("/oauth/token") else GatedServer._answer(request)
        )
    )
    with ChalkClient(
        **client_kwargs(clock, transport=transport, limits=httpx.Limits(max_connections=2))
    ) as client:
        threads, results = run_threads(4, lambda i: client.query({"user.id": i}, ["user.id"]))
        assert endpoint.entered.wait(BOUND)
        endpoint.gate.set()
        join(threads)
    assert [r.get_value("user.id") for r in results] == [0, 1, 2, 3]
    assert endpoint.calls == 1


def _slot_then_fail() -> Any:
    """A flow that takes a slot and fails before it sends (as a failed re-exchange would)."""
    from chalk_client._core.steps import TakeSlot, ask

    lease = yield from ask(TakeSlot(False, 0.0, "http://127.0.0.1/v1/query/online"))
    assert not isinstance(lease, Exception)
    raise RuntimeError("failed while holding the slot")


def test_a_slot_taken_by_a_flow_that_fails_before_sending_is_given_back(clock: FakeClock) -> None:
    client = sync_client(GatedServer(clock), clock, slots=1)
    with client:
        for _ in range(3):  # with the only slot lost, the second round would time out
            with pytest.raises(RuntimeError, match="holding the slot"):
                client._driver.run(_slot_then_fail())
        assert client._driver.api.slots.acquire(timeout=0)


def test_the_async_driver_gives_back_a_slot_when_the_flow_fails_before_sending(clock: FakeClock) -> None:
    async def main() -> bool:
        async with AsyncChalkClient(
            **client_kwargs(
                clock,
                transport=httpx.MockTransport(GatedServer._answer),
                limits=httpx.Limits(max_connections=1),
            )
        ) as client:
            for _ in range(3):
                with pytest.raises(RuntimeError, match="holding the slot"):
                    await asyncio.wait_for(client._driver.run(_slot_then_fail()), BOUND)
            pool = await client._driver.api.get()
            return pool.slots is not None and not pool.slots.locked()

    assert asyncio.run(main())
