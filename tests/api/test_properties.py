"""Property-based tests over what the server sends back (issue 6).

For any token answer, any error body and any online-query or upload answer, the SDK returns a
valid result or raises one of its own documented errors (a :class:`ChalkSDKError`), and the
error's ``str()`` works, names the status and never holds the client secret. Nothing else:
no KeyError, TypeError, JSONDecodeError, RecursionError or httpx error escapes.

Every property is derandomized and uses no example database, so CI runs the same examples each
time. The inputs side (user arguments, config files) is in ``test_properties_inputs.py``; the
shared profile, strategies and checks are in ``property_strategies.py``.

A bug found here whose fix belongs to another module is a strict xfail whose reason names the
smallest failing input and the cause: fixing the bug turns it into an XPASS, which fails until
the marker is removed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalk_client import (
    ChalkAPIStatusError,
    ChalkAuthenticationError,
    ChalkBadRequestError,
    ChalkClient,
    ChalkConflictError,
    ChalkInvalidResponseError,
    ChalkMissingFeatureError,
    ChalkNotFoundError,
    ChalkPermissionDeniedError,
    ChalkRateLimitError,
    ChalkResultError,
    ChalkSDKError,
    ChalkServerError,
    ChalkUnprocessableEntityError,
    FeatureResult,
    OnlineQueryResult,
    QueryMeta,
    Token,
    UploadResult,
)
from tests.conftest import SECRET, TOKEN_PREFIX, FakeClock, build_client, client_kwargs
from tests.fake_api import ENGINE, FakeChalkAPI
from tests.property_strategies import (
    A_JWT,
    PROFILE,
    ascii_texts,
    check_chalk_errors,
    check_error,
    content_types,
    dumps,
    json_of,
    json_values,
    non_json_bodies,
    outcome,
    response,
    texts,
)

QUERY = "/v1/query/online"
UPLOAD = "/v1/upload_features"
WHOAMI = "/v1/who-am-i"
TOKEN = "/v1/oauth/token"


def check_token(token: object) -> None:
    assert isinstance(token, Token)
    assert isinstance(token.access_token, str)
    assert token.access_token
    assert isinstance(token.expires_at, datetime)
    assert token.expires_at.utcoffset() is not None
    assert isinstance(token.token_type, str)
    assert token.token_type
    for optional in (token.primary_environment, token.api_server):
        assert optional is None or isinstance(optional, str)
    for mapping in (token.engines, token.grpc_engines, token.environment_id_to_name):
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())
    if token.access_token.startswith(TOKEN_PREFIX):  # a short token such as "0" can be anywhere
        assert token.access_token not in repr(token)


def valid_query_answer(request: httpx.Request) -> httpx.Response:
    return response(
        200,
        dumps({"data": [{"field": "user.name", "value": "Ada", "pkey": 1, "ts": "2026-01-01T00:00:00Z"}]}),
        "application/json",
    )


# ---------------------------------------------------------------------------------------------------
# 1. Token answers


def _token_body() -> dict[str, Any]:
    return {
        "access_token": f"{TOKEN_PREFIX}1",
        "token_type": "Bearer",
        "expires_in": 3600,
        "expires_at": "2027-01-15T09:00:00Z",
        "api_server": "https://api.chalk.test",
        "primary_environment": "env-1",
        "engines": {"env-1": ENGINE},
        "grpc_engines": {"env-1": "engine.chalk.test:443"},
        "environment_id_to_name": {"env-1": "dev", "env-2": "prod"},
    }


_URLS = st.sampled_from(
    [
        ENGINE,
        "engine.chalk.test",
        "http://10.0.0.1",
        "http://localhost:8080/",
        "ftp://x",
        "https://",
        "https://[::1",
        "https://a\x00b",
        "https://exa mple.com",
        "https://a:99999",
        "https://\u2100.com",
        "https://a\u00e9.com",
        "//x",
    ]
)


def token_field_values(strings: st.SearchStrategy[str]) -> dict[str, st.SearchStrategy[Any]]:
    """Per field of a token answer: values that look almost right, as well as JSON of any shape."""
    values = json_of(strings)
    urls = strings | _URLS
    return {
        # Any text: Authorization is set on the request after it is built, as UTF-8.
        "access_token": texts | st.just(A_JWT),
        "token_type": strings,
        "expires_in": st.one_of(
            st.integers(), st.floats(), st.sampled_from([10**400, 1e300, 2**64, 0, -1, True]), strings
        ),
        "expires_at": st.one_of(
            strings,
            st.datetimes().map(lambda d: d.isoformat() + "Z"),
            st.datetimes().map(lambda d: d.isoformat()),
            st.sampled_from(
                [
                    "9999-12-31T23:59:59-12:00",  # after year 9999 in UTC
                    "9999-12-31T23:59:59Z",
                    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
                    "2027-13-45T00:00:00Z",
                    "2027-01-15T09:00:00+99:00",
                    "2027-01-15T09:00:00.123456789Z",
                ]
            ),
        ),
        "primary_environment": strings | st.sampled_from(["env-1", "env-2", "dev", "PROD"]),
        "api_server": urls,
        "engines": st.fixed_dictionaries({"env-1": urls})  # the engine the next query goes to
        | st.dictionaries(strings | st.just("env-1"), urls | values, max_size=3),
        "grpc_engines": st.dictionaries(strings, values, max_size=3),
        "environment_id_to_name": st.dictionaries(strings | st.just("env-1"), strings | values, max_size=3),
    }


@st.composite
def token_bodies(draw: st.DrawFn, strings: st.SearchStrategy[str]) -> bytes:
    """A valid token answer with some fields removed, retyped or nudged, and extra keys."""
    values = json_of(strings)
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "json", "not json"]))
    if kind == "json":
        return dumps(draw(values))
    if kind == "not json":
        return draw(non_json_bodies)
    body = _token_body()
    for name, field_values in token_field_values(strings).items():
        # Without a good access_token nothing else is read: change it less often than the rest.
        keeps = 12 if name == "access_token" else 2
        change = draw(st.sampled_from(["keep"] * keeps + ["delete", "null", "nudge", "any"]))
        if change == "delete":
            del body[name]
        elif change == "null":
            body[name] = None
        elif change == "nudge":
            body[name] = draw(field_values)
        elif change == "any":
            body[name] = draw(values)
    body.update(draw(st.dictionaries(strings, values, max_size=2)))
    return dumps(body)


def token_endpoint(answer: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN:
            return answer
        return valid_query_answer(request)

    return handle


def _token_property(status: int, body: bytes, content_type: str | None) -> None:
    """get_token() on any answer; then a query routed by whatever token came back."""
    answer = response(status, body, content_type)
    transport = httpx.MockTransport(token_endpoint(answer))
    with ChalkClient(**client_kwargs(FakeClock(), transport=transport, sleep=lambda _: None)) as client:
        token = outcome(client.get_token)
        if isinstance(token, ChalkSDKError):
            check_error(token)
            if isinstance(token, ChalkAPIStatusError):
                assert token.status_code == status
                if status in (401, 403):
                    assert isinstance(token, ChalkAuthenticationError)
            return
        check_token(token)
        assert 200 <= status < 300
        # The token routes the next call: its environments and engine URLs came from the answer.
        result = outcome(lambda: client.query({"user.id": 1}, ["user.name"]))
        if isinstance(result, ChalkSDKError):
            # Not checked for the secret: a token that names it as an environment gets it quoted.
            check_error(result, secret=None)
        else:
            assert result.to_dict() == {"user.name": "Ada"}


# Mostly 200, so that most examples reach the token's fields.
_token_statuses = st.one_of(
    *[st.just(200)] * 3, st.sampled_from([201, 204, 301, 401, 403, 429, 500]), st.integers(100, 599)
)


@given(status=_token_statuses, body=token_bodies(ascii_texts), content_type=content_types)
@example(status=200, body=f"<html><title>{SECRET}</title></html>".encode(), content_type="text/html")
@example(status=200, body=b"[" * 1200, content_type=None)
@example(status=200, body=dumps({**_token_body(), "expires_in": 10**400}), content_type=None)
@example(status=200, body=dumps({**_token_body(), "expires_in": 1e300}), content_type=None)
@example(
    status=200, body=dumps({**_token_body(), "expires_at": "9999-12-31T23:59:59-12:00"}), content_type=None
)
@settings(PROFILE, max_examples=200)
def test_any_token_answer_gives_a_token_or_an_sdk_error(
    status: int, body: bytes, content_type: str | None
) -> None:
    _token_property(status, body, content_type)


@given(environment=st.text(min_size=1, max_size=10))
@settings(PROFILE, max_examples=100)
def test_any_token_environment_routes_the_query_or_is_an_sdk_error(environment: str) -> None:
    body = _token_body()
    body["primary_environment"] = environment
    del body["environment_id_to_name"]  # nothing to check the environment against: sent as is
    _token_property(200, dumps(body), "application/json")


# URL-shaped text: a scheme, a host of any characters, a port, a path.
url_texts = st.one_of(
    _URLS,
    st.text(max_size=30),
    st.builds(
        lambda scheme, host, port, path: f"{scheme}{host}{port}{path}",
        st.sampled_from(["", "https://", "http://", "HTTPS://", "ws://", "//", "https:/"]),
        st.text(min_size=0, max_size=15),
        st.sampled_from(["", ":443", ":0", ":65536", ":x", ":-1", ":"]),
        st.sampled_from(["", "/", "/v1", "?q=1", "#f", "/%zz"]),
    ),
)


@given(engine=url_texts)
@example(engine="https://a\x00b")
@example(engine="https://\u2100.com")
@settings(PROFILE, max_examples=150)
def test_any_engine_url_in_a_token_routes_the_query_or_is_an_sdk_error(engine: str) -> None:
    body = dumps({**_token_body(), "engines": {"env-1": engine}})
    transport = httpx.MockTransport(token_endpoint(response(200, body, "application/json")))
    with ChalkClient(**client_kwargs(FakeClock(), transport=transport)) as client:
        result = outcome(lambda: client.query({"user.id": 1}, ["user.name"]))
    if isinstance(result, ChalkSDKError):
        check_error(result)
    else:
        assert result.to_dict() == {"user.name": "Ada"}


# ---------------------------------------------------------------------------------------------------
# 2. Error bodies on data-plane calls

# Codes are identifiers and are shown as sent, so they are drawn without the secret.
_error_codes = st.one_of(
    st.sampled_from(["RESOLVER_FAILED", "UNAUTHENTICATED", "INTERNAL_SERVER_ERROR", "NOT_A_CODE"]),
    json_of(st.text(max_size=10)),
)
_chalk_error_objects = st.fixed_dictionaries(
    {},
    optional={
        "code": _error_codes,
        "message": texts | json_values,
        "category": st.sampled_from(["REQUEST", "FIELD", "NETWORK", "odd"]) | json_values,
        "feature": texts | json_values,
        "resolver": texts | json_values,
        "display_primary_key": texts | json_values,
        "exception": st.fixed_dictionaries(
            {}, optional={"kind": json_values, "message": json_values, "stacktrace": json_values}
        )
        | json_values,
    },
)
_error_dicts = st.fixed_dictionaries(
    {},
    optional={
        "detail": texts | json_values,
        "errors": st.lists(_chalk_error_objects | json_values, max_size=4) | json_values,
        "trace": texts | json_values,
        "message": texts,
    },
).map(dumps)
error_bodies = st.one_of(_error_dicts, _error_dicts, json_values.map(dumps), non_json_bodies)
_retry_after = st.one_of(
    st.none(),
    st.sampled_from(["0", "1.5", "-3", "nan", "inf", "1e999", "61", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
)
_ascii_header_values = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20)


def expected_status_class(status: int) -> type[ChalkAPIStatusError]:
    if status >= 500:
        return ChalkServerError
    return {
        400: ChalkBadRequestError,
        401: ChalkAuthenticationError,
        403: ChalkPermissionDeniedError,
        404: ChalkNotFoundError,
        409: ChalkConflictError,
        422: ChalkUnprocessableEntityError,
        429: ChalkRateLimitError,
    }.get(status, ChalkAPIStatusError)


CALLS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "query": (QUERY, lambda c: c.query({"user.id": 1}, ["user.name"])),
    "upload_features": (UPLOAD, lambda c: c.upload_features({"user.id": [1], "user.name": ["Ada"]})),
    "whoami": (WHOAMI, lambda c: c.whoami()),
}


@given(
    call=st.sampled_from(sorted(CALLS)),
    status=st.one_of(st.sampled_from([400, 401, 403, 404, 409, 422, 429, 500, 503]), st.integers(400, 599)),
    body=error_bodies,
    content_type=content_types,
    retry_after=_retry_after,
    trace=st.none() | _ascii_header_values,
)
@settings(PROFILE, max_examples=200)
def test_any_error_answer_is_the_status_class_with_a_printable_message(
    call: str, status: int, body: bytes, content_type: str | None, retry_after: str | None, trace: str | None
) -> None:
    path, invoke = CALLS[call]
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if trace is not None:
        headers["x-chalk-trace-id"] = trace
    api = FakeChalkAPI(FakeClock())
    # Enough for every retry and the 401 replay; each attempt gets a fresh response object.
    api.queue(path, *[lambda _, h=headers: response(status, body, content_type, **h)] * 4)
    with ChalkClient(**client_kwargs(api.clock, transport=api.transport(), sleep=lambda _: None)) as client:
        err = outcome(lambda: invoke(client))
    assert type(err) is expected_status_class(status)
    assert isinstance(err, ChalkAPIStatusError)
    assert err.status_code == status
    check_error(err)
    assert f"answered {status}" in str(err)
    if isinstance(err, ChalkRateLimitError):
        assert err.retry_after is None or err.retry_after >= 0


# ---------------------------------------------------------------------------------------------------
# 3. Online-query answers


_timestamps = st.one_of(
    st.just("2026-11-28T12:00:00Z"),
    st.datetimes().map(lambda d: d.isoformat() + "+00:00"),
    st.sampled_from(["9999-12-31T23:59:59-12:00", "2026-13-01T00:00:00Z", "2026-01-01", "soon"]),
    json_values,
)
_valid_error = st.fixed_dictionaries(
    {"code": st.sampled_from(["RESOLVER_FAILED", "NOT_A_CODE"]), "message": texts},
    optional={"category": st.sampled_from(["FIELD", "REQUEST", "odd"]), "feature": texts, "resolver": texts},
)
_entry_fields: dict[str, st.SearchStrategy[Any]] = {
    "field": st.one_of(st.sampled_from(["user.name", "user.age", "user.name"]), texts, json_values),
    "value": json_values,
    "pkey": json_values,
    "ts": _timestamps,
    "error": st.one_of(st.none(), *[_valid_error] * 6, _chalk_error_objects, json_values),
    "meta": st.one_of(
        st.fixed_dictionaries(
            {}, optional={"cache_hit": json_values, "chosen_resolver_fqn": json_values, "x": json_values}
        ),
        json_values,
    ),
    "valid": json_values,
}


@st.composite
def _entries(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 29)) == 0:
        return draw(json_values)  # not an object at all
    entry: dict[str, Any] = {"field": "user.name", "value": "Ada", "pkey": 1, "ts": "2026-11-28T12:00:00Z"}
    for name, values in _entry_fields.items():
        # A bad field name or error fails the whole answer: mutate those rarely, so most answers
        # parse and their accessors meet the odd values.
        keeps = {"field": 20, "error": 4}.get(name, 3)
        change = draw(st.sampled_from(["keep"] * keeps + ["delete", "null", "nudge"]))
        if change == "delete":
            entry.pop(name, None)
        elif change == "null":
            entry[name] = None
        elif change == "nudge":
            entry[name] = draw(values)
    return entry


_query_meta = st.fixed_dictionaries(
    {},
    optional={
        # Ints beyond float range crash the parser: see test_query_meta_with_a_huge_duration.
        "execution_duration_s": st.one_of(
            json_values.filter(lambda v: not isinstance(v, int) or abs(v) < 2**1000),
            st.sampled_from([2**1000, 1e308, -1.0, float("nan"), float("inf")]),
        ),
        "deployment_id": json_values,
        "environment_id": json_values,
        "environment_name": json_values,
        "query_id": json_values,
        "query_timestamp": json_values,
        "query_hash": json_values,
        "explain_output": json_values,
    },
)


@st.composite
def query_answers(draw: st.DrawFn) -> bytes:
    """A valid online-query answer, mutated: entries and top-level fields missing, retyped, null."""
    kind = draw(st.sampled_from(["mutated"] * 6 + ["json", "not json"]))
    if kind == "json":
        return dumps(draw(json_values))
    if kind == "not json":
        return draw(non_json_bodies)
    answer: dict[str, Any] = {}
    data_kind = draw(st.integers(0, 19))
    if data_kind == 0:
        answer["data"] = draw(json_values)
    elif data_kind > 1:  # 1: no data at all
        answer["data"] = draw(st.lists(_entries(), max_size=5))
    errors_kind = draw(st.integers(0, 9))
    if errors_kind == 0:
        answer["errors"] = draw(json_values | st.lists(_chalk_error_objects, min_size=1, max_size=2))
    elif errors_kind < 5:
        answer["errors"] = draw(st.none() | st.lists(_valid_error, max_size=3))
    if draw(st.booleans()):
        answer["meta"] = draw(_query_meta | json_values)
    answer.update(draw(st.dictionaries(texts, json_values, max_size=2)))
    return dumps(answer)


def check_query_result(result: object, probe: str) -> None:
    """Every accessor works, or raises the documented SDK error."""
    from chalk_client import ChalkServerErrorInfo

    assert isinstance(result, OnlineQueryResult)
    assert isinstance(repr(result), str)
    features = result.features
    assert all(isinstance(name, str) for name in features)
    assert len(result) == len(features)
    items = list(result)
    assert len(items) == len(features)
    for item, name in zip(items, features, strict=True):
        assert isinstance(item, FeatureResult)
        assert item.feature == name
        assert item.error is None or type(item.error) is ChalkServerErrorInfo
        assert item.timestamp is None or (
            isinstance(item.timestamp, datetime) and item.timestamp.utcoffset() is not None
        )
        assert item.cache_hit is None or isinstance(item.cache_hit, bool)
        assert item.resolver is None or isinstance(item.resolver, str)
        assert item.valid is None or isinstance(item.valid, bool)
    as_dict = result.to_dict()
    assert set(as_dict) == set(features)
    for name in {*features, probe}:
        if name in result:
            assert name in features
            got = result.get(name)
            assert got.feature == name
            assert result.get_value(name) is got.value or _same_json(result.get_value(name), got.value)
        else:
            assert name not in features
            with pytest.raises(ChalkMissingFeatureError) as missing:
                result.get(name)
            assert isinstance(missing.value, KeyError)
            assert isinstance(str(missing.value), str)
            with pytest.raises(ChalkMissingFeatureError):
                result.get_value(name)
            assert result.get_value(name, default=probe) == probe
    check_chalk_errors(result.errors)
    assert result.trace is None or isinstance(result.trace, str)
    meta = result.meta
    assert meta is None or isinstance(meta, QueryMeta)
    if meta is not None:
        duration = meta.execution_duration_s
        assert duration is None or (isinstance(duration, float) and math.isfinite(duration))
        for text in (
            meta.deployment_id,
            meta.environment_id,
            meta.environment_name,
            meta.query_id,
            meta.query_timestamp,
            meta.query_hash,
        ):
            assert text is None or isinstance(text, str)
    if result.errors:
        with pytest.raises(ChalkResultError) as caught:
            result.raise_for_errors()
        check_error(caught.value)
    else:
        assert result.raise_for_errors() is result


def _same_json(a: object, b: object) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _run_query(kind: str, answer: Callable[[httpx.Request], httpx.Response]) -> OnlineQueryResult:
    """One query on a fresh sync or async client whose engine answers with `answer`."""
    api = FakeChalkAPI(FakeClock())
    api.queue(QUERY, answer)
    with build_client(kind, api=api) as client:
        return client("query", {"user.id": 1}, ["user.name", "user.age"], include_meta=True)


def _query_property(kind: str, body: bytes, trace: str | None, probe: str) -> None:
    headers = {"x-chalk-trace-id": trace} if trace is not None else {}
    result = outcome(lambda: _run_query(kind, lambda _: response(200, body, "application/json", **headers)))
    if isinstance(result, ChalkSDKError):
        assert isinstance(result, ChalkInvalidResponseError)  # the one documented way a 200 fails
        check_error(result)
        assert result.status_code == 200
        return
    check_query_result(result, probe)


_probes = st.sampled_from(["user.name", "user.age", "user.missing", ""]) | texts


@given(body=query_answers(), trace=st.none() | _ascii_header_values, probe=_probes)
@settings(PROFILE, max_examples=200)
def test_any_query_answer_gives_a_result_whose_accessors_work(
    body: bytes, trace: str | None, probe: str
) -> None:
    _query_property("sync", body, trace, probe)


@given(body=query_answers(), trace=st.none() | _ascii_header_values, probe=_probes)
@settings(PROFILE, max_examples=60)
def test_any_query_answer_on_the_async_client(body: bytes, trace: str | None, probe: str) -> None:
    _query_property("async", body, trace, probe)


@given(duration=st.integers(min_value=2**1024) | st.integers(max_value=-(2**1024)))
@settings(PROFILE, max_examples=10)
def test_query_meta_with_a_huge_duration(duration: int) -> None:
    body = dumps({"data": [], "meta": {"execution_duration_s": duration}})
    _query_property("sync", body, None, "user.name")


def _failed_feature_answer(message: str) -> Callable[[httpx.Request], httpx.Response]:
    error = {"code": "RESOLVER_FAILED", "message": message, "feature": "user.name"}
    body = {"data": [{"field": "user.name", "value": None, "error": error}], "errors": [error]}
    return lambda _: response(200, dumps(body), "application/json")


@given(before=texts, after=texts)
@settings(PROFILE, max_examples=50)
def test_result_error_messages_never_show_an_access_token(before: str, after: str) -> None:
    result = _run_query("sync", _failed_feature_answer(f"{before}{A_JWT}{after}"))
    with pytest.raises(ChalkResultError) as caught:
        result.raise_for_errors()
    assert A_JWT not in str(caught.value)
    check_error(caught.value)


@given(before=texts, after=texts)
@settings(PROFILE, max_examples=50)
def test_result_error_messages_never_show_the_secret(before: str, after: str) -> None:
    result = _run_query("sync", _failed_feature_answer(f"{before}{SECRET}{after}"))
    with pytest.raises(ChalkResultError) as caught:
        result.raise_for_errors()
    assert SECRET not in str(caught.value)


# ---------------------------------------------------------------------------------------------------
# 3b. Upload answers


@st.composite
def upload_answers(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["mutated"] * 4 + ["json", "not json"]))
    if kind == "json":
        return dumps(draw(json_values))
    if kind == "not json":
        return draw(non_json_bodies)
    answer: dict[str, Any] = {}
    if draw(st.booleans()):
        answer["errors"] = draw(st.one_of(st.none(), st.lists(_valid_error, max_size=3), st.just([])))
    if draw(st.booleans()):
        answer["trace_id"] = draw(st.none() | texts)
    return dumps(answer)


def _upload(body: bytes) -> UploadResult:
    api = FakeChalkAPI(FakeClock())
    api.queue(UPLOAD, lambda _: response(200, body, "application/json"))
    with ChalkClient(**client_kwargs(api.clock, transport=api.transport())) as client:
        return client.upload_features({"user.id": [1, 2], "user.name": ["Ada", "Grace"]})


def _upload_property(body: bytes) -> None:
    result = outcome(lambda: _upload(body))
    if isinstance(result, ChalkSDKError):
        assert isinstance(result, ChalkInvalidResponseError | ChalkResultError)
        check_error(result)
        return
    assert isinstance(result, UploadResult)
    assert result.rows == 2
    assert result.features == ("user.id", "user.name")
    assert result.trace_id is None or isinstance(result.trace_id, str)


@given(body=upload_answers())
@settings(PROFILE, max_examples=100)
def test_any_well_typed_upload_answer_gives_a_result_or_a_result_error(body: bytes) -> None:
    _upload_property(body)


_upload_shapes = st.fixed_dictionaries(
    {},
    optional={
        "errors": st.lists(_chalk_error_objects | json_values, max_size=3) | json_values,
        "trace_id": json_values,
    },
).map(dumps)


@given(body=_upload_shapes)
@settings(PROFILE, max_examples=100)
def test_any_upload_answer_gives_a_result_or_an_sdk_error(body: bytes) -> None:
    _upload_property(body)
