"""The bulk online query of :class:`~chalk_client.testing.ChalkServer`: ``POST /v1/query/feather``.

The body is the ``chal1`` envelope of one query or several (``chalk_client.testing._feather`` reads
it), whatever its ``Content-Type`` says (official clients label it ``application/json``). A body
that is not a well-formed envelope is a 400 ``INVALID_QUERY`` with the JSON error body, as is one
that asks for an encoding of the answer it cannot give (below); otherwise the answer is a 200
``application/octet-stream`` byte model with one result per query, in request order.

Each query's JSON header is checked on its own: ``outputs`` (a non-empty list of feature names),
``now`` (absent or null, one RFC 3339 date-time with an offset, or a list of 1 or n of them for n
input rows), ``staleness`` (an object of strings), ``context`` (an object: ``environment`` a string,
``tags`` and ``required_resolver_tags`` lists of strings, each possibly null), ``include_meta`` and
``explain`` (booleans), ``query_name``, ``query_name_version``, ``correlation_id``, ``branch_id`` and
``deployment_id`` (strings); null is absent, and other fields are ignored. The input table needs
exactly one ``user.id`` column of integers (any width, signed or not) or strings of digits, nulls
allowed, every id in the 64-bit range; its other columns are ignored. A query that breaks one of
these rules answers ``has_data: false`` with one error (category ``REQUEST``): ``PARSE_FAILED`` for
a ``now`` that is not a date-time, ``INVALID_QUERY`` for the rest. The other queries still answer.

A query that parses answers ``has_data: true`` with, per the rules of :mod:`chalk_client.testing._data`:

- scalars, one row per input row in input order: ``user.id`` (``int64``, the input id), then each
  known scalar output in the order asked (once each; ``user.name`` ``large_string``, ``user.age``
  and ``user.credit_score`` ``int64``), then ``__ts__`` (``timestamp[us, tz=UTC]``, the server
  clock's now). Uploaded values override seeded ones, deleted ones answer null; other ids and
  null ids answer nulls. Each row of the failing user (13) without an uploaded or deleted credit
  score adds a ``RESOLVER_FAILED`` error (category ``FIELD``, with ``feature``, ``resolver``,
  ``display_primary_key`` and ``display_primary_key_fqn``).
- groups: ``user.transactions`` asked for gives a table of that name with ``transaction.id``,
  ``transaction.user_id`` (``int64``), ``transaction.amount`` (``double``) and ``__ts__``: the
  seeded transactions of each distinct input user, in input order (possibly no rows).
- an unknown output adds a ``RESOLVER_NOT_FOUND`` error (category ``REQUEST``, with ``feature``).
- ``include_meta: true`` adds the query metadata the online query gives (``explain`` adds no plan).

``now`` and ``staleness`` are checked, not used: values do not change with time. Tables are
LZ4-compressed Arrow IPC files unless the header asks otherwise: ``response_compression_scheme``
``"uncompressed"`` (or ``"lz4"``, the default) and ``feather_body_type`` ``"RECORD_BATCHES"``
(streams; or ``"TABLE"``, the default). The answer has one encoding, so every query of a request
must ask for the same one; another value, or queries that disagree, is a 400 ``INVALID_QUERY``.

The request log's ``query_name`` is the first query's ``query_name``, else the ``X-Chalk-Query-Name``
header.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from chalk_client.testing._auth import Caller, TokenService, rfc3339
from chalk_client.testing._data import (
    _CREDIT_SCORE,
    _FAILURE_EXCEPTION,
    _FAILURE_MESSAGE,
    _SEEDED,
    FAILING_USER_ID,
    FEATURE_RESOLVERS,
    FEATURE_TYPES,
    INT64_MAX,
    INT64_MIN,
    _user_id,
    parse_rfc3339,
    seeded_transactions,
)
from chalk_client.testing._feather import FeatherRequestError, FeatherResult, decode_request, encode_response
from chalk_client.testing._http import ApiError, Request, Response, chalk_error
from chalk_client.testing._store import DELETED, MISSING, FeatureStore, lookup

if TYPE_CHECKING:
    import pyarrow

__all__ = ["BulkService", "QueryMeta"]

QueryMeta = Callable[[Caller, list[str], str, float, list[dict[str, Any]] | None], dict[str, Any]]
"""Builds a query's ``meta``: ``(caller, outputs, query_timestamp, started, plan)``."""

_OCTET_STREAM: Final = (b"content-type", b"application/octet-stream")
_USER_ID: Final = "user.id"
_TRANSACTIONS: Final = "user.transactions"
_TIMESTAMP: Final = "__ts__"
_COMPRESSIONS: Final[Mapping[str, Literal["lz4"] | None]] = {"lz4": "lz4", "uncompressed": None}
_BODY_TYPES: Final[Mapping[str, Literal["file", "stream"]]] = {"TABLE": "file", "RECORD_BATCHES": "stream"}
_TEXT_FIELDS: Final = ("query_name", "query_name_version", "correlation_id", "branch_id", "deployment_id")
_FLAGS: Final = ("include_meta", "explain")
_NOW_HINT: Final = "an RFC 3339 date-time with an offset, e.g. 2026-01-01T00:00:00Z"


class _QueryError(Exception):
    """One query's problem: it answers ``has_data: false`` with this error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_QUERY", message, detail=f"invalid query: {message}")


class BulkService:
    """The handler of ``POST /v1/query/feather`` (on the API and engine addresses).

    Args:
        auth: Checks tokens and routing headers.
        store: Where uploaded values live.
        clock: The server's time source (Unix seconds), for ``__ts__`` and ``query_timestamp``.
        query_meta: Builds the ``meta`` of a query that asks for it (the online query's).
    """

    def __init__(
        self,
        *,
        auth: TokenService,
        store: FeatureStore,
        clock: Callable[[], float],
        query_meta: QueryMeta,
    ) -> None:
        self._auth = auth
        self._store = store
        self._clock = clock
        self._query_meta = query_meta

    async def query_bulk(self, request: Request) -> Response:
        """``POST /v1/query/feather``: one byte-model result per query of the ``chal1`` body."""
        started = time.perf_counter()
        caller = self._auth.authenticate(request)
        request.query_name = request.header("x-chalk-query-name")
        try:
            queries = decode_request(request.body)
        except FeatherRequestError as err:
            raise _invalid(f"the body is not a well-formed bulk query (chal1) envelope: {err}") from None
        first_name = queries[0][0].get("query_name")
        if isinstance(first_name, str):
            request.query_name = first_name
        compression = _one_setting(queries, "response_compression_scheme", "lz4", _COMPRESSIONS)
        arrow_format = _one_setting(queries, "feather_body_type", "TABLE", _BODY_TYPES)
        timestamp = self._clock()
        answers = [self._answer(header, table, caller, timestamp, started) for header, table in queries]
        body = encode_response(answers, compression=compression, arrow_format=arrow_format)
        return Response(200, [_OCTET_STREAM, (b"content-length", str(len(body)).encode())], body)

    def _answer(
        self,
        header: Mapping[str, Any],
        table: pyarrow.Table,
        caller: Caller,
        timestamp: float,
        started: float,
    ) -> FeatherResult:
        """One query's result; a query that breaks a rule answers ``has_data: false`` and its error."""
        try:
            outputs, include_meta = _check_header(header, table.num_rows)
            user_ids = _user_ids(table)
        except _QueryError as err:
            return FeatherResult(None, errors=[chalk_error(err.code, err.message)])
        import pyarrow as pa

        now = datetime.fromtimestamp(timestamp, tz=UTC)
        ts_type = pa.timestamp("us", tz="UTC")
        errors: list[dict[str, Any]] = []
        columns: dict[str, pyarrow.Array] = {_USER_ID: pa.array(user_ids, pa.int64())}
        groups: dict[str, pyarrow.Table] = {}
        rows = [
            (None, None) if user_id is None else (self._store.get(user_id), _SEEDED.get(user_id))
            for user_id in user_ids
        ]
        for name in outputs:
            if name in columns or name in groups:
                continue
            if name in FEATURE_RESOLVERS:
                columns[name] = self._scalars(name, user_ids, rows, errors)
            elif name == _TRANSACTIONS:
                groups[name] = _transactions(pa, user_ids, now, ts_type)
            else:
                message = f"no resolver computes the feature {name!r}"
                errors.append(chalk_error("RESOLVER_NOT_FOUND", message, feature=name))
        columns[_TIMESTAMP] = pa.array([now] * len(user_ids), ts_type)
        meta = None
        if include_meta:
            meta = self._query_meta(caller, outputs, rfc3339(timestamp), started, None)
        return FeatherResult(pa.table(columns), groups=groups, errors=errors, meta=meta)

    def _scalars(
        self,
        name: str,
        user_ids: Sequence[int | None],
        rows: Sequence[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]],
        errors: list[dict[str, Any]],
    ) -> pyarrow.Array:
        """The column of scalar feature `name`; adds the failing user's errors to `errors`."""
        import pyarrow as pa

        values: list[Any] = []
        for user_id, (uploaded, seeded) in zip(user_ids, rows, strict=True):
            stored = lookup(uploaded, name)
            if stored is DELETED:
                values.append(None)
            elif stored is not MISSING:
                values.append(stored)
            elif seeded is not None:
                values.append(seeded[name])
                if name == _CREDIT_SCORE and user_id == FAILING_USER_ID:
                    errors.append(
                        chalk_error(
                            "RESOLVER_FAILED",
                            _FAILURE_MESSAGE,
                            "FIELD",
                            feature=name,
                            resolver=FEATURE_RESOLVERS[name],
                            display_primary_key=str(user_id),
                            display_primary_key_fqn=_USER_ID,
                            exception=dict(_FAILURE_EXCEPTION),
                        )
                    )
            else:
                values.append(None)
        kind = pa.large_string() if FEATURE_TYPES[name] == "str" else pa.int64()
        return pa.array(values, kind)


def _one_setting(
    queries: Sequence[tuple[Mapping[str, Any], object]],
    field: str,
    default: str,
    choices: Mapping[str, Any],
) -> Any:  # noqa: ANN401 - a value of `choices`
    """What every query's `field` chooses (absent or null: `default`); a 400 for another value, or
    for queries that disagree."""
    chosen: set[str] = set()
    for header, _ in queries:
        value = header.get(field)
        value = default if value is None else value
        if not isinstance(value, str) or value not in choices:
            allowed = ", ".join(repr(choice) for choice in choices)
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            raise _invalid(f"'{field}' must be one of {allowed} (absent: {default!r}), not {shown}")
        chosen.add(value)
    if len(chosen) > 1:
        raise _invalid(f"every query must ask for the same '{field}': the answer has one encoding")
    return choices[chosen.pop()]


def _check_header(header: Mapping[str, Any], rows: int) -> tuple[list[str], bool]:
    """A query header's outputs and ``include_meta``; raises :class:`_QueryError` for a bad one."""
    outputs = header.get("outputs")
    if not isinstance(outputs, list) or not outputs or not all(isinstance(name, str) for name in outputs):
        raise _QueryError("INVALID_QUERY", "'outputs' must be a non-empty list of feature names")
    _check_now(header.get("now"), rows)
    staleness = header.get("staleness")
    if staleness is not None and (
        not isinstance(staleness, dict) or not all(isinstance(value, str) for value in staleness.values())
    ):
        raise _QueryError("INVALID_QUERY", "'staleness' must be an object whose values are strings")
    _check_context(header.get("context"))
    for field in _TEXT_FIELDS:
        if not isinstance(header.get(field), str | None):
            raise _QueryError("INVALID_QUERY", f"'{field}' must be a string")
    for field in _FLAGS:
        if not isinstance(header.get(field), bool | None):
            raise _QueryError("INVALID_QUERY", f"'{field}' must be a boolean")
    return outputs, header.get("include_meta") is True


def _check_now(now: object, rows: int) -> None:
    if now is None:
        return
    if isinstance(now, str):
        if parse_rfc3339(now) is None:
            raise _QueryError("PARSE_FAILED", f"'now' must be {_NOW_HINT}")
        return
    if not isinstance(now, list):
        raise _QueryError("PARSE_FAILED", f"'now' must be {_NOW_HINT}, or a list of them")
    if len(now) not in (1, rows):
        raise _QueryError(
            "INVALID_QUERY", f"'now' has {len(now)} entries: it needs 1, or one per input row ({rows})"
        )
    for position, entry in enumerate(now):
        if parse_rfc3339(entry) is None:
            raise _QueryError("PARSE_FAILED", f"'now'[{position}] must be {_NOW_HINT}")


def _check_context(context: object) -> None:
    if context is None:
        return
    if not isinstance(context, dict):
        raise _QueryError("INVALID_QUERY", "'context' must be an object")
    if not isinstance(context.get("environment"), str | None):
        raise _QueryError("INVALID_QUERY", "'context'['environment'] must be a string")
    for field in ("tags", "required_resolver_tags"):
        value = context.get(field)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(tag, str) for tag in value)
        ):
            raise _QueryError("INVALID_QUERY", f"'context'['{field}'] must be a list of strings")


def _user_ids(table: pyarrow.Table) -> list[int | None]:
    """The input table's ``user.id`` values (None for nulls); raises :class:`_QueryError` for a bad one."""
    import pyarrow as pa

    count = table.column_names.count(_USER_ID)
    if count != 1:
        problem = "has no 'user.id' column" if count == 0 else f"has {count} 'user.id' columns"
        raise _QueryError("INVALID_QUERY", f"the input table {problem}: it needs exactly one")
    column = table.column(_USER_ID)
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    textual = pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    if not (pa.types.is_integer(kind) or textual or pa.types.is_null(kind)):
        raise _QueryError(
            "INVALID_QUERY", f"'user.id' must be a column of integers or strings of digits, not {kind}"
        )
    ids: list[int | None] = []
    for row, value in enumerate(column.to_pylist()):
        if value is None:
            ids.append(None)
            continue
        user_id = _user_id(value)
        if user_id is None:
            raise _QueryError("INVALID_QUERY", f"row {row} of 'user.id' is not a string of digits")
        if not INT64_MIN <= user_id <= INT64_MAX:
            raise _QueryError("INVALID_QUERY", f"row {row} of 'user.id' is out of the 64-bit range")
        ids.append(user_id)
    return ids


def _transactions(
    pa: Any,  # noqa: ANN401 - a module
    user_ids: Sequence[int | None],
    now: datetime,
    ts_type: pyarrow.DataType,
) -> pyarrow.Table:
    """The ``user.transactions`` group: the seeded transactions of each distinct user, in input order."""
    seen: set[int] = set()
    found: list[dict[str, Any]] = []
    for user_id in user_ids:
        if user_id is not None and user_id not in seen:
            seen.add(user_id)
            found.extend(seeded_transactions(user_id))
    return pa.table(
        {
            "transaction.id": pa.array([t["transaction.id"] for t in found], pa.int64()),
            "transaction.user_id": pa.array([t["transaction.user_id"] for t in found], pa.int64()),
            "transaction.amount": pa.array([t["transaction.amount"] for t in found], pa.float64()),
            _TIMESTAMP: pa.array([now] * len(found), ts_type),
        }
    )
