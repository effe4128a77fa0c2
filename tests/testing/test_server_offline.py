"""ChalkServer's offline queries over real HTTP: job states by the server clock, parquet results, signed URLs."""

from __future__ import annotations

import asyncio
import io
import urllib.parse
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from chalk_openapi.models import (
    ChalkError,
    DatasetResponse,
    DatasetRevision,
    JobProgressResponse,
    JobStatus,
    OfflineQueryStatusResponse,
)

from chalk_client.testing import FAILING_USER_ID, ChalkServer, OfflineJobRecord, seeded_user
from chalk_client.testing._auth import rfc3339
from chalk_client.testing._http import App, Request, Response, Router
from tests.conftest import ServerClock
from tests.testing.test_server_data import auth, error_of, token_body

SUBMIT_PATH = "/v4/offline_query"
STATUS_PATH = "/v4/offline_query/status"
ALL_FEATURES = ["user.id", "user.name", "user.age", "user.credit_score"]
DURATION = 10.0


# One server for the module: its clock only moves forward, and every test reads the ids it is given.
@pytest.fixture(scope="module")
def clock() -> ServerClock:
    return ServerClock()


@pytest.fixture(scope="module")
def module_server(clock: ServerClock) -> Iterator[ChalkServer]:
    # Tokens that outlive every clock move of the module.
    with ChalkServer(clock=clock, offline_duration=DURATION, token_lifetime=10**8) as running:
        yield running


@pytest.fixture
def server(module_server: ChalkServer) -> ChalkServer:
    module_server.offline_duration = DURATION
    module_server.offline_url_lifetime = 3600
    return module_server


@pytest.fixture(scope="module")
def http(module_server: ChalkServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=module_server.url) as client:
        yield client


@pytest.fixture(scope="module")
def bare() -> Iterator[httpx.Client]:
    """A client with no base URL and no Authorization header, as a download of a signed URL is."""
    with httpx.Client() as client:
        yield client


@pytest.fixture(scope="module")
def token(module_server: ChalkServer, http: httpx.Client) -> str:
    access_token: str = token_body(http, module_server)["access_token"]
    return access_token


def submit(http: httpx.Client, token: str, **body: Any) -> DatasetResponse:
    response = http.post(SUBMIT_PATH, json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    return DatasetResponse.from_dict(response.json())


def revision_of(dataset: DatasetResponse) -> DatasetRevision:
    (revision,) = dataset.revisions
    return revision


def submit_job(http: httpx.Client, token: str, **body: Any) -> str:
    return revision_of(submit(http, token, **body)).revision_id


def status(http: httpx.Client, token: str, job_id: str) -> OfflineQueryStatusResponse:
    response = http.post(STATUS_PATH, json={"job_id": job_id}, headers=auth(token))
    assert response.status_code == 200, response.text
    return OfflineQueryStatusResponse.from_dict(response.json())


def report(http: httpx.Client, token: str, job_id: str) -> dict[str, Any]:
    response = http.get(f"/v4/offline_query/{job_id}/status", headers=auth(token))
    assert response.status_code == 200, response.text
    JobProgressResponse.from_dict(response.json())  # the shape the spec gives
    body: dict[str, Any] = response.json()["report"]
    return body


def cancel(http: httpx.Client, token: str, job_id: str) -> dict[str, Any]:
    response = http.post(f"/v4/offline_query/{job_id}/cancel", headers=auth(token))
    assert response.status_code == 200, response.text
    JobProgressResponse.from_dict(response.json())
    body: dict[str, Any] = response.json()["report"]
    return body


def dataset(http: httpx.Client, token: str, job_id: str) -> DatasetResponse:
    response = http.get(f"/v2/offline_query/{job_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    return DatasetResponse.from_dict(response.json())


def record(server: ChalkServer, job_id: str) -> OfflineJobRecord:
    (found,) = [job for job in server.offline_jobs if job.job_id == job_id]
    return found


def finished_urls(http: httpx.Client, token: str, job_id: str) -> list[str]:
    answer = status(http, token, job_id)
    assert answer.is_finished is True
    assert answer.errors is None
    assert isinstance(answer.urls, list)
    return answer.urls


def read_table(http: httpx.Client, token: str, job_id: str) -> pa.Table:
    """Every file of a finished job, downloaded without a token and read as one table."""
    tables = []
    for url in finished_urls(http, token, job_id):
        response = http.get(url)  # an absolute URL, and no token
        assert response.status_code == 200, response.text
        tables.append(pq.read_table(io.BytesIO(response.content)))
    return pa.concat_tables(tables)


def run_now(server: ChalkServer, http: httpx.Client, token: str, **body: Any) -> pa.Table:
    server.offline_duration = 0
    return read_table(http, token, submit_job(http, token, **body))


# -- the life of a job ------------------------------------------------------------------------------


def test_a_job_is_submitted_then_runs_then_succeeds_by_the_server_clock(
    http: httpx.Client, server: ChalkServer, token: str, clock: ServerClock
) -> None:
    created = clock.now
    answer = submit(http, token, output=["user.id", "user.age"], tags=["t1"], dataset_name="life")
    assert answer.is_finished is False
    assert answer.environment_id == "env-dev-1"
    assert answer.dataset_name == "life"
    assert answer.version == 1
    revision = revision_of(answer)
    job_id = revision.revision_id
    assert revision.status == 2
    assert revision.outputs == ["user.id", "user.age"]
    assert revision.created_at == rfc3339(created)
    assert revision.started_at is None
    assert revision.terminated_at is None
    # The storage prefix of its files from the start (not signed URLs: those come from the status call).
    assert revision.output_uris == f"{server.url}/_storage/{job_id}/"
    assert (revision.output_version, revision.num_partitions) == (6, 0)
    assert revision.num_rows == 0
    assert report(http, token, job_id) == {"status": "INIT", "progress": 0.0, "num_rows": 0, "error": None}
    assert status(http, token, job_id).to_dict() == {
        "is_finished": False,
        "version": 6,  # the files' format, as chalkpy reads it
        "urls": None,
        "errors": None,
        "columns": None,
    }
    assert record(server, job_id).status == "INIT"

    clock.advance(2.5)
    assert report(http, token, job_id) == {
        "status": "COMPUTE_STARTED",
        "progress": 0.25,
        "num_rows": 250,
        "error": None,
    }
    running = revision_of(dataset(http, token, job_id))
    assert running.status == 3
    assert running.started_at == revision.created_at
    assert running.num_rows == 250
    clock.advance(5)
    progress = JobProgressResponse.from_dict({"report": report(http, token, job_id)}).report
    assert progress.status == JobStatus.COMPUTE_STARTED
    assert progress.progress == 0.75
    assert progress.num_rows == 750
    assert status(http, token, job_id).is_finished is False
    assert record(server, job_id).rows is None

    clock.advance(2.5)
    assert report(http, token, job_id) == {
        "status": "COMPLETED",
        "progress": 1.0,
        "num_rows": 1000,
        "error": None,
    }
    done = dataset(http, token, job_id)
    assert done.is_finished is True
    assert done.errors is None
    finished = revision_of(done)
    assert finished.status == 7
    assert finished.terminated_at == rfc3339(created + DURATION)
    assert finished.num_rows == 1000
    assert finished.output_uris == f"{server.url}/_storage/{job_id}/"
    assert finished.num_partitions == 2
    answer_status = status(http, token, job_id)
    assert answer_status.is_finished is True
    assert answer_status.columns == ["user.id", "user.age"]
    assert isinstance(answer_status.urls, list)
    assert len(answer_status.urls) == 2

    job = record(server, job_id)
    assert job == OfflineJobRecord(
        job_id=job_id,
        dataset_id=str(answer.dataset_id),
        dataset_name="life",
        version=1,
        environment_id="env-dev-1",
        outputs=("user.id", "user.age"),
        required_outputs=(),
        input_rows=None,
        max_samples=None,
        tags=("t1",),
        branch=None,
        created=created,
        status="COMPLETED",
        rows=1000,
        files=2,
    )
    clock.advance(3600)  # a finished job stays finished
    assert report(http, token, job_id)["status"] == "COMPLETED"


def test_with_no_duration_a_job_succeeds_at_once(http: httpx.Client, server: ChalkServer, token: str) -> None:
    server.offline_duration = 0
    answer = submit(http, token, output=["user.name"])
    assert answer.is_finished is True
    revision = revision_of(answer)
    assert revision.status == 7
    assert revision.num_rows == 1000
    assert revision.started_at == revision.created_at == revision.terminated_at
    assert revision.output_uris == f"{server.url}/_storage/{revision.revision_id}/"
    assert revision.num_partitions == 2


def test_the_duration_is_fixed_at_submission(
    http: httpx.Client, server: ChalkServer, token: str, clock: ServerClock
) -> None:
    job_id = submit_job(http, token, output=["user.id"])
    server.offline_duration = 0
    assert server.offline_duration == 0
    assert report(http, token, job_id)["status"] == "INIT"
    clock.advance(DURATION)
    assert report(http, token, job_id)["status"] == "COMPLETED"


# -- results ----------------------------------------------------------------------------------------


def test_a_1000_row_job_gives_two_parquet_files_of_the_seeded_values(
    http: httpx.Client, server: ChalkServer, token: str, bare: httpx.Client
) -> None:
    server.offline_duration = 0
    job_id = submit_job(http, token, output=ALL_FEATURES)
    urls = finished_urls(http, token, job_id)
    assert [urllib.parse.urlsplit(url).path for url in urls] == [
        f"/_storage/{job_id}/part-00000.parquet",
        f"/_storage/{job_id}/part-00001.parquet",
    ]
    assert all(url.startswith(server.url + "/_storage/") for url in urls)
    files = []
    for url in urls:
        response = bare.get(url)  # no token
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert int(response.headers["content-length"]) == len(response.content)
        files.append(pq.read_table(io.BytesIO(response.content)))
    assert [table.num_rows for table in files] == [500, 500]
    table = pa.concat_tables(files)
    assert table.schema.names == ALL_FEATURES
    assert [str(field.type) for field in table.schema] == ["int64", "string", "int64", "int64"]
    assert all(field.nullable for field in table.schema)
    rows = table.to_pylist()
    assert rows == [seeded_user(user_id) for user_id in range(1, 1001)]
    assert rows[FAILING_USER_ID - 1]["user.credit_score"] is None
    assert record(server, job_id).files == 2


def test_rows_missing_a_required_output_are_dropped(
    http: httpx.Client, server: ChalkServer, token: str
) -> None:
    table = run_now(
        server, http, token, output=["user.id", "user.name"], required_output=["user.credit_score"]
    )
    assert table.schema.names == ["user.id", "user.name", "user.credit_score"]
    ids = table.column("user.id").to_pylist()
    assert len(ids) == 999
    assert FAILING_USER_ID not in ids
    assert ids == sorted(ids)


def test_max_samples_keeps_the_first_rows(http: httpx.Client, server: ChalkServer, token: str) -> None:
    table = run_now(server, http, token, output=["user.id"], max_samples=3)
    assert table.to_pylist() == [{"user.id": 1}, {"user.id": 2}, {"user.id": 3}]
    # After the rows without a required feature are dropped.
    table = run_now(
        server,
        http,
        token,
        output=["user.id"],
        required_output=["user.credit_score"],
        input={"columns": ["user.id"], "values": [[13, 12, 13, 14, 15]]},
        max_samples=2,
    )
    assert table.column("user.id").to_pylist() == [12, 14]
    (job,) = server.offline_jobs[-1:]
    assert (job.max_samples, job.input_rows, job.rows, job.required_outputs) == (
        2,
        5,
        2,
        ("user.credit_score",),
    )


def test_an_input_gives_one_row_per_input_row_with_its_columns_first(
    http: httpx.Client, server: ChalkServer, token: str
) -> None:
    table = run_now(
        server,
        http,
        token,
        output=["user.credit_score", "user.id", "user.name"],
        input={
            "columns": ["__ts__", "user.id", "user.name"],
            "values": [
                ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", None, "2026-03-01T12:30:00.5Z"],
                [3, "2", 5000, 3],
                [None, "Given", "Nobody", None],
            ],
        },
    )
    assert table.schema.names == ["__ts__", "user.id", "user.name", "user.credit_score"]
    assert table.schema.field("__ts__").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("user.id").type == pa.int64()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert table.column("__ts__").to_pylist() == [
        start,
        start,
        None,
        datetime(2026, 3, 1, 12, 30, 0, 500_000, tzinfo=UTC),
    ]
    assert table.column("user.id").to_pylist() == [3, 2, 5000, 3]
    # The input's values stand, even null; features it does not give come from the graph.
    assert table.column("user.name").to_pylist() == [None, "Given", "Nobody", None]
    assert table.column("user.credit_score").to_pylist() == [411, 374, None, 411]


def test_files_hold_at_most_rows_per_file_rows_and_an_empty_result_has_one_file() -> None:
    with (
        ChalkServer(offline_duration=0, offline_rows_per_file=2) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        token = token_body(http, server)["access_token"]
        job_id = submit_job(
            http, token, output=["user.age"], input={"columns": ["user.id"], "values": [[1, 2, 3, 4, 5]]}
        )
        assert len(finished_urls(http, token, job_id)) == 3
        assert read_table(http, token, job_id).column("user.age").to_pylist() == [19, 20, 21, 22, 23]

        empty = submit_job(
            http,
            token,
            output=["user.name"],
            required_output=["user.credit_score"],
            input={"columns": ["user.id"], "values": [[FAILING_USER_ID]]},
        )
        assert len(finished_urls(http, token, empty)) == 1
        table = read_table(http, token, empty)
        assert table.num_rows == 0
        assert table.schema.names == ["user.id", "user.name", "user.credit_score"]
        assert (record(server, empty).rows, record(server, empty).files) == (0, 1)


def test_uploaded_values_override_seeded_ones() -> None:
    with ChalkServer(offline_duration=0) as server, httpx.Client(base_url=server.url) as http:
        token = token_body(http, server)["access_token"]
        response = http.post(
            "/v1/upload_features",
            json={
                "input": {
                    "user.id": [2, 5000],
                    "user.name": ["Uploaded Two", "Far Away"],
                    "user.age": [99, 40],
                }
            },
            headers=auth(token),
        )
        assert response.status_code == 200, response.text
        rows = read_table(
            http, token, submit_job(http, token, output=["user.id", "user.name", "user.age"])
        ).to_pylist()
        assert len(rows) == 1000  # uploaded ids outside the seeded range are not rows without an input
        assert rows[1] == {"user.id": 2, "user.name": "Uploaded Two", "user.age": 99}
        assert rows[2] == {"user.id": 3, "user.name": "Grace Hopper", "user.age": 21}
        with_input = submit_job(
            http,
            token,
            output=["user.name", "user.credit_score"],
            input={"columns": ["user.id"], "values": [[5000, 2]]},
        )
        assert read_table(http, token, with_input).to_pylist() == [
            {"user.id": 5000, "user.name": "Far Away", "user.credit_score": None},
            {"user.id": 2, "user.name": "Uploaded Two", "user.credit_score": 374},
        ]


# -- failures and cancels ---------------------------------------------------------------------------


def test_a_job_over_an_unknown_feature_fails_at_the_end_of_its_duration(
    http: httpx.Client, server: ChalkServer, token: str, clock: ServerClock
) -> None:
    answer = submit(http, token, output=["user.id", "user.shoe_size"], required_output=["user.hat"])
    assert answer.is_finished is False
    assert answer.errors is None
    job_id = revision_of(answer).revision_id
    clock.advance(DURATION / 2)
    assert report(http, token, job_id)["status"] == "COMPUTE_STARTED"
    assert status(http, token, job_id).is_finished is False
    clock.advance(DURATION / 2)

    finished = status(http, token, job_id)
    assert finished.is_finished is True
    assert finished.urls is None
    assert isinstance(finished.errors, list)
    assert [(str(e.code), str(e.category), e.feature) for e in finished.errors] == [
        ("RESOLVER_NOT_FOUND", "REQUEST", "user.shoe_size"),
        ("RESOLVER_NOT_FOUND", "REQUEST", "user.hat"),
    ]
    assert "user.shoe_size" in finished.errors[0].message
    progress = report(http, token, job_id)
    assert progress["status"] == "FAILED"
    assert progress["num_rows"] is None
    error = ChalkError.from_dict(progress["error"])
    assert (str(error.code), error.feature) == ("RESOLVER_NOT_FOUND", "user.shoe_size")
    failed = dataset(http, token, job_id)
    assert failed.is_finished is True
    assert isinstance(failed.errors, list)
    assert len(failed.errors) == 2
    assert revision_of(failed).status == 4
    assert revision_of(failed).num_partitions == 0
    assert revision_of(failed).query_has_errors is True
    job = record(server, job_id)
    assert (job.status, job.rows, job.files) == ("FAILED", None, 0)


@pytest.mark.parametrize(
    ("columns", "code", "feature"),
    [
        (["user.id", "user.nickname"], "RESOLVER_NOT_FOUND", "user.nickname"),
        (["user.name"], "INVALID_QUERY", None),
    ],
)
def test_an_input_with_an_unknown_column_or_without_user_id_fails(
    http: httpx.Client, server: ChalkServer, token: str, columns: list[str], code: str, feature: str | None
) -> None:
    server.offline_duration = 0
    values = [[1] if column == "user.id" else ["x"] for column in columns]
    job_id = submit_job(http, token, output=["user.age"], input={"columns": columns, "values": values})
    answer = status(http, token, job_id)
    assert answer.is_finished is True
    assert isinstance(answer.errors, list)
    (error,) = answer.errors
    named = error.feature if isinstance(error.feature, str) else None
    assert (str(error.code), str(error.category), named) == (code, "REQUEST", feature)
    assert revision_of(dataset(http, token, job_id)).status == 4


def test_a_cancelled_job_stops_where_it_was(
    http: httpx.Client, server: ChalkServer, token: str, clock: ServerClock
) -> None:
    job_id = submit_job(http, token, output=["user.id"])
    clock.advance(4)
    cancelled = cancel(http, token, job_id)
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["progress"] == 0.4
    assert cancelled["num_rows"] == 400
    assert ChalkError.from_dict(cancelled["error"]).code == "CANCELLED"
    clock.advance(DURATION)
    assert report(http, token, job_id) == cancelled
    answer = status(http, token, job_id)
    assert answer.is_finished is True
    assert answer.urls is None
    assert isinstance(answer.errors, list)
    assert [(str(e.code), str(e.category)) for e in answer.errors] == [("CANCELLED", "REQUEST")]
    revision = revision_of(dataset(http, token, job_id))
    assert revision.status == 6
    assert revision.terminated_at == rfc3339(clock.now - DURATION)
    assert cancel(http, token, job_id) == cancelled  # again: nothing changes
    job = record(server, job_id)
    assert (job.status, job.rows, job.files) == ("CANCELLED", None, 0)


def test_cancelling_a_finished_job_changes_nothing(
    http: httpx.Client, server: ChalkServer, token: str
) -> None:
    server.offline_duration = 0
    job_id = submit_job(http, token, output=["user.id"], max_samples=10)
    assert cancel(http, token, job_id) == {
        "status": "COMPLETED",
        "progress": 1.0,
        "num_rows": 10,
        "error": None,
    }
    assert len(finished_urls(http, token, job_id)) == 1


# -- signed URLs ------------------------------------------------------------------------------------


def test_file_urls_expire_by_the_server_clock_and_each_status_call_signs_new_ones(
    http: httpx.Client, server: ChalkServer, token: str, bare: httpx.Client, clock: ServerClock
) -> None:
    server.offline_duration = 0
    server.offline_url_lifetime = 60
    assert server.offline_url_lifetime == 60
    job_id = submit_job(http, token, output=["user.id"], max_samples=5)
    (url,) = finished_urls(http, token, job_id)
    clock.advance(59)
    assert bare.get(url).status_code == 200
    clock.advance(1)
    expired = bare.get(url)
    assert expired.status_code == 403
    assert expired.headers["content-type"] == "application/xml"
    assert "<Code>AccessDenied</Code>" in expired.text
    assert "expired" in expired.text
    (fresh,) = finished_urls(http, token, job_id)
    assert fresh != url
    assert bare.get(fresh).status_code == 200


def test_a_url_with_a_bad_signature_is_403(
    http: httpx.Client, server: ChalkServer, token: str, bare: httpx.Client
) -> None:
    server.offline_duration = 0
    job_id = submit_job(http, token, output=["user.id"])
    first, second = finished_urls(http, token, job_id)
    parts = urllib.parse.urlsplit(first)
    query = dict(urllib.parse.parse_qsl(parts.query))
    base = f"{server.url}{parts.path}"
    other_file = f"{server.url}{urllib.parse.urlsplit(second).path}?{parts.query}"
    later = urllib.parse.urlencode({**query, "expires": int(query["expires"]) + 1000})
    flipped = query["signature"][:-1] + ("0" if query["signature"][-1] != "0" else "1")
    for bad in (
        f"{base}?{urllib.parse.urlencode({**query, 'signature': flipped})}",
        f"{base}?{later}",
        other_file,
        f"{server.url}/_storage/job-999/part-00000.parquet?{parts.query}",
    ):
        response = bare.get(bad)
        assert response.status_code == 403, bad
        assert "<Code>SignatureDoesNotMatch</Code>" in response.text
    for missing in (base, f"{base}?expires={query['expires']}", f"{base}?signature={query['signature']}"):
        response = bare.get(missing)
        assert response.status_code == 403
        assert "<Code>AccessDenied</Code>" in response.text
    # A token does not stand in for a signature.
    assert http.get(parts.path, headers=auth(token)).status_code == 403


def test_a_download_is_sent_in_chunks() -> None:
    body = bytes(range(256)) * 600  # 153,600 bytes
    sent: list[MutableMapping[str, Any]] = []

    async def handler(request: Request) -> Response:
        return Response(200, [(b"content-length", str(len(body)).encode())], body, chunk_size=65536)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    router = Router()
    router.add("GET", "/file", handler)
    scope = {"type": "http", "method": "GET", "path": "/file", "query_string": b"", "headers": []}
    asyncio.run(App(router)(scope, receive, send))
    chunks = [message for message in sent if message["type"] == "http.response.body"]
    assert [len(message["body"]) for message in chunks] == [65536, 65536, 22528]
    assert [message["more_body"] for message in chunks] == [True, True, False]
    assert b"".join(message["body"] for message in chunks) == body


# -- datasets ---------------------------------------------------------------------------------------


def test_a_dataset_name_gathers_versions_per_environment(
    http: httpx.Client, server: ChalkServer, token: str
) -> None:
    first = submit(http, token, output=["user.id"], dataset_name="scores")
    second = submit(http, token, output=["user.id"], dataset_name="scores")
    assert first.dataset_id == second.dataset_id
    assert (first.version, second.version) == (1, 2)
    assert revision_of(first).revision_id != revision_of(second).revision_id
    response = http.post(
        SUBMIT_PATH,
        json={"output": ["user.id"], "dataset_name": "scores"},
        headers=auth(token, **{"X-Chalk-Env-Id": "env-prod-1"}),
    )
    prod = DatasetResponse.from_dict(response.json())
    assert prod.dataset_id != first.dataset_id
    assert (prod.version, prod.environment_id) == (1, "env-prod-1")
    unnamed = [submit(http, token, output=["user.id"]) for _ in range(2)]
    assert len({first.dataset_id, *(answer.dataset_id for answer in unnamed)}) == 3
    assert all(answer.version == 1 and answer.dataset_name is None for answer in unnamed)
    again = dataset(http, token, revision_of(second).revision_id)
    assert (again.dataset_id, again.version, again.dataset_name) == (first.dataset_id, 2, "scores")
    assert revision_of(again).revision_id == revision_of(second).revision_id


def test_a_job_records_its_branch_tags_and_environment(
    http: httpx.Client, server: ChalkServer, token: str
) -> None:
    headers = auth(token, **{"X-Chalk-Deployment-Type": "branch", "X-Chalk-Branch-Id": "feature-x"})
    response = http.post(SUBMIT_PATH, json={"output": ["user.id"], "tags": ["a", "b"]}, headers=headers)
    job_id = DatasetResponse.from_dict(response.json()).revisions[0].revision_id
    job = record(server, job_id)
    assert (job.branch, job.tags, job.environment_id) == ("feature-x", ("a", "b"), "env-dev-1")
    named = submit_job(http, token, output=["user.id"], branch="body-branch")
    assert record(server, named).branch == "body-branch"


# -- what is refused --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ([], "INVALID_QUERY"),
        ({}, "INVALID_QUERY"),
        ({"output": []}, "INVALID_QUERY"),
        ({"output": "user.id"}, "INVALID_QUERY"),
        ({"output": ["user.id", 3]}, "INVALID_QUERY"),
        ({"output": ["user.id"], "required_output": "user.age"}, "INVALID_QUERY"),
        ({"output": ["user.id"], "max_samples": 0}, "INVALID_QUERY"),
        ({"output": ["user.id"], "max_samples": True}, "INVALID_QUERY"),
        ({"output": ["user.id"], "max_samples": 1.5}, "INVALID_QUERY"),
        ({"output": ["user.id"], "input": [[1]]}, "INVALID_QUERY"),
        ({"output": ["user.id"], "input": {"columns": [], "values": []}}, "INVALID_QUERY"),
        ({"output": ["user.id"], "input": {"columns": ["user.id"]}}, "INVALID_QUERY"),
        ({"output": ["user.id"], "input": {"columns": ["user.id"], "values": [1, 2]}}, "INVALID_QUERY"),
        ({"output": ["user.id"], "input": {"columns": ["user.id"], "values": [[1], [2]]}}, "INVALID_QUERY"),
        (
            {"output": ["user.id"], "input": {"columns": ["user.id", "user.age"], "values": [[1, 2], [30]]}},
            "INVALID_QUERY",
        ),
        (
            {"output": ["user.id"], "input": {"columns": ["user.id", "user.id"], "values": [[1], [1]]}},
            "INVALID_QUERY",
        ),
        ({"output": ["user.id"], "input": {"columns": ["user.id"], "values": [[1.5]]}}, "INVALID_QUERY"),
        ({"output": ["user.id"], "input": {"columns": ["user.id"], "values": [[None]]}}, "INVALID_QUERY"),
        (
            {"output": ["user.id"], "input": {"columns": ["user.id", "user.age"], "values": [[1], ["old"]]}},
            "INVALID_QUERY",
        ),
        (
            {
                "output": ["user.id"],
                "input": {"columns": ["user.id", "__ts__"], "values": [[1], ["2026-01-01"]]},
            },
            "PARSE_FAILED",
        ),
        ({"output": ["user.id"], "observed_at_lower_bound": "2026-01-01T00:00:00"}, "PARSE_FAILED"),
        ({"output": ["user.id"], "observed_at_upper_bound": 5}, "PARSE_FAILED"),
        (
            {
                "output": ["user.id"],
                "observed_at_lower_bound": "2026-01-02T00:00:00Z",
                "observed_at_upper_bound": "2026-01-01T00:00:00Z",
            },
            "VALIDATION_FAILED",
        ),
        ({"output": ["user.id"], "tags": "a"}, "VALIDATION_FAILED"),
        ({"output": ["user.id"], "dataset_name": 5}, "VALIDATION_FAILED"),
        ({"output": ["user.id"], "branch": ["b"]}, "VALIDATION_FAILED"),
        ({"output": ["user.id"], "recompute_features": "yes"}, "VALIDATION_FAILED"),
        ({"output": ["user.id"], "destination_format": "CSV"}, "VALIDATION_FAILED"),
    ],
)
def test_malformed_submissions_are_400(
    http: httpx.Client, server: ChalkServer, token: str, body: Any, code: str
) -> None:
    before = len(server.offline_jobs)
    error_of(http.post(SUBMIT_PATH, json=body, headers=auth(token)), 400, code)
    assert len(server.offline_jobs) == before


def test_a_well_formed_submission_with_every_field_is_accepted(
    http: httpx.Client, server: ChalkServer, token: str
) -> None:
    answer = submit(
        http,
        token,
        output=["user.id"],
        required_output=[],
        input=None,
        dataset_name=None,
        branch=None,
        max_samples=None,
        recompute_features=True,
        observed_at_lower_bound="2026-01-01T00:00:00Z",
        observed_at_upper_bound="2026-01-02T00:00:00+00:00",
        tags=None,
        correlation_id="c-1",
        destination_format="PARQUET",
    )
    assert answer.is_finished is False


def test_unknown_jobs_are_404_and_a_bad_status_body_is_400(http: httpx.Client, token: str) -> None:
    headers = auth(token)
    error_of(http.post(STATUS_PATH, json={"job_id": "job-999"}, headers=headers), 404, "VALIDATION_FAILED")
    error_of(http.get("/v4/offline_query/job-999/status", headers=headers), 404, "VALIDATION_FAILED")
    error_of(http.post("/v4/offline_query/job-999/cancel", headers=headers), 404, "VALIDATION_FAILED")
    error_of(http.get("/v2/offline_query/job-999", headers=headers), 404, "VALIDATION_FAILED")
    error_of(http.post(STATUS_PATH, json={"job": "job-1"}, headers=headers), 400, "VALIDATION_FAILED")
    error_of(http.post(STATUS_PATH, json=["job-1"], headers=headers), 400, "VALIDATION_FAILED")


def test_offline_calls_want_a_token_and_are_not_served_by_the_engine(
    http: httpx.Client, server: ChalkServer, token: str, bare: httpx.Client
) -> None:
    job_id = submit_job(http, token, output=["user.id"])
    for method, path, body in (
        ("POST", SUBMIT_PATH, {"output": ["user.id"]}),
        ("POST", STATUS_PATH, {"job_id": job_id}),
        ("GET", f"/v4/offline_query/{job_id}/status", None),
        ("POST", f"/v4/offline_query/{job_id}/cancel", None),
        ("GET", f"/v2/offline_query/{job_id}", None),
    ):
        error_of(http.request(method, path, json=body), 401, "UNAUTHENTICATED")
        engine = bare.request(method, server.engine_url + path, json=body, headers=auth(token))
        error_of(engine, 404, "VALIDATION_FAILED")
    assert record(server, job_id).status == "INIT"  # the refused cancel changed nothing


# -- settings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"offline_duration": -1}, "offline_duration"),
        ({"offline_duration": float("nan")}, "offline_duration"),
        ({"offline_url_lifetime": 0}, "offline_url_lifetime"),
        ({"offline_url_lifetime": float("inf")}, "offline_url_lifetime"),
        ({"offline_rows_per_file": 0}, "offline_rows_per_file"),
        ({"offline_rows_per_file": 1.5}, "offline_rows_per_file"),
    ],
)
def test_offline_settings_are_checked(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ChalkServer(**kwargs)


def test_offline_settings_are_checked_when_set(server: ChalkServer) -> None:
    with pytest.raises(ValueError, match="offline_duration"):
        server.offline_duration = -0.5
    with pytest.raises(TypeError, match="offline_url_lifetime"):
        server.offline_url_lifetime = "60"  # type: ignore[assignment]
    assert (server.offline_duration, server.offline_url_lifetime) == (DURATION, 3600)
