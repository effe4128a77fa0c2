"""One AsyncChalkClient across successive event loops, against a real server with kept-alive connections."""

from __future__ import annotations

import asyncio
import gc

from chalk_client import AsyncChalkClient
from chalk_client.testing import ChalkServer


def test_successive_asyncio_runs_each_get_a_working_pool_and_leak_nothing() -> None:
    with ChalkServer() as server:
        client = AsyncChalkClient(
            client_id=server.client_id, client_secret=server.client_secret, api_server=server.url
        )
        tokens = []
        for _ in range(3):
            # Each loop exchanges over its own kept-alive connection; the previous loop's pool
            # was closed as that loop shut down (an unclosed one fails this test: warnings are errors).
            token = asyncio.run(client.get_token())
            tokens.append(token)
            assert client.invalidate_token(token)
        asyncio.run(client.aclose())
        del client
        gc.collect()
        assert server.token_exchanges == 3
        assert len({t.access_token for t in tokens}) == 3
