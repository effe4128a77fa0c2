"""9. Decoding a 100,000-row bulk answer, in-process (no HTTP): time against ``pyarrow.ipc`` reading
the same Arrow bytes alone, and peak memory against the table's size.

The answer is written by ChalkServer's encoder (``chalk_client.testing._feather.encode_response``,
LZ4), the table the benchmark server answers with (``user.id`` and 3 features). The SDK's decode
ends when ``to_arrow()`` has returned: ``decode_response(body)``, then ``bulk_result(...)``.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .bulk import scalar_arrow, scalar_span
from .bulk_answers import bulk_table
from .figures import Check, Figure, Report, fmt_mib, fmt_ratio, fmt_us, paired_ratio
from .footprint import run_python
from .parsing import seconds_per_call
from .profiles import BULK_OUTPUT, DECODE_ROWS, FEATHER_PATH, Profile

if TYPE_CHECKING:
    import pyarrow as pa

DECODE_TARGET: Final = 1.5  # the SDK's decode time against pyarrow.ipc's alone, at most
MEMORY_TARGET: Final = 3.0  # the decode's peak memory against the table's nbytes, at most

# A fresh process reads the answer (plain bytes: nothing of pyarrow's yet), decodes a small answer
# first (imports and first-call caches), then measures each decode on its own pool: a proxy of the
# default pool, set as the default, counts exactly the bytes allocated through it from zero
# (max_memory() is its high-water mark); tracemalloc counts Python's allocations meanwhile (it sees
# none of pyarrow's, so nothing is counted twice). The answer's bytes, read before, count in neither.
_MEMORY_CODE: Final = """
import sys, tracemalloc
path, small_path, start, stop = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(path, "rb") as f:
    body = f.read()
with open(small_path, "rb") as f:
    small = f.read()
import pyarrow as pa
from chalk_client._api.bulk_results import bulk_result
from chalk_client._api.feather import decode_response

def sdk(data):
    return bulk_result(decode_response(data, what="/v1/query/feather")[0]).to_arrow()

def raw(data, span):
    return pa.ipc.open_file(pa.py_buffer(memoryview(data)[span[0]:span[1]])).read_all()

def measure(decode):
    default = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(default)
    pa.set_memory_pool(pool)
    tracemalloc.start()
    table = decode()
    python_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    pa.set_memory_pool(default)
    figures = [pool.max_memory(), python_peak, table.nbytes, table.num_rows]
    del table  # before its pool goes
    return figures

sdk(small)
raw(small, (int(sys.argv[5]), int(sys.argv[6])))
print(*measure(lambda: sdk(body)), *measure(lambda: raw(body, (start, stop))))
"""


def decode_table(rows: int) -> pa.Table:
    """`rows` rows as the benchmark server answers them: ``user.id`` 0..rows-1 and `BULK_OUTPUT`."""
    table: pa.Table = bulk_table(rows, BULK_OUTPUT)
    return table


def decode_answer(rows: int) -> bytes:
    """The bulk answer of `rows` rows, by ChalkServer's encoder (LZ4 Arrow IPC file)."""
    from chalk_client.testing._feather import FeatherResult, encode_response

    return encode_response([FeatherResult(scalars=decode_table(rows))], compression="lz4")


def sdk_decoder(body: bytes) -> Callable[[], pa.Table]:
    """A no-argument function decoding `body` as ``query_bulk()`` does, to ``to_arrow()``."""
    from chalk_client._api.bulk_results import bulk_result
    from chalk_client._api.feather import decode_response

    def decode() -> pa.Table:
        return bulk_result(decode_response(body, what=FEATHER_PATH)[0]).to_arrow()

    return decode


def raw_decoder(body: bytes) -> Callable[[], pa.Table]:
    """A no-argument function reading `body`'s scalars with ``pyarrow.ipc`` alone (found once)."""
    import pyarrow as pa

    arrow = scalar_arrow(body)

    def decode() -> pa.Table:
        return pa.ipc.open_file(pa.py_buffer(arrow)).read_all()

    return decode


def measure_decode(profile: Profile, report: Report) -> None:
    """The SDK's decode of a 100,000-row answer against pyarrow.ipc alone; then its peak memory."""
    body = decode_answer(DECODE_ROWS)
    sdk, raw = sdk_decoder(body), raw_decoder(body)
    table = sdk()
    if table.num_rows != DECODE_ROWS or not table.equals(raw()):
        raise RuntimeError("the SDK's decode of the bulk answer does not hold what was written")
    seconds_per_call(sdk, 0.1)
    seconds_per_call(raw, 0.1)
    values: list[float] = []
    baselines: list[float] = []
    for index in range(profile.decode_pairs):  # the order alternates: neither side always goes first
        for decode, times in ((sdk, values), (raw, baselines))[:: 1 if index % 2 == 0 else -1]:
            times.append(seconds_per_call(decode, profile.decode_seconds))
    ratio = paired_ratio(values, baselines)
    report.figures.append(
        Figure(
            f"decode {DECODE_ROWS:,}-row bulk answer ({len(body) / 2**20:.1f} MiB, LZ4) to to_arrow()",
            fmt_us(statistics.median(values) * 1e9),
            f"{fmt_us(statistics.median(baselines) * 1e9)} (pyarrow.ipc.open_file().read_all())",
            fmt_ratio(ratio),
            f"<= {DECODE_TARGET:.2f}x",
            (Check(ratio, DECODE_TARGET, at_most=True),),
        )
    )
    _measure_memory(profile, report, body)


def _measure_memory(profile: Profile, report: Report, body: bytes) -> None:
    """The decode's peak (pyarrow's pool + Python's allocations) in fresh processes, against nbytes."""
    small = decode_answer(10)
    span, small_span = scalar_span(body), scalar_span(small)
    with tempfile.TemporaryDirectory(prefix="chalk-bench-bulk-") as folder:
        path, small_path = Path(folder) / "answer", Path(folder) / "small"
        path.write_bytes(body)
        small_path.write_bytes(small)
        args = (str(path), str(small_path), *map(str, span), *map(str, small_span))
        runs = [[int(v) for v in run_python(_MEMORY_CODE, *args).split()] for _ in range(profile.memory_runs)]
    if any(run[3] != DECODE_ROWS for run in runs):
        raise RuntimeError(f"a memory measurement decoded other than {DECODE_ROWS:,} rows")
    sdk_pool, sdk_python, nbytes, _, raw_pool, raw_python = (
        statistics.median(run[i] for run in runs) for i in range(6)
    )
    peak = statistics.median(run[0] + run[1] for run in runs)
    ratio = statistics.median((run[0] + run[1]) / run[2] for run in runs)
    report.figures.append(
        Figure(
            f"decode {DECODE_ROWS:,}-row bulk answer: peak memory (pyarrow pool + Python)",
            f"{fmt_mib(peak)} (pool {fmt_mib(sdk_pool)} + Python {sdk_python / 1024:,.0f} KiB)",
            f"{fmt_mib(nbytes)} (table.nbytes)",
            fmt_ratio(ratio),
            f"<= {MEMORY_TARGET:.2f}x",
            (Check(ratio, MEMORY_TARGET, at_most=True),),
        )
    )
    report.notes.append(
        f"Bulk decode memory: a fresh process per run ({profile.memory_runs}), the answer read as bytes "
        "first; each decode runs on its own pyarrow pool (pa.proxy_memory_pool of the default, set as "
        "the default: its max_memory() is the decode's high-water mark from zero) with tracemalloc on "
        "for Python's allocations (which include none of pyarrow's; what pyarrow or a codec allocates "
        "outside its pool, such as an LZ4 context, is in neither). The SDK's decode peaked at "
        f"{sdk_pool:,.0f} bytes in the pool and {sdk_python:,.0f} in Python; pyarrow.ipc alone on the same "
        f"bytes at {raw_pool:,.0f} and {raw_python:,.0f}; the table holds {nbytes:,.0f} bytes."
    )
