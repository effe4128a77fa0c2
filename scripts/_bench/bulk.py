"""8. Bulk queries: ``ChalkClient.query_bulk()`` of 10,000 rows against sequential ``query()`` calls
and against a raw floor (plain httpx and pyarrow), in rows/s.

Every side asks for the same features of the same users (``user.id`` 0..9,999): the SDK builds its
request each call, the floor posts the request bytes the SDK builds (made once), with the same
headers, and reads the answer's Arrow file with ``pyarrow.ipc`` after a hand walk of the byte
model's lengths. The server makes a (rows, outputs) shape's answer once, then sends it as it is.
"""

from __future__ import annotations

import contextlib
import functools
import json
import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import httpx

from chalk_client import ChalkClient

from .clients import client_options, sdk_echo, sdk_limits, sdk_sync_call, sdk_timeout
from .figures import Check, Figure, ModeResult, Report, Round, fmt_ratio, fmt_us, paired_ratio
from .profiles import BULK_OUTPUT, BULK_ROWS, FEATHER_PATH, USER_ID, Profile
from .rounds import Side, run_sync_rounds, sequential_round
from .server import BenchServer

if TYPE_CHECKING:
    import pyarrow as pa

SDK_BULK: Final = "ChalkClient.query_bulk"
RAW_BULK: Final = "raw httpx.Client + pyarrow.ipc"
SDK_SEQUENTIAL: Final = "ChalkClient.query(), 1 row"
MODE_BULK: Final = f"bulk, {BULK_ROWS:,} rows x {len(BULK_OUTPUT)} features"
BULK_TARGET: Final = 50.0  # query_bulk's rows/s against sequential query()'s, at least
FLOOR_TARGET: Final = 0.8  # query_bulk's rows/s against the raw floor's, at least
# Whether --check gates the floor row (at half its target, re-measured before failing, like the rest).
FLOOR_GATED: Final = True
_MAGIC: Final = b"CHALK_BYTE_TRANSMISSION"


def bulk_input() -> pa.Table:
    """The rows every bulk call asks for: ``user.id`` 0..rows-1, as an Arrow table (int64).

    A table, because the floor posts request bytes built once: given a Python list, ``query_bulk``
    would also pay for pyarrow's conversion of 10,000 ints (about a third of its call here), which
    the floor never does. Batch scoring starts from a frame or a table anyway.
    """
    import pyarrow as pa

    return pa.table({USER_ID: pa.array(range(BULK_ROWS), pa.int64())})


def _walk(data: memoryview, at: int) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """The byte model at `at`: where each of its items and nested models is (start, stop)."""
    at += len(_MAGIC)
    found: list[dict[str, tuple[int, int]]] = []
    for section in range(4):  # attributes, pydantic attributes, item lengths, nested lengths
        length = int.from_bytes(data[at : at + 8], "big")
        at += 8 + length
        if section >= 2:  # a map of lengths, then the items back to back
            spans = {}
            for name, size in json.loads(bytes(data[at - length : at])).items():
                spans[name] = (at, at + size)
                at += size
            found.append(spans)
    return found[0], found[1]


def scalar_span(body: bytes | memoryview) -> tuple[int, int]:
    """Where the first query's scalars (Arrow IPC bytes) are in a bulk answer: a floor's walk, unchecked."""
    data = memoryview(body)
    _, outer = _walk(data, 0)
    items, _ = _walk(data, outer["query_results_bytes"][0])
    first, _ = _walk(data, items["0"][0])
    return first["scalar_data"]


def scalar_arrow(body: bytes | memoryview) -> memoryview:
    """The first query's scalars in a bulk answer: its Arrow IPC bytes (a view, no copy)."""
    start, stop = scalar_span(body)
    return memoryview(body)[start:stop]


def read_scalars(body: bytes | memoryview) -> pa.Table:
    """The floor's read of a bulk answer: its scalars' Arrow file, by ``pyarrow.ipc`` alone."""
    import pyarrow as pa  # only when measured: the rest of the run never loads it

    return pa.ipc.open_file(pa.py_buffer(scalar_arrow(body))).read_all()


def table_echo(table: pa.Table) -> object:
    """The rows of an answer when they hold the asked-for ids and outputs; else what they hold."""
    missing = [name for name in (USER_ID, *BULK_OUTPUT) if name not in table.column_names]
    if missing:
        return f"a table without {', '.join(missing)}"
    if table.column(USER_ID).to_pylist() != list(range(BULK_ROWS)):
        return f"{table.num_rows} rows, not user.id 0..{BULK_ROWS - 1}"
    return table.num_rows


def _request_body() -> bytes:
    """The body ``query_bulk`` sends for `bulk_input` (the SDK's own request builder, once)."""
    from chalk_client import BulkQuery
    from chalk_client._api import bulk_calls

    query = BulkQuery(input=bulk_input(), output=BULK_OUTPUT)
    call = bulk_calls.bulk_call([query], environment=None, branch=None, default_branch=None, what="bench")
    assert call.body is not None
    return call.body


def _sdk_bulk(client: ChalkClient) -> Callable[[], tuple[int, Any]]:
    query_bulk, rows = client.query_bulk, bulk_input()  # the caller's rows exist before the call

    def call() -> tuple[int, Any]:
        return BULK_ROWS, query_bulk(rows, BULK_OUTPUT).to_arrow()

    return call


def _raw_bulk(server: BenchServer, http: httpx.Client) -> Callable[[], tuple[int, Any]]:
    client_id = "bench-bulk-raw"
    headers = {
        "Authorization": f"Bearer {server.raw_token(client_id)}",
        "Accept": "application/octet-stream",
        "Content-Type": "application/octet-stream",
        "X-Chalk-Client-Id": client_id,
        "X-Chalk-Env-Id": "env-1",
        "X-Chalk-Deployment-Type": "engine",
    }
    url, body = server.url + FEATHER_PATH, _request_body()

    def call() -> tuple[int, Any]:
        response = http.post(url, content=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"raw bulk query answered {response.status_code}")
        return BULK_ROWS, read_scalars(response.content)

    return call


def _counted(count: int) -> Callable[[Callable[[], object], float], Round]:
    """A round of `count` back-to-back calls (fewer if `seconds` run out first)."""
    return functools.partial(_counted_round, count=count)


def _counted_round(call: Callable[[], object], seconds: float, *, count: int) -> Round:
    return sequential_round(call, seconds, max_calls=count)


def measure_bulk(profile: Profile, server: BenchServer, report: Report) -> None:
    """query_bulk() of 10,000 rows against sequential query() and the raw floor, rows/s, paired rounds."""
    before = server.stats()
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(ChalkClient(**client_options(server, "bench-bulk")))
        http = stack.enter_context(httpx.Client(limits=sdk_limits(), timeout=sdk_timeout()))
        sides = [
            Side(SDK_BULK, _sdk_bulk(client), table_echo),
            Side(RAW_BULK, _raw_bulk(server, http), table_echo),
            Side(SDK_SEQUENTIAL, sdk_sync_call(client), sdk_echo, timed=_counted(profile.bulk_sequential)),
        ]
        result = run_sync_rounds(
            server,
            report,
            MODE_BULK,
            sides,
            _counted(profile.bulk_calls),
            rounds=profile.bulk_pairs,
            seconds=profile.bulk_limit,
            warmup=0.2,
            floors=False,  # these floors send bulk queries: no measure of the online server's capacity
        )
    after = server.stats()
    report.figures += _figures(profile.bulk_pairs * profile.bulk_sequential, result)
    cached = after["bulk_cached"] - before["bulk_cached"]
    if cached:
        per_answer = (after["bulk_seconds"] - before["bulk_seconds"]) / cached
        sdk_p50 = result.sides[SDK_BULK].median("p50_ns")
        raw_p50 = result.sides[RAW_BULK].median("p50_ns")
        report.notes.append(
            f"Bulk: the server took {fmt_us(per_answer * 1e9)} on average to answer each of {cached:,} bulk "
            f"queries (from the body to the answer's bytes, the answer made once per shape); a call took "
            f"{fmt_us(sdk_p50)} (p50) with query_bulk and {fmt_us(raw_p50)} with the raw floor."
        )


def _rows(rate: float) -> str:
    return f"{rate:,.0f} rows/s"


def _figures(planned: int, result: ModeResult) -> list[Figure]:
    """The two rows; `planned` is how many sequential calls the profile makes (it names a short run)."""
    bulk, raw, sequential = (result.sides[name] for name in (SDK_BULK, RAW_BULK, SDK_SEQUENTIAL))
    bulk_rows = [r.rate * BULK_ROWS for r in bulk.rounds]
    raw_rows = [r.rate * BULK_ROWS for r in raw.rounds]
    sequential_rows = [r.rate for r in sequential.rounds]
    scaled = "" if planned >= BULK_ROWS else f" ({planned:,} query() calls: a rate)"
    against_sequential = paired_ratio(bulk_rows, sequential_rows)
    against_floor = paired_ratio(bulk_rows, raw_rows)
    median = statistics.median
    return [
        Figure(
            f"{MODE_BULK}: query_bulk / sequential query(), rows/s{scaled}",
            _rows(median(bulk_rows)),
            f"{_rows(median(sequential_rows))} ({SDK_SEQUENTIAL} a call)",
            fmt_ratio(against_sequential),
            f">= {BULK_TARGET:.2f}x",
            (Check(against_sequential, BULK_TARGET, at_most=False),),
            gate=not (bulk.broken or sequential.broken),
            verdict="ERROR" if bulk.broken or sequential.broken else None,
        ),
        Figure(
            f"{MODE_BULK}: query_bulk / raw floor, rows/s",
            _rows(median(bulk_rows)),
            f"{_rows(median(raw_rows))} ({RAW_BULK})",
            fmt_ratio(against_floor),
            f">= {FLOOR_TARGET:.2f}x",
            (Check(against_floor, FLOOR_TARGET, at_most=False, gross_gate=FLOOR_GATED),),
            gate=FLOOR_GATED and not (bulk.broken or raw.broken),
            verdict="ERROR" if bulk.broken or raw.broken else None,
        ),
    ]
