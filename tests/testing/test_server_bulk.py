"""ChalkServer's bulk online query, ``POST /v1/query/feather``, over real HTTP.

Requests are built with the SDK's writer (``chalk_client._api.feather.encode_request``) or by hand,
and answers read with the SDK's reader (``decode_response``), so both halves of the byte format
meet here; :func:`_model` reads an answer's raw items where a test looks at the bytes themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pyarrow as pa
import pytest

from chalk_client._api.feather import BulkAnswer, decode_response, encode_request
from chalk_client.testing import (
    FAILING_USER_ID,
    FEATURE_RESOLVERS,
    HAS_MANY_RESOLVERS,
    ChalkServer,
    Fault,
    seeded_transactions,
    seeded_user,
)
from tests.conftest import ServerClock
from tests.testing.test_server_data import auth, error_of, token_body

BULK_PATH = "/v1/query/feather"
NOW = 1_800_000_000.0
NOW_TIME = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
SCALARS = ["user.name", "user.age", "user.credit_score"]
LZ4_FRAME_MAGIC = b"\x04\x22\x4d\x18"
ARROW_FILE = b"ARROW1"
ARROW_STREAM = b"\xff\xff\xff\xff"


@pytest.fixture
def clock() -> ServerClock:
    return ServerClock(NOW)


@pytest.fixture
def server(clock: ServerClock) -> Iterator[ChalkServer]:
    with ChalkServer(clock=clock) as running:
        yield running


@pytest.fixture
def http(server: ChalkServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client


@pytest.fixture
def engine(server: ChalkServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.engine_url) as client:
        yield client


@pytest.fixture
def token(server: ChalkServer, http: httpx.Client) -> str:
    access_token: str = token_body(http, server)["access_token"]
    return access_token


def ids(*values: Any, kind: pa.DataType | None = None) -> pa.Table:
    return pa.table({"user.id": pa.array(values, kind)})


def block(
    user_ids: pa.Table | Sequence[Any], outputs: Any = SCALARS, **header: Any
) -> tuple[dict[str, Any], pa.Table]:
    table = user_ids if isinstance(user_ids, pa.Table) else ids(*user_ids)
    return {"outputs": outputs, **header}, table


def post(client: httpx.Client, token: str, body: bytes, **headers: str) -> httpx.Response:
    return client.post(
        BULK_PATH,
        content=body,
        headers={"Content-Type": "application/octet-stream", **auth(token, **headers)},
    )


def bulk(
    client: httpx.Client, token: str, *blocks: tuple[Mapping[str, Any], pa.Table], **headers: str
) -> list[BulkAnswer]:
    response = post(client, token, encode_request(blocks), **headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    assert int(response.headers["content-length"]) == len(response.content)
    answers = decode_response(response.content, what="the bulk query")
    assert len(answers) == len(blocks)
    return answers


def one(
    client: httpx.Client,
    token: str,
    user_ids: pa.Table | Sequence[Any],
    outputs: Any = SCALARS,
    **header: Any,
) -> BulkAnswer:
    (answer,) = bulk(client, token, block(user_ids, outputs, **header))
    return answer


def columns(answer: BulkAnswer) -> dict[str, list[Any]]:
    assert answer.scalars is not None, answer.errors
    return answer.scalars.to_pydict()


def _model(data: bytes) -> tuple[dict[str, Any], dict[str, bytes], dict[str, bytes]]:
    """A byte model's attributes, items and nested models, read by hand (nothing may follow)."""
    assert data.startswith(b"CHALK_BYTE_TRANSMISSION")
    at = 23

    def section() -> dict[str, Any]:
        nonlocal at
        length = int.from_bytes(data[at : at + 8], "big")
        value: dict[str, Any] = json.loads(data[at + 8 : at + 8 + length])
        at += 8 + length
        return value

    def slices(lengths: dict[str, int]) -> dict[str, bytes]:
        nonlocal at
        found = {}
        for name, length in lengths.items():
            found[name] = data[at : at + length]
            at += length
        return found

    attributes = section()
    assert section() == {}
    items = slices(section())
    nested = slices(section())
    assert at == len(data)
    return attributes, items, nested


def raw_tables(body: bytes) -> list[tuple[bytes, dict[str, bytes]]]:
    """Each result's raw ``scalar_data`` bytes and raw group tables, in order."""
    _, _, outer = _model(body)
    _, results, _ = _model(outer["query_results_bytes"])
    tables = []
    for index in range(len(results)):
        _, items, nested = _model(results[str(index)])
        _, groups, _ = _model(nested["groups_data"])
        tables.append((items["scalar_data"], groups))
    return tables


# -- values ----------------------------------------------------------------------------------------


def test_rows_answer_the_seeded_values_in_input_order(http: httpx.Client, token: str) -> None:
    user_ids = [4, 1, 1000, 2, 500]
    answer = one(http, token, user_ids, ["user.credit_score", "user.name", "user.age"])

    assert answer.scalars is not None
    assert answer.scalars.schema == pa.schema(
        [
            ("user.id", pa.int64()),
            ("user.credit_score", pa.int64()),
            ("user.name", pa.large_string()),
            ("user.age", pa.int64()),
            ("__ts__", pa.timestamp("us", tz="UTC")),
        ]
    )
    found = columns(answer)
    assert found["user.id"] == user_ids
    for name in SCALARS:
        assert found[name] == [seeded_user(n)[name] for n in user_ids], name  # type: ignore[index]
    assert found["__ts__"] == [NOW_TIME] * len(user_ids)
    assert answer.errors == []
    assert answer.groups == {}
    assert answer.meta is None


def test_ts_follows_the_server_clock(http: httpx.Client, token: str, clock: ServerClock) -> None:
    clock.advance(90.5)
    assert columns(one(http, token, [1], ["user.age"]))["__ts__"] == [
        datetime(2027, 1, 15, 8, 1, 30, 500000, tzinfo=UTC)
    ]


def test_outputs_answer_once_each_and_user_id_leads(http: httpx.Client, token: str) -> None:
    answer = one(http, token, [1, 2], ["user.age", "user.id", "user.age", "user.name"])
    assert answer.scalars is not None
    assert answer.scalars.column_names == ["user.id", "user.age", "user.name", "__ts__"]


def test_ids_outside_the_range_and_null_ids_answer_nulls_without_errors(
    http: httpx.Client, token: str
) -> None:
    answer = one(http, token, [0, 5000, None, -3], SCALARS)
    found = columns(answer)
    assert found["user.id"] == [0, 5000, None, -3]
    for name in SCALARS:
        assert found[name] == [None] * 4
    assert answer.errors == []


@pytest.mark.parametrize(
    "table",
    [
        ids(1, 2, kind=pa.int8()),
        ids(1, 2, kind=pa.uint16()),
        ids(1, 2, kind=pa.uint64()),
        ids(1, 2, kind=pa.int32()),
        ids("1", "002", kind=pa.string()),
        ids("1", "2", kind=pa.large_string()),
        pa.table({"user.id": pa.array(["1", "2"]).dictionary_encode()}),
        pa.table({"user.name": ["ignored", "too"], "user.id": [1, 2], "__ts__": [None, None]}),
    ],
    ids=["int8", "uint16", "uint64", "int32", "string", "large_string", "dictionary", "other-columns"],
)
def test_ids_of_any_integer_or_digit_string_type(http: httpx.Client, token: str, table: pa.Table) -> None:
    found = columns(one(http, token, table, ["user.name"]))
    assert found["user.id"] == [1, 2]
    assert found["user.name"] == ["Ada Lovelace", "Alan Turing"]


def test_an_empty_input_table_answers_no_rows(http: httpx.Client, token: str) -> None:
    answer = one(http, token, ids(kind=pa.int64()), [*SCALARS, "user.transactions"])
    assert answer.scalars is not None
    assert answer.scalars.num_rows == 0
    assert answer.scalars.column_names == ["user.id", *SCALARS, "__ts__"]
    assert answer.groups["user.transactions"].num_rows == 0


def test_uploaded_values_override_seeded_ones(http: httpx.Client, token: str) -> None:
    response = http.post(
        "/v1/upload_features",
        json={
            "input": {"user.id": [1, 5000], "user.name": ["Ada King", "Someone New"], "user.age": [36, 40]}
        },
        headers=auth(token),
    )
    assert response.status_code == 200, response.text
    found = columns(one(http, token, [1, 5000, 2], SCALARS))
    assert found["user.name"] == ["Ada King", "Someone New", "Alan Turing"]
    assert found["user.age"] == [36, 40, seeded_user(2)["user.age"]]  # type: ignore[index]
    assert found["user.credit_score"] == [
        seeded_user(1)["user.credit_score"],
        None,
        seeded_user(2)["user.credit_score"],
    ]  # type: ignore[index]


def test_the_failing_user_has_a_null_score_and_one_error(http: httpx.Client, token: str) -> None:
    answer = one(http, token, [FAILING_USER_ID, 1], SCALARS)
    found = columns(answer)
    assert found["user.credit_score"] == [None, seeded_user(1)["user.credit_score"]]  # type: ignore[index]
    assert found["user.name"][0] == seeded_user(FAILING_USER_ID)["user.name"]  # type: ignore[index]
    (error,) = answer.errors
    assert error["code"] == "RESOLVER_FAILED"
    assert error["category"] == "FIELD"
    assert error["feature"] == "user.credit_score"
    assert error["resolver"] == FEATURE_RESOLVERS["user.credit_score"]
    assert error["display_primary_key"] == str(FAILING_USER_ID)
    assert error["exception"]["kind"] == "ConnectionError"

    assert one(http, token, [FAILING_USER_ID], ["user.age"]).errors == []  # no score asked, no error


def test_an_uploaded_score_fixes_the_failing_user(http: httpx.Client, token: str) -> None:
    http.post(
        "/v1/upload_features",
        json={"input": {"user.id": [FAILING_USER_ID], "user.credit_score": [700]}},
        headers=auth(token),
    )
    answer = one(http, token, [FAILING_USER_ID], ["user.credit_score"])
    assert columns(answer)["user.credit_score"] == [700]
    assert answer.errors == []


def test_an_unknown_output_is_an_error_and_the_rest_still_answers(http: httpx.Client, token: str) -> None:
    unknown, other = bulk(
        http,
        token,
        block([1, 2], ["user.name", "user.nope", "user.age"]),
        block([3], ["user.age"]),
    )
    assert columns(unknown)["user.name"] == ["Ada Lovelace", "Alan Turing"]
    assert unknown.scalars is not None
    assert unknown.scalars.column_names == ["user.id", "user.name", "user.age", "__ts__"]
    (error,) = unknown.errors
    assert (error["code"], error["category"], error["feature"]) == (
        "RESOLVER_NOT_FOUND",
        "REQUEST",
        "user.nope",
    )
    assert columns(other)["user.age"] == [seeded_user(3)["user.age"]]  # type: ignore[index]
    assert other.errors == []


# -- user.transactions ----------------------------------------------------------------------------


def test_seeded_transactions_follow_the_documented_rules() -> None:
    assert HAS_MANY_RESOLVERS == {"user.transactions": "resolvers.get_user_transactions"}
    assert seeded_transactions(1) == [
        {"transaction.id": 10, "transaction.user_id": 1, "transaction.amount": 0.37}
    ]
    assert seeded_transactions(7) == [
        {
            "transaction.id": 70 + k,
            "transaction.user_id": 7,
            "transaction.amount": (7 * 37 + k * 53) % 10_000 / 100,
        }
        for k in range(3)
    ]
    assert [len(seeded_transactions(n)) for n in range(1, 9)] == [1, 2, 3, 0, 1, 2, 3, 0]
    for outside in (0, -1, 1001, True):
        assert seeded_transactions(outside) == []
    every = [t for n in range(1, 1001) for t in seeded_transactions(n)]
    assert len({t["transaction.id"] for t in every}) == len(every) == 1500
    assert all(0 <= t["transaction.amount"] < 100 for t in every)


def test_transactions_come_back_as_a_group_table(http: httpx.Client, token: str) -> None:
    answer = one(http, token, [7, 1, 4, 7, 5000, None, 13], ["user.transactions", "user.name"])
    table = answer.groups["user.transactions"]
    assert table.schema == pa.schema(
        [
            ("transaction.id", pa.int64()),
            ("transaction.user_id", pa.int64()),
            ("transaction.amount", pa.float64()),
            ("__ts__", pa.timestamp("us", tz="UTC")),
        ]
    )
    expected = [*seeded_transactions(7), *seeded_transactions(1), *seeded_transactions(13)]  # each user once
    rows = table.drop_columns(["__ts__"]).to_pylist()
    assert rows == expected
    assert table.column("__ts__").to_pylist() == [NOW_TIME] * len(expected)
    assert answer.scalars is not None
    assert answer.scalars.column_names == ["user.id", "user.name", "__ts__"]  # not a scalar column
    assert answer.errors == []


def test_users_without_transactions_give_an_empty_group(http: httpx.Client, token: str) -> None:
    table = one(http, token, [4, 8, 2000], ["user.transactions"]).groups["user.transactions"]
    assert table.num_rows == 0
    assert table.column_names == ["transaction.id", "transaction.user_id", "transaction.amount", "__ts__"]


def test_the_json_online_query_says_transactions_are_bulk_only(http: httpx.Client, token: str) -> None:
    response = http.post(
        "/v1/query/online",
        json={"inputs": {"user.id": 1}, "outputs": ["user.name", "user.transactions"]},
        headers=auth(token),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [result["field"] for result in body["data"]] == ["user.name"]
    (error,) = body["errors"]
    assert error["code"] == "RESOLVER_NOT_FOUND"
    assert error["feature"] == "user.transactions"
    assert BULK_PATH in error["message"]


# -- the header: now, meta and the rules ----------------------------------------------------------

TIME = "2026-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "now",
    [None, TIME, [TIME], [TIME, "2026-01-01T01:00:00+01:00", "2026-06-01T12:30:00.123456-04:00"]],
    ids=["null", "string", "list-of-1", "list-of-n"],
)
def test_valid_now_values(http: httpx.Client, token: str, now: Any) -> None:
    answer = one(http, token, [1, 2, 3], ["user.age"], now=now)
    assert columns(answer)["user.age"] == [19, 20, 21]
    assert answer.errors == []


BAD_HEADERS = [
    pytest.param({"now": [TIME, TIME]}, "INVALID_QUERY", "'now' has 2 entries", id="now-wrong-length"),
    pytest.param({"now": []}, "INVALID_QUERY", "'now' has 0 entries", id="now-empty-list"),
    pytest.param({"now": "yesterday"}, "PARSE_FAILED", "'now' must be", id="now-not-a-time"),
    pytest.param({"now": "2026-01-01T00:00:00"}, "PARSE_FAILED", "'now' must be", id="now-without-offset"),
    pytest.param({"now": [TIME, 5, TIME]}, "PARSE_FAILED", "'now'[1]", id="now-entry-not-a-time"),
    pytest.param({"now": 1767225600}, "PARSE_FAILED", "'now' must be", id="now-a-number"),
    pytest.param({"outputs": None}, "INVALID_QUERY", "'outputs'", id="outputs-missing"),
    pytest.param({"outputs": []}, "INVALID_QUERY", "'outputs'", id="outputs-empty"),
    pytest.param({"outputs": "user.name"}, "INVALID_QUERY", "'outputs'", id="outputs-a-string"),
    pytest.param({"outputs": ["user.name", 5]}, "INVALID_QUERY", "'outputs'", id="outputs-not-names"),
    pytest.param({"staleness": {"user.name": 5}}, "INVALID_QUERY", "'staleness'", id="staleness"),
    pytest.param({"context": ["tag"]}, "INVALID_QUERY", "'context'", id="context-not-object"),
    pytest.param({"context": {"tags": "a"}}, "INVALID_QUERY", "'context'['tags']", id="context-tags"),
    pytest.param({"include_meta": "yes"}, "INVALID_QUERY", "'include_meta'", id="include-meta"),
    pytest.param({"query_name": 5}, "INVALID_QUERY", "'query_name'", id="query-name"),
    pytest.param({"branch_id": False}, "INVALID_QUERY", "'branch_id'", id="branch-id"),
]


@pytest.mark.parametrize(("header", "code", "message"), BAD_HEADERS)
def test_a_bad_header_fails_its_query_only(
    http: httpx.Client, token: str, header: dict[str, Any], code: str, message: str
) -> None:
    fields = {"outputs": ["user.age"], **header}
    if fields["outputs"] is None:
        del fields["outputs"]
    failed, fine = bulk(http, token, (fields, ids(1, 2, 3)), block([1], ["user.age"]))
    assert failed.scalars is None
    assert failed.groups == {}
    (error,) = failed.errors
    assert (error["code"], error["category"]) == (code, "REQUEST")
    assert message in error["message"]
    assert columns(fine)["user.age"] == [19]


BAD_INPUTS = [
    pytest.param(pa.table({"user.name": ["Ada"]}), "no 'user.id' column", id="no-user-id"),
    pytest.param(pa.table({}), "no 'user.id' column", id="no-columns"),
    pytest.param(ids(1.0, 2.0), "integers or strings of digits, not double", id="floats"),
    pytest.param(ids(True), "integers or strings of digits, not bool", id="bools"),
    pytest.param(ids("1", "abc"), "row 1 of 'user.id' is not a string of digits", id="not-digits"),
    pytest.param(ids(" 1"), "row 0 of 'user.id' is not a string of digits", id="spaces"),
    pytest.param(
        ids(2**63, kind=pa.uint64()), "row 0 of 'user.id' is out of the 64-bit range", id="uint64-big"
    ),
    pytest.param(ids("9" * 20), "row 0 of 'user.id' is out of the 64-bit range", id="digits-big"),
    pytest.param(
        pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["user.id", "user.id"]),
        "has 2 'user.id' columns",
        id="two-user-ids",
    ),
]


@pytest.mark.parametrize(("table", "message"), BAD_INPUTS)
def test_a_bad_input_table_fails_its_query_only(
    http: httpx.Client, token: str, table: pa.Table, message: str
) -> None:
    failed, fine = bulk(http, token, ({"outputs": ["user.age"]}, table), block([2], ["user.age"]))
    assert failed.scalars is None
    (error,) = failed.errors
    assert (error["code"], error["category"]) == ("INVALID_QUERY", "REQUEST")
    assert message in error["message"]
    assert columns(fine)["user.age"] == [20]


def test_null_ids_of_a_null_typed_column_are_accepted(http: httpx.Client, token: str) -> None:
    assert columns(one(http, token, ids(None, None), ["user.age"]))["user.age"] == [None, None]


def test_unknown_header_fields_and_what_official_clients_send_are_accepted(
    http: httpx.Client, token: str
) -> None:
    header = {
        "outputs": ["user.age"],
        "expression_outputs": [],
        "now": None,
        "staleness": {"user.age": "1h"},
        "context": {"environment": None, "tags": ["a"], "required_resolver_tags": None},
        "include_meta": True,
        "explain": False,
        "correlation_id": "c-1",
        "query_name": None,
        "query_name_version": None,
        "deployment_id": None,
        "branch_id": None,
        "meta": None,
        "store_plan_stages": False,
        "query_context": None,
        "encoding_options": {"encode_structs_as_objects": False},
        "value_metrics_tag_by_features": [],
        "overlay_graph": None,
        "input_schema_hint": None,
        "planner_options": {"pack_groups_into_structs": True},
        "client_supports_64bit": False,
        "something_new": {"x": 1},
    }
    (answer,) = bulk(http, token, (header, ids(5)))
    assert columns(answer)["user.age"] == [23]
    assert answer.meta is not None


def test_include_meta_adds_the_query_meta(http: httpx.Client, token: str) -> None:
    answer = one(http, token, [1], ["user.age"], include_meta=True)
    meta = answer.meta
    assert meta is not None
    assert meta["environment_id"] == "env-dev-1"
    assert meta["environment_name"] == "dev"
    assert meta["deployment_id"] == "deployment-local"
    assert meta["query_timestamp"] == "2027-01-15T08:00:00.000000Z"
    assert meta["query_id"].startswith("query-")
    assert isinstance(meta["execution_duration_s"], float)
    assert len(meta["query_hash"]) == 32
    again = one(http, token, [1], ["user.age"], include_meta=True)
    assert again.meta is not None
    assert again.meta["query_id"] != meta["query_id"]
    (in_prod,) = bulk(
        http, token, block([1], ["user.age"], include_meta=True), **{"X-Chalk-Env-Id": "env-prod-1"}
    )
    assert in_prod.meta is not None
    assert in_prod.meta["environment_id"] == "env-prod-1"
    assert one(http, token, [1], ["user.age"], include_meta=False).meta is None


def test_twelve_queries_come_back_in_order(http: httpx.Client, token: str) -> None:
    blocks = [block([n, n + 100], ["user.age"] if n % 2 else ["user.name"]) for n in range(1, 13)]
    answers = bulk(http, token, *blocks)
    for n, answer in enumerate(answers, start=1):
        found = columns(answer)
        assert found["user.id"] == [n, n + 100]
        name = "user.age" if n % 2 else "user.name"
        assert found[name] == [seeded_user(n)[name], seeded_user(n + 100)[name]]  # type: ignore[index]


# -- the bytes: request containers, content types, compression, answer containers ----------------


def _arrow_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _envelope(*blocks: tuple[dict[str, Any], bytes]) -> bytes:
    body = bytearray(b"chal1")
    for header, arrow in blocks:
        head = json.dumps(header).encode()  # Python's default separators, as chalkpy sends
        body += len(head).to_bytes(8, "big") + head + len(arrow).to_bytes(8, "big") + arrow
    return bytes(body)


def test_a_stream_input_is_read_like_a_file(http: httpx.Client, token: str) -> None:
    body = _envelope(
        ({"outputs": ["user.name"], "feather_body_type": "RECORD_BATCHES"}, _arrow_stream(ids(1, 3))),
        ({"outputs": ["user.age"], "feather_body_type": "RECORD_BATCHES"}, _arrow_stream(ids(2))),
    )
    response = post(http, token, body)
    assert response.status_code == 200, response.text
    first, second = decode_response(response.content, what="the bulk query")
    assert columns(first)["user.name"] == ["Ada Lovelace", "Grace Hopper"]
    assert columns(second)["user.age"] == [20]


@pytest.mark.parametrize("content_type", ["application/json", "application/octet-stream", None])
def test_the_body_is_read_whatever_its_content_type(
    http: httpx.Client, token: str, content_type: str | None
) -> None:
    headers = auth(token) if content_type is None else auth(token, **{"Content-Type": content_type})
    response = http.post(BULK_PATH, content=encode_request([block([1], ["user.age"])]), headers=headers)
    assert response.status_code == 200, response.text
    (answer,) = decode_response(response.content, what="the bulk query")
    assert columns(answer)["user.age"] == [19]


def test_tables_are_lz4_compressed_arrow_files_by_default(http: httpx.Client, token: str) -> None:
    response = post(http, token, encode_request([block([1, 2, 3], [*SCALARS, "user.transactions"])]))
    ((scalars, groups),) = raw_tables(response.content)
    for raw in (scalars, groups["user.transactions"]):
        assert raw.startswith(ARROW_FILE)
        assert LZ4_FRAME_MAGIC in raw
    (answer,) = decode_response(response.content, what="the bulk query")
    assert columns(answer)["user.name"] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]


@pytest.mark.parametrize(
    ("settings", "container", "compressed"),
    [
        ({"response_compression_scheme": "uncompressed"}, ARROW_FILE, False),
        ({"response_compression_scheme": "lz4"}, ARROW_FILE, True),
        ({"feather_body_type": "RECORD_BATCHES"}, ARROW_STREAM, True),
        ({"feather_body_type": "TABLE", "response_compression_scheme": None}, ARROW_FILE, True),
        (
            {"feather_body_type": "RECORD_BATCHES", "response_compression_scheme": "uncompressed"},
            ARROW_STREAM,
            False,
        ),
    ],
    ids=["uncompressed", "lz4", "record-batches", "table", "record-batches-uncompressed"],
)
def test_the_header_chooses_container_and_compression(
    http: httpx.Client, token: str, settings: dict[str, Any], container: bytes, compressed: bool
) -> None:
    blocks = [
        block([1, 2, 3], [*SCALARS, "user.transactions"], **settings),
        block([4], ["user.age"], **settings),
    ]
    response = post(http, token, encode_request(blocks))
    assert response.status_code == 200, response.text
    for scalars, groups in raw_tables(response.content):
        for raw in (scalars, *groups.values()):
            assert raw.startswith(container)
            assert (LZ4_FRAME_MAGIC in raw) is compressed
    first, second = decode_response(response.content, what="the bulk query")
    assert first.groups["user.transactions"].num_rows == 6
    assert columns(second)["user.age"] == [22]


def test_a_query_without_data_still_carries_an_empty_table(http: httpx.Client, token: str) -> None:
    response = post(http, token, encode_request([block([1], [])]))
    ((scalars, groups),) = raw_tables(response.content)
    assert groups == {}
    assert pa.ipc.open_file(pa.py_buffer(scalars)).read_all().num_columns == 0
    _, _, outer = _model(response.content)
    _, results, _ = _model(outer["query_results_bytes"])
    attributes, _, _ = _model(results["0"])
    assert attributes["has_data"] is False
    assert attributes["meta"] is None
    assert [json.loads(error)["code"] for error in attributes["errors"]] == ["INVALID_QUERY"]


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (
            {"response_compression_scheme": "zstd"},
            {"response_compression_scheme": "zstd"},
            "'response_compression_scheme' must be one of",
        ),
        ({"feather_body_type": "ROWS"}, {}, "'feather_body_type' must be one of"),
        ({"feather_body_type": 5}, {}, "'feather_body_type' must be one of"),
        ({"response_compression_scheme": "uncompressed"}, {}, "the same 'response_compression_scheme'"),
        (
            {"feather_body_type": "RECORD_BATCHES"},
            {"feather_body_type": "TABLE"},
            "the same 'feather_body_type'",
        ),
    ],
    ids=["zstd", "unknown-body-type", "not-a-string", "compression-differs", "body-type-differs"],
)
def test_answer_settings_it_cannot_honour_are_400(
    http: httpx.Client, token: str, first: dict[str, Any], second: dict[str, Any], message: str
) -> None:
    response = post(http, token, encode_request([block([1], **first), block([2], **second)]))
    error = error_of(response, 400, "INVALID_QUERY")
    assert message in str(error.detail)


def test_absent_and_lz4_are_the_same_choice(http: httpx.Client, token: str) -> None:
    answers = bulk(
        http, token, block([1], ["user.age"]), block([2], ["user.age"], response_compression_scheme="lz4")
    )
    assert [columns(answer)["user.age"] for answer in answers] == [[19], [20]]


def _arrow_file(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


_GOOD = _envelope(({"outputs": ["user.age"]}, _arrow_file(ids(1))))

MALFORMED = [
    pytest.param(b"", "the magic", id="empty"),
    pytest.param(b"chal1", "no query", id="magic-only"),
    pytest.param(b"chalk" + _GOOD[5:], "does not start with 'chal1'", id="wrong-magic"),
    pytest.param(b"\x00\xff" * 40, "does not start with 'chal1'", id="binary-noise"),
    pytest.param(b'{"outputs": ["user.age"]}', "does not start with 'chal1'", id="json"),
    pytest.param(_GOOD[:-10], "input table needs", id="truncated-table"),
    pytest.param(_GOOD[:9], "the length of query 0's header", id="truncated-length"),
    pytest.param(_GOOD + b"\x00\x00", "the length of query 1's header", id="trailing-bytes"),
    pytest.param(
        _envelope(({"outputs": ["user.age"]}, b"not arrow")), "neither an Arrow IPC file", id="not-arrow"
    ),
    pytest.param(
        _envelope(({"outputs": ["user.age"]}, b"ARROW1\x00\x00garbage")),
        "not valid Arrow IPC",
        id="broken-arrow",
    ),
    pytest.param(b"chal1" + (3).to_bytes(8, "big") + b"[1]", "not a JSON object", id="header-array"),
    pytest.param(b"chal1" + (2).to_bytes(8, "big") + b"{x", "not UTF-8 JSON", id="header-not-json"),
    pytest.param(b"chal1" + (2**64 - 1).to_bytes(8, "big"), "header needs", id="huge-length"),
]


@pytest.mark.parametrize(("body", "message"), MALFORMED)
def test_a_malformed_envelope_is_400_with_the_json_error_body(
    http: httpx.Client, token: str, body: bytes, message: str
) -> None:
    error = error_of(post(http, token, body), 400, "INVALID_QUERY")
    assert message in str(error.detail)
    assert str(error.detail).startswith(
        "invalid query: the body is not a well-formed bulk query (chal1) envelope"
    )


def test_the_envelope_the_malformed_ones_start_from_is_answered(http: httpx.Client, token: str) -> None:
    response = post(http, token, _GOOD)
    assert response.status_code == 200, response.text
    (answer,) = decode_response(response.content, what="the bulk query")
    assert columns(answer)["user.age"] == [19]


# -- routing, auth, the log, faults ---------------------------------------------------------------


def test_the_engine_address_serves_it(engine: httpx.Client, server: ChalkServer, token: str) -> None:
    server.clear_requests()
    (answer,) = bulk(
        engine,
        token,
        block([1], ["user.name"]),
        **{"X-Chalk-Deployment-Type": "engine", "X-Chalk-Env-Id": "env-prod-1"},
    )
    assert columns(answer)["user.name"] == ["Ada Lovelace"]
    (record,) = server.requests
    assert (record.method, record.path, record.served_by, record.status, record.operation) == (
        "POST",
        BULK_PATH,
        "engine",
        200,
        "query_bulk",
    )
    assert ("POST", BULK_PATH) in server.routes("engine")


def test_a_branch_bulk_query_is_served_by_the_api_address_only(
    http: httpx.Client, engine: httpx.Client, token: str
) -> None:
    branch = {"X-Chalk-Deployment-Type": "branch", "X-Chalk-Branch-Id": "my-branch"}
    (answer,) = bulk(http, token, block([2], ["user.name"], branch_id="my-branch"), **branch)
    assert columns(answer)["user.name"] == ["Alan Turing"]
    response = post(engine, token, encode_request([block([2])]), **branch)
    assert "branch" in str(error_of(response, 400, "VALIDATION_FAILED").detail)


def test_the_log_records_the_query_name(http: httpx.Client, server: ChalkServer, token: str) -> None:
    server.clear_requests()
    bulk(
        http,
        token,
        block([1], query_name="from-body"),
        block([2], query_name="second"),
        **{"X-Chalk-Query-Name": "from-header"},
    )
    bulk(http, token, block([1]), **{"X-Chalk-Query-Name": "from-header"})
    bulk(http, token, block([1]))
    post(http, token, b"junk", **{"X-Chalk-Query-Name": "refused"})
    records = server.requests
    assert [(record.query_name, record.status) for record in records] == [
        ("from-body", 200),
        ("from-header", 200),
        (None, 200),
        ("refused", 400),
    ]
    assert all(record.operation == "query_bulk" for record in records)
    assert all("authorization" not in record.headers for record in records)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer a.b.c"},
    ],
    ids=["missing", "empty", "basic", "garbage"],
)
def test_it_wants_a_valid_token(http: httpx.Client, engine: httpx.Client, headers: dict[str, str]) -> None:
    for client in (http, engine):
        response = client.post(BULK_PATH, content=encode_request([block([1])]), headers=headers)
        error_of(response, 401, "UNAUTHENTICATED")
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_token_is_checked_before_the_body(http: httpx.Client) -> None:
    error_of(http.post(BULK_PATH, content=b"junk"), 401, "UNAUTHENTICATED")


def test_revoked_and_expired_tokens_and_a_foreign_client_id_are_401(
    http: httpx.Client, server: ChalkServer, clock: ServerClock, token: str
) -> None:
    body = encode_request([block([1])])
    error_of(post(http, token, body, **{"X-Chalk-Client-Id": "someone-else"}), 401, "UNAUTHENTICATED")
    server.revoke_tokens()
    error_of(post(http, token, body), 401, "UNAUTHENTICATED")
    fresh = token_body(http, server)["access_token"]
    assert post(http, fresh, body).status_code == 200
    clock.advance(3600)
    error_of(post(http, fresh, body), 401, "UNAUTHENTICATED")


def test_an_unknown_environment_is_400(http: httpx.Client, token: str) -> None:
    response = post(http, token, encode_request([block([1])]), **{"X-Chalk-Env-Id": "env-nope"})
    assert "env-nope" in str(error_of(response, 400, "VALIDATION_FAILED").detail)


def test_faults_name_the_operation(http: httpx.Client, server: ChalkServer, token: str) -> None:
    body = encode_request([block([1], ["user.age"])])
    server.faults.add(Fault.status("query_bulk", 503))
    error_of(post(http, token, body), 503, "UPSTREAM_FAILED")
    server.faults.add(Fault.missing_fields("query_bulk"))  # a binary answer is left as it is
    response = post(http, token, body)
    assert response.status_code == 200
    (answer,) = decode_response(response.content, what="the bulk query")
    assert columns(answer)["user.age"] == [19]
    assert server.requests[-1].fault == "missing_fields"
