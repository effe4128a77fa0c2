"""The bulk query methods of :class:`~chalk_client.ChalkClient`: ``query_bulk`` and ``multi_query``.

Generated from ``chalk_client/_async_bulk.py`` by ``scripts/unasync``: do not edit; edit the async
twin and run the script (``scripts/check`` fails when the two drift).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from chalk_client._core.defaults import USE_CLIENT_DEFAULT, TimeoutArg, UseClientDefault

if TYPE_CHECKING:
    from chalk_client._api.bulk_results import BulkQuery, BulkQueryResult
    from chalk_client._api.flow import CallFlows
    from chalk_client._core.config import ChalkClientConfig
    from chalk_client._io.sync_driver import SyncDriver

__all__: list[str] = []


class _BulkMethods:
    """``query_bulk`` and ``multi_query``, on the client's driver, call flows and configuration."""

    _driver: SyncDriver
    _calls: CallFlows
    _config: ChalkClientConfig

    def query_bulk(
        self,
        input: object,
        output: Sequence[str],
        *,
        now: datetime | Sequence[datetime] | None = None,
        staleness: Mapping[str, str] | None = None,
        tags: Sequence[str] | None = None,
        query_name: str | None = None,
        correlation_id: str | None = None,
        include_meta: bool = False,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> BulkQueryResult:
        """Compute feature values for many rows in one call, over Arrow (needs ``chalk-client[arrow]``).

        The input travels as an Arrow table and the values come back as one: one row per input row,
        in the server's columns and Arrow types; nothing goes through Python objects unless you ask
        (``to_pandas()``, ``to_polars()``). Routed like :meth:`query`.

        Args:
            input: The rows: a mapping of feature name to an equal-length column, e.g.
                ``{"user.id": [1, 2, 3]}``, or a pandas, polars or pyarrow table.
            output: The features to compute, e.g. ``["user.name", "user.credit_score"]``; a
                has-many feature comes back in ``result.groups``.
            now: Compute as of this time: one aware datetime for every row, or one per row.
            staleness: Maximum age of cached values per feature, e.g. ``{"user.credit_score": "1h"}``.
            tags: Resolver tags for this query.
            query_name: A named query; sent as ``X-Chalk-Query-Name`` too.
            correlation_id: An id to find this query in Chalk's logs.
            include_meta: Ask for the query's metadata (``result.meta``).
            environment: This call's environment (id or name), instead of the client's.
            branch: This call's branch, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Returns:
            The values (``to_arrow()``, ``to_pandas()``, ``to_polars()``, ``groups``). Errors the
            server reports are on the result (``errors``), not raised; call ``raise_for_errors()``
            to raise them.

        Raises:
            ChalkInputError: an argument is invalid: an empty input or output, a key that is not a
                string, columns of unequal length, a naive datetime (nothing was sent).
            ChalkMissingDependencyError: pyarrow is not installed (nothing was sent).
            ChalkAPIStatusError: the server refused the query (a subclass per status).
            ChalkUnavailableError: the server or the network failed after the retries.

        Example::

            result = client.query_bulk({"user.id": [1, 2, 3]}, ["user.name", "user.credit_score"])
            print(result.to_arrow(), result.errors)
        """
        from chalk_client._api import bulk_calls as _bulk  # bulk queries load only when used
        from chalk_client._api.bulk_results import BulkQuery

        query = BulkQuery(
            input=input,
            output=output,
            now=now,
            staleness=staleness,
            tags=tags,
            query_name=query_name,
            correlation_id=correlation_id,
            include_meta=include_meta,
        )
        call = _bulk.bulk_call(
            [query],
            environment=environment,
            branch=branch,
            default_branch=self._config.branch,
            what="the bulk query",
        )
        results = self._driver.run(self._calls.call(call, _bulk.parse_bulk, timeout))
        return results[0]

    def multi_query(
        self,
        queries: Sequence[BulkQuery],
        *,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> list[BulkQueryResult]:
        """Run several bulk queries in one request (needs ``chalk-client[arrow]``).

        Each :class:`~chalk_client.BulkQuery` has its own rows, outputs and options; the host,
        environment, branch and timeout belong to the request, so they are set here, once.

        Args:
            queries: The queries, at least one.
            environment: The request's environment (id or name), instead of the client's.
            branch: The request's branch, instead of the client's.
            timeout: The request's timeout, instead of the client's.

        Returns:
            One result per query, in the order given. Errors the server reports for one query are on
            its result, not raised, and the other queries still answer.

        Raises:
            ChalkInputError: no query, or an invalid one (the message names it; nothing was sent).
            ChalkMissingDependencyError: pyarrow is not installed (nothing was sent).
            ChalkAPIStatusError: the server refused the request (a subclass per status).
            ChalkUnavailableError: the server or the network failed after the retries.

        Example::

            from chalk_client import BulkQuery

            scores, ages = client.multi_query([
                BulkQuery(input={"user.id": [1, 2]}, output=["user.credit_score"]),
                BulkQuery(input={"user.id": [3]}, output=["user.age"]),
            ])
        """
        from chalk_client._api import bulk_calls as _bulk

        call = _bulk.bulk_call(
            queries,
            environment=environment,
            branch=branch,
            default_branch=self._config.branch,
            what="the multi-query",
        )
        return self._driver.run(self._calls.call(call, _bulk.parse_bulk, timeout))
