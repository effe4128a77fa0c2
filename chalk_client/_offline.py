"""The offline query methods of :class:`~chalk_client.ChalkClient`: ``offline_query``, ``get_offline_query`` and ``get_dataset``.

Generated from ``chalk_client/_async_offline.py`` by ``scripts/unasync``: do not edit; edit the async
twin and run the script (``scripts/check`` fails when the two drift).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from chalk_client._core.defaults import USE_CLIENT_DEFAULT

if TYPE_CHECKING:
    from chalk_client._api.flow import CallFlows
    from chalk_client._api.offline_calls import ProgressCallback
    from chalk_client._core.config import ChalkClientConfig
    from chalk_client._io.sync_driver import SyncDriver
    from chalk_client._jobs import OfflineQuery

__all__: list[str] = []


class _OfflineMethods:
    """Offline queries: start one, follow one, or find a dataset, on the client's driver and flows."""

    _driver: SyncDriver
    _calls: CallFlows
    _config: ChalkClientConfig

    def offline_query(
        self,
        input: object = None,
        output: Sequence[str] = (),
        *,
        required_output: Sequence[str] = (),
        dataset_name: str | None = None,
        max_samples: int | None = None,
        recompute_features: bool = False,
        lower_bound: datetime | str | None = None,
        upper_bound: datetime | str | None = None,
        tags: Sequence[str] | None = None,
        correlation_id: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        wait: bool = False,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        cancel_on_timeout: bool = False,
    ) -> OfflineQuery:
        """Start an offline query: a dataset computed in the background, as parquet files.

        The job runs on the server; the handle returned polls it, reports progress, downloads its
        parquet files and reads them as tables.

        Args:
            input: The rows to compute features for: a mapping of feature name to column (equal
                lengths; datetimes must be aware), or a pandas, polars or pyarrow table. None: let
                the server sample the entities.
            output: The features to compute, e.g. ``["user.credit_score"]``.
            required_output: Features every row must have; rows missing one are dropped.
            dataset_name: Name the resulting dataset (a name used again gets a new version).
            max_samples: Keep at most this many rows.
            recompute_features: Compute every feature anew instead of reading stored values.
            lower_bound: Only values observed at or after this time (aware datetime or ISO 8601).
            upper_bound: Only values observed before this time.
            tags: Resolver tags.
            correlation_id: An id to find this query in Chalk's logs.
            environment: This query's environment, instead of the client's.
            branch: This query's branch, instead of the client's.
            wait: Wait for the job before returning (see ``OfflineQuery.wait``).
            timeout: With `wait`, seconds to wait at most (None: no limit).
            on_progress: Called with an ``OfflineQueryStatus`` as the job progresses (while
                waiting, here or in ``wait()``).
            cancel_on_timeout: With `wait` and `timeout`, cancel the job when the time runs out.

        Raises:
            ChalkInputError: an argument is invalid (nothing was sent).
            ChalkResultError: the server refused the query in its answer.
            ChalkOfflineQueryError: with `wait`, the job failed or was cancelled.
            ChalkOfflineQueryTimeoutError: with `wait`, it did not finish within `timeout`.

        Example::

            job = client.offline_query(input={"user.id": [1, 2]}, output=["user.credit_score"])
            frame = (job.wait(timeout=600, on_progress=print)).to_pandas()
        """
        from chalk_client._api import offline_calls as _offline  # offline queries load only when used
        from chalk_client._jobs import OfflineQuery

        _offline.check_wait_timeout(timeout)
        where = _offline.job_where(environment, branch, self._config.branch)
        call = _offline.submit_call(
            input,
            output,
            required_output=required_output,
            dataset_name=dataset_name,
            max_samples=max_samples,
            recompute_features=recompute_features,
            lower_bound=lower_bound,
            upper_bound=upper_bound,
            tags=tags,
            correlation_id=correlation_id,
            where=where,
        )
        submitted = self._driver.run(self._calls.call(call, _offline.parse_dataset, USE_CLIENT_DEFAULT))
        job = OfflineQuery(self._driver, self._calls, submitted, where, on_progress)
        if wait:
            job.wait(timeout, cancel_on_timeout=cancel_on_timeout)
        return job

    def get_offline_query(
        self,
        job_id: str,
        *,
        environment: str | None = None,
        branch: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> OfflineQuery:
        """A handle on an offline query job started earlier (by this process or another).

        Example::

            job = client.get_offline_query("job-id")
            print(job.status())
        """
        from chalk_client._api import offline_calls as _offline
        from chalk_client._jobs import OfflineQuery

        where = _offline.job_where(environment, branch, self._config.branch)
        call = _offline.revision_call(job_id, where)
        submitted = self._driver.run(self._calls.call(call, _offline.parse_dataset, USE_CLIENT_DEFAULT))
        return OfflineQuery(self._driver, self._calls, submitted, where, on_progress)

    def get_dataset(
        self,
        *,
        name: str | None = None,
        dataset_id: str | None = None,
        revision_id: str | None = None,
        job_id: str | None = None,
        environment: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> OfflineQuery:
        """A handle on a dataset's job, found by exactly one of its name, its id, a revision id or a
        job id (a revision's id is its job's).

        By name or dataset id the handle follows the newest revision; by revision or job id, that
        one. It is the handle ``offline_query`` returns: ``wait()``, ``to_arrow()``, ``download()``...

        Args:
            name: The dataset's name (``offline_query(dataset_name=...)``).
            dataset_id: The dataset's id.
            revision_id: One revision's id.
            job_id: The same as `revision_id`.
            environment: The lookup's environment, instead of the client's.
            on_progress: Called with an ``OfflineQueryStatus`` as the job progresses.

        Raises:
            ChalkInputError: not exactly one of name, dataset_id, revision_id and job_id.
            ChalkNotFoundError: no such dataset or revision.

        Example::

            job = client.get_dataset(name="training")
            table = job.to_arrow()
        """
        from chalk_client._api import offline_calls as _offline
        from chalk_client._jobs import OfflineQuery

        call, revision = _offline.dataset_call(
            name=name, dataset_id=dataset_id, revision_id=revision_id, job_id=job_id, environment=environment
        )
        parse = functools.partial(_offline.parse_dataset, revision_id=revision)
        submitted = self._driver.run(self._calls.call(call, parse, USE_CLIENT_DEFAULT))
        where = _offline.job_where(environment, None, self._config.branch)
        return OfflineQuery(self._driver, self._calls, submitted, where, on_progress)
