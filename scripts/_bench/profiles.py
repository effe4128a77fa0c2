"""Run profiles (how long and how often each measurement runs) and what every measurement shares:
the repository, the client secret, the query every call makes, and the load shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent.parent
CLIENT_SECRET: Final = "bench-secret"
QUERY_OUTPUT: Final = ("user.id", "user.name", "user.age", "user.credit_score")
QUERY_PATH: Final = "/v1/query/online"
USER_ID: Final = "user.id"
TASKS: Final = 256
THREADS: Final = 64
PARSE_FEATURES: Final = 1000
FEATHER_PATH: Final = "/v1/query/feather"
BULK_ROWS: Final = 10_000  # the rows of each bulk query over HTTP
BULK_OUTPUT: Final = ("user.name", "user.age", "user.credit_score")
DECODE_ROWS: Final = 100_000  # the rows of the bulk answer decoded in-process
UPLOAD_FEATURES: Final = ("user.id", "user.name", "user.age")  # the columns of each bulk upload


@dataclass(frozen=True)
class Profile:
    """How long and how often each measurement runs."""

    name: str
    token_rounds: int  # get_token(): rounds per side
    token_batch: int  # calls per round
    seq_pairs: int  # sequential query(): rounds per side (SDK and floors side by side)
    seq_seconds: float  # per round
    conc_pairs: int  # concurrent query(): rounds per side per mode (tasks, threads)
    conc_seconds: float
    saturation_runs: int  # saturation with expiring tokens: runs per mode (threads, tasks)
    saturation_seconds: float  # how long each run starts calls
    saturation_lifetime: float  # the token lifetime the server gives (seconds)
    saturation_buffer: float  # the clients' refresh_buffer
    import_runs: int  # fresh processes per side
    rss_runs: int
    parse_pairs: int
    parse_seconds: float
    capacity_rounds: int
    capacity_seconds: float
    bulk_pairs: int  # bulk queries over HTTP: rounds per side (query_bulk, the raw floor, query())
    bulk_calls: int  # query_bulk() (and raw floor) calls per round
    bulk_sequential: int  # query() calls per round of the sequential side
    bulk_limit: float  # the longest a bulk-mode round may take (seconds)
    decode_pairs: int  # decoding a bulk answer in-process: rounds per side
    decode_seconds: float
    memory_runs: int  # fresh processes measuring the decode's peak memory
    upload_rows: int  # bulk uploads: the rows of each call (multi_upload_features and upload_features)
    upload_pairs: int  # rounds per side
    upload_calls: int  # calls per round
    upload_limit: float  # the longest an upload round may take (seconds)
    budget: float  # the watchdog ends a run that hangs after this many seconds
    remeasure_budget: float  # and a re-measurement (--check) after this many more
    httpx2: bool = False  # --httpx2: raw httpx2.Client as a reference floor in the sync modes


FULL: Final = Profile(
    name="full",
    token_rounds=7,
    token_batch=100_000,
    seq_pairs=7,
    seq_seconds=0.6,
    conc_pairs=5,
    conc_seconds=1.5,
    saturation_runs=2,
    saturation_seconds=5.0,
    saturation_lifetime=4.0,
    saturation_buffer=2.0,
    import_runs=9,
    rss_runs=5,
    parse_pairs=7,
    parse_seconds=0.3,
    capacity_rounds=3,
    capacity_seconds=0.5,
    bulk_pairs=5,
    bulk_calls=40,
    bulk_sequential=2_000,  # 10,000 query() calls in all
    bulk_limit=15.0,
    decode_pairs=7,
    decode_seconds=0.3,
    memory_runs=3,
    upload_rows=100_000,
    upload_pairs=5,
    upload_calls=8,
    upload_limit=10.0,
    budget=420.0,
    remeasure_budget=240.0,
)
QUICK: Final = Profile(
    name="quick",
    token_rounds=5,
    token_batch=50_000,
    seq_pairs=5,
    seq_seconds=0.3,
    conc_pairs=3,
    conc_seconds=0.5,
    saturation_runs=1,
    saturation_seconds=5.0,
    saturation_lifetime=4.0,
    saturation_buffer=2.0,
    import_runs=5,
    rss_runs=2,
    parse_pairs=3,
    parse_seconds=0.2,
    capacity_rounds=2,
    capacity_seconds=0.3,
    bulk_pairs=2,
    bulk_calls=15,
    bulk_sequential=500,
    bulk_limit=8.0,
    decode_pairs=3,
    decode_seconds=0.1,
    memory_runs=1,
    upload_rows=20_000,  # a fifth of a full run's rows: the step stays about a second
    upload_pairs=3,
    upload_calls=5,
    upload_limit=3.0,
    budget=180.0,
    remeasure_budget=120.0,
)
