"""What the two drivers do differently, beneath the one ``run`` loop they share.

``AsyncDriver`` (``chalk_client._io.async_driver``, by hand) and ``SyncDriver``
(``chalk_client._io.sync_driver``, generated from it by ``scripts/unasync``) answer every step the
same way; what a sync and an async client must do differently is here: their pools (one per plane,
or one per plane and event loop), how they wait and report, close, and reset after a fork.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import attrs
import httpx

from chalk_client._core.steps import Flow, Report
from chalk_client._io.fork import keep_inherited, reset_after_fork
from chalk_client._io.pools import AsyncPool, PerLoopAsyncClient, SyncPool
from chalk_client._io.token_cache import TokenCache

if TYPE_CHECKING:
    from chalk_openapi.models.token_response import TokenResponse

    from chalk_client._core.network import Network

__all__ = ["_AsyncDriverBase", "_SyncDriverBase"]

logger = logging.getLogger("chalk_client.http")


@attrs.define(kw_only=True, slots=False, eq=False)
class _DriverBase:
    """What both drivers hold: the token cache, how to exchange, how to make a pool, the closed state."""

    tokens: TokenCache
    _exchange_flow: Callable[[], Flow[TokenResponse]] = attrs.field(alias="exchange")
    _http_options: dict[str, Any] = attrs.field(alias="http_options")
    _limits: httpx.Limits = attrs.field(alias="limits")
    _network: Network = attrs.field(alias="network")
    _transport: object | None = attrs.field(alias="transport")
    _closed_error: Callable[[], Exception] = attrs.field(alias="closed_error")
    closed: bool = attrs.field(init=False, default=False)
    _owner_pid: int | None = attrs.field(init=False, factory=os.getpid)


class _SyncDriverBase(_DriverBase):
    """The sync driver's own part: a pool per plane, ``time.sleep``, the event-loop warning."""

    TRANSPORT: Final = "urllib3"  # the transport that sends when the caller gives none

    def __init__(self, *, sleep: Callable[[float], None] | None = None, **options: Any) -> None:  # noqa: ANN401
        super().__init__(**options)
        self._sleep = sleep or time.sleep
        self.api = self._new_pool()
        self.engine = self._new_pool() if self._transport is None else self.api
        self._sent = False  # whether a connection may be open (for the unclosed-client warning)
        self._warned_loop = False
        reset_after_fork(self)

    def _begin(self) -> None:
        """Refuse a closed driver; warn (once) when called from a running event loop."""
        if self.closed:
            raise self._closed_error()
        self._sent = True
        if not self._warned_loop:
            self._warn_inside_event_loop()

    def _report(self, step: Report) -> None:
        step.callback(step.status)

    def close(self) -> None:
        """Close both pools; every later flow is refused."""
        self.closed = True
        self.api.close()
        self.engine.close()

    @property
    def unclosed(self) -> bool:
        """Whether the client sent and was never closed (in the process that made it)."""
        return self._sent and not self.closed and self._owner_pid == os.getpid()

    def _new_pool(self) -> SyncPool:
        slots = self._limits.max_connections
        if self._transport is not None:
            assert isinstance(self._transport, httpx.BaseTransport)
            return SyncPool(httpx.Client(transport=self._transport, **self._http_options), None, slots)
        from chalk_client._io.urllib3_transport import Urllib3Session, Urllib3Transport

        network = self._network
        session = Urllib3Session(self._limits, ssl=network.ssl_context, proxies=network.proxies)
        http = httpx.Client(transport=Urllib3Transport(session), **self._http_options)
        return SyncPool(http, session, slots)

    def _warn_inside_event_loop(self) -> None:
        """Log once per driver if it runs in a running event loop (each call blocks the loop)."""
        asyncio = sys.modules.get("asyncio")  # not loaded: no loop can be running
        if asyncio is None or asyncio.events._get_running_loop() is None:
            return
        self._warned_loop = True
        logger.warning(
            "a ChalkClient is called from a running event loop: each call blocks the loop (and every "
            "other task) until it answers; use AsyncChalkClient in async code"
        )

    def _reset_after_fork(self) -> None:
        self._owner_pid = None  # a forked child never warns about a client it inherited
        keep_inherited((self.api, self.engine))
        if self._transport is None:
            self.api = self._new_pool()
            self.engine = self._new_pool()


class _AsyncDriverBase(_DriverBase):
    """The async driver's own part: a pool per plane and event loop, ``asyncio.sleep``."""

    TRANSPORT: Final = "aiohttp"  # the transport that sends when the caller gives none

    def __init__(
        self,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        **options: Any,  # noqa: ANN401
    ) -> None:
        super().__init__(**options)
        self._sleep = sleep or _asyncio_sleep
        self.api = PerLoopAsyncClient(self._new_pool)
        self.engine = PerLoopAsyncClient(self._new_pool) if self._transport is None else self.api
        reset_after_fork(self)

    def _begin(self) -> None:
        """Refuse a closed driver."""
        if self.closed:
            raise self._closed_error()

    async def _report(self, step: Report) -> None:
        returned = step.callback(step.status)
        if hasattr(returned, "__await__"):  # a coroutine function's result
            await returned

    async def close(self) -> None:
        """Close the running loop's pools (another loop's were closed with it); later flows are refused."""
        self.closed = True
        await self.api.aclose()
        if self.engine is not self.api:
            await self.engine.aclose()

    @property
    def unclosed(self) -> bool:
        """Whether a pool is open in a loop that still runs (in the process that made it)."""
        return self._owner_pid == os.getpid() and (self.api.open or self.engine.open)

    def _new_pool(self) -> AsyncPool:
        slots = self._limits.max_connections
        if self._transport is not None:
            assert isinstance(self._transport, httpx.AsyncBaseTransport)
            return AsyncPool(httpx.AsyncClient(transport=self._transport, **self._http_options), None, slots)
        from chalk_client._io.aiohttp_transport import (  # aiohttp: only once a client sends
            AiohttpTransport,
            AioSession,
        )

        aio = AioSession(self._limits, ssl=self._network.ssl_context, proxies=self._network.proxies)
        return AsyncPool(httpx.AsyncClient(transport=AiohttpTransport(aio), **self._http_options), aio, slots)

    def _reset_after_fork(self) -> None:
        self._owner_pid = None  # the pools reset themselves (PerLoopAsyncClient)


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio  # only the async client waits this way; `import chalk_client` skips it

    await asyncio.sleep(seconds)
