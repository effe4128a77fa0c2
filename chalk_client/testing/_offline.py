"""Offline queries of :class:`~chalk_client.testing.ChalkServer`: jobs, their datasets, their parquet files.

Endpoints (API address only; each wants a bearer token and checks the routing headers, as every call
but the token exchange does):

- ``POST /v4/offline_query``: submit a job; answers a ``DatasetResponse`` whose one revision is the
  job (``revision_id`` is the job id, ``job-1``, ``job-2``, ...).
- ``POST /v4/offline_query/status`` with ``{"job_id": ...}``: ``is_finished``, ``urls``, ``errors``,
  ``columns``.
- ``GET /v4/offline_query/{job_id}/status``: the progress report ``{"report": {...}}``.
- ``POST /v4/offline_query/{job_id}/cancel``: cancel, then the report.
- ``GET /v2/offline_query/{revision_id}``: the ``DatasetResponse`` again.

An unknown job id is a 404 ``VALIDATION_FAILED``.

**Timing.** Nothing runs in the background: a job's state derives from the server clock. A job takes
``offline_duration`` seconds (fixed at submission; changing the server's value affects later jobs):

======================  ==================  =================  =========================================
state                   report ``status``   revision status    when
======================  ==================  =================  =========================================
submitted               ``INIT``            2                  no time has passed since submission
running                 ``COMPUTE_STARTED`` 3                  ``0 < elapsed < duration``
successful              ``COMPLETED``       7                  ``elapsed >= duration``, no error
error                   ``FAILED``          4                  ``elapsed >= duration``, an error
cancelled               ``CANCELLED``       6                  cancelled before it finished
======================  ==================  =================  =========================================

While running, ``progress`` is ``elapsed / duration`` and ``num_rows`` that fraction of the rows the
job will look at (the input's rows, or the 1,000 seeded users, capped by ``max_samples``). With a
duration of 0 a job is successful as soon as it is submitted. Cancelling a finished job changes
nothing. A cancelled job keeps the progress it had; its status call answers ``is_finished`` with one
``CANCELLED`` error.

**Errors.** A job fails at the end of its duration (never at submission) when ``output``,
``required_output`` or the input's columns name a feature that is not in
:data:`~chalk_client.testing.FEATURE_TYPES` (one ``RESOLVER_NOT_FOUND`` error per such feature, with
``feature`` set), or when an input has no ``user.id`` column (``INVALID_QUERY``). The status call then
answers ``is_finished`` with those errors, the report's ``error`` is the first one, and the dataset's
``errors`` (and its revision's) list them. A malformed request is a 400 at once, with the shared error
body: ``INVALID_QUERY`` for what the query asks for (``output`` a non-empty list of strings,
``required_output`` a list of strings, ``input`` ``{columns, values}`` column-major with as many
columns as value lists, all of one length, no column twice, ``user.id`` values integers or strings of
digits, values of a known feature of its type or null, ``max_samples`` a positive integer);
``PARSE_FAILED`` for a date-time that is not ISO 8601 with an offset (``observed_at_*_bound``, the
``__ts__`` input column); ``VALIDATION_FAILED`` for the other fields of a wrong type, a lower bound
not before the upper one, or a ``destination_format`` other than ``PARQUET``. Without pyarrow, which
writes the results, every submission is a 501 ``INTERNAL_SERVER_ERROR`` naming the ``testing`` extra
(clients do not retry a 501), so no job is recorded that could never finish.

**Results.** Computed once, when the job is first seen successful (by any call, or by
``server.offline_jobs``), from the feature values as they are then:

- With an input: one row per input row, in order, keyed by its ``user.id``; the input's columns come
  first, in the input's order, with the input's values; then the requested features that are not
  already there (``output``, then ``required_output``, each once).
- Without an input: one row per seeded user, ``1..1000`` in id order, and only the requested
  features. Uploaded ids outside the seeded range are not rows (pass them as an input to read them).
- A feature's value is the uploaded one if there is one, else the seeded one; an unknown user id
  and the failing credit-score resolver (:data:`~chalk_client.testing.FAILING_USER_ID`) give null.
- Rows with a null in any ``required_output`` feature are dropped; then ``max_samples`` keeps the
  first rows.
- Columns are named by feature (``user.id``, ``user.credit_score``), typed by their feature
  (``int`` as int64, ``str`` as string, all nullable); an input column ``__ts__`` is
  ``timestamp[us, tz=UTC]``. ``observed_at_*_bound`` are checked but change nothing: the seeded
  graph has no history.
- The rows are written as parquet files of at most ``offline_rows_per_file`` rows each
  (``part-00000.parquet``, ...), at least one file (a job with no rows has one empty file).

**Files.** The status call (and a successful revision's ``output_uris``) gives freshly signed URLs
on the API address that need no token::

    {server.url}/_storage/{job_id}/part-00000.parquet?expires={unix seconds}&signature={hex}

``signature`` is the HMAC-SHA256 of ``f"{path}\\n{expires}"`` under a random per-server key, and
``expires`` is ``ceil(now + offline_url_lifetime)`` by the server clock; a URL is good while the
clock is before ``expires``. A URL that has expired, or whose signature does not match, is a 403
with a short XML body, as a storage bucket answers; a good URL for a forgotten job is a 404. A file
is served as ``application/octet-stream`` with ``Content-Length``, in 64 KiB chunks.

**Datasets.** A job with a ``dataset_name`` joins the dataset of that name in its environment (the
first one creates it): same ``dataset_id``, ``version`` one more than the last (1-based). A job
without one gets a dataset of its own, version 1.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import secrets
import threading
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from chalk_client.testing._auth import TokenService, rfc3339
from chalk_client.testing._data import (
    FEATURE_TYPES,
    SEEDED_USER_IDS,
    FeatureStore,
    _user_id,
    parse_rfc3339,
    seeded_user,
)
from chalk_client.testing._http import ApiError, Request, Response, chalk_error, json_response

__all__ = ["OfflineJobRecord", "OfflineService", "check_offline_duration", "check_url_lifetime"]

DEFAULT_OFFLINE_DURATION: Final = 0.5
DEFAULT_ROWS_PER_FILE: Final = 500
DEFAULT_URL_LIFETIME: Final = 3600.0
# Large enough to be cheap, small enough that a test can cut a download in the middle of a file.
_DOWNLOAD_CHUNK: Final = 64 * 1024
STORAGE_PREFIX: Final = "/_storage"
_PRIMARY_KEY: Final = "user.id"
_TIMESTAMP_COLUMN: Final = "__ts__"
_DESTINATION_FORMAT: Final = "PARQUET"

# Report statuses (JobStatus) and the dataset revision status of each.
_INIT: Final = "INIT"
_RUNNING: Final = "COMPUTE_STARTED"
_COMPLETED: Final = "COMPLETED"
_FAILED: Final = "FAILED"
_CANCELLED: Final = "CANCELLED"
_REVISION_STATUS: Final[Mapping[str, int]] = {
    _INIT: 2,  # submitted
    _RUNNING: 3,  # running
    _FAILED: 4,  # error
    _CANCELLED: 6,  # cancelled
    _COMPLETED: 7,  # successful
}
_FINISHED: Final = frozenset({_COMPLETED, _FAILED, _CANCELLED})


@dataclass(frozen=True, slots=True)
class OfflineJobRecord:
    """An offline query job as the server sees it now.

    Attributes:
        job_id: The job id (the revision id), ``job-1``, ``job-2``, ... in submission order.
        dataset_id: Its dataset's id.
        dataset_name: The ``dataset_name`` it was submitted with, or None.
        version: Its version in its dataset, from 1.
        environment_id: The environment it was submitted for.
        outputs: ``output``, as sent.
        required_outputs: ``required_output``, as sent (empty when absent).
        input_rows: The input's row count, or None without an input.
        max_samples: ``max_samples``, or None.
        tags: ``tags``, as sent (empty when absent).
        branch: The body's ``branch``, else the ``X-Chalk-Branch-Id`` of a branch request, else None.
        created: When it was submitted, in Unix seconds of the server's clock.
        status: The report status now: ``INIT``, ``COMPUTE_STARTED``, ``COMPLETED``, ``FAILED`` or
            ``CANCELLED``.
        rows: Rows in its result once it has succeeded, else None.
        files: Parquet files in its result (0 until it has succeeded).
    """

    job_id: str
    dataset_id: str
    dataset_name: str | None
    version: int
    environment_id: str
    outputs: tuple[str, ...]
    required_outputs: tuple[str, ...]
    input_rows: int | None
    max_samples: int | None
    tags: tuple[str, ...]
    branch: str | None
    created: float
    status: str
    rows: int | None
    files: int


def check_offline_duration(value: object) -> float:
    """`value` as a job duration: a finite number of seconds, zero or more."""
    return _seconds("offline_duration", value, allow_zero=True)


def check_url_lifetime(value: object) -> float:
    """`value` as a URL lifetime: a finite number of seconds, more than zero."""
    return _seconds("offline_url_lifetime", value, allow_zero=False)


def _seconds(name: str, value: object, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        wanted = "zero or more" if allow_zero else "more than zero"
        raise ValueError(f"{name} must be a finite number of seconds, {wanted}, not {value!r}")
    return float(value)


def _check_rows_per_file(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"offline_rows_per_file must be a positive int, not {value!r}")
    return value


class _Input(NamedTuple):
    columns: tuple[str, ...]
    values: tuple[list[Any], ...]  # user.id as ints, __ts__ as aware UTC datetimes
    rows: int


class _Result(NamedTuple):
    columns: tuple[str, ...]
    rows: int
    files: tuple[bytes, ...]


class _Job:
    """A submitted job: what it asks for, and what happened to it (under the service's lock)."""

    __slots__ = (
        "branch",
        "cancelled_at",
        "created",
        "dataset_id",
        "dataset_name",
        "duration",
        "environment_id",
        "errors",
        "input",
        "job_id",
        "max_samples",
        "outputs",
        "planned_rows",
        "required_outputs",
        "result",
        "tags",
        "version",
    )

    def __init__(
        self,
        *,
        job_id: str,
        dataset_id: str,
        dataset_name: str | None,
        version: int,
        environment_id: str,
        query: _Query,
        branch: str | None,
        created: float,
        duration: float,
    ) -> None:
        self.job_id = job_id
        self.dataset_id = dataset_id
        self.dataset_name = dataset_name
        self.version = version
        self.environment_id = environment_id
        self.outputs = query.outputs
        self.required_outputs = query.required_outputs
        self.input = query.input
        self.max_samples = query.max_samples
        self.tags = query.tags
        self.branch = branch
        self.created = created
        self.duration = duration
        self.errors = _job_errors(query)
        planned = query.input.rows if query.input is not None else len(SEEDED_USER_IDS)
        self.planned_rows = planned if query.max_samples is None else min(planned, query.max_samples)
        self.cancelled_at: float | None = None
        self.result: _Result | None = None

    def status(self, now: float) -> str:
        if self.cancelled_at is not None:
            return _CANCELLED
        elapsed = now - self.created
        if elapsed >= self.duration:
            return _FAILED if self.errors else _COMPLETED
        return _RUNNING if elapsed > 0 else _INIT

    def progress(self, status: str, now: float) -> float:
        if status in (_COMPLETED, _FAILED):
            return 1.0
        if self.duration <= 0:  # only when the clock went back before the submission
            return 0.0
        until = self.cancelled_at if self.cancelled_at is not None else now
        return min(1.0, max(0.0, (until - self.created) / self.duration))

    def rows_so_far(self, status: str, progress: float) -> int | None:
        if status == _COMPLETED:
            return self.result.rows if self.result is not None else None
        if status == _FAILED:
            return None
        return math.floor(progress * self.planned_rows)

    def requested(self) -> tuple[str, ...]:
        """``output`` then ``required_output``, each feature once."""
        return tuple(dict.fromkeys((*self.outputs, *self.required_outputs)))


class _Query(NamedTuple):
    outputs: tuple[str, ...]
    required_outputs: tuple[str, ...]
    input: _Input | None
    max_samples: int | None
    tags: tuple[str, ...]
    dataset_name: str | None
    branch: str | None


def _job_errors(query: _Query) -> tuple[dict[str, Any], ...]:
    """The errors a job will fail with at the end of its duration (none: it will succeed)."""
    names = [*query.outputs, *query.required_outputs]
    if query.input is not None:
        names.extend(name for name in query.input.columns if name != _TIMESTAMP_COLUMN)
    errors = [
        chalk_error("RESOLVER_NOT_FOUND", f"no resolver computes the feature {name[:200]!r}", feature=name)
        for name in dict.fromkeys(names)
        if name not in FEATURE_TYPES
    ]
    if query.input is not None and _PRIMARY_KEY not in query.input.columns:
        errors.append(
            chalk_error(
                "INVALID_QUERY",
                "the input has no 'user.id' column: an offline query's input must give the primary key",
            )
        )
    return tuple(errors)


class OfflineService:
    """The offline jobs the server was asked for, the five offline endpoints, and the file downloads.

    Args:
        auth: Checks tokens and routing headers.
        store: Where uploaded values live.
        clock: The server's time source (Unix seconds).
        duration: Seconds from a submission until its job finishes.
        rows_per_file: At most this many rows per parquet file.
        url_lifetime: Seconds a signed file URL is good for.
        max_jobs: At most this many jobs (and their files) are kept; the oldest is forgotten first.
    """

    def __init__(
        self,
        *,
        auth: TokenService,
        store: FeatureStore,
        clock: Callable[[], float],
        duration: float = DEFAULT_OFFLINE_DURATION,
        rows_per_file: int = DEFAULT_ROWS_PER_FILE,
        url_lifetime: float = DEFAULT_URL_LIFETIME,
        max_jobs: int = 10_000,
    ) -> None:
        self._auth = auth
        self._store = store
        self._clock = clock
        self._duration = check_offline_duration(duration)
        self._rows_per_file = _check_rows_per_file(rows_per_file)
        self._url_lifetime = check_url_lifetime(url_lifetime)
        self._max_jobs = max_jobs
        self._key = secrets.token_bytes(32)
        self._base_url = ""
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._datasets: dict[tuple[str, str], tuple[str, int]] = {}  # (env, name) -> (id, last version)
        self._job_ids = itertools.count(1)
        self._dataset_ids = itertools.count(1)

    # -- settings and inspection -------------------------------------------------------------------

    @property
    def duration(self) -> float:
        """Seconds from a submission until its job finishes; changing it affects later jobs only."""
        return self._duration

    @duration.setter
    def duration(self, value: float) -> None:
        self._duration = check_offline_duration(value)

    @property
    def url_lifetime(self) -> float:
        """Seconds a signed file URL is good for; changing it affects URLs signed later."""
        return self._url_lifetime

    @url_lifetime.setter
    def url_lifetime(self, value: float) -> None:
        self._url_lifetime = check_url_lifetime(value)

    @property
    def rows_per_file(self) -> int:
        """At most this many rows per parquet file."""
        return self._rows_per_file

    def set_base_url(self, url: str) -> None:
        """The API address that signed URLs point at (known once the server listens)."""
        self._base_url = url

    def jobs(self) -> list[OfflineJobRecord]:
        """Every job kept, oldest first, as it is now (a successful job's result is computed)."""
        now = self._clock()
        with self._lock:
            records = []
            for job in self._jobs.values():
                status = self._observe(job, now)
                result = job.result
                records.append(
                    OfflineJobRecord(
                        job_id=job.job_id,
                        dataset_id=job.dataset_id,
                        dataset_name=job.dataset_name,
                        version=job.version,
                        environment_id=job.environment_id,
                        outputs=job.outputs,
                        required_outputs=job.required_outputs,
                        input_rows=job.input.rows if job.input is not None else None,
                        max_samples=job.max_samples,
                        tags=job.tags,
                        branch=job.branch,
                        created=job.created,
                        status=status,
                        rows=result.rows if result is not None else None,
                        files=len(result.files) if result is not None else 0,
                    )
                )
            return records

    # -- endpoints ---------------------------------------------------------------------------------

    async def submit(self, request: Request) -> Response:
        """``POST /v4/offline_query``: record a job; answers its dataset."""
        caller = self._auth.authenticate(request)
        _require_pyarrow()
        query = _parse_query(request.json())
        now = self._clock()
        with self._lock:
            if query.dataset_name is None:
                dataset_id, version = f"dataset-{next(self._dataset_ids)}", 1
            else:
                key = (caller.environment_id, query.dataset_name)
                known = self._datasets.get(key)
                if known is None:
                    dataset_id, version = f"dataset-{next(self._dataset_ids)}", 1
                else:
                    dataset_id, version = known[0], known[1] + 1
                self._datasets[key] = (dataset_id, version)
            job = _Job(
                job_id=f"job-{next(self._job_ids)}",
                dataset_id=dataset_id,
                dataset_name=query.dataset_name,
                version=version,
                environment_id=caller.environment_id,
                query=query,
                branch=query.branch if query.branch is not None else caller.branch_id,
                created=now,
                duration=self._duration,
            )
            if len(self._jobs) >= self._max_jobs:
                del self._jobs[next(iter(self._jobs))]
            self._jobs[job.job_id] = job
            return json_response(self._dataset(job, now))

    async def status(self, request: Request) -> Response:
        """``POST /v4/offline_query/status``: finished or not, and the files or the errors."""
        self._auth.authenticate(request)
        data = request.json()
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if not isinstance(job_id, str):
            raise ApiError(
                400, "VALIDATION_FAILED", "the request body must be an object with a 'job_id' string"
            )
        now = self._clock()
        with self._lock:
            job = self._job(job_id)
            status = self._observe(job, now)
            answer: dict[str, Any] = {
                "is_finished": status in _FINISHED,
                "version": job.version,
                "urls": None,
                "errors": None,
                "columns": None,
            }
            if status == _COMPLETED and job.result is not None:
                answer["urls"] = self._urls(job, job.result, now)
                answer["columns"] = list(job.result.columns)
            elif status in (_FAILED, _CANCELLED):
                answer["errors"] = self._errors(job, status)
        return json_response(answer)

    async def progress(self, request: Request) -> Response:
        """``GET /v4/offline_query/{job_id}/status``: the progress report."""
        self._auth.authenticate(request)
        now = self._clock()
        with self._lock:
            job = self._job(request.path_params["job_id"])
            return json_response({"report": self._report(job, now)})

    async def cancel(self, request: Request) -> Response:
        """``POST /v4/offline_query/{job_id}/cancel``: cancel a job that has not finished; the report."""
        self._auth.authenticate(request)
        now = self._clock()
        with self._lock:
            job = self._job(request.path_params["job_id"])
            if self._observe(job, now) not in _FINISHED:
                job.cancelled_at = now
            return json_response({"report": self._report(job, now)})

    async def revision(self, request: Request) -> Response:
        """``GET /v2/offline_query/{revision_id}``: the job's dataset, with the job's revision."""
        self._auth.authenticate(request)
        now = self._clock()
        with self._lock:
            job = self._job(request.path_params["revision_id"])
            return json_response(self._dataset(job, now))

    async def download(self, request: Request) -> Response:
        """``GET /_storage/{job_id}/{file}``: a result file, for a signed URL that has not expired.

        No token: the signature is the credential, as with a storage bucket's signed URLs.
        """
        query = urllib.parse.parse_qs(request.query_string.decode("latin-1"))
        expires_text = query.get("expires", [""])[0]
        signature = query.get("signature", [""])[0]
        if not signature or not (expires_text.isascii() and expires_text.isdigit()) or len(expires_text) > 15:
            return _storage_error(
                403, "AccessDenied", "The URL must carry the expires and signature parameters"
            )
        expires = int(expires_text)
        if not hmac.compare_digest(self._sign(request.path, expires), signature):
            return _storage_error(
                403, "SignatureDoesNotMatch", "The request signature does not match the URL"
            )
        if self._clock() >= expires:
            return _storage_error(403, "AccessDenied", "Request has expired")
        with self._lock:
            job = self._jobs.get(request.path_params["job_id"])
            result = job.result if job is not None else None
        body = _file(result, request.path_params["file_name"]) if result is not None else None
        if body is None:
            return _storage_error(404, "NoSuchKey", "The specified key does not exist")
        headers = [
            (b"content-type", b"application/octet-stream"),
            (b"content-length", str(len(body)).encode()),
        ]
        return Response(200, headers, body, chunk_size=_DOWNLOAD_CHUNK)

    # -- helpers (called with the lock held) ------------------------------------------------------

    def _job(self, job_id: str) -> _Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, "VALIDATION_FAILED", f"no offline query job with id {job_id[:200]!r}")
        return job

    def _observe(self, job: _Job, now: float) -> str:
        """The job's status now; computes its result the first time it is seen successful."""
        status = job.status(now)
        if status == _COMPLETED and job.result is None:
            job.result = _compute(job, self._store, self._rows_per_file)
        return status

    def _errors(self, job: _Job, status: str) -> list[dict[str, Any]] | None:
        if status == _FAILED:
            return [dict(error) for error in job.errors]
        if status == _CANCELLED:
            return [chalk_error("CANCELLED", f"the offline query job {job.job_id} was cancelled")]
        return None

    def _report(self, job: _Job, now: float) -> dict[str, Any]:
        status = self._observe(job, now)
        progress = job.progress(status, now)
        errors = self._errors(job, status)
        return {
            "status": status,
            "progress": progress,
            "num_rows": job.rows_so_far(status, progress),
            "error": errors[0] if errors else None,
        }

    def _dataset(self, job: _Job, now: float) -> dict[str, Any]:
        status = self._observe(job, now)
        progress = job.progress(status, now)
        errors = self._errors(job, status)
        # A job cancelled before any time passed never started.
        started = job.cancelled_at > job.created if job.cancelled_at is not None else status != _INIT
        terminated: float | None = None
        if status in (_COMPLETED, _FAILED):
            terminated = job.created + job.duration
        elif job.cancelled_at is not None:
            terminated = job.cancelled_at
        result = job.result
        revision = {
            "revision_id": job.job_id,
            "status": _REVISION_STATUS[status],
            "outputs": list(job.requested()),
            "created_at": rfc3339(job.created),
            "started_at": rfc3339(job.created) if started else None,
            "terminated_at": rfc3339(terminated) if terminated is not None else None,
            "num_rows": job.rows_so_far(status, progress),
            "output_uris": self._urls(job, result, now) if status == _COMPLETED and result else None,
            "dashboard_url": None,
            "errors": errors,
        }
        return {
            "is_finished": status in _FINISHED,
            "version": job.version,
            "environment_id": job.environment_id,
            "dataset_id": job.dataset_id,
            "dataset_name": job.dataset_name,
            "revisions": [revision],
            "errors": errors,
        }

    def _sign(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _urls(self, job: _Job, result: _Result, now: float) -> list[str]:
        expires = math.ceil(now + self._url_lifetime)
        urls = []
        for index in range(len(result.files)):
            path = f"{STORAGE_PREFIX}/{job.job_id}/{_file_name(index)}"
            query = urllib.parse.urlencode({"expires": expires, "signature": self._sign(path, expires)})
            urls.append(f"{self._base_url}{path}?{query}")
        return urls


# -- request parsing ---------------------------------------------------------------------------------


def _invalid(message: str, code: str = "INVALID_QUERY") -> ApiError:
    return ApiError(400, code, message, detail=f"invalid offline query: {message}")


def _names(data: Mapping[str, Any], field: str, *, required: bool) -> tuple[str, ...]:
    value = data.get(field)
    if value is None and not required:
        return ()
    if (
        not isinstance(value, list)
        or not all(isinstance(name, str) for name in value)
        or (required and not value)
    ):
        wanted = "a non-empty list of feature names" if required else "a list of feature names"
        raise _invalid(f"'{field}' must be {wanted}")
    return tuple(value)


def _optional(data: Mapping[str, Any], field: str, kind: type, what: str) -> Any:  # noqa: ANN401
    value = data.get(field)
    if value is not None and not isinstance(value, kind):
        raise _invalid(f"'{field}' must be {what}", "VALIDATION_FAILED")
    return value


def _parse_query(data: object) -> _Query:
    """The parts of a submission that shape the job; raises a 400 for a malformed one."""
    if not isinstance(data, dict):
        raise _invalid("the request body must be a JSON object")
    outputs = _names(data, "output", required=True)
    required_outputs = _names(data, "required_output", required=False)
    query_input = _parse_input(data.get("input"))
    max_samples = data.get("max_samples")
    if max_samples is not None and (
        isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1
    ):
        raise _invalid("'max_samples' must be a positive integer")
    bounds = []
    for field in ("observed_at_lower_bound", "observed_at_upper_bound"):
        value = data.get(field)
        parsed = parse_rfc3339(value) if value is not None else None
        if value is not None and parsed is None:
            raise _invalid(f"'{field}' must be an ISO 8601 date-time with an offset", "PARSE_FAILED")
        bounds.append(parsed)
    lower, upper = bounds
    if lower is not None and upper is not None and lower >= upper:
        raise _invalid(
            "'observed_at_lower_bound' must be before 'observed_at_upper_bound'", "VALIDATION_FAILED"
        )
    tags = data.get("tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags)):
        raise _invalid("'tags' must be a list of strings", "VALIDATION_FAILED")
    dataset_name = _optional(data, "dataset_name", str, "a string")
    branch = _optional(data, "branch", str, "a string")
    _optional(data, "correlation_id", str, "a string")
    _optional(data, "recompute_features", bool, "a boolean")
    destination = _optional(data, "destination_format", str, "'PARQUET'")
    if destination is not None and destination.upper() != _DESTINATION_FORMAT:
        raise _invalid("'destination_format' must be 'PARQUET', the only format served", "VALIDATION_FAILED")
    return _Query(
        outputs=outputs,
        required_outputs=required_outputs,
        input=query_input,
        max_samples=max_samples,
        tags=tuple(tags or ()),
        dataset_name=dataset_name,
        branch=branch,
    )


def _parse_input(value: object) -> _Input | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid('\'input\' must be an object {"columns": [...], "values": [[...], ...]}')
    columns = value.get("columns")
    values = value.get("values")
    if not isinstance(columns, list) or not columns or not all(isinstance(name, str) for name in columns):
        raise _invalid("'input'.'columns' must be a non-empty list of feature names")
    repeated = [name for name in dict.fromkeys(columns) if columns.count(name) > 1]
    if repeated:
        raise _invalid(f"'input'.'columns' names {repeated[0][:200]!r} more than once")
    if not isinstance(values, list) or not all(isinstance(column, list) for column in values):
        raise _invalid("'input'.'values' must be a list of columns, each a list of values")
    if len(values) != len(columns):
        raise _invalid(
            f"'input' has {len(columns)} columns but {len(values)} lists of values: "
            "values[i] is the column of columns[i] (column-major)"
        )
    lengths = {len(column) for column in values}
    if len(lengths) > 1:
        raise _invalid("every column of 'input'.'values' must have the same length")
    converted = [_input_column(name, column) for name, column in zip(columns, values, strict=True)]
    return _Input(tuple(columns), tuple(converted), lengths.pop())


def _input_column(name: str, column: list[Any]) -> list[Any]:
    """An input column checked, with ``user.id`` as ints and ``__ts__`` as UTC datetimes."""
    if name == _PRIMARY_KEY:
        ids = [_user_id(value) for value in column]
        for row, user_id in enumerate(ids):
            if user_id is None:
                raise _invalid(
                    f"row {row} of input column 'user.id' must be an integer or a string of digits"
                )
        return ids
    if name == _TIMESTAMP_COLUMN:
        times: list[datetime | None] = []
        for row, value in enumerate(column):
            parsed = parse_rfc3339(value) if value is not None else None
            if value is not None and parsed is None:
                raise _invalid(
                    f"row {row} of input column '__ts__' must be an ISO 8601 date-time with an offset",
                    "PARSE_FAILED",
                )
            times.append(parsed.astimezone(UTC) if parsed is not None else None)
        return times
    kind = FEATURE_TYPES.get(name)
    if kind is not None:
        for row, value in enumerate(column):
            ok = (
                isinstance(value, str)
                if kind == "str"
                else isinstance(value, int) and not isinstance(value, bool)
            )
            if value is not None and not ok:
                raise _invalid(
                    f"row {row} of input column {name!r} must be {kind} or null, not {type(value).__name__}"
                )
    return list(column)  # an unknown feature's column: the job will fail


# -- results -----------------------------------------------------------------------------------------


def _file_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def _file(result: _Result, name: str) -> bytes | None:
    prefix, suffix = "part-", ".parquet"
    digits = name[len(prefix) : -len(suffix)] if name.startswith(prefix) and name.endswith(suffix) else ""
    if len(digits) != 5 or not digits.isdigit():
        return None
    index = int(digits)
    return result.files[index] if index < len(result.files) else None


def _value(user_id: int, name: str, store: FeatureStore) -> Any:  # noqa: ANN401 - a feature value
    if name == _PRIMARY_KEY:
        return user_id
    uploaded = store.get(user_id)
    if uploaded is not None and name in uploaded:
        return uploaded[name]
    seeded = seeded_user(user_id)
    return seeded[name] if seeded is not None else None


def _compute(job: _Job, store: FeatureStore, rows_per_file: int) -> _Result:
    """The result of a successful job: its rows, written as parquet files."""
    columns: dict[str, list[Any]] = {}
    if job.input is None:
        ids = list(SEEDED_USER_IDS)
    else:
        columns.update(zip(job.input.columns, job.input.values, strict=True))
        ids = columns[_PRIMARY_KEY]
    for name in job.requested():
        if name not in columns:
            columns[name] = [_value(user_id, name, store) for user_id in ids]
    keep = [
        row for row in range(len(ids)) if all(columns[name][row] is not None for name in job.required_outputs)
    ]
    if job.max_samples is not None:
        keep = keep[: job.max_samples]
    if len(keep) != len(ids):
        columns = {name: [column[row] for row in keep] for name, column in columns.items()}
    return _Result(tuple(columns), len(keep), _write_parquet(columns, len(keep), rows_per_file))


def _require_pyarrow() -> None:
    """Refuse a job at once when pyarrow is missing: its results could never be written.

    A 501 (not retried by clients) naming the extra, instead of a job that would fail with a
    server-side traceback when its results are first asked for, and a client waiting in vain.
    """
    try:
        import pyarrow.parquet  # noqa: F401 - only whether it imports
    except ImportError:
        raise ApiError(
            501,
            "INTERNAL_SERVER_ERROR",
            "ChalkServer cannot run offline queries: it writes their results with pyarrow, which is not "
            "installed. Install the testing extra: pip install 'chalk-client[testing]'",
        ) from None


def _write_parquet(columns: Mapping[str, Sequence[Any]], rows: int, rows_per_file: int) -> tuple[bytes, ...]:
    # Imported here: pyarrow is heavy, and a server that runs no offline query never needs it.
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"int": pa.int64(), "str": pa.string()}
    arrays = []
    for name, values in columns.items():
        kind = pa.timestamp("us", tz="UTC") if name == _TIMESTAMP_COLUMN else types[FEATURE_TYPES[name]]
        arrays.append(pa.array(values, type=kind))
    table = pa.Table.from_arrays(arrays, names=list(columns))
    files = []
    for start in range(0, max(rows, 1), rows_per_file):
        sink = pa.BufferOutputStream()
        pq.write_table(table.slice(start, rows_per_file), sink)
        files.append(bytes(sink.getvalue().to_pybytes()))
    return tuple(files)


def _storage_error(status: int, code: str, message: str) -> Response:
    """An answer as a storage bucket gives it: a short XML body, not the Chalk error body."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>\n"
    ).encode()
    headers = [(b"content-type", b"application/xml"), (b"content-length", str(len(body)).encode())]
    return Response(status, headers, body)
