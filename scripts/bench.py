"""Benchmark chalk_client: print a table of figures and write them to BENCHMARKS.md.

Run it as ``scripts/bench`` (``--quick`` for a run of about a minute, ``--check`` to fail on a gross
regression). Every comparison is a ratio of rounds run side by side in the same run (SDK round, floor
rounds, SDK round, ..., the order rotating), each figure the median of its rounds' figures:

1. the cached ``get_token()``: ns per call, sync and async;
2. "1 thread, sequential": back-to-back ``ChalkClient.query()`` calls against raw ``httpx.Client``
   and raw ``urllib3`` floors posting the same JSON with static headers to the same server, and the
   SDK on httpx's own transport (``transport=httpx.HTTPTransport(...)``, httpcore's pool);
3. "1 task, sequential": ``AsyncChalkClient.query()`` against raw ``httpx.AsyncClient`` and raw
   ``aiohttp``;
4. "256 tasks" sharing one ``AsyncChalkClient`` against the same async floors, and "64 threads"
   sharing one ``ChalkClient`` against the sync floors and the httpcore transport (2 and 4 give the
   sync-transport figures: the default urllib3 transport against httpcore at 1 thread and at 64);
5. saturation with expiring tokens: from cold, no pauses, 5 s of calls with 4 s tokens, 64 threads on
   one ``ChalkClient``, then 256 tasks on one ``AsyncChalkClient``: the token exchanges against the
   count the SDK's refresh schedule implies, the expired tokens the server saw, and the errors;
6. ``import chalk_client`` in a fresh process against ``import httpx`` (and whether it imported
   aiohttp), and peak RSS after import, one client and one call, against httpx alone doing the same;
7. parsing a 1,000-feature online-query answer into ``OnlineQueryResult`` against ``json.loads``.

Every call, SDK and floors alike, asks for a different ``user.id`` (one counter), and every floor
decodes its answer with orjson as the SDK does. After each round the server's count of the queries
it answered must equal the calls the round made (so nothing was coalesced or cached); a mismatch is
an error in the output. p50 and p99 are reported for every side of every mode.

The server for 2 to 5 is ``scripts/_bench_server.py`` in a subprocess (ChalkServer runs in the
benchmark's own process and serves about a thousand calls a second: it would be the bottleneck). Its
capacity is measured in the same run with a minimal client, and reported against the floors' rates.

``--check`` (CI: ``scripts/bench --quick --check``) gates only same-run ratios, and only for gross
regressions (worse than half a target). A figure that fails is measured again once, with a fresh set
of paired rounds, and fails the run only if it fails again. Absolute times, exchange counts, expired
tokens, errors and memory are printed, never gated: deterministic tests assert those.

Every loop is bounded in count and in time, and a watchdog ends a run that overstays its budget.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import functools
import importlib.util
import inspect
import itertools
import json
import math
import os
import platform
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
import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiohttp
import httpx
import orjson
import urllib3

from chalk_client import AsyncChalkClient, ChalkClient, OnlineQueryResult

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT: Final = Path(__file__).resolve().parent.parent
SERVER_SCRIPT: Final = ROOT / "scripts" / "_bench_server.py"
CLIENT_SECRET: Final = "bench-secret"
QUERY_OUTPUT: Final = ("user.id", "user.name", "user.age", "user.credit_score")
QUERY_PATH: Final = "/v1/query/online"
USER_ID: Final = "user.id"
TASKS: Final = 256
THREADS: Final = 64
PARSE_FEATURES: Final = 1000
# How far a figure may miss its target before --check calls it a gross regression: twice the
# allowed value (for "at most" targets), or half the required one (for "at least" targets).
GROSS_FACTOR: Final = 2.0
# The server must serve at least this many times the fastest floor's rate, or the SDK-to-floor
# ratios might be measuring the server.
CAPACITY_HEADROOM: Final = 3.0
# How long a concurrent round may take to drain (its calls in flight at the deadline) before the
# round is abandoned; the slowest floor (httpx's async pool under 256 tasks) takes seconds.
DRAIN_LIMIT: Final = 45.0

# Every call of every side takes the next id: no two calls of a run ask for the same user, so no
# layer can answer one from another's result. ``next()`` on itertools.count is atomic under the GIL.
_user_ids = itertools.count(1)
_OUTPUTS: Final = list(QUERY_OUTPUT)


# -------------------------------------------------------------------------------------------------
# Run profiles


@dataclass(frozen=True)
class Profile:
    """How long and how often each measurement runs."""

    name: str
    token_rounds: int  # get_token(): rounds per side
    token_batch: int  # calls per round
    seq_pairs: int  # sequential query(): rounds per side (SDK and floors side by side)
    seq_seconds: float  # per round
    conc_pairs: int  # concurrent query(): rounds per side per mode (tasks, threads)
    conc_seconds: float
    saturation_runs: int  # saturation with expiring tokens: runs per mode (threads, tasks)
    saturation_seconds: float  # how long each run starts calls
    saturation_lifetime: float  # the token lifetime the server gives (seconds)
    saturation_buffer: float  # the clients' refresh_buffer
    import_runs: int  # fresh processes per side
    rss_runs: int
    parse_pairs: int
    parse_seconds: float
    capacity_rounds: int
    capacity_seconds: float
    budget: float  # the watchdog ends a run that hangs after this many seconds
    remeasure_budget: float  # and a re-measurement (--check) after this many more
    httpx2: bool = False  # --httpx2: raw httpx2.Client as a reference floor in the sync modes


FULL: Final = Profile(
    name="full",
    token_rounds=7,
    token_batch=100_000,
    seq_pairs=7,
    seq_seconds=0.6,
    conc_pairs=5,
    conc_seconds=1.5,
    saturation_runs=2,
    saturation_seconds=5.0,
    saturation_lifetime=4.0,
    saturation_buffer=2.0,
    import_runs=9,
    rss_runs=5,
    parse_pairs=7,
    parse_seconds=0.3,
    capacity_rounds=3,
    capacity_seconds=0.5,
    budget=420.0,
    remeasure_budget=240.0,
)
QUICK: Final = Profile(
    name="quick",
    token_rounds=5,
    token_batch=50_000,
    seq_pairs=5,
    seq_seconds=0.3,
    conc_pairs=3,
    conc_seconds=0.5,
    saturation_runs=1,
    saturation_seconds=5.0,
    saturation_lifetime=4.0,
    saturation_buffer=2.0,
    import_runs=5,
    rss_runs=2,
    parse_pairs=3,
    parse_seconds=0.2,
    capacity_rounds=2,
    capacity_seconds=0.3,
    budget=180.0,
    remeasure_budget=120.0,
)


# -------------------------------------------------------------------------------------------------
# Figures and targets


@dataclass(frozen=True)
class Check:
    """One target: `measured` must be at most (or at least) `limit`."""

    measured: float
    limit: float
    at_most: bool
    # False: a miss is reported, but --check never fails on it (anything but a same-run ratio:
    # absolute times, counts, memory).
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
    """One row of the table. `gate` False: reported, never a reason for --check to fail.

    `verdict` replaces the computed result (a decision row, or ERROR for a side that broke).
    `remeasured` notes that this is the second measurement of a figure whose first one failed.
    """

    name: str
    value: str
    baseline: str = "-"
    relation: str = "-"
    target: str = "-"
    checks: tuple[Check, ...] = ()
    gate: bool = True
    verdict: str | None = None
    remeasured: str = ""

    @property
    def result(self) -> str:
        """PASS, MISS (target missed), FAIL (missed grossly); ok/WARN for a row that is no gate."""
        if self.verdict is not None:
            return self.verdict
        if not self.checks:
            return "-"
        if not self.gate:
            return "ok" if all(c.passed() for c in self.checks) else "WARN"
        if any(c.gross() for c in self.checks):
            return "FAIL"
        return "PASS" if all(c.passed() for c in self.checks) else "MISS"


@dataclass(frozen=True)
class Round:
    """One timed round of one side: its rate, latency percentiles, and the server's count."""

    rate: float
    p50_ns: float
    p99_ns: float
    calls: int
    served: int = -1  # queries the server answered during the round (-1: not counted)


@dataclass
class SideResult:
    """One side of a mode (the SDK, or a floor): its rounds and its failures."""

    name: str
    rounds: list[Round]
    failures: int
    first_failure: str
    wrong_answer: bool = False

    @property
    def broken(self) -> bool:
        """A wrong first answer, or more than a trace of failed calls: its rate says nothing."""
        calls = sum(r.calls for r in self.rounds)
        return self.wrong_answer or self.failures > max(3, calls // 100)

    def median(self, attribute: str) -> float:
        """The median over rounds of `attribute` of a round."""
        return float(statistics.median(getattr(r, attribute) for r in self.rounds))


@dataclass
class ModeResult:
    """One load shape (e.g. "256 tasks") and every side measured under it."""

    mode: str
    sides: dict[str, SideResult]


@dataclass
class Report:
    """Everything a run found: rows, per-side rates, errors, notes."""

    figures: list[Figure] = field(default_factory=list)
    transport: list[Figure] = field(default_factory=list)  # the sync-transport rows, shown last
    modes: list[ModeResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    count_checks: list[int] = field(default_factory=lambda: [0, 0])  # rounds checked, mismatched
    floor_rates: dict[str, float] = field(default_factory=dict)  # fastest floor rate per mode


def fmt_ns(value: float) -> str:
    """Nanoseconds."""
    return f"{value:,.0f} ns"


def fmt_us(value_ns: float) -> str:
    """Nanoseconds shown as microseconds."""
    return f"{value_ns / 1000:,.1f} us"


def fmt_latency(value_ns: float) -> str:
    """Nanoseconds, in the unit that suits them."""
    if value_ns >= 1e9:
        return f"{value_ns / 1e9:,.2f} s"
    if value_ns >= 1e6:
        return f"{value_ns / 1e6:,.1f} ms"
    return f"{value_ns / 1e3:,.0f} us"


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
    if not sorted_values:
        return math.nan
    index = max(0, math.ceil(quantile * len(sorted_values)) - 1)
    return sorted_values[min(index, len(sorted_values) - 1)]


def progress(message: str) -> None:
    """A line on stderr, so a long run shows where it is."""
    print(f"  ... {message}", file=sys.stderr, flush=True)


# -------------------------------------------------------------------------------------------------
# The server, the clients, and the floors


class BenchServer:
    """``scripts/_bench_server.py`` in a subprocess; stopped (killed if need be) on exit."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.host = ""
        self.port = 0
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
            self.host, self.port = "127.0.0.1", int(line.split()[1])
            self.url = f"http://{self.host}:{self.port}"
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

    def queries(self) -> int:
        """How many queries the server has answered (200s) since its counters were last reset."""
        count: int = self.stats()["queries"]
        return count

    def reset(self, *, token_lifetime: float | None = None) -> dict[str, Any]:
        """Zero the counters (answering them first) and set the lifetime of later tokens."""
        assert self._control is not None
        options = {} if token_lifetime is None else {"token_lifetime": token_lifetime}
        answer: dict[str, Any] = self._control.post("/_bench/stats", json=options).raise_for_status().json()
        return answer

    def raw_token(self, client_id: str) -> str:
        """An access token exchanged with plain httpx (for the floors)."""
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
    """The connection limits every side of a comparison uses: the SDK's default."""
    limits = _sdk_default("limits", None)
    return limits if isinstance(limits, httpx.Limits) else httpx.Limits()


def max_connections() -> int:
    """The SDK's default connection limit, which the aiohttp and urllib3 floors use too."""
    return sdk_limits().max_connections or 100


def sdk_timeout() -> httpx.Timeout:
    """The SDK's default timeout, which the floors use too (it sets the pool timeout as well)."""
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


# A call returns (the id it asked for, its answer); `echo` reads the id back out of the answer.
SyncCall = Callable[[], tuple[int, Any] | None]
AsyncCall = Callable[[], Awaitable[tuple[int, Any] | None]]


def sdk_echo(result: Any) -> object:
    """The ``user.id`` an SDK result holds."""
    return result.get_value(USER_ID)


def raw_echo(answer: Any) -> object:
    """The ``user.id`` a decoded raw answer holds (the server puts it first)."""
    return answer["data"][0]["value"]


def sdk_sync_call(client: ChalkClient) -> SyncCall:
    """One SDK query for the next user id."""
    query, output, ids = client.query, QUERY_OUTPUT, _user_ids

    def call() -> tuple[int, Any]:
        user_id = next(ids)
        return user_id, query(input={USER_ID: user_id}, output=output)

    return call


def sdk_async_call(client: AsyncChalkClient) -> AsyncCall:
    """The same, with ``await``."""
    query, output, ids = client.query, QUERY_OUTPUT, _user_ids

    async def call() -> tuple[int, Any]:
        user_id = next(ids)
        return user_id, await query(input={USER_ID: user_id}, output=output)

    return call


@dataclass(frozen=True)
class RawQuery:
    """What every floor sends: the SDK's query JSON (encoded with orjson), with static headers."""

    url: str
    headers: dict[str, str]

    @classmethod
    def for_server(cls, server: BenchServer, client_id: str) -> RawQuery:
        """The request, with a token exchanged once and the routing headers the SDK sends."""
        token = server.raw_token(client_id)
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "X-Chalk-Client-Id": client_id,
            "X-Chalk-Env-Id": "env-1",
            "X-Chalk-Deployment-Type": "engine",
        }
        return cls(server.url + QUERY_PATH, headers)

    @staticmethod
    def _body(user_id: int) -> bytes:
        return orjson.dumps({"inputs": {USER_ID: user_id}, "outputs": _OUTPUTS})

    def httpx_sync(self, http: httpx.Client | Any) -> SyncCall:
        """One raw httpx.Client (or httpx2.Client) query: post, check the status, decode with orjson."""
        url, headers, body, loads, ids = self.url, self.headers, self._body, orjson.loads, _user_ids

        def call() -> tuple[int, Any]:
            user_id = next(ids)
            response = http.post(url, content=body(user_id), headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"raw query answered {response.status_code}")
            return user_id, loads(response.content)

        return call

    def httpx_async(self, http: httpx.AsyncClient) -> AsyncCall:
        """The same with httpx.AsyncClient."""
        url, headers, body, loads, ids = self.url, self.headers, self._body, orjson.loads, _user_ids

        async def call() -> tuple[int, Any]:
            user_id = next(ids)
            response = await http.post(url, content=body(user_id), headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"raw query answered {response.status_code}")
            return user_id, loads(response.content)

        return call

    def aiohttp_call(self, session: aiohttp.ClientSession) -> AsyncCall:
        """The same with one aiohttp.ClientSession."""
        url, headers, body, loads, ids = self.url, self.headers, self._body, orjson.loads, _user_ids

        async def call() -> tuple[int, Any]:
            user_id = next(ids)
            async with session.post(url, data=body(user_id), headers=headers) as response:
                if response.status != 200:
                    raise RuntimeError(f"raw query answered {response.status}")
                content = await response.read()
            return user_id, loads(content)

        return call

    def urllib3_call(self, pool: urllib3.HTTPConnectionPool) -> SyncCall:
        """The same with one urllib3.HTTPConnectionPool (the answer read whole, its connection kept)."""
        path, headers, body, loads, ids = QUERY_PATH, self.headers, self._body, orjson.loads, _user_ids
        pool_timeout: Any = sdk_timeout().pool  # seconds (urllib3's hints say int; a queue takes a float)

        def call() -> tuple[int, Any]:
            user_id = next(ids)
            response = pool.urlopen(
                "POST",
                path,
                body=body(user_id),
                headers=headers,
                retries=False,
                redirect=False,
                pool_timeout=pool_timeout,
            )
            if response.status != 200:
                raise RuntimeError(f"raw query answered {response.status}")
            return user_id, loads(response.data)

        return call


def aiohttp_session() -> aiohttp.ClientSession:
    """The aiohttp floor's session: one connector of the SDK's connection limit, its timeouts."""
    timeout = sdk_timeout()
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections()),
        timeout=aiohttp.ClientTimeout(total=None, connect=timeout.connect, sock_read=timeout.read),
    )


def urllib3_pool(server: BenchServer) -> urllib3.HTTPConnectionPool:
    """The urllib3 floor's pool: the SDK's connection limit, blocking when all are taken."""
    timeout = sdk_timeout()
    return urllib3.HTTPConnectionPool(
        server.host,
        server.port,
        maxsize=max_connections(),
        block=True,
        retries=False,
        timeout=urllib3.Timeout(connect=timeout.connect, read=timeout.read),
    )


def httpcore_transport() -> httpx.HTTPTransport:
    """httpx's own sync transport (httpcore's pool) with the SDK's limits, against the default urllib3 one."""
    return httpx.HTTPTransport(limits=sdk_limits())


class Guard:
    """Counts the calls of one side of a comparison that raise, instead of letting one end the run.

    httpx itself fails now and then when 64 threads churn through its pool (a ReadError on a socket
    another thread has closed, about once in 30,000 calls): such a failure is reported, not fatal. A
    side where more than 1% of the calls fail is reported as broken (ERROR), and its rate as
    meaningless; the run goes on.
    """

    def __init__(self, side: str) -> None:
        self.side = side
        self.failures = 0
        self.first = ""

    def wrap(self, call: SyncCall) -> SyncCall:
        """`call`, its failures counted."""

        def guarded() -> tuple[int, Any] | None:
            try:
                return call()
            except Exception as err:
                self._failed(err)
                return None

        return guarded

    def awrap(self, call: AsyncCall) -> AsyncCall:
        """`call`, its failures counted, with ``await``."""

        async def guarded() -> tuple[int, Any] | None:
            try:
                return await call()
            except Exception as err:
                self._failed(err)
                return None

        return guarded

    def _failed(self, err: Exception) -> None:
        self.failures += 1
        if not self.first:
            message = re.sub(r"\(trace \w+\)", "(trace ...)", f"{type(err).__name__}: {err}")
            self.first = message[:240]


@dataclass
class Side:
    """One client under measurement: its call (unguarded, for the check of its first answer)."""

    name: str
    call: Callable[[], Any]
    echo: Callable[[Any], object]
    guard: Guard = field(init=False)
    guarded: Callable[[], Any] = field(init=False)
    rounds: list[Round] = field(default_factory=list)
    wrong_answer: bool = False  # its first answer failed, or was not for the user asked for

    def __post_init__(self) -> None:
        self.guard = Guard(self.name)
        is_async = inspect.iscoroutinefunction(self.call)
        self.guarded = self.guard.awrap(self.call) if is_async else self.guard.wrap(self.call)

    def result(self) -> SideResult:
        """What was measured."""
        return SideResult(self.name, self.rounds, self.guard.failures, self.guard.first, self.wrong_answer)


def _check_echo(report: Report, mode: str, side: Side, answer: tuple[int, Any] | None) -> None:
    """Check a side's first answer: it must be for the user the call asked for (else: ERROR)."""
    problem = ""
    if answer is None:
        problem = f"the first call failed: {side.guard.first}"
    else:
        user_id, body = answer
        try:
            echoed = side.echo(body)
        except Exception as err:
            echoed = f"unreadable ({type(err).__name__}: {err})"
        if echoed != user_id:
            problem = f"asked for user {user_id}, the answer is for {echoed!r}"
    if problem:
        side.wrong_answer = True
        report.errors.append(f"{mode}, {side.name}: {problem}")


def _count_check(report: Report, mode: str, side: str, *, index: int, calls: int, served: int) -> None:
    report.count_checks[0] += 1
    if served != calls:
        report.count_checks[1] += 1
        report.errors.append(
            f"{mode}, {side}, round {index + 1}: the server answered {served:,} queries for {calls:,} calls"
        )


def run_sync_rounds(
    server: BenchServer,
    report: Report,
    mode: str,
    sides: Sequence[Side],
    timed: Callable[[Callable[[], Any], float], Round],
    *,
    rounds: int,
    seconds: float,
    warmup: float,
) -> ModeResult:
    """Warm every side up (checking its first answer), then `rounds` rounds of each, side by side.

    The order rotates from one set of rounds to the next, so no side always runs first; each
    round's calls are checked against the queries the server answered during it.
    """
    for side in sides:
        _check_echo(report, mode, side, side.guarded())
        timed(side.guarded, warmup)
    for index in range(rounds):
        shift = index % len(sides)
        for side in [*sides[shift:], *sides[:shift]]:
            before = server.queries()
            measured = timed(side.guarded, seconds)
            served = server.queries() - before
            _count_check(report, mode, side.name, index=index, calls=measured.calls, served=served)
            side.rounds.append(replace(measured, served=served))
    return _mode_result(report, mode, sides)


async def run_async_rounds(
    server: BenchServer,
    report: Report,
    mode: str,
    sides: Sequence[Side],
    timed: Callable[[Callable[[], Awaitable[Any]], float], Awaitable[Round]],
    *,
    rounds: int,
    seconds: float,
    warmup: float,
) -> ModeResult:
    """:func:`run_sync_rounds` for async sides (the server's counters are read between rounds)."""
    for side in sides:
        _check_echo(report, mode, side, await side.guarded())
        await timed(side.guarded, warmup)
    for index in range(rounds):
        shift = index % len(sides)
        for side in [*sides[shift:], *sides[:shift]]:
            before = server.queries()
            measured = await timed(side.guarded, seconds)
            served = server.queries() - before
            _count_check(report, mode, side.name, index=index, calls=measured.calls, served=served)
            side.rounds.append(replace(measured, served=served))
    return _mode_result(report, mode, sides)


def _mode_result(report: Report, mode: str, sides: Sequence[Side]) -> ModeResult:
    result = ModeResult(mode, {side.name: side.result() for side in sides})
    for side in result.sides.values():
        if side.failures:
            message = f"{mode}, {side.name}: {side.failures:,} calls failed (first: {side.first_failure})"
            if side.broken:
                report.errors.append(message + "; more than 1%: its figures are meaningless (ERROR)")
            else:
                report.notes.append(message + "; too few to matter, but counted in the rate.")
    report.modes.append(result)
    floors = [s.median("rate") for name, s in result.sides.items() if name.startswith("raw ")]
    if floors:
        report.floor_rates[mode] = max(floors)
    return result


def ratio_figure(
    result: ModeResult,
    side: str,
    baseline: str,
    *,
    target: float | None,
    name: str | None = None,
    gate: bool = True,
    target_text: str | None = None,
) -> Figure:
    """`side`'s rate against `baseline`'s, paired round by round; a check of at least `target`.

    The row is named "<mode>: <side> / <baseline>" unless `name` is given.
    """
    name = name if name is not None else f"{result.mode}: {side} / {baseline}"
    value, base = result.sides[side], result.sides[baseline]
    ratio = paired_ratio([r.rate for r in value.rounds], [r.rate for r in base.rounds])
    checks = () if target is None else (Check(ratio, target, at_most=False, gross_gate=gate),)
    broken = [s.name for s in (value, base) if s.broken]
    return Figure(
        name,
        fmt_rate(value.median("rate")),
        f"{fmt_rate(base.median('rate'))} ({baseline})",
        fmt_ratio(ratio),
        target_text if target_text is not None else ("-" if target is None else f">= {target:.2f}x"),
        checks,
        gate=gate and not broken,
        verdict="ERROR" if broken else None,
    )


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


def _round(latencies: list[int], elapsed: float) -> Round:
    latencies.sort()
    return Round(
        len(latencies) / elapsed if elapsed > 0 else 0.0,
        nearest_rank(latencies, 0.5),
        nearest_rank(latencies, 0.99),
        len(latencies),
    )


def sequential_round(call: Callable[[], object], seconds: float, max_calls: int = 200_000) -> Round:
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
    return _round(latencies, (clock() - start) / 1e9)


async def async_sequential_round(
    call: Callable[[], Awaitable[object]], seconds: float, max_calls: int = 200_000
) -> Round:
    """The same, awaiting each call, in one task."""
    latencies: list[int] = []
    clock = time.perf_counter_ns
    start = clock()
    deadline = start + int(seconds * 1e9)
    for _ in range(max_calls):
        before = clock()
        await call()
        after = clock()
        latencies.append(after - before)
        if after >= deadline:
            break
    return _round(latencies, (clock() - start) / 1e9)


async def tasks_round(
    call: Callable[[], Awaitable[object]], seconds: float, tasks: int = TASKS, max_per_task: int = 100_000
) -> Round:
    """`tasks` tasks, each calling `call` in a loop until `seconds` have passed; every call is awaited.

    The rate counts every call over the whole round, its drain (the calls still in flight at the
    deadline) included; the latencies are per call, from the moment the task makes it.
    """
    clock = time.perf_counter_ns
    start = clock()
    deadline = start + int(seconds * 1e9)
    latencies: list[int] = []

    async def worker() -> None:
        for _ in range(max_per_task):
            before = clock()
            await call()
            after = clock()
            latencies.append(after - before)
            if after >= deadline:
                break

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(tasks))), seconds + DRAIN_LIMIT)
    return _round(latencies, (clock() - start) / 1e9)


def threads_round(
    call: Callable[[], object], seconds: float, threads: int = THREADS, max_per_thread: int = 100_000
) -> Round:
    """`threads` threads, each calling `call` in a loop until `seconds` have passed (from the barrier)."""
    clock = time.perf_counter_ns
    per_thread: list[list[int]] = [[] for _ in range(threads)]
    failures: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)
    deadline = [0]

    def worker(latencies: list[int]) -> None:
        barrier.wait()
        try:
            for _ in range(max_per_thread):
                before = clock()
                call()
                after = clock()
                latencies.append(after - before)
                if after >= deadline[0]:
                    break
        except BaseException as err:  # re-raised in the main thread
            failures.append(err)

    pool = [threading.Thread(target=worker, args=(per_thread[i],), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    start = clock()
    deadline[0] = start + int(seconds * 1e9)
    barrier.wait()
    for thread in pool:
        thread.join(timeout=seconds + DRAIN_LIMIT)
    elapsed = (clock() - start) / 1e9
    if failures:
        raise failures[0]
    if any(thread.is_alive() for thread in pool):
        raise RuntimeError("a benchmark thread did not finish in time")
    return _round([latency for latencies in per_thread for latency in latencies], elapsed)


# -------------------------------------------------------------------------------------------------
# 0. Server capacity


def measure_capacity(profile: Profile, server: BenchServer, connections: int = 16) -> float:
    """Calls/s the server answers: `connections` raw keep-alive sockets, one query in flight each.

    The client is a selector loop sending pre-built request bytes, so it costs far less than httpx;
    it is still Python, so the figure is a lower bound of what the server can do.
    """
    token = server.raw_token("bench-capacity")
    body = json.dumps({"inputs": {USER_ID: 1}, "outputs": list(QUERY_OUTPUT)}).encode()
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
                (Check(value, limit, at_most=True, gross_gate=False),),
            )
        )


# -------------------------------------------------------------------------------------------------
# 2-4. query(): sequential, tasks, threads, against the floors

SDK_SYNC: Final = "ChalkClient"
SDK_SYNC_HTTPCORE: Final = "ChalkClient, httpcore transport"
SDK_ASYNC: Final = "AsyncChalkClient"
RAW_HTTPX: Final = "raw httpx.Client"
RAW_HTTPX_ASYNC: Final = "raw httpx.AsyncClient"
RAW_AIOHTTP: Final = "raw aiohttp"
RAW_URLLIB3: Final = "raw urllib3"
RAW_HTTPX2: Final = "raw httpx2.Client"  # a reference only (--httpx2)
MODE_SEQ: Final = "1 thread, sequential"
MODE_ASEQ: Final = "1 task, sequential"
MODE_TASKS: Final = f"{TASKS} tasks"
MODE_THREADS: Final = f"{THREADS} threads"
# Issue 11: the sync transport is urllib3 only while it is this much faster than httpcore (64 threads)
# and no more than this much slower (sequentially).
SWITCH_THREADS: Final = 1.3
SWITCH_SEQUENTIAL: Final = 0.95


def httpx2_client() -> Any:
    """A raw ``httpx2.Client`` (a fork of httpx with its own types) of the SDK's limits and timeout."""
    import httpx2  # only with --httpx2: not a dependency

    limits, timeout = sdk_limits(), sdk_timeout()
    return httpx2.Client(
        limits=httpx2.Limits(
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        ),
        timeout=httpx2.Timeout(timeout.read, connect=timeout.connect, pool=timeout.pool),
    )


def _measure_sync_mode(
    profile: Profile, server: BenchServer, report: Report, mode: str, timed: Callable[..., Round]
) -> ModeResult:
    tag = "seq" if mode == MODE_SEQ else "threads"
    sequential = mode == MODE_SEQ
    raw_query = RawQuery.for_server(server, f"bench-{tag}-raw")
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(ChalkClient(**client_options(server, f"bench-{tag}")))
        on_httpcore = stack.enter_context(
            ChalkClient(**client_options(server, f"bench-{tag}-hc", transport=httpcore_transport()))
        )
        http = stack.enter_context(httpx.Client(limits=sdk_limits(), timeout=sdk_timeout()))
        pool = urllib3_pool(server)
        stack.callback(pool.close)
        sides = [
            Side(SDK_SYNC, sdk_sync_call(client), sdk_echo),
            Side(SDK_SYNC_HTTPCORE, sdk_sync_call(on_httpcore), sdk_echo),
            Side(RAW_HTTPX, raw_query.httpx_sync(http), raw_echo),
            Side(RAW_URLLIB3, raw_query.urllib3_call(pool), raw_echo),
        ]
        if profile.httpx2:
            http2 = stack.enter_context(httpx2_client())
            sides.append(Side(RAW_HTTPX2, raw_query.httpx_sync(http2), raw_echo))
        return run_sync_rounds(
            server,
            report,
            mode,
            sides,
            timed,
            rounds=profile.seq_pairs if sequential else profile.conc_pairs,
            seconds=profile.seq_seconds if sequential else profile.conc_seconds,
            warmup=0.2,
        )


def measure_sequential(profile: Profile, server: BenchServer, report: Report) -> None:
    """Back-to-back ChalkClient.query() against raw httpx.Client and raw urllib3 (and on httpcore)."""
    result = _measure_sync_mode(profile, server, report, MODE_SEQ, sequential_round)
    report.figures += [
        ratio_figure(result, SDK_SYNC, RAW_HTTPX, target=1.0),
        ratio_figure(result, SDK_SYNC, RAW_URLLIB3, target=None),
        *([ratio_figure(result, SDK_SYNC, RAW_HTTPX2, target=None)] if profile.httpx2 else []),
    ]
    report.transport.append(
        ratio_figure(
            result,
            SDK_SYNC,
            SDK_SYNC_HTTPCORE,
            name=f"sync transport, {MODE_SEQ}: urllib3 / httpcore",
            target=None,
            target_text=f"urllib3 needs >= {SWITCH_SEQUENTIAL:.2f}x",
        )
    )


def measure_async_sequential(profile: Profile, server: BenchServer, report: Report) -> None:
    """Back-to-back AsyncChalkClient.query() in one task against raw httpx.AsyncClient and aiohttp."""
    result = asyncio.run(_async_mode(profile, server, report, MODE_ASEQ, async_sequential_round))
    report.figures += [
        ratio_figure(result, SDK_ASYNC, RAW_HTTPX_ASYNC, target=1.5),
        ratio_figure(result, SDK_ASYNC, RAW_AIOHTTP, target=0.6),
    ]


def measure_tasks(profile: Profile, server: BenchServer, report: Report) -> None:
    """256 tasks sharing one AsyncChalkClient against 256 tasks on raw httpx.AsyncClient and aiohttp."""
    result = asyncio.run(_async_mode(profile, server, report, MODE_TASKS, tasks_round))
    report.figures += [
        ratio_figure(result, SDK_ASYNC, RAW_HTTPX_ASYNC, target=10.0),
        ratio_figure(result, SDK_ASYNC, RAW_AIOHTTP, target=0.5),
    ]


async def _async_mode(
    profile: Profile,
    server: BenchServer,
    report: Report,
    mode: str,
    timed: Callable[..., Awaitable[Round]],
) -> ModeResult:
    tag = "aseq" if mode == MODE_ASEQ else "tasks"
    sequential = mode == MODE_ASEQ
    raw_query = RawQuery.for_server(server, f"bench-{tag}-raw")
    async with (
        AsyncChalkClient(**client_options(server, f"bench-{tag}")) as client,
        httpx.AsyncClient(limits=sdk_limits(), timeout=sdk_timeout()) as http,
        aiohttp_session() as session,
    ):
        sides = [
            Side(SDK_ASYNC, sdk_async_call(client), sdk_echo),
            Side(RAW_HTTPX_ASYNC, raw_query.httpx_async(http), raw_echo),
            Side(RAW_AIOHTTP, raw_query.aiohttp_call(session), raw_echo),
        ]
        return await run_async_rounds(
            server,
            report,
            mode,
            sides,
            timed,
            rounds=profile.seq_pairs if sequential else profile.conc_pairs,
            seconds=profile.seq_seconds if sequential else profile.conc_seconds,
            warmup=0.2 if sequential else 0.1,
        )


def measure_threads(profile: Profile, server: BenchServer, report: Report) -> None:
    """64 threads sharing one ChalkClient against 64 threads on raw httpx.Client and raw urllib3."""
    result = _measure_sync_mode(profile, server, report, MODE_THREADS, threads_round)
    report.figures += [
        ratio_figure(result, SDK_SYNC, RAW_HTTPX, target=1.0),
        ratio_figure(result, SDK_SYNC, RAW_URLLIB3, target=None),
        *([ratio_figure(result, SDK_SYNC, RAW_HTTPX2, target=None)] if profile.httpx2 else []),
    ]
    report.transport.append(
        ratio_figure(
            result,
            SDK_SYNC,
            SDK_SYNC_HTTPCORE,
            name=f"sync transport, {MODE_THREADS}: urllib3 / httpcore",
            target=None,
            target_text=f"urllib3 needs >= {SWITCH_THREADS:.2f}x",
        )
    )


def transport_decision(report: Report) -> None:
    """The two sync-transport rows (after the rest) and the decision they give, as a note."""
    rows = {f.name: f for f in report.transport}
    sequential = rows.get(f"sync transport, {MODE_SEQ}: urllib3 / httpcore")
    threads = rows.get(f"sync transport, {MODE_THREADS}: urllib3 / httpcore")
    report.figures += report.transport
    if sequential is None or threads is None or "ERROR" in (sequential.result, threads.result):
        return
    seq_ratio, threads_ratio = float(sequential.relation[:-1]), float(threads.relation[:-1])
    keep = seq_ratio >= SWITCH_SEQUENTIAL and threads_ratio >= SWITCH_THREADS
    report.notes.append(
        f"Sync transport: the default ChalkClient (urllib3, API calls sent directly) against "
        f"ChalkClient(transport=httpx.HTTPTransport(...)) (httpcore), paired in the same rounds: "
        f"{threads_ratio:.2f}x at {THREADS} threads (urllib3 needs >= {SWITCH_THREADS:.2f}x), "
        f"{seq_ratio:.2f}x sequentially (needs >= {SWITCH_SEQUENTIAL:.2f}x): "
        f"{'urllib3 stays the default' if keep else 'this run favours httpcore'}, on this run's figures."
    )


# -------------------------------------------------------------------------------------------------
# 5. Saturation with expiring tokens

_SATURATION_MAX_CALLS: Final = 1_000_000  # per worker; the deadline ends a run long before
# How long a saturation run waits for its calls in flight at the deadline before it gives up on them
# (tasks are cancelled and counted as errors; threads are bounded by the SDK's read timeout).
_SATURATION_DRAIN: Final = 30.0


@dataclass
class _Tally:
    """The calls of one saturation run (each worker keeps its own, added up at the end)."""

    calls: int = 0
    errors: list[str] = field(default_factory=list)
    first_start: float = math.inf
    last_start: float = -math.inf
    last_end: float = -math.inf
    slowest: float = 0.0

    def add(self, other: _Tally) -> None:
        """Fold `other` into this tally."""
        self.calls += other.calls
        self.errors.extend(other.errors)
        self.first_start = min(self.first_start, other.first_start)
        self.last_start = max(self.last_start, other.last_start)
        self.last_end = max(self.last_end, other.last_end)
        self.slowest = max(self.slowest, other.slowest)

    def record(self, started: float, error: BaseException | None) -> None:
        """Note one call: when it started, that it ended now, and its error if it failed."""
        now = time.perf_counter()
        self.calls += 1
        self.first_start = min(self.first_start, started)
        self.last_start = max(self.last_start, started)
        self.last_end = max(self.last_end, now)
        self.slowest = max(self.slowest, now - started)
        if error is not None:
            message = re.sub(r"\(trace \w+\)", "(trace ...)", f"{type(error).__name__}: {error}")
            self.errors.append(re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", message)[:300])


def _saturate_sync(call: Callable[[], object], deadline: float) -> _Tally:
    tally, clock = _Tally(), time.perf_counter
    for _ in range(_SATURATION_MAX_CALLS):
        started = clock()
        if started >= deadline:
            break
        try:
            call()
        except Exception as err:  # counted, not raised: errors are what this measures
            tally.record(started, err)
        else:
            tally.record(started, None)
    return tally


async def _saturate_async(call: Callable[[], Awaitable[object]], deadline: float, tally: _Tally) -> None:
    clock = time.perf_counter
    for _ in range(_SATURATION_MAX_CALLS):
        started = clock()
        if started >= deadline:
            break
        try:
            await call()
        except asyncio.CancelledError:
            tally.record(started, TimeoutError(f"still in flight {_SATURATION_DRAIN:g} s after the deadline"))
            raise
        except Exception as err:
            tally.record(started, err)
        else:
            tally.record(started, None)


def implied_exchanges(span: float, lifetime: float, buffer: float) -> int:
    """The exchanges the SDK's refresh schedule implies for calls over `span` seconds from cold.

    The first call exchanges; each token is refreshed once its remaining life drops under
    min(refresh_buffer, lifetime / 2) (``make_entry`` / ``refresh_margin`` in chalk_client/_token.py;
    the clients get ``rand=lambda: 0.0``, so no jitter), and under saturation some call asks right
    then, so exchange k starts k x (lifetime - margin) after the first.
    """
    period = lifetime - min(buffer, lifetime / 2.0)
    return 1 + math.floor(max(0.0, span) / period)


@dataclass(frozen=True)
class SaturationResult:
    """One saturation run of one client."""

    mode: str
    tally: _Tally
    exchanges: int
    implied: tuple[int, int]  # over the calls' starts, and up to the last call's end
    stats: dict[str, Any]


def _saturation_run(profile: Profile, server: BenchServer, mode: str, index: int) -> SaturationResult:
    """64 threads on one fresh ChalkClient, or 256 tasks on one fresh AsyncChalkClient, no pauses."""
    lifetime, seconds, buffer = (
        profile.saturation_lifetime,
        profile.saturation_seconds,
        profile.saturation_buffer,
    )
    client_id = f"bench-saturation-{'threads' if mode == MODE_THREADS else 'tasks'}-{index}"
    options = client_options(server, client_id, refresh_buffer=buffer, rand=lambda: 0.0)
    server.reset(token_lifetime=lifetime)
    tally = _Tally()
    if mode == MODE_THREADS:
        tallies: list[_Tally] = []
        barrier = threading.Barrier(THREADS + 1)
        deadline = [0.0]

        def worker(call: Callable[[], object]) -> None:
            barrier.wait()
            tallies.append(_saturate_sync(call, deadline[0]))  # list.append: atomic

        with ChalkClient(**options) as client:  # cold: its first calls make the first exchange
            call = sdk_sync_call(client)
            pool = [threading.Thread(target=worker, args=(call,), daemon=True) for _ in range(THREADS)]
            for thread in pool:
                thread.start()
            deadline[0] = time.perf_counter() + seconds
            barrier.wait()
            for thread in pool:
                thread.join(timeout=seconds + _SATURATION_DRAIN + 30.0)
            if any(thread.is_alive() for thread in pool):
                raise RuntimeError("a saturation thread did not finish in time")
        for part in tallies:
            tally.add(part)
    else:

        async def main() -> None:
            async with AsyncChalkClient(**options) as client:
                call = sdk_async_call(client)
                deadline = time.perf_counter() + seconds
                workers = [
                    asyncio.ensure_future(_saturate_async(call, deadline, tally)) for _ in range(TASKS)
                ]
                _done, pending = await asyncio.wait(workers, timeout=seconds + _SATURATION_DRAIN)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)

        asyncio.run(main())
    stats = server.reset(token_lifetime=3600.0)  # answers the counters of this run
    return SaturationResult(
        mode=mode,
        tally=tally,
        exchanges=stats["exchanges"].get(client_id, 0),
        implied=(
            implied_exchanges(tally.last_start - tally.first_start, lifetime, buffer),
            implied_exchanges(tally.last_end - tally.first_start, lifetime, buffer),
        ),
        stats=stats,
    )


def measure_saturation(profile: Profile, server: BenchServer, report: Report) -> None:
    """From cold, full saturation while 4 s tokens expire: exchanges, expired tokens seen, errors."""
    runs = [
        _saturation_run(profile, server, mode, index)
        for index in range(profile.saturation_runs)
        for mode in (MODE_THREADS, MODE_TASKS)
    ]
    labels = {
        MODE_THREADS: f"{MODE_THREADS}, one ChalkClient",
        MODE_TASKS: f"{MODE_TASKS}, one AsyncChalkClient",
    }
    for mode, label in labels.items():
        for run in (r for r in runs if r.mode == mode):
            low, high = run.implied
            implied = str(low) if low == high else f"{low}-{high}"
            outside = max(low - run.exchanges, run.exchanges - high, 0)
            expired, errors = run.stats["expired"], len(run.tally.errors)
            report.figures.append(
                Figure(
                    f"saturation from cold, {label}",
                    f"{run.exchanges} exchanges, {expired} expired, {errors} errors",
                    f"{implied} implied, {run.tally.calls:,} calls",
                    "-",
                    "= implied, 0, 0",
                    (
                        Check(float(outside), 0.0, at_most=True, gross_gate=False),
                        Check(float(expired), 0.0, at_most=True, gross_gate=False),
                        Check(float(errors), 0.0, at_most=True, gross_gate=False),
                    ),
                    gate=False,
                )
            )
    lifetime, buffer = profile.saturation_lifetime, profile.saturation_buffer
    margin = min(buffer, lifetime / 2.0)
    details = "; ".join(
        f"{run.mode}: {run.exchanges} exchanges (implied {run.implied[0]}"
        f"{'' if run.implied[0] == run.implied[1] else f' to {run.implied[1]}'}), "
        f"{run.tally.calls:,} calls started over {run.tally.last_start - run.tally.first_start:.2f} s "
        f"(last answer at "
        f"{run.tally.last_end - run.tally.first_start:.2f} s), slowest {run.tally.slowest:.2f} s, server: "
        f"{run.stats['queries']:,} queries, {run.stats['expired']} expired and {run.stats['unknown']} "
        f"unknown tokens, {run.stats['connections']} connections"
        for run in runs
    )
    note = (
        f"Saturation: {profile.saturation_runs} run(s) per client, one client at a time: {THREADS} threads on "
        f"one fresh ChalkClient, then {TASKS} tasks on one fresh AsyncChalkClient (cold: no token), each "
        f"worker calling query() back to back (no pauses) for {profile.saturation_seconds:g} s; the server's "
        f"tokens live {lifetime:g} s; the clients have refresh_buffer={buffer:g} and rand=lambda: 0.0 (no "
        f"jitter), so each token is refreshed min({buffer:g}, {lifetime:g}/2) = {margin:g} s before it "
        f"expires, every {lifetime - margin:g} s: 'implied' is 1 + floor(D / {lifetime - margin:g}), D the "
        "span from the first call's start to the last call's start (to the last call's end, when a call "
        "still in flight might ask again: shown as a range). 'Expired' counts requests that carried a token "
        "the server issued but had expired (401s); unknown tokens are counted apart. Default connection "
        f"limits and retries. Never gated (tests assert these); printed. Runs: {details}."
    )
    messages = [error for run in runs for error in run.tally.errors]
    if messages:
        kinds = sorted(set(messages))
        note += f" Errors ({len(messages)}, {len(kinds)} distinct): " + " | ".join(kinds[:3])
    report.notes.append(note)


# -------------------------------------------------------------------------------------------------
# 5. Import time and memory, in fresh processes

# The time the import takes, and whether aiohttp came with it (it must not: the async client imports
# it when it first sends).
_IMPORT_CODE: Final = (
    "import sys, time; t = time.perf_counter(); import {module}; d = time.perf_counter() - t; "
    "print(d, int('aiohttp' in sys.modules))"
)

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
    values, baselines, with_aiohttp = [], [], 0
    for _ in range(profile.import_runs):
        seconds, aiohttp_imported = _run_python(sdk_code).split()
        values.append(float(seconds))
        with_aiohttp += int(aiohttp_imported)
        baselines.append(float(_run_python(httpx_code).split()[0]))
    value, ratio = statistics.median(values), paired_ratio(values, baselines)
    report.figures += [
        Figure(
            "import chalk_client (fresh process)",
            fmt_ms(value),
            f"{fmt_ms(statistics.median(baselines))} (import httpx)",
            fmt_ratio(ratio),
            "<= 1.60x",
            # The absolute figure moves with the machine (import httpx alone takes 50-150 ms on
            # this kind of machine): only the ratio to httpx, measured side by side, is a gate.
            (Check(ratio, 1.6, at_most=True),),
        ),
        Figure(
            "aiohttp in sys.modules after import chalk_client",
            f"in {with_aiohttp} of {profile.import_runs}",
            "-",
            "-",
            "in none",
            (Check(float(with_aiohttp), 0.0, at_most=True, gross_gate=False),),
            gate=False,  # a fact, not a ratio: a test asserts it
        ),
    ]


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
                () if limit is None else (Check(difference, limit, at_most=True, gross_gate=False),),
            )
        )


# -------------------------------------------------------------------------------------------------
# 6. Parsing a large answer


def online_query_parser(body: bytes) -> Callable[[], OnlineQueryResult]:
    """A no-argument function that parses `body` exactly as ``query()`` parses a 200 answer.

    The one place that knows the SDK's private parser and its signature.
    """
    from chalk_client import _calls

    call = _calls.online_query_call({USER_ID: 1}, [f"user.f{i}" for i in range(PARSE_FEATURES)])
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
_MODE_HEADERS: Final = ("mode", "client", "calls/s", "p50", "p99", "rounds", "server count")


def _rows(figures: Sequence[Figure]) -> list[tuple[str, ...]]:
    return [
        (
            f.name + (" (re-measured)" if f.remeasured else ""),
            f.value,
            f.baseline,
            f.relation,
            f.target,
            f.result,
        )
        for f in figures
    ]


def _mode_rows(modes: Sequence[ModeResult]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for mode in modes:
        for side in mode.sides.values():
            checked = [r for r in side.rounds if r.served >= 0]
            matched = sum(r.served == r.calls for r in checked)
            rows.append(
                (
                    mode.mode,
                    side.name + (" (ERROR)" if side.broken else ""),
                    fmt_rate(side.median("rate")),
                    fmt_latency(side.median("p50_ns")),
                    fmt_latency(side.median("p99_ns")),
                    str(len(side.rounds)),
                    f"{matched}/{len(checked)} ok"
                    if matched == len(checked)
                    else f"{matched}/{len(checked)} ERROR",
                )
            )
    return rows


def text_table(headers: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """An aligned plain-text table."""
    rows = [tuple(headers), *(tuple(row) for row in body)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(headers: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
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
    """Write BENCHMARKS.md: the command, the machine, the tables, the errors, the notes."""
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
        markdown_table(_HEADERS, _rows(report.figures)),
        "",
        "Result: PASS meets the target, MISS misses it, FAIL misses it by more than 2x (worse than half the "
        "target); ok/WARN for a row that is printed but never gated; ERROR for a side whose calls failed. "
        "`scripts/bench --check` exits non-zero on FAIL only, after measuring the figure again once.",
        "",
        "## Every client, every mode",
        "",
        markdown_table(_MODE_HEADERS, _mode_rows(report.modes)),
        "",
        "Each row: the median over its rounds of the round's calls/s, p50 and p99 (per call, nearest rank). "
        "Server count: the rounds after which the server had answered exactly as many queries as the round "
        "made calls.",
        "",
        *(["## Errors", "", *(f"- {error}" for error in report.errors), ""] if report.errors else []),
        "## Notes",
        "",
        *(f"- {note}" for note in [*report.notes, *methodology_notes(profile)]),
        "",
    ]
    path.write_text("\n".join(lines))


def methodology_notes(profile: Profile) -> list[str]:
    """How the figures were taken, for the reader of BENCHMARKS.md."""
    return [
        "Each figure is the median of several rounds; each ratio is the median of per-round ratios, each "
        "SDK round against the floor's round of the same set (every side runs once per set, the order "
        "rotating from set to set), so a machine that slows down during the run moves every side.",
        "Server: scripts/_bench_server.py in its own process (asyncio + httptools, keep-alive), on "
        "127.0.0.1. Its token answer names no engines, so queries go to api_server, the same server. It "
        "reads each query's user.id and echoes it in the answer; every call of the run asks for a new id.",
        "Floors: raw httpx.Client / httpx.AsyncClient with the SDK's default connection limits "
        f"({sdk_limits()}) and timeout; raw aiohttp, one ClientSession with "
        f"TCPConnector(limit={max_connections()}); raw urllib3, one HTTPConnectionPool(maxsize="
        f"{max_connections()}, block=True). Each posts the same JSON (encoded with orjson) with static "
        "headers (Authorization and the X-Chalk-* routing headers the SDK sends), checks the status and "
        "decodes the answer with orjson; the SDK additionally builds an OnlineQueryResult.",
        "Sync transport: the default ChalkClient sends through urllib3 (chalk_client/_urllib3.py); it is "
        f"measured against ChalkClient(transport=httpx.HTTPTransport(limits={sdk_limits()})), httpx's own "
        "transport (httpcore's pool), in the same rounds.",
        f"Rounds ({profile.name}): get_token {profile.token_rounds} x {profile.token_batch:,} calls; "
        f"sequential {profile.seq_pairs} sets x {profile.seq_seconds:g} s per side; concurrent "
        f"{profile.conc_pairs} sets x {profile.conc_seconds:g} s per side (a round ends when its last call "
        f"in flight at the deadline answers, and its rate counts that drain); saturation "
        f"{profile.saturation_runs} run(s) per client; import {profile.import_runs} processes per side; RSS "
        f"{profile.rss_runs}; parse {profile.parse_pairs} pairs x {profile.parse_seconds:g} s.",
        "get_token() figures include the timing loop's own cost (itertools.repeat); the baseline column "
        "shows a no-op call timed the same way.",
        "Import: the perf_counter time around the import statement in `python -c`, after one unmeasured "
        "warm-up process per side; the same process reports whether aiohttp is in sys.modules. RSS: the "
        "peak resident set of a fresh process (VmHWM from /proc/self/status; ru_maxrss where there is no "
        "/proc, but on Linux a child's ru_maxrss starts at its parent's size); the SDK side imports "
        "chalk_client, builds a ChalkClient and makes one query (a token exchange and the query); httpx "
        "alone builds an httpx.Client and posts the same query with a static token.",
        f"Parse: {PARSE_FEATURES:,} features (ints, floats, strings, booleans; no errors), the SDK's own "
        "online-query parser on a prepared httpx.Response, against json.loads of the same bytes.",
        "--check gates only same-run ratios (the SDK against a floor, import against import httpx, parse "
        "against json.loads), and fails only on a gross regression, confirmed by one re-measurement. Absolute "
        "times, memory, exchange counts, expired tokens and errors are printed, never gated.",
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


Step = Callable[[Report], None]


def steps(profile: Profile, server: BenchServer) -> list[tuple[str, Step]]:
    """Every measurement, in order; each can run again on its own (a re-measurement)."""
    return [
        ("cached get_token()", lambda report: measure_get_token(profile, server, report)),
        (f"{MODE_SEQ}", lambda report: measure_sequential(profile, server, report)),
        (f"{MODE_ASEQ}", lambda report: measure_async_sequential(profile, server, report)),
        (f"{MODE_TASKS}", lambda report: measure_tasks(profile, server, report)),
        (f"{MODE_THREADS}", lambda report: measure_threads(profile, server, report)),
        ("saturation with expiring tokens", lambda report: measure_saturation(profile, server, report)),
        ("import time", lambda report: measure_import(profile, report)),
        ("peak RSS", lambda report: measure_rss(profile, server, report)),
        ("parsing", lambda report: measure_parse(profile, report)),
    ]


def run_step(report: Report, label: str, step: Step) -> None:
    """Run one measurement; if it raises, report the error (its traceback on stderr) and go on.

    The SDK may be mid-change: a step that breaks is an ERROR in the output, not the end of the run.
    """
    try:
        step(report)
    except Exception as err:
        traceback.print_exc(file=sys.stderr)
        report.errors.append(f"{label}: the measurement failed: {type(err).__name__}: {err}"[:400])


def _failed(figures: Sequence[Figure]) -> list[Figure]:
    return [f for f in figures if f.gate and f.result == "FAIL"]


def remeasure(profile: Profile, server: BenchServer, report: Report, owners: dict[str, str]) -> None:
    """Measure each step with a failing figure once more; keep the second figures of the failed rows.

    A fresh set of paired rounds: a figure that failed because the machine was busy for a moment
    passes now; one that fails again is a regression.
    """
    by_label = dict(steps(profile, server))
    failed = _failed(report.figures)
    for label in dict.fromkeys(owners[f.name] for f in failed):
        progress(f"re-measuring {label}")
        faulthandler.dump_traceback_later(profile.remeasure_budget, exit=True)
        again = Report()
        run_step(again, label, by_label[label])
        transport_decision(again)
        fresh = {f.name: f for f in again.figures}
        for index, figure in enumerate(report.figures):
            if any(figure is f for f in failed) and owners[figure.name] == label and figure.name in fresh:
                second = fresh[figure.name]
                report.figures[index] = replace(
                    second, remeasured=f"first {figure.relation} ({figure.result}), again {second.relation}"
                )
                report.notes.append(
                    f"Re-measured '{figure.name}': first {figure.value} / {figure.relation} (FAIL), then "
                    f"{second.value} / {second.relation} ({second.result}); the second measurement stands."
                )
        report.errors += [f"(re-measurement) {error}" for error in again.errors]
        report.count_checks = [a + b for a, b in zip(report.count_checks, again.count_checks, strict=True)]
        for mode in again.modes:
            report.modes.append(ModeResult(f"{mode.mode} (re-measured)", mode.sides))


def run(profile: Profile, *, check: bool) -> Report:
    """Every measurement, in order, against one benchmark server (and re-measurements for --check)."""
    report = Report()
    owners: dict[str, str] = {}  # figure name -> the step that measures it
    with BenchServer() as server:
        progress("server capacity")
        capacity = measure_capacity(profile, server)
        all_steps = steps(profile, server)
        for number, (label, step) in enumerate(all_steps, 1):
            progress(f"{number}/{len(all_steps)} {label}")
            known = len(report.figures), len(report.transport)
            run_step(report, label, step)
            for figure in [*report.figures[known[0] :], *report.transport[known[1] :]]:
                owners[figure.name] = label
        transport_decision(report)  # the transport rows, measured with the sync modes, go last
        if check and _failed(report.figures):
            remeasure(profile, server, report, owners)
    add_summary_figures(report, capacity)
    return report


def add_summary_figures(report: Report, capacity: float) -> None:
    """The server's capacity against the fastest floor, and the server's count of every round."""
    fastest_mode, fastest = max(report.floor_rates.items(), key=lambda item: item[1], default=("-", 1.0))
    headroom = capacity / fastest
    report.figures.insert(
        0,
        Figure(
            "server capacity (minimal client)",
            fmt_rate(capacity),
            f"{fmt_rate(fastest)} (fastest floor: {fastest_mode})",
            fmt_ratio(headroom),
            f">= {CAPACITY_HEADROOM:.2f}x",
            (Check(headroom, CAPACITY_HEADROOM, at_most=False, gross_gate=False),),
            gate=False,
        ),
    )
    checked, mismatched = report.count_checks
    report.figures.append(
        Figure(
            "rounds where the server answered every call, no more",
            f"{checked - mismatched} of {checked}",
            "-",
            "-",
            "all",
            (Check(float(mismatched), 0.0, at_most=True, gross_gate=False),),
            gate=False,
            verdict="ok" if not mismatched else "ERROR",
        )
    )
    verdict = (
        "enough headroom: the SDK-to-floor ratios measure the clients, not the server"
        if headroom >= CAPACITY_HEADROOM
        else f"WARNING: under {CAPACITY_HEADROOM:g}x the fastest floor, so the server may be the bottleneck "
        "and the ratios to the floors may understate the difference between the clients"
    )
    floors = ", ".join(f"{mode} {fmt_rate(rate)}" for mode, rate in report.floor_rates.items())
    report.notes.insert(
        0,
        f"Server capacity: {fmt_rate(capacity)} with 16 keep-alive sockets, one query in flight each, "
        f"pre-built request bytes (a lower bound: that client is Python too); {headroom:.1f}x the fastest "
        f"floor (fastest floor per mode: {floors}); {verdict}.",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the exit status is 1 with --check when a figure regressed grossly, twice."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute), for CI")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a same-run ratio is worse than half its target (FAIL), measured twice",
    )
    parser.add_argument(
        "--httpx2",
        action="store_true",
        help="also measure raw httpx2.Client (pip install httpx2) at 1 thread and 64, as a reference",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the report (default: BENCHMARKS.md for a full run, nothing for --quick)",
    )
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    if args.httpx2:
        if importlib.util.find_spec("httpx2") is None:
            parser.error("--httpx2: httpx2 is not installed (pip install httpx2)")
        profile = replace(profile, httpx2=True)
    output = args.output if args.output is not None else (None if args.quick else ROOT / "BENCHMARKS.md")
    command = shlex.join(["scripts/bench", *(sys.argv[1:] if argv is None else argv)])
    faulthandler.dump_traceback_later(profile.budget, exit=True)  # a hung run ends; the server follows
    started, clock = datetime.now(UTC), time.perf_counter()
    print(
        f"{command}: {profile.name} run on {os.cpu_count()} CPUs, Python {platform.python_version()}",
        file=sys.stderr,
    )
    with clean_environment():
        report = run(profile, check=args.check)
    seconds = time.perf_counter() - clock
    faulthandler.cancel_dump_traceback_later()
    print()
    print(text_table(_HEADERS, _rows(report.figures)))
    print()
    print(text_table(_MODE_HEADERS, _mode_rows(report.modes)))
    print()
    for error in report.errors:
        print(f"ERROR: {error}")
    if report.errors:
        print()
    for note in report.notes:
        print(f"- {note}")
    print(f"\n{profile.name} run: {seconds:.0f} s")
    if output is not None:
        write_markdown(output, report, command=command, profile=profile, started=started, seconds=seconds)
        print(f"wrote {output}")
    if args.check:
        failed = [f.name for f in _failed(report.figures)]
        if failed:
            print(f"check: FAIL (worse than half the target, measured twice): {'; '.join(failed)}")
            return 1
        print("check: no gross regression in the same-run ratios")
    return 0


if __name__ == "__main__":
    sys.exit(main())
