"""ChalkServer's fault injection, seen on the wire with a plain httpx client.

Each fault kind must produce exactly the wire behaviour chalk_client.testing._faults documents:
the status, headers and body it claims, or a connection closed at the point it claims, and a
record in the request log.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chalk_client.testing import ChalkServer, Fault, FaultKind, FaultPlan, _server
from tests.conftest import ServerClock

TOKEN_PATH = "/v1/oauth/token"
QUERY_PATH = "/v1/query/online"
UPLOAD_PATH = "/v1/upload_features"
QUERY = {"inputs": {"user.id": 1}, "outputs": ["user.name"]}


@pytest.fixture(scope="module")
def server() -> Iterator[ChalkServer]:
    with ChalkServer(clock=ServerClock()) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults(server: ChalkServer, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Each test starts without faults, and no fault makes the server or uvicorn log an error."""
    server.faults.clear()
    with caplog.at_level(logging.WARNING):
        yield
    server.faults.clear()
    assert server.faults.wait_idle()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


@pytest.fixture
def http(server: ChalkServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5.0) as client:
        yield client


def credentials(server: ChalkServer) -> dict[str, str]:
    return {
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "grant_type": "client_credentials",
    }


@pytest.fixture
def auth(server: ChalkServer, http: httpx.Client) -> dict[str, str]:
    """Headers with a fresh, valid token."""
    response = http.post(TOKEN_PATH, json=credentials(server))
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


def query(http: httpx.Client, auth: dict[str, str], **kwargs: Any) -> httpx.Response:
    return http.post(QUERY_PATH, json=QUERY, headers=auth, **kwargs)


def last(server: ChalkServer, path: str) -> Any:
    return [r for r in server.requests if r.path == path][-1]


def error_body(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"detail", "trace", "errors"}
    return body


# -- status and rate limits --------------------------------------------------------------------


def test_constructor_faults_are_in_force_from_the_start() -> None:
    faults = [Fault.status(TOKEN_PATH, 503)]
    with ChalkServer(faults=faults) as server, httpx.Client(base_url=server.url) as http:
        first = http.post(TOKEN_PATH, json=credentials(server))
        assert first.status_code == 503
        body = error_body(first)
        assert body["errors"][0]["code"] == "UPSTREAM_FAILED"
        assert "injected fault" in body["detail"]
        assert http.post(TOKEN_PATH, json=credentials(server)).status_code == 200
        assert server.token_exchanges == 1  # the handler did not run for the faulted call
        assert [(r.status, r.fault) for r in server.requests] == [(503, "status"), (200, None)]


def test_fail_next_fails_that_many_calls_then_heals(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    rule = server.faults.fail_next(QUERY_PATH, 2, status=500)
    assert bool(server.faults.armed)  # (bool(): mypy must not narrow it for good)
    assert [query(http, auth).status_code for _ in range(3)] == [500, 500, 200]
    assert rule.hits == 2
    assert rule.remaining == 0
    assert not rule.active
    assert not server.faults.armed
    records = [r for r in server.requests if r.path == QUERY_PATH][-3:]
    assert [(r.status, r.fault) for r in records] == [(500, "status"), (500, "status"), (200, None)]


def test_a_status_fault_can_carry_its_own_body_and_headers(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.fail_next(
        QUERY_PATH, status=418, body="short and stout", headers={"Content-Type": "text/plain", "X-Why": "tea"}
    )
    response = query(http, auth)
    assert response.status_code == 418
    assert response.text == "short and stout"
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["x-why"] == "tea"


def test_count_none_stays_until_removed_and_skip_lets_calls_through(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    rule = server.faults.add(Fault.status("query_online", 502, count=None, skip=2))
    assert [query(http, auth).status_code for _ in range(5)] == [200, 200, 502, 502, 502]
    assert rule.remaining is None
    assert rule.hits == 3
    assert server.faults.remove(rule)
    assert not server.faults.remove(rule)
    assert query(http, auth).status_code == 200


def test_the_first_matching_fault_applies_and_only_one(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    first = server.faults.fail_next("*", status=500)
    second = server.faults.fail_next(QUERY_PATH, status=503)
    assert [query(http, auth).status_code for _ in range(3)] == [500, 503, 200]
    assert (first.hits, second.hits) == (1, 1)
    assert server.faults.rules == []


def test_rate_limit_answers_429_with_retry_after(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.rate_limit(QUERY_PATH, retry_after=2.5)
    server.faults.add(Fault.rate_limit(QUERY_PATH, retry_after=None))
    limited = query(http, auth)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2.5"
    assert error_body(limited)["errors"]
    bare = query(http, auth)
    assert bare.status_code == 429
    assert "retry-after" not in bare.headers
    assert query(http, auth).status_code == 200


# -- time and connections ------------------------------------------------------------------------


def test_delay_answers_normally_but_late(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.delay(QUERY_PATH, 0.3)
    started = time.perf_counter()
    response = query(http, auth)
    assert time.perf_counter() - started >= 0.3
    assert response.status_code == 200
    assert response.json()["data"][0]["value"] == "Ada Lovelace"
    assert last(server, QUERY_PATH).fault == "delay"


def test_a_delay_past_the_read_timeout_is_a_read_timeout(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.delay(QUERY_PATH, 0.5)
    with pytest.raises(httpx.ReadTimeout):
        query(http, auth, timeout=httpx.Timeout(5.0, read=0.1))
    assert query(http, auth).status_code == 200  # the server is fine


def test_a_call_its_client_gave_up_on_is_in_flight_until_it_ends(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.delay(UPLOAD_PATH, 0.4)
    rows = server.rows_stored
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            UPLOAD_PATH,
            json={"input": {"user.id": [7000]}},
            headers=auth,
            timeout=httpx.Timeout(5.0, read=0.1),
        )
    assert server.faults.in_flight == 1
    assert not server.faults.wait_idle(timeout=0.0)
    assert server.faults.wait_idle()
    assert server.faults.in_flight == 0
    assert server.rows_stored == rows + 1  # the handler ran after the delay, as a slow server's would


def test_drop_before_closes_without_answer_or_handling(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.drop(UPLOAD_PATH, when="before")
    rows = server.rows_stored
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        http.post(UPLOAD_PATH, json={"input": {"user.id": [7001]}}, headers=auth)
    assert server.rows_stored == rows  # the upload was not handled
    record = last(server, UPLOAD_PATH)
    assert (record.status, record.fault) == (0, "drop_before")
    assert query(http, auth).status_code == 200  # a new connection works


def test_drop_after_store_stores_then_closes_without_answer(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.drop("upload_features", when="after_store")
    rows, uploads = server.rows_stored, server.upload_requests
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        http.post(UPLOAD_PATH, json={"input": {"user.id": [7002, 7003]}}, headers=auth)
    assert (server.rows_stored, server.upload_requests) == (rows + 2, uploads + 1)
    record = last(server, UPLOAD_PATH)
    assert (record.status, record.fault) == (0, "drop_after_store")


def test_drop_mid_body_sends_status_headers_and_half_the_body(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.drop(QUERY_PATH, when="mid_body")
    with http.stream("POST", QUERY_PATH, json=QUERY, headers=auth) as response:
        assert response.status_code == 200
        expected = int(response.headers["content-length"])
        received = bytearray()
        with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|complete message body"):
            for chunk in response.iter_raw():
                received.extend(chunk)
    assert 0 < len(received) < expected
    assert received.startswith(b'{"data":')
    record = last(server, QUERY_PATH)
    assert (record.status, record.fault) == (200, "drop_mid_body")


def test_drops_close_only_the_faulted_connection(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    assert query(http, auth).status_code == 200
    with httpx.Client(base_url=server.url) as other:
        assert other.post(QUERY_PATH, json=QUERY, headers=auth).status_code == 200
        opened = server.faults.connections.opened
        server.faults.drop(QUERY_PATH, count=1)
        with pytest.raises(httpx.RemoteProtocolError):
            query(http, auth)
        # The other client's kept-alive connection still answers, without reconnecting.
        assert other.post(QUERY_PATH, json=QUERY, headers=auth).status_code == 200
        assert server.faults.connections.opened == opened


@pytest.mark.parametrize("when", ["before", "mid_body", "after_store"])
def test_drops_work_with_h11_too(monkeypatch: pytest.MonkeyPatch, when: Any) -> None:
    monkeypatch.setattr(_server, "_HTTP_IMPL", "h11")
    with (
        ChalkServer(faults=[Fault.drop(TOKEN_PATH, when)]) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            http.post(TOKEN_PATH, json=credentials(server))
        assert http.post(TOKEN_PATH, json=credentials(server)).status_code == 200


# -- malformed answers -----------------------------------------------------------------------------


def test_invalid_json(server: ChalkServer, http: httpx.Client, auth: dict[str, str]) -> None:
    server.faults.add(Fault.invalid_json(QUERY_PATH))
    response = query(http, auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert last(server, QUERY_PATH).fault == "invalid_json"


def test_html_page(server: ChalkServer, http: httpx.Client, auth: dict[str, str]) -> None:
    server.faults.add(Fault.html_page(QUERY_PATH))
    server.faults.add(Fault.html_page(QUERY_PATH, 200))
    gateway = query(http, auth)
    assert gateway.status_code == 502
    assert gateway.headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in gateway.text
    portal = query(http, auth)
    assert portal.status_code == 200
    assert portal.text.startswith("<!DOCTYPE html>")


def test_empty_body(server: ChalkServer, http: httpx.Client, auth: dict[str, str]) -> None:
    server.faults.add(Fault.empty_body(TOKEN_PATH))
    response = http.post(TOKEN_PATH, json=credentials(server))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == "0"
    assert response.content == b""


def test_missing_fields_leaves_out_what_the_spec_requires(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.add(Fault.missing_fields(TOKEN_PATH))
    server.faults.add(Fault.missing_fields(QUERY_PATH))
    server.faults.add(Fault.missing_fields("who_am_i", fields=["team_id"]))
    token = http.post(TOKEN_PATH, json=credentials(server)).json()
    assert "access_token" not in token
    assert token["token_type"] == "Bearer"  # only the required field is missing
    answer = query(http, auth)
    assert answer.status_code == 200
    assert answer.json() == {"errors": []}
    me = http.get("/v1/who-am-i", headers=auth).json()
    assert set(me) == {"user", "environment_id"}


def test_missing_fields_leaves_error_answers_alone(server: ChalkServer, http: httpx.Client) -> None:
    server.faults.add(Fault.missing_fields(QUERY_PATH))
    response = http.post(QUERY_PATH, json=QUERY)  # no token: a 401
    assert response.status_code == 401
    assert error_body(response)["errors"][0]["code"] == "UNAUTHENTICATED"


def test_unknown_error_code_in_an_error_body_and_in_an_answer(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.add(Fault.unknown_error_code(QUERY_PATH))
    server.faults.add(Fault.unknown_error_code(QUERY_PATH, 200, code="BRAND_NEW"))
    failed = query(http, auth)
    assert failed.status_code == 400
    assert [e["code"] for e in error_body(failed)["errors"]] == ["QUOTA_EXCEEDED"]
    answered = query(http, auth)
    assert answered.status_code == 200
    body = answered.json()
    assert body["data"][0]["value"] == "Ada Lovelace"
    assert [e["code"] for e in body["errors"]] == ["BRAND_NEW"]


# -- tokens ------------------------------------------------------------------------------------


def test_revoke_current_token_gives_401_to_a_clock_valid_token(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    token = auth["authorization"].removeprefix("Bearer ")
    assert query(http, auth).status_code == 200
    server.faults.revoke_current_token()
    assert not server.is_valid_token(token)
    assert query(http, auth).status_code == 401
    fresh = http.post(TOKEN_PATH, json=credentials(server)).json()["access_token"]
    assert query(http, {"authorization": f"Bearer {fresh}"}).status_code == 200


def test_a_revoke_token_fault_revokes_at_the_chosen_call(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.add(Fault.revoke_token(QUERY_PATH, skip=1))
    assert query(http, auth).status_code == 200  # skipped
    assert http.get("/v1/who-am-i", headers=auth).status_code == 200  # another endpoint
    assert query(http, auth).status_code == 401  # revoked just before this call
    assert http.get("/v1/who-am-i", headers=auth).status_code == 401
    record = last(server, QUERY_PATH)
    assert (record.status, record.fault) == (401, "revoke_token")


def test_token_endpoint_down_leaves_queries_working(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    down = server.faults.token_endpoint_down()
    for _ in range(3):
        assert http.post(TOKEN_PATH, json=credentials(server)).status_code == 503
        assert query(http, auth).status_code == 200
    assert down.hits == 3
    assert server.faults.token_endpoint_up() == 1
    assert not down.active
    assert http.post(TOKEN_PATH, json=credentials(server)).status_code == 200
    server.faults.token_endpoint_down(status=500)
    server.faults.add(Fault.status("*", 502, count=None))  # aimed at everything: not removed by up()
    assert http.post(TOKEN_PATH, json=credentials(server)).status_code == 500
    assert server.faults.token_endpoint_up() == 1
    assert http.post(TOKEN_PATH, json=credentials(server)).status_code == 502


# -- where faults apply ------------------------------------------------------------------------


def test_served_by_narrows_a_fault_to_one_address(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.add(Fault.status(QUERY_PATH, 503, count=None, served_by="engine"))
    assert query(http, auth).status_code == 200  # the API address
    with httpx.Client(base_url=server.engine_url) as engine:
        assert engine.post(QUERY_PATH, json=QUERY, headers=auth).status_code == 503
    assert last(server, QUERY_PATH).served_by == "engine"


def test_a_template_matches_its_routes_only(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    server.faults.fail_next("/v1/runs/{run_id}", None, status=500)
    run = http.post("/v1/runs/trigger", json={"resolver_fqn": "resolvers.get_credit_score"}, headers=auth)
    assert run.status_code == 200  # /v1/runs/trigger is an exact route of its own
    assert http.get(f"/v1/runs/{run.json()['id']}", headers=auth).status_code == 500
    server.faults.clear()
    server.faults.fail_next("get_run_status")  # the operation name: the same template
    assert http.get(f"/v1/runs/{run.json()['id']}", headers=auth).status_code == 503


def test_unrouted_requests_are_never_faulted(server: ChalkServer, http: httpx.Client) -> None:
    server.faults.fail_next("*", None, status=500)
    assert http.get("/v1/nowhere").status_code == 404
    assert http.get(QUERY_PATH).status_code == 405


def test_concurrent_calls_take_exactly_count_faults(server: ChalkServer, auth: dict[str, str]) -> None:
    rule = server.faults.fail_next(QUERY_PATH, 10, status=503)
    with httpx.Client(base_url=server.url) as client, concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(
            pool.map(lambda _: client.post(QUERY_PATH, json=QUERY, headers=auth).status_code, range(40))
        )
    assert sorted(statuses) == [200] * 30 + [503] * 10
    assert rule.hits == 10


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Fault.status("query", 503), "unknown endpoint 'query'"),
        (lambda: Fault.status("v1/query/online", 503), "unknown endpoint"),
        (lambda: Fault.status(QUERY_PATH, 503, count=0), "count must be"),
        (lambda: Fault.status(QUERY_PATH, 503, skip=-1), "skip must be"),
        (lambda: Fault.status(QUERY_PATH, 99), "status must be"),
        (lambda: Fault.status(QUERY_PATH, 204), "cannot carry a body"),
        (lambda: Fault.delay(QUERY_PATH, -1), "seconds must be"),
        (lambda: Fault.delay(QUERY_PATH, float("inf")), "seconds must be"),
        (lambda: Fault.rate_limit(QUERY_PATH, retry_after=-2), "retry_after must be"),
        (lambda: Fault.drop(QUERY_PATH, "later"), "when must be one of"),  # type: ignore[arg-type]
        (lambda: Fault(kind=FaultKind.DELAY, status_code=500), "sends no status"),
        (lambda: Fault(kind=FaultKind.RATE_LIMIT, status_code=503), "answers 429"),
        (lambda: Fault(kind=FaultKind.DELAY, body=b"x"), "only a status fault"),
        (lambda: Fault.status(QUERY_PATH, served_by="both"), "served_by"),  # type: ignore[arg-type]
    ],
)
def test_invalid_faults_are_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_a_plan_without_a_server_cannot_revoke() -> None:
    plan = FaultPlan([Fault.revoke_token()])
    assert plan.armed
    assert len(plan.rules) == 1
    with pytest.raises(RuntimeError, match="no server"):
        plan.revoke_current_token()
    with pytest.raises(TypeError):
        plan.add("status")  # type: ignore[arg-type]


# -- the HTTP control API ----------------------------------------------------------------------


def test_http_control_api(server: ChalkServer, http: httpx.Client, auth: dict[str, str]) -> None:
    added = http.post(
        "/_faults", json={"kind": "status", "endpoint": "query_online", "count": 2, "status_code": 500}
    )
    assert added.status_code == 200
    assert added.json()["remaining"] == 2
    assert query(http, auth).status_code == 500
    listed = http.get("/_faults").json()["rules"]
    assert [(r["kind"], r["hits"], r["remaining"]) for r in listed] == [("status", 1, 1)]
    assert http.delete("/_faults").status_code == 200
    assert server.faults.rules == []
    assert query(http, auth).status_code == 200
    body = {"kind": "status", "endpoint": "*", "count": None, "status_code": 418, "body": "tea"}
    assert http.post("/_faults", json=body).status_code == 200
    assert http.get("/_faults").status_code == 200  # faults never apply to the control API
    assert query(http, auth).text == "tea"
    assert http.delete("/_faults").status_code == 200
    assert http.post("/_faults/revoke_tokens").json() == {"revoked": True}
    assert query(http, auth).status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "JSON object"),
        ({"kind": "explode"}, "'kind' must be one of"),
        ({"kind": "status", "colour": "red"}, "unknown fields"),
        ({"kind": "status", "count": 0}, "count must be"),
        ({"kind": "status", "headers": ["x"]}, "'headers' must be"),
        ({"kind": "drop_before", "endpoint": "nowhere"}, "unknown endpoint"),
    ],
)
def test_http_control_api_refuses_bad_faults(http: httpx.Client, body: Any, message: str) -> None:
    response = http.post("/_faults", json=body)
    assert response.status_code == 400
    assert message in error_body(response)["detail"]


def test_no_faults_costs_one_check_and_changes_nothing(
    server: ChalkServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    assert not server.faults.armed
    assert query(http, auth).status_code == 200
    assert last(server, QUERY_PATH).fault is None
    assert repr(server.faults) == "<FaultPlan 0 rules>"
    rule = server.faults.fail_next(QUERY_PATH)
    assert "status /v1/query/online: 0 hits, 1 left" in repr(rule)
