"""Offline queries on both clients, against a scripted fake API: encoding, polling, progress, downloads."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chalk_client import (
    ChalkDownloadError,
    ChalkInputError,
    ChalkMissingDependencyError,
    ChalkOfflineQueryError,
    ChalkOfflineQueryTimeoutError,
    ChalkResultError,
    ChalkServerError,
    OfflineQueryStatus,
)
from chalk_client._api.offline_flows import MAX_POLL_FAILURES, POLL_MAX_SECONDS
from tests.conftest import ClientUnderTest
from tests.fake_api import API_SERVER, FakeChalkAPI, answer

JOB = "job-7f3a"
SIGNATURE = "sig-must-not-leak-9c1e"


def parquet_bytes(rows: dict[str, list[Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table(rows), sink)
    return sink.getvalue()


class CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends `sent` bytes of `data`, then fails as if the connection were cut."""

    def __init__(self, data: bytes, sent: int) -> None:
        self.data = data
        self.sent = sent

    def __iter__(self) -> Iterator[bytes]:
        yield self.data[: self.sent]
        raise httpx.ReadError("connection cut mid-body")

    async def __aiter__(self) -> Any:
        yield self.data[: self.sent]
        raise httpx.ReadError("connection cut mid-body")


class FakeJob:
    """One offline job on the fake API: finished after `polls` status calls, files on signed URLs."""

    def __init__(self, api: FakeChalkAPI, *, polls: int = 3, files: list[bytes] | None = None) -> None:
        self.api = api
        self.polls_needed = polls
        self.polls = 0
        self.files = files if files is not None else [b"PAR1-first-file", b"PAR1-second-file"]
        self.errors: list[dict[str, Any]] = []
        self.cancelled = False
        self.url_generation = 0
        # Per-file scripted storage answers, consumed one per request: "cut", "short", "403", a status.
        self.storage_script: dict[int, list[Any]] = {}
        self.storage_requests: list[httpx.Request] = []
        api.handlers["/v4/offline_query"] = self._api
        api.handlers["/v2/offline_query/"] = self._api
        api.public_handlers["/_storage/"] = self._storage

    def finished(self) -> bool:
        return self.cancelled or self.polls >= self.polls_needed

    def _api(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v4/offline_query":
            return answer(200, self._dataset(status=2))
        if path.startswith("/v2/offline_query/"):
            if path.rsplit("/", 1)[1] != JOB:
                return answer(404, {"detail": "no such job"})
            return answer(200, self._dataset(status=7 if self.finished() else 3))
        if path == "/v4/offline_query/status":
            assert json.loads(request.content) == {"job_id": JOB}
            self.polls += 1
            if not self.finished():
                return answer(200, {"is_finished": False, "version": 1})
            errors = self.errors or (
                [{"code": "CANCELLED", "message": "cancelled by the user"}] if self.cancelled else []
            )
            self.url_generation += 1
            urls = [
                f"{API_SERVER}/_storage/{JOB}/part-{i}.parquet?gen={self.url_generation}&sig={SIGNATURE}"
                for i in range(len(self.files))
            ]
            return answer(
                200,
                {
                    "is_finished": True,
                    "version": 1,
                    "urls": [] if errors else urls,
                    "errors": errors,
                    "columns": ["user.id"],
                },
            )
        if path == f"/v4/offline_query/{JOB}/status":
            return answer(200, {"report": self._report()})
        if path == f"/v4/offline_query/{JOB}/cancel":
            self.cancelled = not self.finished() or self.cancelled
            return answer(200, {"report": self._report()})
        return answer(404, {"detail": "no such path"})

    def _report(self) -> dict[str, Any]:
        if self.cancelled:
            return {"status": "CANCELLED", "progress": None}
        if self.errors and self.finished():
            return {"status": "FAILED", "error": self.errors[0]}
        if self.finished():
            return {"status": "COMPLETED", "progress": 1.0, "num_rows": 1000}
        if self.polls == 0:
            return {"status": "INIT", "progress": 0.0, "num_rows": 0}
        fraction = self.polls / self.polls_needed
        return {"status": "COMPUTE_STARTED", "progress": fraction, "num_rows": int(fraction * 1000)}

    def _dataset(self, status: int) -> dict[str, Any]:
        return {
            "is_finished": False,
            "version": 1,
            "dataset_id": "ds-1",
            "dataset_name": "training",
            "environment_id": "env-1",
            "revisions": [{"revision_id": JOB, "status": status, "outputs": ["user.credit_score"]}],
            "errors": None,
        }

    def _storage(self, request: httpx.Request) -> httpx.Response:
        self.storage_requests.append(request)
        index = int(request.url.path.rsplit("-", 1)[1].split(".")[0])
        data = self.files[index]
        script = self.storage_script.get(index)
        step = script.pop(0) if script else None
        headers = {"content-length": str(len(data)), "content-type": "application/octet-stream"}
        if step == "cut":
            return httpx.Response(200, headers=headers, stream=CutStream(data, len(data) // 2))
        if step == "short":
            return httpx.Response(200, headers=headers, content=data[: len(data) // 2])
        if step == "403":
            return httpx.Response(403, text="<Error>Request has expired</Error>")
        if isinstance(step, int):
            return httpx.Response(step, text="storage unavailable")
        return httpx.Response(200, headers=headers, content=data)


@pytest.fixture
def job(api: FakeChalkAPI) -> FakeJob:
    return FakeJob(api)


def submitted_body(api: FakeChalkAPI) -> dict[str, Any]:
    [request] = [r for r in api.requests if r.url.path == "/v4/offline_query"]
    body: dict[str, Any] = json.loads(request.content)
    return body


def offline_requests(api: FakeChalkAPI) -> list[httpx.Request]:
    return [r for r in api.requests if "offline_query" in r.url.path]


# -- submit: encoding and validation --------------------------------------------------------------


def test_submit_sends_column_major_input_and_every_option(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob
) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    query = client(
        "offline_query",
        {"user.id": [1, 2, 3], "__ts__": [when, when, when + timedelta(hours=1)]},
        ["user.credit_score", "user.name"],
        required_output=["user.credit_score"],
        dataset_name="training",
        max_samples=2,
        recompute_features=True,
        lower_bound=when - timedelta(days=1),
        upper_bound="2026-02-01T00:00:00+00:00",
        tags=["nightly"],
        correlation_id="corr-1",
        branch="feature-x",
    )
    assert query.job_id == JOB
    assert query.dataset_name == "training"
    assert query.version == 1
    assert submitted_body(api) == {
        "output": ["user.credit_score", "user.name"],
        "required_output": ["user.credit_score"],
        "destination_format": "PARQUET",
        "input": {
            "columns": ["user.id", "__ts__"],
            "values": [
                [1, 2, 3],
                ["2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05+00:00", "2026-01-02T04:04:05+00:00"],
            ],
        },
        "dataset_name": "training",
        "branch": "feature-x",
        "max_samples": 2,
        "recompute_features": True,
        "observed_at_lower_bound": "2026-01-01T03:04:05+00:00",
        "observed_at_upper_bound": "2026-02-01T00:00:00+00:00",
        "tags": ["nightly"],
        "correlation_id": "corr-1",
    }
    submit = next(r for r in api.requests if r.url.path == "/v4/offline_query")
    assert str(submit.url).startswith(API_SERVER)  # offline queries go to the API server
    assert submit.headers["x-chalk-branch-id"] == "feature-x"
    client.run(query.wait())  # the job's later calls go the same way
    polls = [r for r in api.requests if r.url.path == "/v4/offline_query/status"]
    assert polls
    assert all(r.headers["x-chalk-branch-id"] == "feature-x" for r in polls)


def test_submit_without_input_sends_no_input(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob
) -> None:
    client("offline_query", output=["user.name"])
    assert submitted_body(api) == {
        "output": ["user.name"],
        "required_output": [],
        "destination_format": "PARQUET",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input": {"user.id": [1, 2]}, "output": []}, "output is empty"),
        ({"input": {"user.id": [1, 2], "user.age": [1]}, "output": ["user.name"]}, "different lengths"),
        ({"input": {"user.id": []}, "output": ["user.name"]}, "no rows"),
        ({"input": {}, "output": ["user.name"]}, "no columns"),
        ({"input": {"__ts__": [datetime(2026, 1, 1)]}, "output": ["user.name"]}, "naive datetime"),
        ({"input": {1: [1]}, "output": ["user.name"]}, "feature names"),
        ({"input": [1, 2], "output": ["user.name"]}, "mapping of feature name"),
        ({"input": {"user.id": [float("nan")]}, "output": ["user.name"]}, "cannot be sent as JSON"),
        ({"output": ["user.name"], "max_samples": 0}, "max_samples"),
        ({"output": ["user.name"], "max_samples": True}, "max_samples"),
        ({"output": "user.name"}, "list of strings"),
        (
            {
                "output": ["user.name"],
                "lower_bound": "2026-02-01T00:00:00Z",
                "upper_bound": "2026-01-01T00:00:00Z",
            },
            "lower_bound must be before upper_bound",
        ),
        ({"output": ["user.name"], "lower_bound": "yesterday"}, "ISO 8601"),
        ({"output": ["user.name"], "wait": True, "timeout": -1}, "timeout"),
        ({"output": ["user.name"], "timeout": "soon"}, "timeout"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ChalkInputError, match=message):
        client("offline_query", **kwargs)
    assert offline_requests(api) == []


def test_pandas_polars_and_pyarrow_tables_are_sent_column_major_with_nulls(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob
) -> None:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    when = datetime(2026, 1, 2, tzinfo=UTC)
    expected = {
        "columns": ["user.id", "user.score", "__ts__"],
        "values": [[1, 2], [0.5, None], ["2026-01-02T00:00:00+00:00", "2026-01-02T00:00:00+00:00"]],
    }
    tables = [
        pd.DataFrame({"user.id": [1, 2], "user.score": [0.5, float("nan")], "__ts__": [when, when]}),
        pl.DataFrame({"user.id": [1, 2], "user.score": [0.5, None], "__ts__": [when, when]}),
        pa.table(
            {
                "user.id": [1, 2],
                "user.score": [0.5, None],
                "__ts__": pa.array([when, when], pa.timestamp("us", "UTC")),
            }
        ),
    ]
    for table in tables:
        api.requests.clear()
        client("offline_query", table, ["user.name"])
        body = submitted_body(api)["input"]
        body["values"][2] = [datetime.fromisoformat(v).isoformat() for v in body["values"][2]]
        assert body == expected, type(table)


def test_a_naive_timestamp_column_in_a_table_is_refused(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    import pandas as pd

    with pytest.raises(ChalkInputError, match="naive datetime"):
        client("offline_query", pd.DataFrame({"__ts__": [datetime(2026, 1, 1)]}), ["user.name"])
    assert offline_requests(api) == []


def test_errors_in_the_submit_answer_raise(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    api.queue(
        "/v4/offline_query",
        answer(
            200,
            {"is_finished": True, "revisions": [], "errors": [{"code": "INVALID_QUERY", "message": "no"}]},
        ),
    )
    with pytest.raises(ChalkResultError, match="INVALID_QUERY: no"):
        client("offline_query", output=["user.name"])


# -- waiting --------------------------------------------------------------------------------------


def test_wait_polls_with_growing_pauses_then_returns_the_handle(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    job = FakeJob(api, polls=8)
    query = client("offline_query", output=["user.name"])
    assert not query.finished
    waited = client.run(query.wait())
    assert waited is query
    assert query.finished
    assert job.polls == 8
    assert client.sleeps == [0.5, 1.0, 2.0, 4.0, POLL_MAX_SECONDS, POLL_MAX_SECONDS, POLL_MAX_SECONDS]


def test_wait_true_waits_before_returning(client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob) -> None:
    query = client("offline_query", output=["user.name"], wait=True)
    assert query.finished
    assert job.polls == 3
    assert client.run(query.urls()) == [
        f"{API_SERVER}/_storage/{JOB}/part-{i}.parquet?gen=1&sig={SIGNATURE}" for i in range(2)
    ]


def test_a_failed_job_raises_with_its_id_and_errors(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob
) -> None:
    job.errors = [
        {
            "code": "RESOLVER_NOT_FOUND",
            "category": "REQUEST",
            "message": "no such feature",
            "feature": "user.nope",
        }
    ]
    query = client("offline_query", output=["user.nope"])
    with pytest.raises(ChalkOfflineQueryError) as caught:
        client.run(query.wait())
    error = caught.value
    assert not isinstance(error, ChalkOfflineQueryTimeoutError)
    assert (error.job_id, error.status) == (JOB, "failed")
    assert [str(e.code) for e in error.errors] == ["RESOLVER_NOT_FOUND"]
    assert str(error) == f"offline query job {JOB} failed: RESOLVER_NOT_FOUND (user.nope): no such feature"


def test_cancel_then_wait_raises_cancelled(client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob) -> None:
    query = client("offline_query", output=["user.name"])
    report = client.run(query.cancel())
    assert report == OfflineQueryStatus("cancelled")
    assert report.finished
    with pytest.raises(ChalkOfflineQueryError) as caught:
        client.run(query.wait())
    assert caught.value.status == "cancelled"
    assert "CANCELLED" in str(caught.value)


def test_timeout_leaves_the_job_running(
    make_client: Callable[..., ClientUnderTest], api: FakeChalkAPI
) -> None:
    job = FakeJob(api, polls=100)
    both = make_client(fake_sleep=api.clock.advance)
    query = both("offline_query", output=["user.name"])
    with pytest.raises(ChalkOfflineQueryTimeoutError) as caught:
        both.run(query.wait(timeout=6))
    error = caught.value
    assert (error.job_id, error.timeout, error.cancelled, error.status) == (JOB, 6.0, False, "timeout")
    assert "still running" in str(error)
    assert sum(both.sleeps) == pytest.approx(6.0)
    assert both.sleeps == [0.5, 1.0, 2.0, 2.5]  # the last pause is cut to the deadline
    assert not job.cancelled
    assert not any(r.url.path.endswith("/cancel") for r in api.requests)


def test_timeout_with_cancel_on_timeout_cancels(
    make_client: Callable[..., ClientUnderTest], api: FakeChalkAPI
) -> None:
    job = FakeJob(api, polls=100)
    both = make_client(fake_sleep=api.clock.advance)
    with pytest.raises(ChalkOfflineQueryTimeoutError) as caught:
        both("offline_query", output=["user.name"], wait=True, timeout=1, cancel_on_timeout=True)
    assert caught.value.cancelled
    assert "it was cancelled" in str(caught.value)
    assert job.cancelled


def test_5xx_and_connection_errors_while_polling_are_retried(
    make_client: Callable[..., ClientUnderTest], api: FakeChalkAPI, job: FakeJob
) -> None:
    both = make_client(max_retries=1)
    query = both("offline_query", output=["user.name"])
    # Two failed polls in a row (each: the attempt and its one retry), then the job goes on.
    api.queue(
        "/v4/offline_query/status",
        answer(503),
        httpx.ConnectError("refused"),
        answer(500),
        answer(502),
    )
    both.run(query.wait())
    assert query.finished
    assert job.polls == 3


def test_polling_gives_up_after_many_failures_in_a_row(
    make_client: Callable[..., ClientUnderTest], api: FakeChalkAPI, job: FakeJob
) -> None:
    both = make_client(max_retries=0)
    query = both("offline_query", output=["user.name"])
    api.queue("/v4/offline_query/status", *[answer(500) for _ in range(MAX_POLL_FAILURES)])
    with pytest.raises(ChalkServerError):
        both.run(query.wait())
    polls = [r for r in api.requests if r.url.path == "/v4/offline_query/status"]
    assert len(polls) == MAX_POLL_FAILURES


def test_a_4xx_while_polling_is_not_retried(client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob) -> None:
    query = client("offline_query", output=["user.name"])
    api.queue("/v4/offline_query/status", answer(404, {"detail": "no such job"}))
    with pytest.raises(Exception, match="404") as caught:
        client.run(query.wait())
    assert type(caught.value).__name__ == "ChalkNotFoundError"


# -- progress -------------------------------------------------------------------------------------


def test_on_progress_sees_each_change_and_the_end(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    FakeJob(api, polls=4)
    seen: list[OfflineQueryStatus] = []
    client("offline_query", output=["user.name"], wait=True, on_progress=seen.append)
    assert [(s.status, s.fraction, s.rows) for s in seen] == [
        ("running", 0.25, 250),
        ("running", 0.5, 500),
        ("running", 0.75, 750),
        ("successful", 1.0, 1000),
    ]
    assert [s.describe() for s in seen][-1] == "successful 100% (1000 rows)"


def test_status_reports_progress(client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob) -> None:
    query = client("offline_query", output=["user.name"])
    assert client.run(query.status()) == OfflineQueryStatus("submitted", 0.0, 0)


def test_async_progress_callback_may_be_a_coroutine(
    api: FakeChalkAPI, client_factory: Callable[..., ClientUnderTest]
) -> None:
    import asyncio

    FakeJob(api, polls=2)
    seen: list[str] = []

    async def on_progress(status: OfflineQueryStatus) -> None:
        await asyncio.sleep(0)
        seen.append(status.status)

    client = client_factory("async", api=api, fake_sleep=True)
    client("offline_query", output=["user.name"], wait=True, on_progress=on_progress)
    assert seen == ["running", "successful"]


def test_get_offline_query_reattaches_by_id(client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob) -> None:
    query = client("get_offline_query", JOB)
    assert (query.job_id, query.dataset_name) == (JOB, "training")
    assert client.run(query.wait()).finished
    with pytest.raises(Exception, match="404"):
        client("get_offline_query", "job-unknown")


# -- downloads ------------------------------------------------------------------------------------


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_download_writes_every_file_and_sends_no_token(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob, tmp_path: Path
) -> None:
    query = client("offline_query", output=["user.name"])
    paths = client.run(query.download(tmp_path / "out"))
    assert [p.name for p in paths] == [f"{JOB}-00000.parquet", f"{JOB}-00001.parquet"]
    assert [p.read_bytes() for p in paths] == job.files
    assert files_in(tmp_path / "out") == [p.name for p in paths]  # nothing else: no temporary files
    assert job.storage_requests
    assert all("authorization" not in r.headers for r in job.storage_requests)


def test_a_cut_mid_file_is_retried_and_leaves_nothing_behind(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob, tmp_path: Path
) -> None:
    job.storage_script = {1: ["cut", "short"]}
    query = client("offline_query", output=["user.name"], wait=True)
    paths = client.run(query.download(tmp_path))
    assert [p.read_bytes() for p in paths] == job.files
    assert files_in(tmp_path) == [p.name for p in paths]
    assert len(client.sleeps) >= 2  # the two retries waited


def test_a_download_that_keeps_failing_leaves_no_file_at_all(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob, tmp_path: Path
) -> None:
    job.storage_script = {1: ["cut", "cut", "cut"]}
    query = client("offline_query", output=["user.name"], wait=True)
    with pytest.raises(ChalkDownloadError) as caught:
        client.run(query.download(tmp_path))
    error = caught.value
    assert error.attempts == 3
    assert error.status_code is None
    assert error.url == f"{API_SERVER}/_storage/{JOB}/part-1.parquet"
    assert "file 2 of 2" in str(error)
    assert "no partial file" in str(error)
    assert SIGNATURE not in str(error)
    assert files_in(tmp_path) == []  # the first file, complete, was removed too


def test_an_expired_url_is_refreshed_once(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob, tmp_path: Path
) -> None:
    job.storage_script = {0: ["403"]}
    query = client("offline_query", output=["user.name"], wait=True)
    paths = client.run(query.download(tmp_path))
    assert [p.read_bytes() for p in paths] == job.files
    # The first file's URL (generation 1) was refused; both files then came from fresh URLs.
    assert [r.url.params["gen"] for r in job.storage_requests] == ["1", "2", "2"]
    assert job.url_generation == 2


def test_a_storage_status_that_is_not_retryable_raises_at_once(
    client: ClientUnderTest, api: FakeChalkAPI, job: FakeJob, tmp_path: Path
) -> None:
    job.storage_script = {0: ["403", "403"]}
    query = client("offline_query", output=["user.name"], wait=True)
    with pytest.raises(ChalkDownloadError, match="answered 403") as caught:
        client.run(query.download(tmp_path))
    assert caught.value.status_code == 403
    assert files_in(tmp_path) == []


# -- tables ---------------------------------------------------------------------------------------


def test_tables_read_every_file(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    job = FakeJob(
        api,
        files=[
            parquet_bytes({"user.id": [1, 2], "user.name": ["Ada", "Alan"]}),
            parquet_bytes({"user.id": [3], "user.name": ["Grace"]}),
        ],
    )
    query = client("offline_query", output=["user.name"])
    table = client.run(query.to_arrow())
    assert table.to_pydict() == {"user.id": [1, 2, 3], "user.name": ["Ada", "Alan", "Grace"]}
    assert client.run(query.to_pandas())["user.name"].tolist() == ["Ada", "Alan", "Grace"]
    assert client.run(query.to_polars())["user.id"].to_list() == [1, 2, 3]
    assert job.polls == 3  # waited once; the handle remembers the finished state


@pytest.mark.parametrize(
    ("hidden", "method", "extra"),
    [
        ("pyarrow", "to_arrow", "arrow"),
        ("pyarrow", "to_pandas", "pandas"),
        ("pandas", "to_pandas", "pandas"),
        ("polars", "to_polars", "polars"),
    ],
)
def test_the_missing_extra_is_named(
    client: ClientUnderTest,
    api: FakeChalkAPI,
    job: FakeJob,
    monkeypatch: pytest.MonkeyPatch,
    hidden: str,
    method: str,
    extra: str,
) -> None:
    query = client("offline_query", output=["user.name"])
    monkeypatch.setitem(sys.modules, hidden, None)  # import now raises ImportError
    with pytest.raises(ChalkMissingDependencyError) as caught:
        client.run(getattr(query, method)())
    assert isinstance(caught.value, ImportError)
    assert f"pip install 'chalk-client[{extra}]'" in str(caught.value)
    assert hidden in str(caught.value)
    assert job.polls == 0  # refused before waiting or downloading


def test_progress_lines_read_right_at_the_start_and_for_one_row() -> None:
    from chalk_client import OfflineQueryStatus

    assert OfflineQueryStatus("running", 0.001, 1).describe() == "running 0.1% (1 row)"
    assert OfflineQueryStatus("running", 0.0, 0).describe() == "running 0% (0 rows)"
    assert OfflineQueryStatus("running", 0.5, 503).describe() == "running 50% (503 rows)"
    assert OfflineQueryStatus("successful", 1.0, None).describe() == "successful 100%"
