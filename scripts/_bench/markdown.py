"""BENCHMARKS.md: the command, the machine, the tables, the errors, the notes and the methodology."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime
from pathlib import Path

import httpx

from .clients import max_connections, sdk_limits
from .figures import Report
from .profiles import BULK_OUTPUT, BULK_ROWS, DECODE_ROWS, PARSE_FEATURES, ROOT, UPLOAD_FEATURES, Profile
from .tables import FIGURE_HEADERS, MODE_HEADERS, figure_rows, markdown_table, mode_rows


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=10.0, cwd=ROOT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    from chalk_client import __version__

    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    if _git("status", "--porcelain", "--", "chalk_client"):
        commit += ", chalk_client/ has uncommitted changes"
    return [
        ("CPUs", f"{os.cpu_count()} ({_cpu_model()})"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Platform", platform.platform()),
        ("httpx", httpx.__version__),
        ("chalk-client", f"{__version__} (commit {commit})"),
    ]


def write_markdown(
    path: Path, report: Report, *, command: str, profile: Profile, started: datetime, seconds: float
) -> None:
    """Write BENCHMARKS.md: the command, the machine, the tables, the errors, the notes."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {started:%Y-%m-%d %H:%M} UTC ({profile.name} run, {seconds:.0f} s). "
        "Run it again to refresh this file.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in machine()),
        "",
        "## Figures",
        "",
        markdown_table(FIGURE_HEADERS, figure_rows(report.figures)),
        "",
        "Result: PASS meets the target, MISS misses it, FAIL misses it by more than 2x (worse than half the "
        "target); ok/WARN for a row that is printed but never gated; ERROR for a side whose calls failed. "
        "`scripts/bench --check` exits non-zero on FAIL only, after measuring the figure again once.",
        "",
        "## Every client, every mode",
        "",
        markdown_table(MODE_HEADERS, mode_rows(report.modes)),
        "",
        "Each row: the median over its rounds of the round's calls/s, p50 and p99 (per call, nearest rank). "
        "Server count: the rounds after which the server had answered exactly as many queries as the round "
        "made calls.",
        "",
        *(["## Errors", "", *(f"- {error}" for error in report.errors), ""] if report.errors else []),
        "## Notes",
        "",
        *(f"- {note}" for note in [*report.notes, *methodology_notes(profile)]),
        "",
    ]
    path.write_text("\n".join(lines))


def methodology_notes(profile: Profile) -> list[str]:
    """How the figures were taken, for the reader of BENCHMARKS.md."""
    return [
        "Each figure is the median of several rounds; each ratio is the median of per-round ratios, each "
        "SDK round against the floor's round of the same set (every side runs once per set, the order "
        "rotating from set to set), so a machine that slows down during the run moves every side.",
        "Server: scripts/_bench_server.py in its own process (asyncio + httptools, keep-alive), on "
        "127.0.0.1. Its token answer names no engines, so queries go to api_server, the same server. It "
        "reads each query's user.id and echoes it in the answer; every call of the run asks for a new id.",
        "Floors: raw httpx.Client / httpx.AsyncClient with the SDK's default connection limits "
        f"({sdk_limits()}) and timeout; raw aiohttp, one ClientSession with "
        f"TCPConnector(limit={max_connections()}); raw urllib3, one HTTPConnectionPool(maxsize="
        f"{max_connections()}, block=True). Each posts the same JSON (encoded with orjson) with static "
        "headers (Authorization and the X-Chalk-* routing headers the SDK sends), checks the status and "
        "decodes the answer with orjson; the SDK additionally builds an OnlineQueryResult.",
        "Sync transport: the default ChalkClient sends through urllib3 (chalk_client/_io/urllib3_transport.py); it is "
        f"measured against ChalkClient(transport=httpx.HTTPTransport(limits={sdk_limits()})), httpx's own "
        "transport (httpcore's pool), in the same rounds.",
        f"Rounds ({profile.name}): get_token {profile.token_rounds} x {profile.token_batch:,} calls; "
        f"sequential {profile.seq_pairs} sets x {profile.seq_seconds:g} s per side; concurrent "
        f"{profile.conc_pairs} sets x {profile.conc_seconds:g} s per side (a round ends when its last call "
        f"in flight at the deadline answers, and its rate counts that drain); saturation "
        f"{profile.saturation_runs} run(s) per client; import {profile.import_runs} processes per side; RSS "
        f"{profile.rss_runs}; parse {profile.parse_pairs} pairs x {profile.parse_seconds:g} s; bulk "
        f"{profile.bulk_pairs} sets of {profile.bulk_calls} query_bulk calls, {profile.bulk_calls} raw floor "
        f"calls and {profile.bulk_sequential:,} query() calls; bulk decode {profile.decode_pairs} pairs x "
        f"{profile.decode_seconds:g} s; its memory {profile.memory_runs} process(es); bulk upload "
        f"{profile.upload_pairs} sets of {profile.upload_calls} calls per side, "
        f"{profile.upload_rows:,} rows a call.",
        "get_token() figures include the timing loop's own cost (itertools.repeat); the baseline column "
        "shows a no-op call timed the same way.",
        "Import: the perf_counter time around the import statement in `python -c`, after one unmeasured "
        "warm-up process per side; the same process reports whether aiohttp is in sys.modules. RSS: the "
        "peak resident set of a fresh process (VmHWM from /proc/self/status; ru_maxrss where there is no "
        "/proc, but on Linux a child's ru_maxrss starts at its parent's size); the SDK side imports "
        "chalk_client, builds a ChalkClient and makes one query (a token exchange and the query); httpx "
        "alone builds an httpx.Client and posts the same query with a static token.",
        f"Parse: {PARSE_FEATURES:,} features (ints, floats, strings, booleans; no errors), the SDK's own "
        "online-query parser on a prepared httpx.Response, against json.loads of the same bytes.",
        f"Bulk: every side asks for {', '.join(BULK_OUTPUT)} of the {BULK_ROWS:,} users user.id 0..{BULK_ROWS - 1:,} "
        "(an int64 pyarrow.Table, made once: the floor never converts Python values, so neither does the SDK's "
        "side). ChalkClient.query_bulk builds its request each call and reads the answer "
        "to to_arrow() (its byte-model parse, pyarrow's read and its checks of the table: every buffer, offset "
        "and index in bounds); the raw floor "
        "posts the request bytes the SDK builds (made once, the same headers) with a plain httpx.Client and "
        "reads the answer's Arrow file with pyarrow.ipc after a hand walk of the byte model's lengths; the "
        "sequential side is ChalkClient.query(), one user a call. Each ratio is of rows/s; a quick run makes "
        "fewer query() calls (rows/s is a rate). The server answers from a precomputed LZ4 answer (its time "
        "per answer is in a note).",
        f"Bulk decode: a {DECODE_ROWS:,}-row answer written by ChalkServer's encoder (LZ4), decoded in-process "
        "by decode_response() and bulk_result() to to_arrow(), against pyarrow.ipc.open_file().read_all() of "
        "the same Arrow bytes alone; its peak memory is measured in a fresh process (see the note above) "
        "against the table's nbytes.",
        f"Bulk upload: ChalkClient.multi_upload_features against ChalkClient.upload_features, both given "
        f"the same input, made once before timing: a dict of {', '.join(UPLOAD_FEATURES)} to Python lists "
        f"({profile.upload_rows:,} ints, strings, ints). So multi_upload_features pays for pyarrow's "
        "conversion of the lists and for the Arrow IPC file (one POST /v1/upload_features/multi, a byte "
        "model), upload_features for the JSON body (one POST /v1/upload_features). The server reads each "
        "body whole (the Arrow file with pyarrow.ipc and validate(), the JSON with json.loads) and names "
        "the rows it counted in its answer, which each call checks; its time per upload is in a note. The "
        "ratio is of rows/s, sequential calls on one client: a measure, with no target, never gated.",
        "--check gates only same-run ratios (the SDK against a floor, import against import httpx, parse "
        "against json.loads, query_bulk against query(), a bulk decode's time against pyarrow's and its peak "
        "memory against its table's size, query_bulk against its raw floor), and fails only on a gross regression, confirmed by one "
        "re-measurement. Absolute times, peak RSS, exchange counts, expired tokens and errors are printed, "
        "never gated.",
    ]
