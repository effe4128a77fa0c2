"""How both SDK clients behave when ChalkServer misbehaves (issue 6, part 2).

Every test runs against a real ChalkServer on loopback, with its faults switched on, for the sync
and the async client. Waits between attempts are recorded, never slept (``sleep=``); the client's
clock is a fake one that moves only when told, so token refreshes happen exactly when a test says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from chalk_client import (
    ChalkAPIStatusError,
    ChalkAuthenticationError,
    ChalkBadRequestError,
    ChalkConnectionError,
    ChalkInvalidResponseError,
    ChalkRateLimitError,
    ChalkSDKError,
    ChalkServerError,
    ChalkTimeoutError,
)
from chalk_client.testing import ChalkServer, Fault
from tests.conftest import ClientUnderTest, FakeClock, ServerClock

TOKEN_PATH = "/v1/oauth/token"
QUERY_PATH = "/v1/query/online"
UPLOAD_PATH = "/v1/upload_features"
NOW = 1_800_000_000.0  # the server's clock and the client's wall clock agree


@pytest.fixture(scope="module")
def server() -> Iterator[ChalkServer]:
    with ChalkServer(clock=ServerClock(NOW)) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults(server: ChalkServer, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Each test starts without faults, and nothing the faults do makes the server log an error."""
    server.faults.clear()
    with caplog.at_level(logging.WARNING):
        yield
    server.faults.clear()
    assert server.faults.wait_idle()  # delayed calls finish here, not in the next test
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall=NOW)


@pytest.fixture
def client_options(server: ChalkServer, clock: FakeClock) -> dict[str, Any]:
    """The client under test on `server`; its waits are recorded in ``client.sleeps``."""
    return {"server": server, "clock": clock, "rand": lambda: 0.0, "fake_sleep": True}


def ask(client: ClientUnderTest, user_id: int = 1) -> Any:
    return client("query", {"user.id": user_id}, ["user.name"])


def names(results: list[Any]) -> list[Any]:
    return [r if isinstance(r, BaseException) else r.get_value("user.name") for r in results]


def records(server: ChalkServer, path: str) -> list[Any]:
    return [r for r in server.requests if r.path == path]


RAW_ERRORS = (KeyError, json.JSONDecodeError, AttributeError, TypeError, httpx.HTTPError)


def assert_typed(err: BaseException, path: str, status: int | None = None) -> None:
    """A chalk_client error, not a raw one, whose message names the endpoint (and the status)."""
    assert isinstance(err, ChalkSDKError), repr(err)
    assert not isinstance(err, RAW_ERRORS), repr(err)
    assert path in str(err), str(err)
    if status is not None:
        assert str(status) in str(err), str(err)
        assert getattr(err, "status_code", None) == status


# -- the token endpoint ------------------------------------------------------------------------


TOKEN_ENDPOINT_DOWN = {
    "status-503": lambda: Fault.status(TOKEN_PATH, 503, count=None),
    "dropped": lambda: Fault.drop(TOKEN_PATH, "before", count=None),
    "too-slow": lambda: Fault.delay(TOKEN_PATH, 0.5, count=None),  # the client waits 0.2 s
}


@pytest.mark.parametrize("how", list(TOKEN_ENDPOINT_DOWN))
def test_token_endpoint_down_while_the_token_is_valid_reaches_no_caller(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer, clock: FakeClock, how: str
) -> None:
    # Only the slow endpoint needs a short timeout; a loaded machine may take longer than 0.2 s
    # to answer the first exchange too, which is retried: the waits are counted from after it.
    client = make_client(refresh_buffer=60, token_timeout=0.2 if how == "too-slow" else 5.0)
    assert ask(client).get_value("user.name") == "Ada Lovelace"
    warm_up = len(client.sleeps)
    exchanges = server.token_exchanges
    down = server.faults.add(TOKEN_ENDPOINT_DOWN[how]())
    clock.advance(3600 - 30)  # inside the refresh buffer, 30 s before expiry: the cache wants a refresh
    # Each refresh is one flight of 3 attempts (token_retries=2: pauses of 0.5 s and 1 s); after a
    # failed flight the cache backs off 1 s, 2 s, 4 s (rand=0). Calls in between do not ask again.
    attempts = []
    for step in (0.0, 0.5, 0.6, 0.9, 1.0, 0.2, 1.0, 1.5):
        clock.advance(step)
        assert ask(client).get_value("user.name") == "Ada Lovelace"
        attempts.append(down.hits)
    assert attempts == [3, 3, 6, 6, 6, 9, 9, 9]
    # Many callers at once, still inside the backoff: no exchange, no error.
    assert names(client.many(16, "query", {"user.id": 2}, ["user.name"])) == ["Alan Turing"] * 16
    assert down.hits == 9
    # Past the backoff, many callers at once: one of them tries again (3 attempts), none fails.
    clock.advance(4.0)
    assert names(client.many(16, "query", {"user.id": 2}, ["user.name"])) == ["Alan Turing"] * 16
    assert down.hits == 12
    assert client.sleeps[warm_up:] == [0.5, 1.0] * 4
    # The endpoint comes back: the next refresh (after the 8 s backoff) succeeds.
    assert server.faults.token_endpoint_up() == 1
    clock.advance(8.0)
    assert server.faults.wait_idle()
    # A slow endpoint still issued a token for each attempt, after its caller had given up.
    assert server.token_exchanges == exchanges + (down.hits if how == "too-slow" else 0)
    exchanged = server.token_exchanges
    assert ask(client).get_value("user.name") == "Ada Lovelace"
    assert server.token_exchanges == exchanged + 1
    assert all(r.status == 200 for r in records(server, QUERY_PATH)[-40:])


def test_token_endpoint_down_without_a_token_is_a_typed_error(
    client: ClientUnderTest, server: ChalkServer
) -> None:
    server.clear_requests()
    server.faults.token_endpoint_down()
    with pytest.raises(ChalkServerError) as caught:
        ask(client)
    assert_typed(caught.value, TOKEN_PATH, 503)
    assert caught.value.attempts == 3
    assert "after 3 attempts" in str(caught.value)
    assert client.sleeps == [0.5, 1.0]
    assert len(records(server, TOKEN_PATH)) == 3


TOKEN_BLIPS = {
    "status-503": lambda: Fault.status(TOKEN_PATH, 503, count=1),
    "status-500": lambda: Fault.status(TOKEN_PATH, 500, count=1),
    "html-502": lambda: Fault.html_page(TOKEN_PATH, count=1),
    "rate-limited": lambda: Fault.rate_limit(TOKEN_PATH, retry_after=2.0, count=1),
    "dropped-before": lambda: Fault.drop(TOKEN_PATH, "before", count=1),
    "dropped-mid-body": lambda: Fault.drop(TOKEN_PATH, "mid_body", count=1),
    "too-slow": lambda: Fault.delay(TOKEN_PATH, 0.5, count=1),  # the client waits 0.2 s
}


@pytest.mark.parametrize("how", list(TOKEN_BLIPS))
def test_one_blip_of_the_token_endpoint_reaches_no_caller(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer, how: str
) -> None:
    client = make_client(token_timeout=0.2)
    blip = server.faults.add(TOKEN_BLIPS[how]())
    # From cold, 16 callers wait on one exchange; its first attempt fails, its second succeeds.
    assert names(client.many(16, "query", {"user.id": 2}, ["user.name"])) == ["Alan Turing"] * 16
    assert blip.hits == 1
    assert client.sleeps == ([2.0] if how == "rate-limited" else [0.5])
    # No backoff follows: the next call that needs a token exchanges at once.
    client.client.invalidate_token(client("get_token"))
    assert ask(client).get_value("user.name") == "Ada Lovelace"


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, ChalkBadRequestError), (401, ChalkAuthenticationError), (403, ChalkAuthenticationError)],
)
def test_rejected_credentials_are_never_retried(
    client: ClientUnderTest, server: ChalkServer, status: int, error: type[Exception]
) -> None:
    server.clear_requests()
    server.faults.add(Fault.status(TOKEN_PATH, status, count=None))
    with pytest.raises(error) as caught:
        ask(client)
    assert caught.value.attempts == 1
    assert client.sleeps == []
    assert len(records(server, TOKEN_PATH)) == 1


def test_token_retries_is_the_number_of_retries(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    server.clear_requests()
    server.faults.token_endpoint_down()
    client = make_client(token_retries=0)
    with pytest.raises(ChalkServerError) as caught:
        ask(client)
    assert caught.value.attempts == 1
    assert len(records(server, TOKEN_PATH)) == 1
    assert client.sleeps == []


@pytest.mark.parametrize("how", ["revoke_current_token", "revoke_token_fault"])
def test_a_token_revoked_early_is_replaced_once_for_all_concurrent_callers(
    client: ClientUnderTest, server: ChalkServer, how: str
) -> None:
    assert ask(client).get_value("user.name") == "Ada Lovelace"
    exchanges = server.token_exchanges
    if how == "revoke_current_token":
        server.faults.revoke_current_token()
    else:
        server.faults.add(Fault.revoke_token(QUERY_PATH))
    results = client.many(16, "query", {"user.id": 3}, ["user.name"])
    assert names(results) == ["Grace Hopper"] * 16
    assert server.token_exchanges == exchanges + 1
    assert client.sleeps == []


# -- status storms, rate limits, timeouts ------------------------------------------------------


def test_a_5xx_storm_is_retried_a_bounded_number_of_times(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    client = make_client(max_retries=3)
    ask(client)  # the token, before the storm
    server.clear_requests()
    server.faults.fail_next(QUERY_PATH, None, status=503)
    with pytest.raises(ChalkServerError) as caught:
        ask(client)
    err = caught.value
    assert_typed(err, QUERY_PATH, 503)
    assert err.attempts == 4
    assert "after 4 attempts" in str(err)
    assert client.sleeps == [0.5, 1.0, 2.0]
    assert [(r.status, r.fault) for r in records(server, QUERY_PATH)] == [(503, "status")] * 4


def test_a_short_5xx_burst_heals_within_the_retries(client: ClientUnderTest, server: ChalkServer) -> None:
    ask(client)
    server.faults.fail_next(QUERY_PATH, 2, status=502)
    assert ask(client).get_value("user.name") == "Ada Lovelace"
    assert client.sleeps == [0.5, 1.0]


def test_429_with_retry_after_waits_as_asked(client: ClientUnderTest, server: ChalkServer) -> None:
    ask(client)
    server.faults.rate_limit(QUERY_PATH, retry_after=2.5, count=2)
    assert ask(client).get_value("user.name") == "Ada Lovelace"
    assert client.sleeps == [2.5, 2.5]


def test_429_asking_for_too_long_is_raised_at_once(client: ClientUnderTest, server: ChalkServer) -> None:
    ask(client)
    server.faults.rate_limit(QUERY_PATH, retry_after=120)
    with pytest.raises(ChalkRateLimitError) as caught:
        ask(client)
    assert_typed(caught.value, QUERY_PATH, 429)
    assert caught.value.retry_after == 120
    assert client.sleeps == []


def test_a_delay_past_the_read_timeout_raises_the_timeout_error(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    client = make_client(timeout=httpx.Timeout(5.0, read=0.2), max_retries=0)
    ask(client)
    server.faults.delay(QUERY_PATH, 0.5)
    with pytest.raises(ChalkTimeoutError) as caught:
        ask(client)
    assert_typed(caught.value, QUERY_PATH)
    assert caught.value.attempts == 1
    assert "timeout" in str(caught.value)


def test_a_slow_answer_is_retried_and_the_retry_succeeds(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    client = make_client(timeout=httpx.Timeout(5.0, read=0.2), max_retries=1)
    ask(client)
    server.faults.delay(QUERY_PATH, 0.5, count=1)
    assert ask(client).get_value("user.name") == "Ada Lovelace"
    assert client.sleeps == [0.5]


# -- dropped connections and malformed answers -------------------------------------------------


def test_dropped_connections_are_retried_then_a_connection_error(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    client = make_client(max_retries=1)
    ask(client)
    for when in ("before", "mid_body"):
        server.faults.clear()
        server.faults.drop(QUERY_PATH, when, count=None)
        with pytest.raises(ChalkConnectionError) as caught:
            ask(client)
        err = caught.value
        assert_typed(err, QUERY_PATH)
        assert not isinstance(err, ChalkTimeoutError)
        assert err.attempts == 2
        assert isinstance(err.__cause__, httpx.RemoteProtocolError)


def test_one_dropped_connection_heals_with_a_retry(client: ClientUnderTest, server: ChalkServer) -> None:
    ask(client)
    server.faults.drop(QUERY_PATH, "mid_body")
    assert ask(client).get_value("user.name") == "Ada Lovelace"
    assert client.sleeps == [0.5]


MALFORMED_QUERY_ANSWERS = [
    pytest.param(
        Fault.invalid_json(QUERY_PATH), ChalkInvalidResponseError, 200, "not JSON", id="invalid-json"
    ),
    pytest.param(
        Fault.html_page(QUERY_PATH, 200), ChalkInvalidResponseError, 200, "HTML page", id="html-200"
    ),
    pytest.param(
        Fault.html_page(QUERY_PATH, count=None), ChalkServerError, 502, "502 Bad Gateway", id="html-502"
    ),
    pytest.param(Fault.empty_body(QUERY_PATH), ChalkInvalidResponseError, 200, "not JSON", id="empty-body"),
    pytest.param(
        Fault.missing_fields(QUERY_PATH), ChalkInvalidResponseError, 200, "'data'", id="missing-data"
    ),
    pytest.param(
        Fault.unknown_error_code(QUERY_PATH),
        ChalkBadRequestError,
        400,
        "QUOTA_EXCEEDED",
        id="unknown-code-400",
    ),
    pytest.param(
        Fault.status(QUERY_PATH, 500, body=b"", count=None),
        ChalkServerError,
        500,
        "Internal Server Error",
        id="empty-500",
    ),
]


@pytest.mark.parametrize(("fault", "error", "status", "says"), MALFORMED_QUERY_ANSWERS)
def test_malformed_query_answers_are_typed_errors(
    client: ClientUnderTest, server: ChalkServer, fault: Fault, error: type[Exception], status: int, says: str
) -> None:
    ask(client)
    server.faults.add(fault)
    with pytest.raises(error) as caught:
        ask(client)
    assert_typed(caught.value, QUERY_PATH, status)
    assert says in str(caught.value)


def test_an_unknown_error_code_in_a_200_answer_is_kept_not_raised(
    client: ClientUnderTest, server: ChalkServer
) -> None:
    ask(client)
    server.faults.add(Fault.unknown_error_code(QUERY_PATH, 200, code="BRAND_NEW"))
    result = ask(client)
    assert result.get_value("user.name") == "Ada Lovelace"
    assert [str(getattr(e.code, "value", e.code)) for e in result.errors] == ["BRAND_NEW"]


# A transient failure (5xx, a dropped connection) fails every attempt of the flight: 3 of them.
MALFORMED_TOKEN_ANSWERS = [
    pytest.param(Fault.invalid_json(TOKEN_PATH), ChalkInvalidResponseError, 200, id="invalid-json"),
    pytest.param(Fault.html_page(TOKEN_PATH, count=3), ChalkServerError, 502, id="html-502"),
    pytest.param(Fault.html_page(TOKEN_PATH, 200), ChalkInvalidResponseError, 200, id="html-200"),
    pytest.param(Fault.empty_body(TOKEN_PATH), ChalkInvalidResponseError, 200, id="empty-body"),
    pytest.param(Fault.missing_fields(TOKEN_PATH), ChalkInvalidResponseError, 200, id="missing-access-token"),
    pytest.param(Fault.unknown_error_code(TOKEN_PATH), ChalkBadRequestError, 400, id="unknown-code-400"),
    pytest.param(
        Fault.unknown_error_code(TOKEN_PATH, 401), ChalkAuthenticationError, 401, id="unknown-code-401"
    ),
    pytest.param(Fault.drop(TOKEN_PATH, "before", count=3), ChalkConnectionError, None, id="drop-before"),
    pytest.param(Fault.drop(TOKEN_PATH, "mid_body", count=3), ChalkConnectionError, None, id="drop-mid-body"),
]


@pytest.mark.parametrize(("fault", "error", "status"), MALFORMED_TOKEN_ANSWERS)
def test_malformed_token_answers_are_typed_errors(
    client: ClientUnderTest,
    server: ChalkServer,
    clock: FakeClock,
    fault: Fault,
    error: type[Exception],
    status: int | None,
) -> None:
    server.faults.add(fault)
    with pytest.raises(error) as caught:
        ask(client)
    assert_typed(caught.value, TOKEN_PATH, status)
    # The fault was one call: once the exchange's backoff (1 s) has passed, all is well again.
    clock.advance(1.0)
    assert ask(client).get_value("user.name") == "Ada Lovelace"


@pytest.mark.parametrize(
    "fault",
    [
        Fault.missing_fields("who_am_i"),
        Fault.invalid_json("who_am_i"),
        Fault.empty_body("who_am_i"),
        Fault.html_page("who_am_i", 200),
    ],
    ids=["missing-user", "invalid-json", "empty-body", "html-200"],
)
def test_malformed_api_answers_are_typed_errors(
    client: ClientUnderTest, server: ChalkServer, fault: Fault
) -> None:
    client("whoami")
    server.faults.add(fault)
    with pytest.raises(ChalkInvalidResponseError) as caught:
        client("whoami")
    assert_typed(caught.value, "/v1/who-am-i", 200)


def test_missing_run_fields_are_a_typed_error(client: ClientUnderTest, server: ChalkServer) -> None:
    run = client("trigger_resolver_run", "resolvers.get_credit_score")
    server.faults.add(Fault.missing_fields("get_run_status"))
    with pytest.raises(ChalkInvalidResponseError) as caught:
        client("get_run_status", run.id)
    assert_typed(caught.value, f"/v1/runs/{run.id}", 200)


# -- uploads -----------------------------------------------------------------------------------


def user_ids(client: ClientUnderTest, base: int) -> list[int]:
    return [base + (0 if client.kind == "sync" else 100), base + (1 if client.kind == "sync" else 101)]


def test_an_upload_dropped_after_it_was_stored_is_not_written_twice(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    client = make_client(max_retries=5)
    client("whoami")
    rows, uploads = server.rows_stored, server.upload_requests
    server.faults.drop(UPLOAD_PATH, "after_store", count=None)
    with pytest.raises(ChalkConnectionError) as caught:
        client("upload_features", {"user.id": user_ids(client, 8000), "user.name": ["Ada", "Bob"]})
    err = caught.value
    assert_typed(err, UPLOAD_PATH)
    assert err.attempts == 1
    assert "may or may not have reached the server" in str(err)
    assert (server.rows_stored, server.upload_requests) == (rows + 2, uploads + 1)
    assert len(records(server, UPLOAD_PATH)) >= 1
    assert [r.fault for r in records(server, UPLOAD_PATH)][-1] == "drop_after_store"
    assert client.sleeps == []


def test_an_upload_cut_off_mid_answer_is_not_written_twice(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    client = make_client(max_retries=5)
    client("whoami")
    rows = server.rows_stored
    server.faults.drop(UPLOAD_PATH, "mid_body", count=None)
    with pytest.raises(ChalkConnectionError, match="may or may not have reached the server"):
        client("upload_features", {"user.id": user_ids(client, 8100), "user.name": ["Ada", "Bob"]})
    assert server.rows_stored == rows + 2
    assert client.sleeps == []


def test_an_upload_dropped_before_it_was_stored_says_it_may_not_have_happened(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    client = make_client(max_retries=5)
    client("whoami")
    rows, uploads = server.rows_stored, server.upload_requests
    server.faults.drop(UPLOAD_PATH, "before", count=None)
    with pytest.raises(ChalkConnectionError) as caught:
        client("upload_features", {"user.id": user_ids(client, 8200), "user.name": ["Ada", "Bob"]})
    assert_typed(caught.value, UPLOAD_PATH)
    assert "may or may not have reached the server" in str(caught.value)
    assert caught.value.attempts == 1
    assert (server.rows_stored, server.upload_requests) == (rows, uploads)


def test_an_upload_answered_503_is_not_retried(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    client = make_client(max_retries=5)
    client("whoami")
    server.faults.fail_next(UPLOAD_PATH, None, status=503)
    with pytest.raises(ChalkServerError) as caught:
        client("upload_features", {"user.id": user_ids(client, 8300)})
    assert_typed(caught.value, UPLOAD_PATH, 503)
    assert caught.value.attempts == 1
    assert client.sleeps == []


def test_an_upload_with_a_revoked_token_is_replayed_once_and_stored_once(
    client: ClientUnderTest, server: ChalkServer
) -> None:
    client("whoami")
    rows, exchanges = server.rows_stored, server.token_exchanges
    server.faults.revoke_current_token()
    uploaded = client("upload_features", {"user.id": user_ids(client, 8400), "user.age": [40, 41]})
    assert uploaded.rows == 2
    assert server.rows_stored == rows + 2  # the 401 stored nothing; the replay stored the rows
    assert server.token_exchanges == exchanges + 1
    assert [r.status for r in records(server, UPLOAD_PATH)][-2:] == [401, 200]


# -- fork --------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_after_fork_parent_and_child_keep_their_own_connections_and_tokens(
    client: ClientUnderTest, server: ChalkServer
) -> None:
    assert ask(client).get_value("user.name") == "Ada Lovelace"  # a token, and pooled connections
    token = get_token(client)
    exchanges = server.token_exchanges
    opened = server.faults.connections.opened
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        report: dict[str, Any] = {}
        try:
            report = in_child(client, token.access_token)
        except BaseException as exc:
            report = {"error": repr(exc)}
        finally:
            os.write(write_end, json.dumps(report).encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child = json.loads(pipe.read() or b"{}")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert child.get("error") is None, child
    assert child["names"] == ["Ada Lovelace", "Alan Turing"]
    assert child["same_token_at_first"] is True  # the token state was inherited ...
    assert child["renewed"] is True  # ... and then the child's own
    assert server.token_exchanges == exchanges + 1  # the child's exchange, none by the parent
    assert server.faults.connections.opened > opened  # the child opened connections of its own
    # The parent: its token is untouched, and its kept-alive connection still answers.
    opened = server.faults.connections.opened
    assert ask(client, 3).get_value("user.name") == "Grace Hopper"
    assert get_token(client).access_token == token.access_token
    assert server.faults.connections.opened == opened
    assert server.token_exchanges == exchanges + 1


def get_token(both: ClientUnderTest) -> Any:
    return both("get_token")


def in_child(both: ClientUnderTest, parent_token: str) -> dict[str, Any]:
    """What the forked child does: query, renew its token, query again (async: in a new loop)."""
    client = both.client
    if both.kind == "sync":
        first = client.get_token()
        one = client.query(input={"user.id": 1}, output=["user.name"])
        client.invalidate_token(first)
        two = client.query(input={"user.id": 2}, output=["user.name"])
        second = client.get_token()
    else:

        async def run() -> tuple[Any, Any, Any, Any]:
            first = await client.get_token()
            one = await client.query(input={"user.id": 1}, output=["user.name"])
            client.invalidate_token(first)
            two = await client.query(input={"user.id": 2}, output=["user.name"])
            return first, one, two, await client.get_token()

        first, one, two, second = asyncio.run(run())
    return {
        "names": [one.get_value("user.name"), two.get_value("user.name")],
        "same_token_at_first": first.access_token == parent_token,
        "renewed": second.access_token != first.access_token,
    }


def test_status_errors_are_api_status_errors(
    make_client: Callable[..., ClientUnderTest], server: ChalkServer
) -> None:
    """Sanity: every status error above is also a ChalkAPIStatusError with method and URL."""
    client = make_client(max_retries=0)
    ask(client)
    server.faults.fail_next(QUERY_PATH, status=504)
    with pytest.raises(ChalkAPIStatusError) as caught:
        ask(client)
    assert caught.value.method == "POST"
    assert caught.value.url.endswith(QUERY_PATH)
