"""Offline queries: submit a job, wait for it with progress, download its parquet files, read tables.

An offline query runs on the server in the background and produces a dataset: parquet files behind
signed URLs. What the SDK decides about one (the request of each call, what an answer means, when
to poll again, when a download is retried, what a file is called) is written once here, as
builders, parsers and generator *flows* that yield commands; :class:`OfflineQuery` and
:class:`AsyncOfflineQuery` only drive those flows, one with ``await`` and one without.

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
- Downloads stream each file to a temporary name in the target directory, in chunks of
  :data:`DOWNLOAD_CHUNK_BYTES`, check the length against ``Content-Length``, then rename it. A
  failed file leaves nothing behind, and neither does a failed :meth:`OfflineQuery.download`: the
  files it had already written are removed. Each file is tried up to ``1 + max_retries`` times; an
  expired URL (403) is refreshed once from the status call. Signed URLs get no ``Authorization``
  header, and their query strings (which carry the signature) never appear in messages or logs.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import os
import re
import urllib.parse
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol, Self

import attrs
import httpx

from chalk_client._api.calls import (
    Call,
    _aware,
    _bool,
    _chalk_error,
    _column,
    _string,
    _strings,
    _time,
    encode_json,
)
from chalk_client._core.answers import Answer, invalid_response, json_object
from chalk_client._core.errors import (
    ChalkDownloadError,
    ChalkInputError,
    ChalkMissingDependencyError,
    ChalkOfflineQueryError,
    ChalkOfflineQueryTimeoutError,
    ChalkResultError,
    ChalkSDKError,
    ChalkUnavailableError,
)
from chalk_client._core.retry import RETRY_STATUSES, Idempotency, backoff
from chalk_client._core.routing import Plane

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow
    from chalk_openapi.models.chalk_error import ChalkError

__all__ = [
    "AsyncJobRunner",
    "AsyncOfflineQuery",
    "JobRunner",
    "OfflineQuery",
    "OfflineQueryStatus",
    "ProgressCallback",
    "afetch_file",
    "fetch_file",
]

logger = logging.getLogger("chalk_client.offline")

SUBMIT_PATH: Final = "/v4/offline_query"
STATUS_PATH: Final = "/v4/offline_query/status"
PROGRESS_PATH: Final = "/v4/offline_query/{job_id}/status"
CANCEL_PATH: Final = "/v4/offline_query/{job_id}/cancel"
REVISION_PATH: Final = "/v2/offline_query/{revision_id}"

POLL_INITIAL_SECONDS: Final = 0.5
POLL_MAX_SECONDS: Final = 5.0
# Polls that failed in a row (each after the client's own retries) before a wait gives up.
MAX_POLL_FAILURES: Final = 8
DOWNLOAD_CHUNK_BYTES: Final = 1 << 20

# The progress report's statuses, and the dataset revision's status codes, as one vocabulary.
_REPORT_STATUSES: Final = {
    "INIT": "submitted",
    "COMPUTE_STARTED": "running",
    "COMPUTE_ENDED": "running",
    "COMPLETED": "successful",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
}
_REVISION_STATUSES: Final = {
    1: "pending",
    2: "submitted",
    3: "running",
    4: "failed",
    5: "expired",
    6: "cancelled",
    7: "successful",
}
FINISHED_STATUSES: Final = frozenset({"successful", "failed", "cancelled", "expired"})
# The bytes on the wire are the file: no compression to undo, and Content-Length counts them.
_RAW_FILE: Final = {"Accept-Encoding": "identity"}
_SAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]+")


@attrs.frozen
class OfflineQueryStatus:
    """Where an offline query job stands: what ``status()`` returns and ``on_progress`` receives.

    Attributes:
        status: ``"submitted"``, ``"running"``, ``"successful"``, ``"failed"``, ``"cancelled"``
            (or ``"expired"``); a status this SDK does not know arrives lower-cased as sent.
        fraction: The fraction done, from 0 to 1, when the server knows it.
        rows: Rows computed so far, when the server says.
        error: The server's error for a failed job.
    """

    status: str
    fraction: float | None = None
    rows: int | None = None
    error: ChalkError | None = attrs.field(default=None, eq=False)

    @property
    def finished(self) -> bool:
        """Whether the job has ended (successful, failed, cancelled or expired)."""
        return self.status in FINISHED_STATUSES

    def describe(self) -> str:
        """One line for people: ``"running 42% (420 rows)"``."""
        parts = [self.status]
        if self.fraction is not None:
            # A job that has just started is not "0%" once it has rows: show a tenth of a percent.
            small = 0 < self.fraction < 0.01
            parts.append(f"{self.fraction:.1%}" if small else f"{self.fraction:.0%}")
        if self.rows is not None:
            parts.append(f"({self.rows} row)" if self.rows == 1 else f"({self.rows} rows)")
        return " ".join(parts)


# What ``on_progress`` may be: a plain function, or (on the async client) a coroutine function.
ProgressCallback = Callable[[OfflineQueryStatus], object]


class _Submitted(NamedTuple):
    """The facts of a submitted (or re-attached) job."""

    job_id: str
    dataset_name: str | None
    dataset_id: str | None
    version: int | None
    status: str


class _JobState(NamedTuple):
    """One answer of the status call."""

    finished: bool
    urls: tuple[str, ...]
    errors: tuple[Any, ...]  # ChalkError
    columns: tuple[str, ...]


class _Where(NamedTuple):
    """Where a job's follow-up calls go: the environment and branch it was submitted on."""

    environment: str | None
    branch: str | None


# ---------------------------------------------------------------------------------------------------
# Requests


def submit_call(
    input: object,
    output: Sequence[str],
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
) -> Call:
    """The submit request, or :class:`ChalkInputError` naming the bad argument."""
    outputs = _strings(output, "output")
    if not outputs:
        raise ChalkInputError("output is empty: name at least one feature, e.g. ['user.credit_score']")
    body: dict[str, Any] = {
        "output": outputs,
        "required_output": _strings(required_output, "required_output"),
        "destination_format": "PARQUET",
    }
    if input is not None:
        body["input"] = offline_input(input)
    if dataset_name is not None:
        body["dataset_name"] = _string(dataset_name, "dataset_name")
    if branch is not None:
        body["branch"] = _string(branch, "branch")
    if max_samples is not None:
        if isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1:
            raise ChalkInputError(f"max_samples must be an int >= 1, got {max_samples!r}")
        body["max_samples"] = max_samples
    if recompute_features:
        body["recompute_features"] = _bool(recompute_features, "recompute_features")
    bounds = {
        name: _time(value, name)
        for name, value in (("lower_bound", lower_bound), ("upper_bound", upper_bound))
        if value is not None
    }
    if len(bounds) == 2 and bounds["lower_bound"] >= bounds["upper_bound"]:
        raise ChalkInputError("lower_bound must be before upper_bound")
    for name, when in bounds.items():
        body[f"observed_at_{name}"] = when.astimezone(UTC).isoformat()
    if tags is not None:
        body["tags"] = _strings(tags, "tags")
    if correlation_id is not None:
        body["correlation_id"] = _string(correlation_id, "correlation_id")
    return Call(
        method="POST",
        path=SUBMIT_PATH,
        plane=Plane.API,
        # A repeat would start a second job: only a connection that never opened is retried.
        idempotency=Idempotency.UNSAFE,
        what="the offline query submission",
        body=encode_json(body, "input"),
        environment=environment,
        branch=branch,
    )


def status_call(job_id: str, where: _Where) -> Call:
    """The status poll (a read, so safe to retry although it is a POST)."""
    return Call(
        method="POST",
        path=STATUS_PATH,
        plane=Plane.API,
        idempotency=Idempotency.SAFE,
        what="the offline query status",
        body=encode_json({"job_id": job_id}, "job_id"),
        environment=where.environment,
        branch=where.branch,
    )


def progress_call(job_id: str, where: _Where) -> Call:
    """The progress report request."""
    return _job_call("GET", PROGRESS_PATH.format(job_id=_quote(job_id)), "the offline query progress", where)


def cancel_call(job_id: str, where: _Where) -> Call:
    """The cancel request (repeating it changes nothing, so it is retried like a read)."""
    return _job_call("POST", CANCEL_PATH.format(job_id=_quote(job_id)), "the offline query cancel", where)


def revision_call(job_id: str, where: _Where) -> Call:
    """The dataset revision request (re-attaching to a job by id)."""
    path = REVISION_PATH.format(revision_id=_quote(job_id))
    return _job_call("GET", path, "the offline query lookup", where)


def _job_call(method: str, path: str, what: str, where: _Where) -> Call:
    return Call(
        method=method,
        path=path,
        plane=Plane.API,
        idempotency=Idempotency.SAFE,
        what=what,
        environment=where.environment,
        branch=where.branch,
    )


def _quote(job_id: str) -> str:
    return urllib.parse.quote(_string(job_id, "job_id"), safe="")


# ---------------------------------------------------------------------------------------------------
# Input: a mapping of columns, or a pandas / polars / pyarrow table, sent column-major


def offline_input(value: object) -> dict[str, Any]:
    """``{"columns": [...], "values": [[...], ...]}`` for `value`, or :class:`ChalkInputError`.

    Missing values in a table (pandas ``NaN``/``NaT``/``None``, polars and pyarrow nulls) are sent
    as null; in a plain mapping, ``NaN`` is an error, as everywhere else in the SDK.
    """
    columns = _table_columns(value)
    if columns is None:
        if not isinstance(value, Mapping):
            raise ChalkInputError(
                "input must be a mapping of feature name to column, or a pandas, polars or pyarrow "
                f"table, got {type(value).__name__}"
            )
        columns = {}
        for name, column in value.items():
            if not isinstance(name, str) or not name:
                raise ChalkInputError(f"input keys must be non-empty feature names (str), got {name!r}")
            columns[name] = _column(column, name)
    if not columns:
        raise ChalkInputError("input has no columns: give at least one, e.g. {'user.id': [1, 2, 3]}")
    lengths = {name: len(column) for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ChalkInputError(f"input columns have different lengths ({shown}); each needs one value per row")
    if 0 in lengths.values():
        raise ChalkInputError("input has no rows: every column is empty")
    for name, column in columns.items():
        for row, item in enumerate(column):
            if isinstance(item, datetime):
                _aware(item, f"input[{name!r}][{row}]")
    return {"columns": list(columns), "values": list(columns.values())}


def _table_columns(value: object) -> dict[str, list[Any]] | None:
    """The columns of a pandas, polars or pyarrow table; None for anything else.

    Detected by module name, so none of those libraries is imported unless the caller already has one.
    """
    module = type(value).__module__.split(".", 1)[0]
    if module == "pandas" and hasattr(value, "columns") and hasattr(value, "isna"):
        frame: Any = value
        nulls = frame.isna()
        return {
            _column_name(name): [
                None if missing else item
                for item, missing in zip(frame[name].tolist(), nulls[name].tolist(), strict=True)
            ]
            for name in frame.columns
        }
    if module == "polars" and hasattr(value, "to_dict"):
        table: Any = value
        return {_column_name(k): list(v) for k, v in table.to_dict(as_series=False).items()}
    if module == "pyarrow" and hasattr(value, "to_pydict"):
        arrow: Any = value
        return {_column_name(k): list(v) for k, v in arrow.to_pydict().items()}
    return None


def _column_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ChalkInputError(f"input table columns must be named by feature (str), got {name!r}")
    return name


# ---------------------------------------------------------------------------------------------------
# Answers


def parse_dataset(call: Call, response: Answer, secrets: Iterable[str | None]) -> _Submitted:
    """The job in a submit or revision answer; errors reported at submission raise."""
    payload = json_object(response, secrets)
    errors = _errors(payload.get("errors"), response, "errors")
    revisions = payload.get("revisions")
    if errors and not (isinstance(revisions, list) and revisions):
        # Refused before any job started. With a job, its errors come with its status (wait()).
        raise ChalkResultError(call.what, errors, trace=response.headers.get("x-chalk-trace-id") or None)
    if not isinstance(revisions, list) or not revisions:
        raise invalid_response(response, "the field 'revisions' is missing, empty or not a list")
    revision = revisions[-1]
    job_id = revision.get("revision_id") if isinstance(revision, Mapping) else None
    if not isinstance(job_id, str) or not job_id:
        raise invalid_response(response, "the last revision has no string 'revision_id'")
    code = revision.get("status")
    status = (
        _REVISION_STATUSES.get(code, str(code))
        if isinstance(code, int) and not isinstance(code, bool)
        else str(code).lower()
    )
    version = payload.get("version")
    return _Submitted(
        job_id=job_id,
        dataset_name=_text(payload.get("dataset_name")),
        dataset_id=_text(payload.get("dataset_id")),
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        status=status,
    )


def parse_status(call: Call, response: Answer, secrets: Iterable[str | None]) -> _JobState:
    """One answer of the status poll."""
    payload = json_object(response, secrets)
    finished = payload.get("is_finished")
    if not isinstance(finished, bool):
        raise invalid_response(response, "the field 'is_finished' is missing or not a boolean")
    return _JobState(
        finished=finished,
        urls=_string_list(payload.get("urls"), response, "urls"),
        errors=tuple(_errors(payload.get("errors"), response, "errors")),
        columns=_string_list(payload.get("columns"), response, "columns"),
    )


def parse_progress(call: Call, response: Answer, secrets: Iterable[str | None]) -> OfflineQueryStatus:
    """The progress report."""
    payload = json_object(response, secrets)
    report = payload.get("report")
    if not isinstance(report, Mapping) or not isinstance(report.get("status"), str):
        raise invalid_response(response, "the field 'report' is missing or has no string 'status'")
    raw_status: str = report["status"]
    fraction = report.get("progress")
    rows = report.get("num_rows")
    raw_error = report.get("error")
    return OfflineQueryStatus(
        status=_REPORT_STATUSES.get(raw_status, raw_status.lower()),
        fraction=min(max(float(fraction), 0.0), 1.0)
        if isinstance(fraction, int | float) and not isinstance(fraction, bool) and math.isfinite(fraction)
        else None,
        rows=rows if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0 else None,
        error=None if raw_error is None else _chalk_error(raw_error, response, "report.error"),
    )


def _errors(raw: object, response: Answer, field: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid_response(response, f"the field {field!r} is not a list")
    return [_chalk_error(item, response, f"{field}[{i}]") for i, item in enumerate(raw)]


def _string_list(raw: object, response: Answer, field: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise invalid_response(response, f"the field {field!r} is not a list of strings")
    return tuple(raw)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# ---------------------------------------------------------------------------------------------------
# Flows: what a wait or a download does, as commands for a driver


class _Send(NamedTuple):
    """Make an API call through the client (with its retries); the reply is the result or the error."""

    call: Call
    parse: Callable[[Call, Answer, Sequence[str | None]], Any]


class _Sleep(NamedTuple):
    """Wait this many seconds."""

    seconds: float


class _Report(NamedTuple):
    """Hand a status to the caller's progress callback."""

    callback: ProgressCallback
    status: OfflineQueryStatus


class _Fetch(NamedTuple):
    """Stream `url` into `target` (atomically); the reply is None, an HTTP status, or the error."""

    url: str
    target: Path


_Command = _Send | _Sleep | _Report | _Fetch
_Flow = Generator[_Command, Any, Any]


class _TruncatedError(Exception):
    """The body ended before its ``Content-Length``."""


def _wait_flow(
    job_id: str,
    where: _Where,
    *,
    timeout: float | None,
    on_progress: ProgressCallback | None,
    cancel_on_timeout: bool,
    monotonic: Callable[[], float],
) -> Generator[_Command, Any, _JobState]:
    """Poll until the job finishes; returns its final state or raises (see the module docstring)."""
    check_wait_timeout(timeout)
    deadline = None if timeout is None else monotonic() + timeout
    pause = POLL_INITIAL_SECONDS
    failures = 0
    last_reported: OfflineQueryStatus | None = None
    while True:
        state = yield _Send(status_call(job_id, where), parse_status)
        if isinstance(state, Exception):
            failures += 1
            if not isinstance(state, ChalkUnavailableError) or failures >= MAX_POLL_FAILURES:
                raise state
            logger.debug("offline query %s: poll %d failed, polling again: %s", job_id, failures, state)
        else:
            failures = 0
            if state.finished:
                if on_progress is not None:
                    final = yield _Send(progress_call(job_id, where), parse_progress)
                    if isinstance(final, Exception) or not final.finished:
                        final = OfflineQueryStatus("failed" if state.errors else "successful", 1.0)
                    yield _Report(on_progress, final)
                if state.errors:
                    raise _job_error(job_id, state.errors)
                return state  # type: ignore[no-any-return]
            if on_progress is not None:
                status = yield _Send(progress_call(job_id, where), parse_progress)
                if not isinstance(status, Exception) and status != last_reported:
                    last_reported = status
                    yield _Report(on_progress, status)
        if deadline is not None:
            remaining = deadline - monotonic()
            if remaining <= 0:
                cancelled = False
                if cancel_on_timeout:
                    outcome = yield _Send(cancel_call(job_id, where), parse_progress)
                    cancelled = not isinstance(outcome, Exception)
                raise ChalkOfflineQueryTimeoutError(
                    f"offline query job {job_id} did not finish within {timeout:g} s; "
                    + ("it was cancelled" if cancelled else "it is still running on the server"),
                    job_id=job_id,
                    timeout=float(timeout or 0),
                    cancelled=cancelled,
                )
            yield _Sleep(min(pause, remaining))
        else:
            yield _Sleep(pause)
        pause = min(pause * 2, POLL_MAX_SECONDS)


def check_wait_timeout(timeout: object) -> None:
    """:class:`ChalkInputError` unless `timeout` is None or a number of seconds >= 0."""
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0
    ):
        raise ChalkInputError(f"timeout must be a number of seconds >= 0 or None, got {timeout!r}")


def _send_only(call: Call, parse: Callable[..., Any]) -> Generator[_Command, Any, Any]:
    """One API call as a flow: its result, or its error raised."""
    result = yield _Send(call, parse)
    if isinstance(result, Exception):
        raise result
    return result


def _job_error(job_id: str, errors: Sequence[Any]) -> ChalkOfflineQueryError:
    cancelled = any(str(getattr(e.code, "value", e.code)) == "CANCELLED" for e in errors)
    status = "cancelled" if cancelled else "failed"
    return ChalkOfflineQueryError(
        f"offline query job {job_id} {status}", job_id=job_id, status=status, errors=errors
    )


def _download_flow(
    job_id: str,
    where: _Where,
    urls: Sequence[str],
    directory: Path,
    *,
    max_retries: int,
    rand: Callable[[], float],
) -> Generator[_Command, Any, list[Path]]:
    """Fetch every file into `directory`; all or nothing (see the module docstring)."""
    urls = list(urls)
    written: list[Path] = []
    try:
        for index in range(len(urls)):
            target = directory / _file_name(job_id, index)
            attempt = 0
            refreshed = False
            while True:
                attempt += 1
                outcome = yield _Fetch(urls[index], target)
                if outcome is None:
                    written.append(target)
                    break
                shown = _without_query(urls[index])
                if outcome in (401, 403) and not refreshed:
                    refreshed = True  # most likely the signed URL expired: ask for fresh ones
                    logger.debug("download of %s answered %s: refreshing the URLs", shown, outcome)
                    state = yield _Send(status_call(job_id, where), parse_status)
                    if not isinstance(state, Exception) and len(state.urls) == len(urls):
                        urls = list(state.urls)
                        continue
                retryable = (
                    isinstance(outcome, httpx.TransportError | _TruncatedError) or outcome in RETRY_STATUSES
                )
                if retryable and attempt <= max_retries:
                    delay = backoff(attempt, rand())
                    logger.debug(
                        "download of %s failed (%s); retry in %.2f s", shown, _describe(outcome), delay
                    )
                    yield _Sleep(delay)
                    continue
                raise ChalkDownloadError(
                    f"could not download file {index + 1} of {len(urls)} of offline query job {job_id} "
                    f"from {shown}: {_describe(outcome)}; no partial file was left behind",
                    url=shown,
                    status_code=outcome if isinstance(outcome, int) else None,
                    attempts=attempt,
                )
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return written


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


def create_file(directory: Path, prefix: str, suffix: str) -> tuple[int, Path]:
    """A new file with a unique name in `directory`, open for writing, with the usual permissions.

    Created with mode 0o666, which the process's umask masks as for any file a program writes
    (``tempfile.mkstemp`` would make it 0600: a dataset others cannot read). ``O_EXCL`` makes the
    name unique; ``os.umask`` is never called (it is not thread-safe).
    """
    import secrets

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = directory / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a unique file name in {directory}")  # pragma: no cover


class _PartFile:
    """A file being downloaded: a temporary name beside `target`, renamed only once complete."""

    def __init__(self, target: Path) -> None:
        fd, name = create_file(target.parent, f".{target.name}.", ".part")
        self._file = os.fdopen(fd, "wb")
        self._temporary = name
        self._target = target
        self._written = 0
        self._done = False

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._written += len(chunk)

    def commit(self, expected: str | None) -> None:
        """Check the length against `expected` (``Content-Length``), then move the file into place."""
        self._file.close()
        if expected is not None and expected.isdigit() and int(expected) != self._written:
            raise _TruncatedError(f"the body ended after {self._written} of {int(expected)} bytes")
        os.replace(self._temporary, self._target)
        self._done = True

    def discard(self) -> None:
        """Remove the temporary file unless it was committed."""
        if not self._done:
            self._file.close()
            with contextlib.suppress(OSError):
                self._temporary.unlink()


def fetch_file(http: httpx.Client, fetch: _Fetch) -> int | Exception | None:
    part = _PartFile(fetch.target)
    try:
        with http.stream("GET", fetch.url, headers=_RAW_FILE) as response:
            if response.status_code != 200:
                return response.status_code
            # A body already read into memory (an httpx.MockTransport answer) cannot stream again.
            chunks = (
                response.iter_bytes()
                if response.is_stream_consumed
                else response.iter_raw(DOWNLOAD_CHUNK_BYTES)
            )
            for chunk in chunks:
                part.write(chunk)
            part.commit(response.headers.get("content-length"))
        return None
    except (httpx.TransportError, _TruncatedError) as err:
        return err
    finally:
        part.discard()


async def afetch_file(http: httpx.AsyncClient, fetch: _Fetch) -> int | Exception | None:
    part = _PartFile(fetch.target)
    try:
        async with http.stream("GET", fetch.url, headers=_RAW_FILE) as response:
            if response.status_code != 200:
                return response.status_code
            chunks = (
                response.aiter_bytes()
                if response.is_stream_consumed
                else response.aiter_raw(DOWNLOAD_CHUNK_BYTES)
            )
            async for chunk in chunks:
                part.write(chunk)  # small local writes; not worth a thread hop per chunk
            part.commit(response.headers.get("content-length"))
        return None
    except (httpx.TransportError, _TruncatedError) as err:
        return err
    finally:
        part.discard()


# ---------------------------------------------------------------------------------------------------
# Tables


def _require(module: str, extra: str, what: str) -> Any:  # noqa: ANN401 - a module
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ChalkMissingDependencyError(
            f"{what} needs {module}, which is not installed: pip install 'chalk-client[{extra}]'"
        ) from None


def _read_table(paths: Sequence[Path], columns: Sequence[str]) -> pyarrow.Table:
    pa = _require("pyarrow", "arrow", "reading offline query results")
    pq = _require("pyarrow.parquet", "arrow", "reading offline query results")
    if not paths:
        return pa.table({name: pa.array([], pa.null()) for name in columns})
    tables = [pq.read_table(path) for path in paths]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def _as_directory(directory: str | os.PathLike[str]) -> Path:
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------------
# The job handles


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


_Parse = Callable[[Call, Answer, Sequence[str | None]], Any]


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
        """Download one result file (see :func:`fetch_file`)."""
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
        """Download one result file (see :func:`afetch_file`)."""
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

    def _run(self, flow: Generator[_Command, Any, Any]) -> Any:  # noqa: ANN401 - the flow's result
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
        """Wait until the job has finished successfully (see :meth:`OfflineQuery.wait`)."""
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
        """Download the result's parquet files (see :meth:`OfflineQuery.download`)."""
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

    async def _run(self, flow: Generator[_Command, Any, Any]) -> Any:  # noqa: ANN401 - the flow's result
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
