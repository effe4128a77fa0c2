"""The result of a bulk query: the server's Arrow tables as they came, its errors as SDK types.

:class:`BulkQueryResult` wraps one query's part of a ``/v1/query/feather`` answer
(:class:`~chalk_client._api.feather.BulkAnswer`). The scalar table keeps the server's columns and
Arrow types; nothing goes through Python objects unless the caller asks (``to_pandas()``,
``to_polars()``). Errors in a 200 answer are returned, not raised, as with ``query()``;
``raise_for_errors()`` raises them. :class:`BulkQuery` is one query of a ``multi_query``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

import attrs

from chalk_client._api.calls import _query_meta
from chalk_client._api.feather import BulkAnswer
from chalk_client._api.results import QueryMeta
from chalk_client._api.tables import _require
from chalk_client._core.errors import ChalkResultError
from chalk_client._core.server_errors import ChalkServerErrorInfo, from_generated

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

__all__ = ["BulkQuery", "BulkQueryResult", "bulk_result"]


@attrs.frozen(kw_only=True)
class BulkQuery:
    """One query of a ``multi_query``: its rows, its outputs and its own options.

    Attributes:
        input: A mapping of feature name to an equal-length column, or a pandas, polars or pyarrow
            table.
        output: The features to compute.
        now: Compute as of this time: one aware datetime, or one per row.
        staleness: Maximum age of cached values per feature.
        tags: Resolver tags.
        query_name: A named query.
        correlation_id: An id to find this query in Chalk's logs.
        include_meta: Ask for the query's metadata.
    """

    input: object
    output: Sequence[str]
    now: datetime | Sequence[datetime] | None = None
    staleness: Mapping[str, str] | None = None
    tags: Sequence[str] | None = None
    query_name: str | None = None
    correlation_id: str | None = None
    include_meta: bool = False


class BulkQueryResult:
    """The answer to one bulk query: a table with one row per input row, and its has-many groups.

    Attributes:
        groups: ``{has_many_feature: pyarrow.Table}`` for each has-many output.
        errors: The server's errors (:class:`~chalk_client.ChalkServerErrorInfo`), returned, not
            raised.
        meta: How the server ran the query, when asked with ``include_meta=True``.
    """

    __slots__ = ("_scalars", "errors", "groups", "meta")

    def __init__(
        self,
        scalars: pyarrow.Table | None,
        *,
        groups: Mapping[str, pyarrow.Table] | None = None,
        errors: Sequence[ChalkServerErrorInfo] = (),
        meta: QueryMeta | None = None,
    ) -> None:
        self._scalars = scalars
        self.groups: dict[str, pyarrow.Table] = dict(groups or {})
        self.errors: list[ChalkServerErrorInfo] = list(errors)
        self.meta = meta

    def __len__(self) -> int:
        """The number of rows of the scalar table (0 when the server sent no data)."""
        return 0 if self._scalars is None else int(self._scalars.num_rows)

    def __repr__(self) -> str:
        columns = 0 if self._scalars is None else self._scalars.num_columns
        return (
            f"<BulkQueryResult rows={len(self)} columns={columns} groups={len(self.groups)} "
            f"errors={len(self.errors)}>"
        )

    def to_arrow(self) -> pyarrow.Table:
        """The scalar outputs as the server sent them: its columns and Arrow types (an empty table
        when it sent no data)."""
        if self._scalars is not None:
            return self._scalars
        pa = _require("pyarrow", "arrow", "to_arrow()")
        table: pyarrow.Table = pa.table({})
        return table

    def to_pandas(self) -> pandas.DataFrame:
        """The scalar outputs as a ``pandas.DataFrame`` (needs ``chalk-client[pandas]``)."""
        _require("pandas", "pandas", "to_pandas()")
        return self.to_arrow().to_pandas()

    def to_polars(self) -> polars.DataFrame:
        """The scalar outputs as a ``polars.DataFrame`` (needs ``chalk-client[polars]``)."""
        pl = _require("polars", "polars", "to_polars()")
        frame: polars.DataFrame = pl.from_arrow(self.to_arrow())
        return frame

    def raise_for_errors(self) -> Self:
        """Raise :class:`~chalk_client.ChalkResultError` if the answer reported errors; else self."""
        if self.errors:
            raise ChalkResultError("the bulk query", self.errors)
        return self


def bulk_result(answer: BulkAnswer, secrets: Sequence[str | None] = ()) -> BulkQueryResult:
    """The result for one query's part of a bulk answer; errors read by the generated ``ChalkError``.

    An error object that does not parse (no string ``code`` and ``message``) is kept as an
    ``INTERNAL_SERVER_ERROR`` naming what came, so that no error the server reported is lost.
    """
    from chalk_openapi.models.chalk_error import ChalkError

    from chalk_client._core.answers import MODEL_ERRORS
    from chalk_client._core.errors import redact

    errors: list[ChalkServerErrorInfo] = []
    for raw in answer.errors:
        message = raw.get("message")
        code = raw.get("code")
        if isinstance(code, str) and isinstance(message, str):
            try:
                errors.append(from_generated(ChalkError.from_dict(raw), redact(message, secrets)))
                continue
            except MODEL_ERRORS:
                pass
        shown = redact(repr(raw), secrets)
        errors.append(
            ChalkServerErrorInfo(
                code="INTERNAL_SERVER_ERROR", message=f"an error that does not parse: {shown}"
            )
        )
    meta: Any = answer.meta
    return BulkQueryResult(
        answer.scalars,
        groups=answer.groups,
        errors=errors,
        meta=_query_meta(meta) if isinstance(meta, Mapping) else None,
    )
