"""Tokens: what the exchange returns, and the pure rules that judge one's age.

Nothing here does I/O or reads a clock: every function takes the times it needs, so the policy is
tested with plain numbers and shared by the sync and async clients.

- :func:`token_lifetime` reads ``expires_at`` (RFC 3339) when it parses and lies in the future,
  else ``expires_in``, else assumes one hour.
- :func:`make_entry` stamps the deadline on the monotonic clock, counted from when the request
  *started* (so a slow answer never makes a token look younger than it is), and places the refresh
  point ``refresh_buffer`` seconds before it, capped at half the lifetime so a short-lived token
  does not refresh in a loop.
- :func:`classify` names the three states: FRESH (use it), STALE (still valid, one caller should
  refresh), EXPIRED (nobody may use it).
- :func:`backoff_delay` spaces out attempts after failed exchanges.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Protocol

import attrs

from chalk_client._core.retry import jittered_backoff

if TYPE_CHECKING:
    from chalk_openapi.models.token_response import TokenResponse

__all__ = ["Clock", "SystemClock", "Token", "TokenState"]

# Without expires_at or expires_in, a token is assumed to live an hour (as chalkpy does): bounded,
# never "forever", and a real expiry is caught by the 401 path anyway.
DEFAULT_LIFETIME: Final = 3600.0
# Refresh this long before expiry by default (the Rust, Go and TypeScript clients use 60 s).
DEFAULT_REFRESH_BUFFER: Final = 60.0
# The refresh buffer grows by up to this fraction at random, so processes that started together
# do not all refresh in the same second.
REFRESH_JITTER: Final = 0.1
# After a failed exchange: wait 1 s, doubling up to 30 s, each cut by up to 20 % at random.
BACKOFF_INITIAL: Final = 1.0
BACKOFF_MAX: Final = 30.0
BACKOFF_JITTER: Final = 0.2


class Clock(Protocol):
    """Where the token layer reads time; tests pass a fake one and never sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines live here)."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch (only to read ``expires_at``)."""
        ...


class SystemClock:
    """The real clocks: :func:`time.monotonic` and :func:`time.time`."""

    def __init__(self) -> None:
        import time

        self.monotonic = time.monotonic
        self.time = time.time


def _frozen_map(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


def _masked_repr(self: Token) -> str:
    return (
        f"Token(access_token='********', token_type={self.token_type!r}, "
        f"expires_at={self.expires_at.isoformat()!r}, primary_environment={self.primary_environment!r}, "
        f"environments={sorted(self.environment_id_to_name.values())!r})"
    )


@attrs.frozen(repr=False, eq=False)
class Token:
    """An access token and what the server sent with it.

    ``repr()`` and ``str()`` never show ``access_token``.

    Attributes:
        access_token: The bearer token.
        expires_at: When it expires (aware, UTC).
        token_type: Usually ``"Bearer"``.
        primary_environment: The token's default environment id, if the server named one.
        engines: Environment id to the HTTP URL of its query engine.
        grpc_engines: Environment id to the gRPC address of its query engine.
        environment_id_to_name: Environment id to its name.
        api_server: The API server the token belongs to, if the server said.
    """

    access_token: str
    expires_at: datetime
    token_type: str = "Bearer"
    primary_environment: str | None = None
    engines: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    grpc_engines: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    environment_id_to_name: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    api_server: str | None = None

    __repr__ = _masked_repr
    __str__ = _masked_repr


class TokenState(enum.Enum):
    """How usable a cached token is at a given moment."""

    FRESH = "fresh"  # more than the refresh buffer left: use it
    STALE = "stale"  # inside the buffer but still valid: one caller refreshes, the rest use it
    EXPIRED = "expired"  # past its deadline, or no token at all: everyone waits for an exchange


@attrs.frozen(eq=False)
class TokenEntry:
    """A token with its deadlines on the monotonic clock."""

    token: Token
    refresh_at: float
    deadline: float

    def __repr__(self) -> str:
        return f"TokenEntry(token={self.token!r}, refresh_at={self.refresh_at}, deadline={self.deadline})"


def classify(entry: TokenEntry | None, now: float) -> TokenState:
    """The state of `entry` at monotonic time `now`."""
    if entry is None or now >= entry.deadline:
        return TokenState.EXPIRED
    if now >= entry.refresh_at:
        return TokenState.STALE
    return TokenState.FRESH


def parse_rfc3339(value: object) -> datetime | None:
    """An aware datetime from an RFC 3339 string (offsets, ``Z``, fractions), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        # The stdlib reads what servers send (offsets, "Z", fractions) without importing dateutil,
        # which costs memory and import time; dateutil reads the rarer forms it refuses.
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        from dateutil.parser import isoparse

        try:
            parsed = isoparse(value.strip())
        except (ValueError, OverflowError):
            return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None  # RFC 3339 requires an offset; a naive time would be a guess
    return parsed


def token_lifetime(expires_at: object, expires_in: object, started_wall: float) -> float:
    """Seconds the token lives, counted from `started_wall` (when the request started).

    ``expires_at`` wins when it parses and lies after the start; one in the past means the clocks
    disagree (or the value is wrong), so ``expires_in`` is used instead. Then one hour.
    """
    parsed = parse_rfc3339(expires_at)
    if parsed is not None:
        try:
            lifetime = parsed.timestamp() - started_wall
        except (OverflowError, ValueError, OSError):
            lifetime = -1.0
        if lifetime > 0 and math.isfinite(lifetime):
            return lifetime
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        try:
            seconds = float(expires_in)
        except OverflowError:  # an int beyond any float: no usable number of seconds
            seconds = math.nan
        if seconds > 0 and math.isfinite(seconds):
            return seconds
    return DEFAULT_LIFETIME


def refresh_margin(lifetime: float, refresh_buffer: float, jitter: float = 0.0) -> float:
    """How long before the deadline to refresh: the buffer (plus jitter), at most half the lifetime."""
    return min(refresh_buffer * (1.0 + REFRESH_JITTER * jitter), lifetime / 2.0)


def make_entry(
    response: TokenResponse,
    *,
    started_monotonic: float,
    started_wall: float,
    refresh_buffer: float,
    jitter: float = 0.0,
) -> TokenEntry:
    """Build the cache entry for an exchange answer, timed from the request's start.

    `jitter` is a number in [0, 1) (from the injectable random source). The environment maps are
    copied only where every key and value is a string; anything else in them is dropped rather
    than trusted.
    """
    from chalk_openapi.types import Unset

    def opt(value: object) -> object:
        return None if isinstance(value, Unset) else value

    lifetime = token_lifetime(opt(response.expires_at), opt(response.expires_in), started_wall)
    token_type = opt(response.token_type)
    try:
        expires_at = datetime.fromtimestamp(started_wall + lifetime, tz=UTC)
    except (OverflowError, ValueError, OSError):  # after year 9999: as late as a datetime goes
        expires_at = datetime.max.replace(tzinfo=UTC)
    token = Token(
        access_token=response.access_token,  # checked non-empty by parse_model
        expires_at=expires_at,
        token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
        primary_environment=opt_str(opt(response.primary_environment)),
        engines=_str_map(opt(response.engines)),
        grpc_engines=_str_map(opt(response.grpc_engines)),
        environment_id_to_name=_str_map(opt(response.environment_id_to_name)),
        api_server=opt_str(opt(response.api_server)),
    )
    deadline = started_monotonic + lifetime
    return TokenEntry(
        token=token,
        refresh_at=deadline - refresh_margin(lifetime, refresh_buffer, jitter),
        deadline=deadline,
    )


def backoff_delay(failures: int, jitter: float = 0.0) -> float:
    """Seconds to wait before the next exchange after `failures` failures in a row (>= 1)."""
    return jittered_backoff(
        failures, initial=BACKOFF_INITIAL, cap=BACKOFF_MAX, jitter=BACKOFF_JITTER, rand=jitter
    )


def opt_str(value: object) -> str | None:
    """`value` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def _str_map(value: object) -> dict[str, str]:
    """The string-to-string part of a map from the server (generated models keep it raw)."""
    raw = getattr(value, "additional_properties", value)
    if not isinstance(raw, Mapping):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
