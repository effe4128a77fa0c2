"""Figures and targets: the rows of the table, what a side and a mode measured, the report of a run,
and how each kind of figure is written.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

# How far a figure may miss its target before --check calls it a gross regression: twice the
# allowed value (for "at most" targets), or half the required one (for "at least" targets).
GROSS_FACTOR: Final = 2.0


@dataclass(frozen=True)
class Check:
    """One target: `measured` must be at most (or at least) `limit`."""

    measured: float
    limit: float
    at_most: bool
    # False: a miss is reported, but --check never fails on it (anything but a same-run ratio:
    # absolute times, counts, peak RSS).
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
