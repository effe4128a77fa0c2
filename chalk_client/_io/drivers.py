"""The two drivers: they carry out the steps of every flow, one without ``await`` and one with.

A flow (a call, a token exchange, an offline wait or download) yields the steps of
:mod:`chalk_client._core.steps`; :meth:`SyncDriver.run` and :meth:`AsyncDriver.run` answer them and
return the flow's result. They are the only code that sends, waits or takes a slot. Each owns a
client's two connection pools (the API server's: API calls, the token exchange, downloads; the
engines': online queries) and its closed state: a closed driver refuses every flow.

A lease (the reply to ``TakeSlot``) is the pool itself, with one of its slots held; the slot is
given back once the ``Send`` on it is answered, or when the flow ends without sending.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

import httpx

from chalk_client._core.errors import ChalkSDKError
from chalk_client._core.steps import Fetch, Flow, GetToken, Report, Send, Sleep, Step, TakeSlot
from chalk_client._io.fork import keep_inherited, reset_after_fork
from chalk_client._io.pools import AsyncPool, PerLoopAsyncClient, SyncPool, pool_timeout_error
from chalk_client._io.token_cache import TokenCache

if TYPE_CHECKING:
    import asyncio

    from chalk_openapi.models.token_response import TokenResponse

    from chalk_client._core.network import Network
    from chalk_client._core.token import Token

__all__ = ["AsyncDriver", "SyncDriver"]

logger = logging.getLogger("chalk_client.http")

_R = TypeVar("_R")


class _DriverBase:
    """What both drivers hold: the token cache, how to exchange, how to make a pool, the closed state."""

    def __init__(
        self,
        *,
        tokens: TokenCache,
        exchange: Callable[[], Flow[TokenResponse]],
        http_options: dict[str, Any],
        limits: httpx.Limits,
        network: Network,
        transport: object | None,
        closed_error: Callable[[], Exception],
    ) -> None:
        self.tokens = tokens
        self._exchange_flow = exchange
        self._http_options = http_options
        self._limits = limits
        self._network = network
        self._transport = transport
        self._closed_error = closed_error
        self.closed = False
        self._owner_pid: int | None = os.getpid()

    def _refuse_if_closed(self) -> None:
        if self.closed:
            raise self._closed_error()


class SyncDriver(_DriverBase):
    """Runs flows in the calling thread; safe to share between threads."""

    TRANSPORT: Final = "urllib3"  # the transport that sends when the caller gives none

    def __init__(self, *, sleep: Callable[[float], None] | None = None, **kwargs: Any) -> None:  # noqa: ANN401
        super().__init__(**kwargs)
        self._sleep = sleep or time.sleep
        self.api = self._new_pool()
        self.engine = self._new_pool() if self._transport is None else self.api
        self._sent = False  # whether a connection may be open (for the unclosed-client warning)
        self._warned_loop = False
        reset_after_fork(self)

    def run(self, flow: Flow[_R]) -> _R:
        """Carry out `flow`'s steps; its result, or the error it raised."""
        self._refuse_if_closed()
        self._sent = True
        if not self._warned_loop:
            self._warn_inside_event_loop()
        reply: Any = None
        failure: BaseException | None = None
        held: SyncPool | None = None
        try:
            while True:
                try:
                    step: Step[Any] = flow.send(reply) if failure is None else flow.throw(failure)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                failure = None
                if type(step) is Send:
                    lease = step.lease
                    pool = lease if isinstance(lease, SyncPool) else self.api
                    reply = self._send(step, pool)
                    if lease is not None and lease is held:
                        held = None
                        if pool.slots is not None:
                            pool.slots.release()
                elif type(step) is TakeSlot:
                    pool = self.engine if step.engine else self.api
                    if pool.slots is not None and not pool.slots.acquire(timeout=step.wait):
                        reply = pool_timeout_error(step.wait, step.url)
                        continue
                    held = reply = pool
                elif type(step) is GetToken:
                    try:
                        reply = self.tokens.acquire(self._exchange)
                    except ChalkSDKError as err:
                        failure = err
                else:
                    reply = self._answer(step)
        finally:
            if held is not None and held.slots is not None:
                held.slots.release()

    def get_token(self) -> Token:
        """A valid token, from the cache or a new exchange."""
        return self.tokens.get(self._exchange)

    def close(self) -> None:
        """Close both pools; every later flow is refused."""
        self.closed = True
        self.api.close()
        self.engine.close()

    @property
    def unclosed(self) -> bool:
        """Whether the client sent and was never closed (in the process that made it)."""
        return self._sent and not self.closed and self._owner_pid == os.getpid()

    def _exchange(self) -> TokenResponse:
        return self.run(self._exchange_flow())

    def _answer(self, step: Step[Any]) -> object:
        """The reply to a step other than a token, a slot or a send."""
        if type(step) is Sleep:
            self._sleep(step.seconds)
            return None
        if type(step) is Fetch:
            from chalk_client._io.files import fetch_file

            return fetch_file(self.api.http, step)
        if type(step) is Report:
            step.callback(step.status)
            return None
        raise TypeError(f"no driver answers {step!r}")  # pragma: no cover - every step is above

    def _send(self, step: Send, pool: SyncPool) -> object:
        try:
            if pool.session is not None:
                return pool.session.send(step.method, step.url, step.headers, step.body, step.timeout)
            return pool.http.send(_httpx_request(step))
        except httpx.TransportError as err:
            return err

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


class AsyncDriver(_DriverBase):
    """Runs flows with ``await``; one driver serves many tasks, and successive event loops."""

    TRANSPORT: Final = "aiohttp"  # the transport that sends when the caller gives none

    def __init__(
        self,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        **kwargs: Any,  # noqa: ANN401
    ) -> None:
        super().__init__(**kwargs)
        self._sleep = sleep
        self.api = PerLoopAsyncClient(self._new_pool)
        self.engine = PerLoopAsyncClient(self._new_pool) if self._transport is None else self.api
        reset_after_fork(self)

    async def run(self, flow: Flow[_R]) -> _R:
        """Carry out `flow`'s steps; its result, or the error it raised."""
        self._refuse_if_closed()
        reply: Any = None
        failure: BaseException | None = None
        held: AsyncPool | None = None
        try:
            while True:
                try:
                    step: Step[Any] = flow.send(reply) if failure is None else flow.throw(failure)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                failure = None
                if type(step) is Send:
                    lease = step.lease
                    pool = lease if isinstance(lease, AsyncPool) else await self.api.get()
                    reply = await self._send(step, pool)
                    if lease is not None and lease is held:
                        held = None
                        if pool.slots is not None:
                            pool.slots.release()
                elif type(step) is TakeSlot:
                    pool = await (self.engine if step.engine else self.api).get()
                    slots = pool.slots
                    if slots is not None:
                        if not slots.locked():
                            await slots.acquire()  # a free slot: no timer needed
                        elif not await _acquire_within(slots, step.wait):
                            reply = pool_timeout_error(step.wait, step.url)
                            continue
                    held = reply = pool
                elif type(step) is GetToken:
                    try:
                        reply = await self.tokens.aacquire(self._exchange)
                    except ChalkSDKError as err:
                        failure = err
                else:
                    reply = await self._answer(step)
        finally:
            if held is not None and held.slots is not None:
                held.slots.release()

    async def get_token(self) -> Token:
        """A valid token, from the cache or a new exchange."""
        return await self.tokens.aget(self._exchange)

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

    async def _exchange(self) -> TokenResponse:
        return await self.run(self._exchange_flow())

    async def _answer(self, step: Step[Any]) -> object:
        """The reply to a step other than a token, a slot or a send."""
        if type(step) is Sleep:
            await self._pause(step.seconds)
            return None
        if type(step) is Fetch:
            from chalk_client._io.files import afetch_file

            return await afetch_file((await self.api.get()).http, step)
        if type(step) is Report:
            returned = step.callback(step.status)
            if hasattr(returned, "__await__"):  # a coroutine function's result
                await returned
            return None
        raise TypeError(f"no driver answers {step!r}")  # pragma: no cover - every step is above

    async def _pause(self, seconds: float) -> None:
        if self._sleep is not None:
            await self._sleep(seconds)
        else:
            import asyncio  # only the async client waits this way; `import chalk_client` skips it

            await asyncio.sleep(seconds)

    async def _send(self, step: Send, pool: AsyncPool) -> object:
        try:
            if pool.aio is not None:
                return await pool.aio.send(step.method, step.url, step.headers, step.body, step.timeout)
            return await pool.http.send(_httpx_request(step))
        except httpx.TransportError as err:
            return err

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


def _httpx_request(step: Send) -> httpx.Request:
    """`step` as an httpx request (for a caller's transport)."""
    request = httpx.Request(
        step.method, step.url, content=step.body, extensions={"timeout": step.timeout.as_dict()}
    )
    for name, value in step.headers.items():  # set one by one: httpx then encodes them as UTF-8 if need be
        request.headers[name] = value
    return request


async def _acquire_within(slots: asyncio.Semaphore, seconds: float | None) -> bool:
    """Take a slot, waiting at most `seconds` (None: as long as it takes); False if none came free."""
    import asyncio

    if seconds is None:
        await slots.acquire()
        return True
    try:
        await asyncio.wait_for(slots.acquire(), seconds)
    except TimeoutError:
        return False
    return True
