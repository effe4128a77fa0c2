"""Request builders and answer parsers: argument checks, the spec lockstep, and the typed results."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from chalk_client import (
    ChalkInputError,
    ChalkInvalidResponseError,
    ChalkMissingFeatureError,
    ChalkResultError,
)
from chalk_client._api.calls import (
    build_request,
    online_query_call,
    parse_online_query,
    run_status_call,
    trigger_run_call,
    upload_features_call,
    whoami_call,
)
from chalk_client._core.routing import Route

ROUTE = Route(
    base_url="https://x.test",
    headers=(("X-Chalk-Client-Id", "c"), ("X-Chalk-Env-Id", "e"), ("X-Chalk-Deployment-Type", "engine")),
    environment_id="e",
)


def generated_kwargs(module: Any, model: Any, call: Any, **params: Any) -> dict[str, Any]:
    body = model.from_dict(json.loads(call.body)) if model is not None else None
    kwargs = module._get_kwargs(**({"body": body} if body is not None else {}), **params)
    return kwargs


def routing_params(call: Any) -> dict[str, Any]:
    # The headers of ROUTE, as the generated endpoint's header parameters.
    return {"x_chalk_client_id": "c", "x_chalk_env_id": "e", "x_chalk_deployment_type": "engine"}


# -- the spec lockstep: each request is what the generated endpoint would send ---------------------------


def test_every_operation_is_built_as_its_pinned_generated_endpoint_builds_it() -> None:
    # The generated `_get_kwargs` is private to openapi-python-client: these literals pin what the
    # pinned version builds, for every operation of the spec (a generator upgrade that changes
    # a method, a path or how a path parameter is quoted fails here first).
    from chalk_client._api import offline_calls

    where = offline_calls.job_where("env", "b", None)
    cases = {
        "query_online": (online_query_call({"user.id": 1}, ["user.name"]), "POST", "/v1/query/online"),
        "upload_features": (upload_features_call({"user.id": [1]}), "POST", "/v1/upload_features"),
        "who_am_i": (whoami_call(), "GET", "/v1/who-am-i"),
        "trigger_resolver_run": (trigger_run_call("r", idempotency_key="k"), "POST", "/v1/runs/trigger"),
        "get_run_status": (run_status_call("run 1/x"), "GET", "/v1/runs/run%201%2Fx"),
        "submit_offline_query": (
            offline_calls.submit_call(None, ["user.name"], where=where),
            "POST",
            "/v4/offline_query",
        ),
        "get_offline_query_status": (
            offline_calls.status_call("j 1", where),
            "POST",
            "/v4/offline_query/status",
        ),
        "get_offline_query_progress": (
            offline_calls.progress_call("j 1", where),
            "GET",
            "/v4/offline_query/j%201/status",
        ),
        "cancel_offline_query": (
            offline_calls.cancel_call("j 1", where),
            "POST",
            "/v4/offline_query/j%201/cancel",
        ),
        "get_dataset_revision": (offline_calls.revision_call("j 1", where), "GET", "/v2/offline_query/j%201"),
    }
    for name, (call, method, path) in cases.items():
        assert (call.method, call.path) == (method, path), name
    assert json.loads(cases["upload_features"][0].body) == {"input": {"user.id": [1]}}
    assert json.loads(cases["get_offline_query_status"][0].body) == {"job_id": "j 1"}
    assert cases["who_am_i"][0].body is None
    # The token exchange (get_token), the eleventh operation, through the exchange flow's request.
    from chalk_client import ChalkClient

    with ChalkClient(client_id="id", client_secret="s3cret", api_server="https://api.test") as client:
        send = next(client._calls.exchange())
    assert (send.method, send.url) == ("POST", "https://api.test/v1/oauth/token")
    assert json.loads(send.body) == {
        "client_id": "id",
        "client_secret": "s3cret",
        "grant_type": "client_credentials",
    }


def test_requests_match_the_generated_endpoints() -> None:
    from chalk_openapi.api.account import who_am_i
    from chalk_openapi.api.query import query_online, upload_features
    from chalk_openapi.api.runs import get_run_status, trigger_resolver_run
    from chalk_openapi.models import OnlineQueryRequest, TriggerRunRequest, UploadFeaturesRequest

    cases = [
        (
            online_query_call(
                {"user.id": 1, "user.tags": ["a"], "user.meta": {"k": None}},
                ["user.name"],
                now=datetime(2026, 1, 1, tzinfo=UTC),
                staleness={"user.name": "1h"},
                tags=["t"],
                query_name="q",
                correlation_id="c1",
                include_meta=True,
                explain=True,
                branch="b",
            ),
            query_online,
            OnlineQueryRequest,
            {},
        ),
        (
            upload_features_call({"user.id": [1, 2], "user.name": ["a", None]}),
            upload_features,
            UploadFeaturesRequest,
            {},
        ),
        (whoami_call(), who_am_i, None, {}),
        (
            trigger_run_call(
                "r.fqn",
                lower_bound="2026-01-01T00:00:00Z",
                upper_bound=datetime(2026, 2, 1, tzinfo=UTC),
                timestamping_mode="feature_time",
                persist_online=True,
                idempotency_key="k",
            ),
            trigger_resolver_run,
            TriggerRunRequest,
            {},
        ),
        (run_status_call("run 1"), get_run_status, None, {"run_id": "run 1"}),
    ]
    for call, module, model, extra in cases:
        ours = build_request(call, ROUTE, user_agent="ua", timeout=httpx.Timeout(1.0))
        theirs = generated_kwargs(module, model, call, **routing_params(call), **extra)
        assert ours.method == theirs["method"].upper()
        assert httpx.URL(ours.url).raw_path == httpx.URL("https://x.test" + theirs["url"]).raw_path
        for name, value in theirs.get("headers", {}).items():
            assert ours.headers[name] == value, (call.path, name)
        if model is not None:
            assert json.loads(ours.content) == theirs["json"], call.path


# -- argument checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"input": {}, "output": ["a"]}, "input is empty"),
        ({"input": {"user.id": 1}, "output": []}, "output is empty"),
        ({"input": {"user.id": 1}, "output": "user.name"}, "list of strings"),
        ({"input": {"user.id": 1}, "output": ["ok", 3]}, "non-empty strings"),
        ({"input": {2: 1}, "output": ["a"]}, "keys must be non-empty"),
        ({"input": [1], "output": ["a"]}, "must be a mapping"),
        ({"input": {"user.id": 1}, "output": ["a"], "now": "2026-01-01"}, "must be a datetime"),
        ({"input": {"user.id": 1}, "output": ["a"], "staleness": {"a": 3600}}, "map str to str"),
        ({"input": {"user.id": 1}, "output": ["a"], "tags": "t"}, "list of strings"),
        ({"input": {"user.id": object()}, "output": ["a"]}, "not JSON"),
        ({"input": {"user.x": float("nan")}, "output": ["a"]}, "cannot be sent as JSON"),
        ({"input": {"user.x": datetime(2026, 1, 1)}, "output": ["a"]}, "naive"),
        ({"input": {"user.id": 1}, "output": ["a"], "environment": ""}, "environment"),
        ({"input": {"user.id": 1}, "output": ["a"], "include_meta": "yes"}, "True or False"),
    ],
)
def test_bad_query_arguments(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ChalkInputError, match=fragment):
        online_query_call(**kwargs)


def test_query_values_encode_dates_and_array_likes() -> None:
    class FakeScalar:
        shape = ()

        def item(self) -> int:
            return 7

    call = online_query_call(
        {
            "user.id": FakeScalar(),
            "user.since": date(2020, 1, 2),
            "user.at": datetime(2020, 1, 2, tzinfo=UTC),
        },
        ["user.name"],
    )
    assert json.loads(call.body or b"")["inputs"] == {
        "user.id": 7,
        "user.since": "2020-01-02",
        "user.at": "2020-01-02T00:00:00+00:00",
    }


def test_upload_scalars_are_columns_of_one_and_tuples_and_array_likes_are_columns() -> None:
    class FakeArray:
        shape = (2,)

        def __len__(self) -> int:
            return 2

        def __iter__(self) -> Any:
            return iter([1, 2])

        def tolist(self) -> list[int]:
            return [1, 2]

    one = upload_features_call({"user.id": 1, "user.name": "Ada", "user.prefs": {"a": 1}})
    assert json.loads(one.body or b"")["input"] == {
        "user.id": [1],
        "user.name": ["Ada"],
        "user.prefs": [{"a": 1}],
    }
    assert one.rows == 1
    two = upload_features_call({"user.id": FakeArray(), "user.name": ("a", "b")})
    assert json.loads(two.body or b"")["input"] == {"user.id": [1, 2], "user.name": ["a", "b"]}
    assert two.rows == 2


def test_upload_refuses_sets_whose_order_is_undefined() -> None:
    with pytest.raises(ChalkInputError, match="no order"):
        upload_features_call({"user.id": {1, 2}})


def test_trigger_arguments() -> None:
    with pytest.raises(ChalkInputError, match="before"):
        trigger_run_call("r", lower_bound="2026-02-01T00:00:00Z", upper_bound="2026-01-01T00:00:00Z")
    with pytest.raises(ChalkInputError, match="UTC offset"):
        trigger_run_call("r", lower_bound="2026-02-01")
    with pytest.raises(ChalkInputError, match="timestamping_mode"):
        trigger_run_call("r", timestamping_mode="wall")
    with pytest.raises(ChalkInputError, match="resolver_fqn"):
        trigger_run_call("")
    first, second = trigger_run_call("r"), trigger_run_call("r")
    assert first.idempotency_key != second.idempotency_key
    with pytest.raises(ChalkInputError, match="run_id"):
        run_status_call("")


# -- parsing online query answers --------------------------------------------------------------------------


def answer(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(
        status, content=content, headers=headers, request=httpx.Request("POST", "https://x.test/q")
    )


def parse(body: Any, **headers: str) -> Any:
    call = online_query_call({"user.id": 1}, ["user.name"])
    return parse_online_query(call, answer(body, **headers), ())


ANSWER = {
    "data": [
        {
            "field": "user.name",
            "value": "Ada",
            "pkey": 1,
            "ts": "2026-01-01T00:00:00Z",
            "valid": True,
            "meta": {
                "chosen_resolver_fqn": "r.name",
                "cache_hit": True,
                "primitive_type": "str",
                "version": 1,
            },
            "future_field": {"kept": True},
        },
        {
            "field": "user.score",
            "value": None,
            "pkey": 1,
            "error": {
                "code": "RESOLVER_FAILED",
                "category": "FIELD",
                "message": "boom",
                "feature": "user.score",
            },
        },
        {"field": "user.tags", "value": ["a", {"b": 2}]},
    ],
    "errors": [{"code": "A_CODE_FROM_THE_FUTURE", "message": "careful"}],
    "meta": {"execution_duration_s": 0.25, "query_id": "q-1", "explain_output": {"plan": [1]}},
}


def test_online_query_result_reads_values_errors_and_meta() -> None:
    result = parse(ANSWER, **{"x-chalk-trace-id": "tr-9"})
    name = result.get("user.name")
    assert (name.feature, name.value, name.primary_key, name.cache_hit, name.resolver, name.valid) == (
        "user.name",
        "Ada",
        1,
        True,
        "r.name",
        True,
    )
    assert name.timestamp == datetime(2026, 1, 1, tzinfo=UTC)
    assert name.error is None
    assert result.get_value("user.tags") == ["a", {"b": 2}]
    assert result.get("user.score").error.message == "boom"
    assert [str(getattr(e.code, "value", e.code)) for e in result.errors] == [
        "A_CODE_FROM_THE_FUTURE",
        "RESOLVER_FAILED",
    ]
    assert result.to_dict() == {"user.name": "Ada", "user.score": None, "user.tags": ["a", {"b": 2}]}
    assert [f.feature for f in result] == ["user.name", "user.score", "user.tags"]
    assert len(result) == 3
    assert "user.name" in result
    assert "user.age" not in result
    assert result.meta is not None
    assert (result.meta.execution_duration_s, result.meta.query_id, result.meta.explain_output) == (
        0.25,
        "q-1",
        {"plan": [1]},
    )
    assert result.trace == "tr-9"
    with pytest.raises(ChalkResultError) as caught:
        result.raise_for_errors()
    assert "2 errors" in str(caught.value)
    assert "tr-9" in str(caught.value)


def test_missing_features() -> None:
    result = parse(ANSWER)
    with pytest.raises(ChalkMissingFeatureError, match=r"user\.age") as caught:
        result.get_value("user.age")
    assert isinstance(caught.value, KeyError)
    assert "user.name" in str(caught.value)
    assert result.get_value("user.age", None) is None
    with pytest.raises(KeyError):
        result.get("user.age")


def test_a_clean_answer_raises_nothing() -> None:
    result = parse({"data": [{"field": "user.name", "value": "Ada"}]})
    assert result.raise_for_errors() is result
    assert result.errors == []
    assert result.meta is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<html><title>Bad gateway</title></html>", "HTML"),
        (b"not json", "not JSON"),
        ([1, 2], "JSON object"),
        ({}, "'data'"),
        ({"data": {"field": "x"}}, "'data'"),
        ({"data": [1]}, r"data\[0\]"),
        ({"data": [{"value": 1}]}, r"data\[0\]"),
        ({"data": [{"field": 3}]}, r"data\[0\]"),
        ({"data": [{"field": "a", "error": "boom"}]}, r"data\[0\]\.error"),
        ({"data": [{"field": "a", "error": {"code": 1, "message": "m"}}]}, r"data\[0\]\.error"),
        ({"data": [], "errors": "boom"}, "'errors'"),
        ({"data": [], "errors": [{"message": "no code"}]}, r"errors\[0\]"),
    ],
)
def test_malformed_answers_are_invalid_response_errors(body: Any, fragment: str) -> None:
    with pytest.raises(ChalkInvalidResponseError, match=fragment):
        parse(body)
