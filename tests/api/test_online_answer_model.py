"""The online query's hand-written parser reads every answer exactly as the generated model does.

``parse_online_query`` is the one parser that does not go through the generated models: it is on
the hot path: on a 1,000-feature answer the generated ``OnlineQueryResponse.from_dict`` took
9.1 ms where it takes 0.58 ms (15x; ``scripts/bench`` prints both, row "parse 1,000-feature
answer: generated OnlineQueryResponse"). This property test is what lets it stay: for any
answer the spec allows, every fact the SDK exposes equals what the generated model reads.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta, timezone
from typing import Any

from dateutil.parser import isoparse
from hypothesis import given, settings
from hypothesis import strategies as st

from chalk_client._api.calls import online_query_call, parse_online_query
from chalk_client._core.answers import PlainAnswer
from chalk_client._core.server_errors import from_generated

_text = st.text(min_size=0, max_size=12)
_maybe_text = st.none() | _text
_json_scalar = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False) | _text
_json = st.recursive(
    _json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_codes = st.sampled_from(["RESOLVER_FAILED", "RESOLVER_NOT_FOUND", "VALIDATION_FAILED", "SOMETHING_NEW"])
# RFC 3339 offsets are whole minutes (the spec's date-time format).
_zones = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
_timestamps = st.datetimes(timezones=_zones).map(lambda moment: moment.isoformat())


def _optional(draw: st.DrawFn, key: str, strategy: st.SearchStrategy[Any], into: dict[str, Any]) -> None:
    if draw(st.booleans()):
        into[key] = draw(strategy)


@st.composite
def chalk_errors(draw: st.DrawFn) -> dict[str, Any]:
    error: dict[str, Any] = {"code": draw(_codes), "message": draw(_text)}
    _optional(draw, "category", st.sampled_from(["FIELD", "REQUEST", "NETWORK", "ELSEWHERE"]), error)
    for key in ("feature", "resolver", "display_primary_key"):
        _optional(draw, key, _maybe_text, error)
    if draw(st.booleans()):
        error["exception"] = {"kind": draw(_text), "message": draw(_text), "stacktrace": draw(_maybe_text)}
    return error


@st.composite
def feature_results(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"field": draw(st.sampled_from(["user.id", "user.name", "user.score", "x.y"]))}
    _optional(draw, "value", _json, item)
    _optional(draw, "pkey", _json_scalar, item)
    _optional(draw, "ts", st.none() | _timestamps, item)
    _optional(draw, "valid", st.none() | st.booleans(), item)
    _optional(draw, "error", st.none() | chalk_errors(), item)
    if draw(st.booleans()):
        meta: dict[str, Any] = {}
        _optional(draw, "chosen_resolver_fqn", _maybe_text, meta)
        _optional(draw, "cache_hit", st.none() | st.booleans(), meta)
        _optional(draw, "primitive_type", _maybe_text, meta)
        item["meta"] = meta
    return item


@st.composite
def online_answers(draw: st.DrawFn) -> dict[str, Any]:
    answer: dict[str, Any] = {"data": draw(st.lists(feature_results(), max_size=6))}
    _optional(draw, "errors", st.none() | st.lists(chalk_errors(), max_size=3), answer)
    if draw(st.booleans()):
        meta: dict[str, Any] = {}
        _optional(draw, "execution_duration_s", st.none() | st.floats(0, 1e6), meta)
        for key in ("deployment_id", "environment_id", "environment_name", "query_id", "query_hash"):
            _optional(draw, key, _maybe_text, meta)
        _optional(draw, "query_timestamp", st.none() | _timestamps, meta)
        _optional(draw, "explain_output", _json, meta)
        answer["meta"] = draw(st.none()) if draw(st.booleans()) else meta
    return answer


def _set(value: object) -> Any:
    from chalk_openapi.types import Unset

    return None if isinstance(value, Unset) else value


@given(answer=online_answers())
@settings(max_examples=300, deadline=None)
def test_the_online_parser_reads_every_answer_as_the_generated_model(answer: dict[str, Any]) -> None:
    from chalk_openapi.models.online_query_response import OnlineQueryResponse

    body = json.dumps(answer).encode()
    call = online_query_call({"user.id": 1}, ["user.name"])
    response = PlainAnswer(200, "OK", {}, body, method="POST", url="https://engine.test/v1/query/online")
    ours = parse_online_query(call, response, ())
    theirs = OnlineQueryResponse.from_dict(json.loads(body))

    assert len(ours) == len(theirs.data)
    for mine, model in zip(ours, theirs.data, strict=True):
        assert mine.feature == model.field
        assert mine.value == _set(model.value)
        assert mine.primary_key == _set(model.pkey)
        ts = _set(model.ts)
        assert mine.timestamp == (None if ts is None else isoparse(ts))
        assert mine.valid == _set(model.valid)
        error = _set(model.error)
        assert mine.error == (None if error is None else from_generated(error))
        meta = _set(model.meta)
        assert mine.resolver == (None if meta is None else _set(meta.chosen_resolver_fqn))
        assert mine.cache_hit == (None if meta is None else _set(meta.cache_hit))
    failed = [from_generated(item.error) for item in theirs.data if _set(item.error) is not None]
    assert ours.errors == [*(from_generated(error) for error in (_set(theirs.errors) or [])), *failed]
    meta = _set(theirs.meta)
    if meta is None:
        assert ours.meta is None
    else:
        assert ours.meta is not None
        for name in ("deployment_id", "environment_id", "environment_name", "query_id", "query_hash"):
            assert getattr(ours.meta, name) == _set(getattr(meta, name))
        assert ours.meta.query_timestamp == _set(meta.query_timestamp)
        assert ours.meta.explain_output == _set(meta.explain_output)
        duration = _set(meta.execution_duration_s)
        assert ours.meta.execution_duration_s == (None if duration is None else float(duration))
