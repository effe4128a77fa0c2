"""The ``/v1/query/feather`` requests chalkpy 2.166.1 sent, decoded and replayed against ChalkServer.

The bodies and headers under ``data/chalkpy`` were recorded from Chalk's official Python SDK (see
its README); chalkpy itself is not needed to run these tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from chalk_client._api.feather import BulkAnswer, decode_response
from chalk_client.testing import ChalkServer, seeded_user
from chalk_client.testing._feather import decode_request
from tests.testing import chalkpy_replay

pa = pytest.importorskip("pyarrow")

DATA = Path(__file__).parent / "data" / "chalkpy"
FEATHER_PATH = "/v1/query/feather"
# The recording's client secret, assembled so that this file does not hold it either.
RECORDED_SECRET = "-".join(["client", "secret", "do", "not", "store"])
RECORDED_CLIENT_ID = chalkpy_replay.RECORDED_CLIENT_ID
RECORDED_ENVIRONMENT = chalkpy_replay.RECORDED_ENVIRONMENT
# Headers httpx writes itself for the replay (the recorded Host names the capture server's port).
TRANSPORT_HEADERS = {"host", "content-length"}

# The header chalkpy writes for every query, in its field order; each test overrides what differs.
BASE_HEADER: dict[str, Any] = {
    "outputs": [],
    "expression_outputs": [],
    "now": None,
    "staleness": {},
    "context": {"environment": None, "tags": None, "required_resolver_tags": None},
    "include_meta": True,
    "explain": False,
    "correlation_id": None,
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
}
BULK_NOW = ["2026-12-02T12:00:00+00:00", "2026-12-02T12:00:01+00:00", "2026-12-02T12:00:02+00:00"]

# name: [(expected header, the user ids sent)], one per query
RECORDINGS: dict[str, list[tuple[dict[str, Any], list[int]]]] = {
    "query_bulk": [
        (
            {
                **BASE_HEADER,
                "outputs": ["user.name", "user.credit_score"],
                "now": BULK_NOW,
                "correlation_id": "corr-1",
                "query_name": "bulk-scores",
            },
            [1, 2, 3],
        )
    ],
    "multi_query": [
        ({**BASE_HEADER, "outputs": ["user.name"]}, [1, 2]),
        ({**BASE_HEADER, "outputs": ["user.age", "user.unknown_feature"]}, [3]),
    ],
}
UNKNOWN = {"user.unknown_feature"}


def body_of(name: str) -> bytes:
    return (DATA / f"{name}.bin").read_bytes()


def headers_of(name: str) -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads((DATA / f"{name}.headers.json").read_text("utf-8"))
    return recorded


def seeded(user_id: int) -> dict[str, Any]:
    user = seeded_user(user_id)
    assert user is not None, user_id
    return user


def header_value(recorded: dict[str, Any], name: str) -> str:
    values = [value for key, value in recorded["headers"] if key.lower() == name.lower()]
    assert len(values) == 1, (name, recorded["headers"])
    value: str = values[0]
    return value


# -- the recorded files --------------------------------------------------------------------------


def test_no_recorded_file_holds_the_client_secret() -> None:
    files = sorted(path for path in DATA.iterdir() if path.is_file())
    assert {path.name for path in files} >= {"README.md", "query_bulk.bin", "multi_query.headers.json"}
    for path in files:
        data = path.read_bytes()
        assert RECORDED_SECRET.encode() not in data, path
        assert RECORDED_SECRET.encode("utf-16-le") not in data, path


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_recorded_headers_are_chalkpys_with_the_token_redacted(name: str) -> None:
    recorded = headers_of(name)
    assert (recorded["method"], recorded["path"]) == ("POST", FEATHER_PATH)
    assert header_value(recorded, "Authorization") == "Bearer <redacted>"
    assert header_value(recorded, "User-Agent") == "chalkpy-2.166.1"
    assert header_value(recorded, "Content-Type") == "application/json"
    assert header_value(recorded, "X-Chalk-Client-Id") == RECORDED_CLIENT_ID
    assert header_value(recorded, "X-Chalk-Env-Id") == RECORDED_ENVIRONMENT
    assert header_value(recorded, "X-Chalk-Deployment-Type") == "engine"
    assert int(header_value(recorded, "Content-Length")) == len(body_of(name))


def test_only_the_bulk_query_named_itself_in_a_header() -> None:
    assert header_value(headers_of("query_bulk"), "X-Chalk-Query-Name") == "bulk-scores"
    names = [key.lower() for key, _ in headers_of("multi_query")["headers"]]
    assert "x-chalk-query-name" not in names


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_each_body_decodes_to_the_queries_sent(name: str) -> None:
    body = body_of(name)
    assert body.startswith(b"chal1")
    blocks = decode_request(body)
    assert len(blocks) == len(RECORDINGS[name])
    for (header, table), (expected, user_ids) in zip(blocks, RECORDINGS[name], strict=True):
        assert header == expected
        assert list(header) == list(expected)
        assert table.column_names == ["user.id"]
        assert table.schema.field("user.id").type == pa.int64()
        assert table.column("user.id").to_pylist() == user_ids


# -- replayed against ChalkServer ------------------------------------------------------------------


server = chalkpy_replay.server  # the recorded client id and environment, and a token for them
token = chalkpy_replay.token


def replay(server: ChalkServer, token: str, name: str, address: str = "engine") -> list[BulkAnswer]:
    """Posts the recorded body with the recorded headers (and a real token) to `address`.

    chalkpy sends it to the ``engines`` URL of the token answer (``address="engine"``) unless a
    branch is set; ``"api"`` is the API server, which serves every endpoint.
    """
    recorded = headers_of(name)
    headers = [(key, value) for key, value in recorded["headers"] if key.lower() not in TRANSPORT_HEADERS]
    headers = [
        (key, f"Bearer {token}" if key.lower() == "authorization" else value) for key, value in headers
    ]
    base = server.engine_url if address == "engine" else server.url
    response = httpx.post(base + recorded["path"], content=body_of(name), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    return decode_response(response.content, what="the bulk query")


@pytest.mark.parametrize("address", ["engine", "api"])
@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_chalk_server_answers_each_recorded_request(
    server: ChalkServer, token: str, name: str, address: str
) -> None:
    answers = replay(server, token, name, address)
    assert len(answers) == len(RECORDINGS[name])
    for answer, (expected, user_ids) in zip(answers, RECORDINGS[name], strict=True):
        assert answer.scalars is not None
        for output in expected["outputs"]:
            if output not in UNKNOWN:
                expected_values = [seeded(user_id)[output] for user_id in user_ids]
                assert answer.scalars.column(output).to_pylist() == expected_values, output


@pytest.mark.parametrize("address", ["engine", "api"])
def test_chalk_server_reports_the_unknown_feature_of_the_second_query(
    server: ChalkServer, token: str, address: str
) -> None:
    first, second = replay(server, token, "multi_query", address)
    assert first.errors == []
    assert [(error["code"], error.get("feature")) for error in second.errors] == [
        ("RESOLVER_NOT_FOUND", "user.unknown_feature")
    ]
