"""ChalkServer's data plane over real HTTP: queries, uploads, who-am-i, runs, auth, routing, the log."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from chalk_openapi.models import (
    ChalkError,
    ChalkException,
    ErrorResponse,
    FeatureMeta,
    FeatureResult,
    OnlineQueryResponse,
    QueryMeta,
    RunResponse,
    RunStatus,
    TokenResponse,
    UploadFeaturesResponse,
    WhoAmIResponse,
)
from chalk_openapi.types import Unset

from chalk_client.testing import (
    FAILING_USER_ID,
    FEATURE_RESOLVERS,
    FEATURE_TYPES,
    SEEDED_USER_IDS,
    ChalkServer,
    RequestRecord,
    RunRecord,
    seeded_user,
)
from chalk_client.testing._http import Request
from chalk_client.testing._log import RequestLog
from tests.conftest import ServerClock

TOKEN_PATH = "/v1/oauth/token"
QUERY_PATH = "/v1/query/online"
UPLOAD_PATH = "/v1/upload_features"
WHO_AM_I_PATH = "/v1/who-am-i"
TRIGGER_PATH = "/v1/runs/trigger"
NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
NOW_TEXT = "2027-01-15T08:00:00.000000Z"
ALL_FEATURES = ["user.id", "user.name", "user.age", "user.credit_score"]


@pytest.fixture
def clock() -> ServerClock:
    return ServerClock()


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


def token_body(http: httpx.Client, server: ChalkServer) -> dict[str, Any]:
    response = http.post(
        server.url + TOKEN_PATH,
        json={
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "grant_type": "client_credentials",
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def token(server: ChalkServer, http: httpx.Client) -> str:
    access_token: str = token_body(http, server)["access_token"]
    return access_token


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def query_body(user_id: Any = 1, outputs: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"inputs": {"user.id": user_id}, "outputs": ALL_FEATURES if outputs is None else outputs, **extra}


def query(client: httpx.Client, token: str, body: dict[str, Any], **headers: str) -> OnlineQueryResponse:
    response = client.post(QUERY_PATH, json=body, headers=auth(token, **headers))
    assert response.status_code == 200, response.text
    return OnlineQueryResponse.from_dict(response.json())


def upload(http: httpx.Client, token: str, columns: dict[str, list[Any]]) -> UploadFeaturesResponse:
    response = http.post(UPLOAD_PATH, json={"input": columns}, headers=auth(token))
    assert response.status_code == 200, response.text
    return UploadFeaturesResponse.from_dict(response.json())


def by_field(answer: OnlineQueryResponse) -> dict[str, FeatureResult]:
    return {result.field: result for result in answer.data}


def error_of(response: httpx.Response, status: int, code: str) -> ErrorResponse:
    """The shared error body, parsed with the generated model; its first ChalkError has `code`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = ErrorResponse.from_dict(response.json())
    assert isinstance(body.detail, str)
    assert body.detail
    assert isinstance(body.trace, str)
    assert re.fullmatch(r"[0-9a-f]{16,}", body.trace)
    assert isinstance(body.errors, list)
    assert body.errors
    assert all(isinstance(error, ChalkError) for error in body.errors)
    first = body.errors[0]
    assert isinstance(first, ChalkError)
    assert str(first.code) == code
    assert str(first.category) == "REQUEST"
    return body


# -- the seeded graph ----------------------------------------------------------------------------


def test_seeded_users_follow_the_documented_rules() -> None:
    assert seeded_user(1) == {
        "user.id": 1,
        "user.name": "Ada Lovelace",
        "user.age": 19,
        "user.credit_score": 337,
    }
    assert seeded_user(2)["user.name"] == "Alan Turing"  # type: ignore[index]
    assert seeded_user(3)["user.name"] == "Grace Hopper"  # type: ignore[index]
    assert seeded_user(4) == {
        "user.id": 4,
        "user.name": "Erin Smith",
        "user.age": 22,
        "user.credit_score": 448,
    }
    assert seeded_user(1000) == {
        "user.id": 1000,
        "user.name": "Alice Smith",
        "user.age": 18 + 1000 % 63,
        "user.credit_score": 300 + 37_000 % 551,
    }
    users = [seeded_user(user_id) for user_id in SEEDED_USER_IDS]
    assert all(user is not None for user in users)
    assert len({user["user.name"] for user in users if user}) == 1000
    assert {user["user.age"] for user in users if user} <= set(range(18, 81))
    scores = {user["user.credit_score"] for user in users if user} - {None}
    assert min(scores) >= 300
    assert max(scores) <= 850
    assert set(users[0] or {}) == set(FEATURE_TYPES) == set(FEATURE_RESOLVERS)


def test_the_failing_user_has_no_credit_score() -> None:
    assert FAILING_USER_ID == 13
    user = seeded_user(FAILING_USER_ID)
    assert user is not None
    assert user["user.credit_score"] is None
    assert isinstance(user["user.name"], str)


@pytest.mark.parametrize("user_id", [0, -1, 1001, 10**12, True])
def test_ids_outside_the_seeded_range_have_no_user(user_id: int) -> None:
    assert seeded_user(user_id) is None


def test_seeded_user_answers_a_copy() -> None:
    user = seeded_user(1)
    assert user is not None
    user["user.name"] = "changed"
    assert seeded_user(1)["user.name"] == "Ada Lovelace"  # type: ignore[index]


# -- online query --------------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", [1, 2, 4, 500, 1000])
def test_query_answers_the_seeded_values(http: httpx.Client, token: str, user_id: int) -> None:
    answer = query(http, token, query_body(user_id))

    expected = seeded_user(user_id)
    assert expected is not None
    assert [result.field for result in answer.data] == ALL_FEATURES
    for result in answer.data:
        assert result.value == expected[result.field]
        assert result.pkey == user_id
        assert result.error is None
        assert result.valid is True
        assert result.ts == NOW_TEXT
        assert result.meta is None or isinstance(result.meta, Unset)
    assert answer.errors == []
    assert isinstance(answer.meta, Unset)


def test_ts_follows_the_server_clock_in_utc(http: httpx.Client, token: str, clock: ServerClock) -> None:
    clock.advance(90.5)
    (result,) = query(http, token, query_body(1, ["user.name"])).data
    assert isinstance(result.ts, str)
    ts = datetime.fromisoformat(result.ts)
    assert ts == datetime.fromtimestamp(NOW + 90.5, tz=UTC)
    assert ts.utcoffset() is not None


def test_a_numeric_string_id_is_accepted(http: httpx.Client, token: str) -> None:
    fields = by_field(query(http, token, query_body("42", ["user.id", "user.name"])))
    assert fields["user.id"].value == 42
    assert fields["user.id"].pkey == 42
    assert fields["user.name"].value == seeded_user(42)["user.name"]  # type: ignore[index]


def test_the_failing_user_gets_a_resolver_error(http: httpx.Client, token: str) -> None:
    fields = by_field(query(http, token, query_body(FAILING_USER_ID)))

    failed = fields["user.credit_score"]
    assert failed.value is None
    assert failed.valid is False
    error = failed.error
    assert isinstance(error, ChalkError)
    assert str(error.code) == "RESOLVER_FAILED"
    assert str(error.category) == "FIELD"
    assert error.feature == "user.credit_score"
    assert error.resolver == "resolvers.get_credit_score"
    assert error.display_primary_key == "13"
    assert error.message
    assert isinstance(error.exception, ChalkException)
    assert error.exception.kind
    assert error.exception.message
    for name in ("user.id", "user.name", "user.age"):
        assert fields[name].error is None
        assert fields[name].valid is True
        assert fields[name].value == seeded_user(13)[name]  # type: ignore[index]


def test_an_unknown_output_is_a_request_error_in_a_200(http: httpx.Client, token: str) -> None:
    answer = query(http, token, query_body(1, ["user.name", "user.shoe_size", ""]))

    assert [result.field for result in answer.data] == ["user.name"]
    assert isinstance(answer.errors, list)
    assert len(answer.errors) == 2
    for error, name in zip(answer.errors, ["user.shoe_size", ""], strict=True):
        assert isinstance(error, ChalkError)
        assert str(error.code) == "RESOLVER_NOT_FOUND"
        assert str(error.category) == "REQUEST"
        assert error.feature == name
        assert error.message


@pytest.mark.parametrize("user_id", [0, 1001, -7, 10**20])
def test_ids_outside_the_range_answer_nulls_without_errors(
    http: httpx.Client, token: str, user_id: int
) -> None:
    answer = query(http, token, query_body(user_id))
    assert len(answer.data) == 4
    for result in answer.data:
        assert result.value is None
        assert result.error is None
        assert result.pkey == user_id
    assert answer.errors == []


def test_include_meta_adds_feature_and_query_meta(http: httpx.Client, token: str) -> None:
    answer = query(http, token, query_body(7, include_meta=True), **{"X-Chalk-Env-Id": "env-prod-1"})

    for result in answer.data:
        meta = result.meta
        assert isinstance(meta, FeatureMeta)
        assert meta.chosen_resolver_fqn == FEATURE_RESOLVERS[result.field]
        assert meta.cache_hit is False
        assert meta.primitive_type == FEATURE_TYPES[result.field]
        assert meta.version == 1
    assert by_field(answer)["user.name"].meta.primitive_type == "str"  # type: ignore[union-attr]
    meta = answer.meta
    assert isinstance(meta, QueryMeta)
    assert isinstance(meta.execution_duration_s, float)
    assert meta.execution_duration_s >= 0
    assert meta.deployment_id
    assert meta.environment_id == "env-prod-1"
    assert meta.environment_name == "prod"
    assert meta.query_id
    assert meta.query_timestamp == NOW_TEXT
    assert meta.query_hash
    assert isinstance(meta.explain_output, Unset)


def test_query_meta_defaults_to_the_primary_environment(http: httpx.Client, token: str) -> None:
    meta = query(http, token, query_body(1, include_meta=True)).meta
    assert isinstance(meta, QueryMeta)
    assert (meta.environment_id, meta.environment_name) == ("env-dev-1", "dev")


def test_query_ids_differ_and_the_hash_follows_the_outputs(http: httpx.Client, token: str) -> None:
    metas = [
        query(http, token, query_body(user_id, ["user.age"], include_meta=True)).meta for user_id in (1, 2)
    ]
    other = query(http, token, query_body(1, ["user.name"], include_meta=True)).meta
    assert isinstance(metas[0], QueryMeta)
    assert isinstance(metas[1], QueryMeta)
    assert isinstance(other, QueryMeta)
    assert metas[0].query_id != metas[1].query_id
    assert metas[0].query_hash == metas[1].query_hash != other.query_hash


def test_explain_adds_a_plan_to_the_meta(http: httpx.Client, token: str) -> None:
    meta = query(http, token, query_body(1, ["user.name", "user.age"], include_meta=True, explain=True)).meta
    assert isinstance(meta, QueryMeta)
    plan = meta.explain_output
    assert isinstance(plan, dict)
    assert [step["feature"] for step in plan["steps"]] == ["user.name", "user.age"]
    assert plan["steps"][0]["resolver"] == "resolvers.get_user_name"


def test_optional_and_unknown_fields_are_accepted(http: httpx.Client, token: str) -> None:
    body = query_body(
        1,
        ["user.name"],
        now="2026-01-01T12:00:00.123456789+02:00",
        staleness={"user.name": "1h"},
        context={"environment": "dev", "tags": ["a"], "required_resolver_tags": None},
        correlation_id="corr-1",
        query_name="q",
        query_name_version="1",
        deployment_id=None,
        branch_id=None,
        meta={"k": "v"},
        store_plan_stages=False,
        include_meta=False,
        explain=None,
        something_new={"nested": [1, 2]},
    )
    assert query(http, token, body).data[0].value == "Ada Lovelace"


@pytest.mark.parametrize(
    "now", ["2026-01-01T00:00:00Z", "2026-01-01t00:00:00z", "2026-01-01 00:00:00.5-05:30", None]
)
def test_valid_now_values(http: httpx.Client, token: str, now: str | None) -> None:
    assert query(http, token, query_body(1, ["user.age"], now=now)).data[0].value == 19


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"outputs": ["user.name"]}, "INVALID_QUERY"),
        ({"inputs": {}, "outputs": ["user.name"]}, "INVALID_QUERY"),
        ({"inputs": [1], "outputs": ["user.name"]}, "INVALID_QUERY"),
        ({"inputs": {"user.name": "Ada"}, "outputs": ["user.name"]}, "INVALID_QUERY"),
        (query_body(True), "INVALID_QUERY"),
        (query_body(1.0), "INVALID_QUERY"),
        (query_body(None), "INVALID_QUERY"),
        (query_body("abc"), "INVALID_QUERY"),
        (query_body("1" * 40), "INVALID_QUERY"),
        (query_body([1, 2]), "INVALID_QUERY"),
        ({"inputs": {"user.id": 1}}, "INVALID_QUERY"),
        (query_body(1, []), "INVALID_QUERY"),
        (query_body(1, "user.name"), "INVALID_QUERY"),  # type: ignore[arg-type]
        (query_body(1, [1]), "INVALID_QUERY"),  # type: ignore[list-item]
        (query_body(1, now="2026-01-01"), "PARSE_FAILED"),
        (query_body(1, now="2026-01-01T00:00:00"), "PARSE_FAILED"),
        (query_body(1, now="2026-13-01T00:00:00Z"), "PARSE_FAILED"),
        (query_body(1, now="yesterday"), "PARSE_FAILED"),
        (query_body(1, now=1_800_000_000), "PARSE_FAILED"),
        (query_body(1, staleness=["1h"]), "INVALID_QUERY"),
        (query_body(1, staleness={"user.name": 3600}), "INVALID_QUERY"),
        (query_body(1, include_meta="yes"), "INVALID_QUERY"),
        (query_body(1, explain=1), "INVALID_QUERY"),
        ([query_body(1)], "INVALID_QUERY"),
    ],
)
def test_malformed_queries_are_400(http: httpx.Client, token: str, body: Any, code: str) -> None:
    error_of(http.post(QUERY_PATH, json=body, headers=auth(token)), 400, code)


def test_a_body_that_is_not_json_is_400(http: httpx.Client, token: str) -> None:
    response = http.post(
        QUERY_PATH, content=b"{", headers=auth(token, **{"content-type": "application/json"})
    )
    error_of(response, 400, "PARSE_FAILED")


# -- auth ----------------------------------------------------------------------------------------

ENDPOINTS = [
    ("POST", QUERY_PATH, query_body(1)),
    ("POST", UPLOAD_PATH, {"input": {"user.id": [1], "user.age": [30]}}),
    ("GET", WHO_AM_I_PATH, None),
    ("POST", TRIGGER_PATH, {"resolver_fqn": "resolvers.get_user_age"}),
    ("GET", "/v1/runs/run-1", None),
]


def call(client: httpx.Client, method: str, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
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
def test_every_endpoint_wants_a_valid_token(
    http: httpx.Client, server: ChalkServer, method: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    response = call(http, method, path, body, headers)
    error_of(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"
    assert server.rows_stored == 0
    assert server.runs == []


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_revoked_and_expired_tokens_are_401(
    http: httpx.Client, server: ChalkServer, clock: ServerClock, method: str, path: str, body: Any
) -> None:
    token = token_body(http, server)["access_token"]
    server.revoke_tokens()
    response = call(http, method, path, body, auth(token))
    error_of(response, 401, "UNAUTHENTICATED")
    assert token not in response.text

    fresh = token_body(http, server)["access_token"]
    clock.advance(3600)
    error_of(call(http, method, path, body, auth(fresh)), 401, "UNAUTHENTICATED")


def test_a_bearer_scheme_in_any_case_is_accepted(http: httpx.Client, token: str) -> None:
    response = http.get(WHO_AM_I_PATH, headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200, response.text


def test_the_token_endpoint_needs_no_token(http: httpx.Client, server: ChalkServer) -> None:
    body = TokenResponse.from_dict(token_body(http, server))
    assert body.access_token


# -- routing headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_an_unknown_environment_id_is_400_naming_the_known_ids(
    http: httpx.Client, token: str, method: str, path: str, body: Any
) -> None:
    response = call(http, method, path, body, auth(token, **{"X-Chalk-Env-Id": "env-nope"}))
    error = error_of(response, 400, "VALIDATION_FAILED")
    assert "env-nope" in str(error.detail)
    assert "env-dev-1" in str(error.detail)
    assert "env-prod-1" in str(error.detail)


def test_an_environment_name_is_not_an_id(http: httpx.Client, token: str) -> None:
    response = http.get(WHO_AM_I_PATH, headers=auth(token, **{"X-Chalk-Env-Id": "prod"}))
    error = error_of(response, 400, "VALIDATION_FAILED")
    assert "name" in str(error.detail)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_client_id_other_than_the_tokens_is_401(
    http: httpx.Client, token: str, method: str, path: str, body: Any
) -> None:
    response = call(http, method, path, body, auth(token, **{"X-Chalk-Client-Id": "someone-else"}))
    error_of(response, 401, "UNAUTHENTICATED")


def test_the_tokens_own_client_id_is_accepted(http: httpx.Client, server: ChalkServer, token: str) -> None:
    response = http.get(WHO_AM_I_PATH, headers=auth(token, **{"X-Chalk-Client-Id": server.client_id}))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Chalk-Deployment-Type": "serverless"},
        {"X-Chalk-Deployment-Type": "branch"},
        {"X-Chalk-Deployment-Type": "branch", "X-Chalk-Branch-Id": ""},
    ],
    ids=["unknown-type", "branch-without-id", "branch-with-empty-id"],
)
def test_bad_deployment_headers_are_400(http: httpx.Client, token: str, headers: dict[str, str]) -> None:
    error_of(
        http.post(QUERY_PATH, json=query_body(1), headers=auth(token, **headers)), 400, "VALIDATION_FAILED"
    )


def test_a_branch_query_is_served_by_the_api_address_only(
    http: httpx.Client, engine: httpx.Client, token: str
) -> None:
    branch = {"X-Chalk-Deployment-Type": "branch", "X-Chalk-Branch-Id": "my-branch"}
    assert query(http, token, query_body(1, ["user.name"]), **branch).data[0].value == "Ada Lovelace"

    response = engine.post(QUERY_PATH, json=query_body(1), headers=auth(token, **branch))
    error = error_of(response, 400, "VALIDATION_FAILED")
    assert "branch" in str(error.detail)


def test_engine_deployment_type_and_empty_headers_are_fine(
    http: httpx.Client, engine: httpx.Client, token: str
) -> None:
    headers = {
        "X-Chalk-Deployment-Type": "engine",
        "X-Chalk-Env-Id": "env-prod-1",
        "X-Chalk-Deployment-Tag": "blue",
        "X-Chalk-Features-Versioned": "true",
    }
    assert query(engine, token, query_body(1, ["user.age"]), **headers).data[0].value == 19
    empty = {"X-Chalk-Env-Id": "", "X-Chalk-Client-Id": "", "X-Chalk-Deployment-Type": ""}
    body = WhoAmIResponse.from_dict(http.get(WHO_AM_I_PATH, headers=auth(token, **empty)).json())
    assert body.environment_id == "env-dev-1"


# -- two addresses and the request log -----------------------------------------------------------


def test_the_token_routes_queries_to_the_engine_address(
    http: httpx.Client, server: ChalkServer, token: str
) -> None:
    body = TokenResponse.from_dict(token_body(http, server))
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.engine_url)
    assert server.engine_url != server.url
    assert body.api_server == server.url
    assert body.engines is not None
    assert not isinstance(body.engines, Unset)
    assert body.engines.to_dict() == {"env-dev-1": server.engine_url, "env-prod-1": server.engine_url}


@pytest.mark.parametrize(
    ("method", "path", "body"), [*ENDPOINTS[1:], ("POST", TOKEN_PATH, {}), ("GET", "/nothing", None)]
)
def test_the_engine_address_serves_only_the_online_query(
    engine: httpx.Client, server: ChalkServer, token: str, method: str, path: str, body: Any
) -> None:
    error = error_of(call(engine, method, path, body, auth(token)), 404, "VALIDATION_FAILED")
    assert QUERY_PATH in str(error.detail)
    assert server.rows_stored == 0
    assert server.runs == []


def test_the_log_records_who_served_what(
    http: httpx.Client, engine: httpx.Client, server: ChalkServer, token: str
) -> None:
    server.clear_requests()
    query(engine, token, query_body(1), **{"X-Chalk-Query-Name": "by-header", "X-Chalk-Env-Id": "env-prod-1"})
    query(http, token, query_body(2, query_name="by-body"))
    engine.get(WHO_AM_I_PATH, headers=auth(token))
    http.get(WHO_AM_I_PATH)

    records = server.requests
    assert [(r.method, r.path, r.served_by, r.status) for r in records] == [
        ("POST", QUERY_PATH, "engine", 200),
        ("POST", QUERY_PATH, "api", 200),
        ("GET", WHO_AM_I_PATH, "engine", 404),
        ("GET", WHO_AM_I_PATH, "api", 401),
    ]
    assert all(isinstance(record, RequestRecord) for record in records)
    first = records[0]
    assert first.headers["x-chalk-query-name"] == "by-header"
    assert first.headers["x-chalk-env-id"] == "env-prod-1"
    assert first.headers["host"] == server.engine_url.removeprefix("http://")
    assert [record.query_name for record in records] == ["by-header", "by-body", None, None]
    for record in records:
        assert "authorization" not in record.headers
        assert all(name == name.lower() for name in record.headers)
        assert token not in repr(record)


def test_the_log_is_a_snapshot_and_can_be_cleared(
    http: httpx.Client, server: ChalkServer, token: str
) -> None:
    server.clear_requests()
    http.get(WHO_AM_I_PATH, headers=auth(token))
    snapshot = server.requests
    http.get(WHO_AM_I_PATH, headers=auth(token))
    assert len(snapshot) == 1
    assert len(server.requests) == 2
    snapshot.clear()
    assert len(server.requests) == 2
    server.clear_requests()
    assert server.requests == []


def test_the_log_keeps_the_most_recent_records_only() -> None:
    log = RequestLog(max_records=3)
    for index in range(5):
        log.observe(Request("GET", f"/{index}", headers=[(b"authorization", b"Bearer x"), (b"a", b"b")]), 200)
    assert [record.path for record in log.snapshot()] == ["/2", "/3", "/4"]
    assert log.snapshot()[0].headers == {"a": "b"}


def test_engine_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not been started"):
        _ = ChalkServer().engine_url


def test_given_engine_port_and_restart() -> None:
    import socket

    # A port found free can be taken by another socket (a client's ephemeral port) before the
    # server binds it: try a few ports (a bounded loop), as a user choosing ports would.
    for _ in range(5):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = ChalkServer(engine_port=port)
        with pytest.raises(ValueError, match="engine_port"):
            ChalkServer(port=port, engine_port=port)
        try:
            with server:
                assert server.engine_url == f"http://127.0.0.1:{port}"
            server.start()  # the engine address works again after a restart
        except RuntimeError as err:
            if "could not listen" not in str(err):
                raise
            continue
        break
    else:
        pytest.fail("no free port could be bound in 5 tries")
    try:
        with httpx.Client(base_url=server.engine_url) as engine:
            token = token_body(engine, server)["access_token"]
            assert query(engine, token, query_body(1, ["user.age"])).data[0].value == 19
            assert server.requests[-1].served_by == "engine"
    finally:
        server.stop()


# -- upload --------------------------------------------------------------------------------------


def test_uploaded_values_override_seeded_ones_with_cache_hit(
    http: httpx.Client, engine: httpx.Client, server: ChalkServer, token: str
) -> None:
    answer = upload(http, token, {"user.id": [1, 5000], "user.age": [99, 41], "user.name": ["Ada", "New"]})
    assert answer.errors == []
    assert isinstance(answer.trace_id, str)
    assert answer.trace_id

    fields = by_field(query(engine, token, query_body(1, include_meta=True)))
    assert fields["user.age"].value == 99
    assert fields["user.name"].value == "Ada"
    assert fields["user.credit_score"].value == 337
    assert fields["user.age"].meta.cache_hit is True  # type: ignore[union-attr]
    assert fields["user.credit_score"].meta.cache_hit is False  # type: ignore[union-attr]

    outside = by_field(query(engine, token, query_body(5000, include_meta=True)))
    assert outside["user.id"].value == 5000
    assert outside["user.age"].value == 41
    assert outside["user.credit_score"].value is None
    assert outside["user.credit_score"].error is None
    assert server.rows_stored == 2
    assert server.upload_requests == 1


def test_an_upload_fixes_the_failing_user(http: httpx.Client, token: str) -> None:
    upload(http, token, {"user.id": [FAILING_USER_ID], "user.credit_score": [700]})
    result = by_field(query(http, token, query_body(FAILING_USER_ID)))["user.credit_score"]
    assert (result.value, result.error, result.valid) == (700, None, True)


def test_later_rows_and_uploads_win_and_rows_are_counted(
    http: httpx.Client, server: ChalkServer, token: str
) -> None:
    upload(http, token, {"user.id": [2, 2, 3], "user.age": [50, 51, 60]})
    upload(http, token, {"user.id": [3], "user.name": ["Third"]})

    assert by_field(query(http, token, query_body(2)))["user.age"].value == 51
    fields = by_field(query(http, token, query_body(3)))
    assert (fields["user.age"].value, fields["user.name"].value) == (60, "Third")
    assert server.rows_stored == 4
    assert server.upload_requests == 2


@pytest.mark.parametrize(
    ("columns", "problems"),
    [
        ({"user.id": [1], "user.age": ["old"]}, [("VALIDATION_FAILED", "user.age")]),
        ({"user.id": [1, 2], "user.age": [30, 30.5]}, [("VALIDATION_FAILED", "user.age")]),
        ({"user.id": [1], "user.age": [True]}, [("VALIDATION_FAILED", "user.age")]),
        ({"user.id": [1], "user.name": [7]}, [("VALIDATION_FAILED", "user.name")]),
        ({"user.id": ["1"], "user.age": [30]}, [("VALIDATION_FAILED", "user.id")]),
        ({"user.id": [1], "user.shoe_size": [44]}, [("RESOLVER_NOT_FOUND", "user.shoe_size")]),
        (
            {"user.id": [1], "user.age": [None], "user.shoe_size": [44], "user.name": ["ok"]},
            [("VALIDATION_FAILED", "user.age"), ("RESOLVER_NOT_FOUND", "user.shoe_size")],
        ),
    ],
)
def test_upload_problems_are_listed_and_nothing_is_stored(
    http: httpx.Client,
    server: ChalkServer,
    token: str,
    columns: dict[str, list[Any]],
    problems: list[tuple[str, str]],
) -> None:
    answer = upload(http, token, columns)

    assert isinstance(answer.errors, list)
    assert all(isinstance(error, ChalkError) for error in answer.errors)
    found = [(str(error.code), error.feature) for error in answer.errors]  # type: ignore[union-attr]
    assert found == problems
    assert all(str(error.category) == "FIELD" for error in answer.errors)  # type: ignore[union-attr]
    assert all(error.message for error in answer.errors)  # type: ignore[union-attr]
    assert (server.rows_stored, server.upload_requests) == (0, 0)
    assert [result.value for result in query(http, token, query_body(1)).data] == [1, "Ada Lovelace", 19, 337]


@pytest.mark.parametrize(
    "body",
    [
        {"input": {"user.id": [1, 2], "user.age": [30]}},
        {"input": {"user.id": [], "user.age": []}},
        {"input": {"user.age": [30]}},
        {"input": {}},
        {"input": [[1]]},
        {"input": {"user.id": 1}},
        {"columns": {"user.id": [1]}},
        [{"user.id": [1]}],
    ],
    ids=["unequal", "empty", "no-id", "no-columns", "list", "scalar", "no-input", "not-object"],
)
def test_malformed_uploads_are_400(http: httpx.Client, server: ChalkServer, token: str, body: Any) -> None:
    error_of(http.post(UPLOAD_PATH, json=body, headers=auth(token)), 400, "VALIDATION_FAILED")
    assert server.rows_stored == 0


def test_upload_records_its_query_name(http: httpx.Client, server: ChalkServer, token: str) -> None:
    server.clear_requests()
    http.post(UPLOAD_PATH, json={"input": {"user.id": [1]}, "query_name": "nightly"}, headers=auth(token))
    assert server.requests[-1].query_name == "nightly"
    assert server.rows_stored == 1


def test_concurrent_queries_and_uploads_count_exactly(server: ChalkServer, token: str) -> None:
    failures: list[str] = []

    def work(worker: int) -> None:
        with httpx.Client(base_url=server.url) as client:
            for index in range(10):
                user_id = 2000 + worker * 100 + index
                answer = upload(client, token, {"user.id": [user_id], "user.age": [index]})
                if answer.errors:
                    failures.append(str(answer.errors))
                value = by_field(query(client, token, query_body(user_id)))["user.age"].value
                if value != index:
                    failures.append(f"{user_id}: {value}")

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert (server.rows_stored, server.upload_requests) == (40, 40)


# -- who am i ------------------------------------------------------------------------------------


def test_who_am_i(http: httpx.Client, server: ChalkServer, token: str) -> None:
    body = WhoAmIResponse.from_dict(http.get(WHO_AM_I_PATH, headers=auth(token)).json())
    assert (body.user, body.environment_id, body.team_id) == (server.client_id, "env-dev-1", "team-local")

    other = http.get(WHO_AM_I_PATH, headers=auth(token, **{"X-Chalk-Env-Id": "env-prod-1"}))
    assert WhoAmIResponse.from_dict(other.json()).environment_id == "env-prod-1"


# -- runs ----------------------------------------------------------------------------------------


def trigger(http: httpx.Client, token: str, **body: Any) -> RunResponse:
    response = http.post(TRIGGER_PATH, json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    return RunResponse.from_dict(response.json())


def run_status(http: httpx.Client, token: str, run_id: str) -> RunResponse:
    response = http.get(f"/v1/runs/{run_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    return RunResponse.from_dict(response.json())


def test_a_run_is_received_then_succeeds_by_the_server_clock(clock: ServerClock) -> None:
    with ChalkServer(clock=clock, run_duration=60) as server, httpx.Client(base_url=server.url) as http:
        token = token_body(http, server)["access_token"]
        run = trigger(
            http,
            token,
            resolver_fqn="resolvers.get_credit_score",
            lower_bound="2026-01-01T00:00:00Z",
            upper_bound="2026-02-01T00:00:00+01:00",
            timestamping_mode="feature_time",
            persistence_settings={"persist_online_storage": True, "persist_offline_storage": None},
        )
        assert run.status == RunStatus.RECEIVED
        assert run_status(http, token, run.id).status == RunStatus.RECEIVED
        clock.advance(59.999)
        assert run_status(http, token, run.id).status == RunStatus.RECEIVED
        clock.advance(0.001)
        assert run_status(http, token, run.id).status == RunStatus.SUCCEEDED

        (record,) = server.runs
        assert isinstance(record, RunRecord)
        assert record.id == run.id
        assert record.resolver_fqn == "resolvers.get_credit_score"
        assert record.lower_bound == datetime(2026, 1, 1, tzinfo=UTC)
        assert record.upper_bound == datetime(2026, 1, 31, 23, tzinfo=UTC)
        assert record.idempotency_key is None
        assert record.environment_id == "env-dev-1"
        assert record.created == NOW
        assert server.run_duration == 60


def test_with_no_run_duration_a_run_succeeds_at_once(
    http: httpx.Client, server: ChalkServer, token: str
) -> None:
    run = trigger(http, token, resolver_fqn="resolvers.get_user_name")
    assert run.status == RunStatus.RECEIVED
    assert run_status(http, token, run.id).status == RunStatus.SUCCEEDED
    server.run_duration = 10  # applies to existing runs too
    assert run_status(http, token, run.id).status == RunStatus.RECEIVED
    with pytest.raises(ValueError, match="run_duration"):
        server.run_duration = -1


def test_an_idempotency_key_starts_one_run(
    http: httpx.Client, server: ChalkServer, token: str, clock: ServerClock
) -> None:
    server.run_duration = 5
    first = trigger(http, token, resolver_fqn="resolvers.get_user_age", idempotency_key="k-1")
    again = trigger(http, token, resolver_fqn="resolvers.get_user_age", idempotency_key="k-1")
    other = trigger(http, token, resolver_fqn="resolvers.get_user_age", idempotency_key="k-2")
    unkeyed = [trigger(http, token, resolver_fqn="resolvers.get_user_age") for _ in range(2)]

    assert again.id == first.id
    assert len({first.id, other.id, *(run.id for run in unkeyed)}) == 4
    assert [run.idempotency_key for run in server.runs] == ["k-1", "k-2", None, None]
    clock.advance(5)
    assert trigger(http, token, resolver_fqn="resolvers.get_user_age", idempotency_key="k-1").status == (
        RunStatus.SUCCEEDED
    )
    assert len(server.runs) == 4


def test_runs_record_the_environment(http: httpx.Client, server: ChalkServer, token: str) -> None:
    response = http.post(
        TRIGGER_PATH,
        json={"resolver_fqn": "resolvers.get_user_age"},
        headers=auth(token, **{"X-Chalk-Env-Id": "env-prod-1"}),
    )
    assert response.status_code == 200, response.text
    assert server.runs[0].environment_id == "env-prod-1"


def test_an_unknown_resolver_is_404(http: httpx.Client, server: ChalkServer, token: str) -> None:
    response = http.post(TRIGGER_PATH, json={"resolver_fqn": "resolvers.nope"}, headers=auth(token))
    error = error_of(response, 404, "RESOLVER_NOT_FOUND")
    assert "resolvers.nope" in str(error.detail)
    assert server.runs == []


def test_an_unknown_run_is_404(http: httpx.Client, token: str) -> None:
    error_of(http.get("/v1/runs/run-999", headers=auth(token)), 404, "VALIDATION_FAILED")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "VALIDATION_FAILED"),
        ({"resolver_fqn": 5}, "VALIDATION_FAILED"),
        ({"resolver_fqn": "resolvers.get_user_age", "lower_bound": "2026-01-01"}, "PARSE_FAILED"),
        ({"resolver_fqn": "resolvers.get_user_age", "upper_bound": "2026-01-01T00:00:00"}, "PARSE_FAILED"),
        ({"resolver_fqn": "resolvers.get_user_age", "upper_bound": 5}, "PARSE_FAILED"),
        (
            {
                "resolver_fqn": "resolvers.get_user_age",
                "lower_bound": "2026-01-02T00:00:00Z",
                "upper_bound": "2026-01-01T00:00:00Z",
            },
            "VALIDATION_FAILED",
        ),
        (
            {
                "resolver_fqn": "resolvers.get_user_age",
                "lower_bound": "2026-01-01T01:00:00+01:00",
                "upper_bound": "2026-01-01T00:00:00Z",
            },
            "VALIDATION_FAILED",
        ),
        ({"resolver_fqn": "resolvers.get_user_age", "timestamping_mode": "now"}, "VALIDATION_FAILED"),
        ({"resolver_fqn": "resolvers.get_user_age", "persistence_settings": [True]}, "VALIDATION_FAILED"),
        (
            {
                "resolver_fqn": "resolvers.get_user_age",
                "persistence_settings": {"persist_online_storage": "y"},
            },
            "VALIDATION_FAILED",
        ),
        ({"resolver_fqn": "resolvers.get_user_age", "idempotency_key": 7}, "VALIDATION_FAILED"),
        (["resolvers.get_user_age"], "VALIDATION_FAILED"),
    ],
)
def test_malformed_triggers_are_400(
    http: httpx.Client, server: ChalkServer, token: str, body: Any, code: str
) -> None:
    error_of(http.post(TRIGGER_PATH, json=body, headers=auth(token)), 400, code)
    assert server.runs == []


@pytest.mark.parametrize("value", [-1, float("inf"), float("nan")])
def test_run_duration_must_be_finite_and_not_negative(value: float) -> None:
    with pytest.raises(ValueError, match="run_duration"):
        ChalkServer(run_duration=value)
