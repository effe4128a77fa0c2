"""Offline query jobs: their state and progress, derived from the server clock, and their records.

Nothing runs in the background: a job's status (``INIT``, ``COMPUTE_STARTED``, ``COMPLETED``,
``FAILED``, ``CANCELLED``) follows from when it was submitted, its duration, its errors and whether
it was cancelled (the table: :mod:`chalk_client.testing._offline`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple

from chalk_client.testing._data import SEEDED_USER_IDS
from chalk_client.testing._offline._query import Query, job_errors

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "FAILED",
    "FINISHED",
    "INIT",
    "REVISION_STATUS",
    "RUNNING",
    "Job",
    "OfflineJobRecord",
    "Result",
]

# Report statuses (JobStatus) and the dataset revision status of each.
INIT: Final = "INIT"
RUNNING: Final = "COMPUTE_STARTED"
COMPLETED: Final = "COMPLETED"
FAILED: Final = "FAILED"
CANCELLED: Final = "CANCELLED"
REVISION_STATUS: Final[Mapping[str, int]] = {
    INIT: 2,  # submitted
    RUNNING: 3,  # running
    FAILED: 4,  # error
    CANCELLED: 6,  # cancelled
    COMPLETED: 7,  # successful
}
FINISHED: Final = frozenset({COMPLETED, FAILED, CANCELLED})


@dataclass(frozen=True, slots=True)
class OfflineJobRecord:
    """An offline query job as the server sees it now.

    Attributes:
        job_id: The job id (the revision id): a UUID (version 4), as Chalk's are.
        dataset_id: Its dataset's id, a UUID (version 4).
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


class Result(NamedTuple):
    """A successful job's result: its columns, its row count and its parquet files."""

    columns: tuple[str, ...]
    rows: int
    files: tuple[bytes, ...]


class Job:
    """A submitted job: what it asks for, and what happened to it (under the service's lock)."""

    __slots__ = (
        "branch",
        "cancelled_at",
        "created",
        "creator_id",
        "dataset_id",
        "dataset_name",
        "duration",
        "environment_id",
        "errors",
        "input",
        "job_id",
        "max_samples",
        "observed_at_bounds",
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
        query: Query,
        branch: str | None,
        created: float,
        duration: float,
        creator_id: str = "",
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
        self.observed_at_bounds = query.observed_at_bounds
        self.creator_id = creator_id
        self.branch = branch
        self.created = created
        self.duration = duration
        self.errors = job_errors(query)
        planned = query.input.rows if query.input is not None else len(SEEDED_USER_IDS)
        self.planned_rows = planned if query.max_samples is None else min(planned, query.max_samples)
        self.cancelled_at: float | None = None
        self.result: Result | None = None

    def status(self, now: float) -> str:
        if self.cancelled_at is not None:
            return CANCELLED
        elapsed = now - self.created
        if elapsed >= self.duration:
            return FAILED if self.errors else COMPLETED
        return RUNNING if elapsed > 0 else INIT

    def progress(self, status: str, now: float) -> float:
        if status in (COMPLETED, FAILED):
            return 1.0
        if self.duration <= 0:  # only when the clock went back before the submission
            return 0.0
        until = self.cancelled_at if self.cancelled_at is not None else now
        return min(1.0, max(0.0, (until - self.created) / self.duration))

    def rows_so_far(self, status: str, progress: float) -> int | None:
        if status == COMPLETED:
            return self.result.rows if self.result is not None else None
        if status == FAILED:
            return None
        return math.floor(progress * self.planned_rows)

    def requested(self) -> tuple[str, ...]:
        """``output`` then ``required_output``, each feature once."""
        return tuple(dict.fromkeys((*self.outputs, *self.required_outputs)))
