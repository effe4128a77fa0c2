"""1. The cached ``get_token()``: ns per call, sync and async."""

from __future__ import annotations

import asyncio
import statistics
import time

from chalk_client import AsyncChalkClient, ChalkClient

from .clients import client_options
from .figures import Check, Figure, Report, fmt_ns, fmt_ratio, paired_ratio
from .profiles import Profile
from .rounds import ns_per_await, ns_per_call
from .server import BenchServer


class _Noop:
    def method(self) -> None:
        return None


async def _noop_coroutine() -> None:
    return None


def measure_get_token(profile: Profile, server: BenchServer, report: Report) -> None:
    """ns per cached ``get_token()`` call, sync and async, beside a no-op call of the same kind."""
    rounds, batch = profile.token_rounds, profile.token_batch
    deadline = time.perf_counter() + 30.0
    with ChalkClient(**client_options(server, "bench-token")) as client:
        client.get_token()  # the one exchange; every later call is served from the cache
        sync_ns, noop_ns = [], []
        noop = _Noop().method
        for _ in range(rounds):
            sync_ns.append(ns_per_call(client.get_token, batch))
            noop_ns.append(ns_per_call(noop, batch))
            if time.perf_counter() > deadline:
                break

    async def run_async() -> tuple[list[float], list[float]]:
        async with AsyncChalkClient(**client_options(server, "bench-token-async")) as aclient:
            await aclient.get_token()
            values, baselines = [], []
            for _ in range(rounds):
                values.append(await ns_per_await(aclient.get_token, batch))
                baselines.append(await ns_per_await(_noop_coroutine, batch))
                if time.perf_counter() > deadline:
                    break
            return values, baselines

    async_ns, anoop_ns = asyncio.run(run_async())
    for name, values, baselines, what, limit in (
        ("cached get_token(), sync", sync_ns, noop_ns, "no-op method call", 300.0),
        ("cached get_token(), async", async_ns, anoop_ns, "await no-op coroutine", 1000.0),
    ):
        value = statistics.median(values)
        report.figures.append(
            Figure(
                name,
                fmt_ns(value),
                f"{fmt_ns(statistics.median(baselines))} ({what})",
                fmt_ratio(paired_ratio(values, baselines)),
                f"<= {fmt_ns(limit)}",
                (Check(value, limit, at_most=True, gross_gate=False),),
            )
        )
