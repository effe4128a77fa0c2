"""After os.fork(), parent and child each use their own connections against a real server."""

from __future__ import annotations

import os

import pytest

from chalk_client import ChalkClient
from chalk_client.testing import ChalkServer

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning"),
]


def test_child_opens_its_own_pool_and_parent_keeps_working() -> None:
    with (
        ChalkServer() as server,
        ChalkClient(
            client_id=server.client_id, client_secret=server.client_secret, api_server=server.url
        ) as client,
    ):
        first = client.get_token()  # the parent's pool now holds a kept-alive connection
        parent_http = client._driver.api
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                fresh_pool = client._driver.api is not parent_http
                client.invalidate_token(first)
                token = client.get_token()  # a new exchange, over a new connection
                ok = fresh_pool and token.access_token != first.access_token
                os.write(write_end, b"ok" if ok else b"reused")
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            child_said = pipe.read()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert child_said == b"ok"
        assert client._driver.api is parent_http
        client.invalidate_token(first)
        assert client.get_token().access_token != first.access_token  # the parent's pool still works
        assert server.token_exchanges == 3
