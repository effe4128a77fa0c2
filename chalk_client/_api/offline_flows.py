"""What waiting for an offline query job and downloading its results do, as generator flows.

An offline query runs on the server in the background and produces a dataset: parquet files behind
signed URLs. When to poll again, when a download is retried and what a file is called is decided
once here. Each flow makes its API calls through the one call flow
(:meth:`chalk_client._api.flow.CallFlows.call`, with the client's retries and token handling) and
otherwise yields the steps of :mod:`chalk_client._core.steps` (``Sleep``, ``Report``, ``Fetch``);
the drivers carry them out, one with ``await`` and one without.

The policy, in short:

- Waiting polls ``POST /v4/offline_query/status``: first after 0.5 s, then the pause doubles up to
  5 s. A poll that fails with a 5xx or a connection error (after the client's own retries) is
  retried with the next pause; :data:`MAX_POLL_FAILURES` failures in a row end the wait.
- A job that ends with errors raises :class:`ChalkOfflineQueryError` (``status`` ``"failed"`` or
  ``"cancelled"``) carrying the job id and the server's errors. When the timeout passes first,
  :class:`ChalkOfflineQueryTimeoutError` is raised and the job keeps running, unless the wait was
  told ``cancel_on_timeout=True``.
- ``on_progress`` gets an :class:`OfflineQueryStatus` (from ``GET /v4/offline_query/{id}/status``)
  whenever it changes, and once more when the job has finished.
- A download is all or nothing: each file arrives whole or not at all (``chalk_client._io.files``),
  and when one fails, the files already written are removed. Each file is tried up to
  ``1 + max_retries`` times; an expired URL (401 or 403) is refreshed once from the status call.
  The signed URLs' query strings (which carry the signature) never appear in messages or logs.
- Iterating a result's batches fetches one file at a time (:func:`_fetch_file_flow`, the same
  policy per file); the handle deletes each file before it fetches the next.
"""

from __future__ import annotations

import contextlib
import logging
import re
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, TypeVar

import httpx

from chalk_client._api.calls import Call
from chalk_client._api.flow import CallFlows, Parser
from chalk_client._api.offline_calls import (
    OfflineQueryStatus,
    ProgressCallback,
    _JobState,
    _Where,
    cancel_call,
    check_wait_timeout,
    parse_progress,
    parse_status,
    progress_call,
    status_call,
)
from chalk_client._core.defaults import USE_CLIENT_DEFAULT
from chalk_client._core.errors import (
    ChalkDownloadError,
    ChalkOfflineQueryError,
    ChalkOfflineQueryTimeoutError,
    ChalkSDKError,
    ChalkUnavailableError,
)
from chalk_client._core.retry import RETRY_STATUSES, backoff
from chalk_client._core.server_errors import ChalkErrorCode, ChalkServerErrorInfo
from chalk_client._core.steps import Fetch, Flow, Report, Sleep, _TruncatedError, ask

__all__ = ["MAX_POLL_FAILURES", "POLL_INITIAL_SECONDS", "POLL_MAX_SECONDS"]

logger = logging.getLogger("chalk_client.offline")

POLL_INITIAL_SECONDS: Final = 0.5
POLL_MAX_SECONDS: Final = 5.0
# Polls that failed in a row (each after the client's own retries) before a wait gives up.
MAX_POLL_FAILURES: Final = 8
_SAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]+")
_R = TypeVar("_R")


def _attempt(calls: CallFlows, call: Call, parse: Parser[_R]) -> Flow[_R | ChalkSDKError]:
    """One API call through the call flow: its result, or the SDK error it ended with."""
    try:
        return (yield from calls.call(call, parse, USE_CLIENT_DEFAULT))
    except ChalkSDKError as err:
        return err


def _wait_flow(
    calls: CallFlows,
    job_id: str,
    where: _Where,
    *,
    timeout: float | None,
    on_progress: ProgressCallback | None,
    cancel_on_timeout: bool,
    monotonic: Callable[[], float],
) -> Flow[_JobState]:
    """Poll until the job finishes; returns its final state or raises (see the module docstring)."""
    check_wait_timeout(timeout)
    deadline = None if timeout is None else monotonic() + timeout
    pause = POLL_INITIAL_SECONDS
    failures = 0
    last_reported: OfflineQueryStatus | None = None
    while True:
        state = yield from _attempt(calls, status_call(job_id, where), parse_status)
        if isinstance(state, Exception):
            failures += 1
            if not isinstance(state, ChalkUnavailableError) or failures >= MAX_POLL_FAILURES:
                raise state
            logger.debug("offline query %s: poll %d failed, polling again: %s", job_id, failures, state)
        else:
            failures = 0
            if state.finished:
                if on_progress is not None:
                    final = yield from _attempt(calls, progress_call(job_id, where), parse_progress)
                    if isinstance(final, Exception) or not final.finished:
                        final = OfflineQueryStatus("failed" if state.errors else "successful", 1.0)
                    yield from ask(Report(on_progress, final))
                if state.errors:
                    raise _job_error(job_id, state.errors)
                return state
            if on_progress is not None:
                status = yield from _attempt(calls, progress_call(job_id, where), parse_progress)
                if not isinstance(status, Exception) and status != last_reported:
                    last_reported = status
                    yield from ask(Report(on_progress, status))
        if deadline is not None:
            remaining = deadline - monotonic()
            if remaining <= 0:
                cancelled = False
                if cancel_on_timeout:
                    outcome = yield from _attempt(calls, cancel_call(job_id, where), parse_progress)
                    cancelled = not isinstance(outcome, Exception)
                raise ChalkOfflineQueryTimeoutError(
                    f"offline query job {job_id} did not finish within {timeout:g} s; "
                    + ("it was cancelled" if cancelled else "it is still running on the server"),
                    job_id=job_id,
                    timeout=float(timeout or 0),
                    cancelled=cancelled,
                )
            yield from ask(Sleep(min(pause, remaining)))
        else:
            yield from ask(Sleep(pause))
        pause = min(pause * 2, POLL_MAX_SECONDS)


def _job_error(job_id: str, errors: Sequence[ChalkServerErrorInfo]) -> ChalkOfflineQueryError:
    cancelled = any(e.code == ChalkErrorCode.CANCELLED for e in errors)
    status = "cancelled" if cancelled else "failed"
    return ChalkOfflineQueryError(
        f"offline query job {job_id} {status}", job_id=job_id, status=status, errors=errors
    )


def _download_flow(
    calls: CallFlows,
    job_id: str,
    where: _Where,
    urls: Sequence[str],
    directory: Path,
) -> Flow[list[Path]]:
    """Fetch every file into `directory`; all or nothing (see the module docstring)."""
    urls = list(urls)
    written: list[Path] = []
    try:
        for index in range(len(urls)):
            written.append(
                (yield from _fetch_file_flow(calls, job_id, where, urls, index=index, directory=directory))
            )
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return written


def _fetch_file_flow(
    calls: CallFlows,
    job_id: str,
    where: _Where,
    urls: list[str],
    *,
    index: int,
    directory: Path,
) -> Flow[Path]:
    """Fetch file `index` of the job's `urls` into `directory`; returns its path.

    The file arrives whole or not at all. It is tried up to ``1 + max_retries`` times; an expired
    URL (401 or 403) is refreshed once from the status call, and then `urls` is replaced in place
    by the fresh ones, so the files after it use them too.
    """
    target = directory / _file_name(job_id, index)
    attempt = 0
    refreshed = False
    while True:
        attempt += 1
        outcome = yield from ask(Fetch(urls[index], target))
        if outcome is None:
            return target
        shown = _without_query(urls[index])
        if outcome in (401, 403) and not refreshed:
            refreshed = True  # most likely the signed URL expired: ask for fresh ones
            logger.debug("download of %s answered %s: refreshing the URLs", shown, outcome)
            state = yield from _attempt(calls, status_call(job_id, where), parse_status)
            if not isinstance(state, Exception) and len(state.urls) == len(urls):
                urls[:] = state.urls
                continue
        retryable = isinstance(outcome, httpx.TransportError | _TruncatedError) or outcome in RETRY_STATUSES
        if retryable and attempt <= calls.max_retries:
            delay = backoff(attempt, calls.rand())
            logger.debug("download of %s failed (%s); retry in %.2f s", shown, _describe(outcome), delay)
            yield from ask(Sleep(delay))
            continue
        raise ChalkDownloadError(
            f"could not download file {index + 1} of {len(urls)} of offline query job {job_id} "
            f"from {shown}: {_describe(outcome)}; no partial file was left behind",
            url=shown,
            status_code=outcome if isinstance(outcome, int) else None,
            attempts=attempt,
        )


def _file_name(job_id: str, index: int) -> str:
    return f"{_SAFE_NAME.sub('_', job_id)}-{index:05d}.parquet"


def _without_query(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _describe(outcome: object) -> str:
    if isinstance(outcome, int):
        return f"it answered {outcome}"
    if isinstance(outcome, _TruncatedError):
        return str(outcome)
    return f"{type(outcome).__name__}: {outcome}" if str(outcome) else type(outcome).__name__
