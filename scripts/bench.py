"""Benchmark chalk_client: print a table of figures and write them to BENCHMARKS.md.

Run it as ``scripts/bench`` (``--quick`` for a run of about a minute, ``--check`` to fail on a gross
regression, ``--only bulk`` for the bulk steps alone). Every comparison is a ratio of rounds run side by side in the same run (SDK round, floor
rounds, SDK round, ..., the order rotating), each figure the median of its rounds' figures:

1. the cached ``get_token()``: ns per call, sync and async;
2. "1 thread, sequential": back-to-back ``ChalkClient.query()`` calls against raw ``httpx.Client``
   and raw ``urllib3`` floors posting the same JSON with static headers to the same server, and the
   SDK on httpx's own transport (``transport=httpx.HTTPTransport(...)``, httpcore's pool);
3. "1 task, sequential": ``AsyncChalkClient.query()`` against raw ``httpx.AsyncClient`` and raw
   ``aiohttp``;
4. "256 tasks" sharing one ``AsyncChalkClient`` against the same async floors, and "64 threads"
   sharing one ``ChalkClient`` against the sync floors and the httpcore transport (2 and 4 give the
   sync-transport figures: the default urllib3 transport against httpcore at 1 thread and at 64);
5. saturation with expiring tokens: from cold, no pauses, 5 s of calls with 4 s tokens, 64 threads on
   one ``ChalkClient``, then 256 tasks on one ``AsyncChalkClient``: the token exchanges against the
   count the SDK's refresh schedule implies, the expired tokens the server saw, and the errors;
6. ``import chalk_client`` in a fresh process against ``import httpx`` (and whether it imported
   aiohttp), and peak RSS after import, one client and one call, against httpx alone doing the same;
7. parsing a 1,000-feature online-query answer into ``OnlineQueryResult`` against ``json.loads``;
8. bulk queries: ``ChalkClient.query_bulk()`` of 10,000 rows x 3 features, in rows/s, against
   sequential ``query()`` calls (one row each) and against a raw floor (plain ``httpx.Client``
   posting the same request bytes, ``pyarrow.ipc`` reading the answer's Arrow file);
9. decoding a 100,000-row bulk answer in-process to ``to_arrow()`` against ``pyarrow.ipc`` reading
   the same Arrow bytes alone, and the decode's peak memory (pyarrow's pool and Python's
   allocations, in a fresh process) against the table's size;
10. bulk uploads: ``ChalkClient.multi_upload_features()`` of 100,000 rows (20,000 with ``--quick``;
    one Arrow table) against ``ChalkClient.upload_features()`` of the same rows as JSON, in rows/s
    (a measure, not gated).

The package ``_bench`` beside this script holds the run, one concern a module: ``profiles`` (how long
each measurement runs; the query every call makes), ``figures`` (rows, targets, results, and how
figures are written), ``server`` (the benchmark server's process), ``clients`` (the SDK's calls and
the raw floors), ``rounds`` (paired rounds and the loops that time them), one module per measurement
(``capacity``, ``get_token``, ``query_modes``, ``saturation``, ``footprint``, ``parsing``, ``bulk``,
``bulk_decode``, ``uploads``; ``bulk_answers`` and ``upload_answers`` are the server's half of bulk
queries and uploads), ``steps``
(their order), ``check`` (the ``--check`` gate and its re-measurement), ``run`` (a whole run), and
``tables`` and ``markdown`` (the printed tables and BENCHMARKS.md).

Every loop is bounded in count and in time, and a watchdog ends a run that overstays its budget.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib.util
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from _bench.check import failed_figures
from _bench.markdown import write_markdown
from _bench.profiles import FULL, QUICK, ROOT
from _bench.run import UnknownStepError, clean_environment, run
from _bench.tables import FIGURE_HEADERS, MODE_HEADERS, figure_rows, mode_rows, text_table


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the exit status is 1 with --check when a figure regressed grossly, twice."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute), for CI")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a same-run ratio is worse than half its target (FAIL), measured twice",
    )
    parser.add_argument(
        "--httpx2",
        action="store_true",
        help="also measure raw httpx2.Client (pip install httpx2) at 1 thread and 64, as a reference",
    )
    parser.add_argument(
        "--only",
        metavar="TEXT",
        help="run only the steps whose label holds TEXT (e.g. 'bulk'), without the server's capacity",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the report (default: BENCHMARKS.md for a full run, nothing for --quick or --only)",
    )
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    if args.httpx2:
        if importlib.util.find_spec("httpx2") is None:
            parser.error("--httpx2: httpx2 is not installed (pip install httpx2)")
        profile = replace(profile, httpx2=True)
    whole = not args.quick and args.only is None  # only a whole full run rewrites BENCHMARKS.md unasked
    output = args.output if args.output is not None else (ROOT / "BENCHMARKS.md" if whole else None)
    command = shlex.join(["scripts/bench", *(sys.argv[1:] if argv is None else argv)])
    faulthandler.dump_traceback_later(profile.budget, exit=True)  # a hung run ends; the server follows
    started, clock = datetime.now(UTC), time.perf_counter()
    print(
        f"{command}: {profile.name} run on {os.cpu_count()} CPUs, Python {platform.python_version()}",
        file=sys.stderr,
    )
    with clean_environment():
        try:
            report = run(profile, check=args.check, only=args.only)
        except UnknownStepError as err:
            parser.error(str(err))
    seconds = time.perf_counter() - clock
    faulthandler.cancel_dump_traceback_later()
    print()
    print(text_table(FIGURE_HEADERS, figure_rows(report.figures)))
    print()
    print(text_table(MODE_HEADERS, mode_rows(report.modes)))
    print()
    for error in report.errors:
        print(f"ERROR: {error}")
    if report.errors:
        print()
    for note in report.notes:
        print(f"- {note}")
    print(f"\n{profile.name} run: {seconds:.0f} s")
    if output is not None:
        write_markdown(output, report, command=command, profile=profile, started=started, seconds=seconds)
        print(f"wrote {output}")
    if args.check:
        failed = [f.name for f in failed_figures(report.figures)]
        if failed:
            print(f"check: FAIL (worse than half the target, measured twice): {'; '.join(failed)}")
            return 1
        print("check: no gross regression in the same-run ratios")
    return 0


if __name__ == "__main__":
    sys.exit(main())
