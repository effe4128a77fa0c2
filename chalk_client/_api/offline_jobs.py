"""What both offline query job handles hold, and the flows of their methods (no I/O).

A handle (``OfflineQuery`` in ``chalk_client._jobs``, ``AsyncOfflineQuery`` in
``chalk_client._async_jobs``) holds a job's facts, where its calls go, the client's call flows
and a driver. Each method builds its flow here and has the driver run it; a handle never reaches
into its client.
"""

from __future__ import annotations

import os
from pathlib import Path

from chalk_client._api.flow import CallFlows
from chalk_client._api.offline_calls import (
    OfflineQueryStatus,
    ProgressCallback,
    _JobState,
    _Submitted,
    _Where,
    cancel_call,
    parse_progress,
    progress_call,
)
from chalk_client._api.offline_flows import _download_flow, _fetch_file_flow, _wait_flow
from chalk_client._core.defaults import USE_CLIENT_DEFAULT
from chalk_client._core.errors import ChalkInputError
from chalk_client._core.steps import Flow

__all__ = ["_OfflineQueryBase", "_lazy_directory"]


class _OfflineQueryBase:
    """What both job handles hold: the job's facts, where its calls go, and its final state."""

    def __init__(
        self,
        calls: CallFlows,
        submitted: _Submitted,
        where: _Where,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self._calls = calls
        self._submitted = submitted
        self._where = where
        self._on_progress = on_progress
        self._state: _JobState | None = None

    @property
    def job_id(self) -> str:
        """The job id (the dataset revision id)."""
        return self._submitted.job_id

    @property
    def dataset_name(self) -> str | None:
        """The dataset's name, when it has one."""
        return self._submitted.dataset_name

    @property
    def dataset_id(self) -> str | None:
        """The dataset's id, when the server gave one."""
        return self._submitted.dataset_id

    @property
    def version(self) -> int | None:
        """The dataset's version (a name reused by a later query gets the next version)."""
        return self._submitted.version

    @property
    def finished(self) -> bool:
        """Whether this handle has seen the job finish successfully (after ``wait()``)."""
        return self._state is not None

    def __repr__(self) -> str:
        name = f" dataset_name={self.dataset_name!r}" if self.dataset_name else ""
        return f"<{type(self).__name__} job_id={self.job_id!r}{name} finished={self.finished}>"

    def _status_flow(self) -> Flow[OfflineQueryStatus]:
        return self._calls.call(progress_call(self.job_id, self._where), parse_progress, USE_CLIENT_DEFAULT)

    def _cancel_flow(self) -> Flow[OfflineQueryStatus]:
        return self._calls.call(cancel_call(self.job_id, self._where), parse_progress, USE_CLIENT_DEFAULT)

    def _wait_flow(
        self, timeout: float | None, on_progress: ProgressCallback | None, cancel_on_timeout: bool
    ) -> Flow[_JobState]:
        state = yield from _wait_flow(
            self._calls,
            self.job_id,
            self._where,
            timeout=timeout,
            on_progress=on_progress if on_progress is not None else self._on_progress,
            cancel_on_timeout=cancel_on_timeout,
            monotonic=self._calls.clock.monotonic,
        )
        self._state = state
        return state

    def _urls_flow(self) -> Flow[list[str]]:
        if self._state is None:
            yield from self._wait_flow(None, None, False)
        assert self._state is not None
        return list(self._state.urls)

    def _download_flow(self, directory: Path) -> Flow[list[Path]]:
        urls = yield from self._urls_flow()
        return (yield from _download_flow(self._calls, self.job_id, self._where, urls, directory))

    def _fetch_file_flow(self, urls: list[str], index: int, directory: Path) -> Flow[Path]:
        """Fetch file `index` of `urls` (from :meth:`_urls_flow`; refreshed in place) into `directory`."""
        return (
            yield from _fetch_file_flow(
                self._calls, self.job_id, self._where, urls, index=index, directory=directory
            )
        )

    def _columns(self) -> tuple[str, ...]:
        return self._state.columns if self._state is not None else ()


def _lazy_directory(lazy: bool, directory: str | os.PathLike[str] | None) -> str | os.PathLike[str] | None:
    """`directory` for ``to_polars(lazy=..., directory=...)``, checked: lazy needs one, eager none."""
    if lazy and directory is None:
        raise ChalkInputError(
            "to_polars(lazy=True) needs directory=: the LazyFrame reads the files when it is collected, "
            "so they are downloaded there and stay until you remove them"
        )
    if not lazy and directory is not None:
        raise ChalkInputError(
            "directory= goes with to_polars(lazy=True); an eager frame is read from a temporary "
            "directory that is removed before it returns"
        )
    return directory
