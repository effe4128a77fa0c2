"""The retry table as a pure function: status x idempotency -> retried or not, delays, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from chalk_client._core.retry import Idempotency, backoff, decide_retry

SAFE, UNSAFE = Idempotency.SAFE, Idempotency.UNSAFE
WALL = 1_800_000_000.0


def response(status: int, retry_after: str | None = None) -> httpx.Response:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return httpx.Response(status, headers=headers, request=httpx.Request("POST", "https://x.test/"))


def decide(
    outcome: httpx.Response | httpx.TransportError, idempotency: Idempotency = SAFE, attempt: int = 1
) -> float | None:
    return decide_retry(
        idempotency=idempotency,
        attempt=attempt,
        max_retries=2,
        outcome=outcome,
        rand=lambda: 0.0,
        wall_clock=lambda: WALL,
    ).delay


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_for_safe_calls_only(status: int) -> None:
    assert decide(response(status)) == 0.5
    assert decide(response(status), UNSAFE) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501, 505, 302])
def test_other_statuses_are_final(status: int) -> None:
    assert decide(response(status)) is None
    assert decide(response(status), UNSAFE) is None


@pytest.mark.parametrize(
    ("error", "unsafe_retried"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ConnectTimeout("slow"), True),
        (httpx.PoolTimeout("busy"), True),
        (httpx.ReadError("reset"), False),
        (httpx.ReadTimeout("slow"), False),
        (httpx.WriteError("broken pipe"), False),
        (httpx.RemoteProtocolError("closed"), False),
    ],
)
def test_transport_errors(error: httpx.TransportError, unsafe_retried: bool) -> None:
    assert decide(error) == 0.5
    assert (decide(error, UNSAFE) is not None) is unsafe_retried


def test_backoff_doubles_to_eight_seconds_with_jitter() -> None:
    assert [backoff(n, 0.0) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff(1, 0.999) == pytest.approx(0.375, rel=1e-2)
    assert backoff(100, 1.0) == 6.0


def test_no_retry_past_max_retries() -> None:
    assert decide(response(503), attempt=2) == 1.0
    assert decide(response(503), attempt=3) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        ("0", 0.0),
        ("60", 60.0),
        ("60.5", None),  # over the cap: not waited for
        ("3600", None),
        (datetime.fromtimestamp(WALL + 12, tz=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"), 12.0),
        (datetime.fromtimestamp(WALL - 5, tz=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"), 0.0),
        ("soon", 0.5),  # unparsable: the usual backoff
    ],
)
def test_retry_after_forms(header: str, expected: float | None) -> None:
    assert decide(response(429, header)) == expected
    assert decide(response(503, header)) == expected


def test_decision_reasons_are_readable() -> None:
    decision = decide_retry(
        idempotency=UNSAFE, attempt=1, max_retries=2, outcome=httpx.ReadError("x"), rand=lambda: 0.0
    )
    assert not decision.retry
    assert "could repeat it" in decision.reason
