"""10. Bulk uploads: ``ChalkClient.multi_upload_features()`` of 100,000 rows (a quick run: 20,000)
against ``ChalkClient.upload_features()`` of the same rows as JSON, in rows/s (a measure: no target).

Both sides take the same input, made once before timing: a mapping of feature name to a Python list
(``user.id`` ints, ``user.name`` strings, ``user.age`` ints). Each call must come back with the rows
the server counted (it reads the Arrow file with pyarrow, or parses the JSON whole, and names the
count in its answer's id); a call whose count differs fails.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
from collections.abc import Callable
from typing import Any, Final

from chalk_client import ChalkClient

from .clients import client_options
from .figures import Figure, ModeResult, Report, Round, fmt_ms, fmt_ratio, paired_ratio
from .profiles import UPLOAD_FEATURES, Profile
from .rounds import Side, run_sync_rounds, sequential_round
from .server import BenchServer
from .upload_answers import rows_of

SDK_MULTI: Final = "ChalkClient.multi_upload_features"
SDK_JSON: Final = "ChalkClient.upload_features (JSON)"
UPLOAD_TARGET: Final = "none (a measure)"


def upload_mode(rows: int) -> str:
    """The mode's name: the rows and features each call uploads."""
    return f"bulk upload, {rows:,} rows x {len(UPLOAD_FEATURES)} features"


def upload_columns(rows: int) -> dict[str, list[Any]]:
    """The rows both sides upload: ``user.id`` 0..rows-1, ``user.name`` and ``user.age``, as Python lists."""
    columns: dict[str, list[Any]] = {
        "user.id": list(range(rows)),
        "user.name": [f"user number {i}" for i in range(rows)],
        "user.age": [18 + i % 80 for i in range(rows)],
    }
    assert tuple(columns) == UPLOAD_FEATURES
    return columns


def _uploader(
    upload: Callable[[Any], Any], columns: dict[str, list[Any]], answer_id: Callable[[Any], str | None]
) -> Callable[[], tuple[int, Any]]:
    """A call of `upload` on `columns`; it raises unless the server counted every row."""
    rows = len(columns["user.id"])

    def call() -> tuple[int, Any]:
        result = upload(columns)
        counted = rows_of(answer_id(result))
        if counted != rows:
            raise RuntimeError(f"the server counted {counted} rows of {rows:,} ({result!r:.200})")
        return rows, result

    return call


def _multi_id(result: Any) -> str | None:
    """The one operation id of a one-table multi-upload (None if there are more or none)."""
    ids = result.operation_ids
    return ids[0] if len(ids) == 1 else None


def _json_id(result: Any) -> str | None:
    """The trace id of a JSON upload."""
    trace: str | None = result.trace_id
    return trace


def _rows_echo(result: Any) -> object:
    """The rows an SDK upload result says were sent."""
    return result.rows


def _counted_round(call: Callable[[], object], seconds: float, *, count: int) -> Round:
    """A round of `count` back-to-back calls (fewer if `seconds` run out first)."""
    return sequential_round(call, seconds, max_calls=count)


def measure_uploads(profile: Profile, server: BenchServer, report: Report) -> None:
    """multi_upload_features() against upload_features() of the same rows, rows/s, paired rounds."""
    rows, mode = profile.upload_rows, upload_mode(profile.upload_rows)
    columns = upload_columns(rows)  # made once, before timing: both sides upload this mapping
    before = server.stats()
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(ChalkClient(**client_options(server, "bench-upload")))
        sides = [
            Side(SDK_MULTI, _uploader(client.multi_upload_features, columns, _multi_id), _rows_echo),
            Side(SDK_JSON, _uploader(client.upload_features, columns, _json_id), _rows_echo),
        ]
        result = run_sync_rounds(
            server,
            report,
            mode,
            sides,
            functools.partial(_counted_round, count=profile.upload_calls),
            rounds=profile.upload_pairs,
            seconds=profile.upload_limit,
            warmup=0.1,
            floors=False,  # no raw side: nothing here measures the online server's capacity
        )
    after = server.stats()
    report.figures.append(_figure(rows, result))
    report.notes.append(_server_note(rows, result, before, after))


def _rows(rate: float) -> str:
    return f"{rate:,.0f} rows/s"


def _figure(rows: int, result: ModeResult) -> Figure:
    """The row: multi_upload_features's rows/s against upload_features's, a same-run ratio, no target."""
    multi, json = result.sides[SDK_MULTI], result.sides[SDK_JSON]
    multi_rows = [r.rate * rows for r in multi.rounds]
    json_rows = [r.rate * rows for r in json.rounds]
    broken = multi.broken or json.broken
    return Figure(
        f"{upload_mode(rows)}: multi_upload_features / upload_features (JSON), rows/s",
        _rows(statistics.median(multi_rows)),
        f"{_rows(statistics.median(json_rows))} ({SDK_JSON})",
        fmt_ratio(paired_ratio(multi_rows, json_rows)),
        UPLOAD_TARGET,
        (),
        gate=False,
        verdict="ERROR" if broken else None,
    )


def _server_note(rows: int, result: ModeResult, before: dict[str, Any], after: dict[str, Any]) -> str:
    """The server's time per upload of each kind, and each side's p50 with and without it."""
    parts = []
    for side, kind, what in (
        (SDK_MULTI, "multi", "the byte model walked, the Arrow file read with pyarrow and validated"),
        (SDK_JSON, "json", "json.loads of the body and the columns' lengths checked"),
    ):
        count = after["uploads"].get(kind, 0) - before["uploads"].get(kind, 0)
        seconds = after["upload_seconds"].get(kind, 0.0) - before["upload_seconds"].get(kind, 0.0)
        per_call = seconds / count if count else 0.0
        p50 = result.sides[side].median("p50_ns")
        parts.append(
            f"{side}: the server took {fmt_ms(per_call)} per upload ({what}; {count:,} uploads), a call "
            f"{fmt_ms(p50 / 1e9)} (p50), so about {fmt_ms(p50 / 1e9 - per_call)} of it outside the "
            "server's handler"
        )
    return f"Bulk upload ({rows:,} rows): " + "; ".join(parts) + "."
