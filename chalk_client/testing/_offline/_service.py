"""The offline endpoints of :class:`~chalk_client.testing.ChalkServer`: :class:`OfflineService`.

It keeps the jobs and the datasets they join, answers the five offline endpoints, and signs the
result files' URLs and serves them (``/_storage/...``) as a storage bucket does. The package
docstring (:mod:`chalk_client.testing._offline`) gives the rules.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any, Final

from chalk_client.testing._auth import TokenService, rfc3339
from chalk_client.testing._http import ApiError, Request, Response, chalk_error, json_response
from chalk_client.testing._offline._jobs import (
    CANCELLED,
    COMPLETED,
    FAILED,
    FINISHED,
    INIT,
    REVISION_STATUS,
    Job,
    OfflineJobRecord,
    Result,
)
from chalk_client.testing._offline._query import parse_query
from chalk_client.testing._offline._results import compute, file_name, require_pyarrow, result_file
from chalk_client.testing._store import FeatureStore

__all__ = ["STORAGE_PREFIX", "OfflineService", "check_offline_duration", "check_url_lifetime"]

DEFAULT_OFFLINE_DURATION: Final = 0.5
DEFAULT_ROWS_PER_FILE: Final = 500
DEFAULT_URL_LIFETIME: Final = 3600.0
# Large enough to be cheap, small enough that a test can cut a download in the middle of a file.
_DOWNLOAD_CHUNK: Final = 64 * 1024
STORAGE_PREFIX: Final = "/_storage"
OUTPUT_VERSION: Final = 6  # parquet with native column names, in chalkpy's numbering


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


class _Dataset:
    """A dataset: its jobs (revisions), oldest first, and how many it ever had."""

    __slots__ = ("dataset_id", "environment_id", "job_ids", "name", "versions")

    def __init__(self, name: str | None, environment_id: str) -> None:
        self.dataset_id = str(uuid.uuid4())
        self.name = name
        self.environment_id = environment_id
        self.job_ids: list[str] = []
        self.versions = 0


def _check_rows_per_file(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"offline_rows_per_file must be a positive int, not {value!r}")
    return value


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
        self._jobs: dict[str, Job] = {}
        self._datasets: dict[str, _Dataset] = {}  # by id
        self._named: dict[tuple[str, str], _Dataset] = {}  # by (environment id, name)

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
        require_pyarrow()
        query = parse_query(request.json())
        now = self._clock()
        with self._lock:
            found = None
            if query.dataset_name is not None:
                found = self._named.get((caller.environment_id, query.dataset_name))
            if found is None:
                found = _Dataset(query.dataset_name, caller.environment_id)
                self._datasets[found.dataset_id] = found
                if query.dataset_name is not None:
                    self._named[(caller.environment_id, query.dataset_name)] = found
            found.versions += 1
            job = Job(
                job_id=str(uuid.uuid4()),
                dataset_id=found.dataset_id,
                dataset_name=query.dataset_name,
                version=found.versions,
                environment_id=caller.environment_id,
                query=query,
                branch=query.branch if query.branch is not None else caller.branch_id,
                created=now,
                duration=self._duration,
                creator_id=caller.client_id,
            )
            if len(self._jobs) >= self._max_jobs:
                self._forget(next(iter(self._jobs)))
            self._jobs[job.job_id] = job
            found.job_ids.append(job.job_id)
            return json_response(self._dataset([job], now))

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
                "is_finished": status in FINISHED,
                "version": OUTPUT_VERSION,  # the files' format, as chalkpy reads it (not the dataset's version)
                "urls": None,
                "errors": None,
                "columns": None,
            }
            if status == COMPLETED and job.result is not None:
                answer["urls"] = self._urls(job, job.result, now)
                answer["columns"] = list(job.result.columns)
            elif status in (FAILED, CANCELLED):
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
            if self._observe(job, now) not in FINISHED:
                job.cancelled_at = now
            return json_response({"report": self._report(job, now)})

    async def revision(self, request: Request) -> Response:
        """``GET /v2/offline_query/{revision_id}`` and ``GET /v4/offline_query/{revision_id}``: the
        job's dataset, with the job's revision alone (so it is the last one, that chalkpy reads)."""
        self._auth.authenticate(request)
        now = self._clock()
        with self._lock:
            job = self._job(request.path_params["revision_id"])
            return json_response(self._dataset([job], now))

    async def dataset(self, request: Request) -> Response:
        """``GET /v3/offline_query/{dataset_name_or_id}``: a dataset, by its id (any environment) or
        its name (in the request's environment), with every revision kept, oldest first."""
        caller = self._auth.authenticate(request)
        key = request.path_params["dataset_name_or_id"]
        now = self._clock()
        with self._lock:
            found = self._datasets.get(key) or self._named.get((caller.environment_id, key))
            jobs = [self._jobs[job_id] for job_id in found.job_ids] if found is not None else []
            if not jobs:
                raise ApiError(
                    404,
                    "VALIDATION_FAILED",
                    f"no dataset with id {key[:200]!r}, nor named so in environment {caller.environment_id!r}",
                )
            return json_response(self._dataset(jobs, now))

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
        body = result_file(result, request.path_params["file_name"]) if result is not None else None
        if body is None:
            return _storage_error(404, "NoSuchKey", "The specified key does not exist")
        headers = [
            (b"content-type", b"application/octet-stream"),
            (b"content-length", str(len(body)).encode()),
        ]
        return Response(200, headers, body, chunk_size=_DOWNLOAD_CHUNK)

    # -- helpers (called with the lock held) ------------------------------------------------------

    def _forget(self, job_id: str) -> None:
        """Forget a job (the oldest, to keep at most ``max_jobs``), and its dataset once it has none."""
        job = self._jobs.pop(job_id)
        found = self._datasets.get(job.dataset_id)
        if found is not None:
            found.job_ids.remove(job_id)
            if not found.job_ids and found.name is None:  # a named one keeps counting versions
                del self._datasets[found.dataset_id]

    def _job(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, "VALIDATION_FAILED", f"no offline query job with id {job_id[:200]!r}")
        return job

    def _observe(self, job: Job, now: float) -> str:
        """The job's status now; computes its result the first time it is seen successful."""
        status = job.status(now)
        if status == COMPLETED and job.result is None:
            job.result = compute(job, self._store, self._rows_per_file)
        return status

    def _errors(self, job: Job, status: str) -> list[dict[str, Any]] | None:
        if status == FAILED:
            return [dict(error) for error in job.errors]
        if status == CANCELLED:
            return [chalk_error("CANCELLED", f"the offline query job {job.job_id} was cancelled")]
        return None

    def _report(self, job: Job, now: float) -> dict[str, Any]:
        status = self._observe(job, now)
        progress = job.progress(status, now)
        errors = self._errors(job, status)
        return {
            "status": status,
            "progress": progress,
            "num_rows": job.rows_so_far(status, progress),
            "error": errors[0] if errors else None,
        }

    def _dataset(self, jobs: list[Job], now: float) -> dict[str, Any]:
        """The ``DatasetResponse`` of `jobs` (revisions of one dataset, oldest first): the dataset's
        fields are the newest revision's."""
        revisions = [self._revision(job, now) for job in jobs]
        newest = jobs[-1]
        return {
            "is_finished": self._observe(newest, now) in FINISHED,
            "version": newest.version,
            "environment_id": newest.environment_id,
            "dataset_id": newest.dataset_id,
            "dataset_name": newest.dataset_name,
            "revisions": revisions,
            "errors": revisions[-1]["errors"],
        }

    def _revision(self, job: Job, now: float) -> dict[str, Any]:
        status = self._observe(job, now)
        progress = job.progress(status, now)
        errors = self._errors(job, status)
        # A job cancelled before any time passed never started.
        started = job.cancelled_at > job.created if job.cancelled_at is not None else status != INIT
        terminated: float | None = None
        if status in (COMPLETED, FAILED):
            terminated = job.created + job.duration
        elif job.cancelled_at is not None:
            terminated = job.cancelled_at
        lower_bound, upper_bound = job.observed_at_bounds
        return {
            "revision_id": job.job_id,
            "status": REVISION_STATUS[status],
            "outputs": list(job.requested()),
            "created_at": rfc3339(job.created),
            "started_at": rfc3339(job.created) if started else None,
            "terminated_at": rfc3339(terminated) if terminated is not None else None,
            "num_rows": job.rows_so_far(status, progress),
            "output_uris": f"{self._base_url}{STORAGE_PREFIX}/{job.job_id}/",
            "output_version": OUTPUT_VERSION,
            "environment_id": job.environment_id,
            "creator_id": job.creator_id,
            "dataset_name": job.dataset_name,
            "dataset_id": job.dataset_id,
            "filters": {
                "sample_filters": {
                    "lower_bound": lower_bound,
                    "upper_bound": upper_bound,
                    "max_samples": job.max_samples,
                },
                "max_cache_age_secs": None,
            },
            "num_partitions": len(job.result.files) if job.result is not None else 0,
            "branch": job.branch,
            "query_has_errors": status == FAILED,
            "dashboard_url": None,
            "errors": errors,
        }

    def _sign(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _urls(self, job: Job, result: Result, now: float) -> list[str]:
        expires = math.ceil(now + self._url_lifetime)
        urls = []
        for index in range(len(result.files)):
            path = f"{STORAGE_PREFIX}/{job.job_id}/{file_name(index)}"
            query = urllib.parse.urlencode({"expires": expires, "signature": self._sign(path, expires)})
            urls.append(f"{self._base_url}{path}?{query}")
        return urls


def _storage_error(status: int, code: str, message: str) -> Response:
    """An answer as a storage bucket gives it: a short XML body, not the Chalk error body."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>\n"
    ).encode()
    headers = [(b"content-type", b"application/xml"), (b"content-length", str(len(body)).encode())]
    return Response(status, headers, body)
