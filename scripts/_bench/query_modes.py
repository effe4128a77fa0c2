"""2-4. ``query()`` against the floors: 1 thread and 1 task sequential, 256 tasks, 64 threads; and the
sync-transport decision (the default urllib3 transport against httpcore).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Final

import httpx

from chalk_client import AsyncChalkClient, ChalkClient

from .clients import (
    RawQuery,
    aiohttp_session,
    client_options,
    httpcore_transport,
    httpx2_client,
    raw_echo,
    sdk_async_call,
    sdk_echo,
    sdk_limits,
    sdk_sync_call,
    sdk_timeout,
    urllib3_pool,
)
from .figures import ModeResult, Report, Round
from .profiles import TASKS, THREADS, Profile
from .rounds import (
    Side,
    async_sequential_round,
    ratio_figure,
    run_async_rounds,
    run_sync_rounds,
    sequential_round,
    tasks_round,
    threads_round,
)
from .server import BenchServer

SDK_SYNC: Final = "ChalkClient"
SDK_SYNC_HTTPCORE: Final = "ChalkClient, httpcore transport"
SDK_ASYNC: Final = "AsyncChalkClient"
RAW_HTTPX: Final = "raw httpx.Client"
RAW_HTTPX_ASYNC: Final = "raw httpx.AsyncClient"
RAW_AIOHTTP: Final = "raw aiohttp"
RAW_URLLIB3: Final = "raw urllib3"
RAW_HTTPX2: Final = "raw httpx2.Client"  # a reference only (--httpx2)
MODE_SEQ: Final = "1 thread, sequential"
MODE_ASEQ: Final = "1 task, sequential"
MODE_TASKS: Final = f"{TASKS} tasks"
MODE_THREADS: Final = f"{THREADS} threads"
# Issue 11: the sync transport is urllib3 only while it is this much faster than httpcore (64 threads)
# and no more than this much slower (sequentially).
SWITCH_THREADS: Final = 1.3
SWITCH_SEQUENTIAL: Final = 0.95


def _measure_sync_mode(
    profile: Profile, server: BenchServer, report: Report, mode: str, timed: Callable[..., Round]
) -> ModeResult:
    tag = "seq" if mode == MODE_SEQ else "threads"
    sequential = mode == MODE_SEQ
    raw_query = RawQuery.for_server(server, f"bench-{tag}-raw")
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(ChalkClient(**client_options(server, f"bench-{tag}")))
        on_httpcore = stack.enter_context(
            ChalkClient(**client_options(server, f"bench-{tag}-hc", transport=httpcore_transport()))
        )
        http = stack.enter_context(httpx.Client(limits=sdk_limits(), timeout=sdk_timeout()))
        pool = urllib3_pool(server)
        stack.callback(pool.close)
        sides = [
            Side(SDK_SYNC, sdk_sync_call(client), sdk_echo),
            Side(SDK_SYNC_HTTPCORE, sdk_sync_call(on_httpcore), sdk_echo),
            Side(RAW_HTTPX, raw_query.httpx_sync(http), raw_echo),
            Side(RAW_URLLIB3, raw_query.urllib3_call(pool), raw_echo),
        ]
        if profile.httpx2:
            http2 = stack.enter_context(httpx2_client())
            sides.append(Side(RAW_HTTPX2, raw_query.httpx_sync(http2), raw_echo))
        return run_sync_rounds(
            server,
            report,
            mode,
            sides,
            timed,
            rounds=profile.seq_pairs if sequential else profile.conc_pairs,
            seconds=profile.seq_seconds if sequential else profile.conc_seconds,
            warmup=0.2,
        )


def measure_sequential(profile: Profile, server: BenchServer, report: Report) -> None:
    """Back-to-back ChalkClient.query() against raw httpx.Client and raw urllib3 (and on httpcore)."""
    result = _measure_sync_mode(profile, server, report, MODE_SEQ, sequential_round)
    report.figures += [
        ratio_figure(result, SDK_SYNC, RAW_HTTPX, target=1.0),
        ratio_figure(result, SDK_SYNC, RAW_URLLIB3, target=None),
        *([ratio_figure(result, SDK_SYNC, RAW_HTTPX2, target=None)] if profile.httpx2 else []),
    ]
    report.transport.append(
        ratio_figure(
            result,
            SDK_SYNC,
            SDK_SYNC_HTTPCORE,
            name=f"sync transport, {MODE_SEQ}: urllib3 / httpcore",
            target=None,
            target_text=f"urllib3 needs >= {SWITCH_SEQUENTIAL:.2f}x",
        )
    )


def measure_async_sequential(profile: Profile, server: BenchServer, report: Report) -> None:
    """Back-to-back AsyncChalkClient.query() in one task against raw httpx.AsyncClient and aiohttp."""
    result = asyncio.run(_async_mode(profile, server, report, MODE_ASEQ, async_sequential_round))
    report.figures += [
        ratio_figure(result, SDK_ASYNC, RAW_HTTPX_ASYNC, target=1.5),
        ratio_figure(result, SDK_ASYNC, RAW_AIOHTTP, target=0.6),
    ]


def measure_tasks(profile: Profile, server: BenchServer, report: Report) -> None:
    """256 tasks sharing one AsyncChalkClient against 256 tasks on raw httpx.AsyncClient and aiohttp."""
    result = asyncio.run(_async_mode(profile, server, report, MODE_TASKS, tasks_round))
    report.figures += [
        ratio_figure(result, SDK_ASYNC, RAW_HTTPX_ASYNC, target=10.0),
        ratio_figure(result, SDK_ASYNC, RAW_AIOHTTP, target=0.5),
    ]


async def _async_mode(
    profile: Profile,
    server: BenchServer,
    report: Report,
    mode: str,
    timed: Callable[..., Awaitable[Round]],
) -> ModeResult:
    tag = "aseq" if mode == MODE_ASEQ else "tasks"
    sequential = mode == MODE_ASEQ
    raw_query = RawQuery.for_server(server, f"bench-{tag}-raw")
    async with (
        AsyncChalkClient(**client_options(server, f"bench-{tag}")) as client,
        httpx.AsyncClient(limits=sdk_limits(), timeout=sdk_timeout()) as http,
        aiohttp_session() as session,
    ):
        sides = [
            Side(SDK_ASYNC, sdk_async_call(client), sdk_echo),
            Side(RAW_HTTPX_ASYNC, raw_query.httpx_async(http), raw_echo),
            Side(RAW_AIOHTTP, raw_query.aiohttp_call(session), raw_echo),
        ]
        return await run_async_rounds(
            server,
            report,
            mode,
            sides,
            timed,
            rounds=profile.seq_pairs if sequential else profile.conc_pairs,
            seconds=profile.seq_seconds if sequential else profile.conc_seconds,
            warmup=0.2 if sequential else 0.1,
        )


def measure_threads(profile: Profile, server: BenchServer, report: Report) -> None:
    """64 threads sharing one ChalkClient against 64 threads on raw httpx.Client and raw urllib3."""
    result = _measure_sync_mode(profile, server, report, MODE_THREADS, threads_round)
    report.figures += [
        ratio_figure(result, SDK_SYNC, RAW_HTTPX, target=1.0),
        ratio_figure(result, SDK_SYNC, RAW_URLLIB3, target=None),
        *([ratio_figure(result, SDK_SYNC, RAW_HTTPX2, target=None)] if profile.httpx2 else []),
    ]
    report.transport.append(
        ratio_figure(
            result,
            SDK_SYNC,
            SDK_SYNC_HTTPCORE,
            name=f"sync transport, {MODE_THREADS}: urllib3 / httpcore",
            target=None,
            target_text=f"urllib3 needs >= {SWITCH_THREADS:.2f}x",
        )
    )


def transport_decision(report: Report) -> None:
    """The two sync-transport rows (after the rest) and the decision they give, as a note."""
    rows = {f.name: f for f in report.transport}
    sequential = rows.get(f"sync transport, {MODE_SEQ}: urllib3 / httpcore")
    threads = rows.get(f"sync transport, {MODE_THREADS}: urllib3 / httpcore")
    report.figures += report.transport
    if sequential is None or threads is None or "ERROR" in (sequential.result, threads.result):
        return
    seq_ratio, threads_ratio = float(sequential.relation[:-1]), float(threads.relation[:-1])
    keep = seq_ratio >= SWITCH_SEQUENTIAL and threads_ratio >= SWITCH_THREADS
    report.notes.append(
        f"Sync transport: the default ChalkClient (urllib3, API calls sent directly) against "
        f"ChalkClient(transport=httpx.HTTPTransport(...)) (httpcore), paired in the same rounds: "
        f"{threads_ratio:.2f}x at {THREADS} threads (urllib3 needs >= {SWITCH_THREADS:.2f}x), "
        f"{seq_ratio:.2f}x sequentially (needs >= {SWITCH_SEQUENTIAL:.2f}x): "
        f"{'urllib3 stays the default' if keep else 'this run favours httpcore'}, on this run's figures."
    )
