"""The pure token rules: expiry parsing, refresh margin, states and backoff."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalk_client._core.token import (
    BACKOFF_MAX,
    DEFAULT_LIFETIME,
    TokenEntry,
    TokenState,
    backoff_delay,
    classify,
    make_entry,
    parse_rfc3339,
    refresh_margin,
    token_lifetime,
)

START = 1_800_000_000.0  # a wall-clock instant: 2027-01-15T08:00:00Z


@pytest.mark.parametrize(
    ("expires_at", "expires_in", "expected"),
    [
        ("2027-01-15T09:00:00Z", None, 3600.0),
        ("2027-01-15T09:00:00+00:00", None, 3600.0),
        ("2027-01-15T10:00:00+01:00", None, 3600.0),  # offsets are honoured
        ("2027-01-15T03:30:00-05:00", None, 1800.0),
        ("2027-01-15T08:00:30.250Z", None, 30.25),  # fractional seconds
        ("2027-01-15T08:00:30.250000+00:00", 99, 30.25),  # expires_at wins over expires_in
        ("garbage", 120, 120.0),  # does not parse: expires_in
        ("2027-01-15T09:00:00", 120, 120.0),  # naive: not RFC 3339, so not guessed at
        ("2027-01-15", 120, 120.0),
        ("", 120, 120.0),
        (12345, 120, 120.0),  # wrong type
        ("2020-01-01T00:00:00Z", 120, 120.0),  # in the past (clock skew): expires_in
        (None, 120, 120.0),  # expires_in only
        (None, 2.5, 2.5),
        (None, None, DEFAULT_LIFETIME),  # neither
        (None, 0, DEFAULT_LIFETIME),
        (None, -5, DEFAULT_LIFETIME),
        (None, True, DEFAULT_LIFETIME),  # a bool is not a number of seconds
        (None, "3600", DEFAULT_LIFETIME),
        (None, float("nan"), DEFAULT_LIFETIME),
        (None, float("inf"), DEFAULT_LIFETIME),
        ("9999-12-31T23:59:59Z", None, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() - START),
    ],
)
def test_token_lifetime(expires_at: object, expires_in: object, expected: float) -> None:
    assert token_lifetime(expires_at, expires_in, START) == pytest.approx(expected)


def test_parse_rfc3339_forms() -> None:
    assert parse_rfc3339("2027-01-15T08:00:00Z") == datetime(2027, 1, 15, 8, tzinfo=UTC)
    assert parse_rfc3339("2027-01-15T08:00:00.5+02:00").utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    for bad in ["", "  ", "soon", "2027-13-45T00:00:00Z", None, 5, "2027-01-15T08:00:00"]:
        assert parse_rfc3339(bad) is None


@pytest.mark.parametrize(
    ("lifetime", "buffer", "expected"),
    [
        (3600, 60, 60),  # the buffer as given
        (100, 60, 50),  # capped at half the lifetime: a short token does not refresh in a loop
        (10, 60, 5),
        (3600, 0, 0),
    ],
)
def test_refresh_margin(lifetime: float, buffer: float, expected: float) -> None:
    assert refresh_margin(lifetime, buffer) == expected


def test_refresh_margin_jitter_grows_the_buffer_by_at_most_ten_percent() -> None:
    assert refresh_margin(3600, 60, jitter=0.999) == pytest.approx(65.994)
    assert refresh_margin(100, 60, jitter=0.999) == 50  # still capped


def _entry(refresh_at: float, deadline: float) -> TokenEntry:
    from chalk_client import Token

    token = Token(access_token="x", expires_at=datetime.now(UTC))
    return TokenEntry(token=token, refresh_at=refresh_at, deadline=deadline)


def test_classify_states() -> None:
    entry = _entry(refresh_at=100.0, deadline=160.0)
    assert classify(None, 0.0) is TokenState.EXPIRED
    assert classify(entry, 99.9) is TokenState.FRESH
    assert classify(entry, 100.0) is TokenState.STALE
    assert classify(entry, 159.9) is TokenState.STALE
    assert classify(entry, 160.0) is TokenState.EXPIRED


def test_backoff_doubles_to_thirty_seconds_with_jitter_below_nominal() -> None:
    assert [backoff_delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff_delay(1000) == BACKOFF_MAX
    assert backoff_delay(3, jitter=0.5) == pytest.approx(3.6)  # 4 s cut by 10 %
    assert backoff_delay(6, jitter=0.999) >= 0.8 * BACKOFF_MAX


def test_make_entry_stamps_deadlines_from_the_request_start() -> None:
    from chalk_openapi.models.token_response import TokenResponse

    response = TokenResponse.from_dict(
        {
            "access_token": "abc",
            "expires_in": 600,
            "engines": {"e1": "https://engine", "bad": 5},
            "environment_id_to_name": {"e1": "dev"},
            "primary_environment": "e1",
        }
    )
    entry = make_entry(response, started_monotonic=50.0, started_wall=START, refresh_buffer=60.0)
    assert entry.deadline == 650.0
    assert entry.refresh_at == 590.0
    assert entry.token.expires_at == datetime.fromtimestamp(START + 600, tz=UTC)
    assert entry.token.token_type == "Bearer"  # absent: the usual value
    assert dict(entry.token.engines) == {"e1": "https://engine"}  # a non-string URL is dropped
    assert entry.token.primary_environment == "e1"
    assert entry.token.grpc_engines == {}
    with pytest.raises(TypeError):
        entry.token.engines["e2"] = "x"  # type: ignore[index]
