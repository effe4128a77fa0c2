"""An offline query's input: a mapping of columns, or a pandas / polars / pyarrow table, sent column-major.

The wire form is ``{"columns": [...], "values": [[...], ...]}``: one list of values per feature,
all of the same length. Tables are recognised by their module's name, so none of those libraries
is imported unless the caller already has one. Missing values in a table are sent as null; in a
plain mapping, ``NaN`` is an error, as everywhere else in the SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalk_client._api.arguments import _aware, _column
from chalk_client._core.errors import ChalkInputError

__all__ = ["check_aware", "check_lengths", "check_rows", "mapping_columns", "offline_input"]


def offline_input(value: object) -> dict[str, Any]:
    """``{"columns": [...], "values": [[...], ...]}`` for `value`, or :class:`ChalkInputError`.

    Missing values in a table (pandas ``NaN``/``NaT``/``None``, polars and pyarrow nulls) are sent
    as null; in a plain mapping, ``NaN`` is an error, as everywhere else in the SDK.
    """
    columns = _table_columns(value)
    if columns is None:
        if not isinstance(value, Mapping):
            raise ChalkInputError(
                "input must be a mapping of feature name to column, or a pandas, polars or pyarrow "
                f"table, got {type(value).__name__}"
            )
        columns = mapping_columns(value)
    if not columns:
        raise ChalkInputError("input has no columns: give at least one, e.g. {'user.id': [1, 2, 3]}")
    check_rows(columns)
    if 0 in {len(column) for column in columns.values()}:
        raise ChalkInputError("input has no rows: every column is empty")
    return {"columns": list(columns), "values": list(columns.values())}


def mapping_columns(value: Mapping[Any, Any]) -> dict[str, list[Any]]:
    """The columns of a mapping input: each key a feature name, each value a column (a scalar is a
    column of one); :class:`ChalkInputError` otherwise."""
    columns: dict[str, list[Any]] = {}
    for name, column in value.items():
        if not isinstance(name, str) or not name:
            raise ChalkInputError(f"input keys must be non-empty feature names (str), got {name!r}")
        columns[name] = _column(column, name)
    return columns


def check_rows(columns: Mapping[str, list[Any]]) -> None:
    """:class:`ChalkInputError` unless every column has the same length and no datetime is naive."""
    check_lengths(columns)
    for name, column in columns.items():
        check_aware(name, column)


def check_lengths(columns: Mapping[str, list[Any]]) -> None:
    """:class:`ChalkInputError` unless every column has the same length."""
    lengths = {name: len(column) for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ChalkInputError(f"input columns have different lengths ({shown}); each needs one value per row")


def check_aware(name: str, column: list[Any]) -> None:
    """:class:`ChalkInputError` if a datetime in `column` is naive."""
    for row, item in enumerate(column):
        if isinstance(item, datetime):
            _aware(item, f"input[{name!r}][{row}]")


def _table_columns(value: object) -> dict[str, list[Any]] | None:
    """The columns of a pandas, polars or pyarrow table; None for anything else.

    Detected by module name, so none of those libraries is imported unless the caller already has one.
    """
    module = type(value).__module__.split(".", 1)[0]
    if module == "pandas" and hasattr(value, "columns") and hasattr(value, "isna"):
        frame: Any = value
        nulls = frame.isna()
        return {
            _column_name(name): [
                None if missing else item
                for item, missing in zip(frame[name].tolist(), nulls[name].tolist(), strict=True)
            ]
            for name in frame.columns
        }
    if module == "polars" and hasattr(value, "to_dict"):
        table: Any = value
        return {_column_name(k): list(v) for k, v in table.to_dict(as_series=False).items()}
    if module == "pyarrow" and hasattr(value, "to_pydict"):
        arrow: Any = value
        return {_column_name(k): list(v) for k, v in arrow.to_pydict().items()}
    return None


def _column_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ChalkInputError(f"input table columns must be named by feature (str), got {name!r}")
    return name
