"""A bulk query's input as the Arrow table its request carries, and its ``now`` as one entry per row.

The input is a mapping of feature name to an equal-length column, or a pandas, polars or pyarrow
table (recognised by its module's name, so none of those libraries is imported unless the caller
already has one). pyarrow itself is needed (``chalk-client[arrow]``), and loaded only when a
function here runs. Every check is made before anything is sent, as :class:`ChalkInputError`:
an empty input, a key that is not a non-empty string, columns of unequal length, and a naive
datetime (a column of naive timestamps in a table, a naive value in a mapping, a naive ``now``).

A table keeps its columns and Arrow types as they are; a mapping's values go through pyarrow's
own inference (an int is int64, a str utf8, an aware datetime a timestamp with its zone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalk_client._api.arguments import _aware
from chalk_client._api.offline_input import check_aware, check_lengths, mapping_columns
from chalk_client._api.tables import _require
from chalk_client._core.errors import ChalkInputError

if TYPE_CHECKING:
    import pyarrow

__all__ = ["bulk_input_table", "bulk_now"]


def bulk_input_table(value: object, *, what: str = "query_bulk()") -> pyarrow.Table:
    """`value` as a ``pyarrow.Table`` of one column per feature, or :class:`ChalkInputError`."""
    pa = _require("pyarrow", "arrow", what)
    table = _as_table(value, pa)
    names = table.column_names
    for name in names:
        if not isinstance(name, str) or not name:
            raise ChalkInputError(f"input columns must be named by feature (a non-empty str), got {name!r}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ChalkInputError(f"input names a feature more than once: {', '.join(repeated)}")
    if not names:
        raise ChalkInputError("input has no columns: give at least one, e.g. {'user.id': [1, 2, 3]}")
    if table.num_rows == 0:
        raise ChalkInputError("input has no rows: every column is empty")
    for name, column_type in zip(names, table.schema.types, strict=True):
        if _naive_timestamps(pa, column_type):
            raise ChalkInputError(
                f"input column {name!r} holds naive timestamps: give them a time zone "
                "(e.g. tz_localize('UTC') in pandas, or aware datetimes)"
            )
    return table


def bulk_now(now: datetime | Sequence[datetime] | None, rows: int) -> list[str] | None:
    """``now`` as the request sends it: one ISO 8601 string per row (None: the server's time).

    One aware datetime applies to every row; a sequence must have one aware datetime per row.
    """
    if now is None:
        return None
    if isinstance(now, datetime):
        return [_aware(now, "now").astimezone(UTC).isoformat()] * rows
    given: object = now  # a caller may pass anything: check before trusting the annotation
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise ChalkInputError(f"now must be an aware datetime or one per row, got {type(now).__name__}")
    if len(now) != rows:
        raise ChalkInputError(f"now has {len(now)} entries for {rows} input rows: give one, or one per row")
    stamps = []
    for row, moment in enumerate(now):
        if not isinstance(moment, datetime):
            raise ChalkInputError(f"now[{row}] must be an aware datetime, got {type(moment).__name__}")
        stamps.append(_aware(moment, f"now[{row}]").astimezone(UTC).isoformat())
    return stamps


def _as_table(value: object, pa: Any) -> pyarrow.Table:  # noqa: ANN401 - the pyarrow module
    module = type(value).__module__.split(".", 1)[0]
    try:
        if module == "pyarrow" and isinstance(value, pa.Table):
            return value
        if module == "pandas" and hasattr(value, "columns") and hasattr(value, "isna"):
            return pa.Table.from_pandas(value, preserve_index=False)
        if module == "polars" and hasattr(value, "to_arrow"):
            frame: Any = value
            table: pyarrow.Table = frame.to_arrow()
            return table
    except (pa.ArrowException, TypeError, ValueError) as err:
        raise ChalkInputError(f"input cannot be sent as an Arrow table: {err}") from None
    if not isinstance(value, Mapping):
        raise ChalkInputError(
            "input must be a mapping of feature name to column, or a pandas, polars or pyarrow "
            f"table, got {type(value).__name__}"
        )
    columns = mapping_columns(value)
    check_lengths(columns)
    try:
        table = pa.Table.from_pydict(columns)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as err:
        raise ChalkInputError(f"input cannot be sent as an Arrow table: {err}") from None
    # pyarrow reads [aware, naive] as aware: a column that came out holding timestamps has its values
    # checked one by one (only those columns: a check of every value would cost more than Arrow's
    # own conversion).
    for name, column_type in zip(table.column_names, table.schema.types, strict=True):
        if _holds_timestamps(pa, column_type):
            check_aware(name, columns[name])
    return table


def _children(pa: Any, column_type: Any) -> list[Any]:  # noqa: ANN401 - pyarrow's module and types
    """The types nested in a list, struct or map type (none for the others)."""
    types = pa.types
    if (
        types.is_list(column_type)
        or types.is_large_list(column_type)
        or types.is_fixed_size_list(column_type)
    ):
        return [column_type.value_type]
    if types.is_map(column_type):
        return [column_type.key_type, column_type.item_type]
    if types.is_struct(column_type):
        return [column_type.field(index).type for index in range(column_type.num_fields)]
    return []


def _holds_timestamps(pa: Any, column_type: Any) -> bool:  # noqa: ANN401 - pyarrow's module and types
    """Whether `column_type` is, or nests, a timestamp type."""
    if pa.types.is_timestamp(column_type):
        return True
    return any(_holds_timestamps(pa, child) for child in _children(pa, column_type))


def _naive_timestamps(pa: Any, column_type: Any) -> bool:  # noqa: ANN401 - pyarrow's module and types
    """Whether `column_type` is, or nests, a timestamp type without a time zone."""
    if pa.types.is_timestamp(column_type):
        return column_type.tz is None
    return any(_naive_timestamps(pa, child) for child in _children(pa, column_type))
