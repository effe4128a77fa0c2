"""An offline query submission, read and checked: what its job asks for, or a 400 at once.

Also the errors a well-formed submission's job will fail with at the end of its duration (a feature
no resolver computes, an input without ``user.id``). The package docstring
(:mod:`chalk_client.testing._offline`) lists the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from chalk_client.testing._data import FEATURE_TYPES, INT64_MAX, INT64_MIN, _type_ok, _user_id, parse_rfc3339
from chalk_client.testing._http import ApiError, chalk_error

__all__ = ["PRIMARY_KEY", "TIMESTAMP_COLUMN", "Query", "job_errors", "parse_query"]

PRIMARY_KEY: Final = "user.id"
TIMESTAMP_COLUMN: Final = "__ts__"
_DESTINATION_FORMAT: Final = "PARQUET"


class _Input(NamedTuple):
    columns: tuple[str, ...]
    values: tuple[list[Any], ...]  # user.id as ints, __ts__ as aware UTC datetimes
    rows: int


class Query(NamedTuple):
    """The parts of a submission that shape its job."""

    outputs: tuple[str, ...]
    required_outputs: tuple[str, ...]
    input: _Input | None
    max_samples: int | None
    tags: tuple[str, ...]
    dataset_name: str | None
    branch: str | None
    observed_at_bounds: tuple[str | None, str | None] = (None, None)  # as sent


def job_errors(query: Query) -> tuple[dict[str, Any], ...]:
    """The errors a job will fail with at the end of its duration (none: it will succeed)."""
    names = [*query.outputs, *query.required_outputs]
    if query.input is not None:
        names.extend(name for name in query.input.columns if name != TIMESTAMP_COLUMN)
    errors = [
        chalk_error("RESOLVER_NOT_FOUND", f"no resolver computes the feature {name[:200]!r}", feature=name)
        for name in dict.fromkeys(names)
        if name not in FEATURE_TYPES
    ]
    if query.input is not None and PRIMARY_KEY not in query.input.columns:
        errors.append(
            chalk_error(
                "INVALID_QUERY",
                "the input has no 'user.id' column: an offline query's input must give the primary key",
            )
        )
    return tuple(errors)


def _invalid(message: str, code: str = "INVALID_QUERY") -> ApiError:
    return ApiError(400, code, message, detail=f"invalid offline query: {message}")


def _names(data: Mapping[str, Any], field: str, *, required: bool) -> tuple[str, ...]:
    value = data.get(field)
    if value is None and not required:
        return ()
    if (
        not isinstance(value, list)
        or not all(isinstance(name, str) for name in value)
        or (required and not value)
    ):
        wanted = "a non-empty list of feature names" if required else "a list of feature names"
        raise _invalid(f"'{field}' must be {wanted}")
    return tuple(value)


def _optional(data: Mapping[str, Any], field: str, kind: type, what: str) -> Any:  # noqa: ANN401
    value = data.get(field)
    if value is not None and not isinstance(value, kind):
        raise _invalid(f"'{field}' must be {what}", "VALIDATION_FAILED")
    return value


def parse_query(data: object) -> Query:
    """The parts of a submission that shape the job; raises a 400 for a malformed one."""
    if not isinstance(data, dict):
        raise _invalid("the request body must be a JSON object")
    outputs = _names(data, "output", required=True)
    required_outputs = _names(data, "required_output", required=False)
    query_input = _parse_input(data.get("input"))
    max_samples = data.get("max_samples")
    if max_samples is not None and (
        isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1
    ):
        raise _invalid("'max_samples' must be a positive integer")
    bounds = []
    for field in ("observed_at_lower_bound", "observed_at_upper_bound"):
        value = data.get(field)
        parsed = parse_rfc3339(value) if value is not None else None
        if value is not None and parsed is None:
            raise _invalid(f"'{field}' must be an ISO 8601 date-time with an offset", "PARSE_FAILED")
        bounds.append(parsed)
    lower, upper = bounds
    sent = (data.get("observed_at_lower_bound"), data.get("observed_at_upper_bound"))
    if lower is not None and upper is not None and lower >= upper:
        raise _invalid(
            "'observed_at_lower_bound' must be before 'observed_at_upper_bound'", "VALIDATION_FAILED"
        )
    tags = data.get("tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags)):
        raise _invalid("'tags' must be a list of strings", "VALIDATION_FAILED")
    dataset_name = _optional(data, "dataset_name", str, "a string")
    branch = _optional(data, "branch", str, "a string")
    _optional(data, "correlation_id", str, "a string")
    _optional(data, "recompute_features", bool, "a boolean")
    destination = _optional(data, "destination_format", str, "'PARQUET'")
    if destination is not None and destination.upper() != _DESTINATION_FORMAT:
        raise _invalid("'destination_format' must be 'PARQUET', the only format served", "VALIDATION_FAILED")
    return Query(
        outputs=outputs,
        required_outputs=required_outputs,
        input=query_input,
        max_samples=max_samples,
        tags=tuple(tags or ()),
        dataset_name=dataset_name,
        branch=branch,
        observed_at_bounds=sent,
    )


def _parse_input(value: object) -> _Input | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid('\'input\' must be an object {"columns": [...], "values": [[...], ...]}')
    columns = value.get("columns")
    values = value.get("values")
    if not isinstance(columns, list) or not columns or not all(isinstance(name, str) for name in columns):
        raise _invalid("'input'.'columns' must be a non-empty list of feature names")
    repeated = [name for name in dict.fromkeys(columns) if columns.count(name) > 1]
    if repeated:
        raise _invalid(f"'input'.'columns' names {repeated[0][:200]!r} more than once")
    if not isinstance(values, list) or not all(isinstance(column, list) for column in values):
        raise _invalid("'input'.'values' must be a list of columns, each a list of values")
    if len(values) != len(columns):
        raise _invalid(
            f"'input' has {len(columns)} columns but {len(values)} lists of values: "
            "values[i] is the column of columns[i] (column-major)"
        )
    lengths = {len(column) for column in values}
    if len(lengths) > 1:
        raise _invalid("every column of 'input'.'values' must have the same length")
    converted = [_input_column(name, column) for name, column in zip(columns, values, strict=True)]
    return _Input(tuple(columns), tuple(converted), lengths.pop())


def _input_column(name: str, column: list[Any]) -> list[Any]:
    """An input column checked, with ``user.id`` as ints and ``__ts__`` as UTC datetimes."""
    if name == PRIMARY_KEY:
        ids = [_user_id(value) for value in column]
        for row, user_id in enumerate(ids):
            if user_id is None or not INT64_MIN <= user_id <= INT64_MAX:
                raise _invalid(
                    f"row {row} of input column 'user.id' must be a 64-bit integer or a string of its digits"
                )
        return ids
    if name == TIMESTAMP_COLUMN:
        times: list[datetime | None] = []
        for row, value in enumerate(column):
            parsed = parse_rfc3339(value) if value is not None else None
            if value is not None and parsed is None:
                raise _invalid(
                    f"row {row} of input column '__ts__' must be an ISO 8601 date-time with an offset",
                    "PARSE_FAILED",
                )
            try:
                times.append(parsed.astimezone(UTC) if parsed is not None else None)
            except OverflowError:
                raise _invalid(
                    f"row {row} of input column '__ts__' is outside the years 1 to 9999 in UTC",
                    "PARSE_FAILED",
                ) from None
        return times
    kind = FEATURE_TYPES.get(name)
    if kind is not None:
        for row, value in enumerate(column):
            if value is not None and not _type_ok(value, kind):
                wanted = "a 64-bit int" if kind == "int" else "valid UTF-8 text"
                raise _invalid(
                    f"row {row} of input column {name!r} must be {wanted} or null, not {type(value).__name__}"
                    + (" (out of range or not encodable)" if type(value).__name__ == kind else "")
                )
    return list(column)  # an unknown feature's column: the job will fail
