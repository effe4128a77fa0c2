"""6. Import time and peak RSS, in fresh processes."""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Final

from .figures import Check, Figure, Report, fmt_mib, fmt_ms, fmt_ratio, paired_ratio
from .profiles import CLIENT_SECRET, ROOT, Profile
from .server import BenchServer

# The time the import takes, and whether aiohttp came with it (it must not: the async client imports
# it when it first sends).
_IMPORT_CODE: Final = (
    "import sys, time; t = time.perf_counter(); import {module}; d = time.perf_counter() - t; "
    "print(d, int('aiohttp' in sys.modules))"
)

# Peak RSS in bytes. On Linux, ru_maxrss of a child starts at its parent's RSS when it forked (the
# kernel keeps the larger of the two across exec), so a benchmark of 40 MiB would hide everything
# smaller: read the high-water mark of the process's own memory (VmHWM) instead.
_RSS_PRELUDE: Final = """
import resource, sys
url, secret, token = sys.argv[1:4]
def rss():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024
"""
_RSS_SDK_CODE: Final = (
    _RSS_PRELUDE
    + """
import chalk_client
client = chalk_client.ChalkClient(client_id="bench-rss", client_secret=secret, api_server=url)
after_client = rss()
client.query(input={"user.id": 1}, output=["user.id", "user.name", "user.age", "user.credit_score"])
print(after_client, rss())
"""
)
_RSS_HTTPX_CODE: Final = (
    _RSS_PRELUDE
    + """
import httpx
client = httpx.Client()
after_client = rss()
response = client.post(
    url + "/v1/query/online",
    json={"inputs": {"user.id": 1}, "outputs": ["user.id", "user.name", "user.age", "user.credit_score"]},
    headers={"Authorization": "Bearer " + token},
)
assert response.status_code == 200, response.status_code
response.json()
print(after_client, rss())
"""
)


def run_python(code: str, *args: str) -> str:
    """The stdout of ``python -c code args`` in a fresh process (bounded: 60 s)."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60.0,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"a measuring subprocess failed:\n{done.stderr}")
    return done.stdout


def measure_import(profile: Profile, report: Report) -> None:
    """``import chalk_client`` wall time in fresh processes, beside ``import httpx``."""
    sdk_code, httpx_code = _IMPORT_CODE.format(module="chalk_client"), _IMPORT_CODE.format(module="httpx")
    run_python(sdk_code)  # warm the file cache and the bytecode cache
    run_python(httpx_code)
    values, baselines, with_aiohttp = [], [], 0
    for _ in range(profile.import_runs):
        seconds, aiohttp_imported = run_python(sdk_code).split()
        values.append(float(seconds))
        with_aiohttp += int(aiohttp_imported)
        baselines.append(float(run_python(httpx_code).split()[0]))
    value, ratio = statistics.median(values), paired_ratio(values, baselines)
    report.figures += [
        Figure(
            "import chalk_client (fresh process)",
            fmt_ms(value),
            f"{fmt_ms(statistics.median(baselines))} (import httpx)",
            fmt_ratio(ratio),
            "<= 1.60x",
            # The absolute figure moves with the machine (import httpx alone takes 50-150 ms on
            # this kind of machine): only the ratio to httpx, measured side by side, is a gate.
            (Check(ratio, 1.6, at_most=True),),
        ),
        Figure(
            "aiohttp in sys.modules after import chalk_client",
            f"in {with_aiohttp} of {profile.import_runs}",
            "-",
            "-",
            "in none",
            (Check(float(with_aiohttp), 0.0, at_most=True, gross_gate=False),),
            gate=False,  # a fact, not a ratio: a test asserts it
        ),
    ]


def measure_rss(profile: Profile, server: BenchServer, report: Report) -> None:
    """Peak RSS after import + one client, and after one call, beside httpx alone doing the same."""
    token = server.raw_token("bench-rss-raw")
    args = (server.url, CLIENT_SECRET, token)
    sdk_runs, httpx_runs = [], []
    for _ in range(profile.rss_runs):
        sdk_runs.append([int(v) for v in run_python(_RSS_SDK_CODE, *args).split()])
        httpx_runs.append([int(v) for v in run_python(_RSS_HTTPX_CODE, *args).split()])
    for index, label, limit in (
        (0, "import + one client", None),
        (1, "import + client + one call", 5 * 2**20),
    ):
        value = statistics.median(run[index] for run in sdk_runs)
        baseline = statistics.median(run[index] for run in httpx_runs)
        difference = value - baseline
        report.figures.append(
            Figure(
                f"peak RSS after {label}",
                fmt_mib(value),
                f"{fmt_mib(baseline)} (httpx alone)",
                f"{difference / 2**20:+.1f} MiB",
                "-" if limit is None else f"<= +{limit / 2**20:g} MiB",
                () if limit is None else (Check(difference, limit, at_most=True, gross_gate=False),),
            )
        )
