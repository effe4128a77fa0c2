"""The httpx clients a Chalk client owns: constants, construction, and their life across loops and forks.

- Two connection pools per client (the API server's, the engines'), kept alive across calls, each
  behind the SDK's own slots (:class:`SyncPool`, :class:`AsyncPool`).
- The async client keeps one pool per event loop: connections belong to the loop
  that opened them, so a client used in successive ``asyncio.run`` calls opens a fresh pool in each,
  and closes the old one as its loop shuts down (see :class:`PerLoopAsyncClient`).
- After ``os.fork()`` the child drops the parent's pools without touching their sockets, and opens
  its own on first use.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Protocol

import httpx

from chalk_client._io.fork import keep_inherited, reset_after_fork

if TYPE_CHECKING:
    import asyncio

    from chalk_client._io.aiohttp_transport import AioSession
    from chalk_client._io.urllib3_transport import Urllib3Session

__all__ = ["AsyncPool", "PerLoopAsyncClient", "SyncPool", "pool_timeout_error"]


class _Closable(Protocol):
    async def aclose(self) -> None: ...


async def _close_with_loop(resource: _Closable) -> AsyncGenerator[None, None]:
    # An async generator parked at its first yield is closed by the loop's shutdown_asyncgens()
    # (which asyncio.run calls before closing the loop): the pool is closed inside its own loop.
    try:
        yield
    finally:
        await resource.aclose()


def _running_loop() -> asyncio.AbstractEventLoop:
    import asyncio  # here, not at the top: `import chalk_client` need not pay for asyncio

    return asyncio.get_running_loop()


def pool_timeout_error(seconds: float | None, url: str) -> httpx.PoolTimeout:
    """The error for a call that found no free slot in time (nothing was sent)."""
    return httpx.PoolTimeout(
        f"no free connection slot within {seconds} s (all are busy: raise limits.max_connections or "
        "Timeout(pool=...))",
        request=httpx.Request("GET", url),
    )


class SyncPool:
    """A connection pool of ``ChalkClient``: its ``httpx.Client`` and the SDK's slots in front of it.

    A call takes a slot before it reads the token it sends (so a token never ages in the pool's
    queue), and holds it while it sends. There are ``max_connections`` slots; the pool below has
    one connection more, for the token exchange, which takes no slot. `http` sends the token
    exchange and downloads (and every call, when the caller gave a transport); `session`, when
    set, is the urllib3 session that API calls take directly.
    """

    def __init__(
        self, http: httpx.Client, session: Urllib3Session | None, max_connections: int | None
    ) -> None:
        self.http = http
        self.session = session
        self.slots = threading.BoundedSemaphore(max_connections) if max_connections else None

    def get(self) -> SyncPool:
        """This pool (the twin of :meth:`PerLoopAsyncClient.get`: a sync client has one per plane)."""
        return self

    def take(self, wait: float | None) -> bool:
        """Take a slot, waiting at most `wait` seconds (None: as long as it takes); False if none came free."""
        slots = self.slots
        return slots is None or slots.acquire(timeout=wait)

    def close(self) -> None:
        """Close the connections."""
        self.http.close()


class AsyncPool:
    """A connection pool of ``AsyncChalkClient`` in one event loop, with the SDK's slots.

    `http` sends the token exchange and downloads (and every call, when the caller gave a
    transport); `session`, when set, is the aiohttp session that API calls take directly.
    """

    def __init__(
        self, http: httpx.AsyncClient, session: AioSession | None, max_connections: int | None
    ) -> None:
        import asyncio

        self.http = http
        self.session = session
        self.slots = asyncio.Semaphore(max_connections) if max_connections else None
        self.closed = False

    async def take(self, wait: float | None) -> bool:
        """Take a slot, waiting at most `wait` seconds (None: as long as it takes); False if none came free."""
        slots = self.slots
        if slots is None:
            return True
        if wait is None or not slots.locked():  # no limit, or a free slot: no timer needed
            await slots.acquire()
            return True
        import asyncio

        try:
            await asyncio.wait_for(slots.acquire(), wait)
        except TimeoutError:
            return False
        return True

    async def aclose(self) -> None:
        """Close the connections (the httpx client closes the aiohttp session under it)."""
        self.closed = True
        await self.http.aclose()


class PerLoopAsyncClient:
    """One :class:`AsyncPool` per running event loop, made by `factory` on first use in a loop."""

    def __init__(self, factory: Callable[[], AsyncPool]) -> None:
        self._factory = factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: AsyncPool | None = None
        self._closer: AsyncGenerator[None, None] | None = None
        reset_after_fork(self)

    async def get(self) -> AsyncPool:
        """The pool of the running loop."""
        loop = _running_loop()
        client = self._client
        if client is not None and self._loop is loop:
            return client
        client = self._factory()
        closer = _close_with_loop(client)
        await closer.asend(None)  # runs to the yield without suspending: no other task interleaves
        self._loop, self._client, self._closer = loop, client, closer
        return client

    @property
    def open(self) -> bool:
        """Whether a pool is open in a loop that still runs (it needs an ``aclose()``)."""
        pool, loop = self._client, self._loop
        return pool is not None and not pool.closed and loop is not None and not loop.is_closed()

    async def aclose(self) -> None:
        """Close the running loop's pool (a pool of a loop that is gone was closed with it)."""
        closer, loop = self._closer, self._loop
        self._loop = self._client = self._closer = None
        if closer is not None and loop is _running_loop():
            await closer.aclose()

    def _reset_after_fork(self) -> None:
        if self._client is not None:
            keep_inherited((self._client, self._closer))
        self._loop = self._client = self._closer = None
