"""Lifecycles as Python users expect: unclosed clients warn, async close(), the sync client in a loop,
and the permissions of files the SDK writes."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalk_client import AsyncChalkClient, ChalkClient
from chalk_client.testing import ChalkServer


@pytest.fixture(scope="module")
def server() -> Iterator[ChalkServer]:
    with ChalkServer(offline_duration=0) as running:
        yield running


def kwargs(server: ChalkServer) -> dict[str, Any]:
    return {"client_id": server.client_id, "client_secret": server.client_secret, "api_server": server.url}


def collected_warnings(drop: Any) -> list[warnings.WarningMessage]:
    """Run `drop` (which lets go of a client) and collect, with every warning recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drop()
        gc.collect()
    return [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_a_sync_client_that_sent_and_was_never_closed_warns(server: ChalkServer) -> None:
    holder = [ChalkClient(**kwargs(server))]
    holder[0].whoami()
    found = collected_warnings(holder.clear)
    assert len(found) == 1
    message = str(found[0].message)
    assert "unclosed <ChalkClient" in message
    assert "close()" in message
    assert server.client_secret not in message


def test_a_closed_or_unused_sync_client_does_not_warn(server: ChalkServer) -> None:
    unused = [ChalkClient(**kwargs(server))]
    assert collected_warnings(unused.clear) == []
    with ChalkClient(**kwargs(server)) as client:
        client.whoami()
    closed = [client]
    assert collected_warnings(closed.clear) == []


def test_an_async_client_dropped_while_its_loop_runs_warns(server: ChalkServer) -> None:
    async def main() -> list[warnings.WarningMessage]:
        holder = [AsyncChalkClient(**kwargs(server))]
        await holder[0].whoami()
        return collected_warnings(holder.clear)

    # aiohttp warns about its session too, as it is collected with the client.
    found = [w for w in asyncio.run(main()) if "AsyncChalkClient" in str(w.message)]
    assert len(found) == 1
    assert "unclosed <AsyncChalkClient" in str(found[0].message)
    assert "aclose()" in str(found[0].message)


def test_an_async_client_whose_loop_ended_or_that_was_closed_does_not_warn(server: ChalkServer) -> None:
    client = AsyncChalkClient(**kwargs(server))

    async def use() -> None:
        await client.whoami()

    asyncio.run(use())  # the loop's end closed the pool it opened
    holder = [client]
    assert collected_warnings(holder.clear) == []

    async def closed() -> list[warnings.WarningMessage]:
        other = [AsyncChalkClient(**kwargs(server))]
        await other[0].whoami()
        await other[0].close()  # close() is a coroutine alias of aclose()
        return collected_warnings(other.clear)

    assert asyncio.run(closed()) == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_forked_child_never_warns_about_a_client_it_inherited(server: ChalkServer) -> None:
    holder = [ChalkClient(**kwargs(server))]
    holder[0].whoami()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            found = collected_warnings(holder.clear)
            os.write(write_end, b"none" if not found else b"warned")
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        said = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert said == b"none"
    holder[0].close()


def test_the_sync_client_in_a_running_loop_logs_one_warning_per_client(
    server: ChalkServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        with ChalkClient(**kwargs(server)) as client:
            client.whoami()
            client.whoami()

    with caplog.at_level(logging.WARNING, logger="chalk_client"):
        asyncio.run(main())
        with ChalkClient(**kwargs(server)) as outside:
            outside.whoami()  # no loop here: no warning
    found = [r for r in caplog.records if "running event loop" in r.getMessage()]
    assert len(found) == 1
    assert "AsyncChalkClient" in found[0].getMessage()


def _umask() -> int:
    current = os.umask(0o022)  # read it (single-threaded here), then put it back
    os.umask(current)
    return current


def test_downloaded_files_get_the_usual_permissions(server: ChalkServer, tmp_path: Path) -> None:
    mask = _umask()
    with ChalkClient(**kwargs(server)) as client:
        job = client.offline_query({"user.id": [1, 2, 3]}, ["user.name"], wait=True, timeout=30)
        files = job.download(tmp_path)
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_calls_after_close_raise_the_same_typed_error_on_both_clients(server: ChalkServer) -> None:
    from chalk_client import ChalkClientClosedError

    with ChalkClient(**kwargs(server)) as client:
        client.whoami()
    with pytest.raises(ChalkClientClosedError, match="ChalkClient is closed"):
        client.whoami()
    client.invalidate_token(client.get_token())
    with pytest.raises(ChalkClientClosedError):
        client.get_token()  # no exchange either

    async def main() -> None:
        async with AsyncChalkClient(**kwargs(server)) as aclient:
            await aclient.whoami()
        with pytest.raises(ChalkClientClosedError, match="AsyncChalkClient is closed"):
            await aclient.whoami()
        aclient.invalidate_token(await aclient.get_token())
        with pytest.raises(ChalkClientClosedError):
            await aclient.get_token()

    requests = len(server.requests)
    asyncio.run(main())
    # After close, nothing more reached the server: one token exchange and one who-am-i.
    assert len(server.requests) == requests + 2
    # ... and a closed async client stays closed in a later event loop too.
    closed = AsyncChalkClient(**kwargs(server))
    asyncio.run(closed.aclose())
    with pytest.raises(ChalkClientClosedError):
        asyncio.run(closed.whoami())
