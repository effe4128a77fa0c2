"""``chalk-client demo``: the SDK end to end against a ChalkServer on loopback, told as a story.

It opens with what Chalk is, then asks for features and shows their values, where they were served,
a write and the read that sees it, how errors look (a failing resolver, bad input, wrong
credentials), a resolver run, a bulk query of 1,000 users (timed against 1,000 single queries), a
multi-query, and an offline query over 1,000 users (submitted, followed with
progress, read back from its parquet files). It ends with what the client does for you: one token
exchange however many callers, cached tokens, and a refresh before expiry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from chalk_client import (
    AsyncChalkClient,
    ChalkAuthenticationError,
    ChalkClient,
    ChalkClientConfig,
    ChalkInputError,
    ChalkMissingDependencyError,
    ChalkResultError,
    Token,
)
from chalk_client._cli.format import describe_result

if TYPE_CHECKING:
    from chalk_client.testing import ChalkServer

__all__ = ["run_demo"]

_INTRO = """\
Chalk is a feature store. A feature is a named value about an entity, such as user.credit_score for
the user with user.id 1; a resolver is the function that computes it, and Chalk's query engine runs
the resolvers and serves the values: online, one entity at a time, or offline, as datasets."""


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
        say(_INTRO)
        say(f"\nThis demo runs against ChalkServer, a Chalk-compatible server on {server.url}.")
        config = ChalkClientConfig.resolve(
            client_id=server.client_id, client_secret=server.client_secret, api_server=server.url
        )

        _data_plane(server, config, say)

        say("\n5. Wrong credentials are a clear, typed error (and the secret is never printed)")
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

        say("\n6. Many rows at once: 1,000 users in one bulk query, over Arrow")
        _bulk(config, say)

        say("\n7. An offline query: a dataset of 1,000 users, built in the background")
        _offline(config, say)

        say("\n8. What the client does for you: tokens")
        if not _tokens(server, config, token_lifetime, say):
            return 1
    say("\nDone.")
    return 0


def _tokens(
    server: ChalkServer, config: ChalkClientConfig, token_lifetime: float, say: Callable[[str], None]
) -> bool:
    """Token caching and refresh, as the last part of the story."""
    server.faults.revoke_current_token()  # start from a fresh exchange, so the counts below are plain
    before = server.token_exchanges
    with ChalkClient(config=config) as client:
        say("   Every call needs an access token, exchanged for the client id and secret:")
        started = time.perf_counter()
        token = client.get_token()
        say(f"   {_show(token)}")
        say(f"   the exchange took {1000 * (time.perf_counter() - started):.1f} ms")
        started = time.perf_counter()
        again = client.get_token()
        micros = 1e6 * (time.perf_counter() - started)
        say(f"   the next call reuses it from the cache: same token {again is token}, {micros:.1f} us")
        # The refresh buffer (60 s by default) is capped at half the lifetime, so a short demo
        # token turns stale halfway through its life.
        wait = token_lifetime / 2 + 0.2
        say(
            f"   {wait:.1f} s later it is inside its refresh buffer, and one caller refreshes it before it expires:"
        )
        time.sleep(wait)
        refreshed = client.get_token()
        say(
            f"   new token {refreshed.access_token != token.access_token}, expires {refreshed.expires_at:%H:%M:%S}"
        )
    say(f"   exchanges so far: {server.token_exchanges - before}")

    async def many() -> int:
        async with AsyncChalkClient(config=config) as aclient:
            results = await asyncio.gather(
                *(aclient.query({"user.id": i}, ["user.name"]) for i in range(1, 33))
            )
            return len(results)

    before = server.token_exchanges
    answered = asyncio.run(many())
    say(
        f"   AsyncChalkClient: {answered} queries in flight at once shared "
        f"{server.token_exchanges - before} exchange"
    )
    return True


def _data_plane(server: ChalkServer, config: ChalkClientConfig, say: Callable[[str], None]) -> None:
    from chalk_client.testing import FAILING_USER_ID

    outputs = ["user.name", "user.age", "user.credit_score"]
    with ChalkClient(config=config) as client:
        server.clear_requests()
        say(f"\n1. Ask for three features of user 1: client.query({{'user.id': 1}}, {outputs})")
        _indent(describe_result(client.query({"user.id": 1}, outputs, include_meta=True)), say)
        served_by = [r.served_by for r in server.requests if r.operation == "query_online"]
        say(
            f"   (each value names its resolver; the query went to the {served_by[0]} address the token names)"
        )
        me = client.whoami()
        say(f"   who am I: user {me.user}, team {me.team_id}, environment {me.environment_id}")

        say("\n2. Write a value, then read it back")
        uploaded = client.upload_features({"user.id": [1], "user.name": ["Ada King"]})
        say(
            f"   upload_features: {uploaded.rows} row of {', '.join(uploaded.features)}; the next query sees it:"
        )
        _indent(describe_result(client.query({"user.id": 1}, ["user.name"], include_meta=True)), say)

        say("\n3. When a resolver fails, the error is on the result, beside the values that worked")
        say(f"   user {FAILING_USER_ID}'s credit-score resolver fails:")
        failing = client.query({"user.id": FAILING_USER_ID}, outputs)
        _indent(describe_result(failing), say)
        try:
            failing.raise_for_errors()
        except ChalkResultError as err:
            say(f"   raise_for_errors() turns it into an exception: {type(err).__name__}: {err}")
        try:
            client.upload_features({"user.id": [1, 2], "user.name": ["only one"]})
        except ChalkInputError as err:
            say(f"   bad input is refused before anything is sent: {err}")

        say("\n4. Resolvers can also run on a schedule or on demand")
        run = client.trigger_resolver_run("resolvers.get_credit_score")
        status = client.get_run_status(run.id)
        say(f"   trigger_resolver_run: {run.id} {run.status}; get_run_status: {status.status}")


def _bulk(config: ChalkClientConfig, say: Callable[[str], None]) -> None:
    from chalk_client import BulkQuery
    from chalk_client.testing import FAILING_USER_ID, SEEDED_USER_IDS

    ids = list(SEEDED_USER_IDS)[:1000]
    outputs = ["user.name", "user.age", "user.credit_score"]
    with ChalkClient(config=config) as client:
        try:  # a first small one loads pyarrow (in the client and the server) before the clock starts
            client.query_bulk({"user.id": [1]}, outputs)
        except ChalkMissingDependencyError as err:
            say(f"   {err}")
            return
        say(f"   client.query_bulk({{'user.id': [1, ..., 1000]}}, {outputs})")
        started = time.perf_counter()
        result = client.query_bulk({"user.id": ids}, outputs)
        bulk = time.perf_counter() - started
        started = time.perf_counter()
        for user_id in ids:
            client.query({"user.id": user_id}, outputs)
        single = time.perf_counter() - started
        table = result.to_arrow()
        say(
            f"   {len(result)} rows x {table.num_columns} columns in {1000 * bulk:.0f} ms; the same 1,000 "
            f"users one query() at a time took {1000 * single:.0f} ms ({single / bulk:.0f}x longer)"
        )
        types = ", ".join(f"{field.name}: {field.type}" for field in table.schema)
        say(f"   the server's Arrow columns, as they came: {types}")
        for row in table.slice(0, 2).drop_columns(["__ts__"]).to_pylist():
            say(f"     {row}")
        say(
            f"   errors are returned, not raised: {[f'{e.code} for user {e.primary_key}' for e in result.errors]}"
        )
        say(f"   (user {FAILING_USER_ID}'s credit-score resolver failed; its value is null)")

        first, second = client.multi_query(
            [
                BulkQuery(input={"user.id": [1, 2, 3]}, output=["user.transactions"]),
                BulkQuery(input={"user.id": [4]}, output=["user.age", "user.shoe_size"]),
            ]
        )
        transactions = first.groups["user.transactions"]
        say(
            f"   multi_query, two queries in one request: the first's has-many user.transactions "
            f"came back as its own table ({transactions.num_rows} rows); the second answered "
            f"user.age = {second.to_arrow().column('user.age')[0].as_py()} beside its own error, "
            f"{second.errors[0].code} for {second.errors[0].feature}"
        )


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
