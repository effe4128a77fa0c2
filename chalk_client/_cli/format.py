"""Answers as text for people: an online query's table, which the demo shows too, and the first
rows of a bulk query's table.

Its own module so that the command (``_cli``) and the demo (``_demo``) share it without importing
each other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Final

from chalk_client import OnlineQueryResult, describe_chalk_error

__all__ = ["describe_result", "describe_rows"]

_CELL_WIDTH: Final = 40


def describe_result(result: OnlineQueryResult) -> str:
    """The answer as an aligned table, errors last."""
    rows = [(f.feature, json.dumps(f.value, default=str), f) for f in result]
    width = max((len(name) for name, _, _ in rows), default=0)
    lines = []
    for name, value, feature in rows:
        extra = []
        if feature.resolver:
            extra.append(f"resolver {feature.resolver}")
        if feature.cache_hit is not None:
            extra.append("cache hit" if feature.cache_hit else "computed")
        if feature.error is not None:
            extra.append(f"error {feature.error.code}")
        lines.append(f"{name:<{width}}  {value}" + (f"  ({', '.join(extra)})" if extra else ""))
    for error in result.errors:
        lines.append(f"error: {describe_chalk_error(error)}")
    return "\n".join(lines) + "\n"


def describe_rows(names: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows as an aligned text table under a header of `names`: null as ``null``, strings as they
    are, times in ISO 8601, other values as JSON, numbers to the right; a cell wider than 40
    characters is cut short with ``...``."""
    cells = [[_shown(value) for value in row] for row in rows]
    widths = [max([len(name)] + [len(row[i]) for row in cells]) for i, name in enumerate(names)]
    numeric = [_numbers([row[i] for row in rows]) for i in range(len(names))]
    lines = []
    for row in [list(names), *cells]:
        shown = (
            f"{cell:>{width}}" if right else f"{cell:<{width}}"
            for cell, width, right in zip(row, widths, numeric, strict=True)
        )
        lines.append("  ".join(shown).rstrip())
    return "\n".join(lines) + "\n"


def _numbers(column: Sequence[object]) -> bool:
    """True for a column of numbers (and nulls), at least one: it is aligned to the right."""
    values = [value for value in column if value is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _shown(value: object) -> str:
    if value is None:
        text = "null"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, datetime | date | time):
        text = value.isoformat()
    else:
        text = json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.splitlines())  # one line per row
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 3] + "..."
