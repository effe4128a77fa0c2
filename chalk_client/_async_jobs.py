"""The offline query job handle of :class:`~chalk_client.AsyncChalkClient`: :class:`AsyncOfflineQuery`.

Written by hand; ``scripts/unasync`` generates its twin, ``OfflineQuery`` in ``chalk_client._jobs``,
from this file (``scripts/unasync --check`` fails when they drift). A handle holds the job's facts,
the client's call flows and the client's driver: each method builds its flow
(``chalk_client._api.offline_jobs``) and has the driver run it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Self

from chalk_client._api.flow import CallFlows
from chalk_client._api.offline_calls import OfflineQueryStatus, ProgressCallback, _Submitted, _Where
from chalk_client._api.offline_jobs import _OfflineQueryBase
from chalk_client._api.tables import _read_table, _require
from chalk_client._io.async_driver import AsyncDriver
from chalk_client._io.files import _as_directory

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

__all__ = ["AsyncOfflineQuery"]


class AsyncOfflineQuery(_OfflineQueryBase):
    """An offline query job, from :meth:`AsyncChalkClient.offline_query`.

    The result methods (:meth:`urls`, :meth:`download`, :meth:`to_arrow`, :meth:`to_pandas`,
    :meth:`to_polars`) wait for the job first when :meth:`wait` has not seen it finish.
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
        import tempfile

        with tempfile.TemporaryDirectory(prefix="chalk-offline-") as directory:
            return _read_table(await self.download(directory), self._columns())

    async def to_pandas(self) -> pandas.DataFrame:
        """The results as a ``pandas.DataFrame`` (needs ``pip install 'chalk-client[pandas]'``)."""
        _require("pyarrow", "pandas", "to_pandas()")
        _require("pandas", "pandas", "to_pandas()")
        return (await self.to_arrow()).to_pandas()

    async def to_polars(self) -> polars.DataFrame:
        """The results as a ``polars.DataFrame`` (needs ``pip install 'chalk-client[polars]'``)."""
        _require("pyarrow", "polars", "to_polars()")
        pl = _require("polars", "polars", "to_polars()")
        frame: polars.DataFrame = pl.from_arrow(await self.to_arrow())
        return frame
