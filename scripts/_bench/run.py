"""A whole run: a clean environment, one benchmark server, every step, the re-measurements for
``--check``, and the summary rows (the server's capacity, its count of every round).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from .capacity import measure_capacity
from .check import failed_figures, remeasure
from .figures import Check, Figure, Report, fmt_rate, fmt_ratio, progress
from .profiles import Profile
from .query_modes import transport_decision
from .server import BenchServer
from .steps import run_step, steps

# The server must serve at least this many times the fastest floor's rate, or the SDK-to-floor
# ratios might be measuring the server.
CAPACITY_HEADROOM: Final = 3.0


class UnknownStepError(ValueError):
    """``--only`` names no step of the run."""


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


def run(profile: Profile, *, check: bool, only: str | None = None) -> Report:
    """Every measurement, in order, against one benchmark server (and re-measurements for --check).

    `only`: just the steps whose label holds it (e.g. "bulk"), without the server's capacity.

    Raises:
        UnknownStepError: `only` names no step.
    """
    report = Report()
    owners: dict[str, str] = {}  # figure name -> the step that measures it
    with BenchServer() as server:
        all_steps = [(label, step) for label, step in steps(profile, server) if only is None or only in label]
        if not all_steps:
            labels = ", ".join(repr(label) for label, _ in steps(profile, server))
            raise UnknownStepError(f"--only {only!r} names no step (the steps: {labels})")
        capacity = None
        if only is None:
            progress("server capacity")
            capacity = measure_capacity(profile, server)
        for number, (label, step) in enumerate(all_steps, 1):
            progress(f"{number}/{len(all_steps)} {label}")
            known = len(report.figures), len(report.transport)
            run_step(report, label, step)
            for figure in [*report.figures[known[0] :], *report.transport[known[1] :]]:
                owners[figure.name] = label
        transport_decision(report)  # the transport rows, measured with the sync modes, go last
        if check and failed_figures(report.figures):
            remeasure(profile, server, report, owners)
    add_summary_figures(report, capacity)
    return report


def add_summary_figures(report: Report, capacity: float | None) -> None:
    """The server's capacity against the fastest floor (None: not measured), and the server's count
    of every round."""
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
    if capacity is None:
        return
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
