"""Serving an app with uvicorn from a background thread, on two sockets bound beforehand.

The listening sockets are created and bound here (:func:`bind`), before uvicorn starts, so the ports
are known at once and a bind failure is raised in the caller's thread. uvicorn runs
``Server.serve`` on its own asyncio loop in a daemon thread; it installs no signal handlers there
(:class:`UvicornServer` makes sure), and stopping (:meth:`Running.stop`, which
:meth:`~chalk_client.testing.ChalkServer.stop` calls) wakes its main loop instead of waiting for the
next tick.

With TLS settings (:class:`~chalk_client.testing._tls.TLSSettings`), both addresses serve TLS:
uvicorn wraps each listening socket with one server context, and asyncio's TLS transport sits under
the same HTTP protocol classes, so the faults that drop or garble connections work over TLS as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Generator
from typing import Final

import uvicorn

from chalk_client.testing._http import App
from chalk_client.testing._tls import TLSSettings

__all__ = ["HOST", "Running", "UvicornServer", "bind"]

HOST: Final = "127.0.0.1"
_START_TIMEOUT: Final = 10.0
_STOP_TIMEOUT: Final = 10.0
# uvicorn's own grace period for requests still running at shutdown; below _STOP_TIMEOUT.
_GRACEFUL_SHUTDOWN: Final = 3
# Idle keep-alive connections stay open this long: longer than uvicorn's default of 5 s, so a
# client's pooled connection is rarely closed under it between two calls of a slow test.
_KEEP_ALIVE: Final = 30


class UvicornServer(uvicorn.Server):
    """``uvicorn.Server`` for a background thread: no signal handlers, and a prompt exit on request."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Signals belong to the application that embeds the server, not to the server.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await super().startup(sockets=sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        # uvicorn's loop sleeps 0.1 s between ticks; this one also wakes as soon as exit is asked.
        wake = self._wake
        assert wake is not None
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.config.is_ssl:
            # An idle TLS connection that uvicorn closes waits for the client's close_notify, which a
            # client with the connection parked in its pool never sends: uvicorn would wait out its
            # grace period, then leave the transport open. A test server aborts idle ones instead.
            for connection in list(self.server_state.connections):
                cycle = getattr(connection, "cycle", None)
                transport = getattr(connection, "transport", None)
                if transport is not None and (cycle is None or getattr(cycle, "response_complete", False)):
                    transport.abort()
        await super().shutdown(sockets=sockets)
        for connection in list(self.server_state.connections):  # whatever outlived the grace period
            transport = getattr(connection, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.abort()

    def request_exit(self, *, force: bool = False) -> None:
        """Ask the serving thread to shut down (any thread may call this)."""
        self.should_exit = True
        if force:
            self.force_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(wake.set)


def bind(port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket's proto says TCP; with proto 0, Nagle delays each answer by ~40 ms.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"ChalkServer could not listen on {HOST}:{port}: {exc}") from exc
    return sock


class Running:
    """One run of the server: the bound sockets, uvicorn, and the thread serving them."""

    def __init__(
        self,
        app: App,
        api_sock: socket.socket,
        engine_sock: socket.socket,
        http: str | type[asyncio.Protocol],
        tls: TLSSettings | None = None,
    ) -> None:
        self.sockets = [api_sock, engine_sock]
        self.port: int = api_sock.getsockname()[1]
        self.engine_port: int = engine_sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            host=HOST,
            port=self.port,
            http=http,
            ws="none",
            lifespan="off",
            interface="asgi3",
            log_config=None,  # leave the application's logging configuration alone
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_keep_alive=_KEEP_ALIVE,
            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN,
            ssl_certfile=tls.certfile if tls is not None else None,
            ssl_keyfile=tls.keyfile if tls is not None else None,
            ssl_ca_certs=tls.ca_certs if tls is not None else None,
            ssl_cert_reqs=tls.cert_reqs if tls is not None else ssl.CERT_NONE,
        )
        self.server = UvicornServer(config)
        self.error: BaseException | None = None
        name = f"ChalkServer {HOST}:{self.port}+{self.engine_port}"
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def _serve(self) -> None:
        try:
            self.server.run(sockets=self.sockets)
        except BaseException as exc:  # uvicorn reports some failures with sys.exit()
            self.error = exc
        finally:
            self.server.ready.set()

    def start(self) -> None:
        self.thread.start()
        ready = self.server.ready.wait(_START_TIMEOUT)
        if ready and self.server.started and self.error is None:
            return
        self.stop()
        reason = f"it did not start within {_START_TIMEOUT} s" if not ready else "it failed to start"
        raise RuntimeError(f"ChalkServer on {HOST}:{self.port}: {reason}") from self.error

    def stop(self) -> None:
        self.server.request_exit()
        self.thread.join(_STOP_TIMEOUT)
        if self.thread.is_alive():
            self.server.request_exit(force=True)
            self.thread.join(_STOP_TIMEOUT)
        for sock in self.sockets:
            sock.close()  # uvicorn closes them too; closing twice is harmless
        if self.thread.is_alive():
            raise RuntimeError(f"ChalkServer on {HOST}:{self.port} did not stop")
