"""``query_bulk`` and ``multi_query`` on both clients, against the in-memory fake API: the request
on the wire (read back by ChalkServer's own decoder), routing, the results, the checks made before
anything is sent, retries, and answers that are not bulk answers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pyarrow as pa
import pytest

from chalk_client import (
    BulkQuery,
    BulkQueryResult,
    ChalkInputError,
    ChalkInvalidResponseError,
    ChalkMissingDependencyError,
    ChalkResultError,
    ChalkServerErrorInfo,
)
from chalk_client.testing._feather import FeatherResult, decode_request, encode_response
from tests.conftest import API_SERVER, SECRET, TOKEN_PREFIX, ClientUnderTest
from tests.fake_api import ENGINE, FakeChalkAPI, answer

BULK = "/v1/query/feather"
BINARY = "application/octet-stream"

Blocks = list[tuple[dict[str, Any], pa.Table]]


def echo_answer(blocks: Blocks) -> list[FeatherResult]:
    """Per query: its input with each output filled as ``"<output>:<row>"``, and an error for an
    output named ``user.unknown``."""
    results = []
    for header, table in blocks:
        columns = {name: table.column(name) for name in table.column_names}
        errors = []
        for name in header["outputs"]:
            if name == "user.unknown":
                errors.append({"code": "RESOLVER_NOT_FOUND", "category": "REQUEST", "message": f"no {name}"})
            else:
                columns[name] = pa.array([f"{name}:{row}" for row in range(table.num_rows)])
        results.append(FeatherResult(scalars=pa.table(columns), errors=errors))
    return results


class BulkEndpoint:
    """The fake API's ``/v1/query/feather``: it decodes each request and answers with `respond`."""

    def __init__(self, api: FakeChalkAPI, respond: Callable[[Blocks], list[FeatherResult]] = echo_answer):
        self.blocks: list[Blocks] = []
        self.respond = respond
        api.handlers[BULK] = self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        blocks = decode_request(request.content)
        self.blocks.append(blocks)
        body = encode_response(self.respond(blocks))
        return httpx.Response(200, content=body, headers={"content-type": BINARY})


@pytest.fixture
def bulk(api: FakeChalkAPI) -> BulkEndpoint:
    return BulkEndpoint(api)


# -- the wire --------------------------------------------------------------------------------------


def test_query_bulk_sends_one_chal1_block_to_the_engine(
    client: ClientUnderTest, api: FakeChalkAPI, bulk: BulkEndpoint
) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    result = client(
        "query_bulk",
        {"user.id": [1, 2, 3]},
        ["user.name", "user.age"],
        now=when,
        staleness={"user.age": "1h"},
        tags=["fast"],
        query_name="scores",
        correlation_id="corr-1",
        include_meta=True,
    )
    assert isinstance(result, BulkQueryResult)
    (request,) = api.data_requests()
    assert str(request.url) == ENGINE + BULK
    assert request.method == "POST"
    assert request.headers["content-type"] == BINARY
    assert request.headers["accept"] == BINARY
    assert request.headers["authorization"] == f"Bearer {TOKEN_PREFIX}1"
    assert request.headers["x-chalk-env-id"] == "env-1"
    assert request.headers["x-chalk-deployment-type"] == "engine"
    assert request.headers["x-chalk-query-name"] == "scores"
    assert "x-chalk-branch-id" not in request.headers
    ((header, table),) = bulk.blocks[0]
    assert header == {
        "outputs": ["user.name", "user.age"],
        "now": ["2026-01-02T01:04:05+00:00"] * 3,
        "staleness": {"user.age": "1h"},
        "context": {"tags": ["fast"]},
        "include_meta": True,
        "query_name": "scores",
        "correlation_id": "corr-1",
    }
    assert table.to_pydict() == {"user.id": [1, 2, 3]}
    assert table.schema.field("user.id").type == pa.int64()


def test_query_bulk_sends_only_what_was_given(client: ClientUnderTest, bulk: BulkEndpoint) -> None:
    client("query_bulk", {"user.id": [7]}, ["user.name"])
    ((header, _),) = bulk.blocks[0]
    assert header == {"outputs": ["user.name"], "include_meta": False}


def test_now_per_row_is_sent_per_row_in_utc(client: ClientUnderTest, bulk: BulkEndpoint) -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    second = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5)))
    client("query_bulk", {"user.id": [1, 2]}, ["user.name"], now=[first, second])
    ((header, _),) = bulk.blocks[0]
    assert header["now"] == ["2026-01-01T00:00:00+00:00", "2026-01-01T17:00:00+00:00"]


def test_a_table_input_keeps_its_arrow_types(client: ClientUnderTest, bulk: BulkEndpoint) -> None:
    table = pa.table(
        {"user.id": pa.array([1, 2], pa.int32()), "user.name": pa.array(["a", "b"], pa.large_string())}
    )
    client("query_bulk", table, ["user.age"])
    ((_, sent),) = bulk.blocks[0]
    assert sent.schema == table.schema
    assert sent.to_pydict() == table.to_pydict()


def test_a_branch_goes_to_the_api_server_in_the_header_and_each_block(
    client: ClientUnderTest, api: FakeChalkAPI, bulk: BulkEndpoint
) -> None:
    client(
        "multi_query",
        [
            BulkQuery(input={"user.id": [1]}, output=["user.name"]),
            BulkQuery(input={"user.id": [2]}, output=["user.age"]),
        ],
        branch="feature-x",
    )
    (request,) = api.data_requests()
    assert str(request.url) == API_SERVER + BULK
    assert request.headers["x-chalk-branch-id"] == "feature-x"
    assert [header["branch_id"] for header, _ in bulk.blocks[0]] == ["feature-x", "feature-x"]


# -- results -----------------------------------------------------------------------------------------


def test_results_are_the_servers_tables(client: ClientUnderTest, bulk: BulkEndpoint) -> None:
    result = client("query_bulk", {"user.id": [1, 2]}, ["user.name"])
    assert len(result) == 2
    assert result.to_arrow().to_pydict() == {"user.id": [1, 2], "user.name": ["user.name:0", "user.name:1"]}
    assert result.errors == []
    assert result.groups == {}
    assert result.raise_for_errors() is result


def test_multi_query_answers_in_request_order_with_errors_per_query(
    client: ClientUnderTest, api: FakeChalkAPI, bulk: BulkEndpoint
) -> None:
    queries = [BulkQuery(input={"user.id": list(range(n + 1))}, output=["user.name"]) for n in range(11)]
    queries.append(BulkQuery(input={"user.id": [5]}, output=["user.name", "user.unknown"], query_name="late"))
    results = client("multi_query", queries)
    assert [len(result) for result in results] == [*range(1, 12), 1]
    assert all(result.errors == [] for result in results[:11])
    (error,) = results[11].errors
    assert isinstance(error, ChalkServerErrorInfo)
    assert (error.code, error.message) == ("RESOLVER_NOT_FOUND", "no user.unknown")
    with pytest.raises(ChalkResultError, match=r"no user\.unknown"):
        results[11].raise_for_errors()
    (request,) = api.data_requests()
    assert "x-chalk-query-name" not in request.headers  # each query's name is in its own header
    assert [header.get("query_name") for header, _ in bulk.blocks[0]] == [None] * 11 + ["late"]


def test_groups_and_meta_come_back(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    def respond(blocks: Blocks) -> list[FeatherResult]:
        ((_, table),) = blocks
        groups = {
            "user.transactions": pa.table({"transaction.user_id": [1, 1], "transaction.amount": [2.5, 3.0]})
        }
        meta = {"query_id": "q-1", "execution_duration_s": 0.25, "environment_id": "env-1"}
        return [FeatherResult(scalars=table, groups=groups, meta=meta)]

    BulkEndpoint(api, respond)
    result = client("query_bulk", {"user.id": [1]}, ["user.transactions"], include_meta=True)
    assert result.groups["user.transactions"].to_pydict() == {
        "transaction.user_id": [1, 1],
        "transaction.amount": [2.5, 3.0],
    }
    assert result.meta is not None
    assert (result.meta.query_id, result.meta.execution_duration_s) == ("q-1", 0.25)


def test_a_secret_in_a_returned_error_is_replaced(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    def respond(blocks: Blocks) -> list[FeatherResult]:
        error = {"code": "INTERNAL_SERVER_ERROR", "category": "REQUEST", "message": f"bad secret {SECRET}"}
        return [FeatherResult(scalars=None, errors=[error])]

    BulkEndpoint(api, respond)
    result = client("query_bulk", {"user.id": [1]}, ["user.name"])
    assert len(result) == 0
    assert SECRET not in repr(result.errors)
    assert "bad secret" in result.errors[0].message


# -- checks before sending -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        (({}, ["user.name"]), "no columns"),
        (({"user.id": []}, ["user.name"]), "no rows"),
        (({"user.id": [1]}, []), "output is empty"),
        (({"user.id": [1, 2], "user.age": [3]}, ["user.name"]), "different lengths"),
        (({1: [1]}, ["user.name"]), "feature names"),
        (({"user.id": [datetime(2026, 1, 1)]}, ["user.name"]), "naive"),
        (({"user.id": [1]}, "user.name"), "list of strings"),
        (([1, 2], ["user.name"]), "mapping of feature name"),
    ],
)
def test_bad_input_is_refused_before_sending(
    client: ClientUnderTest, api: FakeChalkAPI, bulk: BulkEndpoint, arguments: tuple[Any, Any], match: str
) -> None:
    with pytest.raises(ChalkInputError, match=match):
        client("query_bulk", *arguments)
    assert api.data_requests() == []


def test_a_naive_now_or_one_of_the_wrong_count_is_refused(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    with pytest.raises(ChalkInputError, match="naive"):
        client("query_bulk", {"user.id": [1]}, ["user.name"], now=datetime(2026, 1, 1))
    with pytest.raises(ChalkInputError, match="2 entries for 3 input rows"):
        client("query_bulk", {"user.id": [1, 2, 3]}, ["user.name"], now=[datetime.now(UTC)] * 2)
    assert api.data_requests() == []


@pytest.mark.parametrize(
    ("queries", "match"),
    [
        ([], "queries is empty"),
        (BulkQuery(input={"user.id": [1]}, output=["user.name"]), "list of BulkQuery"),
        ([{"input": {"user.id": [1]}, "output": ["user.name"]}], r"queries\[0\] must be a BulkQuery"),
        (
            [BulkQuery(input={"user.id": [1]}, output=["a.b"]), BulkQuery(input={"user.id": [1]}, output=[])],
            r"queries\[1\]: output is empty",
        ),
    ],
)
def test_bad_multi_queries_are_refused_before_sending(
    client: ClientUnderTest, api: FakeChalkAPI, queries: Any, match: str
) -> None:
    with pytest.raises(ChalkInputError, match=match):
        client("multi_query", queries)
    assert api.data_requests() == []


def test_without_pyarrow_nothing_is_sent(
    client: ClientUnderTest, api: FakeChalkAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    with pytest.raises(ChalkMissingDependencyError, match=r"chalk-client\[arrow\]"):
        client("query_bulk", {"user.id": [1]}, ["user.name"])
    assert api.data_requests() == []


def test_bulk_query_is_frozen_and_keyword_only() -> None:
    query = BulkQuery(input={"user.id": [1]}, output=["user.name"])
    with pytest.raises(AttributeError):
        query.output = ["user.age"]  # type: ignore[misc]
    with pytest.raises(TypeError):
        BulkQuery({"user.id": [1]}, ["user.name"])  # type: ignore[misc]


# -- retries and answers that are not bulk answers -------------------------------------------------------


def test_a_503_is_retried_with_the_same_body(
    client: ClientUnderTest, api: FakeChalkAPI, bulk: BulkEndpoint
) -> None:
    api.queue(BULK, answer(503))
    result = client("query_bulk", {"user.id": [1, 2]}, ["user.name"])
    assert len(result) == 2
    first, second = api.data_requests()
    assert first.content == second.content
    assert client.sleeps  # it waited before the retry


def test_a_json_200_is_an_invalid_response_naming_the_endpoint(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    api.queue(BULK, answer(200, {"data": []}))
    with pytest.raises(ChalkInvalidResponseError, match="application/octet-stream") as caught:
        client("query_bulk", {"user.id": [1]}, ["user.name"])
    assert caught.value.url.endswith(BULK)


def test_an_answer_with_the_wrong_number_of_results_is_invalid(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    BulkEndpoint(api, lambda blocks: echo_answer(blocks) * 2)
    with pytest.raises(ChalkInvalidResponseError, match=r"2 result\(s\) for 1 query"):
        client("query_bulk", {"user.id": [1]}, ["user.name"])


def test_a_truncated_answer_is_invalid(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    whole = encode_response(echo_answer([({"outputs": ["user.name"]}, pa.table({"user.id": [1]}))]))
    api.queue(BULK, httpx.Response(200, content=whole[:-40], headers={"content-type": BINARY}))
    with pytest.raises(ChalkInvalidResponseError, match="bulk query answer"):
        client("query_bulk", {"user.id": [1]}, ["user.name"])
