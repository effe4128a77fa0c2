"""A pytest plugin: a fresh :class:`~chalk_client.testing.ChalkServer` per test, and clients connected to it.

The package registers it (entry point ``pytest11``), so with ``chalk-client[testing]`` installed, any
test can ask for these fixtures:

- ``chalk_server``: a :class:`~chalk_client.testing.ChalkServer` started for this test on
  ``127.0.0.1`` and stopped after it. Its keyword arguments come from the ``chalk_server_options``
  fixture (``{}`` unless you override it) and from ``@pytest.mark.chalk_server(...)``, whose
  keywords win (a marker on the function wins over one on its class or module).
- ``chalk_client``: a :class:`~chalk_client.ChalkClient` connected to that server, closed after the
  test.
- ``async_chalk_client``: an :class:`~chalk_client.AsyncChalkClient` connected to that server. It is a
  plain fixture, so it serves ``asyncio.run(...)`` inside a sync test as well as async tests run by
  pytest-asyncio or anyio (asyncio backend); after the test, each connection pool still open is
  closed in its own event loop.
- ``chalk_client_options``: keyword arguments for ``chalk_client`` (``{}`` unless you override it),
  over the fixture's own: ``config`` (the server's credentials and URL) and ``trust_env=False``;
  ``async_chalk_client_options``, the same for ``async_chalk_client`` (by default, the same dict).

Both clients read nothing from the environment: no ``CHALK_*`` variable, no ``~/.chalk.yml``, no
proxy variable, so a developer's settings for the real Chalk never reach the test server.

Loading the plugin imports pytest and ``chalk_client`` (which any importer of this module pays for)
and starts nothing. ``chalk_client.testing`` and uvicorn are imported when a test first asks for
one of the fixtures (pyarrow later still, by the server's first offline query); without the
``testing`` extra, that fixture fails with the ``pip install`` line to run.

Each fixture is function-scoped: every test gets its own server (fresh data, no faults, no tokens),
at the cost of a start and a stop per test (some milliseconds).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chalk_client import AsyncChalkClient, ChalkClient
    from chalk_client.testing import ChalkServer

__all__ = [
    "async_chalk_client_fixture",
    "async_chalk_client_options",
    "chalk_client_fixture",
    "chalk_client_options",
    "chalk_server_fixture",
    "chalk_server_options",
]

MARKER = "chalk_server"
INSTALL_HINT = "pip install 'chalk-client[testing]'"
# How long teardown waits for a pool to close in an event loop that still runs in another thread.
_CLOSE_TIMEOUT = 10.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): keyword arguments for this test's ChalkServer (the chalk_server "
        "fixture), such as token_lifetime=60 or faults=[...]; they override the chalk_server_options "
        "fixture's",
    )


@pytest.fixture
def chalk_server_options() -> dict[str, Any]:
    """Keyword arguments for the ``chalk_server`` fixture's ChalkServer; ``{}`` unless overridden.

    Override it in a conftest.py or a test module for every test there::

        @pytest.fixture
        def chalk_server_options():
            return {"token_lifetime": 60, "offline_duration": 0}

    ``@pytest.mark.chalk_server(...)`` on a test adds to these, and its keywords win.
    """
    return {}


@pytest.fixture
def chalk_client_options() -> dict[str, Any]:
    """Keyword arguments for the ``chalk_client`` fixture's ChalkClient; ``{}`` unless overridden.

    They override the fixture's own (the server's credentials and URL, and ``trust_env=False``).
    ``async_chalk_client`` takes them too, unless ``async_chalk_client_options`` is overridden.
    For example, to fail fast on an injected fault, or to trust the certificate of a server made
    with ``ssl_certfile``::

        @pytest.fixture
        def chalk_client_options():
            return {"max_retries": 0, "verify": "ca.pem"}
    """
    return {}


@pytest.fixture
def async_chalk_client_options(chalk_client_options: Mapping[str, Any]) -> Mapping[str, Any]:
    """Keyword arguments for the ``async_chalk_client`` fixture; those of ``chalk_client_options``.

    Override it when the clients need different ones, such as ``sleep=`` (an async function here).
    """
    return chalk_client_options


@pytest.fixture(name="chalk_server")
def chalk_server_fixture(
    request: pytest.FixtureRequest, chalk_server_options: Mapping[str, Any]
) -> Iterator[ChalkServer]:
    """A ChalkServer on 127.0.0.1, started for this test and stopped after it.

    Its keyword arguments are those of ``chalk_server_options``, updated with those of
    ``@pytest.mark.chalk_server(...)``. Change it while the test runs as any ChalkServer:
    ``chalk_server.faults.fail_next("query_online", status=503)``, ``chalk_server.token_lifetime = 5``,
    ``chalk_server.revoke_tokens()``, ...
    Needs the ``testing`` extra: ``pip install 'chalk-client[testing]'``.
    """
    options = _server_options(request, chalk_server_options)
    server_class = _server_class()
    with server_class(**options) as server:
        yield server


@pytest.fixture(name="chalk_client")
def chalk_client_fixture(
    chalk_server: ChalkServer, chalk_client_options: Mapping[str, Any]
) -> Iterator[ChalkClient]:
    """A ChalkClient connected to ``chalk_server``, closed after the test.

    It reads no ``CHALK_*`` variable, no ``~/.chalk.yml`` and no proxy variable;
    ``chalk_client_options`` adds or overrides its keyword arguments.
    """
    from chalk_client import ChalkClient

    with ChalkClient(**_client_kwargs(chalk_server, chalk_client_options, "chalk_client_options")) as client:
        yield client


@pytest.fixture(name="async_chalk_client")
def async_chalk_client_fixture(
    chalk_server: ChalkServer, async_chalk_client_options: Mapping[str, Any]
) -> Iterator[AsyncChalkClient]:
    """An AsyncChalkClient connected to ``chalk_server``; its pools are closed after the test.

    A plain (not async) fixture: an AsyncChalkClient keeps one connection pool per event loop, so
    the same client serves an ``asyncio.run(...)`` in a sync test, or an async test under
    pytest-asyncio or anyio's plugin (with the asyncio backend). After the test, a pool whose loop
    is still open is closed in that loop (a pool of a loop that ``asyncio.run`` ended was closed
    with it), then ``aclose()`` runs in a fresh loop. It reads no ``CHALK_*`` variable, no
    ``~/.chalk.yml`` and no proxy variable; ``async_chalk_client_options`` (by default
    ``chalk_client_options``) adds or overrides its keyword arguments.
    """
    from chalk_client import AsyncChalkClient

    client = AsyncChalkClient(
        **_client_kwargs(chalk_server, async_chalk_client_options, "async_chalk_client_options")
    )
    try:
        yield client
    finally:
        _close_async_client(client)


def _server_options(request: pytest.FixtureRequest, base: Mapping[str, Any]) -> dict[str, Any]:
    """``chalk_server_options`` updated by the test's markers, the farthest first (the closest wins)."""
    if not isinstance(base, Mapping):
        pytest.fail(
            f"the chalk_server_options fixture must return a dict of ChalkServer keyword arguments, "
            f"not {type(base).__name__}",
            pytrace=False,
        )
    options = dict(base)
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        if marker.args:
            pytest.fail(
                f"@pytest.mark.{MARKER} takes ChalkServer keyword arguments only, such as "
                f"token_lifetime=60; got positional {marker.args!r}",
                pytrace=False,
            )
        options.update(marker.kwargs)
    return options


def _server_class() -> type[ChalkServer]:
    """ChalkServer, imported now; without the testing extra, the test fails naming it."""
    try:
        from chalk_client.testing import ChalkServer
    except ImportError as exc:
        missing = _missing_module(exc)
        what = f"{missing}, which is not installed" if missing else f"a module that did not import ({exc})"
        pytest.fail(
            f"the chalk_server fixture needs the 'testing' extra of chalk-client ({what}): {INSTALL_HINT}",
            pytrace=False,
        )
    return ChalkServer


def _missing_module(exc: BaseException) -> str | None:
    """The name of the module whose absence caused `exc` (chalk_client.testing chains it)."""
    seen: BaseException | None = exc
    for _ in range(10):  # a chain is short; this also ends a cyclic one
        if seen is None:
            break
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            return seen.name.partition(".")[0]
        seen = seen.__cause__ or seen.__context__
    return None


def _client_kwargs(server: ChalkServer, options: Mapping[str, Any], fixture: str) -> dict[str, Any]:
    """The server's credentials and URL as a config read from no other source, then `options`."""
    if not isinstance(options, Mapping):
        pytest.fail(
            f"the {fixture} fixture must return a dict of client keyword arguments, "
            f"not {type(options).__name__}",
            pytrace=False,
        )
    from chalk_client import ChalkClientConfig

    # with_options() checks the values as resolve() does, but reads no variable and no login file.
    config = ChalkClientConfig().with_options(
        client_id=server.client_id, client_secret=server.client_secret, api_server=server.url
    )
    kwargs: dict[str, Any] = {"config": config, "trust_env": False}
    kwargs.update(options)
    return kwargs


def _close_async_client(client: AsyncChalkClient) -> None:
    """Close each pool in the loop that opened it, if that loop is still open; then ``aclose()``.

    ``aclose()`` closes only the running loop's pools; a pool of a loop that is closed was closed by
    that loop's shutdown (``asyncio.run`` closes async generators first), but one whose loop is
    still open (a loop the test made and left open, or pytest-asyncio's loop when it outlives this
    fixture) must be closed there: its connections belong to that loop.
    """
    import asyncio

    from chalk_client._io.pools import PerLoopAsyncClient

    pools: list[PerLoopAsyncClient] = []
    driver = getattr(client, "_driver", None)
    for name in ("api", "engine"):
        pool = getattr(driver, name, None)
        if isinstance(pool, PerLoopAsyncClient) and all(pool is not p for p in pools):
            pools.append(pool)
    for pool in pools:
        loop = pool._loop
        if loop is None or loop.is_closed():
            continue
        if not loop.is_running():
            loop.run_until_complete(pool.aclose())
        elif not _runs_here(loop):  # a loop running in another thread
            asyncio.run_coroutine_threadsafe(pool.aclose(), loop).result(_CLOSE_TIMEOUT)
    if _runs_here(None):
        return  # inside a running loop (not pytest's usual case): no fresh loop can run here
    # A fresh loop, not asyncio.run(): that would also unset the thread's current event loop.
    fresh = asyncio.new_event_loop()
    try:
        fresh.run_until_complete(client.aclose())
    finally:
        fresh.close()


def _runs_here(loop: object) -> bool:
    """Whether `loop` (None: any loop) is running in this thread."""
    import asyncio

    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return False
    return loop is None or running is loop
