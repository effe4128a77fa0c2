"""Every measurement of a run, in order, each one a step that can run again on its own."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

from .bulk import measure_bulk
from .bulk_decode import measure_decode
from .figures import Report
from .footprint import measure_import, measure_rss
from .get_token import measure_get_token
from .parsing import measure_parse
from .profiles import Profile
from .query_modes import (
    MODE_ASEQ,
    MODE_SEQ,
    MODE_TASKS,
    MODE_THREADS,
    measure_async_sequential,
    measure_sequential,
    measure_tasks,
    measure_threads,
)
from .saturation import measure_saturation
from .server import BenchServer
from .uploads import measure_uploads

Step = Callable[[Report], None]


def steps(profile: Profile, server: BenchServer) -> list[tuple[str, Step]]:
    """Every measurement, in order; each can run again on its own (a re-measurement)."""
    return [
        ("cached get_token()", lambda report: measure_get_token(profile, server, report)),
        (f"{MODE_SEQ}", lambda report: measure_sequential(profile, server, report)),
        (f"{MODE_ASEQ}", lambda report: measure_async_sequential(profile, server, report)),
        (f"{MODE_TASKS}", lambda report: measure_tasks(profile, server, report)),
        (f"{MODE_THREADS}", lambda report: measure_threads(profile, server, report)),
        ("saturation with expiring tokens", lambda report: measure_saturation(profile, server, report)),
        ("import time", lambda report: measure_import(profile, report)),
        ("peak RSS", lambda report: measure_rss(profile, server, report)),
        ("parsing", lambda report: measure_parse(profile, report)),
        ("bulk queries", lambda report: measure_bulk(profile, server, report)),
        ("bulk decode", lambda report: measure_decode(profile, report)),
        ("bulk uploads", lambda report: measure_uploads(profile, server, report)),
    ]


def run_step(report: Report, label: str, step: Step) -> None:
    """Run one measurement; if it raises, report the error (its traceback on stderr) and go on.

    The SDK may be mid-change: a step that breaks is an ERROR in the output, not the end of the run.
    """
    try:
        step(report)
    except Exception as err:
        traceback.print_exc(file=sys.stderr)
        report.errors.append(f"{label}: the measurement failed: {type(err).__name__}: {err}"[:400])
