"""Offline query results as tables: parquet parts read into one ``pyarrow.Table``, and the optional extras.

pyarrow, pandas and polars are optional (``chalk-client[arrow]``, ``[pandas]``, ``[polars]``), so
each is imported only when a result is asked for in its form; :func:`_require` names the extra to
install when one is missing (:class:`ChalkMissingDependencyError`).

For results larger than memory, a file's record batches are streamed (:func:`_batch_reader`: read
through a small buffer, never pre-buffered or read whole), and the downloaded files are opened
lazily as a ``pyarrow.dataset.Dataset`` (:func:`_open_dataset`) or a ``polars.LazyFrame``
(:func:`_scan_polars`). A result with no files is an empty table of the job's columns (typed null)
in each form.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from chalk_client._core.errors import ChalkInputError, ChalkMissingDependencyError

if TYPE_CHECKING:
    import polars
    import pyarrow
    import pyarrow.dataset

__all__ = [
    "_batch_reader",
    "_check_batch_options",
    "_open_dataset",
    "_read_table",
    "_require",
    "_scan_polars",
]

# How much of a parquet file is read at a time when its batches are streamed: the reader then holds
# about this, a page and the batch it is building, whatever the size of the file or its row groups
# (unbuffered, it reads a whole column chunk at once; pre-buffered, a whole row group or more).
_READ_BUFFER_BYTES: Final = 1 << 16


def _require(module: str, extra: str, what: str) -> Any:  # noqa: ANN401 - a module
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ChalkMissingDependencyError(
            f"{what} needs {module}, which is not installed: pip install 'chalk-client[{extra}]'"
        ) from None


def _read_table(paths: Sequence[Path], columns: Sequence[str]) -> pyarrow.Table:
    """The parquet files at `paths` as one table; with none, an empty table of `columns` (typed null)."""
    pa = _require("pyarrow", "arrow", "reading offline query results")
    pq = _require("pyarrow.parquet", "arrow", "reading offline query results")
    if not paths:
        return pa.table({name: pa.array([], pa.null()) for name in columns})
    tables = [pq.read_table(path) for path in paths]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def _check_batch_options(
    batch_size: int | None, columns: Sequence[str] | None
) -> tuple[int | None, list[str] | None]:
    """`batch_size` and `columns` for ``iter_batches()``, checked; raises ChalkInputError."""
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ChalkInputError(
            f"batch_size must be a positive int (rows per batch) or None, not {batch_size!r}"
        )
    if columns is None:
        return batch_size, None
    if isinstance(columns, str) or not all(isinstance(name, str) for name in columns):
        raise ChalkInputError(f"columns must be a list of column names or None, not {columns!r}")
    return batch_size, list(columns)


@contextlib.contextmanager
def _batch_reader(
    path: Path, batch_size: int | None, columns: list[str] | None
) -> Iterator[Iterator[pyarrow.RecordBatch]]:
    """The record batches of the parquet file at `path`, streamed; the file is closed on exit.

    Raises ChalkInputError when `columns` names a column the file does not have.
    """
    pq = _require("pyarrow.parquet", "arrow", "reading offline query results")
    with pq.ParquetFile(path, pre_buffer=False, buffer_size=_READ_BUFFER_BYTES) as parquet:
        if columns is not None:
            names = parquet.schema_arrow.names
            missing = [name for name in columns if name not in names]
            if missing:
                raise ChalkInputError(
                    f"columns names {', '.join(map(repr, missing))}, which the result does not have; "
                    f"its columns are {', '.join(map(repr, names))}"
                )
        options: dict[str, Any] = {"columns": columns}
        if batch_size is not None:
            options["batch_size"] = batch_size
        yield parquet.iter_batches(**options)


def _open_dataset(paths: Sequence[Path], columns: Sequence[str]) -> pyarrow.dataset.Dataset:
    """A dataset over the parquet files at `paths` (read as it is scanned); with none, an empty one."""
    pa = _require("pyarrow", "arrow", "reading offline query results")
    ds = _require("pyarrow.dataset", "arrow", "reading offline query results")
    if not paths:
        return ds.dataset([], format="parquet", schema=pa.schema([(name, pa.null()) for name in columns]))
    return ds.dataset([str(path) for path in paths], format="parquet")


def _scan_polars(paths: Sequence[Path], columns: Sequence[str]) -> polars.LazyFrame:
    """A LazyFrame over the parquet files at `paths` (read when collected); with none, an empty one."""
    pl = _require("polars", "polars", "reading offline query results")
    if not paths:
        empty: polars.LazyFrame = pl.LazyFrame(schema={name: pl.Null for name in columns})
        return empty
    names = [str(path) for path in paths]
    frame: polars.LazyFrame
    try:
        # glob=False: a directory's name is a name, even with "[" or "*" in it.
        frame = pl.scan_parquet(names, glob=False)
    except TypeError:  # a polars before glob= (0.20.x): it globs only names that hold a pattern
        frame = pl.scan_parquet(names)
    return frame
