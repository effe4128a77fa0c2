"""Benchmark chalk_client: print a table of figures and write them to BENCHMARKS.md.

Run it as ``scripts/bench`` (``--quick`` for a run under a minute, ``--check`` to fail on a gross
regression). What it measures, each figure the median of several rounds, each comparison a ratio of
rounds run side by side (SDK round, raw round, SDK round, ...) in the same run:

1. the cached ``get_token()``: ns per call, sync and async;
2. sequential ``query()`` against a server on loopback: calls/s, p50, p99, against a raw
   ``httpx.Client`` posting the same JSON with static headers to the same server;
3. 256 tasks sharing one ``AsyncChalkClient`` and 64 threads sharing one ``ChalkClient``: calls/s
   against raw httpx with the same concurrency and connection limits;
4. token exchanges while 64 threads and 256 tasks query and the token expires twice, against the
   fewest possible, and the errors seen;
5. ``import chalk_client`` in a fresh process against ``import httpx``, and peak RSS after import,
   one client and one call, against httpx alone doing the same;
6. parsing a 1,000-feature online-query answer into ``OnlineQueryResult`` against ``json.loads``.

The server for 2 to 4 is ``scripts/_bench_server.py`` in a subprocess (ChalkServer runs in the
benchmark's own process and serves about a thousand calls a second: it would be the bottleneck). Its
capacity is measured in the same run with a minimal client, and reported against the raw-httpx rates.

Every loop is bounded in count and in time, and a watchdog ends a run that overstays its budget.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import functools
import inspect
import itertools
import json
import math
import os
import platform
import random
import re
import select
import selectors
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx

from chalk_client import AsyncChalkClient, ChalkClient, OnlineQueryResult

ROOT: Final = Path(__file__).resolve().parent.parent
SERVER_SCRIPT: Final = ROOT / "scripts" / "_bench_server.py"
CLIENT_SECRET: Final = "bench-secret"
QUERY_INPUT: Final = {"user.id": 1}
QUERY_OUTPUT: Final = ("user.id", "user.name", "user.age", "user.credit_score")
QUERY_PATH: Final = "/v1/query/online"
TASKS: Final = 256
THREADS: Final = 64
PARSE_FEATURES: Final = 1000
# How far a figure may miss its target before --check calls it a gross regression: twice the
# allowed value (for "at most" targets), or half the required one (for "at least" targets).
GROSS_FACTOR: Final = 2.0
# The server must serve at least this many times the fastest raw-httpx rate, or the SDK-to-raw
# ratios might be measuring the server.
CAPACITY_HEADROOM: Final = 3.0


# -------------------------------------------------------------------------------------------------
# Run profiles


@dataclass(frozen=True)
class Profile:
    """How long and how often each measurement runs."""

    name: str
    token_rounds: int  # get_token(): rounds per side
    token_batch: int  # calls per round
    seq_pairs: int  # sequential query(): (SDK, raw) round pairs
    seq_seconds: float  # per round
    conc_pairs: int  # concurrent query(): pairs per mode (tasks, threads)
    conc_seconds: float
    expiry_runs: int  # token expiry: runs
    expiry_lifetime: float  # the token lifetime the server gives (seconds)
    expiry_buffer: float  # the clients' refresh_buffer
    expiry_seconds: float  # how long each run queries
    import_runs: int  # fresh processes per side
    rss_runs: int
    parse_pairs: int
    parse_seconds: float
    capacity_rounds: int
    capacity_seconds: float
    budget: float  # the watchdog ends a run that hangs after this many seconds

    def __post_init__(self) -> None:
        # The run must outlast two lifetimes (the token expires twice) and end before the SDK's
        # third refresh, which comes after 3 * (lifetime - 1.1 * buffer) at the earliest: then the
        # fewest possible exchanges and the SDK's own schedule agree (3 per client).
        low, high = 2 * self.expiry_lifetime, 3 * (self.expiry_lifetime - 1.1 * self.expiry_buffer)
        if not low < self.expiry_seconds < high:
            raise ValueError(f"{self.name}: expiry_seconds must lie in ({low}, {high})")


FULL: Final = Profile(
    name="full",
    token_rounds=7,
    token_batch=100_000,
    seq_pairs=7,
    seq_seconds=1.0,
    conc_pairs=5,
    conc_seconds=2.0,
    expiry_runs=2,
    expiry_lifetime=12.0,
    expiry_buffer=2.4,
    expiry_seconds=26.0,
    import_runs=9,
    rss_runs=5,
    parse_pairs=7,
    parse_seconds=0.3,
    capacity_rounds=3,
    capacity_seconds=0.5,
    budget=290.0,
)
QUICK: Final = Profile(
    name="quick",
    token_rounds=5,
    token_batch=50_000,
    seq_pairs=3,
    seq_seconds=0.4,
    conc_pairs=3,
    conc_seconds=0.6,
    expiry_runs=1,
    expiry_lifetime=6.0,
    expiry_buffer=1.0,
    expiry_seconds=13.2,
    import_runs=5,
    rss_runs=2,
    parse_pairs=3,
    parse_seconds=0.2,
    capacity_rounds=2,
    capacity_seconds=0.3,
    budget=120.0,
)


# -------------------------------------------------------------------------------------------------
# Figures and targets


@dataclass(frozen=True)
class Check:
    """One target: `measured` must be at most (or at least) `limit`."""

    measured: float
    limit: float
    at_most: bool
    # False: a miss is reported, but --check never fails on it (a figure that depends on the
    # machine more than on the SDK, such as absolute import time).
    gross_gate: bool = True

    def passed(self) -> bool:
        """Whether the target is met."""
        return self.measured <= self.limit if self.at_most else self.measured >= self.limit

    def gross(self) -> bool:
        """Whether the figure misses by more than `GROSS_FACTOR` (a regression, not noise)."""
        if not self.gross_gate:
            return False
        if self.at_most:
            return self.measured > self.limit * GROSS_FACTOR
        return self.measured < self.limit / GROSS_FACTOR


@dataclass(frozen=True)
class Figure:
    """One row of the table. `gate` False: reported, never a reason for --check to fail."""

    name: str
    value: str
    baseline: str = "-"
    relation: str = "-"
    target: str = "-"
    checks: tuple[Check, ...] = ()
    gate: bool = True

    @property
    def result(self) -> str:
        """PASS, MISS (target missed), FAIL (missed grossly); ok/WARN for a row that is no gate."""
        if not self.checks:
            return "-"
        if not self.gate:
            return "ok" if all(c.passed() for c in self.checks) else "WARN"
        if any(c.gross() for c in self.checks):
            return "FAIL"
        return "PASS" if all(c.passed() for c in self.checks) else "MISS"


@dataclass
class Report:
    """Everything a run found: rows, notes, and the numbers the notes compare."""

    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw_rates: dict[str, float] = field(default_factory=dict)  # fastest raw-httpx rate per item


def fmt_ns(value: float) -> str:
    """Nanoseconds."""
    return f"{value:,.0f} ns"


def fmt_us(value_ns: float) -> str:
    """Nanoseconds shown as microseconds."""
    return f"{value_ns / 1000:,.1f} us"


def fmt_ms(seconds: float) -> str:
    """Seconds shown as milliseconds."""
    return f"{seconds * 1000:,.1f} ms"


def fmt_rate(value: float) -> str:
    """Calls per second."""
    return f"{value:,.0f}/s"


def fmt_ratio(value: float) -> str:
    """A ratio."""
    return f"{value:.2f}x"


def fmt_mib(value: float) -> str:
    """Bytes shown as MiB."""
    return f"{value / 2**20:,.1f} MiB"


def paired_ratio(values: Sequence[float], baselines: Sequence[float]) -> float:
    """The median of each round's ratio to the baseline round run beside it."""
    return statistics.median(v / b for v, b in zip(values, baselines, strict=True))


def nearest_rank(sorted_values: Sequence[float], quantile: float) -> float:
    """The `quantile` (0..1) of sorted values, by the nearest-rank method."""
    index = max(0, math.ceil(quantile * len(sorted_values)) - 1)
    return sorted_values[min(index, len(sorted_values) - 1)]


def progress(message: str) -> None:
    """A line on stderr, so a long run shows where it is."""
    print(f"  ... {message}", file=sys.stderr, flush=True)


# -------------------------------------------------------------------------------------------------
# The server, the clients, and the raw-httpx baselines


class BenchServer:
    """``scripts/_bench_server.py`` in a subprocess; stopped (killed if need be) on exit."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self._control: httpx.Client | None = None

    def __enter__(self) -> BenchServer:
        process = subprocess.Popen(
            [sys.executable, str(SERVER_SCRIPT), "--client-secret", CLIENT_SECRET],
            stdin=subprocess.PIPE,  # the server stops when this closes, even if we are killed
            stdout=subprocess.PIPE,
            text=True,
        )
        self._process = process
        try:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], 15.0)
            line = process.stdout.readline() if ready else ""
            if not line.startswith("PORT "):
                raise RuntimeError(f"the benchmark server did not start (it said {line!r})")
            self.url = f"http://127.0.0.1:{int(line.split()[1])}"
            self._control = httpx.Client(base_url=self.url, timeout=10.0)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._control is not None:
            self._control.close()
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5.0)
        if process.stdout is not None:
            process.stdout.close()

    def stats(self) -> dict[str, Any]:
        """The server's counters."""
        assert self._control is not None
        answer: dict[str, Any] = self._control.get("/_bench/stats").raise_for_status().json()
        return answer

    def reset(self, *, token_lifetime: float | None = None) -> dict[str, Any]:
        """Zero the counters (answering them first) and set the lifetime of later tokens."""
        assert self._control is not None
        options = {} if token_lifetime is None else {"token_lifetime": token_lifetime}
        answer: dict[str, Any] = self._control.post("/_bench/stats", json=options).raise_for_status().json()
        return answer

    def raw_token(self, client_id: str) -> str:
        """An access token exchanged with plain httpx (for the raw baselines)."""
        assert self._control is not None
        body = {"client_id": client_id, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"}
        token: str = (
            self._control.post("/v1/oauth/token", json=body).raise_for_status().json()["access_token"]
        )
        return token


def _sdk_default(name: str, fallback: Any) -> Any:
    """The default of ChalkClient's `name` argument, or `fallback` if it has none."""
    parameter = inspect.signature(ChalkClient.__init__).parameters.get(name)
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return fallback
    return parameter.default


def sdk_limits() -> httpx.Limits:
    """The connection limits both sides of a concurrent comparison use: the SDK's default."""
    limits = _sdk_default("limits", None)
    return limits if isinstance(limits, httpx.Limits) else httpx.Limits()


def sdk_timeout() -> httpx.Timeout:
    """The SDK's default timeout, which the raw clients use too (it sets the pool timeout as well)."""
    timeout = _sdk_default("timeout", None)
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(30.0, connect=5.0)


def client_options(server: BenchServer, client_id: str, **extra: Any) -> dict[str, Any]:
    """Constructor arguments for an SDK client of `server`; ``limits`` only if the SDK accepts it."""
    options: dict[str, Any] = {
        "client_id": client_id,
        "client_secret": CLIENT_SECRET,
        "api_server": server.url,
        **extra,
    }
    if "limits" in inspect.signature(ChalkClient.__init__).parameters:
        options["limits"] = sdk_limits()
    return options


@dataclass(frozen=True)
class RawQuery:
    """What the raw-httpx baseline sends: the SDK's query JSON, with static headers."""

    url: str
    body: dict[str, Any]
    headers: dict[str, str]

    @classmethod
    def for_server(cls, server: BenchServer, client_id: str) -> RawQuery:
        """The request, with a token exchanged once and the routing headers the SDK sends."""
        token = server.raw_token(client_id)
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "X-Chalk-Client-Id": client_id,
            "X-Chalk-Env-Id": "env-1",
            "X-Chalk-Deployment-Type": "engine",
        }
        body = {"inputs": dict(QUERY_INPUT), "outputs": list(QUERY_OUTPUT)}
        return cls(server.url + QUERY_PATH, body, headers)

    def sync_call(self, http: httpx.Client) -> Callable[[], object]:
        """One raw query: post, check the status, decode the JSON."""
        url, body, headers = self.url, self.body, self.headers

        def call() -> object:
            response = http.post(url, json=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"raw query answered {response.status_code}")
            return response.json()

        return call

    def async_call(self, http: httpx.AsyncClient) -> Callable[[], Awaitable[object]]:
        """The same, with ``await``."""
        url, body, headers = self.url, self.body, self.headers

        async def call() -> object:
            response = await http.post(url, json=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"raw query answered {response.status_code}")
            return response.json()

        return call


def sdk_sync_call(client: ChalkClient) -> Callable[[], object]:
    """One SDK query."""
    return functools.partial(client.query, input=QUERY_INPUT, output=QUERY_OUTPUT)


def sdk_async_call(client: AsyncChalkClient) -> Callable[[], Awaitable[object]]:
    """One SDK query, with ``await``."""
    return functools.partial(client.query, input=QUERY_INPUT, output=QUERY_OUTPUT)


class Guard:
    """Counts the calls of one side of a comparison that raise, instead of letting one end the run.

    httpx itself fails now and then when 64 threads churn through a pool that keeps 20 connections
    alive (a ReadError on a socket another thread has closed, about once in 30,000 calls): such a
    failure is reported, not fatal. A side where more than 1% of the calls fail is broken, and
    :meth:`settle` raises.
    """

    def __init__(self, side: str) -> None:
        self.side = side
        self.calls = 0  # approximate under threads: it only sizes the failure rate
        self.failures = 0
        self.first = ""

    def wrap(self, call: Callable[[], object]) -> Callable[[], object]:
        """`call`, counted."""

        def guarded() -> object:
            self.calls += 1
            try:
                return call()
            except Exception as err:
                self._failed(err)
                return None

        return guarded

    def awrap(self, call: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        """`call`, counted, with ``await``."""

        async def guarded() -> object:
            self.calls += 1
            try:
                return await call()
            except Exception as err:
                self._failed(err)
                return None

        return guarded

    def _failed(self, err: Exception) -> None:
        self.failures += 1
        if not self.first:
            self.first = f"{type(err).__name__}: {err}"[:200]

    def settle(self, report: Report, item: str) -> None:
        """Note the failures in the report; raise if they are more than a trace."""
        if not self.failures:
            return
        message = (
            f"{item}, {self.side}: {self.failures} of about {self.calls:,} calls failed (first: {self.first})"
        )
        if self.failures > max(3, self.calls // 100):
            raise RuntimeError(message)
        report.notes.append(message + "; too few to matter, but counted in the rate.")


# -------------------------------------------------------------------------------------------------
# Rounds: bounded loops that time something


def ns_per_call(call: Callable[[], object], count: int) -> float:
    """Nanoseconds per call of `count` back-to-back calls (the loop's own cost included)."""
    start = time.perf_counter_ns()
    for _ in itertools.repeat(None, count):
        call()
    return (time.perf_counter_ns() - start) / count


async def ns_per_await(call: Callable[[], Awaitable[object]], count: int) -> float:
    """The same for a coroutine function, each call awaited."""
    start = time.perf_counter_ns()
    for _ in itertools.repeat(None, count):
        await call()
    return (time.perf_counter_ns() - start) / count


@dataclass(frozen=True)
class SequentialRound:
    """One sequential round: its rate and latency percentiles."""

    rate: float
    p50_ns: float
    p99_ns: float


def sequential_round(call: Callable[[], object], seconds: float, max_calls: int = 100_000) -> SequentialRound:
    """Call `call` back to back for `seconds` (at most `max_calls` times), timing each call."""
    latencies: list[int] = []
    clock = time.perf_counter_ns
    start = clock()
    deadline = start + int(seconds * 1e9)
    for _ in range(max_calls):
        before = clock()
        call()
        after = clock()
        latencies.append(after - before)
        if after >= deadline:
            break
    elapsed = (clock() - start) / 1e9
    latencies.sort()
    return SequentialRound(
        len(latencies) / elapsed, nearest_rank(latencies, 0.5), nearest_rank(latencies, 0.99)
    )


async def tasks_round(
    call: Callable[[], Awaitable[object]], tasks: int, seconds: float, max_per_task: int = 100_000
) -> float:
    """Calls per second of `tasks` tasks, each calling `call` in a loop for `seconds`."""
    deadline = time.perf_counter() + seconds

    async def worker() -> int:
        done = 0
        while done < max_per_task and time.perf_counter() < deadline:
            await call()
            done += 1
        return done

    start = time.perf_counter()
    counts = await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(tasks))), seconds + 60.0)
    return sum(counts) / (time.perf_counter() - start)


def threads_round(
    call: Callable[[], object], threads: int, seconds: float, max_per_thread: int = 100_000
) -> float:
    """Calls per second of `threads` threads, each calling `call` in a loop for `seconds`."""
    counts = [0] * threads
    failures: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        barrier.wait()
        try:
            done = 0
            while done < max_per_thread and time.perf_counter() < deadline[0]:
                call()
                done += 1
            counts[index] = done
        except BaseException as err:  # re-raised in the main thread
            failures.append(err)

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    barrier.wait()
    start = time.perf_counter()
    for thread in pool:
        thread.join(timeout=seconds + 60.0)
    elapsed = time.perf_counter() - start
    if failures:
        raise failures[0]
    if any(thread.is_alive() for thread in pool):
        raise RuntimeError("a benchmark thread did not finish in time")
    return sum(counts) / elapsed


# -------------------------------------------------------------------------------------------------
# 0. Server capacity


def measure_capacity(profile: Profile, server: BenchServer, connections: int = 16) -> float:
    """Calls/s the server answers: `connections` raw keep-alive sockets, one query in flight each.

    The client is a selector loop sending pre-built request bytes, so it costs far less than httpx;
    it is still Python, so the figure is a lower bound of what the server can do.
    """
    token = server.raw_token("bench-capacity")
    body = json.dumps({"inputs": QUERY_INPUT, "outputs": list(QUERY_OUTPUT)}).encode()
    host, port = server.url.removeprefix("http://").split(":")
    request = (
        f"POST {QUERY_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    answer_size = _answer_size(host, int(port), request)
    rates = []
    for _ in range(profile.capacity_rounds):
        before = server.stats()["queries"]
        answered, elapsed = _drive_sockets(
            host,
            int(port),
            request,
            answer_size=answer_size,
            connections=connections,
            seconds=profile.capacity_seconds,
        )
        if server.stats()["queries"] - before < answered:
            raise RuntimeError("the capacity client counted answers the server did not give")
        rates.append(answered / elapsed)
    return statistics.median(rates)


def _answer_size(host: str, port: int, request: bytes) -> int:
    """The size of the server's (fixed-size) answer to `request`, checking that it is a 200."""
    with socket.create_connection((host, port), timeout=10.0) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            data += sock.recv(65536)
        head, _, _ = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"the server refused the capacity query: {head[:60]!r}")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return len(head) + 4 + length


def _drive_sockets(
    host: str, port: int, request: bytes, *, answer_size: int, connections: int, seconds: float
) -> tuple[int, float]:
    """Send `request` on each socket again as soon as its answer is in; (answers, seconds)."""
    selector = selectors.DefaultSelector()
    sockets = []
    try:
        for _ in range(connections):
            sock = socket.create_connection((host, port), timeout=10.0)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            sockets.append(sock)
            selector.register(sock, selectors.EVENT_READ, [0])  # bytes of the answer received
        answered = 0
        start = time.perf_counter()
        deadline = start + seconds
        for sock in sockets:
            sock.sendall(request)
        for _ in range(10_000_000):
            for key, _events in selector.select(timeout=5.0):
                ready, pending = key.fileobj, key.data
                assert isinstance(ready, socket.socket)
                data = ready.recv(65536)
                if not data:
                    raise RuntimeError("the server closed a capacity connection")
                pending[0] += len(data)
                if pending[0] >= answer_size:
                    pending[0] -= answer_size
                    answered += 1
                    if ready.send(request) != len(request):  # a few hundred bytes: sent whole
                        raise RuntimeError("a capacity request was sent in part")
            if time.perf_counter() >= deadline:
                break
        return answered, time.perf_counter() - start
    finally:
        for sock in sockets:
            selector.unregister(sock)
            sock.close()
        selector.close()


# -------------------------------------------------------------------------------------------------
# 1. The cached get_token()


class _Noop:
    def method(self) -> None:
        return None


async def _noop_coroutine() -> None:
    return None


def measure_get_token(profile: Profile, server: BenchServer, report: Report) -> None:
    """ns per cached ``get_token()`` call, sync and async, beside a no-op call of the same kind."""
    rounds, batch = profile.token_rounds, profile.token_batch
    deadline = time.perf_counter() + 30.0
    with ChalkClient(**client_options(server, "bench-token")) as client:
        client.get_token()  # the one exchange; every later call is served from the cache
        sync_ns, noop_ns = [], []
        noop = _Noop().method
        for _ in range(rounds):
            sync_ns.append(ns_per_call(client.get_token, batch))
            noop_ns.append(ns_per_call(noop, batch))
            if time.perf_counter() > deadline:
                break

    async def run_async() -> tuple[list[float], list[float]]:
        async with AsyncChalkClient(**client_options(server, "bench-token-async")) as aclient:
            await aclient.get_token()
            values, baselines = [], []
            for _ in range(rounds):
                values.append(await ns_per_await(aclient.get_token, batch))
                baselines.append(await ns_per_await(_noop_coroutine, batch))
                if time.perf_counter() > deadline:
                    break
            return values, baselines

    async_ns, anoop_ns = asyncio.run(run_async())
    for name, values, baselines, what, limit in (
        ("cached get_token(), sync", sync_ns, noop_ns, "no-op method call", 300.0),
        ("cached get_token(), async", async_ns, anoop_ns, "await no-op coroutine", 1000.0),
    ):
        value = statistics.median(values)
        report.figures.append(
            Figure(
                name,
                fmt_ns(value),
                f"{fmt_ns(statistics.median(baselines))} ({what})",
                fmt_ratio(paired_ratio(values, baselines)),
                f"<= {fmt_ns(limit)}",
                (Check(value, limit, at_most=True),),
            )
        )


# -------------------------------------------------------------------------------------------------
# 2. Sequential query()


def measure_sequential(profile: Profile, server: BenchServer, report: Report) -> None:
    """Back-to-back ``query()`` calls against raw httpx posting the same JSON: rate, p50, p99."""
    raw_query = RawQuery.for_server(server, "bench-seq-raw")
    sdk_rounds: list[SequentialRound] = []
    raw_rounds: list[SequentialRound] = []
    with (
        ChalkClient(**client_options(server, "bench-seq")) as client,
        httpx.Client(limits=sdk_limits(), timeout=sdk_timeout()) as http,
    ):
        guards = Guard("SDK"), Guard("raw httpx")
        sdk, raw = guards[0].wrap(sdk_sync_call(client)), guards[1].wrap(raw_query.sync_call(http))
        sequential_round(sdk, 0.2)  # warm up: the token, the connection, the code paths
        sequential_round(raw, 0.2)
        for _ in range(profile.seq_pairs):
            sdk_rounds.append(sequential_round(sdk, profile.seq_seconds))
            raw_rounds.append(sequential_round(raw, profile.seq_seconds))
    for guard in guards:
        guard.settle(report, "sequential query()")
    sdk_rates, raw_rates = [r.rate for r in sdk_rounds], [r.rate for r in raw_rounds]
    report.raw_rates["sequential"] = statistics.median(raw_rates)
    rate_ratio = paired_ratio(sdk_rates, raw_rates)
    report.figures.append(
        Figure(
            "sequential query(): rate",
            fmt_rate(statistics.median(sdk_rates)),
            f"{fmt_rate(statistics.median(raw_rates))} (raw httpx)",
            fmt_ratio(rate_ratio),
            ">= 1.00x raw",
            (Check(rate_ratio, 1.0, at_most=False),),
        )
    )
    for label, attribute, limit in (("p50", "p50_ns", 1.0), ("p99", "p99_ns", None)):
        values = [getattr(r, attribute) for r in sdk_rounds]
        baselines = [getattr(r, attribute) for r in raw_rounds]
        ratio = paired_ratio(values, baselines)
        report.figures.append(
            Figure(
                f"sequential query(): {label}",
                fmt_us(statistics.median(values)),
                f"{fmt_us(statistics.median(baselines))} (raw httpx)",
                fmt_ratio(ratio),
                "-" if limit is None else f"<= {limit:.2f}x raw",
                () if limit is None else (Check(ratio, limit, at_most=True),),
            )
        )


# -------------------------------------------------------------------------------------------------
# 3. Concurrent query(): tasks and threads


def _concurrency_figure(name: str, values: list[float], baselines: list[float], what: str) -> Figure:
    ratio = paired_ratio(values, baselines)
    return Figure(
        name,
        fmt_rate(statistics.median(values)),
        f"{fmt_rate(statistics.median(baselines))} ({what})",
        fmt_ratio(ratio),
        ">= 1.00x raw",
        (Check(ratio, 1.0, at_most=False),),
    )


def measure_tasks(profile: Profile, server: BenchServer, report: Report) -> None:
    """256 tasks sharing one AsyncChalkClient against 256 tasks sharing one httpx.AsyncClient."""
    raw_query = RawQuery.for_server(server, "bench-tasks-raw")
    guards = Guard("SDK"), Guard("raw httpx")

    async def run() -> tuple[list[float], list[float]]:
        async with (
            AsyncChalkClient(**client_options(server, "bench-tasks")) as client,
            httpx.AsyncClient(limits=sdk_limits(), timeout=sdk_timeout()) as http,
        ):
            sdk, raw = guards[0].awrap(sdk_async_call(client)), guards[1].awrap(raw_query.async_call(http))
            await tasks_round(sdk, TASKS, 0.3)  # warm up: the token and the connection pool
            await tasks_round(raw, TASKS, 0.3)
            values, baselines = [], []
            for _ in range(profile.conc_pairs):
                values.append(await tasks_round(sdk, TASKS, profile.conc_seconds))
                baselines.append(await tasks_round(raw, TASKS, profile.conc_seconds))
            return values, baselines

    values, baselines = asyncio.run(run())
    for guard in guards:
        guard.settle(report, f"{TASKS} tasks")
    report.raw_rates["tasks"] = statistics.median(baselines)
    report.figures.append(
        _concurrency_figure(
            f"{TASKS} tasks, AsyncChalkClient.query()", values, baselines, "raw httpx.AsyncClient"
        )
    )


def measure_threads(profile: Profile, server: BenchServer, report: Report) -> None:
    """64 threads sharing one ChalkClient against 64 threads sharing one httpx.Client."""
    raw_query = RawQuery.for_server(server, "bench-threads-raw")
    values, baselines = [], []
    with (
        ChalkClient(**client_options(server, "bench-threads")) as client,
        httpx.Client(limits=sdk_limits(), timeout=sdk_timeout()) as http,
    ):
        guards = Guard("SDK"), Guard("raw httpx")
        sdk, raw = guards[0].wrap(sdk_sync_call(client)), guards[1].wrap(raw_query.sync_call(http))
        threads_round(sdk, THREADS, 0.3)
        threads_round(raw, THREADS, 0.3)
        for _ in range(profile.conc_pairs):
            values.append(threads_round(sdk, THREADS, profile.conc_seconds))
            baselines.append(threads_round(raw, THREADS, profile.conc_seconds))
    for guard in guards:
        guard.settle(report, f"{THREADS} threads")
    report.raw_rates["threads"] = statistics.median(baselines)
    report.figures.append(
        _concurrency_figure(
            f"{THREADS} threads, one ChalkClient.query()", values, baselines, "raw httpx.Client"
        )
    )


# -------------------------------------------------------------------------------------------------
# 4. Token exchanges while the token expires


_EXPIRY_MAX_CALLS: Final = 1_000_000  # per worker; the deadline ends a run long before
# Mean pause between one worker's calls during an expiry run (uniform in [0, 2 x mean]). Unpaced,
# 64 busy threads starve the event loop of the GIL and httpx's async pool serves some tasks only
# after tens of seconds, so a call could carry a token longer than it lives; paced, the process has
# CPU to spare, calls take milliseconds, and what is measured is the token logic, not a queue.
THREAD_PAUSE: Final = 0.2
TASK_PAUSE: Final = 2.0


def _pause(mean: float, deadline: float) -> float:
    """A random pause of `mean` seconds on average, ending by `deadline`."""
    return max(0.0, min(random.uniform(0.0, 2.0 * mean), deadline - time.perf_counter()))


@dataclass
class _Tally:
    """One worker's calls during an expiry run."""

    calls: int = 0
    errors: list[str] = field(default_factory=list)
    first_start: float = math.inf
    last_start: float = -math.inf
    slowest: float = 0.0

    def before(self) -> float:
        """Note a call's start; returns it."""
        now = time.perf_counter()
        self.first_start = min(self.first_start, now)
        self.last_start = now
        return now

    def after(self, started: float, error: Exception | None) -> None:
        """Note a call's end, and its error if it failed."""
        self.calls += 1
        self.slowest = max(self.slowest, time.perf_counter() - started)
        if error is not None:
            message = re.sub(r"\(trace \w+\)", "(trace ...)", f"{type(error).__name__}: {error}")
            self.errors.append(message[:300])


@dataclass
class _Side:
    """What the workers of one client saw during an expiry run (they add their tallies under the lock)."""

    total: _Tally = field(default_factory=_Tally)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def duration(self) -> float:
        """The span over which this client asked for tokens: first call's start to last call's start."""
        return max(0.0, self.total.last_start - self.total.first_start)

    def work(self, call: Callable[[], object], deadline: float, pause: float) -> None:
        """Call `call` until `deadline`, `pause` s apart on average, counting the errors."""
        tally = _Tally()
        while tally.calls < _EXPIRY_MAX_CALLS and time.perf_counter() < deadline:
            started, error = tally.before(), None
            try:
                call()
            except Exception as err:  # counted, not raised: errors are what this measures
                error = err
            tally.after(started, error)
            time.sleep(_pause(pause, deadline))
        self._add(tally)

    async def awork(self, call: Callable[[], Awaitable[object]], deadline: float, pause: float) -> None:
        """The same with ``await``."""
        tally = _Tally()
        while tally.calls < _EXPIRY_MAX_CALLS and time.perf_counter() < deadline:
            started, error = tally.before(), None
            try:
                await call()
            except Exception as err:
                error = err
            tally.after(started, error)
            await asyncio.sleep(_pause(pause, deadline))
        self._add(tally)

    def _add(self, tally: _Tally) -> None:
        with self.lock:
            total = self.total
            total.calls += tally.calls
            total.errors.extend(tally.errors)
            total.first_start = min(total.first_start, tally.first_start)
            total.last_start = max(total.last_start, tally.last_start)
            total.slowest = max(total.slowest, tally.slowest)


@dataclass(frozen=True)
class ExpiryResult:
    """One client's expiry run: its exchanges, the fewest possible, and what its callers saw."""

    exchanges: int
    minimum: int
    duration: float
    tally: _Tally


def _expiry_run(profile: Profile, server: BenchServer) -> tuple[dict[str, ExpiryResult], dict[str, Any]]:
    """64 threads on one ChalkClient and 256 tasks on one AsyncChalkClient, for expiry_seconds.

    Returns each side's result, and the server's counters for the run (401s, connections).
    """
    lifetime, seconds = profile.expiry_lifetime, profile.expiry_seconds
    server.reset(token_lifetime=lifetime)
    # The SDK's default retries: a query that fails in transport (httpx's pool now and then, under
    # 64 threads) is retried as for any user. A failed token exchange or a 401 is never retried, so
    # every token problem still shows as an error.
    options = {"refresh_buffer": profile.expiry_buffer}
    sides = {"threads": _Side(), "tasks": _Side()}
    ids = {"threads": "bench-expiry-threads", "tasks": "bench-expiry-tasks"}
    barrier = threading.Barrier(THREADS + 2)  # the threads, the event loop's thread, this one
    deadline = [0.0]  # set just before the barrier opens

    def thread_worker(call: Callable[[], object]) -> None:
        barrier.wait()
        sides["threads"].work(call, deadline[0], THREAD_PAUSE)

    async def tasks_main(client: AsyncChalkClient) -> None:
        async with client:
            call = sdk_async_call(client)
            workers = (sides["tasks"].awork(call, deadline[0], TASK_PAUSE) for _ in range(TASKS))
            await asyncio.wait_for(asyncio.gather(*workers), seconds + 60.0)

    def loop_thread(client: AsyncChalkClient) -> None:
        barrier.wait()
        asyncio.run(tasks_main(client))

    with ChalkClient(**client_options(server, ids["threads"], **options)) as sync_client:
        async_client = AsyncChalkClient(**client_options(server, ids["tasks"], **options))
        call = sdk_sync_call(sync_client)
        pool = [threading.Thread(target=thread_worker, args=(call,), daemon=True) for _ in range(THREADS)]
        pool.append(threading.Thread(target=loop_thread, args=(async_client,), daemon=True))
        for thread in pool:
            thread.start()
        deadline[0] = time.perf_counter() + seconds
        barrier.wait()
        for thread in pool:
            thread.join(timeout=seconds + 90.0)
        if any(thread.is_alive() for thread in pool):
            raise RuntimeError("a token-expiry worker did not finish in time")
    stats = server.reset(token_lifetime=3600.0)  # answers the counters of this run
    results = {
        name: ExpiryResult(
            exchanges=stats["exchanges"].get(ids[name], 0),
            minimum=max(1, math.ceil(side.duration / lifetime)),
            duration=side.duration,
            tally=side.total,
        )
        for name, side in sides.items()
    }
    return results, stats


def measure_token_expiry(profile: Profile, server: BenchServer, report: Report) -> None:
    """Token exchanges under 64 threads plus 256 tasks while the token expires twice, and errors."""
    runs = [_expiry_run(profile, server) for _ in range(profile.expiry_runs)]
    labels = {
        "threads": f"{THREADS} threads, one ChalkClient",
        "tasks": f"{TASKS} tasks, one AsyncChalkClient",
    }
    for side, label in labels.items():
        worst = max((results[side] for results, _ in runs), key=lambda r: r.exchanges / r.minimum)
        report.figures.append(
            Figure(
                f"token exchanges, {label}",
                str(worst.exchanges),
                f"{worst.minimum} (minimum)",
                fmt_ratio(worst.exchanges / worst.minimum),
                "= minimum",
                (Check(worst.exchanges / worst.minimum, 1.0, at_most=True),),
            )
        )
    tallies = [results[side].tally for results, _ in runs for side in labels]
    errors = [error for tally in tallies for error in tally.errors]
    report.figures.append(
        Figure(
            "errors while the token expires",
            str(len(errors)),
            f"{sum(t.calls for t in tallies):,} calls",
            "-",
            "= 0",
            (Check(float(len(errors)), 0.0, at_most=True),),
        )
    )
    lifetime, buffer = profile.expiry_lifetime, profile.expiry_buffer
    details = "; ".join(
        f"{side}: {r.exchanges} exchanges over {r.duration:.1f} s, {r.tally.calls:,} calls, "
        f"slowest {r.tally.slowest:.1f} s"
        for results, _ in runs
        for side, r in results.items()
    )
    slowest = max(t.slowest for t in tallies)
    note = (
        f"Token expiry: {len(runs)} run(s). The server's tokens live L = {lifetime:g} s; the clients refresh "
        f"{buffer:g} s before expiry (plus up to 10% jitter); 64 threads on one ChalkClient and 256 tasks on "
        f"one AsyncChalkClient query for {profile.expiry_seconds:g} s at the same time, each worker pausing "
        f"{THREAD_PAUSE:g} s (threads) or {TASK_PAUSE:g} s (tasks) on average between calls so that the "
        "process is not saturated (saturation is item 3's business), with the SDK's default connection "
        "limits and retries (retries do not cover 401s, which get the auth layer's bounded replays, nor "
        "failed token exchanges, so token trouble still shows as errors). Each client has its own token cache, so the minimum is per client: ceil(D / L), D "
        "being the span over which that client "
        "asked for tokens (first call's start to last call's start): the fewest L-second tokens that can "
        "cover it. D lies between 2L and 3(L - 1.1 x buffer), so each client's token expires twice and the "
        "SDK's refresh schedule also needs exactly 3. The table shows the worst run. "
        f"Runs: {details}. The server answered {sum(st['queries'] for _, st in runs):,} queries for "
        f"{sum(t.calls for t in tallies):,} calls, {sum(st['unauthorized'] for _, st in runs)} 401s, and "
        f"accepted {sum(st['connections'] for _, st in runs):,} connections."
    )
    if slowest >= lifetime / 2:
        note += (
            f" WARNING: the slowest call took {slowest:.1f} s, at least half the token lifetime: a call "
            "can carry a token that expires before the server sees it, so errors may be the load's doing."
        )
    if errors:
        kinds = sorted(set(errors))
        note += f" Errors ({len(kinds)} distinct): " + " | ".join(kinds[:3])
    report.notes.append(note)


# -------------------------------------------------------------------------------------------------
# 5. Import time and memory, in fresh processes

_IMPORT_CODE: Final = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"

# Peak RSS in bytes. On Linux, ru_maxrss of a child starts at its parent's RSS when it forked (the
# kernel keeps the larger of the two across exec), so a benchmark of 40 MiB would hide everything
# smaller: read the high-water mark of the process's own memory (VmHWM) instead.
_RSS_PRELUDE: Final = """
import resource, sys
url, secret, token = sys.argv[1:4]
def rss():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024
"""
_RSS_SDK_CODE: Final = (
    _RSS_PRELUDE
    + """
import chalk_client
client = chalk_client.ChalkClient(client_id="bench-rss", client_secret=secret, api_server=url)
after_client = rss()
client.query(input={"user.id": 1}, output=["user.id", "user.name", "user.age", "user.credit_score"])
print(after_client, rss())
"""
)
_RSS_HTTPX_CODE: Final = (
    _RSS_PRELUDE
    + """
import httpx
client = httpx.Client()
after_client = rss()
response = client.post(
    url + "/v1/query/online",
    json={"inputs": {"user.id": 1}, "outputs": ["user.id", "user.name", "user.age", "user.credit_score"]},
    headers={"Authorization": "Bearer " + token},
)
assert response.status_code == 200, response.status_code
response.json()
print(after_client, rss())
"""
)


def _run_python(code: str, *args: str) -> str:
    """The stdout of ``python -c code args`` in a fresh process (bounded: 60 s)."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60.0,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"a measuring subprocess failed:\n{done.stderr}")
    return done.stdout


def measure_import(profile: Profile, report: Report) -> None:
    """``import chalk_client`` wall time in fresh processes, beside ``import httpx``."""
    sdk_code, httpx_code = _IMPORT_CODE.format(module="chalk_client"), _IMPORT_CODE.format(module="httpx")
    _run_python(sdk_code)  # warm the file cache and the bytecode cache
    _run_python(httpx_code)
    values, baselines = [], []
    for _ in range(profile.import_runs):
        values.append(float(_run_python(sdk_code)))
        baselines.append(float(_run_python(httpx_code)))
    value, ratio = statistics.median(values), paired_ratio(values, baselines)
    report.figures.append(
        Figure(
            "import chalk_client (fresh process)",
            fmt_ms(value),
            f"{fmt_ms(statistics.median(baselines))} (import httpx)",
            fmt_ratio(ratio),
            "<= 100 ms, <= 2.00x",
            # The absolute figure moves with the machine (import httpx alone takes 50-130 ms on
            # this kind of machine): the ratio to httpx, measured side by side, is the CI gate.
            (Check(value, 0.100, at_most=True, gross_gate=False), Check(ratio, 2.0, at_most=True)),
        )
    )


def measure_rss(profile: Profile, server: BenchServer, report: Report) -> None:
    """Peak RSS after import + one client, and after one call, beside httpx alone doing the same."""
    token = server.raw_token("bench-rss-raw")
    args = (server.url, CLIENT_SECRET, token)
    sdk_runs, httpx_runs = [], []
    for _ in range(profile.rss_runs):
        sdk_runs.append([int(v) for v in _run_python(_RSS_SDK_CODE, *args).split()])
        httpx_runs.append([int(v) for v in _run_python(_RSS_HTTPX_CODE, *args).split()])
    for index, label, limit in (
        (0, "import + one client", None),
        (1, "import + client + one call", 5 * 2**20),
    ):
        value = statistics.median(run[index] for run in sdk_runs)
        baseline = statistics.median(run[index] for run in httpx_runs)
        difference = value - baseline
        report.figures.append(
            Figure(
                f"peak RSS after {label}",
                fmt_mib(value),
                f"{fmt_mib(baseline)} (httpx alone)",
                f"{difference / 2**20:+.1f} MiB",
                "-" if limit is None else f"<= +{limit / 2**20:g} MiB",
                () if limit is None else (Check(difference, limit, at_most=True),),
            )
        )


# -------------------------------------------------------------------------------------------------
# 6. Parsing a large answer


def online_query_parser(body: bytes) -> Callable[[], OnlineQueryResult]:
    """A no-argument function that parses `body` exactly as ``query()`` parses a 200 answer.

    The one place that knows the SDK's private parser and its signature.
    """
    from chalk_client import _calls

    call = _calls.online_query_call(QUERY_INPUT, [f"user.f{i}" for i in range(PARSE_FEATURES)])
    request = httpx.Request("POST", "http://127.0.0.1" + QUERY_PATH)
    response = httpx.Response(
        200, content=body, headers={"Content-Type": "application/json"}, request=request
    )
    return functools.partial(_calls.parse_online_query, call, response, (CLIENT_SECRET,))


def large_answer(features: int = PARSE_FEATURES) -> bytes:
    """An online-query answer of `features` features (ints, floats, strings, booleans), no errors."""
    kinds: tuple[Callable[[int], object], ...] = (
        lambda i: i * 7,
        lambda i: i / 3,
        lambda i: f"value number {i}",
        lambda i: i % 2 == 0,
    )
    ts = "2026-01-01T00:00:00.000000Z"
    data = [
        {"field": f"user.f{i}", "value": kinds[i % 4](i), "pkey": 1, "error": None, "ts": ts, "valid": True}
        for i in range(features)
    ]
    return json.dumps({"data": data, "errors": []}, separators=(",", ":")).encode()


def _seconds_per_call(call: Callable[[], object], seconds: float, max_calls: int = 100_000) -> float:
    """Mean seconds per call over about `seconds` of back-to-back calls (at most `max_calls`)."""
    start = time.perf_counter()
    deadline = start + seconds
    calls = 0
    while calls < max_calls:
        call()
        calls += 1
        if time.perf_counter() >= deadline:
            break
    return (time.perf_counter() - start) / calls


def measure_parse(profile: Profile, report: Report) -> None:
    """Parsing a 1,000-feature answer into OnlineQueryResult, beside ``json.loads`` of the same bytes."""
    body = large_answer()
    parse = online_query_parser(body)
    result = parse()
    if len(result) != PARSE_FEATURES or result.get_value("user.f2") != "value number 2":
        raise RuntimeError("the parsed benchmark answer does not hold what was sent")
    loads = functools.partial(json.loads, body)
    _seconds_per_call(parse, 0.1)
    _seconds_per_call(loads, 0.1)
    values, baselines = [], []
    for _ in range(profile.parse_pairs):
        values.append(_seconds_per_call(parse, profile.parse_seconds))
        baselines.append(_seconds_per_call(loads, profile.parse_seconds))
    ratio = paired_ratio(values, baselines)
    report.figures.append(
        Figure(
            f"parse {PARSE_FEATURES:,}-feature answer ({len(body) / 1024:.0f} KiB)",
            fmt_us(statistics.median(values) * 1e9),
            f"{fmt_us(statistics.median(baselines) * 1e9)} (json.loads)",
            fmt_ratio(ratio),
            "<= 2.00x",
            (Check(ratio, 2.0, at_most=True),),
        )
    )


# -------------------------------------------------------------------------------------------------
# The table, the machine, BENCHMARKS.md

_HEADERS: Final = ("figure", "value", "baseline", "ratio", "target", "result")


def _rows(figures: Sequence[Figure]) -> list[tuple[str, ...]]:
    return [(f.name, f.value, f.baseline, f.relation, f.target, f.result) for f in figures]


def text_table(figures: Sequence[Figure]) -> str:
    """The figures as an aligned plain-text table."""
    rows = [_HEADERS, *_rows(figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADERS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(figures: Sequence[Figure]) -> str:
    """The figures as a Markdown table."""
    lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in _rows(figures)]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=10.0, cwd=ROOT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    from chalk_client import __version__

    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    if _git("status", "--porcelain", "--", "chalk_client"):
        commit += ", chalk_client/ has uncommitted changes"
    return [
        ("CPUs", f"{os.cpu_count()} ({_cpu_model()})"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Platform", platform.platform()),
        ("httpx", httpx.__version__),
        ("chalk-client", f"{__version__} (commit {commit})"),
    ]


def write_markdown(
    path: Path, report: Report, *, command: str, profile: Profile, started: datetime, seconds: float
) -> None:
    """Write BENCHMARKS.md: the command, the machine, the table, the notes."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {started:%Y-%m-%d %H:%M} UTC ({profile.name} run, {seconds:.0f} s). "
        "Run it again to refresh this file.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in machine()),
        "",
        "## Figures",
        "",
        markdown_table(report.figures),
        "",
        "Result: PASS meets the target, MISS misses it, FAIL misses it by more than 2x (worse than half the "
        "target); `scripts/bench --check` exits non-zero on FAIL only.",
        "",
        "## Notes",
        "",
        *(f"- {note}" for note in [*report.notes, *methodology_notes(profile)]),
        "",
    ]
    path.write_text("\n".join(lines))


def methodology_notes(profile: Profile) -> list[str]:
    """How the figures were taken, for the reader of BENCHMARKS.md."""
    return [
        "Each figure is the median of several rounds; each ratio is the median of per-pair ratios, each "
        "SDK round against the baseline round run right after it (SDK, raw, SDK, raw, ...), so a machine "
        "that slows down during the run moves both sides of a pair.",
        "Server: scripts/_bench_server.py in its own process (asyncio + httptools, keep-alive), on "
        "127.0.0.1. Its token answer names no engines, so queries go to api_server, the same server.",
        "Raw-httpx baseline: one httpx.Client / httpx.AsyncClient with the SDK's default connection limits "
        f"({sdk_limits()}) and timeout, posting the same JSON (json=) with static headers (Authorization and "
        "the X-Chalk-* routing headers the SDK sends), checking the status and decoding the answer with "
        ".json(); the SDK additionally builds an OnlineQueryResult.",
        f"Rounds ({profile.name}): get_token {profile.token_rounds} x {profile.token_batch:,} calls; "
        "sequential "
        f"{profile.seq_pairs} pairs x {profile.seq_seconds:g} s; concurrent {profile.conc_pairs} pairs x "
        f"{profile.conc_seconds:g} s per mode; import {profile.import_runs} processes per side; RSS "
        f"{profile.rss_runs}; parse {profile.parse_pairs} pairs x {profile.parse_seconds:g} s.",
        "get_token() figures include the timing loop's own cost (itertools.repeat); the baseline column "
        "shows "
        "a no-op call timed the same way. p50/p99 are per call, nearest rank, median over rounds.",
        "Import: the perf_counter time around the import statement in `python -c`, after one unmeasured "
        "warm-up process per side. RSS: the peak resident set of a fresh process (VmHWM from "
        "/proc/self/status; ru_maxrss where there is no /proc, but on Linux a child's ru_maxrss starts at "
        "its parent's size); the SDK side imports chalk_client, "
        "builds a ChalkClient and makes one query (a token exchange and the query); httpx alone builds an "
        "httpx.Client and posts the same query with a static token.",
        f"Parse: {PARSE_FEATURES:,} features (ints, floats, strings, booleans; no errors), the SDK's own "
        "online-query parser on a prepared httpx.Response, against json.loads of the same bytes.",
    ]


# -------------------------------------------------------------------------------------------------
# Main


@contextmanager
def clean_environment() -> Iterator[None]:
    """No CHALK_* variables and no ``chalk login`` file: the clients see only what they are given."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="chalk-bench-") as home:
        for name in list(os.environ):
            if name.lstrip("_").startswith("CHALK_"):
                del os.environ[name]
        os.environ["XDG_CONFIG_HOME"] = home
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def run(profile: Profile) -> Report:
    """Every measurement, in order, against one benchmark server."""
    report = Report()
    with BenchServer() as server:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("1/6 cached get_token()", lambda: measure_get_token(profile, server, report)),
            ("2/6 sequential query()", lambda: measure_sequential(profile, server, report)),
            (f"3/6 {TASKS} tasks", lambda: measure_tasks(profile, server, report)),
            (f"3/6 {THREADS} threads", lambda: measure_threads(profile, server, report)),
            ("4/6 token expiry", lambda: measure_token_expiry(profile, server, report)),
            ("5/6 import time", lambda: measure_import(profile, report)),
            ("5/6 peak RSS", lambda: measure_rss(profile, server, report)),
            ("6/6 parsing", lambda: measure_parse(profile, report)),
        ]
        progress("server capacity")
        capacity = measure_capacity(profile, server)
        for label, step in steps:
            progress(label)
            step()
    fastest = max(report.raw_rates.values())
    headroom = capacity / fastest
    report.figures.insert(
        0,
        Figure(
            "server capacity (minimal client)",
            fmt_rate(capacity),
            f"{fmt_rate(fastest)} (fastest raw httpx)",
            fmt_ratio(headroom),
            f">= {CAPACITY_HEADROOM:.2f}x",
            (Check(headroom, CAPACITY_HEADROOM, at_most=False),),
            gate=False,
        ),
    )
    verdict = (
        "enough headroom: the SDK-to-raw ratios measure the clients, not the server"
        if headroom >= CAPACITY_HEADROOM
        else f"WARNING: under {CAPACITY_HEADROOM:g}x the raw-httpx rate, so the server may be the bottleneck "
        "and the concurrent ratios may understate the difference between the clients"
    )
    raw = ", ".join(f"{name} {fmt_rate(rate)}" for name, rate in report.raw_rates.items())
    report.notes.insert(
        0,
        f"Server capacity: {fmt_rate(capacity)} with 16 keep-alive sockets, one query in flight each, "
        f"pre-built request bytes (a lower bound: that client is Python too); {headroom:.1f}x the fastest "
        f"raw-httpx rate ({raw}); {verdict}.",
    )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the exit status is 1 with --check when a figure regressed grossly."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute), for CI")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a figure is worse than half its target (FAIL)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the report (default: BENCHMARKS.md for a full run, nothing for --quick)",
    )
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    output = args.output if args.output is not None else (None if args.quick else ROOT / "BENCHMARKS.md")
    command = shlex.join(["scripts/bench", *(sys.argv[1:] if argv is None else argv)])
    faulthandler.dump_traceback_later(profile.budget, exit=True)  # a hung run ends; the server follows
    started, clock = datetime.now(UTC), time.perf_counter()
    print(
        f"{command}: {profile.name} run on {os.cpu_count()} CPUs, Python {platform.python_version()}",
        file=sys.stderr,
    )
    with clean_environment():
        report = run(profile)
    seconds = time.perf_counter() - clock
    faulthandler.cancel_dump_traceback_later()
    print()
    print(text_table(report.figures))
    print()
    for note in report.notes:
        print(f"- {note}")
    print(f"\n{profile.name} run: {seconds:.0f} s")
    if output is not None:
        write_markdown(output, report, command=command, profile=profile, started=started, seconds=seconds)
        print(f"wrote {output}")
    failed = [f.name for f in report.figures if f.gate and f.result == "FAIL"]
    if args.check:
        if failed:
            print(f"check: FAIL (worse than half the target): {'; '.join(failed)}")
            return 1
        print("check: no gross regression")
    return 0


if __name__ == "__main__":
    sys.exit(main())
