"""5. Saturation with expiring tokens: from cold, no pauses, one client at a time."""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from chalk_client import AsyncChalkClient, ChalkClient

from .clients import client_options, sdk_async_call, sdk_sync_call
from .figures import Check, Figure, Report
from .profiles import TASKS, THREADS, Profile
from .query_modes import MODE_TASKS, MODE_THREADS
from .server import BenchServer

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
    min(refresh_buffer, lifetime / 2) (``make_entry`` / ``refresh_margin`` in chalk_client/_core/token.py;
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
