"""ChalkServer's writes over real HTTP: Arrow multi-uploads, row deletions and column drops.

Bodies are built by hand here (``struct``, ``json`` and pyarrow), and bulk answers read by hand, so
these tests share no code with either side's codec (``chalk_client._api.feather``,
``chalk_client.testing._feather``): what they check is the wire format itself.
"""

from __future__ import annotations

import io
import json
import struct
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from chalk_openapi.models import FeatureDeletionResponse, MultiUploadFeaturesResponse

from chalk_client.testing import FAILING_USER_ID, ChalkServer, seeded_user
from tests.conftest import ServerClock
from tests.testing.test_server_data import auth, error_of, token_body

MULTI_PATH = "/v1/upload_features/multi"
UPLOAD_PATH = "/v1/upload_features"
ROWS_PATH = "/v1/features/rows"
COLUMNS_PATH = "/v1/features/columns"
QUERY_PATH = "/v1/query/online"
BULK_PATH = "/v1/query/feather"
MAGIC = b"CHALK_BYTE_TRANSMISSION"
SCALARS = ["user.name", "user.age", "user.credit_score"]


@pytest.fixture
def server() -> Iterator[ChalkServer]:
    # A clock that stands still: answers to the same query are equal, timestamps included.
    with ChalkServer(clock=ServerClock(), offline_duration=0) as running:
        yield running


@pytest.fixture
def http(server: ChalkServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client


@pytest.fixture
def token(server: ChalkServer, http: httpx.Client) -> str:
    access_token: str = token_body(http, server)["access_token"]
    return access_token


# -- bodies, built by hand -------------------------------------------------------------------------


def section(value: Any) -> bytes:
    encoded = json.dumps(value).encode()
    return struct.pack(">Q", len(encoded)) + encoded


def byte_model(
    attributes: dict[str, Any], items: dict[str, bytes], nested: dict[str, bytes] | None = None
) -> bytes:
    """Magic, attributes, ``{}``, item lengths + items, nested lengths + nested models."""
    nested = nested or {}
    parts = [MAGIC, section(attributes), section({})]
    parts += [section({name: len(data) for name, data in items.items()}), *items.values()]
    parts += [section({name: len(data) for name, data in nested.items()}), *nested.values()]
    return b"".join(parts)


def arrow(table: pa.Table, *, stream: bool = False, compression: str | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    opener = pa.ipc.new_stream if stream else pa.ipc.new_file
    with opener(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression=compression)) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def upload_body(
    table: pa.Table,
    features: Sequence[str] | None = None,
    *,
    compression: str | None = None,
    stream: bool = False,
) -> bytes:
    """The body chalkpy sends for `table` (``features`` in schema order unless given)."""
    attributes = {
        "features": list(table.column_names if features is None else features),
        "table_compression": compression or "uncompressed",
    }
    return byte_model(attributes, {"table_bytes": arrow(table, stream=stream, compression=compression)})


def multi_upload(
    http: httpx.Client, token: str, body: bytes, content_type: str = "application/json"
) -> MultiUploadFeaturesResponse:
    response = http.post(MULTI_PATH, content=body, headers={"Content-Type": content_type, **auth(token)})
    assert response.status_code == 200, response.text
    answer = MultiUploadFeaturesResponse.from_dict(response.json())
    assert uuid.UUID(answer.operation_id).version == 4
    return answer


def delete(http: httpx.Client, token: str, path: str, body: Any) -> FeatureDeletionResponse:
    response = http.request("DELETE", path, json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    return FeatureDeletionResponse.from_dict(response.json())


def delete_rows(http: httpx.Client, token: str, keys: list[Any], **fields: Any) -> list[Any]:
    """chalkpy's body: every key present, in its order."""
    body = {
        "namespace": "user",
        "features": None,
        "tags": None,
        "primary_keys": keys,
        "retain_offline": False,
        "retain_online": False,
    }
    answer = delete(http, token, ROWS_PATH, {**body, **fields})
    assert isinstance(answer.errors, list)
    return answer.errors


def drop(http: httpx.Client, token: str, features: list[str], **fields: Any) -> list[Any]:
    body = {"namespace": "user", "features": features, "retain_offline": False, "retain_online": False}
    answer = delete(http, token, COLUMNS_PATH, {**body, **fields})
    assert isinstance(answer.errors, list)
    return answer.errors


def codes(errors: list[Any]) -> list[tuple[str, Any]]:
    return [(str(error.code), error.feature if isinstance(error.feature, str) else None) for error in errors]


# -- reading what the queries answer ---------------------------------------------------------------


class Value(NamedTuple):
    value: Any
    cache_hit: bool
    error: str | None


def online(
    http: httpx.Client, token: str, user_id: int, outputs: Sequence[str] = SCALARS
) -> dict[str, Value]:
    body = {"inputs": {"user.id": user_id}, "outputs": list(outputs), "include_meta": True}
    response = http.post(QUERY_PATH, json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    found = {}
    for result in response.json()["data"]:
        error = result["error"]["code"] if result["error"] is not None else None
        found[result["field"]] = Value(result["value"], result["meta"]["cache_hit"], error)
    return found


def read_model(data: bytes) -> tuple[dict[str, Any], dict[str, bytes], dict[str, bytes]]:
    """A byte model's attributes, items and nested models (nothing may follow)."""
    assert data[: len(MAGIC)] == MAGIC
    at = len(MAGIC)

    def take_section() -> dict[str, Any]:
        nonlocal at
        (length,) = struct.unpack(">Q", data[at : at + 8])
        value: dict[str, Any] = json.loads(data[at + 8 : at + 8 + length])
        at += 8 + length
        return value

    def take_items() -> dict[str, bytes]:
        nonlocal at
        items = {}
        for name, length in take_section().items():
            items[name] = data[at : at + length]
            at += length
        return items

    attributes = take_section()
    assert take_section() == {}
    items = take_items()
    nested = take_items()
    assert at == len(data)
    return attributes, items, nested


def bulk(
    http: httpx.Client, token: str, user_ids: Sequence[int], outputs: Sequence[str] = SCALARS
) -> tuple[dict[str, list[Any]], list[dict[str, Any]]]:
    """One bulk query (a chal1 envelope built by hand): its scalar columns and its errors."""
    header = json.dumps({"outputs": list(outputs)}).encode()
    table = arrow(pa.table({"user.id": pa.array(user_ids, pa.int64())}))
    body = b"chal1" + struct.pack(">Q", len(header)) + header + struct.pack(">Q", len(table)) + table
    response = http.post(
        BULK_PATH, content=body, headers={"Content-Type": "application/octet-stream", **auth(token)}
    )
    assert response.status_code == 200, response.text
    _, _, nested = read_model(response.content)
    _, results, _ = read_model(nested["query_results_bytes"])
    attributes, items, _ = read_model(results["0"])
    assert attributes["has_data"] is True
    scalars = pa.ipc.open_file(pa.py_buffer(items["scalar_data"])).read_all().to_pydict()
    return scalars, [json.loads(error) for error in attributes["errors"] or []]


def offline(
    http: httpx.Client, token: str, user_ids: Sequence[int], outputs: Sequence[str] = SCALARS
) -> dict[str, list[Any]]:
    """An offline query of `user_ids` (the server's jobs finish at once): its columns."""
    body = {"output": list(outputs), "input": {"columns": ["user.id"], "values": [list(user_ids)]}}
    submitted = http.post("/v4/offline_query", json=body, headers=auth(token))
    assert submitted.status_code == 200, submitted.text
    job_id = submitted.json()["revisions"][0]["revision_id"]
    status = http.post("/v4/offline_query/status", json={"job_id": job_id}, headers=auth(token)).json()
    assert status["is_finished"] is True, status
    tables = [pq.read_table(io.BytesIO(http.get(url).content)) for url in status["urls"]]
    columns: dict[str, list[Any]] = pa.concat_tables(tables).to_pydict()
    return columns


def seeded(user_id: int, name: str) -> Any:
    user = seeded_user(user_id)
    assert user is not None
    return user[name]


# -- multi-upload ----------------------------------------------------------------------------------


def test_a_multi_upload_stores_every_row_for_the_online_bulk_and_offline_queries(
    server: ChalkServer, http: httpx.Client, token: str
) -> None:
    table = pa.table(
        {
            "user.id": pa.array([1, 5000, 2], pa.int64()),
            "user.name": ["Ada L.", "New User", "Alan T."],
            "user.age": pa.array([40, 30, 41], pa.int32()),
        }
    )
    # The Go client names the features in a map's order, not the table's.
    answer = multi_upload(http, token, upload_body(table, ["user.age", "user.id", "user.name"]))
    assert answer.errors == []
    assert (server.rows_stored, server.upload_requests) == (3, 1)

    ada = online(http, token, 1, ["user.id", *SCALARS])
    assert ada["user.name"] == Value("Ada L.", True, None)
    assert ada["user.age"] == Value(40, True, None)
    assert ada["user.id"] == Value(1, True, None)
    assert ada["user.credit_score"] == Value(seeded(1, "user.credit_score"), False, None)
    assert online(http, token, 5000)["user.name"] == Value("New User", True, None)

    columns, errors = bulk(http, token, [2, 1, 5000, 3])
    assert errors == []
    assert columns["user.name"] == ["Alan T.", "Ada L.", "New User", seeded(3, "user.name")]
    assert columns["user.age"] == [41, 40, 30, seeded(3, "user.age")]
    assert offline(http, token, [1, 5000])["user.name"] == ["Ada L.", "New User"]


@pytest.mark.parametrize("stream", [False, True], ids=["file", "stream"])
@pytest.mark.parametrize("compression", [None, "lz4", "zstd"])
@pytest.mark.parametrize("content_type", ["application/json", "application/octet-stream"])
def test_a_multi_upload_reads_files_and_streams_compressed_or_not(
    server: ChalkServer,
    http: httpx.Client,
    token: str,
    stream: bool,
    compression: str | None,
    content_type: str,
) -> None:
    table = pa.table(
        {"user.id": pa.array([7, 8], pa.uint8()), "user.name": pa.array(["x", "y"], pa.large_string())}
    )
    body = upload_body(table, compression=compression, stream=stream)
    assert multi_upload(http, token, body, content_type).errors == []
    assert online(http, token, 8)["user.name"] == Value("y", True, None)
    assert server.rows_stored == 2


def test_a_dictionary_encoded_column_is_read_as_its_values(http: httpx.Client, token: str) -> None:
    names = pa.array(["a", "b", "a"]).dictionary_encode()
    table = pa.table({"user.id": [1, 2, 3], "user.name": names})
    assert multi_upload(http, token, upload_body(table)).errors == []
    assert bulk(http, token, [1, 2, 3], ["user.name"])[0]["user.name"] == ["a", "b", "a"]


@pytest.mark.parametrize(
    ("columns", "code", "feature"),
    [
        pytest.param(
            {"user.shoe_size": pa.array([42, 43])}, "RESOLVER_NOT_FOUND", "user.shoe_size", id="unknown"
        ),
        pytest.param(
            {"user.transactions": pa.array([1, 2])}, "RESOLVER_NOT_FOUND", "user.transactions", id="has-many"
        ),
        pytest.param({"user.age": pa.array([1.5, 2.0])}, "VALIDATION_FAILED", "user.age", id="float-int"),
        pytest.param({"user.age": pa.array(["1", "2"])}, "VALIDATION_FAILED", "user.age", id="text-int"),
        pytest.param({"user.name": pa.array([1, 2])}, "VALIDATION_FAILED", "user.name", id="int-text"),
        pytest.param({"user.name": pa.array(["a", None])}, "VALIDATION_FAILED", "user.name", id="null"),
        pytest.param(
            {"user.credit_score": pa.array([1, 2**63], pa.uint64())},
            "VALIDATION_FAILED",
            "user.credit_score",
            id="beyond-int64",
        ),
    ],
)
def test_an_upload_with_one_bad_column_stores_nothing(
    server: ChalkServer, http: httpx.Client, token: str, columns: dict[str, pa.Array], code: str, feature: str
) -> None:
    table = pa.table({"user.id": [1, 2], "user.name": ["kept?", "kept?"], **columns})
    answer = multi_upload(http, token, upload_body(table))
    assert codes(answer.errors or []) == [(code, feature)]
    assert (server.rows_stored, server.upload_requests) == (0, 0)
    assert online(http, token, 1)["user.name"] == Value(seeded(1, "user.name"), False, None)


def test_a_bad_user_id_column_is_an_error_and_stores_nothing(
    server: ChalkServer, http: httpx.Client, token: str
) -> None:
    for ids in (pa.array(["1", "2"]), pa.array([1, None]), pa.array([1.0, 2.0])):
        answer = multi_upload(http, token, upload_body(pa.table({"user.id": ids, "user.age": [1, 2]})))
        assert codes(answer.errors or []) == [("VALIDATION_FAILED", "user.id")]
    assert server.rows_stored == 0


def test_an_empty_table_stores_nothing_and_counts_nothing(
    server: ChalkServer, http: httpx.Client, token: str
) -> None:
    table = pa.table({"user.id": pa.array([], pa.int64()), "user.name": pa.array([], pa.string())})
    assert multi_upload(http, token, upload_body(table)).errors == []
    assert (server.rows_stored, server.upload_requests) == (0, 0)


def test_multi_uploads_and_json_uploads_share_the_counters(
    server: ChalkServer, http: httpx.Client, token: str
) -> None:
    multi_upload(http, token, upload_body(pa.table({"user.id": [1, 2, 3], "user.age": [1, 2, 3]})))
    response = http.post(UPLOAD_PATH, json={"input": {"user.id": [4], "user.age": [4]}}, headers=auth(token))
    assert response.status_code == 200
    assert (server.rows_stored, server.upload_requests) == (4, 2)
    assert [(r.method, r.path, r.status) for r in server.requests if r.path == MULTI_PATH] == [
        ("POST", MULTI_PATH, 200)
    ]


_TABLE = arrow(pa.table({"user.id": [1], "user.name": ["x"]}))
_ATTRIBUTES = {"features": ["user.id", "user.name"], "table_compression": "uncompressed"}
_GOOD = byte_model(_ATTRIBUTES, {"table_bytes": _TABLE})


def _with_lengths(raw_map: bytes) -> bytes:
    """The good body with its item-length section replaced by `raw_map` (and no items)."""
    return (
        MAGIC + section(_ATTRIBUTES) + section({}) + struct.pack(">Q", len(raw_map)) + raw_map + section({})
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", "the magic", id="empty"),
        pytest.param(b"chalk" + _GOOD[5:], "does not start with 'CHALK_BYTE_TRANSMISSION'", id="wrong-magic"),
        pytest.param(b"chal1" + _GOOD[5:], "does not start with", id="bulk-magic"),
        pytest.param(b'{"features": ["user.id"]}', "does not start with", id="json"),
        pytest.param(_GOOD[:-5], "needs", id="truncated"),
        pytest.param(_GOOD[:40], "needs", id="cut-in-a-section"),
        pytest.param(_GOOD + b"\x00", "1 bytes follow the last section", id="trailing-byte"),
        pytest.param(MAGIC + struct.pack(">Q", 2**64 - 1), "needs", id="huge-length"),
        pytest.param(MAGIC + section([1]), "not a JSON object", id="attributes-array"),
        pytest.param(MAGIC + struct.pack(">Q", 2) + b"{x", "not UTF-8 JSON", id="attributes-not-json"),
        pytest.param(MAGIC + struct.pack(">Q", 2) + b"\xff\xfe", "not UTF-8 JSON", id="attributes-not-utf8"),
        pytest.param(
            _with_lengths(b'{"table_bytes": -1}'), "not a non-negative integer", id="negative-length"
        ),
        pytest.param(_with_lengths(b'{"table_bytes": "9"}'), "not a non-negative integer", id="text-length"),
        pytest.param(_with_lengths(b'{"table_bytes": true}'), "not a non-negative integer", id="bool-length"),
        pytest.param(_with_lengths(b'{"a": 0, "a": 0}'), "appears twice", id="duplicate-key"),
        pytest.param(byte_model(_ATTRIBUTES, {"table": _TABLE}), "no 'table_bytes' item", id="no-table"),
        pytest.param(
            byte_model(_ATTRIBUTES, {"table_bytes": b"PAR1...."}), "neither an Arrow IPC file", id="not-arrow"
        ),
        pytest.param(
            byte_model(_ATTRIBUTES, {"table_bytes": _TABLE[:-12]}), "not valid Arrow IPC", id="cut-arrow"
        ),
        pytest.param(byte_model({}, {"table_bytes": _TABLE}), "'features' must be a list", id="no-features"),
        pytest.param(
            byte_model({"features": "user.id"}, {"table_bytes": _TABLE}),
            "'features' must be a list",
            id="features-text",
        ),
        pytest.param(
            byte_model({"features": ["user.id"]}, {"table_bytes": _TABLE}),
            "must name each column",
            id="features-short",
        ),
        pytest.param(
            byte_model({"features": ["user.id", "user.name", "user.name"]}, {"table_bytes": _TABLE}),
            "must name each column",
            id="features-twice",
        ),
        pytest.param(
            byte_model({**_ATTRIBUTES, "table_compression": "gzip"}, {"table_bytes": _TABLE}),
            "'table_compression' must be one of",
            id="compression",
        ),
        pytest.param(
            byte_model({"features": ["user.name"]}, {"table_bytes": arrow(pa.table({"user.name": ["x"]}))}),
            "must have a 'user.id' column",
            id="no-user-id",
        ),
        pytest.param(
            byte_model(
                {"features": ["user.id", "user.id"]},
                {
                    "table_bytes": arrow(
                        pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["user.id", "user.id"])
                    )
                },
            ),
            "more than once",
            id="column-twice",
        ),
    ],
)
def test_a_malformed_body_is_a_400(
    server: ChalkServer, http: httpx.Client, token: str, body: bytes, message: str
) -> None:
    response = http.post(
        MULTI_PATH, content=body, headers={"Content-Type": "application/octet-stream", **auth(token)}
    )
    error = error_of(response, 400, "VALIDATION_FAILED")
    assert message in str(error.detail)
    assert server.rows_stored == 0


def test_the_good_body_of_the_malformed_cases_is_stored(
    server: ChalkServer, http: httpx.Client, token: str
) -> None:
    assert multi_upload(http, token, _GOOD).errors == []
    # Items and nested models beyond `table_bytes` are read past, and ignored.
    extra = byte_model(_ATTRIBUTES, {"table_bytes": _TABLE, "other": b"abc"}, {"nested": MAGIC})
    assert multi_upload(http, token, extra).errors == []
    assert server.rows_stored == 2


def test_a_multi_upload_needs_a_token(http: httpx.Client) -> None:
    error_of(http.post(MULTI_PATH, content=_GOOD), 401, "UNAUTHENTICATED")


# -- deleting rows -------------------------------------------------------------------------------


def test_deleted_features_answer_null_in_every_query_seeded_values_too(
    http: httpx.Client, token: str
) -> None:
    # chalkpy coerces integer keys to strings; integers are taken too.
    assert delete_rows(http, token, ["1", FAILING_USER_ID], features=["name", "credit_score"]) == []
    for user_id in (1, FAILING_USER_ID):
        answer = online(http, token, user_id)
        assert answer["user.name"] == Value(None, False, None)
        assert answer["user.credit_score"] == Value(
            None, False, None
        )  # no RESOLVER_FAILED: nothing to compute
        assert answer["user.age"] == Value(seeded(user_id, "user.age"), False, None)
    assert online(http, token, 2)["user.name"] == Value(seeded(2, "user.name"), False, None)

    columns, errors = bulk(http, token, [1, 2, FAILING_USER_ID])
    assert errors == []
    assert columns["user.name"] == [None, seeded(2, "user.name"), None]
    assert columns["user.credit_score"] == [None, seeded(2, "user.credit_score"), None]
    assert columns["user.age"] == [seeded(1, "user.age"), seeded(2, "user.age"), seeded(13, "user.age")]
    assert offline(http, token, [1, 2])["user.name"] == [None, seeded(2, "user.name")]


def test_uploaded_values_are_deleted_too(http: httpx.Client, token: str) -> None:
    multi_upload(http, token, upload_body(pa.table({"user.id": [5000, 5001], "user.name": ["a", "b"]})))
    assert delete_rows(http, token, ["5000"], features=["user.name"]) == []  # the qualified name works too
    assert online(http, token, 5000, ["user.id", "user.name"]) == {
        "user.id": Value(5000, True, None),  # the primary key is never deleted
        "user.name": Value(None, False, None),
    }
    assert online(http, token, 5001)["user.name"] == Value("b", True, None)


def test_no_features_named_deletes_every_feature_but_the_key(http: httpx.Client, token: str) -> None:
    assert delete_rows(http, token, ["4"]) == []
    answer = online(http, token, 4, ["user.id", *SCALARS])
    assert answer["user.id"] == Value(4, False, None)
    assert [answer[name].value for name in SCALARS] == [None, None, None]
    columns, _ = bulk(http, token, [4])
    assert [columns[name] for name in ["user.id", *SCALARS]] == [[4], [None], [None], [None]]


def test_deleting_twice_is_deleting_once(http: httpx.Client, token: str) -> None:
    assert delete_rows(http, token, ["3", "3"], features=["age"]) == []
    once = (online(http, token, 3), bulk(http, token, [3]))
    assert delete_rows(http, token, ["3"], features=["age"]) == []
    assert (online(http, token, 3), bulk(http, token, [3])) == once
    assert once[0]["user.age"] == Value(None, False, None)


def test_an_upload_after_a_delete_brings_the_value_back(
    server: ChalkServer, http: httpx.Client, token: str
) -> None:
    delete_rows(http, token, ["1", "2"], features=["name", "age"])
    multi_upload(http, token, upload_body(pa.table({"user.id": [1], "user.name": ["back"]})))
    response = http.post(UPLOAD_PATH, json={"input": {"user.id": [2], "user.age": [99]}}, headers=auth(token))
    assert response.json()["errors"] == []
    one, two = online(http, token, 1), online(http, token, 2)
    assert (one["user.name"], one["user.age"]) == (Value("back", True, None), Value(None, False, None))
    assert (two["user.name"], two["user.age"]) == (Value(None, False, None), Value(99, True, None))
    columns, _ = bulk(http, token, [1, 2], ["user.name", "user.age"])
    assert (columns["user.name"], columns["user.age"]) == (["back", None], [None, 99])
    assert (server.rows_stored, server.upload_requests) == (2, 2)  # deletions do not count


def test_tags_and_an_empty_feature_list_delete_nothing(http: httpx.Client, token: str) -> None:
    before = online(http, token, 1)
    assert delete_rows(http, token, ["1"], tags=["pii"]) == []  # no feature has a tag
    assert delete_rows(http, token, ["1"], features=[]) == []
    assert delete_rows(http, token, []) == []
    assert online(http, token, 1) == before


def test_retain_online_keeps_the_queries_and_deletes_offline(http: httpx.Client, token: str) -> None:
    assert delete_rows(http, token, ["1"], features=["name"], retain_online=True) == []
    assert online(http, token, 1)["user.name"] == Value(seeded(1, "user.name"), False, None)
    assert bulk(http, token, [1], ["user.name"])[0]["user.name"] == [seeded(1, "user.name")]
    assert offline(http, token, [1])["user.name"] == [None]


def test_retain_offline_keeps_offline_and_deletes_online(http: httpx.Client, token: str) -> None:
    multi_upload(http, token, upload_body(pa.table({"user.id": [1], "user.name": ["uploaded"]})))
    assert delete_rows(http, token, ["1"], features=["name"], retain_offline=True) == []
    assert online(http, token, 1)["user.name"] == Value(None, False, None)
    assert offline(http, token, [1])["user.name"] == ["uploaded"]
    # Retaining both deletes nothing.
    assert delete_rows(http, token, ["1"], features=["age"], retain_offline=True, retain_online=True) == []
    assert online(http, token, 1)["user.age"] == Value(seeded(1, "user.age"), False, None)
    # And an upload writes both stores again.
    multi_upload(http, token, upload_body(pa.table({"user.id": [1], "user.name": ["again"]})))
    assert online(http, token, 1)["user.name"] == Value("again", True, None)
    assert offline(http, token, [1])["user.name"] == ["again"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"namespace": "account"}, [("INVALID_QUERY", None)], id="unknown-namespace"),
        pytest.param(
            {"features": ["name", "shoe_size"]},
            [("RESOLVER_NOT_FOUND", "user.shoe_size")],
            id="unknown-feature",
        ),
        pytest.param(
            {"features": ["name", "transactions"]},
            [("RESOLVER_NOT_FOUND", "user.transactions")],
            id="has-many",
        ),
        pytest.param({"features": ["id", "name"]}, [("INVALID_QUERY", "user.id")], id="primary-key"),
        pytest.param({"primary_keys": ["1", "abc"]}, [("VALIDATION_FAILED", None)], id="key-not-an-id"),
        pytest.param(
            {"primary_keys": ["1", str(2**63)]}, [("VALIDATION_FAILED", None)], id="key-beyond-int64"
        ),
    ],
)
def test_what_the_graph_lacks_is_an_error_and_nothing_is_deleted(
    http: httpx.Client, token: str, fields: dict[str, Any], expected: list[tuple[str, Any]]
) -> None:
    body = {"primary_keys": ["1"], "features": ["name"], **fields}
    errors = delete_rows(http, token, body.pop("primary_keys"), **body)
    assert codes(errors) == expected
    assert online(http, token, 1)["user.name"] == Value(seeded(1, "user.name"), False, None)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {"namespace": "user", "primary_keys": ["1"], "features": ["name"], "tags": ["t"]},
            id="features-and-tags",
        ),
        pytest.param(["user"], id="not-an-object"),
        pytest.param({"primary_keys": ["1"]}, id="no-namespace"),
        pytest.param({"namespace": "user"}, id="no-keys"),
        pytest.param({"namespace": "user", "primary_keys": "1"}, id="keys-text"),
        pytest.param({"namespace": "user", "primary_keys": [True]}, id="key-bool"),
        pytest.param({"namespace": "user", "primary_keys": [1.5]}, id="key-float"),
        pytest.param({"namespace": "user", "primary_keys": ["1"], "features": "name"}, id="features-text"),
        pytest.param({"namespace": "user", "primary_keys": ["1"], "tags": [1]}, id="tags-ints"),
        pytest.param({"namespace": "user", "primary_keys": ["1"], "retain_online": "yes"}, id="flag-text"),
        pytest.param({"namespace": "user", "primary_keys": ["1"], "retain_offline": None}, id="flag-null"),
    ],
)
def test_a_malformed_row_deletion_is_a_400(http: httpx.Client, token: str, body: Any) -> None:
    response = http.request("DELETE", ROWS_PATH, json=body, headers=auth(token))
    error_of(response, 400, "VALIDATION_FAILED")
    assert online(http, token, 1)["user.name"] == Value(seeded(1, "user.name"), False, None)


def test_a_deletion_that_is_not_json_is_a_parse_failure(http: httpx.Client, token: str) -> None:
    response = http.request("DELETE", ROWS_PATH, content=b"{nope", headers=auth(token))
    error_of(response, 400, "PARSE_FAILED")


# -- dropping columns ----------------------------------------------------------------------------


def test_a_dropped_column_answers_null_for_every_user(http: httpx.Client, token: str) -> None:
    multi_upload(
        http, token, upload_body(pa.table({"user.id": [5000], "user.age": [33], "user.name": ["n"]}))
    )
    assert drop(http, token, ["age"]) == []
    for user_id in (1, 2, 5000):
        assert online(http, token, user_id)["user.age"] == Value(None, False, None)
    assert online(http, token, 5000)["user.name"] == Value("n", True, None)
    assert online(http, token, 1)["user.name"] == Value(seeded(1, "user.name"), False, None)
    columns, errors = bulk(http, token, [1, 2, 5000])
    assert errors == []
    assert columns["user.age"] == [None, None, None]
    assert offline(http, token, [1, 5000], ["user.age"])["user.age"] == [None, None]


def test_an_upload_after_a_drop_brings_back_that_users_value_only(http: httpx.Client, token: str) -> None:
    drop(http, token, ["age", "credit_score"])
    multi_upload(http, token, upload_body(pa.table({"user.id": [1, 7000], "user.age": [50, 60]})))
    assert online(http, token, 1)["user.age"] == Value(50, True, None)
    assert online(http, token, 7000)["user.age"] == Value(60, True, None)
    assert online(http, token, 2)["user.age"] == Value(None, False, None)
    # A user first uploaded after the drop still has the dropped features deleted.
    assert online(http, token, 1)["user.credit_score"] == Value(None, False, None)
    assert bulk(http, token, [1, 2, 7000], ["user.age"])[0]["user.age"] == [50, None, 60]


def test_dropping_twice_is_dropping_once_and_unknown_features_drop_nothing(
    http: httpx.Client, token: str
) -> None:
    assert codes(drop(http, token, ["name", "nope"])) == [("RESOLVER_NOT_FOUND", "user.nope")]
    assert codes(drop(http, token, ["name"], namespace="account")) == [("INVALID_QUERY", None)]
    assert codes(drop(http, token, ["id"])) == [("INVALID_QUERY", "user.id")]
    assert online(http, token, 1)["user.name"] == Value(seeded(1, "user.name"), False, None)
    assert drop(http, token, ["user.name"]) == []
    once = bulk(http, token, [1, 2, 3])
    assert drop(http, token, ["name"]) == []
    assert bulk(http, token, [1, 2, 3])[0]["user.name"] == once[0]["user.name"] == [None, None, None]


def test_a_drop_retaining_online_keeps_the_queries(http: httpx.Client, token: str) -> None:
    assert drop(http, token, ["name"], retain_online=True) == []
    assert online(http, token, 1)["user.name"] == Value(seeded(1, "user.name"), False, None)
    assert offline(http, token, [1, 2], ["user.name"])["user.name"] == [None, None]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"namespace": "user"}, id="no-features"),
        pytest.param({"namespace": "user", "features": None}, id="features-null"),
        pytest.param({"features": ["name"]}, id="no-namespace"),
        pytest.param({"namespace": "user", "features": ["name"], "retain_online": 1}, id="flag-int"),
        pytest.param("user.name", id="not-an-object"),
    ],
)
def test_a_malformed_drop_is_a_400(http: httpx.Client, token: str, body: Any) -> None:
    error_of(http.request("DELETE", COLUMNS_PATH, json=body, headers=auth(token)), 400, "VALIDATION_FAILED")
    assert online(http, token, 1)["user.name"] == Value(seeded(1, "user.name"), False, None)
