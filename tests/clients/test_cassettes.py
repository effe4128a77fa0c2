"""Recorded HTTP against ChalkServer, replayed with vcrpy (record mode "none" unless re-recording).

`scripts/record` re-records every cassette here against a live ChalkServer. Client secrets and
access tokens are replaced before anything is written (see `scrub_request` / `scrub_response`), and
`test_no_cassette_holds_a_secret_or_token` scans every cassette on disk for leftovers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chalk_client import ChalkAuthenticationError
from chalk_client.testing import FAILING_USER_ID, seeded_user
from tests.conftest import ClientUnderTest

CASSETTES = Path(__file__).parent / "cassettes"
RECORDED_CLIENT_ID = "recorded-client-id"
SCRUBBED_SECRET = "SCRUBBED-CLIENT-SECRET"
SCRUBBED_TOKEN = "SCRUBBED-ACCESS-TOKEN"
# Replays need no server: requests are matched on method, path and body, not host or port.
REPLAY_URL = "http://127.0.0.1:9"
_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}")


def _scrub_json(body: bytes | str | None, field: str, placeholder: str) -> bytes | str | None:
    if not body:
        return body
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    if isinstance(data, dict) and field in data:
        data[field] = placeholder
        return json.dumps(data).encode()
    return body


_SIGNATURE = re.compile(r"signature=[0-9a-f]+")
SCRUBBED_SIGNATURE = "signature=SCRUBBED"


def scrub_request(request: Any) -> Any:
    """Replace the client secret in a recorded request, drop any Authorization header, and blank
    the signature of signed result-file URLs."""
    request.uri = _SIGNATURE.sub(SCRUBBED_SIGNATURE, request.uri)
    request.body = _scrub_json(request.body, "client_secret", SCRUBBED_SECRET)
    request.headers.pop("Authorization", None)
    request.headers.pop("authorization", None)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Replace the access token and URL signatures in a recorded answer (already decompressed)."""
    body = response.get("body", {})
    text = _scrub_json(body.get("string"), "access_token", SCRUBBED_TOKEN)
    if isinstance(text, bytes) and text.startswith(b"{"):
        text = _SIGNATURE.sub(SCRUBBED_SIGNATURE, text.decode()).encode()
    body["string"] = text
    return response


def json_body_matcher(r1: Any, r2: Any) -> None:
    """Bodies match as JSON, ignoring the secret (recorded scrubbed, replayed with the placeholder)."""

    def normal(body: Any) -> Any:
        if not body:
            return None
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return body
        if isinstance(data, dict):
            data.pop("client_secret", None)
        return data

    assert normal(r1.body) == normal(r2.body), "request bodies differ"


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "match_on": ["method", "scheme", "path", "json_body"],
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
    }


@pytest.fixture
def recording(request: pytest.FixtureRequest) -> bool:
    return str(request.config.getoption("--record-mode")) not in ("none", "None")


class Target:
    """Where the client points: a live ChalkServer while recording, a placeholder on replay."""

    def __init__(self, url: str, client_secret: str, exchanges: Any = None) -> None:
        self.url = url
        self.client_secret = client_secret
        self._exchanges = exchanges

    def kwargs(self, *, secret: str | None = None) -> dict[str, Any]:
        return {
            "client_id": RECORDED_CLIENT_ID,
            "client_secret": secret or self.client_secret,
            "api_server": self.url,
        }

    def replaying(self) -> bool:
        return self.url == REPLAY_URL


@pytest.fixture
def target(recording: bool) -> Iterator[Target]:
    if not recording:
        yield Target(REPLAY_URL, SCRUBBED_SECRET)
        return
    from chalk_client.testing import ChalkServer

    with ChalkServer(client_id=RECORDED_CLIENT_ID) as server:
        yield Target(server.url, server.client_secret)


@pytest.fixture
def client_options(target: Target) -> dict[str, Any]:
    return target.kwargs()


@pytest.fixture
def no_socket(recording: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """On replay, opening a connection fails the test: a replay must be served by the cassette alone
    (on the async client's default path too, where aiohttp sends)."""
    if recording:
        return
    import socket

    def refuse(self: socket.socket, *args: Any) -> Any:
        raise AssertionError(f"a replay opened a socket to {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def get_tokens(client: ClientUnderTest, times: int) -> list[Any]:
    return [client("get_token") for _ in range(times)]


@pytest.mark.vcr
def test_exchange(client: ClientUnderTest, vcr: Any, recording: bool) -> None:
    (token,) = get_tokens(client, 1)
    assert token.token_type == "Bearer"
    assert token.primary_environment in token.environment_id_to_name
    assert set(token.engines) == set(token.environment_id_to_name)
    if not recording:
        assert token.access_token == SCRUBBED_TOKEN
        assert vcr.play_count == 1


@pytest.mark.vcr
def test_second_call_is_cached(client: ClientUnderTest, vcr: Any, recording: bool) -> None:
    first, second = get_tokens(client, 2)
    assert second is first
    # The cassette holds one exchange and repeats are off: a second POST would fail this test.
    assert len(vcr.requests) == 1
    if not recording:
        assert vcr.play_count == 1


@pytest.mark.vcr
def test_rejected_credentials(make_client: Callable[..., ClientUnderTest], vcr: Any) -> None:
    with pytest.raises(ChalkAuthenticationError) as info:
        get_tokens(make_client(client_secret="wrong-secret-for-the-cassette"), 1)
    assert info.value.status_code == 401
    assert info.value.trace
    assert "wrong-secret" not in str(info.value)
    assert len(vcr.requests) == 1


def run_data_plane(client: ClientUnderTest) -> dict[str, Any]:
    """Every data-plane endpoint once (and the query twice around an upload), on one client."""
    user_id = 9001 if client.kind == "sync" else 9002
    results: dict[str, Any] = {"whoami": client("whoami")}
    results["ada"] = client("query", {"user.id": 1}, ["user.name", "user.age", "user.credit_score"])
    results["failing"] = client("query", {"user.id": FAILING_USER_ID}, ["user.credit_score"])
    results["upload"] = client("upload_features", {"user.id": [user_id], "user.name": ["Recorded Name"]})
    results["uploaded"] = client("query", {"user.id": user_id}, ["user.name"])
    run = client("trigger_resolver_run", "resolvers.get_user_name", idempotency_key=f"cassette-{client.kind}")
    results["run"] = run
    results["status"] = client("get_run_status", run.id)
    return results


@pytest.mark.vcr
@pytest.mark.usefixtures("no_socket")
def test_data_plane(client: ClientUnderTest, vcr: Any, recording: bool) -> None:
    results = run_data_plane(client)
    assert results["whoami"].user == RECORDED_CLIENT_ID
    assert results["ada"].to_dict() == {
        name: seeded_user(1)[name]  # type: ignore[index]
        for name in ("user.name", "user.age", "user.credit_score")
    }
    assert results["failing"].get("user.credit_score").error.code == "RESOLVER_FAILED"
    assert results["upload"].rows == 1
    assert results["uploaded"].get_value("user.name") == "Recorded Name"
    assert results["run"].idempotency_key == f"cassette-{client.kind}"
    assert results["status"].id == results["run"].id
    paths = [r.path for r in vcr.requests]
    assert paths == [
        "/v1/oauth/token",
        "/v1/who-am-i",
        "/v1/query/online",
        "/v1/query/online",
        "/v1/upload_features",
        "/v1/query/online",
        "/v1/runs/trigger",
        f"/v1/runs/{results['run'].id}",
    ]
    # Queries went to the engine address the token named; everything else to the API server.
    api_port = vcr.requests[0].port
    ports = {r.path: r.port for r in vcr.requests}
    assert ports["/v1/query/online"] != api_port
    assert ports["/v1/upload_features"] == api_port
    if not recording:
        assert vcr.play_count == len(paths)


def run_offline(client: ClientUnderTest, directory: Path) -> tuple[Any, list[Any], list[Path]]:
    """An offline query waited for with progress, then its files downloaded."""
    seen: list[Any] = []
    inputs = {"user.id": [1, 2, FAILING_USER_ID]}
    outputs = ["user.name", "user.credit_score"]
    job = client(
        "offline_query", inputs, outputs, dataset_name="cassette", wait=True, on_progress=seen.append
    )
    return job, seen, client.run(job.download(directory))


@pytest.mark.vcr
@pytest.mark.usefixtures("no_socket")
def test_offline_query(
    make_client: Callable[..., ClientUnderTest], vcr: Any, recording: bool, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    # On replay the recorded polls already say when the job finished: no need to wait.
    client = make_client(fake_sleep=not recording)
    job, seen, paths = run_offline(client, tmp_path)
    rows = pq.read_table(paths[0]).to_pylist()
    assert [r["user.name"] for r in rows] == [seeded_user(n)["user.name"] for n in (1, 2, FAILING_USER_ID)]  # type: ignore[index]
    assert rows[2]["user.credit_score"] is None
    assert seen[-1].status == "successful"
    kinds = [r.path.split("/")[-1] if "/_storage/" not in r.path else "file" for r in vcr.requests]
    assert kinds[:2] == ["token", "offline_query"]  # the exchange, then the submission
    assert kinds.count("file") == 1
    assert kinds[-1] == "file"
    assert "status" in kinds  # the polls (and progress reports) between
    storage = [r for r in vcr.requests if "/_storage/" in r.path]
    assert all("authorization" not in {k.lower() for k in r.headers} for r in storage)
    if not recording:
        assert vcr.play_count == len(vcr.requests)
        assert job.job_id


def run_bulk(client: ClientUnderTest) -> tuple[Any, list[Any]]:
    """A bulk query of three users, then a multi-query of two (one naming an unknown feature)."""
    from chalk_client import BulkQuery

    outputs = ["user.name", "user.credit_score"]
    bulk = client("query_bulk", {"user.id": [1, 2, FAILING_USER_ID]}, outputs, query_name="cassette")
    multi = client(
        "multi_query",
        [
            BulkQuery(input={"user.id": [1, 2]}, output=["user.transactions"]),
            BulkQuery(input={"user.id": [3]}, output=["user.age", "user.unknown_feature"]),
        ],
    )
    return bulk, multi


@pytest.mark.vcr
@pytest.mark.usefixtures("no_socket")
def test_bulk_queries(client: ClientUnderTest, vcr: Any, recording: bool) -> None:
    from chalk_client.testing import seeded_transactions

    bulk, (groups, mixed) = run_bulk(client)
    table = bulk.to_arrow()
    assert table.column("user.id").to_pylist() == [1, 2, FAILING_USER_ID]
    assert table.column("user.name").to_pylist() == [
        seeded_user(n)["user.name"] for n in (1, 2, FAILING_USER_ID)
    ]  # type: ignore[index]
    assert table.column("user.credit_score").to_pylist()[2] is None
    assert [error.code for error in bulk.errors] == ["RESOLVER_FAILED"]
    transactions = groups.groups["user.transactions"]
    assert transactions.num_rows == len(seeded_transactions(1)) + len(seeded_transactions(2))
    assert mixed.to_arrow().column("user.age").to_pylist() == [seeded_user(3)["user.age"]]  # type: ignore[index]
    assert [(error.code, error.feature) for error in mixed.errors] == [
        ("RESOLVER_NOT_FOUND", "user.unknown_feature")
    ]
    assert [r.path for r in vcr.requests] == ["/v1/oauth/token", "/v1/query/feather", "/v1/query/feather"]
    assert all(r.headers["Content-Type"] == "application/octet-stream" for r in vcr.requests[1:])
    if not recording:
        assert vcr.play_count == 3


def run_writes(client: ClientUnderTest) -> dict[str, Any]:
    """A multi-upload of two key sets, a delete and a drop, read back by a bulk query; the ping and
    the branches; a named offline query found again by name and by job id."""
    user_id = 9101 if client.kind == "sync" else 9102
    rows = [{"user.id": user_id, "user.name": "Written"}, {"user.id": user_id + 10, "user.age": 44}]
    results: dict[str, Any] = {"upload": client("multi_upload_features", rows)}
    client("delete_features", "user", [1], features=["user.name"])
    client("drop_features", "user", ["credit_score"])
    ids = [user_id, user_id + 10, 1, 2]
    results["read"] = client("query_bulk", {"user.id": ids}, ["user.name", "user.age", "user.credit_score"])
    results["ping"] = client("ping_engine", 5)
    results["branches"] = client("get_branches")
    job = client(
        "offline_query", {"user.id": [1, 2]}, ["user.age"], dataset_name=f"cassette-{client.kind}", wait=True
    )
    results["job"] = job
    results["by_name"] = client("get_dataset", name=f"cassette-{client.kind}")
    results["by_job"] = client("get_dataset", job_id=job.job_id)
    return results


@pytest.mark.vcr
@pytest.mark.usefixtures("no_socket")
def test_writes_and_datasets(make_client: Callable[..., ClientUnderTest], vcr: Any, recording: bool) -> None:
    import uuid

    client = make_client(fake_sleep=not recording)
    results = run_writes(client)
    assert results["upload"].rows == 2
    assert len(results["upload"].operation_ids) == 2
    table = results["read"].to_arrow().to_pydict()
    assert table["user.name"][0] == "Written"
    assert table["user.age"][1] == 44
    assert table["user.name"][2] is None  # deleted
    assert table["user.name"][3] == seeded_user(2)["user.name"]  # type: ignore[index]
    assert table["user.credit_score"] == [None] * 4  # dropped
    assert results["ping"] == 5
    assert all(branch.name for branch in results["branches"])
    job = results["job"]
    uuid.UUID(job.job_id)  # job ids are UUIDs, as the real service's
    assert results["by_name"].job_id == job.job_id
    assert results["by_job"].job_id == job.job_id
    paths = [r.path for r in vcr.requests]
    assert paths[1:5] == [
        "/v1/upload_features/multi",
        "/v1/upload_features/multi",
        "/v1/features/rows",
        "/v1/features/columns",
    ]
    assert f"/v3/offline_query/cassette-{client.kind}" in paths
    assert f"/v4/offline_query/{job.job_id}" in paths
    if not recording:
        assert vcr.play_count == len(vcr.requests)


def test_every_test_here_has_its_cassette() -> None:
    expected = {
        f"{name}[{kind}].yaml"
        for name in (
            "test_exchange",
            "test_second_call_is_cached",
            "test_rejected_credentials",
            "test_data_plane",
            "test_offline_query",
            "test_bulk_queries",
            "test_writes_and_datasets",
        )
        for kind in ("sync", "async")
    }
    present = {p.name for p in (CASSETTES / "test_cassettes").glob("*.yaml")}
    assert expected <= present, f"missing cassettes (run scripts/record): {sorted(expected - present)}"


def test_no_cassette_holds_a_secret_or_token() -> None:
    import yaml

    files = sorted(CASSETTES.rglob("*.yaml"))
    assert files, "no cassettes found"
    for path in files:
        raw = path.read_bytes()
        assert not _JWT.search(raw), f"{path}: holds a JWT-shaped token"
        for interaction in yaml.safe_load(raw)["interactions"]:
            request, response = interaction["request"], interaction["response"]
            headers = {k.lower(): v for k, v in request["headers"].items()}
            assert "authorization" not in headers, f"{path}: an Authorization header was recorded"
            body = request.get("body")
            if isinstance(body, bytes | bytearray) and not body.startswith(b"{"):
                # A binary body (a bulk query's chal1 envelope): no credential field can be in it.
                assert b"client_secret" not in body, f"{path}: a binary body names client_secret"
            elif body:
                data = json.loads(body)
                if isinstance(data, dict) and "client_secret" in data:
                    assert data["client_secret"] == SCRUBBED_SECRET, f"{path}: unscrubbed client_secret"
            answer = response["body"]["string"]
            assert "signature=" not in request["uri"] or SCRUBBED_SIGNATURE in request["uri"], path
            if isinstance(answer, bytes | bytearray) and not answer.startswith(b"{"):
                continue  # a binary body: a parquet result file
            if answer:
                data = json.loads(answer)
                if isinstance(data, dict) and "access_token" in data:
                    assert data["access_token"] == SCRUBBED_TOKEN, f"{path}: unscrubbed access_token"
