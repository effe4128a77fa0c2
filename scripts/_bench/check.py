"""The ``--check`` gate (CI: ``scripts/bench --quick --check``) and its re-measurement.

It gates only same-run ratios, and only for gross regressions (worse than half a target). A figure
that fails is measured again once, with a fresh set of paired rounds, and fails the run only if it
fails again. Absolute times, exchange counts, expired tokens, errors and peak RSS are printed, never
gated: deterministic tests assert those. (A bulk decode's peak memory is gated: it is a ratio to
the size of the table it decoded.)
"""

from __future__ import annotations

import faulthandler
from collections.abc import Sequence
from dataclasses import replace

from .figures import Figure, ModeResult, Report, progress
from .profiles import Profile
from .query_modes import transport_decision
from .server import BenchServer
from .steps import run_step, steps


def failed_figures(figures: Sequence[Figure]) -> list[Figure]:
    return [f for f in figures if f.gate and f.result == "FAIL"]


def remeasure(profile: Profile, server: BenchServer, report: Report, owners: dict[str, str]) -> None:
    """Measure each step with a failing figure once more; keep the second figures of the failed rows.

    A fresh set of paired rounds: a figure that failed because the machine was busy for a moment
    passes now; one that fails again is a regression.
    """
    by_label = dict(steps(profile, server))
    failed = failed_figures(report.figures)
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
