"""The result of a successful offline query job: its rows, written as parquet files.

The rows and columns follow the rules of :mod:`chalk_client.testing._offline` ("Results"). pyarrow
writes the files; it is imported only once offline queries are used, and :func:`require_pyarrow`
refuses a submission at once when it is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalk_client.testing._data import FEATURE_TYPES, SEEDED_USER_IDS, seeded_user
from chalk_client.testing._http import ApiError
from chalk_client.testing._offline._jobs import Job, Result
from chalk_client.testing._offline._query import PRIMARY_KEY, TIMESTAMP_COLUMN
from chalk_client.testing._store import DELETED, MISSING, OFFLINE, FeatureStore, lookup

__all__ = ["compute", "file_name", "require_pyarrow", "result_file"]


def file_name(index: int) -> str:
    """The name of a result's file number `index`: ``part-00000.parquet``, ..."""
    return f"part-{index:05d}.parquet"


def result_file(result: Result, name: str) -> bytes | None:
    """The file of `result` named `name`; None when it has no such file."""
    prefix, suffix = "part-", ".parquet"
    digits = name[len(prefix) : -len(suffix)] if name.startswith(prefix) and name.endswith(suffix) else ""
    if len(digits) != 5 or not digits.isdigit():
        return None
    index = int(digits)
    return result.files[index] if index < len(result.files) else None


def _value(user_id: int, name: str, store: FeatureStore) -> Any:  # noqa: ANN401 - a feature value
    if name == PRIMARY_KEY:
        return user_id
    stored = lookup(store.get(user_id, OFFLINE), name)
    if stored is DELETED:
        return None
    if stored is not MISSING:
        return stored
    seeded = seeded_user(user_id)
    return seeded[name] if seeded is not None else None


def compute(job: Job, store: FeatureStore, rows_per_file: int) -> Result:
    """The result of a successful job: its rows, written as parquet files."""
    columns: dict[str, list[Any]] = {}
    if job.input is None:
        ids = list(SEEDED_USER_IDS)
    else:
        columns.update(zip(job.input.columns, job.input.values, strict=True))
        ids = columns[PRIMARY_KEY]
    for name in job.requested():
        if name not in columns:
            columns[name] = [_value(user_id, name, store) for user_id in ids]
    keep = [
        row for row in range(len(ids)) if all(columns[name][row] is not None for name in job.required_outputs)
    ]
    if job.max_samples is not None:
        keep = keep[: job.max_samples]
    if len(keep) != len(ids):
        columns = {name: [column[row] for row in keep] for name, column in columns.items()}
    return Result(tuple(columns), len(keep), _write_parquet(columns, len(keep), rows_per_file))


def require_pyarrow() -> None:
    """Refuse a job at once when pyarrow is missing: its results could never be written.

    A 501 (not retried by clients) naming the extra, instead of a job that would fail with a
    server-side traceback when its results are first asked for, and a client waiting in vain.
    """
    try:
        import pyarrow.parquet  # noqa: F401 - only whether it imports
    except ImportError:
        raise ApiError(
            501,
            "INTERNAL_SERVER_ERROR",
            "ChalkServer cannot run offline queries: it writes their results with pyarrow, which is not "
            "installed. Install the testing extra: pip install 'chalk-client[testing]'",
        ) from None


def _write_parquet(columns: Mapping[str, Sequence[Any]], rows: int, rows_per_file: int) -> tuple[bytes, ...]:
    # Imported here: pyarrow is heavy, and a server that runs no offline query never needs it.
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"int": pa.int64(), "str": pa.string()}
    arrays = []
    for name, values in columns.items():
        kind = pa.timestamp("us", tz="UTC") if name == TIMESTAMP_COLUMN else types[FEATURE_TYPES[name]]
        arrays.append(pa.array(values, type=kind))
    table = pa.Table.from_arrays(arrays, names=list(columns))
    files = []
    for start in range(0, max(rows, 1), rows_per_file):
        sink = pa.BufferOutputStream()
        pq.write_table(table.slice(start, rows_per_file), sink)
        files.append(bytes(sink.getvalue().to_pybytes()))
    return tuple(files)
