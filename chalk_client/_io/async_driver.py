"""The async driver: it carries out the steps of every flow of an ``AsyncChalkClient``.

Written by hand; ``scripts/unasync`` generates its twin, ``SyncDriver`` in
``chalk_client._io.sync_driver``, from this file. These two are the only drivers: every flow (a
call, a token exchange, an offline wait or download) yields the steps of
:mod:`chalk_client._core.steps`, and :meth:`AsyncDriver.run` answers them and returns the flow's
result. What the two do differently (pools, sleeping, closing, forks) is in
``chalk_client._io.driver_base``.

A lease (the reply to ``TakeSlot``) is the pool itself, with one of its slots held; the slot is
given back once the ``Send`` on it is answered, or when the flow ends without sending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from chalk_client._core.errors import ChalkSDKError
from chalk_client._core.steps import (
    Fetch,
    Flow,
    GetToken,
    Report,
    Send,
    Sleep,
    Step,
    TakeSlot,
    _TruncatedError,
)
from chalk_client._io.driver_base import _AsyncDriverBase
from chalk_client._io.pools import AsyncPool, pool_timeout_error

if TYPE_CHECKING:
    from chalk_openapi.models.token_response import TokenResponse

    from chalk_client._core.token import Token

__all__ = ["AsyncDriver"]

_R = TypeVar("_R")


class AsyncDriver(_AsyncDriverBase):
    """Runs the flows of one client: answers each step, owns the client's two pools."""

    async def run(self, flow: Flow[_R]) -> _R:
        """Carry out `flow`'s steps; its result, or the error it raised."""
        self._begin()
        reply: Any = None
        failure: BaseException | None = None
        held: AsyncPool | None = None
        try:
            while True:
                try:
                    step: Step[Any] = flow.send(reply) if failure is None else flow.throw(failure)
                except StopIteration as done:
                    result: _R = done.value  # the flow's return value
                    return result
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
                    if await pool.take(step.wait):
                        held = reply = pool
                    else:
                        reply = pool_timeout_error(step.wait, step.url)
                elif type(step) is GetToken:
                    try:
                        reply = await self.tokens.aacquire(self._exchange)
                    except ChalkSDKError as err:  # raised into the flow, which may handle it
                        failure = err
                else:
                    reply = await self._answer(step)
        finally:
            if held is not None and held.slots is not None:
                held.slots.release()

    async def get_token(self) -> Token:
        """A valid token, from the cache or a new exchange."""
        return await self.tokens.aget(self._exchange)

    async def _exchange(self) -> TokenResponse:
        return await self.run(self._exchange_flow())

    async def _send(self, step: Send, pool: AsyncPool) -> object:
        try:
            if pool.session is not None:
                return await pool.session.send(step.method, step.url, step.headers, step.body, step.timeout)
            return await pool.http.send(_httpx_request(step))
        except httpx.TransportError as err:
            return err

    async def _fetch(self, step: Fetch) -> object:
        """Stream `step.url` into `step.target`: None once it is in place, else the status or the error."""
        from chalk_client._io.files import DOWNLOAD_CHUNK_BYTES, RAW_FILE, PartFile

        pool = await self.api.get()
        part = PartFile(step.target)
        try:
            async with pool.http.stream("GET", step.url, headers=RAW_FILE) as response:
                if response.status_code != 200:
                    return response.status_code
                # A body already read into memory (an httpx.MockTransport answer) cannot stream again.
                chunks = (
                    response.aiter_bytes()
                    if response.is_stream_consumed
                    else response.aiter_raw(DOWNLOAD_CHUNK_BYTES)
                )
                async for chunk in chunks:
                    part.write(chunk)
                part.commit(response.headers.get("content-length"))
            return None
        except (httpx.TransportError, _TruncatedError) as err:
            return err
        finally:
            part.discard()

    async def _answer(self, step: Step[Any]) -> object:
        """The reply to a step other than a token, a slot or a send."""
        if type(step) is Sleep:
            await self._sleep(step.seconds)
            return None
        if type(step) is Fetch:
            return await self._fetch(step)
        if type(step) is Report:
            await self._report(step)
            return None
        raise TypeError(f"no driver answers {step!r}")  # pragma: no cover - every step is above


def _httpx_request(step: Send) -> httpx.Request:
    """`step` as an httpx request (for a caller's transport)."""
    request = httpx.Request(
        step.method, step.url, content=step.body, extensions={"timeout": step.timeout.as_dict()}
    )
    for name, value in step.headers.items():  # one by one: httpx then encodes them as UTF-8 if need be
        request.headers[name] = value
    return request
