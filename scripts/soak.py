"""A bounded soak: one ChalkClient shared by 64 threads and one AsyncChalkClient shared by 256 tasks,
querying and uploading against a ChalkServer that injects random faults while its tokens expire every
few seconds. Run it as ``scripts/soak [--seconds 60]``.

It prints calls made, calls failed by kind, token exchanges against the fewest possible, uploads
acknowledged against rows stored, and RSS at the start and end. It exits 1 when an invariant breaks:
an error that is not one of the SDK's documented ones, rows lost or stored twice, or RSS that grew.

Uploads write rows of fresh user ids. An upload the client saw succeed must be stored; one that failed
with "may or may not have reached the server" (the server stored it, then dropped the connection)
may be; none may be stored twice, since the SDK never retries an upload that could have arrived.
So ``acknowledged <= stored <= acknowledged + ambiguous`` must hold.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import math
import random
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from chalk_client import AsyncChalkClient, ChalkClient, ChalkSDKError
from chalk_client.testing import ChalkServer

THREADS = 64
TASKS = 256
TOKEN_LIFETIME = 8.0  # seconds: the token expires every few seconds (the clients refresh at half-life)
UPLOAD_SHARE = 0.1  # the rest are online queries
OUTPUTS = ["user.name", "user.age", "user.credit_score"]
MAX_CALLS_PER_WORKER = 100_000  # a bound on every loop besides the deadline
RSS_GROWTH_LIMIT = 0.15  # RSS at the end may exceed RSS after warm-up by this fraction at most
AMBIGUOUS = "may or may not have reached the server"


def rss_mib() -> float:
    """The resident set size of this process, in MiB (Linux); NaN elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


class Tally:
    """What the workers did, counted under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: collections.Counter[str] = collections.Counter()
        self.failures: collections.Counter[str] = collections.Counter()
        self.undocumented: list[str] = []
        self.samples: collections.defaultdict[str, list[str]] = collections.defaultdict(list)
        self.rows_acknowledged = 0
        self.rows_ambiguous = 0
        self.rows_failed_unsent = 0
        self.ids = itertools.count(2_000_000)

    def next_id(self) -> int:
        with self.lock:
            return next(self.ids)

    def record(self, kind: str, error: BaseException | None, rows: int = 0) -> None:
        with self.lock:
            self.calls[kind] += 1
            if error is None:
                if kind == "upload":
                    self.rows_acknowledged += rows
                return
            name = type(error).__name__
            if len(self.samples[name]) < 2:
                self.samples[name].append(f"{kind}: {error}")
            if not isinstance(error, ChalkSDKError):
                self.undocumented.append(f"{kind}: {name}: {error}")
                name = "UNDOCUMENTED " + name
            self.failures[f"{kind}: {name}"] += 1
            if kind == "upload":
                if AMBIGUOUS in str(error):
                    self.rows_ambiguous += rows
                else:
                    self.rows_failed_unsent += rows


def inject_faults(server: ChalkServer, deadline: float, stop: threading.Event, rand: random.Random) -> int:
    """Add a random fault every ~0.3 s until `deadline`; returns how many token revocations it made."""
    revocations = 0
    faults: list[tuple[str, Callable[[], Any]]] = [
        ("503 x2 on queries", lambda: server.faults.fail_next("query_online", 2, status=503)),
        ("500 on an upload", lambda: server.faults.fail_next("upload_features", 1, status=500)),
        ("429 Retry-After 0.2", lambda: server.faults.rate_limit("query_online", retry_after=0.2)),
        ("delay 0.3 s", lambda: server.faults.delay("query_online", 0.3, count=3)),
        ("drop before answering", lambda: server.faults.drop("query_online", "before")),
        ("drop mid-body", lambda: server.faults.drop("query_online", "mid_body")),
        ("drop an upload before", lambda: server.faults.drop("upload_features", "before")),
        ("drop an upload after storing", lambda: server.faults.drop("upload_features", "after_store")),
        ("invalid JSON", lambda: server.faults.add(_fault("invalid_json", "query_online"))),
        ("an HTML page", lambda: server.faults.add(_fault("html_page", "query_online"))),
    ]
    while not stop.wait(rand.uniform(0.15, 0.45)) and time.monotonic() < deadline:
        server.clear_requests()  # the server's request log is not the SDK's memory: keep it small
        roll = rand.random()
        if roll < 0.04:
            server.faults.revoke_current_token()
            revocations += 1
        elif roll < 0.08:
            server.faults.token_endpoint_down()
            stop.wait(0.3)
            server.faults.token_endpoint_up()
        else:
            rand.choice(faults)[1]()
    server.faults.clear()
    return revocations


def _fault(kind: str, endpoint: str) -> Any:
    from chalk_client.testing import Fault

    return getattr(Fault, kind)(endpoint)


def thread_worker(client: ChalkClient, tally: Tally, deadline: float, seed: int) -> None:
    rand = random.Random(seed)
    for _ in range(MAX_CALLS_PER_WORKER):
        if time.monotonic() >= deadline:
            return
        if rand.random() < UPLOAD_SHARE:
            ids = [tally.next_id(), tally.next_id()]
            try:
                client.upload_features({"user.id": ids, "user.name": ["Soak", "Soak"]})
            except BaseException as err:  # counted: the point is to see every kind
                tally.record("upload", err, len(ids))
            else:
                tally.record("upload", None, len(ids))
        else:
            try:
                client.query({"user.id": rand.randint(1, 1000)}, OUTPUTS)
            except BaseException as err:
                tally.record("query", err)
            else:
                tally.record("query", None)


async def task_worker(client: AsyncChalkClient, tally: Tally, deadline: float, seed: int) -> None:
    rand = random.Random(seed)
    for _ in range(MAX_CALLS_PER_WORKER):
        if time.monotonic() >= deadline:
            return
        if rand.random() < UPLOAD_SHARE:
            ids = [tally.next_id()]
            try:
                await client.upload_features({"user.id": ids, "user.name": ["Soak"]})
            except BaseException as err:
                tally.record("upload", err, len(ids))
            else:
                tally.record("upload", None, len(ids))
        else:
            try:
                await client.query({"user.id": rand.randint(1, 1000)}, OUTPUTS)
            except BaseException as err:
                tally.record("query", err)
            else:
                tally.record("query", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to run (default 60)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the fault schedule")
    args = parser.parse_args(argv)
    tally = Tally()
    rand = random.Random(args.seed)
    with ChalkServer(token_lifetime=TOKEN_LIFETIME) as server:
        options: dict[str, Any] = {
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "api_server": server.url,
            "timeout": 5.0,
        }
        with ChalkClient(**options) as client:
            client.query({"user.id": 1}, OUTPUTS)  # warm up: imports, pools, the first token
            # RSS is compared between a quarter of the way in (pools, threads, the server's bounded
            # request log all grown to their working size) and the end.
            rss_marks: list[float] = []
            sampler = threading.Timer(args.seconds / 4, lambda: rss_marks.append(rss_mib()))
            exchanges_start = server.token_exchanges
            started = time.monotonic()
            deadline = started + args.seconds
            stop = threading.Event()
            revocations: list[int] = []
            faulter = threading.Thread(
                target=lambda: revocations.append(inject_faults(server, deadline, stop, rand)), daemon=True
            )

            async def tasks() -> None:
                async with AsyncChalkClient(**options) as aclient:
                    await asyncio.gather(
                        *(task_worker(aclient, tally, deadline, 10_000 + i) for i in range(TASKS))
                    )

            loop_thread = threading.Thread(target=lambda: asyncio.run(tasks()), daemon=True)
            threads = [
                threading.Thread(target=thread_worker, args=(client, tally, deadline, i), daemon=True)
                for i in range(THREADS)
            ]
            faulter.start()
            sampler.start()
            loop_thread.start()
            for thread in threads:
                thread.start()
            for thread in [*threads, loop_thread]:
                thread.join(timeout=args.seconds + 60)
            stop.set()
            faulter.join(timeout=10)
            server.faults.wait_idle(timeout=10)
            elapsed = time.monotonic() - started
            rss_end = rss_mib()
            sampler.cancel()
            rss_start = rss_marks[0] if rss_marks else math.nan
        exchanges = server.token_exchanges - exchanges_start
        stored = server.rows_stored
    return report(
        tally,
        elapsed=elapsed,
        exchanges=exchanges,
        revocations=revocations[0] if revocations else 0,
        stored=stored,
        rss_start=rss_start,
        rss_end=rss_end,
    )


def report(
    tally: Tally,
    *,
    elapsed: float,
    exchanges: int,
    revocations: int,
    stored: int,
    rss_start: float,
    rss_end: float,
) -> int:
    # Each client needs a token per lifetime at the very least, and one more per revocation.
    per_client = math.ceil(elapsed / TOKEN_LIFETIME) + revocations
    minimum = 2 * per_client
    total = sum(tally.calls.values())
    failed = sum(tally.failures.values())
    print(
        f"soak: {elapsed:.0f} s, {THREADS} threads on one ChalkClient, {TASKS} tasks on one AsyncChalkClient"
    )
    print(f"calls made: {total:,} ({', '.join(f'{k} {v:,}' for k, v in sorted(tally.calls.items()))})")
    print(f"calls failed: {failed:,} ({failed / max(total, 1):.1%})")
    for kind, count in tally.failures.most_common():
        print(f"  {count:>7,}  {kind}")
    for name, samples in tally.samples.items():
        for sample in samples:
            print(f"    e.g. {name}: {sample[:300]}")
    print(
        f"token exchanges: {exchanges} (the fewest possible about {minimum}: 2 clients x "
        f"({math.ceil(elapsed / TOKEN_LIFETIME)} lifetimes + {revocations} revocations); the SDK "
        "refreshes at half-life, so about twice that is its schedule)"
    )
    print(
        f"uploads: rows acknowledged {tally.rows_acknowledged:,}, ambiguous {tally.rows_ambiguous:,}, "
        f"refused unsent {tally.rows_failed_unsent:,}; rows stored {stored:,}"
    )
    print(f"RSS: {rss_start:.1f} MiB a quarter of the way in, {rss_end:.1f} MiB at the end")
    problems = []
    if tally.undocumented:
        problems.append(f"{len(tally.undocumented)} undocumented error(s), e.g. {tally.undocumented[0]}")
    if not tally.rows_acknowledged <= stored <= tally.rows_acknowledged + tally.rows_ambiguous:
        problems.append("rows stored do not match the uploads: lost or stored twice")
    if rss_end > rss_start * (1 + RSS_GROWTH_LIMIT):
        problems.append(f"RSS grew more than {RSS_GROWTH_LIMIT:.0%}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("OK" if not problems else "FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
