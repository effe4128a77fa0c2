"""Both clients against a real ChalkServer on loopback: values, routing, uploads, runs, the 401 path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalk_client import (
    ChalkEnvironmentError,
    ChalkInputError,
    ChalkResultError,
)
from chalk_client.testing import FAILING_USER_ID, ChalkServer, seeded_user
from tests.conftest import ClientUnderTest, ServerClock

OUTPUTS = ["user.name", "user.age", "user.credit_score"]


@pytest.fixture(scope="module")
def server_clock() -> ServerClock:
    return ServerClock()


@pytest.fixture(scope="module")
def server(server_clock: ServerClock) -> Iterator[ChalkServer]:
    with ChalkServer(run_duration=60.0, clock=server_clock) as running:
        yield running


@pytest.fixture
def client_options(server: ChalkServer) -> dict[str, Any]:
    return {"server": server}


def test_query_returns_the_seeded_values_from_the_engine(
    client: ClientUnderTest, server: ChalkServer
) -> None:
    server.clear_requests()
    result = client("query", {"user.id": 1}, OUTPUTS, include_meta=True, query_name="profile")
    expected = seeded_user(1)
    assert expected is not None
    assert result.to_dict() == {name: expected[name] for name in OUTPUTS}
    assert result.get_value("user.name") == "Ada Lovelace"
    assert result.errors == []
    name = result.get("user.name")
    assert name.primary_key == 1
    assert name.resolver == "resolvers.get_user_name"
    assert name.timestamp is not None
    assert result.meta is not None
    assert result.meta.environment_id == "env-dev-1"  # the token's primary environment
    (record,) = [r for r in server.requests if r.path == "/v1/query/online"]
    assert record.served_by == "engine"
    assert record.headers["x-chalk-query-name"] == "profile"
    assert record.headers["x-chalk-deployment-type"] == "engine"


def test_a_failing_resolver_is_an_error_on_the_result(client: ClientUnderTest) -> None:
    result = client("query", {"user.id": FAILING_USER_ID}, OUTPUTS)
    score = result.get("user.credit_score")
    assert score.value is None
    assert score.error is not None
    assert score.error.code == "RESOLVER_FAILED"  # ErrorCode is a str enum
    assert result.get_value("user.name") == seeded_user(FAILING_USER_ID)["user.name"]  # type: ignore[index]
    with pytest.raises(ChalkResultError, match="RESOLVER_FAILED"):
        result.raise_for_errors()


def test_an_unknown_feature_is_a_request_error_on_the_result(client: ClientUnderTest) -> None:
    result = client("query", {"user.id": 2}, ["user.name", "user.shoe_size"])
    assert result.get_value("user.name") == "Alan Turing"
    assert [e.feature for e in result.errors] == ["user.shoe_size"]


def test_upload_then_query_returns_the_uploaded_value(client: ClientUnderTest, server: ChalkServer) -> None:
    user_id = 5000 + (0 if client.kind == "sync" else 1)
    before = server.rows_stored
    uploaded = client("upload_features", {"user.id": [user_id], "user.name": ["Ada King"], "user.age": [36]})
    assert uploaded.rows == 1
    assert server.rows_stored == before + 1
    result = client("query", {"user.id": user_id}, ["user.name", "user.age"], include_meta=True)
    assert result.to_dict() == {"user.name": "Ada King", "user.age": 36}
    assert result.get("user.name").cache_hit is True


def test_upload_errors_raise_and_store_nothing(client: ClientUnderTest, server: ChalkServer) -> None:
    before = server.rows_stored
    with pytest.raises(ChalkResultError, match="nothing was stored"):
        client("upload_features", {"user.id": 7, "user.age": "old"})
    assert server.rows_stored == before


def test_environment_by_name_and_unknown_environment(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    client = make_client(environment="PROD")
    me = client("whoami")
    assert me.environment_id == "env-prod-1"
    assert me.user == server.client_id
    with pytest.raises(ChalkEnvironmentError, match="dev"):
        client("query", {"user.id": 1}, ["user.name"], environment="staging")


def test_a_branch_goes_to_the_api_server(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    client = make_client(branch="feature-1")
    server.clear_requests()
    assert client("query", {"user.id": 3}, ["user.name"]).get_value("user.name") == "Grace Hopper"
    (record,) = [r for r in server.requests if r.path == "/v1/query/online"]
    assert record.served_by == "api"
    assert record.headers["x-chalk-deployment-type"] == "branch"
    assert record.headers["x-chalk-branch-id"] == "feature-1"


def test_runs_are_recorded_and_finish(
    client: ClientUnderTest, server: ChalkServer, server_clock: ServerClock
) -> None:
    run = client("trigger_resolver_run", "resolvers.get_credit_score", idempotency_key=f"k-{client.kind}")
    again = client("trigger_resolver_run", "resolvers.get_credit_score", idempotency_key=f"k-{client.kind}")
    assert again.id == run.id
    assert run.status == "received"
    assert client("get_run_status", run.id).status == "received"
    server_clock.now += 61
    assert client("get_run_status", run.id).finished
    assert [r.idempotency_key for r in server.runs].count(f"k-{client.kind}") == 1


def test_a_revoked_token_is_replaced_once_without_an_error(
    client: ClientUnderTest, server: ChalkServer
) -> None:
    client("whoami")
    exchanges = server.token_exchanges
    server.revoke_tokens()
    results = client.many(8, "query", {"user.id": 4}, ["user.name"])
    assert [r.get_value("user.name") for r in results] == ["Erin Smith"] * 8
    assert server.token_exchanges == exchanges + 1


def test_bad_input_never_reaches_the_server(client: ClientUnderTest, server: ChalkServer) -> None:
    server.clear_requests()
    with pytest.raises(ChalkInputError, match="different lengths"):
        client("upload_features", {"user.id": [1, 2], "user.name": ["x"]})
    assert server.requests == []


def test_1000_sequential_calls_reuse_one_connection_per_pool(
    client: ClientUnderTest, server: ChalkServer
) -> None:
    # Queries go to the engine address (the engine pool); the token exchange and the who-am-i to
    # the API address (the API-server pool): one connection each, kept alive across every call.
    before = server.faults.connections.opened
    client("whoami")
    for _ in range(1000):
        client("query", {"user.id": 2}, ["user.name"])
    opened = server.faults.connections.opened - before
    assert opened in (1, 2), opened
