"""The step vocabulary: what a flow asks its driver to do, each step with the type of its reply.

Every call, token exchange, offline wait and download is a generator (a *flow*) written once,
without I/O. It yields steps; a driver (``chalk_client._io.async_driver`` and ``sync_driver``: one with ``await``, one
without) carries each out and sends back its reply. A flow asks through :func:`ask`, which types
the reply after the step: ``token, exchanged = yield from ask(GET_TOKEN)``. That is the only cast.

- :data:`GET_TOKEN` (:class:`GetToken`): a valid token from the cache, exchanging if needed; the
  reply is ``(token, exchanged_for_this_call)``. A failed exchange is raised into the flow.
- :class:`TakeSlot`: a slot on a pool (the API server's or the engines'), waiting at most
  ``wait`` seconds; the reply is a lease to send on, or ``httpx.PoolTimeout`` (nothing was sent).
- :class:`Send`: one request, on a lease's pool (the slot is given back once it is answered), or
  with no lease on the API server's pool, taking no slot (the token exchange). The reply is the
  answer, or the ``httpx.TransportError`` it failed with.
- :class:`Sleep`: wait; the reply is None.
- :class:`Fetch`: stream a file into place (atomically); the reply is None, the HTTP status of an
  answer other than 200, or the error (an ``httpx.TransportError`` or :class:`_TruncatedError`).
- :class:`Report`: hand a status to a progress callback (awaited when it returns an awaitable).

A driver gives back a lease it handed out even when the flow ends without sending on it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any, Final, Generic, TypeAlias, TypeVar, cast

import attrs
import httpx

from chalk_client._core.answers import Answer
from chalk_client._core.token import Token

__all__ = [
    "GET_TOKEN",
    "Fetch",
    "Flow",
    "GetToken",
    "Report",
    "Send",
    "Sleep",
    "Step",
    "TakeSlot",
    "ask",
]

_T = TypeVar("_T")
_R_co = TypeVar("_R_co", covariant=True)


class Step(Generic[_R_co]):
    """Something a flow asks its driver to do; the driver's reply has type ``_R_co``."""

    __slots__ = ()


# A flow: yields steps, is sent their replies, returns its result.
Flow: TypeAlias = Generator[Step[Any], Any, _T]


def ask(step: Step[_T]) -> Generator[Step[Any], Any, _T]:
    """Yield `step` to the driver and return its reply, typed after the step."""
    return cast(_T, (yield step))


class GetToken(Step[tuple[Token, bool]]):
    """A valid token, and whether it comes from an exchange this call waited for."""

    __slots__ = ()


GET_TOKEN: Final = GetToken()


@attrs.define(eq=False)
class TakeSlot(Step[object | httpx.TransportError]):
    """A slot on the engines' pool (`engine`) or the API server's, waiting at most `wait` seconds.

    The reply is a lease for :class:`Send`, or ``httpx.PoolTimeout`` naming `url` (the call's).
    """

    engine: bool
    wait: float | None
    url: str


@attrs.define(eq=False)
class Send(Step[Answer | httpx.TransportError]):
    """One request: sent on `lease` (whose slot is then given back), or, with None, on the API
    server's pool without a slot."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    timeout: httpx.Timeout
    lease: object | None = attrs.field(kw_only=True)


@attrs.define(eq=False)
class Sleep(Step[None]):
    """Wait `seconds`."""

    seconds: float


@attrs.define(eq=False)
class Fetch(Step[int | Exception | None]):
    """Stream `url` into `target` (atomically); the reply is None, an HTTP status, or the error."""

    url: str
    target: Path


@attrs.define(eq=False)
class Report(Step[None]):
    """Call `callback` with `status` (a progress report); an awaitable it returns is awaited."""

    callback: Callable[[Any], object]
    status: object


class _TruncatedError(Exception):
    """The body ended before its ``Content-Length``."""
