"""What a call's flow yields to its driver (a token, a request to send, a pause), and the small
helpers both drivers use to take a connection slot.

The flow (:meth:`chalk_client._base._BaseChalkClient._flow`) is written once; the two drivers
(``ChalkClient._drive`` and ``AsyncChalkClient._drive``) answer these commands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs
import httpx

from chalk_client._api.calls import Call, build_request, wire_template
from chalk_client._core.answers import Answer
from chalk_client._core.routing import Plane, Route
from chalk_client._core.token import Token
from chalk_client._io.pools import USER_AGENT

if TYPE_CHECKING:
    import asyncio

    from chalk_openapi.models.token_response import TokenResponse


_TransportT = TypeVar("_TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
_SleepT = TypeVar("_SleepT", Callable[[float], None], Callable[[float], Awaitable[None]])
_R = TypeVar("_R")


class _NeedToken:
    """What a flow yields to get ``(token, exchanged_for_this_call)`` (to route, then to send)."""


@attrs.frozen
class _Pause:
    """What a flow yields to wait before the next attempt."""

    seconds: float


class _Send:
    """What a flow yields to send one attempt of a call.

    The driver takes a slot, reads the token again (rebinding the send with :meth:`_BaseChalkClient._bind`
    when it changed), and sends with it; ``token`` and ``exchanged`` then say what was sent.
    """

    __slots__ = ("call", "engine", "exchanged", "route", "timeout", "token", "url")

    def __init__(
        self, call: Call, route: Route, token: Token, exchanged: bool, timeout: httpx.Timeout
    ) -> None:
        self.call = call
        self.route = route
        self.token = token
        self.exchanged = exchanged  # the token came from an exchange this call waited for
        self.timeout = timeout
        self.engine = call.plane is Plane.DATA  # online queries use the engine pool
        self.url = route.base_url + call.path

    def httpx_request(self) -> httpx.Request:
        """The request as httpx's, with the bound token."""
        request = build_request(self.call, self.route, user_agent=USER_AGENT, timeout=self.timeout)
        request.headers["Authorization"] = f"Bearer {self.token.access_token}"
        return request

    def wire_headers(self) -> dict[str, str]:
        """The request's headers as a new dict, with the bound token."""
        _, constant = wire_template(
            self.route.base_url, self.call.path, self.route.headers, self.call.body is not None, USER_AGENT
        )
        headers = constant.copy()
        headers["Authorization"] = f"Bearer {self.token.access_token}"
        return headers


_NEED_TOKEN: Final = _NeedToken()
# How often the token exchange is retried (inside its single flight) after a transient failure.
DEFAULT_TOKEN_RETRIES: Final = 2
# Routes remembered per token (kinds of call: plane, environment, branch, query name).
_MAX_ROUTES: Final = 256
# A flow yields one of these and is sent back: a Token, an answer or a transport error, or None.
_Command = _NeedToken | _Send | _Pause
_Flow = Generator[_Command, Any, _R]
# Turns a call's 2xx answer into its result: (call, answer, secrets to redact) -> result.
_Parser = Callable[[Call, Answer, Sequence[str | None]], _R]
# The token exchange's flow: yields the keyword arguments of a request, or a pause.
_ExchangeFlow = Generator[
    "dict[str, Any] | _Pause", "httpx.Response | httpx.TransportError | None", "TokenResponse"
]


async def acquire_within(slots: asyncio.Semaphore, seconds: float | None) -> bool:
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


def pool_limits(limits: httpx.Limits) -> httpx.Limits:
    """The limits of the pool under the slots: one connection more, for the token exchange."""
    most = limits.max_connections
    if most is None:
        return limits
    keepalive = limits.max_keepalive_connections
    return httpx.Limits(
        max_connections=most + 1,
        max_keepalive_connections=None if keepalive is None else keepalive + (keepalive >= most),
        keepalive_expiry=limits.keepalive_expiry,
    )
