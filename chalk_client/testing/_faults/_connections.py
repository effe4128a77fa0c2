"""The open connections of a running :class:`~chalk_client.testing.ChalkServer`, for drop faults.

Dropping a connection needs the connection's transport, which ASGI does not expose: the server runs
uvicorn with an HTTP protocol class made by :func:`protocol_class` (through
:meth:`~chalk_client.testing.FaultPlan.protocol_class`), which files each transport under the
addresses the ASGI scope carries (see :class:`Connections`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from chalk_client.testing._http import Scope

__all__ = ["Connections", "protocol_class"]


class Connections:
    """The open connections of a running server, by ``(local address, peer address)``.

    The keys are the ``server`` and ``client`` of the ASGI scope, so the app finds the transport
    of the request it is answering. Only the server's event loop thread touches the table; the
    counters may be read from anywhere.

    Attributes:
        opened: Connections accepted since the server was made.
    """

    def __init__(self) -> None:
        self._open: dict[tuple[Any, Any], asyncio.Transport] = {}
        self.opened = 0

    def add(self, key: tuple[Any, Any], transport: asyncio.Transport) -> None:
        """File a new connection's transport."""
        self._open[key] = transport
        self.opened += 1

    def discard(self, key: tuple[Any, Any], transport: asyncio.Transport) -> None:
        """Forget a closed connection (if `key` still names this transport)."""
        if self._open.get(key) is transport:
            del self._open[key]

    def find(self, scope: Scope) -> asyncio.Transport | None:
        """The transport of the connection an ASGI request came in on, if known."""
        return self._open.get((scope.get("server"), scope.get("client")))

    def __len__(self) -> int:
        """Connections open now."""
        return len(self._open)


def _tracked(base: type[Any], connections: Connections) -> type[asyncio.Protocol]:
    """A subclass of uvicorn's HTTP protocol class `base` that files its transport in `connections`."""

    class Tracked(base):  # type: ignore[misc]
        _chalk_key: tuple[Any, Any] | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            # uvicorn puts exactly these two values in every request's scope.
            self._chalk_key = (self.server, self.client)
            connections.add(self._chalk_key, transport)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._chalk_key is not None:
                connections.discard(self._chalk_key, self.transport)
            super().connection_lost(exc)

    Tracked.__name__ = Tracked.__qualname__ = f"Tracked{base.__name__}"
    return Tracked


def protocol_class(http: str, connections: Connections) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class for `http` (``"httptools"`` or ``"h11"``), filing each
    connection's transport in `connections`."""
    if http == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return _tracked(HttpToolsProtocol, connections)
    if http == "h11":
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return _tracked(H11Protocol, connections)
    raise ValueError(f"http must be 'httptools' or 'h11', not {http!r}")
