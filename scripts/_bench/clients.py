"""The clients under measurement: SDK clients of the benchmark server with the SDK's defaults, their
``query()`` calls, and the floors (raw httpx, aiohttp and urllib3, and httpx2 with ``--httpx2``).

Every call, SDK and floors alike, asks for a different ``user.id`` (one counter), and every floor
decodes its answer with orjson as the SDK does.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import httpx
import orjson
import urllib3

from chalk_client import AsyncChalkClient, ChalkClient

from .profiles import CLIENT_SECRET, QUERY_OUTPUT, QUERY_PATH, USER_ID
from .server import BenchServer

# Every call of every side takes the next id: no two calls of a run ask for the same user, so no
# layer can answer one from another's result. ``next()`` on itertools.count is atomic under the GIL.
_user_ids = itertools.count(1)
_OUTPUTS: Final = list(QUERY_OUTPUT)


def _sdk_default(name: str, fallback: Any) -> Any:
    """The default of ChalkClient's `name` argument, or `fallback` if it has none."""
    parameter = inspect.signature(ChalkClient.__init__).parameters.get(name)
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return fallback
    return parameter.default


def sdk_limits() -> httpx.Limits:
    """The connection limits every side of a comparison uses: the SDK's default."""
    limits = _sdk_default("limits", None)
    return limits if isinstance(limits, httpx.Limits) else httpx.Limits()


def max_connections() -> int:
    """The SDK's default connection limit, which the aiohttp and urllib3 floors use too."""
    return sdk_limits().max_connections or 100


def sdk_timeout() -> httpx.Timeout:
    """The SDK's default timeout, which the floors use too (it sets the pool timeout as well)."""
    timeout = _sdk_default("timeout", None)
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(30.0, connect=5.0)


def client_options(server: BenchServer, client_id: str, **extra: Any) -> dict[str, Any]:
    """Constructor arguments for an SDK client of `server`; ``limits`` only if the SDK accepts it."""
    options: dict[str, Any] = {
        "client_id": client_id,
        "client_secret": CLIENT_SECRET,
        "api_server": server.url,
        **extra,
    }
    if "limits" in inspect.signature(ChalkClient.__init__).parameters:
        options["limits"] = sdk_limits()
    return options


# A call returns (the id it asked for, its answer); `echo` reads the id back out of the answer.
SyncCall = Callable[[], tuple[int, Any] | None]
AsyncCall = Callable[[], Awaitable[tuple[int, Any] | None]]


def sdk_echo(result: Any) -> object:
    """The ``user.id`` an SDK result holds."""
    return result.get_value(USER_ID)


def raw_echo(answer: Any) -> object:
    """The ``user.id`` a decoded raw answer holds (the server puts it first)."""
    return answer["data"][0]["value"]


def sdk_sync_call(client: ChalkClient) -> SyncCall:
    """One SDK query for the next user id."""
    query, output, ids = client.query, QUERY_OUTPUT, _user_ids

    def call() -> tuple[int, Any]:
        user_id = next(ids)
        return user_id, query(input={USER_ID: user_id}, output=output)

    return call


def sdk_async_call(client: AsyncChalkClient) -> AsyncCall:
    """The same, with ``await``."""
    query, output, ids = client.query, QUERY_OUTPUT, _user_ids

    async def call() -> tuple[int, Any]:
        user_id = next(ids)
        return user_id, await query(input={USER_ID: user_id}, output=output)

    return call


@dataclass(frozen=True)
class RawQuery:
    """What every floor sends: the SDK's query JSON (encoded with orjson), with static headers."""

    url: str
    headers: dict[str, str]

    @classmethod
    def for_server(cls, server: BenchServer, client_id: str) -> RawQuery:
        """The request, with a token exchanged once and the routing headers the SDK sends."""
        token = server.raw_token(client_id)
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "X-Chalk-Client-Id": client_id,
            "X-Chalk-Env-Id": "env-1",
            "X-Chalk-Deployment-Type": "engine",
        }
        return cls(server.url + QUERY_PATH, headers)

    @staticmethod
    def _body(user_id: int) -> bytes:
        return orjson.dumps({"inputs": {USER_ID: user_id}, "outputs": _OUTPUTS})

    def httpx_sync(self, http: httpx.Client | Any) -> SyncCall:
        """One raw httpx.Client (or httpx2.Client) query: post, check the status, decode with orjson."""
        url, headers, body, loads, ids = self.url, self.headers, self._body, orjson.loads, _user_ids

        def call() -> tuple[int, Any]:
            user_id = next(ids)
            response = http.post(url, content=body(user_id), headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"raw query answered {response.status_code}")
            return user_id, loads(response.content)

        return call

    def httpx_async(self, http: httpx.AsyncClient) -> AsyncCall:
        """The same with httpx.AsyncClient."""
        url, headers, body, loads, ids = self.url, self.headers, self._body, orjson.loads, _user_ids

        async def call() -> tuple[int, Any]:
            user_id = next(ids)
            response = await http.post(url, content=body(user_id), headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"raw query answered {response.status_code}")
            return user_id, loads(response.content)

        return call

    def aiohttp_call(self, session: aiohttp.ClientSession) -> AsyncCall:
        """The same with one aiohttp.ClientSession."""
        url, headers, body, loads, ids = self.url, self.headers, self._body, orjson.loads, _user_ids

        async def call() -> tuple[int, Any]:
            user_id = next(ids)
            async with session.post(url, data=body(user_id), headers=headers) as response:
                if response.status != 200:
                    raise RuntimeError(f"raw query answered {response.status}")
                content = await response.read()
            return user_id, loads(content)

        return call

    def urllib3_call(self, pool: urllib3.HTTPConnectionPool) -> SyncCall:
        """The same with one urllib3.HTTPConnectionPool (the answer read whole, its connection kept)."""
        path, headers, body, loads, ids = QUERY_PATH, self.headers, self._body, orjson.loads, _user_ids
        pool_timeout: Any = sdk_timeout().pool  # seconds (urllib3's hints say int; a queue takes a float)

        def call() -> tuple[int, Any]:
            user_id = next(ids)
            response = pool.urlopen(
                "POST",
                path,
                body=body(user_id),
                headers=headers,
                retries=False,
                redirect=False,
                pool_timeout=pool_timeout,
            )
            if response.status != 200:
                raise RuntimeError(f"raw query answered {response.status}")
            return user_id, loads(response.data)

        return call


def aiohttp_session() -> aiohttp.ClientSession:
    """The aiohttp floor's session: one connector of the SDK's connection limit, its timeouts."""
    timeout = sdk_timeout()
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections()),
        timeout=aiohttp.ClientTimeout(total=None, connect=timeout.connect, sock_read=timeout.read),
    )


def urllib3_pool(server: BenchServer) -> urllib3.HTTPConnectionPool:
    """The urllib3 floor's pool: the SDK's connection limit, blocking when all are taken."""
    timeout = sdk_timeout()
    return urllib3.HTTPConnectionPool(
        server.host,
        server.port,
        maxsize=max_connections(),
        block=True,
        retries=False,
        timeout=urllib3.Timeout(connect=timeout.connect, read=timeout.read),
    )


def httpcore_transport() -> httpx.HTTPTransport:
    """httpx's own sync transport (httpcore's pool) with the SDK's limits, against the default urllib3 one."""
    return httpx.HTTPTransport(limits=sdk_limits())


def httpx2_client() -> Any:
    """A raw ``httpx2.Client`` (a fork of httpx with its own types) of the SDK's limits and timeout."""
    import httpx2  # only with --httpx2: not a dependency

    limits, timeout = sdk_limits(), sdk_timeout()
    return httpx2.Client(
        limits=httpx2.Limits(
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        ),
        timeout=httpx2.Timeout(timeout.read, connect=timeout.connect, pool=timeout.pool),
    )
