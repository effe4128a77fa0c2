"""The writes chalkpy 2.166.1 sent (multi-upload, row delete, column drop), decoded and replayed
against ChalkServer.

The bodies and headers under ``data/chalkpy`` were recorded from Chalk's official Python SDK (see
its README); chalkpy itself is not needed to run these tests. That no file there holds the
recording's client secret is checked for the whole folder by ``test_chalkpy_requests.py``.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from chalk_client.testing import ChalkServer, seeded_user
from tests.testing import chalkpy_replay

pa = pytest.importorskip("pyarrow")
ipc = pytest.importorskip("pyarrow.ipc")

DATA = Path(__file__).parent / "data" / "chalkpy"
UPLOAD_PATH = "/v1/upload_features/multi"
ROWS_PATH = "/v1/features/rows"
COLUMNS_PATH = "/v1/features/columns"
QUERY_PATH = "/v1/query/online"
RECORDED_CLIENT_ID = chalkpy_replay.RECORDED_CLIENT_ID
RECORDED_ENVIRONMENT = chalkpy_replay.RECORDED_ENVIRONMENT
# Headers httpx writes itself for the replay (the recorded Host names the capture server's port).
TRANSPORT_HEADERS = {"host", "content-length"}

# The header names chalkpy sent with every one of these writes, in order. Content-Type is
# application/json for the byte-model upload too, and none says X-Chalk-Deployment-Type: chalkpy
# sent all of them to the API server, not to the engine.
HEADER_NAMES = [
    "Host",
    "User-Agent",
    "Accept-Encoding",
    "Accept",
    "Connection",
    "Content-Type",
    "X-Chalk-Features-Versioned",
    "Authorization",
    "X-Chalk-Client-Id",
    "X-Chalk-Env-Id",
    "Content-Length",
]
HEADER_VALUES = {
    "User-Agent": "chalkpy-2.166.1",
    "Accept-Encoding": "gzip, deflate",
    "Accept": "application/json",
    "Connection": "keep-alive",
    "Content-Type": "application/json",
    "X-Chalk-Features-Versioned": "true",
    "Authorization": "Bearer <redacted>",
    "X-Chalk-Client-Id": RECORDED_CLIENT_ID,
    "X-Chalk-Env-Id": RECORDED_ENVIRONMENT,
}


class Upload(NamedTuple):
    """What one recorded multi-upload POST carried: the table's columns (name: Arrow type, values)."""

    columns: dict[str, tuple[str, list[Any]]]


# name: the table of that POST. The mapping call sent one; the list of rows, one per key set.
UPLOADS: dict[str, Upload] = {
    "multi_upload_features": Upload(
        {"user.id": ("int64", [1, 2]), "user.name": ("string", ["Ada", "Grace"])}
    ),
    "multi_upload_features_rows_1": Upload({"user.id": ("int64", [3]), "user.name": ("string", ["Alan"])}),
    "multi_upload_features_rows_2": Upload({"user.id": ("int64", [4]), "user.age": ("int64", [40])}),
}
# name: (method, path, the JSON body, in chalkpy's key order)
DELETES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "delete_features": (
        "DELETE",
        ROWS_PATH,
        {
            "namespace": "user",
            "features": ["name"],
            "tags": None,
            # chalkpy's pydantic model turned the ints 1 and 2 into strings.
            "primary_keys": ["1", "2"],
            "retain_offline": False,
            "retain_online": False,
        },
    ),
    "drop_features": (
        "DELETE",
        COLUMNS_PATH,
        {"namespace": "user", "features": ["age"], "retain_offline": False, "retain_online": False},
    ),
}
RECORDINGS = [*UPLOADS, *DELETES]


def body_ext(name: str) -> str:
    return "bin" if name in UPLOADS else "json"


def body_of(name: str) -> bytes:
    return (DATA / f"{name}.{body_ext(name)}").read_bytes()


def headers_of(name: str) -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads((DATA / f"{name}.headers.json").read_text("utf-8"))
    return recorded


def method_and_path(name: str) -> tuple[str, str]:
    if name in UPLOADS:
        return "POST", UPLOAD_PATH
    method, path, _ = DELETES[name]
    return method, path


def seeded(user_id: int) -> dict[str, Any]:
    user = seeded_user(user_id)
    assert user is not None, user_id
    return user


# -- the byte model, read by hand ------------------------------------------------------------------

MAGIC = b"CHALK_BYTE_TRANSMISSION"


class ByteModel(NamedTuple):
    attrs_text: bytes
    attrs: dict[str, Any]
    pydantic: dict[str, Any]
    byte_map: dict[str, int]
    blobs: dict[str, bytes]
    serialisable: dict[str, Any]


def parse_byte_model(body: bytes) -> ByteModel:
    """The magic, then four sections of a u64 big-endian length and JSON; the blobs that the third
    (the byte map: name to length) names follow it, in its order, before the fourth."""
    assert body.startswith(MAGIC)
    offset = len(MAGIC)

    def section() -> bytes:
        nonlocal offset
        assert offset + 8 <= len(body), offset
        (length,) = struct.unpack_from(">Q", body, offset)
        offset += 8
        assert offset + length <= len(body), (offset, length)
        text = body[offset : offset + length]
        offset += length
        return text

    attrs_text = section()
    pydantic = json.loads(section())
    byte_map = json.loads(section())
    blobs: dict[str, bytes] = {}
    for key, length in byte_map.items():
        assert isinstance(length, int), (key, length)
        assert length >= 0, (key, length)
        blobs[key] = body[offset : offset + length]
        offset += length
    serialisable = json.loads(section())
    assert offset == len(body), "trailing bytes after the last section"
    return ByteModel(attrs_text, json.loads(attrs_text), pydantic, byte_map, blobs, serialisable)


# -- the recorded files --------------------------------------------------------------------------


def test_every_recording_is_in_the_folder_the_secret_scan_covers() -> None:
    # test_chalkpy_requests.py checks every file of DATA for the client secret: these are among them.
    names = {path.name for path in DATA.iterdir() if path.is_file()}
    for name in RECORDINGS:
        assert {f"{name}.{body_ext(name)}", f"{name}.headers.json"} <= names, name


@pytest.mark.parametrize("name", RECORDINGS)
def test_recorded_headers_are_chalkpys_with_the_token_redacted(name: str) -> None:
    recorded = headers_of(name)
    assert (recorded["method"], recorded["path"]) == method_and_path(name)
    headers = recorded["headers"]
    assert [key for key, _ in headers] == HEADER_NAMES
    values = dict(headers)
    for key, value in HEADER_VALUES.items():
        assert values[key] == value, key
    assert values["Host"].startswith("127.0.0.1:")
    assert int(values["Content-Length"]) == len(body_of(name))


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_each_upload_body_is_a_byte_model_of_the_table_sent(name: str) -> None:
    model = parse_byte_model(body_of(name))
    columns = UPLOADS[name].columns
    features = list(columns)
    assert model.attrs == {"features": features, "table_compression": "uncompressed"}
    # chalkpy's json.dumps: keys in field order, with ", " and ": " separators.
    assert model.attrs_text == json.dumps(model.attrs).encode()
    assert model.pydantic == {}
    assert model.serialisable == {}
    assert list(model.byte_map) == ["table_bytes"]
    table_bytes = model.blobs["table_bytes"]
    assert len(table_bytes) == model.byte_map["table_bytes"]
    # An Arrow IPC *file* (magic at both ends), not a stream.
    assert table_bytes.startswith(b"ARROW1")
    assert table_bytes.endswith(b"ARROW1")
    reader = ipc.open_file(pa.BufferReader(table_bytes))
    assert reader.num_record_batches == 1
    table = reader.read_all()
    assert table.column_names == features
    assert table.schema.metadata is None
    for feature, (arrow_type, values) in columns.items():
        assert str(table.schema.field(feature).type) == arrow_type, feature
        assert table.column(feature).to_pylist() == values, feature


def test_the_list_of_rows_was_split_by_key_set() -> None:
    first = parse_byte_model(body_of("multi_upload_features_rows_1")).attrs["features"]
    second = parse_byte_model(body_of("multi_upload_features_rows_2")).attrs["features"]
    assert (first, second) == (["user.id", "user.name"], ["user.id", "user.age"])


@pytest.mark.parametrize("name", sorted(DELETES))
def test_each_delete_body_is_the_json_chalkpy_sends(name: str) -> None:
    _, _, expected = DELETES[name]
    body = body_of(name)
    sent = json.loads(body)
    assert sent == expected
    assert list(sent) == list(expected)
    # requests' json.dumps, byte for byte: default separators, no trailing newline.
    assert body == json.dumps(expected).encode()


# -- replayed against ChalkServer ------------------------------------------------------------------


server = chalkpy_replay.server  # the recorded client id and environment, and a token for them
token = chalkpy_replay.token


def replay(server: ChalkServer, token: str, name: str) -> dict[str, Any]:
    """Sends the recorded body with the recorded method, path and headers (and a real token) to the
    API server, where chalkpy sent it; returns the JSON answer, which must be a 200."""
    recorded = headers_of(name)
    headers = [(key, value) for key, value in recorded["headers"] if key.lower() not in TRANSPORT_HEADERS]
    headers = [
        (key, f"Bearer {token}" if key.lower() == "authorization" else value) for key, value in headers
    ]
    response = httpx.request(
        recorded["method"], server.url + recorded["path"], content=body_of(name), headers=headers
    )
    assert response.status_code == 200, (name, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    answer: dict[str, Any] = response.json()
    return answer


def replay_uploads(server: ChalkServer, token: str) -> None:
    for name in UPLOADS:
        answer = replay(server, token, name)
        assert answer["errors"] == [], (name, answer)
        assert isinstance(answer["operation_id"], str), answer
        assert answer["operation_id"], answer


def replay_delete(server: ChalkServer, token: str, name: str) -> None:
    answer = replay(server, token, name)
    assert answer.get("errors") in (None, []), (name, answer)


def query(server: ChalkServer, token: str, user_id: int, outputs: list[str]) -> dict[str, Any]:
    """The values `POST /v1/query/online` answers for `user_id`, by feature."""
    headers = {"Authorization": f"Bearer {token}", "X-Chalk-Env-Id": RECORDED_ENVIRONMENT}
    body = {"inputs": {"user.id": user_id}, "outputs": outputs}
    response = httpx.post(server.url + QUERY_PATH, json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["errors"] == [], answer
    return {result["field"]: result["value"] for result in answer["data"]}


def test_chalk_server_stores_the_replayed_uploads(server: ChalkServer, token: str) -> None:
    replay_uploads(server, token)
    assert query(server, token, 1, ["user.name"]) == {"user.name": "Ada"}
    assert query(server, token, 2, ["user.name"]) == {"user.name": "Grace"}
    assert query(server, token, 3, ["user.name"]) == {"user.name": "Alan"}
    # The second key set carried no name: user 4's stays the seeded one.
    assert query(server, token, 4, ["user.name", "user.age"]) == {
        "user.name": seeded(4)["user.name"],
        "user.age": 40,
    }


def test_chalk_server_deletes_the_replayed_rows(server: ChalkServer, token: str) -> None:
    replay_uploads(server, token)
    replay_delete(server, token, "delete_features")
    # The primary keys came as the strings "1" and "2"; only user.name was named.
    assert query(server, token, 1, ["user.name", "user.age"]) == {
        "user.name": None,
        "user.age": seeded(1)["user.age"],
    }
    assert query(server, token, 2, ["user.name"]) == {"user.name": None}
    assert query(server, token, 3, ["user.name"]) == {"user.name": "Alan"}


def test_chalk_server_drops_the_replayed_column(server: ChalkServer, token: str) -> None:
    replay_uploads(server, token)
    replay_delete(server, token, "delete_features")
    replay_delete(server, token, "drop_features")
    # Every user's user.age is gone, seeded or uploaded; other features stay.
    assert query(server, token, 5, ["user.name", "user.age"]) == {
        "user.name": seeded(5)["user.name"],
        "user.age": None,
    }
    assert query(server, token, 4, ["user.age"]) == {"user.age": None}
    assert query(server, token, 3, ["user.name"]) == {"user.name": "Alan"}
