"""The two tables of a run (figures; every client in every mode), as plain text and as Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .figures import Figure, ModeResult, fmt_latency, fmt_rate

FIGURE_HEADERS: Final = ("figure", "value", "baseline", "ratio", "target", "result")
MODE_HEADERS: Final = ("mode", "client", "calls/s", "p50", "p99", "rounds", "server count")


def figure_rows(figures: Sequence[Figure]) -> list[tuple[str, ...]]:
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


def mode_rows(modes: Sequence[ModeResult]) -> list[tuple[str, ...]]:
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
