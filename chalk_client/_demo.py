"""``chalk-client demo``: the SDK end to end against a ChalkServer on loopback.

It shows a token exchange, a cached second call that sends nothing, a refresh once the token
enters its refresh buffer, the async client, rejected credentials as a clear error, then the data
plane: who-am-i, an online query routed to the engine, an upload and the query that sees it, an
answer that carries a resolver error, a resolver run, and bad input refused before sending. It
ends with an offline query over 1,000 users: submitted, followed with progress, and read back from
its parquet files.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from chalk_client._cli import describe_result
from chalk_client._client import AsyncChalkClient, ChalkClient
from chalk_client._config import ChalkClientConfig
from chalk_client._errors import (
    ChalkAuthenticationError,
    ChalkInputError,
    ChalkMissingDependencyError,
    ChalkResultError,
)
from chalk_client._token import Token

if TYPE_CHECKING:
    from chalk_client.testing import ChalkServer

__all__ = ["run_demo"]


def _show(token: Token) -> str:
    envs = ", ".join(f"{i} ({n})" for i, n in sorted(token.environment_id_to_name.items()))
    return f"{token!r}\n     environments: {envs}; primary: {token.primary_environment}"


def run_demo(out: TextIO, *, token_lifetime: float = 4.0) -> int:
    """Run the demo, writing to `out`; returns the exit status."""
    from chalk_client.testing import ChalkServer

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    with ChalkServer(token_lifetime=token_lifetime, offline_duration=1.0) as server:
        say(f"ChalkServer on {server.url}, tokens live {token_lifetime:g} s")
        config = ChalkClientConfig.resolve(
            client_id=server.client_id, client_secret=server.client_secret, api_server=server.url
        )
        with ChalkClient(config=config) as client:
            say(f"\n1. {client!r}: the first get_token() exchanges credentials")
            started = time.perf_counter()
            token = client.get_token()
            say(f"   {_show(token)}")
            say(
                f"   took {1000 * (time.perf_counter() - started):.1f} ms; server exchanges: {server.token_exchanges}"
            )

            say("\n2. A second get_token() is served from the cache")
            started = time.perf_counter()
            again = client.get_token()
            micros = 1e6 * (time.perf_counter() - started)
            say(
                f"   same token: {again is token}; took {micros:.1f} us; server exchanges: {server.token_exchanges}"
            )

            # The refresh buffer (60 s by default) is capped at half the lifetime, so a short demo
            # token turns stale halfway through its life.
            wait = token_lifetime / 2 + 0.2
            say(f"\n3. After {wait:.1f} s the token is inside its refresh buffer: one caller refreshes")
            time.sleep(wait)
            refreshed = client.get_token()
            say(
                f"   new token: {refreshed.access_token != token.access_token}; expires {refreshed.expires_at:%H:%M:%S.%f}"
            )
            say(f"   server exchanges: {server.token_exchanges}")

        say("\n4. AsyncChalkClient: 32 tasks at once share one exchange")
        before = server.token_exchanges

        async def many() -> int:
            async with AsyncChalkClient(config=config) as aclient:
                tokens = await asyncio.gather(*(aclient.get_token() for _ in range(32)))
            return len({t.access_token for t in tokens})

        distinct = asyncio.run(many())
        say(f"   distinct tokens: {distinct}; exchanges for 32 tasks: {server.token_exchanges - before}")

        say("\n5. Rejected credentials are a clear, typed error (and the secret is never printed)")
        with ChalkClient(
            client_id=server.client_id, client_secret="not-the-secret", api_server=server.url
        ) as bad:
            try:
                bad.get_token()
            except ChalkAuthenticationError as err:
                say(f"   {type(err).__name__}: {err}")
            else:  # pragma: no cover - the server always rejects a wrong secret
                say("   unexpected: the wrong secret was accepted")
                return 1

        say("\n6. The data plane")
        _data_plane(server, config, say)

        say("\n7. An offline query: a dataset of 1,000 users, built in the background")
        _offline(config, say)
    say("\nDone.")
    return 0


def _data_plane(server: ChalkServer, config: ChalkClientConfig, say: Callable[[str], None]) -> None:
    from chalk_client.testing import FAILING_USER_ID

    outputs = ["user.name", "user.age", "user.credit_score"]
    with ChalkClient(config=config) as client:
        me = client.whoami()
        say(f"   whoami: user {me.user}, team {me.team_id}, environment {me.environment_id}")

        server.clear_requests()
        say("\n   query user.id=1 (include_meta=True):")
        _indent(describe_result(client.query({"user.id": 1}, outputs, include_meta=True)), say)
        served_by = [r.served_by for r in server.requests if r.path == "/v1/query/online"]
        say(f"   served by the {served_by[0]} address ({server.engine_url}), from the token's engines")

        uploaded = client.upload_features({"user.id": [1], "user.name": ["Ada King"]})
        say(f"\n   upload_features: {uploaded.rows} row of {', '.join(uploaded.features)}; then query again:")
        _indent(describe_result(client.query({"user.id": 1}, ["user.name"], include_meta=True)), say)

        say(
            f"\n   query user.id={FAILING_USER_ID}, whose credit-score resolver fails: the error is on the result"
        )
        failing = client.query({"user.id": FAILING_USER_ID}, outputs)
        _indent(describe_result(failing), say)
        try:
            failing.raise_for_errors()
        except ChalkResultError as err:
            say(f"   raise_for_errors(): {type(err).__name__}: {err}")

        run = client.trigger_resolver_run("resolvers.get_credit_score")
        status = client.get_run_status(run.id)
        say(f"\n   trigger_resolver_run: {run.id} {run.status}; get_run_status: {status.status}")

        try:
            client.upload_features({"user.id": [1, 2], "user.name": ["only one"]})
        except ChalkInputError as err:
            say(f"   bad input, refused before sending: {err}")


def _offline(config: ChalkClientConfig, say: Callable[[str], None]) -> None:
    from chalk_client.testing import SEEDED_USER_IDS

    ids = list(SEEDED_USER_IDS)[:1000]
    with ChalkClient(config=config) as client:
        job = client.offline_query(
            {"user.id": ids},
            ["user.name", "user.age", "user.credit_score"],
            dataset_name="demo-training-set",
        )
        say(f"   submitted job {job.job_id} (dataset {job.dataset_name!r}, version {job.version})")
        job.wait(timeout=60, on_progress=lambda status: say(f"   progress: {status.describe()}"))
        urls = job.urls()
        say(f"   finished: {len(urls)} parquet file(s) behind signed URLs")
        try:
            table = job.to_arrow()
        except ChalkMissingDependencyError as err:
            say(f"   {err}")
            return
        say(f"   to_arrow(): {table.num_rows} rows x {table.num_columns} columns; the first rows:")
        for row in table.slice(0, 4).to_pylist():
            say(f"     {row}")


def _indent(text: str, say: Callable[[str], None]) -> None:
    for line in text.rstrip("\n").split("\n"):
        say(f"     {line}")
