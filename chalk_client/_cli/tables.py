"""Tables in files for the command line: input files read into columns, results written atomically.

Input files (``--input-file``), by suffix:

- ``.csv``: a header row of feature names, then one row per entity; a cell is read as JSON when it
  parses (``1`` an int, ``[1, 2]`` a list, ``"007"`` the string 007), else it is the text itself
  (``Ada``); an empty cell is null. ``offline-query`` and ``query`` read them alike.
- ``.parquet``: the table as it is, with its Arrow types (needs pyarrow).
- ``.json``: an object of columns (``{"user.id": [1, 2]}``) or a list of row objects
  (``[{"user.id": 1}, {"user.id": 2}]``; a key a row lacks is null there, except for ``upload``,
  which keeps the rows as they are: :func:`read_table_file`'s ``keep_rows``).

Results (``--out``), by suffix: ``.parquet`` (the server's Arrow types kept), ``.csv`` (a header,
then cells written so that reading them back as above gives the values again: null an empty cell,
a string as it is unless it would read as JSON, other values as JSON, times in ISO 8601) and
``.json`` (a list of row objects). :func:`write_tables` writes every file of one result or none:
each goes to a scratch folder beside its destination first, and is moved into place when all are
written.
"""

from __future__ import annotations

import base64
import csv
import importlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from chalk_client import ChalkInputError, ChalkMissingDependencyError

if TYPE_CHECKING:
    import pyarrow

__all__ = [
    "INPUT_SUFFIXES",
    "OUTPUT_SUFFIXES",
    "json_default",
    "read_input_file",
    "read_table_file",
    "write_tables",
]

INPUT_SUFFIXES: Final = (".csv", ".parquet", ".json")
"""The suffixes ``--input-file`` reads (any case)."""

OUTPUT_SUFFIXES: Final = (".parquet", ".csv", ".json")
"""The suffixes ``--out`` writes (any case)."""


# ---------------------------------------------------------------------------------------------------
# Reading


def read_input_file(path: str) -> dict[str, list[Any]]:
    """A CSV file as input columns: the header names the features; cells are JSON when they parse."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except OSError as err:
        raise ChalkInputError(f"cannot read --input-file {path}: {err.strerror or err}") from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise ChalkInputError(f"--input-file {path} is not a UTF-8 CSV file: {err}") from None
    if not rows or not any(rows[0]):
        raise ChalkInputError(f"--input-file {path} is empty: its first line must name the features")
    header, body = rows[0], [row for row in rows[1:] if row]
    columns: dict[str, list[Any]] = {name.strip(): [] for name in header}
    if len(columns) != len(header) or "" in columns:
        raise ChalkInputError(f"--input-file {path}: the header needs distinct, non-empty feature names")
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ChalkInputError(
                f"--input-file {path}, line {number}: {len(row)} cells where the header has {len(header)}"
            )
        for name, cell in zip(columns, row, strict=True):
            columns[name].append(_cell(cell))
    return columns


def _cell(text: str) -> Any:  # noqa: ANN401 - any JSON value
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # a bare word is a string


def read_table_file(path: str, *, keep_rows: bool = False) -> object:
    """The input rows of `path`, read by its suffix (:data:`INPUT_SUFFIXES`): columns, or a
    ``pyarrow.Table`` for parquet.

    With `keep_rows`, a JSON list of row objects stays a list of rows (``multi_upload_features``
    sends one table per set of keys, so a key a row lacks is not written as null).

    Raises:
        ChalkInputError: the file cannot be read, or is not what its suffix says.
        ChalkMissingDependencyError: a parquet file, and no pyarrow.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(path)
    if suffix == ".json":
        return _read_json(path, keep_rows=keep_rows)
    if suffix == ".csv":
        return read_input_file(path)
    raise ChalkInputError(f"--input-file {path}: use a {', '.join(INPUT_SUFFIXES)} file")


def _read_parquet(path: str) -> pyarrow.Table:
    pq = _pyarrow_module("pyarrow.parquet", f"reading --input-file {path}")
    pa = _pyarrow_module("pyarrow", f"reading --input-file {path}")
    try:
        with open(path, "rb") as handle:  # a directory is refused here, not read as a dataset
            return pq.read_table(handle)
    except OSError as err:
        raise ChalkInputError(f"cannot read --input-file {path}: {err.strerror or err}") from None
    except pa.ArrowException as err:
        raise ChalkInputError(f"--input-file {path} is not a parquet file: {err}") from None


def _read_json(path: str, *, keep_rows: bool = False) -> dict[str, list[Any]] | list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as err:
        raise ChalkInputError(f"cannot read --input-file {path}: {err.strerror or err}") from None
    except ValueError as err:  # UnicodeDecodeError and json.JSONDecodeError alike
        raise ChalkInputError(f"--input-file {path} is not a UTF-8 JSON file: {err}") from None
    shape = 'an object of columns ({"user.id": [1, 2]}) or a list of row objects ([{"user.id": 1}])'
    if isinstance(data, dict):
        for name, column in data.items():
            if not isinstance(column, list):
                raise ChalkInputError(
                    f"--input-file {path}: {name!r} is a {type(column).__name__}, not a list "
                    f"of values: give {shape}"
                )
        return data
    if not isinstance(data, list):
        raise ChalkInputError(f"--input-file {path} holds a {type(data).__name__}: give {shape}")
    if not data:
        raise ChalkInputError(f"--input-file {path} has no rows: give {shape}")
    names: dict[str, None] = {}
    for number, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            raise ChalkInputError(
                f"--input-file {path}: row {number} is a {type(row).__name__}, not an object: give {shape}"
            )
        names.update(dict.fromkeys(row))
    if keep_rows:
        return data
    return {name: [row.get(name) for row in data] for name in names}


def _pyarrow_module(name: str, what: str) -> Any:  # noqa: ANN401 - a module
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ChalkMissingDependencyError(
            f"{what} needs {name}, which is not installed: pip install 'chalk-client[arrow]'"
        ) from None


# ---------------------------------------------------------------------------------------------------
# Writing


def json_default(value: object) -> object:
    """``json.dumps``'s ``default`` for values from Arrow: times in ISO 8601, a duration in seconds,
    bytes in base64, anything else as its ``str()``."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _csv_cell(value: object) -> str:
    """One value as a CSV cell that :func:`read_input_file` reads back as the same value."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value if value else '""'  # an empty cell would be null
        return json.dumps(value, ensure_ascii=False)  # "007" or "true" stay strings
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return json.dumps(value, default=json_default, ensure_ascii=False)


def _batches(table: pyarrow.Table) -> Iterable[tuple[list[str], Iterable[tuple[Any, ...]]]]:
    names = list(table.column_names)
    for batch in table.to_batches():
        yield names, zip(*(column.to_pylist() for column in batch.columns), strict=True)


def _write_csv(table: pyarrow.Table, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.column_names)
        for _, rows in _batches(table):
            writer.writerows([_csv_cell(value) for value in row] for row in rows)


def _write_json(table: pyarrow.Table, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("[")
        separator = "\n"
        for names, rows in _batches(table):
            for row in rows:
                line = json.dumps(
                    dict(zip(names, row, strict=True)), default=json_default, ensure_ascii=False
                )
                handle.write(separator + line)
                separator = ",\n"
        handle.write("\n]\n")


def _write_parquet(table: pyarrow.Table, path: Path) -> None:
    pq = _pyarrow_module("pyarrow.parquet", f"writing {path.suffix}")
    with open(path, "wb") as handle:  # open(): the usual permissions, 0o666 under the umask
        pq.write_table(table, handle)


_WRITERS: Final[Mapping[str, Callable[[Any, Path], None]]] = {
    ".parquet": _write_parquet,
    ".csv": _write_csv,
    ".json": _write_json,
}


def write_tables(tables: Mapping[Path, pyarrow.Table]) -> list[Path]:
    """Write each table to its path, in the format its suffix names (:data:`OUTPUT_SUFFIXES`): all
    of them, or none. Every path is in one folder (created if need be); an existing file is
    replaced. Files get the usual permissions (0o666 under the umask).

    Raises:
        OSError: a file or the folder could not be written (nothing was replaced).
    """
    paths = list(tables)
    if not paths:
        return []
    folder = paths[0].parent
    assert all(path.parent == folder for path in paths), paths
    for path in paths:
        if path.is_dir():  # os.replace would fail on it after the others had moved
            raise IsADirectoryError(21, "Is a directory", str(path))
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".chalk-query-", dir=folder) as scratch:
        staged = []
        for number, (path, table) in enumerate(tables.items()):
            part = Path(scratch) / f"{number}{path.suffix}"
            _WRITERS[path.suffix.lower()](table, part)
            staged.append((part, path))
        for part, path in staged:  # one folder, one filesystem: each move is atomic
            os.replace(part, path)
    return paths
