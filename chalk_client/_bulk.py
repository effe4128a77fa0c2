"""The bulk methods of :class:`~chalk_client.ChalkClient`: bulk queries, writes and deletes.

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
    from chalk_client._api.results import UploadResult
    from chalk_client._core.config import ChalkClientConfig
    from chalk_client._io.sync_driver import SyncDriver

__all__: list[str] = []


class _BulkMethods:
    """Bulk queries, writes and deletes, on the client's driver, call flows and configuration."""

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

    def multi_upload_features(
        self,
        input: object,
        *,
        environment: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> UploadResult:
        """Write feature values as Arrow tables (needs ``chalk-client[arrow]``).

        One request per table, to the API server. A mapping of columns or a pandas, polars or
        pyarrow table is one table; a list of row mappings becomes one table per set of keys, sent
        in the order each set first appears. Like ``upload_features``, not retried once a request
        may have reached the server.

        Args:
            input: A mapping of feature name to an equal-length column, a table, or a list of rows
                such as ``[{"user.id": 1, "user.name": "Ada"}, {"user.id": 2, "user.age": 40}]``.
            environment: This call's environment, instead of the client's.
            timeout: Each request's timeout, instead of the client's.

        Returns:
            Rows and features sent, and the server's ``operation_ids``, one per table.

        Raises:
            ChalkInputError: an empty input, a key that is not a string, unequal columns, a naive
                datetime (nothing was sent).
            ChalkResultError: the server answered with errors for a table (that table was not stored).
            ChalkSDKError: any error after some tables were stored carries their ``operation_ids``.

        Example::

            result = client.multi_upload_features({"user.id": [1, 2], "user.name": ["Ada", "Grace"]})
            print(result.rows, result.operation_ids)
        """
        from chalk_client._api import write_calls as _writes

        uploads = _writes.multi_upload_calls(input, environment=environment)
        return self._driver.run(_writes.multi_upload_flow(self._calls, uploads, timeout))

    def delete_features(
        self,
        namespace: str,
        primary_keys: Sequence[str | int],
        *,
        features: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        retain_offline: bool = False,
        retain_online: bool = False,
        environment: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> None:
        """Delete the stored values of some entities: of `features`, of the features with `tags`,
        or (with neither) all of them.

        Sent to the API server; not possible on a client with a branch. Idempotent, so retried.

        Args:
            namespace: The feature class, e.g. ``"user"``.
            primary_keys: The entities, e.g. ``[1, 2]`` (sent as strings).
            features: Feature names, with or without the namespace (``"email"`` or ``"user.email"``).
            tags: Delete the features that carry these tags (not with `features`).
            retain_offline: Keep the offline store's values.
            retain_online: Keep the online store's values.
            environment: This call's environment, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Raises:
            ChalkInputError: both `features` and `tags`, no primary key, or a client on a branch
                (nothing was sent).
            ChalkResultError: the server answered with errors (the deletion may be partial).

        Example::

            client.delete_features("user", [1, 2], features=["email"])
        """
        from chalk_client._api import write_calls as _writes

        call = _writes.delete_features_call(
            namespace,
            primary_keys,
            features=features,
            tags=tags,
            retain_offline=retain_offline,
            retain_online=retain_online,
            environment=environment,
            client_branch=self._config.branch,
        )
        self._driver.run(self._calls.call(call, _writes.parse_deletion, timeout))

    def drop_features(
        self,
        namespace: str,
        features: Sequence[str],
        *,
        retain_offline: bool = False,
        retain_online: bool = False,
        environment: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> None:
        """Delete `features`' stored values for every entity of `namespace`.

        Sent to the API server; not possible on a client with a branch. Idempotent, so retried.

        Args:
            namespace: The feature class, e.g. ``"user"``.
            features: Feature names, with or without the namespace.
            retain_offline: Keep the offline store's values.
            retain_online: Keep the online store's values.
            environment: This call's environment, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Raises:
            ChalkInputError: no feature, or a client on a branch (nothing was sent).
            ChalkResultError: the server answered with errors.

        Example::

            client.drop_features("user", ["legacy_score"])
        """
        from chalk_client._api import write_calls as _writes

        call = _writes.drop_features_call(
            namespace,
            features,
            retain_offline=retain_offline,
            retain_online=retain_online,
            environment=environment,
            client_branch=self._config.branch,
        )
        self._driver.run(self._calls.call(call, _writes.parse_deletion, timeout))
