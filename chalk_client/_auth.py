"""The bearer token on every API call, as an ``httpx.Auth`` flow over the token cache.

The flow, written once as a generator shared by both clients:

1. take the token the caller already routed the call with, or else one from the cache (usually
   the cached one; sometimes it waits for an exchange);
2. send the request with ``Authorization: Bearer <token>``;
3. on a 401, drop that token from the cache *if it is still the cached one* (compare-and-invalidate,
   so N calls rejected with the same token cause one exchange), take a fresh one, and send again,
   once. The second answer is final, whatever it is.

A 401 for a token that was exchanged for this very call is final at once: a second exchange would
most likely be rejected the same way, and the caller gets :class:`ChalkAuthenticationError` (from
the error mapping) instead of a loop.

The flow asks its driver for a token by yielding :data:`_NEED_TOKEN`; ``sync_auth_flow`` answers
with the blocking cache call, ``async_auth_flow`` with the awaiting one. Nothing else differs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Final

import httpx

from chalk_client._token import Token

__all__ = ["TOKEN_EXTENSION", "BearerAuth"]

logger = logging.getLogger("chalk_client.auth")

# A request may carry the ``(token, exchanged_for_this_call)`` its caller already holds under this
# key of ``request.extensions``; the flow takes it out (it is used once, never sent) instead of
# asking the cache again.
TOKEN_EXTENSION: Final = "chalk_client.token"
# Replays after a 401 for a token that had expired by the time it was sent (a long queue for a
# connection under load); a 401 for a token that was still valid is replayed once.
MAX_AGED_REPLAYS: Final = 3


class _NeedToken:
    """What the flow yields to ask its driver for ``(token, exchanged_for_this_call)``."""


_NEED_TOKEN: Final = _NeedToken()

_Flow = Generator[httpx.Request | _NeedToken, "httpx.Response | tuple[Token, bool]", None]


class BearerAuth(httpx.Auth):
    """Adds the bearer token, and replays once with a fresh token after a 401.

    Args:
        acquire: Blocking ``() -> (token, exchanged_for_this_call)``, for the sync client.
        aacquire: The awaiting one, for the async client.
        invalidate: Compare-and-invalidate: drop the cached token if it is still the one given.
        expired: Whether a token is past its deadline (or replaced): a 401 for a token exchanged
            for this very call is final, unless the token had expired by then.
    """

    def __init__(
        self,
        *,
        acquire: Callable[[], tuple[Token, bool]] | None = None,
        aacquire: Callable[[], Awaitable[tuple[Token, bool]]] | None = None,
        invalidate: Callable[[Token], bool],
        expired: Callable[[Token], bool] = lambda token: False,
    ) -> None:
        self._acquire = acquire
        self._aacquire = aacquire
        self._invalidate = invalidate
        self._expired = expired

    def flow(self, request: httpx.Request) -> _Flow:
        """The shared flow: yields requests to send and :data:`_NEED_TOKEN` to get a token."""
        given = request.extensions.pop(TOKEN_EXTENSION, None)
        token, exchanged = given if given is not None else _token_reply((yield _NEED_TOKEN))
        replays = 0
        while True:
            request.headers["Authorization"] = f"Bearer {token.access_token}"
            response = yield request
            if not isinstance(response, httpx.Response) or response.status_code != 401:
                return
            # A token past its deadline by now explains the 401 (the request may have queued for a
            # connection that long): worth another replay. A 401 for a token still valid is
            # replayed once, unless that token was exchanged for this very call.
            aged = self._expired(token)
            if (exchanged and not aged) or replays >= (MAX_AGED_REPLAYS if aged else 1):
                logger.debug(
                    "%s %s: 401 after %d replay(s)%s; not retried",
                    request.method,
                    request.url,
                    replays,
                    " for a token exchanged for this call" if exchanged and not aged else "",
                )
                return
            dropped = self._invalidate(token)
            logger.debug(
                "%s %s: 401 for a token that %s; %s, replaying",
                request.method,
                request.url,
                "had expired by the time it was sent" if aged else "looked valid",
                "dropped it" if dropped else "another call already replaced it",
            )
            token, exchanged = _token_reply((yield _NEED_TOKEN))
            replays += 1

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Drive :meth:`flow` for ``httpx.Client``."""
        if self._acquire is None:
            raise RuntimeError("this BearerAuth was made for the async client")
        flow = self.flow(request)
        reply: httpx.Response | tuple[Token, bool] | None = None
        while True:
            try:
                item = flow.send(reply)  # type: ignore[arg-type]  # None starts the generator
            except StopIteration:
                return
            reply = self._acquire() if isinstance(item, _NeedToken) else (yield item)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Drive :meth:`flow` for ``httpx.AsyncClient``."""
        if self._aacquire is None:
            raise RuntimeError("this BearerAuth was made for the sync client")
        flow = self.flow(request)
        reply: httpx.Response | tuple[Token, bool] | None = None
        while True:
            try:
                item = flow.send(reply)  # type: ignore[arg-type]  # None starts the generator
            except StopIteration:
                return
            reply = (await self._aacquire()) if isinstance(item, _NeedToken) else (yield item)


def _token_reply(reply: httpx.Response | tuple[Token, bool]) -> tuple[Token, bool]:
    if not isinstance(reply, tuple):  # pragma: no cover - the drivers answer _NEED_TOKEN with a token
        raise TypeError("the auth flow asked for a token and got an answer")
    return reply
