"""The data-plane methods on both clients, against the in-memory fake API: wire format, routing,
the 401 replay, retries and their delays, and the errors a call ends with."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from chalk_client import (
    ChalkAuthenticationError,
    ChalkConnectionError,
    ChalkEnvironmentError,
    ChalkInputError,
    ChalkNotFoundError,
    ChalkRateLimitError,
    ChalkResultError,
    ChalkServerError,
    ChalkTimeoutError,
    OnlineQueryResult,
)
from chalk_client._core.defaults import USER_AGENT
from tests.conftest import API_SERVER, CLIENT_ID, SECRET, TOKEN_PREFIX, ClientUnderTest, FakeClock
from tests.fake_api import ENGINE, FakeChalkAPI, answer

QUERY = "/v1/query/online"
UPLOAD = "/v1/upload_features"


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


# -- the wire --------------------------------------------------------------------------------------


def test_query_sends_the_documented_request_to_the_engine(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    result = client(
        "query",
        {"user.id": 1},
        ["user.name", "user.age"],
        now=when,
        staleness={"user.age": "1h"},
        tags=["fast"],
        query_name="q1",
        correlation_id="corr-1",
        include_meta=True,
    )
    assert isinstance(result, OnlineQueryResult)
    assert result.to_dict() == {"user.name": "user.name:1", "user.age": "user.age:1"}
    (request,) = api.data_requests()
    assert str(request.url) == ENGINE + QUERY
    assert body_of(request) == {
        "inputs": {"user.id": 1},
        "outputs": ["user.name", "user.age"],
        "now": "2026-01-02T01:04:05+00:00",
        "staleness": {"user.age": "1h"},
        "context": {"tags": ["fast"]},
        "include_meta": True,
        "query_name": "q1",
        "correlation_id": "corr-1",
    }
    headers = request.headers
    assert headers["authorization"] == f"Bearer {TOKEN_PREFIX}1"
    assert headers["user-agent"] == USER_AGENT
    assert headers["x-chalk-client-id"] == CLIENT_ID
    assert headers["x-chalk-env-id"] == "env-1"
    assert headers["x-chalk-deployment-type"] == "engine"
    assert headers["x-chalk-query-name"] == "q1"
    assert "x-chalk-branch-id" not in headers
    assert headers["content-type"] == "application/json"


def test_environment_by_name_in_any_case_routes_to_its_engine_with_https_added(
    make_client: Callable[..., ClientUnderTest], api: FakeChalkAPI
) -> None:
    both = make_client(environment="PROD")
    both("query", {"user.id": 1}, ["user.name"])
    (request,) = api.data_requests()
    assert str(request.url) == "https://engine-2.chalk.test" + QUERY
    assert request.headers["x-chalk-env-id"] == "env-2"


def test_unknown_environment_is_an_error_listing_the_available_ones(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    with pytest.raises(ChalkEnvironmentError) as caught:
        client("query", {"user.id": 1}, ["user.name"], environment="staging")
    assert "dev (env-1)" in str(caught.value)
    assert "prod (env-2)" in str(caught.value)
    assert caught.value.available == {"env-1": "dev", "env-2": "prod"}
    assert api.data_requests() == []


def test_branch_sends_everything_to_the_api_server_with_branch_headers(
    make_client: Callable[..., ClientUnderTest], api: FakeChalkAPI
) -> None:
    both = make_client(branch="feature-x", deployment_tag="tag-7")
    both("query", {"user.id": 1}, ["user.name"])
    both("whoami")
    query, whoami = api.data_requests()
    assert str(query.url) == API_SERVER + QUERY
    assert body_of(query)["branch_id"] == "feature-x"
    for request in (query, whoami):
        assert request.url.host == "api.chalk.test"
        assert request.headers["x-chalk-deployment-type"] == "branch"
        assert request.headers["x-chalk-branch-id"] == "feature-x"
        assert request.headers["x-chalk-deployment-tag"] == "tag-7"


def test_query_server_wins_over_the_engine_and_other_calls_use_the_api_server(
    make_client: Callable[..., ClientUnderTest], api: FakeChalkAPI
) -> None:
    both = make_client(query_server="https://query.chalk.test")
    both("query", {"user.id": 1}, ["user.name"])
    both("upload_features", {"user.id": 1, "user.name": "Ada"})
    query, upload = api.data_requests()
    assert str(query.url) == "https://query.chalk.test" + QUERY
    assert str(upload.url) == API_SERVER + UPLOAD


def test_errors_inside_a_200_answer_are_returned_not_raised(client: ClientUnderTest) -> None:
    result = client("query", {"user.id": 3}, ["user.name", "user.broken"])
    assert result.get_value("user.name") == "user.name:3"
    broken = result.get("user.broken")
    assert broken.value is None
    assert broken.error is not None
    assert broken.error.message == "boom"
    assert [e.message for e in result.errors] == ["boom"]
    with pytest.raises(ChalkResultError, match="RESOLVER_FAILED"):
        result.raise_for_errors()


def test_upload_sends_columns_and_reports_rows(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    result = client("upload_features", {"user.id": [1, 2], "user.name": ["Ada", "Grace"]})
    assert (result.rows, result.features, result.trace_id) == (2, ("user.id", "user.name"), "trace-upload")
    (request,) = api.data_requests()
    assert body_of(request) == {"input": {"user.id": [1, 2], "user.name": ["Ada", "Grace"]}}


def test_upload_errors_in_the_answer_raise(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    api.queue(
        UPLOAD,
        answer(200, {"errors": [{"code": "VALIDATION_FAILED", "message": "bad age"}], "trace_id": "t9"}),
    )
    with pytest.raises(ChalkResultError, match="bad age") as caught:
        client("upload_features", {"user.id": 1, "user.age": "old"})
    assert caught.value.trace == "t9"


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ({}, "empty"),
        ({1: [1]}, "keys must be non-empty feature names"),
        ({"user.id": [1, 2], "user.name": ["Ada"]}, "different lengths"),
        ({"user.id": []}, "empty columns"),
        ([("user.id", 1)], "must be a mapping"),
    ],
)
def test_bad_uploads_are_refused_before_anything_is_sent(
    client: ClientUnderTest, api: FakeChalkAPI, given: Any, fragment: str
) -> None:
    with pytest.raises(ChalkInputError, match=fragment):
        client("upload_features", given)
    assert api.requests == []


def test_naive_now_is_an_error_not_a_guess(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    with pytest.raises(ChalkInputError, match="naive"):
        client("query", {"user.id": 1}, ["user.name"], now=datetime(2026, 1, 1))
    assert api.requests == []


def test_whoami_and_runs(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    me = client("whoami")
    assert (me.user, me.environment_id, me.team_id) == ("client-id-for-tests", "env-1", "team-1")
    run = client(
        "trigger_resolver_run",
        "resolvers.get_credit_score",
        lower_bound=datetime(2026, 1, 1, tzinfo=UTC),
        upper_bound="2026-02-01T00:00:00Z",
        idempotency_key="key-1",
    )
    assert (run.id, run.status, run.finished, run.idempotency_key) == ("run-1", "received", False, "key-1")
    trigger = api.data_requests()[-1]
    assert body_of(trigger) == {
        "resolver_fqn": "resolvers.get_credit_score",
        "lower_bound": "2026-01-01T00:00:00+00:00",
        "upper_bound": "2026-02-01T00:00:00+00:00",
        "idempotency_key": "key-1",
    }
    status = client("get_run_status", run.id)
    assert (status.id, status.status, status.finished) == ("run-1", "succeeded", True)
    with pytest.raises(ChalkNotFoundError, match="trace-404"):
        client("get_run_status", "run/../nope")
    assert api.requests[-1].url.raw_path == b"/v1/runs/run%2F..%2Fnope"


# -- the 401 flow ------------------------------------------------------------------------------------


def test_a_401_invalidates_the_token_and_replays_once(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    client("query", {"user.id": 1}, ["user.name"])
    api.revoked.add(f"{TOKEN_PREFIX}1")
    result = client("query", {"user.id": 1}, ["user.name"])
    assert result.get_value("user.name") == "user.name:1"
    assert api.exchanges == 2
    auths = [r.headers["authorization"] for r in api.data_requests()]
    assert auths == [f"Bearer {TOKEN_PREFIX}1", f"Bearer {TOKEN_PREFIX}1", f"Bearer {TOKEN_PREFIX}2"]


def test_sixteen_concurrent_401s_for_one_stale_token_cause_one_exchange(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    client("get_token")
    api.revoked.add(f"{TOKEN_PREFIX}1")
    api.hold_rejections = 16  # all sixteen are rejected with the same token before any replays
    results = client.many(16, "query", {"user.id": 1}, ["user.name"])
    assert [r.get_value("user.name") for r in results] == ["user.name:1"] * 16
    assert api.exchanges == 2  # the first token, and one replacement for all sixteen
    assert api.rejections == 16


def test_a_401_for_a_token_exchanged_for_this_call_is_final(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    api.queue(QUERY, answer(401, {"detail": "nope", "trace": "tr-1"}))
    with pytest.raises(ChalkAuthenticationError, match="tr-1") as caught:
        client("query", {"user.id": 1}, ["user.name"])
    assert caught.value.status_code == 401
    assert api.exchanges == 1
    assert len(api.data_requests()) == 1


def test_a_401_for_a_minted_token_that_expired_before_it_was_sent_is_replayed(
    client: ClientUnderTest, api: FakeChalkAPI, clock: Any
) -> None:
    # The call waited (for a connection, say) until its new token had expired: the 401 is explained
    # by the token's age, so one replay with a fresh token is worth it.
    def late(request: httpx.Request) -> httpx.Response:
        clock.advance(4000)  # past the 3600 s lifetime
        return answer(401, {"detail": "expired"})

    api.queue(QUERY, late)
    result = client("query", {"user.id": 1}, ["user.name"])
    assert result.get_value("user.name") == "user.name:1"
    assert api.exchanges == 2
    assert len(api.data_requests()) == 2


def test_401s_for_tokens_that_aged_in_flight_are_replayed_up_to_a_bound(
    client: ClientUnderTest, api: FakeChalkAPI, clock: Any
) -> None:
    # Under load a request can wait for a connection longer than its token lives: each 401 for a
    # token that has expired by then is worth another replay, up to MAX_AGED_REPLAYS.
    from chalk_client._core.auth import MAX_AGED_REPLAYS

    def late(request: httpx.Request) -> httpx.Response:
        clock.advance(4000)  # past the 3600 s lifetime of the token it carried
        return answer(401, {"detail": "expired"})

    client("get_token")
    api.queue(QUERY, late, late)
    assert client("query", {"user.id": 1}, ["user.name"]).get_value("user.name") == "user.name:1"
    assert len(api.data_requests()) == 3
    api.queue(QUERY, *[late] * (MAX_AGED_REPLAYS + 1))
    with pytest.raises(ChalkAuthenticationError):
        client("query", {"user.id": 1}, ["user.name"])


def test_a_second_401_after_the_replay_is_final(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    client("get_token")
    api.queue(QUERY, answer(401), answer(401))
    with pytest.raises(ChalkAuthenticationError):
        client("query", {"user.id": 1}, ["user.name"])
    assert api.exchanges == 2
    assert len(api.data_requests()) == 2


# -- retries -------------------------------------------------------------------------------------------


def test_5xx_is_retried_twice_with_backoff_then_raised_with_the_attempts(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    api.queue(QUERY, answer(503), answer(502), answer(500, {"detail": "down", "trace": "tr-5"}))
    with pytest.raises(ChalkServerError) as caught:
        client("query", {"user.id": 1}, ["user.name"])
    assert client.sleeps == [0.5, 1.0]
    assert caught.value.attempts == 3
    assert "after 3 attempts" in str(caught.value)
    assert "tr-5" in str(caught.value)


def test_retry_then_success(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    api.queue(QUERY, answer(504), httpx.ReadError("reset"))
    assert client("query", {"user.id": 1}, ["user.name"]).get_value("user.name") == "user.name:1"
    assert client.sleeps == [0.5, 1.0]


def test_retry_after_is_honoured_in_seconds_and_as_a_date(
    client: ClientUnderTest, api: FakeChalkAPI, clock: FakeClock
) -> None:
    date = datetime.fromtimestamp(clock.wall + 7, tz=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    api.queue(QUERY, answer(429, headers={"retry-after": "3"}), answer(503, headers={"retry-after": date}))
    client("query", {"user.id": 1}, ["user.name"])
    assert client.sleeps == [3.0, 7.0]


def test_retry_after_over_sixty_seconds_is_not_waited_for(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    api.queue(QUERY, answer(429, headers={"retry-after": "120"}))
    with pytest.raises(ChalkRateLimitError) as caught:
        client("query", {"user.id": 1}, ["user.name"])
    assert caught.value.retry_after == 120.0
    assert caught.value.attempts == 1
    assert client.sleeps == []


def test_max_retries_zero_sends_once(make_client: Callable[..., ClientUnderTest], api: FakeChalkAPI) -> None:
    api.queue(QUERY, answer(503))
    both = make_client(max_retries=0)
    with pytest.raises(ChalkServerError):
        both("query", {"user.id": 1}, ["user.name"])
    assert len(api.data_requests()) == 1


def test_an_upload_is_not_retried_once_it_may_have_reached_the_server(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    api.queue(UPLOAD, httpx.ReadError("connection reset"))
    with pytest.raises(ChalkConnectionError, match="may or may not have reached the server") as caught:
        client("upload_features", {"user.id": 1, "user.name": "Ada"})
    assert caught.value.attempts == 1
    assert len(api.data_requests()) == 1
    assert client.sleeps == []


def test_an_upload_5xx_is_not_retried(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    api.queue(UPLOAD, answer(503))
    with pytest.raises(ChalkServerError, match="1 attempt"):
        client("upload_features", {"user.id": 1})
    assert len(api.data_requests()) == 1


def test_an_upload_that_never_connected_is_retried(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    api.queue(UPLOAD, httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"))
    assert client("upload_features", {"user.id": 1}).rows == 1
    assert len(api.data_requests()) == 3
    assert client.sleeps == [0.5, 1.0]


def test_a_trigger_keeps_its_generated_idempotency_key_across_attempts(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    api.queue("/v1/runs/trigger", httpx.ReadError("reset"), answer(503))
    run = client("trigger_resolver_run", "resolvers.get_user_name")
    keys = {body_of(r)["idempotency_key"] for r in api.data_requests()}
    assert len(api.data_requests()) == 3
    assert keys == {run.idempotency_key}
    assert run.idempotency_key
    assert len(run.idempotency_key) >= 32


def test_timeouts_raise_the_timeout_class_after_the_retries(
    client: ClientUnderTest, api: FakeChalkAPI
) -> None:
    api.queue(QUERY, *(httpx.ReadTimeout("slow") for _ in range(3)))
    with pytest.raises(ChalkTimeoutError, match="after 3 attempts"):
        client("query", {"user.id": 1}, ["user.name"])


def test_timeout_defaults_and_per_call_override(client: ClientUnderTest, api: FakeChalkAPI) -> None:
    client("query", {"user.id": 1}, ["user.name"])
    client("query", {"user.id": 1}, ["user.name"], timeout=2.5)
    client("query", {"user.id": 1}, ["user.name"], timeout=httpx.Timeout(9.0, connect=1.0))
    default, short, custom = (r.extensions["timeout"] for r in api.data_requests())
    assert default == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    assert short == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}
    assert custom == {"connect": 1.0, "read": 9.0, "write": 9.0, "pool": 9.0}
    with pytest.raises(ChalkInputError, match="timeout"):
        client("query", {"user.id": 1}, ["user.name"], timeout=-1)


def test_retry_decisions_are_logged_at_debug_without_secrets(
    client: ClientUnderTest, api: FakeChalkAPI, caplog: pytest.LogCaptureFixture
) -> None:
    api.queue(QUERY, answer(503))
    with caplog.at_level(logging.DEBUG, logger="chalk_client"):
        client("query", {"user.id": 1}, ["user.name"])
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "retry 1 of 2 in 0.50 s" in text
    assert SECRET not in text
    assert TOKEN_PREFIX not in text
