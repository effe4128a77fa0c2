"""ChalkServer: the Chalk API on a loopback port, served by uvicorn from a background thread.

The listening socket is created and bound here, before uvicorn starts, so the port is known at once
and a bind failure is raised in the caller's thread. uvicorn runs ``Server.serve`` on its own asyncio
loop in a daemon thread; it installs no signal handlers there (:class:`_UvicornServer` makes sure),
and :meth:`ChalkServer.stop` wakes its main loop instead of waiting for the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import secrets
import socket
import threading
import time
from collections.abc import Callable, Generator, Mapping
from types import TracebackType
from typing import Final

import uvicorn

from chalk_client.testing._auth import TokenService
from chalk_client.testing._http import App, Router

__all__ = ["ChalkServer"]

_HOST: Final = "127.0.0.1"
_START_TIMEOUT: Final = 10.0
_STOP_TIMEOUT: Final = 10.0
# uvicorn's own grace period for requests still running at shutdown; below _STOP_TIMEOUT.
_GRACEFUL_SHUTDOWN: Final = 3
# Idle keep-alive connections stay open this long: longer than uvicorn's default of 5 s, so a
# client's pooled connection is rarely closed under it between two calls of a slow test.
_KEEP_ALIVE: Final = 30
_HTTP_IMPL: Final = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
_DEFAULT_ENVIRONMENTS: Final = {"env-dev-1": "dev", "env-prod-1": "prod"}


class _UvicornServer(uvicorn.Server):
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

    def request_exit(self, *, force: bool = False) -> None:
        """Ask the serving thread to shut down (any thread may call this)."""
        self.should_exit = True
        if force:
            self.force_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(wake.set)


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket's proto says TCP; with proto 0, Nagle delays each answer by ~40 ms.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((_HOST, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"ChalkServer could not listen on {_HOST}:{port}: {exc}") from exc
    return sock


class _Running:
    """One run of the server: the bound socket, uvicorn, and the thread serving it."""

    def __init__(self, app: App, sock: socket.socket) -> None:
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            host=_HOST,
            port=self.port,
            http=_HTTP_IMPL,
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
        )
        self.server = _UvicornServer(config)
        self.error: BaseException | None = None
        name = f"ChalkServer {_HOST}:{self.port}"
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def _serve(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
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
        raise RuntimeError(f"ChalkServer on {_HOST}:{self.port}: {reason}") from self.error

    def stop(self) -> None:
        self.server.request_exit()
        self.thread.join(_STOP_TIMEOUT)
        if self.thread.is_alive():
            self.server.request_exit(force=True)
            self.thread.join(_STOP_TIMEOUT)
        self.sock.close()  # uvicorn closes it too; closing twice is harmless
        if self.thread.is_alive():
            raise RuntimeError(f"ChalkServer on {_HOST}:{self.port} did not stop")


class ChalkServer:
    """A Chalk-compatible API server on ``127.0.0.1``, for demos, tests and benchmarks.

    It serves the API that ``openapi/chalk.yaml`` describes from a background thread, with real
    HTTP/1.1 (keep-alive included), so the SDK talks to it exactly as it talks to Chalk::

        with ChalkServer() as server:
            client = ChalkClient(client_id=server.client_id, client_secret=server.client_secret,
                                 api_server=server.url)

    Args:
        token_lifetime: Seconds an issued token is valid for (settable later).
        client_id: The client id it accepts; a random one by default.
        client_secret: The client secret it accepts; a random one by default.
        port: The port to listen on; 0 picks a free one.
        environments: Environment id to name; the first is the tokens' primary environment.
            Defaults to ``{"env-dev-1": "dev", "env-prod-1": "prod"}``.
        clock: The server's time source (Unix seconds) for issuing and checking tokens; tests pass a
            fake clock to expire tokens without waiting.
    """

    def __init__(
        self,
        *,
        token_lifetime: float = 3600,
        client_id: str | None = None,
        client_secret: str | None = None,
        port: int = 0,
        environments: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int in 0..65535, not {port!r}")
        environments = dict(_DEFAULT_ENVIRONMENTS if environments is None else environments)
        if not environments:
            raise ValueError("environments must name at least one environment")
        self._port = port
        self._auth = TokenService(
            client_id=client_id if client_id is not None else secrets.token_urlsafe(12),
            client_secret=client_secret if client_secret is not None else secrets.token_urlsafe(32),
            environments=environments,
            token_lifetime=token_lifetime,
            clock=clock,
        )
        router = Router()
        router.add("POST", "/v1/oauth/token", self._auth.exchange)
        self._app = App(router)
        self._lifecycle = threading.Lock()
        self._running: _Running | None = None
        self._url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ChalkServer:
        """Bind the port and serve from a background thread; returns once it accepts requests.

        Raises:
            RuntimeError: It is already running, the port could not be bound, or it did not start.
        """
        with self._lifecycle:
            if self._running is not None:
                raise RuntimeError(f"{self!r} is already running")
            sock = _bind(self._port)
            try:
                running = _Running(self._app, sock)
                url = f"http://{_HOST}:{running.port}"
                self._auth.set_addresses(
                    api_server=url, engine_url=url, grpc_address=f"{_HOST}:{running.port}"
                )
                running.start()
            except BaseException:
                sock.close()
                raise
            self._running = running
            self._url = url
        return self

    def stop(self) -> None:
        """Stop serving and release the port; does nothing when it is not running.

        Open connections are closed; requests still running get a few seconds to finish.
        """
        with self._lifecycle:
            running, self._running = self._running, None
            if running is not None:
                running.stop()

    def __enter__(self) -> ChalkServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what it accepts and what it did -----------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, the API server's address (known once started)."""
        if self._url is None:
            raise RuntimeError("ChalkServer has not been started: call start() or use it in a with block")
        return self._url

    @property
    def client_id(self) -> str:
        """The client id it accepts."""
        return self._auth.client_id

    @property
    def client_secret(self) -> str:
        """The client secret it accepts."""
        return self._auth.client_secret

    @property
    def token_lifetime(self) -> float:
        """Seconds a newly issued token is valid for; setting it affects later exchanges only."""
        return self._auth.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, value: float) -> None:
        self._auth.token_lifetime = value

    @property
    def token_exchanges(self) -> int:
        """How many token exchanges it answered with a token."""
        return self._auth.exchanges

    @property
    def token_requests(self) -> int:
        """How many requests its token endpoint handled, accepted or rejected."""
        return self._auth.requests

    def is_valid_token(self, token: str) -> bool:
        """Whether `token` was issued by this server, is not revoked, and has not expired by its clock."""
        return self._auth.issuer.is_valid(token)

    def revoke_tokens(self) -> None:
        """Make every token issued so far invalid; later exchanges issue valid ones again."""
        self._auth.issuer.revoke_all()

    def __repr__(self) -> str:
        # Never the secret, never a token.
        where = self._url if self._running is not None else "stopped"
        return f"<ChalkServer {where} client_id={self.client_id!r}>"
