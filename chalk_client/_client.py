"""``ChalkClient``: the synchronous client, safe to share between threads.

Generated from ``chalk_client/_async_client.py`` by ``scripts/unasync``: do not edit; edit the async
twin and run the script (``scripts/check`` fails when the two drift).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx

from chalk_client._api import calls as _calls
from chalk_client._api.results import Branch, OnlineQueryResult, ResolverRun, UploadResult, WhoAmI
from chalk_client._base import _BaseChalkClient
from chalk_client._bulk import _BulkMethods
from chalk_client._client_docs import CLIENT_ARGS_DOC, CLIENT_DOC
from chalk_client._core.defaults import USE_CLIENT_DEFAULT, TimeoutArg, UseClientDefault
from chalk_client._core.token import Token
from chalk_client._io.sync_driver import SyncDriver
from chalk_client._offline import _OfflineMethods

__all__ = ["ChalkClient"]


class ChalkClient(
    _BulkMethods,
    _OfflineMethods,
    _BaseChalkClient[httpx.BaseTransport, Callable[[float], None]],
):
    __doc__ = CLIENT_DOC + CLIENT_ARGS_DOC
    _TRANSPORT = SyncDriver.TRANSPORT
    _driver: SyncDriver

    def _make_driver(self, **options: Any) -> None:  # noqa: ANN401
        self._driver = SyncDriver(**options)

    def get_token(self) -> Token:
        """A valid access token, from the cache or from a new exchange.

        Example::

            token = client.get_token()
            print(token.primary_environment, token.expires_at)

        Raises:
            ChalkAuthenticationError: the credentials were rejected.
            ChalkUnavailableError: the token server or the network failed; try again later.
            ChalkInvalidResponseError: the token server's answer did not parse.
        """
        return self._driver.get_token()

    def query(
        self,
        input: Mapping[str, Any],
        output: Sequence[str],
        *,
        now: datetime | None = None,
        staleness: Mapping[str, str] | None = None,
        tags: Sequence[str] | None = None,
        query_name: str | None = None,
        correlation_id: str | None = None,
        include_meta: bool = False,
        explain: bool = False,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> OnlineQueryResult:
        """Compute or look up feature values for one entity (an online query).

        Args:
            input: Primary keys and known values, e.g. ``{"user.id": 1}``; values are any JSON
                (datetimes must be aware and are sent as ISO 8601).
            output: The features to return, e.g. ``["user.name", "user.credit_score"]``.
            now: Compute as of this time (an aware datetime; a naive one is an error).
            staleness: Maximum age of cached values per feature, e.g. ``{"user.credit_score": "1h"}``.
            tags: Resolver tags for this query.
            query_name: A named query; sent as ``X-Chalk-Query-Name`` too.
            correlation_id: An id to find this query in Chalk's logs.
            include_meta: Ask for per-feature metadata (resolver, cache hit) and query facts.
            explain: Ask for the query plan (in ``result.meta.explain_output``).
            environment: This call's environment (id or name), instead of the client's.
            branch: This call's branch, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Returns:
            The values. Errors for single features are on the result (``errors``,
            ``get(name).error``), not raised; call ``raise_for_errors()`` to raise them.

        Raises:
            ChalkInputError: an argument is invalid (nothing was sent).
            ChalkAPIStatusError: the server refused the query (a subclass per status).
            ChalkUnavailableError: the server or the network failed after the retries.

        Example::

            result = client.query(input={"user.id": 1}, output=["user.name"])
            print(result.get_value("user.name"), result.errors)
        """
        call = _calls.online_query_call(
            input,
            output,
            now=now,
            staleness=staleness,
            tags=tags,
            query_name=query_name,
            correlation_id=correlation_id,
            include_meta=include_meta,
            explain=explain,
            environment=environment,
            branch=branch,
            default_branch=self._config.branch,
        )
        return self._driver.run(self._calls.call(call, _calls.parse_online_query, timeout))

    def upload_features(
        self,
        input: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        query_name: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> UploadResult:
        """Write feature values: a column per feature, every column the same length.

        A scalar counts as a column of one, so ``{"user.id": 1, "user.name": "Ada"}`` writes one row.
        Uploads are not retried once they may have reached the server (a repeat could store the
        rows twice); only a connection that never opened is retried.

        Args:
            input: Feature name to a value or a list of values.
            correlation_id: An id to find this upload in Chalk's logs.
            query_name: A name for the upload; sent as ``X-Chalk-Query-Name`` too.
            environment: This call's environment, instead of the client's.
            branch: This call's branch, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Returns:
            What the server reported: rows sent and the trace id.

        Raises:
            ChalkInputError: empty input, a key that is not a string, or columns of different
                lengths (nothing was sent).
            ChalkResultError: the server answered with errors (nothing was stored).
            ChalkConnectionError: the connection failed; the message says whether the upload may
                have reached the server.

        Example::

            client.upload_features({"user.id": [1, 2], "user.name": ["Ada", "Grace"]})
        """
        call = _calls.upload_features_call(
            input,
            correlation_id=correlation_id,
            query_name=query_name,
            environment=environment,
            branch=branch,
        )
        return self._driver.run(self._calls.call(call, _calls.parse_upload, timeout))

    def whoami(
        self,
        *,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> WhoAmI:
        """The identity behind the credentials: user, team and environment.

        Example::

            print((client.whoami()).user)
        """
        call = _calls.whoami_call(environment=environment, branch=branch)
        return self._driver.run(self._calls.call(call, _calls.parse_whoami, timeout))

    def trigger_resolver_run(
        self,
        resolver_fqn: str,
        *,
        lower_bound: datetime | str | None = None,
        upper_bound: datetime | str | None = None,
        timestamping_mode: str | None = None,
        persist_online: bool | None = None,
        persist_offline: bool | None = None,
        idempotency_key: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> ResolverRun:
        """Start a run of a resolver.

        Safe to retry: the trigger carries an idempotency key (yours, or one generated for this
        call) that stays the same across attempts, so the server starts one run at most.

        Args:
            resolver_fqn: The resolver's fully qualified name.
            lower_bound: Only rows observed at or after this time (aware datetime or ISO 8601).
            upper_bound: Only rows observed before this time.
            timestamping_mode: ``"feature_time"`` or ``"online_store_write_time"``.
            persist_online: Whether to write the results to the online store.
            persist_offline: Whether to write the results to the offline store.
            idempotency_key: Triggers with the same key start one run.
            environment: This call's environment, instead of the client's.
            branch: This call's branch, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Example::

            run = client.trigger_resolver_run("resolvers.get_credit_score")
        """
        call = _calls.trigger_run_call(
            resolver_fqn,
            lower_bound=lower_bound,
            upper_bound=upper_bound,
            timestamping_mode=timestamping_mode,
            persist_online=persist_online,
            persist_offline=persist_offline,
            idempotency_key=idempotency_key,
            environment=environment,
            branch=branch,
        )
        return self._driver.run(self._calls.call(call, _calls.parse_run, timeout))

    def get_run_status(
        self,
        run_id: str,
        *,
        environment: str | None = None,
        branch: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> ResolverRun:
        """The status of a resolver run.

        Example::

            run = client.get_run_status(run.id)
        """
        call = _calls.run_status_call(run_id, environment=environment, branch=branch)
        return self._driver.run(self._calls.call(call, _calls.parse_run, timeout))

    def ping_engine(
        self,
        num: int | None = None,
        *,
        environment: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> int:
        """Check that the environment's engine answers: it echoes `num`.

        Sent to the engine (the query server, else the environment's engine), never to a branch.

        Args:
            num: A number for the engine to send back (None: the engine answers 0).
            environment: This call's environment, instead of the client's.
            timeout: This call's timeout, instead of the client's.

        Returns:
            The number the engine answered.

        Example::

            assert client.ping_engine(7) == 7
        """
        from chalk_client._api import write_calls as _writes  # loads Arrow's codec modules: only when used

        call = _writes.ping_call(num, environment=environment)
        return self._driver.run(self._calls.call(call, _writes.parse_ping, timeout))

    def get_branches(
        self,
        *,
        environment: str | None = None,
        timeout: TimeoutArg | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> list[Branch]:
        """The environment's branches, each with its deployments.

        Sent to the API server, without the client's branch.

        Example::

            print([branch.name for branch in client.get_branches()])
        """
        from chalk_client._api import write_calls as _writes

        call = _writes.get_branches_call(environment=environment)
        return self._driver.run(self._calls.call(call, _writes.parse_branches, timeout))

    def close(self) -> None:
        """Close the client's connection pools; the client cannot be used afterwards.

        (An ``ChalkClient``'s pools are per event loop: this closes the running loop's; a pool
        another loop opened was closed with that loop.)
        """
        self._driver.close()

    def __del__(self) -> None:
        driver = getattr(self, "_driver", None)
        if driver is not None and driver.unclosed:
            warnings.warn(
                f"unclosed {self!r}: call `client.close()`, or use it as `with ChalkClient(...) as client:`",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
