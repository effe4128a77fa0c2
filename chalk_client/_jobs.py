"""The offline query job handles, :class:`OfflineQuery` and :class:`AsyncOfflineQuery`, and what they need of a client.

A handle holds a job's facts and where its calls go, and drives the flows of
``chalk_client._api.offline_flows`` (wait, urls, download), one with ``await`` and one without: it
answers each step through the :class:`JobRunner` (or :class:`AsyncJobRunner`) its client handed
it, so a handle never reaches into the client. Every decision (when to poll, what a failure means,
when a download is retried) is the flows'; the files are written by ``chalk_client._io.files``,
and the tables read by ``chalk_client._api.tables``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from chalk_client._api.calls import Call
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
from chalk_client._api.offline_flows import (
    _Command,
    _download_flow,
    _Flow,
    _Parse,
    _Report,
    _Send,
    _send_only,
    _Sleep,
    _wait_flow,
)
from chalk_client._api.tables import _read_table, _require
from chalk_client._core.errors import ChalkSDKError
from chalk_client._core.steps import _Fetch
from chalk_client._io.files import _as_directory

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

__all__ = ["AsyncJobRunner", "AsyncOfflineQuery", "JobRunner", "OfflineQuery"]


class _OfflineQueryBase:
    """What both job handles hold: the job's facts, where its calls go, and its final state."""

    def __init__(self, submitted: _Submitted, where: _Where, on_progress: ProgressCallback | None) -> None:
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

    def _wait(
        self,
        timeout: float | None,
        on_progress: ProgressCallback | None,
        cancel_on_timeout: bool,
        monotonic: Callable[[], float],
    ) -> Generator[_Command, Any, _JobState]:
        state = yield from _wait_flow(
            self.job_id,
            self._where,
            timeout=timeout,
            on_progress=on_progress if on_progress is not None else self._on_progress,
            cancel_on_timeout=cancel_on_timeout,
            monotonic=monotonic,
        )
        self._state = state
        return state

    def _urls(self, monotonic: Callable[[], float]) -> Generator[_Command, Any, tuple[str, ...]]:
        if self._state is None:
            yield from self._wait(None, None, False, monotonic)
        assert self._state is not None
        return self._state.urls

    def _download(
        self,
        directory: Path,
        *,
        max_retries: int,
        rand: Callable[[], float],
        monotonic: Callable[[], float],
    ) -> Generator[_Command, Any, list[Path]]:
        urls = yield from self._urls(monotonic)
        return (
            yield from _download_flow(
                self.job_id, self._where, urls, directory, max_retries=max_retries, rand=rand
            )
        )

    def _columns(self) -> tuple[str, ...]:
        return self._state.columns if self._state is not None else ()


class JobRunner(Protocol):
    """What a job handle needs of its client: run a call, pause, fetch a file, and the retry knobs.

    The client hands its job handles one of these, so a handle never reaches into the client.
    """

    max_retries: int
    rand: Callable[[], float]
    monotonic: Callable[[], float]

    def call(self, call: Call, parse: _Parse) -> Any:  # noqa: ANN401 - the parser's result
        """Send `call` with the client's retries and token handling; its parsed answer."""
        ...

    def pause(self, seconds: float) -> None:
        """Wait, as the client waits between attempts."""
        ...

    def fetch(self, fetch: _Fetch) -> int | Exception | None:
        """Download one result file (see :func:`chalk_client._io.files.fetch_file`)."""
        ...


class AsyncJobRunner(Protocol):
    """The awaiting :class:`JobRunner`, for :class:`AsyncOfflineQuery`."""

    max_retries: int
    rand: Callable[[], float]
    monotonic: Callable[[], float]

    async def call(self, call: Call, parse: _Parse) -> Any:  # noqa: ANN401 - the parser's result
        """Send `call`; its parsed answer."""
        ...

    async def pause(self, seconds: float) -> None:
        """Wait, as the client waits between attempts."""
        ...

    async def fetch(self, fetch: _Fetch) -> int | Exception | None:
        """Download one result file (see :func:`chalk_client._io.files.afetch_file`)."""
        ...


class OfflineQuery(_OfflineQueryBase):
    """An offline query job, from :meth:`ChalkClient.offline_query`.

    The result methods (:meth:`urls`, :meth:`download`, :meth:`to_arrow`, :meth:`to_pandas`,
    :meth:`to_polars`) wait for the job first when :meth:`wait` has not seen it finish.

    Example::

        job = client.offline_query(input={"user.id": [1, 2, 3]}, output=["user.credit_score"])
        frame = job.wait(timeout=600, on_progress=print).to_pandas()
    """

    def __init__(
        self,
        runner: JobRunner,
        submitted: _Submitted,
        where: _Where,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        super().__init__(submitted, where, on_progress)
        self._runner = runner

    def status(self) -> OfflineQueryStatus:
        """The job's progress report: status, fraction done and rows, as the server sees it now."""
        status: OfflineQueryStatus = self._run(
            _send_only(progress_call(self.job_id, self._where), parse_progress)
        )
        return status

    def wait(
        self,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        *,
        cancel_on_timeout: bool = False,
    ) -> Self:
        """Wait until the job has finished successfully; returns this handle, for chaining.

        Args:
            timeout: Seconds to wait at most (None: no limit).
            on_progress: Called with an :class:`OfflineQueryStatus` whenever it changes (default:
                the one given to ``offline_query``).
            cancel_on_timeout: Cancel the job when the timeout passes (by default it keeps running).

        Raises:
            ChalkOfflineQueryError: the job failed or was cancelled (``job_id``, ``errors``).
            ChalkOfflineQueryTimeoutError: it did not finish within `timeout`.
            ChalkUnavailableError: polling failed too many times in a row.
        """
        self._run(self._wait(timeout, on_progress, cancel_on_timeout, self._runner.monotonic))
        return self

    def cancel(self) -> OfflineQueryStatus:
        """Cancel the job (a finished job is left as it is); returns its report afterwards."""
        status: OfflineQueryStatus = self._run(
            _send_only(cancel_call(self.job_id, self._where), parse_progress)
        )
        return status

    def urls(self) -> list[str]:
        """The signed URLs of the result's parquet files (they expire; no token is needed)."""
        return list(self._run(self._urls(self._runner.monotonic)))

    def download(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Download the result's parquet files into `directory` (created if needed).

        Files are named ``<job_id>-00000.parquet`` and so on, written under a temporary name and
        renamed once complete; if any file fails, none is left behind.

        Raises:
            ChalkDownloadError: a file could not be downloaded after the retries.
        """
        runner = self._runner
        paths: list[Path] = self._run(
            self._download(
                _as_directory(directory),
                max_retries=runner.max_retries,
                rand=runner.rand,
                monotonic=runner.monotonic,
            )
        )
        return paths

    def to_arrow(self) -> pyarrow.Table:
        """The results as one ``pyarrow.Table`` (needs ``pip install 'chalk-client[arrow]'``)."""
        _require("pyarrow", "arrow", "to_arrow()")
        import tempfile

        with tempfile.TemporaryDirectory(prefix="chalk-offline-") as directory:
            return _read_table(self.download(directory), self._columns())

    def to_pandas(self) -> pandas.DataFrame:
        """The results as a ``pandas.DataFrame`` (needs ``pip install 'chalk-client[pandas]'``)."""
        _require("pyarrow", "pandas", "to_pandas()")
        _require("pandas", "pandas", "to_pandas()")
        return self.to_arrow().to_pandas()

    def to_polars(self) -> polars.DataFrame:
        """The results as a ``polars.DataFrame`` (needs ``pip install 'chalk-client[polars]'``)."""
        _require("pyarrow", "polars", "to_polars()")
        pl = _require("polars", "polars", "to_polars()")
        frame: polars.DataFrame = pl.from_arrow(self.to_arrow())
        return frame

    def _run(self, flow: _Flow) -> Any:  # noqa: ANN401 - the flow's result
        runner = self._runner
        reply: Any = None
        while True:
            try:
                command = flow.send(reply)
            except StopIteration as done:
                return done.value
            reply = None
            if isinstance(command, _Send):
                try:
                    reply = runner.call(command.call, command.parse)
                except ChalkSDKError as err:
                    reply = err
            elif isinstance(command, _Sleep):
                runner.pause(command.seconds)
            elif isinstance(command, _Report):
                command.callback(command.status)
            else:
                reply = runner.fetch(command)


class AsyncOfflineQuery(_OfflineQueryBase):
    """An offline query job, from :meth:`AsyncChalkClient.offline_query`; the twin of :class:`OfflineQuery`.

    ``on_progress`` may be a plain function or a coroutine function.

    Example::

        job = await client.offline_query(input={"user.id": [1, 2, 3]}, output=["user.credit_score"])
        frame = (await job.wait(timeout=600)).to_pandas()
    """

    def __init__(
        self,
        runner: AsyncJobRunner,
        submitted: _Submitted,
        where: _Where,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        super().__init__(submitted, where, on_progress)
        self._runner = runner

    async def status(self) -> OfflineQueryStatus:
        """The job's progress report (see :meth:`OfflineQuery.status`)."""
        result: OfflineQueryStatus = await self._run(
            _send_only(progress_call(self.job_id, self._where), parse_progress)
        )
        return result

    async def wait(
        self,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        *,
        cancel_on_timeout: bool = False,
    ) -> Self:
        """Wait until the job has finished successfully; returns this handle, for chaining.

        Args:
            timeout: Seconds to wait at most (None: no limit).
            on_progress: Called with an :class:`OfflineQueryStatus` whenever it changes (default:
                the one given to ``offline_query``); a plain function or a coroutine function.
            cancel_on_timeout: Cancel the job when the timeout passes (by default it keeps running).

        Raises:
            ChalkOfflineQueryError: the job failed or was cancelled (``job_id``, ``errors``).
            ChalkOfflineQueryTimeoutError: it did not finish within `timeout`.
            ChalkUnavailableError: polling failed too many times in a row.
        """
        await self._run(self._wait(timeout, on_progress, cancel_on_timeout, self._runner.monotonic))
        return self

    async def cancel(self) -> OfflineQueryStatus:
        """Cancel the job (see :meth:`OfflineQuery.cancel`)."""
        result: OfflineQueryStatus = await self._run(
            _send_only(cancel_call(self.job_id, self._where), parse_progress)
        )
        return result

    async def urls(self) -> list[str]:
        """The signed URLs of the result's parquet files (see :meth:`OfflineQuery.urls`)."""
        return list(await self._run(self._urls(self._runner.monotonic)))

    async def download(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Download the result's parquet files into `directory` (created if needed).

        Files are named ``<job_id>-00000.parquet`` and so on, written under a temporary name and
        renamed once complete; if any file fails, none is left behind.

        Raises:
            ChalkDownloadError: a file could not be downloaded after the retries.
        """
        runner = self._runner
        paths: list[Path] = await self._run(
            self._download(
                _as_directory(directory),
                max_retries=runner.max_retries,
                rand=runner.rand,
                monotonic=runner.monotonic,
            )
        )
        return paths

    async def to_arrow(self) -> pyarrow.Table:
        """The results as one ``pyarrow.Table`` (see :meth:`OfflineQuery.to_arrow`)."""
        _require("pyarrow", "arrow", "to_arrow()")
        import tempfile

        with tempfile.TemporaryDirectory(prefix="chalk-offline-") as directory:
            return _read_table(await self.download(directory), self._columns())

    async def to_pandas(self) -> pandas.DataFrame:
        """The results as a ``pandas.DataFrame`` (see :meth:`OfflineQuery.to_pandas`)."""
        _require("pyarrow", "pandas", "to_pandas()")
        _require("pandas", "pandas", "to_pandas()")
        return (await self.to_arrow()).to_pandas()

    async def to_polars(self) -> polars.DataFrame:
        """The results as a ``polars.DataFrame`` (see :meth:`OfflineQuery.to_polars`)."""
        _require("pyarrow", "polars", "to_polars()")
        pl = _require("polars", "polars", "to_polars()")
        frame: polars.DataFrame = pl.from_arrow(await self.to_arrow())
        return frame

    async def _run(self, flow: _Flow) -> Any:  # noqa: ANN401 - the flow's result
        runner = self._runner
        reply: Any = None
        while True:
            try:
                command = flow.send(reply)
            except StopIteration as done:
                return done.value
            reply = None
            if isinstance(command, _Send):
                try:
                    reply = await runner.call(command.call, command.parse)
                except ChalkSDKError as err:
                    reply = err
            elif isinstance(command, _Sleep):
                await runner.pause(command.seconds)
            elif isinstance(command, _Report):
                returned = command.callback(command.status)
                if hasattr(returned, "__await__"):  # a coroutine function's result
                    await returned
            else:
                reply = await runner.fetch(command)
