"""The offline query job handle of :class:`~chalk_client.AsyncChalkClient`: :class:`AsyncOfflineQuery`.

Written by hand; ``scripts/unasync`` generates its twin, ``OfflineQuery`` in ``chalk_client._jobs``,
from this file (``scripts/unasync --check`` fails when they drift). A handle holds the job's facts,
the client's call flows and the client's driver: each method builds its flow
(``chalk_client._api.offline_jobs``) and has the driver run it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self, overload

from chalk_client._api.flow import CallFlows
from chalk_client._api.offline_calls import OfflineQueryStatus, ProgressCallback, _Submitted, _Where
from chalk_client._api.offline_jobs import _lazy_directory, _OfflineQueryBase
from chalk_client._api.tables import (
    _batch_reader,
    _check_batch_options,
    _open_dataset,
    _read_table,
    _require,
    _scan_polars,
)
from chalk_client._io.async_driver import AsyncDriver
from chalk_client._io.files import _as_directory

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import pandas
    import polars
    import pyarrow
    import pyarrow.dataset

__all__ = ["AsyncOfflineQuery"]


class AsyncOfflineQuery(_OfflineQueryBase):
    """An offline query job, from :meth:`AsyncChalkClient.offline_query`.

    The result methods (:meth:`urls`, :meth:`download`, :meth:`to_arrow`, :meth:`to_pandas`,
    :meth:`to_polars`, :meth:`iter_batches`, :meth:`to_arrow_dataset`) wait for the job first when
    :meth:`wait` has not seen it finish. For results larger than memory, :meth:`iter_batches`
    streams them, and :meth:`to_arrow_dataset` and ``to_polars(lazy=True)`` read them lazily from
    a directory.
    ``on_progress`` may be a plain function or a coroutine function.

    Example::

        job = await client.offline_query(input={"user.id": [1, 2, 3]}, output=["user.credit_score"])
        frame = await (await job.wait(timeout=600, on_progress=print)).to_pandas()
    """

    def __init__(
        self,
        driver: AsyncDriver,
        calls: CallFlows,
        submitted: _Submitted,
        where: _Where,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        super().__init__(calls, submitted, where, on_progress)
        self._driver = driver

    async def status(self) -> OfflineQueryStatus:
        """The job's progress report: status, fraction done and rows, as the server sees it now."""
        return await self._driver.run(self._status_flow())

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
        await self._driver.run(self._wait_flow(timeout, on_progress, cancel_on_timeout))
        return self

    async def cancel(self) -> OfflineQueryStatus:
        """Cancel the job (a finished job is left as it is); returns its report afterwards."""
        return await self._driver.run(self._cancel_flow())

    async def urls(self) -> list[str]:
        """The signed URLs of the result's parquet files (they expire; no token is needed)."""
        return await self._driver.run(self._urls_flow())

    async def download(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Download the result's parquet files into `directory` (created if needed).

        Files are named ``<job_id>-00000.parquet`` and so on, written under a temporary name and
        renamed once complete; if any file fails, none is left behind.

        Raises:
            ChalkDownloadError: a file could not be downloaded after the retries.
        """
        return await self._driver.run(self._download_flow(_as_directory(directory)))

    async def to_arrow(self) -> pyarrow.Table:
        """The results as one ``pyarrow.Table`` (needs ``pip install 'chalk-client[arrow]'``)."""
        _require("pyarrow", "arrow", "to_arrow()")
        with tempfile.TemporaryDirectory(prefix="chalk-offline-") as directory:
            return _read_table(await self.download(directory), self._columns())

    async def to_pandas(self) -> pandas.DataFrame:
        """The results as a ``pandas.DataFrame`` (needs ``pip install 'chalk-client[pandas]'``)."""
        _require("pyarrow", "pandas", "to_pandas()")
        _require("pandas", "pandas", "to_pandas()")
        return (await self.to_arrow()).to_pandas()

    @overload
    async def to_polars(
        self, *, lazy: Literal[False] = False, directory: None = None
    ) -> polars.DataFrame: ...
    @overload
    async def to_polars(
        self, *, lazy: Literal[True], directory: str | os.PathLike[str]
    ) -> polars.LazyFrame: ...
    @overload
    async def to_polars(
        self, *, lazy: bool, directory: str | os.PathLike[str] | None = None
    ) -> polars.DataFrame | polars.LazyFrame: ...
    async def to_polars(
        self, *, lazy: bool = False, directory: str | os.PathLike[str] | None = None
    ) -> polars.DataFrame | polars.LazyFrame:
        """The results as a ``polars.DataFrame``, or with ``lazy=True`` a ``polars.LazyFrame``.

        Eager (the default), the files are read into memory from a temporary directory, removed
        before this returns (needs ``pip install 'chalk-client[polars]'``). Lazy, they are
        downloaded into `directory` (as by :meth:`download`) and the frame scans them
        (``polars.scan_parquet``) only when collected, so they must outlive this call: they stay
        in `directory` until you remove them. Lazy needs only polars.

        Args:
            lazy: Return a ``LazyFrame`` over files in `directory` instead of a ``DataFrame``.
            directory: Where the files go with ``lazy=True`` (created if needed); required then,
                and refused without it.

        Returns:
            A ``polars.DataFrame``, or with ``lazy=True`` a ``polars.LazyFrame`` over the files.
            A result with no files is an empty frame of the job's columns.

        Raises:
            ChalkInputError: ``lazy=True`` without `directory`, or `directory` without ``lazy=True``.
            ChalkMissingDependencyError: polars (or, eager, pyarrow) is not installed.
            ChalkDownloadError: a file could not be downloaded after the retries.

        Example::

            frame = await job.to_polars(lazy=True, directory="training/")
            means = frame.group_by("user.age").agg(pl.col("user.credit_score").mean()).collect()
        """
        target = _lazy_directory(lazy, directory)
        if target is not None:
            _require("polars", "polars", "to_polars(lazy=True)")
            return _scan_polars(await self.download(target), self._columns())
        _require("pyarrow", "polars", "to_polars()")
        pl = _require("polars", "polars", "to_polars()")
        frame: polars.DataFrame = pl.from_arrow(await self.to_arrow())
        return frame

    async def to_arrow_dataset(self, directory: str | os.PathLike[str]) -> pyarrow.dataset.Dataset:
        """The results as a ``pyarrow.dataset.Dataset`` over their files, downloaded into `directory`.

        The files are downloaded as by :meth:`download` (all or nothing) and stay in `directory`
        until you remove them; the dataset reads them only as it is scanned (``to_batches()``,
        ``scanner(columns=..., filter=...)``, ``to_table()``), so results larger than memory can
        be filtered and projected from disk. Needs ``pip install 'chalk-client[arrow]'``.

        Args:
            directory: Where the parquet files go (created if needed).

        Returns:
            A ``pyarrow.dataset.Dataset`` over the files, in order; with no files, an empty one
            of the job's columns.

        Raises:
            ChalkMissingDependencyError: pyarrow is not installed.
            ChalkDownloadError: a file could not be downloaded after the retries.

        Example::

            dataset = await job.to_arrow_dataset("training/")
            adults = dataset.to_table(filter=pyarrow.dataset.field("user.age") >= 18)
        """
        _require("pyarrow", "arrow", "to_arrow_dataset()")
        _require("pyarrow.dataset", "arrow", "to_arrow_dataset()")
        return _open_dataset(await self.download(directory), self._columns())

    def iter_batches(
        self,
        *,
        batch_size: int | None = None,
        columns: Sequence[str] | None = None,
        temp_dir: str | os.PathLike[str] | None = None,
    ) -> AsyncIterator[pyarrow.RecordBatch]:
        """The results as Arrow record batches, file by file and in order, for results larger than memory.

        When iteration starts, the job is waited for (as by :meth:`to_arrow`). Then each file is
        downloaded (as by :meth:`download`: whole or not at all, retried, its URL refreshed when
        it expired) into a private temporary directory, its batches are streamed from disk, and it
        is deleted before the next file is downloaded. So at most one file is on disk, and the
        iterator keeps no batch it has handed out: drop each batch before asking for the next and
        one batch is in memory. The temporary directory is removed when the iteration ends, fails,
        or is stopped early (``break``, ``aclose()``, or the iterator being garbage collected).

        On the async handle this is an async iterator; its downloads never block the event loop,
        while reading a batch from the local file (CPU work on local disk) runs inline, so a
        smaller `batch_size` keeps the loop more responsive. After a ``break`` there, the
        directory is removed once the event loop finalizes the iterator; wrap it in
        ``contextlib.aclosing`` to remove it at once.

        Args:
            batch_size: Rows per batch at most (default: pyarrow's, 65,536). A batch never spans
                two files.
            columns: Read only these columns (default: all of them).
            temp_dir: Where the temporary directory is created (default: the system's, as
                ``tempfile`` chooses: ``TMPDIR`` and so on). Point it at a disk with room for the
                largest file (``/tmp`` may be memory).

        Returns:
            An iterator of ``pyarrow.RecordBatch``; a result with no files yields none.

        Raises:
            ChalkInputError: a bad `batch_size` or `columns` (at once), or `columns` names a
                column the result does not have (when its first file is read).
            ChalkMissingDependencyError: pyarrow is not installed (at once).
            ChalkDownloadError: a file could not be downloaded after the retries.

        Example::

            async for batch in job.iter_batches(batch_size=10_000, columns=["user.id", "user.age"]):
                model.partial_fit(batch.to_pandas())
        """
        _require("pyarrow", "arrow", "iter_batches()")
        _require("pyarrow.parquet", "arrow", "iter_batches()")
        size, names = _check_batch_options(batch_size, columns)
        return self._iter_batches(size, names, temp_dir)

    async def _iter_batches(
        self, batch_size: int | None, columns: list[str] | None, temp_dir: str | os.PathLike[str] | None
    ) -> AsyncIterator[pyarrow.RecordBatch]:
        urls = await self.urls()
        parent = _as_directory(temp_dir) if temp_dir is not None else None
        # A with block, not a finalizer: it runs when the iterator ends, fails, or is closed.
        with tempfile.TemporaryDirectory(
            prefix="chalk-batches-", dir=parent, ignore_cleanup_errors=True
        ) as name:
            directory = Path(name)
            for index in range(len(urls)):
                path = await self._driver.run(self._fetch_file_flow(urls, index, directory))
                try:
                    with _batch_reader(path, batch_size, columns) as batches:
                        for batch in batches:
                            yield batch
                            # Let go of it before reading (or downloading) the next: a batch the
                            # caller has dropped is freed.
                            del batch
                finally:
                    path.unlink(missing_ok=True)  # before the next file is downloaded
