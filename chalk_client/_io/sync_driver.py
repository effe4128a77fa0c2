"""The sync driver: it carries out the steps of every flow of a ``ChalkClient``.

Generated from ``chalk_client/_io/async_driver.py`` by ``scripts/unasync``: do not edit; edit the async
twin and run the script (``scripts/check`` fails when the two drift).
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
from chalk_client._io.driver_base import _SyncDriverBase
from chalk_client._io.pools import SyncPool, pool_timeout_error

if TYPE_CHECKING:
    from chalk_openapi.models.token_response import TokenResponse

    from chalk_client._core.token import Token

__all__ = ["SyncDriver"]

_R = TypeVar("_R")


class SyncDriver(_SyncDriverBase):
    """Runs the flows of one client: answers each step, owns the client's two pools."""

    def run(self, flow: Flow[_R]) -> _R:
        """Carry out `flow`'s steps; its result, or the error it raised."""
        self._begin()
        reply: Any = None
        failure: BaseException | None = None
        held: SyncPool | None = None
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
                    pool = lease if isinstance(lease, SyncPool) else self.api.get()
                    reply = self._send(step, pool)
                    if lease is not None and lease is held:
                        held = None
                        if pool.slots is not None:
                            pool.slots.release()
                elif type(step) is TakeSlot:
                    pool = (self.engine if step.engine else self.api).get()
                    if pool.take(step.wait):
                        held = reply = pool
                    else:
                        reply = pool_timeout_error(step.wait, step.url)
                elif type(step) is GetToken:
                    try:
                        reply = self.tokens.acquire(self._exchange)
                    except ChalkSDKError as err:  # raised into the flow, which may handle it
                        failure = err
                else:
                    reply = self._answer(step)
        finally:
            if held is not None and held.slots is not None:
                held.slots.release()

    def get_token(self) -> Token:
        """A valid token, from the cache or a new exchange."""
        return self.tokens.get(self._exchange)

    def _exchange(self) -> TokenResponse:
        return self.run(self._exchange_flow())

    def _send(self, step: Send, pool: SyncPool) -> object:
        try:
            if pool.session is not None:
                return pool.session.send(step.method, step.url, step.headers, step.body, step.timeout)
            return pool.http.send(_httpx_request(step))
        except httpx.TransportError as err:
            return err

    def _fetch(self, step: Fetch) -> object:
        """Stream `step.url` into `step.target`: None once it is in place, else the status or the error."""
        from chalk_client._io.files import DOWNLOAD_CHUNK_BYTES, RAW_FILE, PartFile

        pool = self.api.get()
        part = PartFile(step.target)
        try:
            with pool.http.stream("GET", step.url, headers=RAW_FILE) as response:
                if response.status_code != 200:
                    return response.status_code
                # A body already read into memory (an httpx.MockTransport answer) cannot stream again.
                chunks = (
                    response.iter_bytes()
                    if response.is_stream_consumed
                    else response.iter_raw(DOWNLOAD_CHUNK_BYTES)
                )
                for chunk in chunks:
                    part.write(chunk)
                part.commit(response.headers.get("content-length"))
            return None
        except (httpx.TransportError, _TruncatedError) as err:
            return err
        finally:
            part.discard()

    def _answer(self, step: Step[Any]) -> object:
        """The reply to a step other than a token, a slot or a send."""
        if type(step) is Sleep:
            self._sleep(step.seconds)
            return None
        if type(step) is Fetch:
            return self._fetch(step)
        if type(step) is Report:
            self._report(step)
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
