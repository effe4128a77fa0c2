"""ChalkServer's datasets (by name, id and revision), its engine ping and its branches, over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chalk_openapi.models import BranchesResponse, DatasetResponse, DatasetRevision, PingResponse

from chalk_client.testing import ChalkServer
from chalk_client.testing._auth import rfc3339
from tests.conftest import ServerClock
from tests.testing.test_server_data import auth, error_of, token_body

SUBMIT_PATH = "/v4/offline_query"
STATUS_PATH = "/v4/offline_query/status"
PROD = {"X-Chalk-Env-Id": "env-prod-1"}
DURATION = 10.0
UNKNOWN_ID = "3f2b8c1e-9d4a-4f6b-8e2c-7a1d5b9c0e4f"  # a UUID no job or dataset has (fixed: xdist collects it)
# What chalkpy's DatasetRevisionResponse and DatasetResponse require (partitions or num_partitions).
CHALKPY_REVISION_FIELDS = (
    "environment_id",
    "creator_id",
    "outputs",
    "status",
    "filters",
    "output_uris",
    "output_version",
    "num_partitions",
)
CHALKPY_DATASET_FIELDS = ("is_finished", "environment_id", "revisions")


@pytest.fixture(scope="module")
def clock() -> ServerClock:
    return ServerClock()


@pytest.fixture(scope="module")
def server(clock: ServerClock) -> Iterator[ChalkServer]:
    # Tokens that outlive every clock move of the module; jobs finish when the clock says so.
    with ChalkServer(clock=clock, offline_duration=DURATION, token_lifetime=10**8) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: ChalkServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client


@pytest.fixture(scope="module")
def engine(server: ChalkServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.engine_url) as client:
        yield client


@pytest.fixture(scope="module")
def token(server: ChalkServer, http: httpx.Client) -> str:
    access_token: str = token_body(http, server)["access_token"]
    return access_token


def submit(
    http: httpx.Client, token: str, headers: dict[str, str] | None = None, **body: Any
) -> dict[str, Any]:
    response = http.post(SUBMIT_PATH, json=body, headers=auth(token, **(headers or {})))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def get(http: httpx.Client, token: str, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = http.get(path, headers=auth(token, **(headers or {})))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    DatasetResponse.from_dict(answer)  # the shape the spec gives
    return answer


def revision_ids(answer: dict[str, Any]) -> list[str]:
    return [revision["revision_id"] for revision in answer["revisions"]]


def is_uuid4(text: object) -> bool:
    return isinstance(text, str) and str(uuid.UUID(text)) == text and uuid.UUID(text).version == 4


# -- ids -------------------------------------------------------------------------------------------


def test_job_and_dataset_ids_are_uuids(server: ChalkServer, http: httpx.Client, token: str) -> None:
    answers = [submit(http, token, output=["user.id"]) for _ in range(3)]
    ids = [answer["revisions"][0]["revision_id"] for answer in answers]
    datasets = [answer["dataset_id"] for answer in answers]
    assert all(is_uuid4(value) for value in ids + datasets)
    assert len(set(ids)) == len(set(datasets)) == 3  # an unnamed job has a dataset of its own
    assert all(answer["revisions"][0]["dataset_id"] == answer["dataset_id"] for answer in answers)
    assert {job.job_id for job in server.offline_jobs} >= set(ids)
    assert {job.dataset_id for job in server.offline_jobs} >= set(datasets)


# -- a revision carries what chalkpy requires ------------------------------------------------------


def test_a_revision_carries_every_field_chalkpy_requires(
    server: ChalkServer, http: httpx.Client, token: str, clock: ServerClock
) -> None:
    answer = submit(
        http,
        token,
        output=["user.name"],
        dataset_name="fields",
        max_samples=10,
        observed_at_lower_bound="2026-01-01T00:00:00+00:00",
        observed_at_upper_bound="2026-02-01T00:00:00Z",
        branch="feature-x",
    )
    for field in CHALKPY_DATASET_FIELDS:
        assert answer[field] is not None, field
    (revision,) = answer["revisions"]
    for field in CHALKPY_REVISION_FIELDS:
        assert revision[field] is not None, field
    job_id = revision["revision_id"]
    assert revision["environment_id"] == answer["environment_id"] == "env-dev-1"
    assert revision["creator_id"] == server.client_id
    assert revision["outputs"] == ["user.name"]
    assert revision["status"] == 2
    assert revision["filters"] == {
        "sample_filters": {
            "lower_bound": "2026-01-01T00:00:00+00:00",
            "upper_bound": "2026-02-01T00:00:00Z",
            "max_samples": 10,
        },
        "max_cache_age_secs": None,
    }
    # A string: the storage prefix of the job's files, not signed URLs.
    assert revision["output_uris"] == f"{server.url}/_storage/{job_id}/"
    assert revision["output_version"] == 6
    assert revision["num_partitions"] == 0  # no file yet
    assert (revision["dataset_name"], revision["dataset_id"]) == ("fields", answer["dataset_id"])
    assert revision["branch"] == "feature-x"
    assert revision["query_has_errors"] is False
    assert revision["created_at"] == rfc3339(clock.now)
    DatasetRevision.from_dict(revision)

    clock.advance(DURATION)
    done = get(http, token, f"/v4/offline_query/{job_id}")["revisions"][0]
    assert done["status"] == 7
    urls = http.post(STATUS_PATH, json={"job_id": job_id}, headers=auth(token)).json()["urls"]
    assert done["num_partitions"] == len(urls) == 1
    assert all(url.startswith(done["output_uris"]) for url in urls)
    assert done["output_uris"] == revision["output_uris"]


def test_a_failed_revision_has_errors_and_no_files(
    http: httpx.Client, token: str, clock: ServerClock
) -> None:
    job_id = submit(http, token, output=["user.shoe_size"])["revisions"][0]["revision_id"]
    clock.advance(DURATION)
    failed = get(http, token, f"/v4/offline_query/{job_id}")
    (revision,) = failed["revisions"]
    assert (revision["status"], revision["query_has_errors"], revision["num_partitions"]) == (4, True, 0)
    assert [error["code"] for error in revision["errors"]] == ["RESOLVER_NOT_FOUND"]
    assert failed["errors"] == revision["errors"]
    assert isinstance(revision["output_uris"], str)


# -- finding datasets ------------------------------------------------------------------------------


def test_a_dataset_is_found_by_name_and_by_id_with_every_revision_oldest_first(
    http: httpx.Client, token: str, clock: ServerClock
) -> None:
    first = submit(http, token, output=["user.id"], dataset_name="scores")
    clock.advance(DURATION)  # the first finishes
    second = submit(http, token, output=["user.age"], dataset_name="scores")
    assert second["dataset_id"] == first["dataset_id"]
    by_name = get(http, token, "/v3/offline_query/scores")
    by_id = get(http, token, f"/v3/offline_query/{first['dataset_id']}")
    assert by_name == by_id
    assert revision_ids(by_name) == revision_ids(first) + revision_ids(second)
    assert [revision["status"] for revision in by_name["revisions"]] == [7, 2]
    assert [revision["outputs"] for revision in by_name["revisions"]] == [["user.id"], ["user.age"]]
    # The dataset's own fields are its newest revision's.
    assert (by_name["dataset_id"], by_name["dataset_name"]) == (first["dataset_id"], "scores")
    assert (by_name["version"], by_name["is_finished"], by_name["environment_id"]) == (2, False, "env-dev-1")
    clock.advance(DURATION)
    assert get(http, token, "/v3/offline_query/scores")["is_finished"] is True


def test_a_revision_finds_its_dataset_with_that_revision_alone(http: httpx.Client, token: str) -> None:
    first = submit(http, token, output=["user.id"], dataset_name="by-revision")
    second = submit(http, token, output=["user.id"], dataset_name="by-revision")
    for answer, version in ((first, 1), (second, 2)):
        (job_id,) = revision_ids(answer)
        for path in (f"/v4/offline_query/{job_id}", f"/v2/offline_query/{job_id}"):
            found = get(http, token, path)
            assert revision_ids(found) == [job_id]  # the last revision is the one asked for
            assert (found["dataset_id"], found["dataset_name"], found["version"]) == (
                first["dataset_id"],
                "by-revision",
                version,
            )


def test_an_unnamed_dataset_is_found_by_its_id(http: httpx.Client, token: str) -> None:
    answer = submit(http, token, output=["user.id"])
    found = get(http, token, f"/v3/offline_query/{answer['dataset_id']}")
    assert revision_ids(found) == revision_ids(answer)
    assert found["dataset_name"] is None


def test_names_are_per_environment_and_ids_are_not(http: httpx.Client, token: str) -> None:
    prod = submit(http, token, headers=PROD, output=["user.id"], dataset_name="prod-only")
    assert get(http, token, "/v3/offline_query/prod-only", PROD)["dataset_id"] == prod["dataset_id"]
    error_of(http.get("/v3/offline_query/prod-only", headers=auth(token)), 404, "VALIDATION_FAILED")
    assert get(http, token, f"/v3/offline_query/{prod['dataset_id']}")["environment_id"] == "env-prod-1"
    dev = submit(http, token, output=["user.age"], dataset_name="prod-only")
    assert dev["dataset_id"] != prod["dataset_id"]
    assert revision_ids(get(http, token, "/v3/offline_query/prod-only")) == revision_ids(dev)


@pytest.mark.parametrize(
    "path",
    [
        "/v3/offline_query/no-such-dataset",
        f"/v3/offline_query/{UNKNOWN_ID}",
        f"/v4/offline_query/{UNKNOWN_ID}",
        f"/v2/offline_query/{UNKNOWN_ID}",
        "/v4/offline_query/job-1",
    ],
)
def test_an_unknown_dataset_or_revision_is_a_404(http: httpx.Client, token: str, path: str) -> None:
    error_of(http.get(path, headers=auth(token)), 404, "VALIDATION_FAILED")


def test_finding_a_dataset_needs_a_token(http: httpx.Client) -> None:
    error_of(http.get("/v3/offline_query/scores"), 401, "UNAUTHENTICATED")
    error_of(http.get(f"/v4/offline_query/{UNKNOWN_ID}"), 401, "UNAUTHENTICATED")


def test_get_on_the_status_path_is_not_a_revision(http: httpx.Client, token: str) -> None:
    # `/v4/offline_query/status` is an exact path (POST only): it is not revision "status".
    response = http.get(STATUS_PATH, headers=auth(token))
    error_of(response, 405, "VALIDATION_FAILED")
    assert response.headers["allow"] == "POST"


# -- the engine ping -----------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["engine", "api"])
@pytest.mark.parametrize(
    ("body", "expected"),
    [({"num": 7}, 7), ({"num": -3}, -3), ({"num": 2**63 - 1}, 2**63 - 1), ({"num": None}, 0), ({}, 0)],
)
def test_the_ping_echoes_its_number_on_both_addresses(
    http: httpx.Client, engine: httpx.Client, token: str, address: str, body: dict[str, Any], expected: int
) -> None:
    client = engine if address == "engine" else http
    headers = auth(token, **{"X-Chalk-Deployment-Type": "engine", "X-Chalk-Server": "go-api"})
    response = client.post("/ping", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"num": expected}
    assert PingResponse.from_dict(response.json()).num == expected


@pytest.mark.parametrize("body", [{"num": "7"}, {"num": 1.5}, {"num": True}, {"num": 2**63}, [7], 7])
def test_a_ping_with_another_number_is_a_400(engine: httpx.Client, token: str, body: Any) -> None:
    error_of(engine.post("/ping", json=body, headers=auth(token)), 400, "VALIDATION_FAILED")


def test_a_ping_needs_a_token_and_a_json_body(engine: httpx.Client, token: str) -> None:
    error_of(engine.post("/ping", json={"num": 1}), 401, "UNAUTHENTICATED")
    error_of(engine.post("/ping", content=b"num=1", headers=auth(token)), 400, "PARSE_FAILED")


def test_the_engine_serves_the_ping_but_not_the_branches(
    server: ChalkServer, engine: httpx.Client, token: str
) -> None:
    body = error_of(engine.get("/v1/branches", headers=auth(token)), 404, "VALIDATION_FAILED")
    assert "POST /ping" in str(body.detail)
    assert ("POST", "/ping") in server.routes("engine")
    assert [record.served_by for record in server.requests if record.path == "/v1/branches"][-1] == "engine"


# -- branches --------------------------------------------------------------------------------------


def branches(client: httpx.Client, token: str, **headers: str) -> list[dict[str, Any]]:
    response = client.get("/v1/branches", headers=auth(token, **headers))
    assert response.status_code == 200, response.text
    BranchesResponse.from_dict(response.json())  # the shape the spec gives
    found: list[dict[str, Any]] = response.json()["branches"]
    return found


def test_the_branches_are_the_given_ones_then_those_requests_named() -> None:
    clock = ServerClock()
    with (
        ChalkServer(clock=clock, branches=["main", "staging"]) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        token = token_body(http, server)["access_token"]
        started = rfc3339(clock.now)
        assert branches(http, token) == [
            {
                "name": "main",
                "latest_deployment": "branch-deployment-1",
                "latest_deployment_time": started,
                "deployments": [{"deployment_id": "branch-deployment-1", "created_at": started}],
            },
            {
                "name": "staging",
                "latest_deployment": "branch-deployment-2",
                "latest_deployment_time": started,
                "deployments": [{"deployment_id": "branch-deployment-2", "created_at": started}],
            },
        ]
        clock.advance(60)
        # A branch request names one; chalkpy sends the header without a deployment type.
        http.get(
            "/v1/who-am-i",
            headers=auth(token, **{"X-Chalk-Deployment-Type": "branch", "X-Chalk-Branch-Id": "feat-a"}),
        )
        http.get("/v1/who-am-i", headers=auth(token, **{"X-Chalk-Branch-Id": "feat-b"}))
        http.get("/v1/who-am-i", headers=auth(token, **{"X-Chalk-Branch-Id": "feat-a"}))  # known already
        # Not learned: an engine request ignores the header; an unauthenticated one is refused.
        http.get(
            "/v1/who-am-i",
            headers=auth(token, **{"X-Chalk-Deployment-Type": "engine", "X-Chalk-Branch-Id": "x"}),
        )
        http.get("/v1/who-am-i", headers={"X-Chalk-Branch-Id": "y"})
        assert server.branches == ["main", "staging", "feat-a", "feat-b"]
        found = branches(http, token)
        assert [branch["name"] for branch in found] == server.branches
        assert found[2]["latest_deployment"] == "branch-deployment-3"
        assert found[2]["deployments"] == [
            {"deployment_id": "branch-deployment-3", "created_at": rfc3339(clock.now)}
        ]


def test_a_server_knows_main_by_default(http: httpx.Client, token: str, server: ChalkServer) -> None:
    assert branches(http, token)[0]["name"] == "main"
    assert server.branches[0] == "main"


def test_no_branches_at_all_is_an_empty_list() -> None:
    with ChalkServer(branches=()) as server, httpx.Client(base_url=server.url) as http:
        assert branches(http, token_body(http, server)["access_token"]) == []


@pytest.mark.parametrize(("value", "error"), [("main", TypeError), ([""], ValueError), ([1], ValueError)])
def test_the_branches_argument_is_checked(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        ChalkServer(branches=value)


def test_the_branches_need_a_token(http: httpx.Client) -> None:
    error_of(http.get("/v1/branches"), 401, "UNAUTHENTICATED")
