"""Rounds: the sides of a comparison run side by side in paired rounds, and the bounded loops that time
one round (back-to-back calls, sequential, in tasks, in threads).

After each round the server's count of the queries it answered must equal the calls the round made
(so nothing was coalesced or cached); a mismatch is an error in the output. p50 and p99 are reported
for every side of every mode.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import re
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from .clients import AsyncCall, SyncCall
from .figures import (
    Check,
    Figure,
    ModeResult,
    Report,
    Round,
    SideResult,
    fmt_rate,
    fmt_ratio,
    nearest_rank,
    paired_ratio,
)
from .profiles import TASKS, THREADS
from .server import BenchServer

# How long a concurrent round may take to drain (its calls in flight at the deadline) before the
# round is abandoned; the slowest floor (httpx's async pool under 256 tasks) takes seconds.
DRAIN_LIMIT: Final = 45.0


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
    """One client under measurement: its call (unguarded, for the check of its first answer).

    `timed` times this side's rounds instead of the mode's loop (e.g. a count of calls, not a time).
    """

    name: str
    call: Callable[[], Any]
    echo: Callable[[Any], object]
    timed: Callable[[Callable[[], Any], float], Round] | None = None
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
    floors: bool = True,
) -> ModeResult:
    """Warm every side up (checking its first answer), then `rounds` rounds of each, side by side.

    The order rotates from one set of rounds to the next, so no side always runs first; each
    round's calls are checked against the queries the server answered during it. `floors` False:
    the mode's raw sides are not floors of the server's capacity (they send other queries).
    """
    for side in sides:
        _check_echo(report, mode, side, side.guarded())
        (side.timed or timed)(side.guarded, warmup)
    for index in range(rounds):
        shift = index % len(sides)
        for side in [*sides[shift:], *sides[:shift]]:
            before = server.queries()
            measured = (side.timed or timed)(side.guarded, seconds)
            served = server.queries() - before
            _count_check(report, mode, side.name, index=index, calls=measured.calls, served=served)
            side.rounds.append(replace(measured, served=served))
    return _mode_result(report, mode, sides, floors=floors)


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


def _mode_result(report: Report, mode: str, sides: Sequence[Side], *, floors: bool = True) -> ModeResult:
    result = ModeResult(mode, {side.name: side.result() for side in sides})
    for side in result.sides.values():
        if side.failures:
            message = f"{mode}, {side.name}: {side.failures:,} calls failed (first: {side.first_failure})"
            if side.broken:
                report.errors.append(message + "; more than 1%: its figures are meaningless (ERROR)")
            else:
                report.notes.append(message + "; too few to matter, but counted in the rate.")
    report.modes.append(result)
    rates = [s.median("rate") for name, s in result.sides.items() if name.startswith("raw ")]
    if floors and rates:
        report.floor_rates[mode] = max(rates)
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
