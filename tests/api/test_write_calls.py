"""``multi_upload_features``, ``delete_features``, ``drop_features``, ``get_dataset``, ``ping_engine``
and ``get_branches`` on both clients, against the in-memory fake API: the requests on the wire,
routing, results, the checks made before anything is sent, and what an error carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pyarrow as pa
import pytest

from chalk_client import (
    Branch,
    ChalkInputError,
    ChalkInvalidResponseError,
    ChalkResultError,
    ChalkServerError,
    UploadResult,
)
from tests.conftest import API_SERVER, ClientUnderTest
from tests.fake_api import ENGINE, FakeChalkAPI, answer

MULTI = "/v1/upload_features/multi"
ROWS = "/v1/features/rows"
COLUMNS = "/v1/features/columns"
MAGIC = b"CHALK_BYTE_TRANSMISSION"


def read_upload(body: bytes) -> tuple[dict[str, Any], pa.Table]:
    """A multi-upload body, read by hand here (not by either codec): attributes and table."""
    assert body.startswith(MAGIC)
    at = len(MAGIC)
    sections = []
    for _ in range(3):
        length = int.from_bytes(body[at : at + 8], "big")
        sections.append(json.loads(body[at + 8 : at + 8 + length]))
        at += 8 + length
    attributes, pydantic, lengths = sections
    assert pydantic == {}
    assert list(lengths) == ["table_bytes"]
    data = body[at : at + lengths["table_bytes"]]
    at += len(data)
    assert body[at:] == (2).to_bytes(8, "big") + b"{}"  # no nested models, nothing after
    return attributes, pa.ipc.open_file(pa.py_buffer(data)).read_all()


class Uploads:
    """The fake API's multi-upload endpoint: it records each table and answers an operation id,
    or the answer queued for that table."""

    def __init__(self, api: FakeChalkAPI) -> None:
        self.tables: list[tuple[dict[str, Any], pa.Table]] = []
        api.handlers[MULTI] = self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.tables.append(read_upload(request.content))
        return answer(200, {"operation_id": f"op-{len(self.tables)}", "errors": []})


@pytest.fixture
def uploads(api: FakeChalkAPI) -> Uploads:
    return Uploads(api)


# -- multi-upload ------------------------------------------------------------------------------------


def test_a_mapping_is_one_table_sent_to_the_api_server(
    client: ClientUnderTest, api: FakeChalkAPI, uploads: Uploads
) -> None:
    result = client("multi_upload_features", {"user.id": [1, 2], "user.name": ["Ada", "Grace"]})
    assert result == UploadResult(rows=2, features=("user.id", "user.name"), operation_ids=("op-1",))
    (request,) = api.data_requests()
    assert str(request.url) == API_SERVER + MULTI
    assert request.headers["content-type"] == "application/octet-stream"
    assert request.headers["accept"] == "application/json"
    ((attributes, table),) = uploads.tables
    assert attributes == {"features": ["user.id", "user.name"], "table_compression": "uncompressed"}
    assert table.to_pydict() == {"user.id": [1, 2], "user.name": ["Ada", "Grace"]}


def test_rows_become_one_table_per_key_set_in_first_seen_order(
    client: ClientUnderTest, uploads: Uploads
) -> None:
    rows = [
        {"user.id": 1, "user.name": "Ada"},
        {"user.id": 2, "user.age": 40},
        {"user.name": "Grace", "user.id": 3},  # the first key set, in another order
    ]
    result = client("multi_upload_features", rows)
    assert result.rows == 3
    assert result.operation_ids == ("op-1", "op-2")
    assert result.features == ("user.id", "user.name", "user.age")
    assert [table.to_pydict() for _, table in uploads.tables] == [
        {"user.id": [1, 3], "user.name": ["Ada", "Grace"]},
        {"user.id": [2], "user.age": [40]},
    ]


def test_a_table_keeps_its_types(client: ClientUnderTest, uploads: Uploads) -> None:
    table = pa.table(
        {"user.id": pa.array([1], pa.int32()), "user.at": pa.array([datetime(2026, 1, 1, tzinfo=UTC)])}
    )
    client("multi_upload_features", table)
    ((_, sent),) = uploads.tables
    assert sent.schema == table.schema


def test_errors_in_an_answer_raise_and_nothing_is_retried(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    error = {"code": "VALIDATION_FAILED", "category": "FIELD", "message": "bad user.age"}
    api.queue(MULTI, answer(200, {"operation_id": "op-x", "errors": [error]}))
    with pytest.raises(ChalkResultError, match=r"bad user\.age") as caught:
        client("multi_upload_features", {"user.id": [1], "user.age": ["x"]})
    assert caught.value.operation_ids == ()
    assert len(api.data_requests()) == 1


def test_a_failure_after_stored_tables_carries_their_ids(
    client: ClientUnderTest, api: FakeChalkAPI, uploads: Uploads
) -> None:
    rows = [{"user.id": 1, "user.name": "Ada"}, {"user.id": 2, "user.age": 40}, {"user.id": 3, "user.x": 1}]

    def second_fails(request: httpx.Request) -> httpx.Response:
        if len(uploads.tables) == 1:
            uploads.tables.append(read_upload(request.content))
            return answer(500, {"detail": "the store is down"})
        return uploads(request)

    api.handlers[MULTI] = second_fails
    with pytest.raises(ChalkServerError) as caught:
        client("multi_upload_features", rows)
    assert caught.value.operation_ids == ("op-1",)
    assert any("table 2 of 3 failed" in note and "op-1" in note for note in caught.value.__notes__)
    assert len(uploads.tables) == 2  # the third was never sent


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({}, "no columns"),
        ([], "input is empty"),
        ([{"user.id": 1}, 5], r"input\[1\] must be a mapping"),
        ([{1: 2}], "not a feature name"),
        ({"user.id": [1, 2], "user.name": ["a"]}, "different lengths"),
        ({"user.at": [datetime(2026, 1, 1)]}, "naive"),
        ("user.id=1", "must be a mapping"),
    ],
)
def test_bad_input_is_refused_before_sending(
    client: ClientUnderTest, api: FakeChalkAPI, value: Any, match: str
) -> None:
    with pytest.raises(ChalkInputError, match=match):
        client("multi_upload_features", value)
    assert api.data_requests() == []


# -- deletes -----------------------------------------------------------------------------------------


def test_delete_features_sends_every_key_with_relative_names(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    api.handlers[ROWS] = lambda request: answer(200, {"errors": None})
    assert (
        client("delete_features", "user", [1, "2"], features=["email", "user.name"], retain_offline=True)
        is None
    )
    (request,) = api.data_requests()
    assert (request.method, str(request.url)) == ("DELETE", API_SERVER + ROWS)
    assert json.loads(request.content) == {
        "namespace": "user",
        "features": ["email", "name"],
        "tags": None,
        "primary_keys": ["1", "2"],
        "retain_offline": True,
        "retain_online": False,
    }


def test_drop_features_sends_its_body(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    api.handlers[COLUMNS] = lambda request: answer(200, {})
    client("drop_features", "user", ["user.age"])
    (request,) = api.data_requests()
    assert (request.method, str(request.url)) == ("DELETE", API_SERVER + COLUMNS)
    assert json.loads(request.content) == {
        "namespace": "user",
        "features": ["age"],
        "retain_offline": False,
        "retain_online": False,
    }


def test_deletes_are_retried_as_safe_calls(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    api.handlers[ROWS] = lambda request: answer(200, {"errors": []})
    api.queue(ROWS, answer(503))
    client("delete_features", "user", [1])
    assert [r.url.path for r in api.data_requests()] == [ROWS, ROWS]


def test_errors_in_a_deletion_answer_raise(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    error = {"code": "RESOLVER_NOT_FOUND", "category": "REQUEST", "message": "no feature user.shoe"}
    api.handlers[COLUMNS] = lambda request: answer(200, {"errors": [error]})
    with pytest.raises(ChalkResultError, match=r"no feature user\.shoe"):
        client("drop_features", "user", ["shoe"])


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ((("user", [1]), {"features": ["a"], "tags": ["t"]}), "not both"),
        ((("user", []), {}), "primary_keys is empty"),
        ((("user", [True]), {}), "non-empty strings or ints"),
        ((("user", "12"), {}), "list of str or int"),
        ((("", [1]), {}), "namespace"),
        ((("user", [1]), {"features": ["user."]}), "names no feature"),
    ],
)
def test_bad_deletes_are_refused_before_sending(
    client: ClientUnderTest, api: FakeChalkAPI, arguments: tuple[tuple[Any, ...], dict[str, Any]], match: str
) -> None:
    args, kwargs = arguments
    with pytest.raises(ChalkInputError, match=match):
        client("delete_features", *args, **kwargs)
    assert api.data_requests() == []


def test_a_client_on_a_branch_refuses_deletes(make_client: Any, api: FakeChalkAPI) -> None:
    client = make_client(branch="feature-x")
    with pytest.raises(ChalkInputError, match="not possible on a branch"):
        client("delete_features", "user", [1])
    with pytest.raises(ChalkInputError, match="not possible on a branch"):
        client("drop_features", "user", ["age"])
    assert api.data_requests() == []


# -- ping, branches --------------------------------------------------------------------------------


def test_ping_goes_to_the_engine_even_on_a_branch(make_client: Any, api: FakeChalkAPI) -> None:
    api.handlers["/ping"] = lambda request: answer(200, {"num": json.loads(request.content)["num"]})
    client = make_client(branch="feature-x")
    assert client("ping_engine", 7) == 7
    (request,) = api.data_requests()
    assert str(request.url) == ENGINE + "/ping"
    assert request.headers["x-chalk-deployment-type"] == "engine"
    assert "x-chalk-branch-id" not in request.headers
    assert request.headers["x-chalk-server"] == "go-api"
    with pytest.raises(ChalkInputError, match="64-bit int"):
        client("ping_engine", 2**63)


def test_a_ping_answer_without_a_number_is_invalid(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    api.handlers["/ping"] = lambda request: answer(200, {"num": "7"})
    with pytest.raises(ChalkInvalidResponseError, match="'num'"):
        client("ping_engine")


def test_get_branches_reads_each_branch(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    body = {
        "branches": [
            {
                "name": "feature-x",
                "latest_deployment": "dep-2",
                "latest_deployment_time": "2026-11-30T10:00:00Z",
                "deployments": [{"deployment_id": "dep-1"}, {"deployment_id": "dep-2", "created_at": None}],
            },
            {"name": "empty"},
        ]
    }
    api.handlers["/v1/branches"] = lambda request: answer(200, body)
    branches = client("get_branches")
    assert branches == [
        Branch(
            name="feature-x",
            latest_deployment="dep-2",
            latest_deployment_time=datetime(2026, 11, 30, 10, tzinfo=UTC),
            deployment_ids=("dep-1", "dep-2"),
        ),
        Branch(name="empty"),
    ]
    (request,) = api.data_requests()
    assert str(request.url) == API_SERVER + "/v1/branches"


# -- datasets by name, id, revision ----------------------------------------------------------------------


def _dataset(*revisions: str) -> dict[str, Any]:
    return {
        "is_finished": True,
        "version": 2,
        "dataset_id": "5f0c2a3e-0000-4000-8000-000000000001",
        "dataset_name": "training",
        "revisions": [{"revision_id": r, "status": 7} for r in revisions],
    }


@pytest.mark.parametrize(
    ("arguments", "path", "job_id"),
    [
        ({"name": "training"}, "/v3/offline_query/training", "rev-2"),
        ({"dataset_id": "5f0c"}, "/v3/offline_query/5f0c", "rev-2"),
        ({"revision_id": "rev-1"}, "/v4/offline_query/rev-1", "rev-1"),
        ({"job_id": "rev-1"}, "/v4/offline_query/rev-1", "rev-1"),
    ],
)
def test_get_dataset_finds_the_revision_asked_for(
    client: ClientUnderTest, api: FakeChalkAPI, arguments: dict[str, str], path: str, job_id: str
) -> None:
    api.handlers["/v3/offline_query/"] = lambda request: answer(200, _dataset("rev-1", "rev-2"))
    api.handlers["/v4/offline_query/"] = lambda request: answer(200, _dataset("rev-1", "rev-2"))
    job = client("get_dataset", **arguments)
    assert job.job_id == job_id
    assert (job.dataset_name, job.version) == ("training", 2)
    (request,) = api.data_requests()
    assert str(request.url) == API_SERVER + path


@pytest.mark.parametrize("arguments", [{}, {"name": "a", "job_id": "b"}, {"name": ""}])
def test_get_dataset_takes_exactly_one_way_to_find_it(
    client: ClientUnderTest, api: FakeChalkAPI, arguments: dict[str, str]
) -> None:
    with pytest.raises(ChalkInputError):
        client("get_dataset", **arguments)
    assert api.data_requests() == []


def test_a_revision_missing_from_the_answer_is_invalid(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    api.handlers["/v4/offline_query/"] = lambda request: answer(200, _dataset("rev-9"))
    with pytest.raises(ChalkInvalidResponseError, match="no revision 'rev-1'"):
        client("get_dataset", revision_id="rev-1")
