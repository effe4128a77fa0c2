"""The offline query calls: one builder (arguments to a ``Call``) and one parser (answer to result) each.

- Submit (``POST /v4/offline_query``): :func:`submit_call`, answered by :func:`parse_dataset`. A
  repeat would start a second job, so only a connection that never opened is retried.
- Status (``POST /v4/offline_query/status``): :func:`status_call` and :func:`parse_status`, the
  poll a wait repeats and the source of the result's signed URLs. A read, so safe to retry.
- Progress (``GET /v4/offline_query/{id}/status``): :func:`progress_call` and
  :func:`parse_progress`, an :class:`OfflineQueryStatus`.
- Cancel (``POST /v4/offline_query/{id}/cancel``): :func:`cancel_call`, answered like progress;
  repeating it changes nothing, so it is retried like a read.
- Revision (``GET /v2/offline_query/{id}``): :func:`revision_call`, re-attaching to a job by id,
  answered like a submission.

Each builder raises :class:`ChalkInputError` for a bad argument before anything is sent; so does
:func:`check_wait_timeout` for a wait's ``timeout`` (checked before a waiting submission is sent).

The result types are here too: :class:`OfflineQueryStatus` (public), and the facts of a job
(``_Submitted``), one status answer (``_JobState``) and where a job's calls go (``_Where``). How a
wait or a download strings these calls together is in ``chalk_client._api.offline_flows``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import attrs

from chalk_client._api.arguments import (
    _bool,
    _header_string,
    _string,
    _strings,
    _time,
)
from chalk_client._api.calls import Call, _answer_errors, _chalk_error, generated_call
from chalk_client._api.offline_input import offline_input
from chalk_client._core.answers import Answer, invalid_response, json_object, model_from
from chalk_client._core.errors import ChalkInputError, ChalkResultError
from chalk_client._core.retry import Idempotency

if TYPE_CHECKING:
    from chalk_client._core.server_errors import ChalkServerErrorInfo

__all__ = [
    "OfflineQueryStatus",
    "ProgressCallback",
    "cancel_call",
    "check_wait_timeout",
    "parse_dataset",
    "parse_progress",
    "parse_status",
    "progress_call",
    "revision_call",
    "status_call",
    "submit_call",
]


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
    error: ChalkServerErrorInfo | None = attrs.field(default=None, eq=False)

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
    errors: tuple[ChalkServerErrorInfo, ...]
    columns: tuple[str, ...]


class _Where(NamedTuple):
    """Where a job's follow-up calls go: the environment and branch it was submitted on."""

    environment: str | None
    branch: str | None


_NOWHERE: Final = _Where(None, None)


def job_where(environment: str | None, branch: str | None, default_branch: str | None) -> _Where:
    """Where a job's calls go: the given environment and branch, else the client's branch."""
    return _Where(
        environment=_header_string(environment, "environment"),
        branch=_header_string(branch, "branch") or default_branch,
    )


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
    where: _Where = _NOWHERE,
) -> Call:
    """The submit request, or :class:`ChalkInputError` naming the bad argument."""
    environment, branch = where
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
    from chalk_openapi.api.offline import submit_offline_query
    from chalk_openapi.models.offline_query_request import OfflineQueryRequest

    return generated_call(
        submit_offline_query,
        OfflineQueryRequest,
        body,
        body_what="input",
        # A repeat would start a second job: only a connection that never opened is retried.
        idempotency=Idempotency.UNSAFE,
        what="the offline query submission",
        environment=environment,
        branch=branch,
    )


def status_call(job_id: str, where: _Where) -> Call:
    """The status poll (a read, so safe to retry although it is a POST)."""
    from chalk_openapi.api.offline import get_offline_query_status
    from chalk_openapi.models.offline_query_status_request import OfflineQueryStatusRequest

    return generated_call(
        get_offline_query_status,
        OfflineQueryStatusRequest,
        {"job_id": job_id},
        idempotency=Idempotency.SAFE,
        what="the offline query status",
        environment=where.environment,
        branch=where.branch,
    )


def progress_call(job_id: str, where: _Where) -> Call:
    """The progress report request."""
    from chalk_openapi.api.offline import get_offline_query_progress

    return _job_call(get_offline_query_progress, "the offline query progress", where, job_id=_job_id(job_id))


def cancel_call(job_id: str, where: _Where) -> Call:
    """The cancel request (repeating it changes nothing, so it is retried like a read)."""
    from chalk_openapi.api.offline import cancel_offline_query

    return _job_call(cancel_offline_query, "the offline query cancel", where, job_id=_job_id(job_id))


def revision_call(job_id: str, where: _Where) -> Call:
    """The dataset revision request (re-attaching to a job by id)."""
    from chalk_openapi.api.offline import get_dataset_revision

    return _job_call(get_dataset_revision, "the offline query lookup", where, revision_id=_job_id(job_id))


def dataset_call(
    *,
    name: str | None = None,
    dataset_id: str | None = None,
    revision_id: str | None = None,
    job_id: str | None = None,
    environment: str | None = None,
) -> tuple[Call, str | None]:
    """The lookup of a dataset by exactly one of its name, its id, a revision id or a job id (the
    same thing), and the revision to take from the answer (None: the newest).

    A name or a dataset id is ``GET /v3/offline_query/{name_or_id}``; a revision or job id is
    ``GET /v4/offline_query/{revision_id}``. Sent to the API server, without the client's branch.
    """
    given = {
        key: value
        for key, value in (
            ("name", name),
            ("dataset_id", dataset_id),
            ("revision_id", revision_id),
            ("job_id", job_id),
        )
        if value is not None
    }
    if len(given) != 1:
        shown = ", ".join(given) or "none"
        raise ChalkInputError(f"give exactly one of name, dataset_id, revision_id and job_id (got {shown})")
    ((key, value),) = given.items()
    text = _string(value, key)
    environment = _header_string(environment, "environment")
    from chalk_openapi.api.offline import get_dataset, get_dataset_of_revision

    endpoint: Any
    if key in ("name", "dataset_id"):
        endpoint, params, revision = get_dataset, {"dataset_name_or_id": text}, None
    else:
        endpoint, params, revision = get_dataset_of_revision, {"revision_id": text}, text
    call = generated_call(
        endpoint,
        path_params=params,
        idempotency=Idempotency.SAFE,
        what=f"the dataset lookup by {key.replace('_', ' ')}",
        environment=environment,
        branchless=True,
    )
    return call, revision


def check_wait_timeout(timeout: object) -> None:
    """:class:`ChalkInputError` unless `timeout` is None or a number of seconds >= 0."""
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0
    ):
        raise ChalkInputError(f"timeout must be a number of seconds >= 0 or None, got {timeout!r}")


def _job_call(endpoint: Any, what: str, where: _Where, **params: str) -> Call:  # noqa: ANN401 - a module
    return generated_call(
        endpoint,
        path_params=params,
        idempotency=Idempotency.SAFE,
        what=what,
        environment=where.environment,
        branch=where.branch,
    )


def _job_id(job_id: str) -> str:
    return _string(job_id, "job_id")


# ---------------------------------------------------------------------------------------------------
# Answers


def parse_dataset(
    call: Call, response: Answer, secrets: Iterable[str | None], *, revision_id: str | None = None
) -> _Submitted:
    """The job in a submit or dataset answer (the generated ``DatasetResponse``): the revision
    `revision_id`, else the newest (the last); errors reported at submission raise."""
    from chalk_openapi.models.dataset_response import DatasetResponse

    payload = json_object(response, secrets)
    revisions = payload.get("revisions")
    errors = _answer_errors(payload, response, secrets)
    if errors and not (isinstance(revisions, list) and revisions):
        # Refused before any job started. With a job, its errors come with its status (wait()).
        raise ChalkResultError(call.what, errors, trace=response.headers.get("x-chalk-trace-id") or None)
    if not isinstance(revisions, list) or not revisions:
        raise invalid_response(response, "the field 'revisions' is missing, empty or not a list")
    if not all(isinstance(item, Mapping) and _text(item.get("revision_id")) for item in revisions):
        raise invalid_response(response, "a revision has no string 'revision_id'")
    position = len(revisions) - 1
    if revision_id is not None:
        matching = [i for i, item in enumerate(revisions) if item.get("revision_id") == revision_id]
        if not matching:
            raise invalid_response(response, f"the dataset has no revision {revision_id!r}")
        position = matching[-1]
    parsed = model_from(DatasetResponse, payload, response)
    revision = parsed.revisions[position]
    code = revision.status
    status = (
        _REVISION_STATUSES.get(code, str(code))
        if isinstance(code, int) and not isinstance(code, bool)
        else str(getattr(code, "value", code)).lower()
    )
    version = parsed.version
    return _Submitted(
        job_id=revision.revision_id,
        dataset_name=_text(parsed.dataset_name),
        dataset_id=_text(parsed.dataset_id),
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        status=status,
    )


def parse_status(call: Call, response: Answer, secrets: Iterable[str | None]) -> _JobState:
    """One answer of the status poll (the generated ``OfflineQueryStatusResponse``)."""
    from chalk_openapi.models.offline_query_status_response import OfflineQueryStatusResponse

    payload = json_object(response, secrets)
    if not isinstance(payload.get("is_finished"), bool):
        raise invalid_response(response, "the field 'is_finished' is missing or not a boolean")
    parsed = model_from(OfflineQueryStatusResponse, payload, response)
    return _JobState(
        finished=parsed.is_finished,
        urls=_string_list(_given(parsed.urls), response, "urls"),
        errors=tuple(_answer_errors(payload, response, secrets)),
        columns=_string_list(_given(parsed.columns), response, "columns"),
    )


def parse_progress(call: Call, response: Answer, secrets: Iterable[str | None]) -> OfflineQueryStatus:
    """The progress report (the generated ``JobProgressResponse``)."""
    from chalk_openapi.models.job_progress_response import JobProgressResponse

    payload = json_object(response, secrets)
    raw_report = payload.get("report")
    if not isinstance(raw_report, Mapping) or not isinstance(raw_report.get("status"), str):
        raise invalid_response(response, "the field 'report' is missing or has no string 'status'")
    report = model_from(JobProgressResponse, payload, response).report
    raw_status = str(getattr(report.status, "value", report.status))
    fraction = _given(report.progress)
    rows = _given(report.num_rows)
    raw_error = raw_report.get("error")
    return OfflineQueryStatus(
        status=_REPORT_STATUSES.get(raw_status, raw_status.lower()),
        fraction=min(max(float(fraction), 0.0), 1.0)
        if isinstance(fraction, int | float) and not isinstance(fraction, bool) and math.isfinite(fraction)
        else None,
        rows=rows if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0 else None,
        error=None if raw_error is None else _chalk_error(raw_error, response, "report.error", secrets),
    )


def _given(value: object) -> object:
    """`value`, or None for a field the generated model marks as absent (``Unset``)."""
    from chalk_openapi.types import Unset

    return None if isinstance(value, Unset) else value


def _string_list(raw: object, response: Answer, field: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise invalid_response(response, f"the field {field!r} is not a list of strings")
    return tuple(raw)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
