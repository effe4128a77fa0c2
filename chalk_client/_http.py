"""The httpx clients a Chalk client owns: constants, construction, and their life across loops and forks.

- One connection pool per client, kept alive across calls.
- The async client keeps one ``httpx.AsyncClient`` per event loop: connections belong to the loop
  that opened them, so a client used in successive ``asyncio.run`` calls opens a fresh pool in each,
  and closes the old one as its loop shuts down (see :class:`PerLoopAsyncClient`).
- After ``os.fork()`` the child drops the parent's pools without touching their sockets, and opens
  its own on first use.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Final, TypeAlias

import httpx

from chalk_client._errors import ChalkInputError
from chalk_client._fork import keep_inherited, reset_after_fork
from chalk_client._version import __version__

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "TOKEN_TIMEOUT",
    "USER_AGENT",
    "USE_CLIENT_DEFAULT",
    "PerLoopAsyncClient",
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


async def _close_with_loop(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    # An async generator parked at its first yield is closed by the loop's shutdown_asyncgens()
    # (which asyncio.run calls before closing the loop): the pool is closed inside its own loop.
    try:
        yield
    finally:
        await client.aclose()


def _running_loop() -> asyncio.AbstractEventLoop:
    import asyncio  # here, not at the top: `import chalk_client` need not pay for asyncio

    return asyncio.get_running_loop()


class PerLoopAsyncClient:
    """One ``httpx.AsyncClient`` per running event loop, made by `factory` on first use in a loop."""

    def __init__(self, factory: Callable[[], httpx.AsyncClient]) -> None:
        self._factory = factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._closer: AsyncGenerator[None, None] | None = None
        reset_after_fork(self)

    async def get(self) -> httpx.AsyncClient:
        """The client for the running loop."""
        loop = _running_loop()
        client = self._client
        if client is not None and self._loop is loop:
            return client
        client = self._factory()
        closer = _close_with_loop(client)
        await closer.asend(None)  # runs to the yield without suspending: no other task interleaves
        self._loop, self._client, self._closer = loop, client, closer
        return client

    async def aclose(self) -> None:
        """Close the running loop's client (a client of a loop that is gone was closed with it)."""
        closer, loop = self._closer, self._loop
        self._loop = self._client = self._closer = None
        if closer is not None and loop is _running_loop():
            await closer.aclose()

    def _reset_after_fork(self) -> None:
        if self._client is not None:
            keep_inherited((self._client, self._closer))
        self._loop = self._client = self._closer = None
