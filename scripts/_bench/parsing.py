"""7. Parsing a large online-query answer into ``OnlineQueryResult``, against ``json.loads``."""

from __future__ import annotations

import functools
import json
import statistics
import time
from collections.abc import Callable

import httpx

from chalk_client import OnlineQueryResult

from .figures import Check, Figure, Report, fmt_ratio, fmt_us, paired_ratio
from .profiles import CLIENT_SECRET, PARSE_FEATURES, QUERY_PATH, USER_ID, Profile


def online_query_parser(body: bytes) -> Callable[[], OnlineQueryResult]:
    """A no-argument function that parses `body` exactly as ``query()`` parses a 200 answer.

    The one place that knows the SDK's private parser and its signature.
    """
    from chalk_client._api import calls as _calls

    call = _calls.online_query_call({USER_ID: 1}, [f"user.f{i}" for i in range(PARSE_FEATURES)])
    request = httpx.Request("POST", "http://127.0.0.1" + QUERY_PATH)
    response = httpx.Response(
        200, content=body, headers={"Content-Type": "application/json"}, request=request
    )
    return functools.partial(_calls.parse_online_query, call, response, (CLIENT_SECRET,))


def large_answer(features: int = PARSE_FEATURES) -> bytes:
    """An online-query answer of `features` features (ints, floats, strings, booleans), no errors."""
    kinds: tuple[Callable[[int], object], ...] = (
        lambda i: i * 7,
        lambda i: i / 3,
        lambda i: f"value number {i}",
        lambda i: i % 2 == 0,
    )
    ts = "2026-01-01T00:00:00.000000Z"
    data = [
        {"field": f"user.f{i}", "value": kinds[i % 4](i), "pkey": 1, "error": None, "ts": ts, "valid": True}
        for i in range(features)
    ]
    return json.dumps({"data": data, "errors": []}, separators=(",", ":")).encode()


def _generated_model(body: bytes) -> object:
    from chalk_openapi.models.online_query_response import OnlineQueryResponse

    return OnlineQueryResponse.from_dict(json.loads(body))


def seconds_per_call(call: Callable[[], object], seconds: float, max_calls: int = 100_000) -> float:
    """Mean seconds per call over about `seconds` of back-to-back calls (at most `max_calls`)."""
    start = time.perf_counter()
    deadline = start + seconds
    calls = 0
    while calls < max_calls:
        call()
        calls += 1
        if time.perf_counter() >= deadline:
            break
    return (time.perf_counter() - start) / calls


def measure_parse(profile: Profile, report: Report) -> None:
    """Parsing a 1,000-feature answer into OnlineQueryResult, beside ``json.loads`` of the same bytes."""
    body = large_answer()
    parse = online_query_parser(body)
    result = parse()
    if len(result) != PARSE_FEATURES or result.get_value("user.f2") != "value number 2":
        raise RuntimeError("the parsed benchmark answer does not hold what was sent")
    loads = functools.partial(json.loads, body)
    seconds_per_call(parse, 0.1)
    seconds_per_call(loads, 0.1)
    values, baselines = [], []
    for _ in range(profile.parse_pairs):
        values.append(seconds_per_call(parse, profile.parse_seconds))
        baselines.append(seconds_per_call(loads, profile.parse_seconds))
    ratio = paired_ratio(values, baselines)
    # Why this one parser is written by hand: the generated model, the way every other answer is read.
    generated = functools.partial(_generated_model, body)
    generated()
    model_times = [seconds_per_call(generated, profile.parse_seconds) for _ in range(profile.parse_pairs)]
    report.figures.append(
        Figure(
            f"parse {PARSE_FEATURES:,}-feature answer: generated OnlineQueryResponse",
            fmt_us(statistics.median(model_times) * 1e9),
            f"{fmt_us(statistics.median(values) * 1e9)} (the SDK's parser)",
            fmt_ratio(paired_ratio(model_times, values)),
            "-",
            (),
        )
    )
    report.figures.append(
        Figure(
            f"parse {PARSE_FEATURES:,}-feature answer ({len(body) / 1024:.0f} KiB)",
            fmt_us(statistics.median(values) * 1e9),
            f"{fmt_us(statistics.median(baselines) * 1e9)} (json.loads)",
            fmt_ratio(ratio),
            "<= 2.00x",
            (Check(ratio, 2.0, at_most=True),),
        )
    )
