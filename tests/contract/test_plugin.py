"""The contract plugin itself: what it records, what it checks, what it skips, and its messages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pyarrow as pa
import pytest

from chalk_client import AsyncChalkClient, ChalkClient
from chalk_client._api.feather import encode_request
from chalk_client.testing import ChalkServer, Fault
from chalk_client.testing._faults._plan import FaultPlan
from chalk_client.testing._feather import FeatherResult, encode_response
from chalk_client.testing._http import App, Request, Response, Router, json_response
from tests.contract import plugin, spec


@pytest.fixture
def recorder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> plugin.Recorder:
    """The session's recorder, with the wrappers in place (installed here when the plugin is not
    loaded), and nothing pending."""
    if not request.config.pluginmanager.has_plugin("tests.contract.plugin"):
        plugin._install(monkeypatch)
    plugin.recorder.check()
    return plugin.recorder


@pytest.fixture(scope="module")
def server() -> Iterator[ChalkServer]:
    with ChalkServer() as running:
        yield running


def _token(server: ChalkServer) -> dict[str, str]:
    answer = httpx.post(
        f"{server.url}/v1/oauth/token",
        json={
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "grant_type": "client_credentials",
        },
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


BULK_BODY = encode_request([({"outputs": ["user.age"]}, pa.table({"user.id": [1]}))])


def _call(app: App, method: str, path: str) -> int:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": []}
    asyncio.run(app(scope, receive, send))
    return int(sent[0]["status"])


# -- answers ---------------------------------------------------------------------------------------


def test_a_chalk_server_answer_off_the_spec_is_a_violation_naming_operation_pointer_and_message(
    recorder: plugin.Recorder,
) -> None:
    async def who_am_i(request: Request) -> Response:
        return json_response({"user": 5, "team_id": "t"})

    router = Router()
    router.add("GET", "/v1/who-am-i", who_am_i)
    assert _call(App(router, faults=FaultPlan()), "GET", "/v1/who-am-i") == 200  # a ChalkServer's app

    (violation,) = recorder.check()
    assert "who_am_i (GET /v1/who-am-i)" in violation
    assert "ChalkServer answered GET /v1/who-am-i with 200" in violation
    assert "at /user: 5 is not of type 'string'" in violation


def test_an_undocumented_status_and_a_non_json_answer_are_violations(recorder: plugin.Recorder) -> None:
    async def redirect(request: Request) -> Response:
        return json_response({}, status=302)

    async def text(request: Request) -> Response:
        return Response(200, [(b"content-type", b"text/plain")], b"ok")

    router = Router()
    router.add("GET", "/v1/who-am-i", redirect)
    router.add("GET", "/v1/runs/{run_id}", text)
    app = App(router, faults=FaultPlan())
    _call(app, "GET", "/v1/who-am-i")
    _call(app, "GET", "/v1/runs/run-1")

    first, second = recorder.check()
    assert "answered 302, which the spec does not document (it documents 200, 4XX, 5XX)" in first
    assert "get_run_status" in second
    assert "text/plain: the spec documents JSON answers only" in second


def test_an_app_that_is_not_a_chalk_servers_and_paths_outside_the_spec_are_not_checked(
    recorder: plugin.Recorder,
) -> None:
    async def anything(request: Request) -> Response:
        return json_response({"not": "a run"})

    router = Router()
    router.add("GET", "/v1/runs/{run_id}", anything)
    router.add("GET", "/echo", anything)
    _call(App(router), "GET", "/v1/runs/run-1")  # a test's own app: no fault plan
    _call(App(router, faults=FaultPlan()), "GET", "/echo")  # not an operation
    assert recorder.check() == []


def test_chalk_server_answers_are_checked(recorder: plugin.Recorder, server: ChalkServer) -> None:
    checked = recorder.answers_checked
    auth = _token(server)
    assert httpx.get(f"{server.url}/v1/who-am-i", headers=auth).status_code == 200
    assert httpx.get(f"{server.url}/v1/runs/nope", headers=auth).status_code == 404
    assert httpx.get(f"{server.url}/v1/who-am-i").status_code == 401
    assert recorder.check() == []
    assert recorder.answers_checked == checked + 4  # the token exchange too


@pytest.mark.parametrize(
    "fault",
    [
        Fault.missing_fields("who_am_i"),
        Fault.invalid_json("who_am_i"),
        Fault.html_page("who_am_i"),
        Fault.empty_body("who_am_i"),
        Fault.status("who_am_i", 200),
        Fault.status("who_am_i", 503, body='{"detail": 5}'),
    ],
    ids=lambda fault: f"{fault.kind.value}-{fault.status_code}",
)
def test_answers_a_fault_malformed_on_purpose_are_skipped(
    recorder: plugin.Recorder, server: ChalkServer, fault: Fault
) -> None:
    auth = _token(server)
    skipped = recorder.answers_skipped
    server.faults.add(fault)
    try:
        httpx.get(f"{server.url}/v1/who-am-i", headers=auth)
    finally:
        server.faults.clear()
    assert recorder.check() == []
    assert recorder.answers_skipped == skipped + 1


@pytest.mark.parametrize(
    "fault",
    [Fault.status("who_am_i", 503), Fault.rate_limit("who_am_i"), Fault.delay("who_am_i", 0.01)],
    ids=lambda fault: fault.kind.value,
)
def test_answers_a_fault_leaves_as_the_spec_describes_them_are_checked(
    recorder: plugin.Recorder, server: ChalkServer, fault: Fault
) -> None:
    auth = _token(server)
    recorder.check()
    checked = recorder.answers_checked
    server.faults.add(fault)
    try:
        httpx.get(f"{server.url}/v1/who-am-i", headers=auth)
    finally:
        server.faults.clear()
    assert recorder.check() == []
    assert recorder.answers_checked == checked + 1


# -- requests ------------------------------------------------------------------------------------


def test_a_request_off_the_spec_is_a_violation(recorder: plugin.Recorder) -> None:
    recorder.request("POST", "https://api.chalk.test/v1/query/online", b'{"inputs": 5, "outputs": ["a"]}')
    recorder.request("POST", "https://api.chalk.test/v1/query/online", b"not json")
    recorder.request("POST", "https://api.chalk.test/v1/runs/trigger", None)
    recorder.request("GET", "https://api.chalk.test/v1/who-am-i", b"{}")
    recorder.request("POST", "https://api.chalk.test/my/fake/endpoint", b"anything")  # not an operation
    shape, not_json, missing, unexpected = recorder.check()
    assert "the SDK sent POST https://api.chalk.test/v1/query/online" in shape
    assert "at /inputs: 5 is not of type 'object'" in shape
    assert "a body that is not JSON" in not_json
    assert "trigger_resolver_run" in missing
    assert "requires a JSON request body" in missing
    assert "who_am_i" in unexpected
    assert "no JSON request body" in unexpected


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_both_drivers_requests_are_recorded(
    recorder: plugin.Recorder, server: ChalkServer, kind: str
) -> None:
    credentials = {
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "api_server": server.url,
    }
    checked = recorder.requests_checked
    correlation_id = f"contract-{kind}-{id(recorder)}-{checked}"  # a body not seen before
    if kind == "sync":
        with ChalkClient(**credentials) as client:
            client.query({"user.id": 1}, ["user.name"], correlation_id=correlation_id)
    else:

        async def main() -> None:
            async with AsyncChalkClient(**credentials) as client:
                await client.query({"user.id": 1}, ["user.name"], correlation_id=correlation_id)

        asyncio.run(main())
    assert recorder.check() == []
    assert recorder.requests_checked >= checked + 1


def test_the_spec_module_matches_concrete_paths_to_operations() -> None:
    assert spec.match("GET", "/v1/runs/run-1") is spec.operations()["get_run_status"]
    assert spec.match("POST", "/v1/runs/trigger") is spec.operations()["trigger_resolver_run"]
    assert spec.match("GET", "/v1/runs/trigger") is None  # that path has POST only
    assert spec.match("GET", "/v1/runs/a/b") is None
    assert spec.match("POST", "/v4/offline_query/status") is spec.operations()["get_offline_query_status"]
    assert (
        spec.match("GET", "/v4/offline_query/job-1/status") is spec.operations()["get_offline_query_progress"]
    )
    operation = spec.operations()["query_online"]
    assert operation.response_key(200) == "200"
    assert operation.response_key(404) == "4XX"
    assert operation.response_key(503) == "5XX"
    assert operation.response_key(302) is None


# -- the binary operation ----------------------------------------------------------------------------


def test_a_bulk_request_is_checked_with_the_servers_reader(recorder: plugin.Recorder) -> None:
    url = "https://api.chalk.test/v1/query/feather"
    checked = recorder.requests_checked
    recorder.request("POST", url, BULK_BODY)
    assert recorder.check() == []
    assert recorder.requests_checked == checked + 1
    recorder.request("POST", url, b'{"outputs": ["user.age"]}')
    recorder.request("POST", url, BULK_BODY[:-3])
    recorder.request("POST", url, None)
    not_chal1, truncated, missing = recorder.check()
    assert "query_bulk (POST /v1/query/feather): the SDK sent POST " + url in not_chal1
    assert "not a well-formed chal1 envelope: the body does not start with 'chal1'" in not_chal1
    assert "input table needs" in truncated
    assert "without the binary body the spec requires" in missing


def _upload_body(attributes: dict[str, Any], table: pa.Table, nested: bytes = b"{}") -> bytes:
    """A multi-upload byte model, built by hand."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue().to_pybytes()

    def section(raw: bytes) -> bytes:
        return len(raw).to_bytes(8, "big") + raw

    lengths = json.dumps({"table_bytes": len(data)}).encode()
    return (
        b"CHALK_BYTE_TRANSMISSION"
        + section(json.dumps(attributes).encode())
        + section(b"{}")
        + (section(lengths) + data + section(nested))
    )


def test_a_multi_upload_request_is_checked_with_the_servers_reader(recorder: plugin.Recorder) -> None:
    url = "https://api.chalk.test/v1/upload_features/multi"
    table = pa.table({"user.id": [1], "user.name": ["Ada"]})
    good = {"features": ["user.name", "user.id"], "table_compression": "uncompressed"}
    recorder.request("POST", url, _upload_body(good, table))
    assert recorder.check() == []
    recorder.request("POST", url, _upload_body(good, table)[:-3])
    recorder.request("POST", url, _upload_body({**good, "features": ["user.id"]}, table))
    recorder.request("POST", url, _upload_body({**good, "table_compression": "gzip"}, table))
    recorder.request("POST", url, _upload_body(good, table, nested=b'{"x": 0}'))
    recorder.request("POST", url, BULK_BODY)
    truncated, features, compression, nested, bulk = recorder.check()
    assert "multi_upload_features (POST /v1/upload_features/multi): the SDK sent POST " + url in truncated
    assert "not a well-formed byte model" in truncated
    assert "does not name the table's columns" in features
    assert "'table_compression' is 'gzip'" in compression
    assert "the item 'table_bytes' alone" in nested
    assert "does not start with 'CHALK_BYTE_TRANSMISSION'" in bulk


def test_chalk_server_bulk_answers_are_checked(recorder: plugin.Recorder, server: ChalkServer) -> None:
    checked = recorder.answers_checked
    auth = _token(server)
    for base in (server.url, server.engine_url):
        assert httpx.post(f"{base}/v1/query/feather", content=BULK_BODY, headers=auth).status_code == 200
    assert httpx.post(f"{server.url}/v1/query/feather", content=b"junk", headers=auth).status_code == 400
    assert recorder.check() == []
    assert recorder.answers_checked == checked + 4  # the token exchange too


def _bulk_app(body: bytes, content_type: bytes = b"application/octet-stream") -> App:
    async def query_bulk(request: Request) -> Response:
        return Response(
            200, [(b"content-type", content_type), (b"content-length", str(len(body)).encode())], body
        )

    router = Router()
    router.add("POST", "/v1/query/feather", query_bulk)
    return App(router, faults=FaultPlan())


def test_a_bulk_answer_off_the_format_is_a_violation(recorder: plugin.Recorder) -> None:
    table = pa.table({"user.id": [1]})
    answers = {
        "not-a-model": (b"CHALK_BYTE_TRANSMISSION" + b"\x00" * 3, "not a well-formed bulk answer"),
        "error-off-spec": (
            encode_response([FeatherResult(table, errors=[{"code": "RESOLVER_FAILED", "message": 5}])]),
            "result 0's errors[0] does not match the spec",
        ),
        "meta-off-spec": (
            encode_response([FeatherResult(table, meta={"query_id": 5})]),
            "result 0's meta does not match the spec",
        ),
        "fine": (encode_response([FeatherResult(table), FeatherResult(None, errors=[])]), None),
    }
    for body, _ in answers.values():
        assert _call(_bulk_app(body), "POST", "/v1/query/feather") == 200
    violations = recorder.check()
    expected = [message for _, message in answers.values() if message is not None]
    assert len(violations) == len(expected)
    for violation, message in zip(violations, expected, strict=True):
        assert (
            "query_bulk (POST /v1/query/feather): ChalkServer answered POST /v1/query/feather with 200"
            in violation
        )
        assert message in violation


def test_a_bulk_answer_in_json_or_text_is_a_violation(recorder: plugin.Recorder) -> None:
    _call(_bulk_app(b"{}", b"application/json"), "POST", "/v1/query/feather")
    _call(_bulk_app(b"ok", b"text/plain"), "POST", "/v1/query/feather")
    as_json, as_text = recorder.check()
    assert "answered 200 with a JSON body, but the spec documents 200 without one" in as_json
    assert "text/plain: the spec documents application/octet-stream" in as_text


def test_the_spec_module_knows_the_media_types() -> None:
    bulk = spec.operations()["query_bulk"]
    assert bulk.binary_request
    assert bulk.request_media_types == ("application/octet-stream",)
    assert bulk.media_types(200) == ("application/octet-stream",)
    assert bulk.media_types(400) == ("application/json",)
    assert bulk.media_types(302) == ()
    online = spec.operations()["query_online"]
    assert not online.binary_request
    assert online.media_types(200) == ("application/json",)
    assert set(plugin.BINARY_REQUESTS) == {
        operation.operation_id for operation in spec.operations().values() if operation.binary_request
    }
    assert set(plugin.BINARY_ANSWERS) == {
        operation.operation_id
        for operation in spec.operations().values()
        if spec.BINARY_MEDIA_TYPE in operation.media_types(200)
    }
    upload = spec.operations()["multi_upload_features"]
    assert upload.binary_request
    assert upload.media_types(200) == ("application/json",)
