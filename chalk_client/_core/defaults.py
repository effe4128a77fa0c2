"""The client's defaults and its timeout argument: what a call is sent with unless told otherwise."""

from __future__ import annotations

import enum
from typing import Final, TypeAlias

import httpx

from chalk_client._core.errors import ChalkInputError
from chalk_client._version import __version__

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "TOKEN_TIMEOUT",
    "USER_AGENT",
    "USE_CLIENT_DEFAULT",
    "TimeoutArg",
    "UseClientDefault",
    "as_timeout",
]

USER_AGENT: Final = f"chalk-client-python/{__version__}"
# 5 s to connect, 30 s to read: long enough for a heavy query, short enough to notice a dead server.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
# The token exchange has a timeout of its own: it is small and nothing should wait long on it.
TOKEN_TIMEOUT: Final = 10.0
# Every open connection may stay open when idle (httpx keeps only 20 by default, so 64 threads on one
# client would open and close connections all the time).
DEFAULT_LIMITS: Final = httpx.Limits(
    max_connections=100, max_keepalive_connections=100, keepalive_expiry=30.0
)


class UseClientDefault(enum.Enum):
    """The type of :data:`USE_CLIENT_DEFAULT`."""

    USE_CLIENT_DEFAULT = "use the client's default"


USE_CLIENT_DEFAULT: Final = UseClientDefault.USE_CLIENT_DEFAULT
"""A per-call ``timeout`` left at this keeps the client's (``None`` means no timeout at all)."""

TimeoutArg: TypeAlias = httpx.Timeout | float | None
"""A timeout: seconds for every phase, an ``httpx.Timeout`` for each phase, or None for none."""


def as_timeout(value: TimeoutArg) -> httpx.Timeout:
    """`value` as an ``httpx.Timeout``; a negative or non-numeric value is a :class:`ChalkInputError`."""
    if isinstance(value, httpx.Timeout):
        return value
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0
    ):
        raise ChalkInputError(f"timeout must be seconds >= 0, an httpx.Timeout, or None; got {value!r}")
    return httpx.Timeout(value)
