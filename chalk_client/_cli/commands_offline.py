"""The ``offline-query`` command: its progress line and the results saved as parquet.

Its CSV input is read by :func:`chalk_client._cli.tables.read_input_file`, as ``query --input-file``
reads a CSV file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from chalk_client import ChalkClient, ChalkInputError, OfflineQuery, OfflineQueryStatus
from chalk_client._cli.connection import _resolve
from chalk_client._cli.errors import EXIT_MISSING_EXTRA, CommandError
from chalk_client._cli.tables import read_input_file


def _offline_query(args: argparse.Namespace, out: TextIO) -> int:
    if not args.job_id and not args.output:
        raise ChalkInputError("give at least one --output FEATURE (or --job-id to follow a job)")
    progress = ProgressPrinter(sys.stderr)
    inputs = read_input_file(args.input_file) if args.input_file else None  # before any call
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        if args.job_id:
            job = client.get_offline_query(args.job_id, on_progress=progress)
        else:
            job = client.offline_query(
                inputs,
                args.output,
                required_output=args.required_output,
                dataset_name=args.dataset_name,
                max_samples=args.max_samples,
                on_progress=progress,
            )
            out.write(f"submitted offline query job {job.job_id}\n")
            out.flush()  # the job id is out, whatever happens next
        if not args.wait:
            out.write(f"follow it with: chalk-client offline-query --job-id {job.job_id} --wait\n")
            return 0
        job.wait(args.timeout, cancel_on_timeout=args.cancel_on_timeout)
        destination = args.out or f"{job.job_id}.parquet"
        try:
            written = save_results(job, destination)
        except OSError as err:
            where = f" ({err.filename})" if err.filename and str(err.filename) != destination else ""
            raise CommandError(
                f"cannot write the results of job {job.job_id} to {destination}{where}: "
                f"{err.strerror or err}. Re-attach with `chalk-client offline-query --job-id {job.job_id} "
                "--wait --out PATH` to save them elsewhere"
            ) from None
    rows = (
        f"{progress.last.rows} rows, " if progress.last is not None and progress.last.rows is not None else ""
    )
    out.write(f"job {job.job_id} successful: {rows}saved to {', '.join(str(p) for p in written)}\n")
    return 0


class ProgressPrinter:
    """``on_progress`` for the command line: a bar on a terminal, one line per change otherwise."""

    _WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self.last: OfflineQueryStatus | None = None

    def __call__(self, status: OfflineQueryStatus) -> None:
        changed = status != self.last
        self.last = status
        if self._tty:
            filled = round((status.fraction or 0.0) * self._WIDTH)
            bar = "#" * filled + "-" * (self._WIDTH - filled)
            self._stream.write(f"\r[{bar}] {status.describe():<40}")
            if status.finished:
                self._stream.write("\n")
        elif changed:
            self._stream.write(f"offline query: {status.describe()}\n")
        self._stream.flush()


def save_results(job: OfflineQuery, destination: str) -> list[Path]:
    """Save a finished job's results: into a directory (existing, or named with a trailing
    slash) as they come, or else as one parquet file. Files get the usual permissions (0o666
    under the umask), like any file a program writes.

    Raises:
        CommandError: several result files, and no pyarrow to combine them into one.
        OSError: a file or folder could not be written.
    """
    out = Path(destination)
    if out.is_dir() or destination.endswith(("/", os.sep)):
        return job.download(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".chalk-offline-", dir=out.parent) as scratch:
        parts = job.download(scratch)
        if len(parts) == 1:
            os.replace(parts[0], out)  # one part is already the file: no pyarrow needed
            return [out]
        try:
            pq = importlib.import_module("pyarrow.parquet")
        except ImportError:
            raise CommandError(
                f"combining {len(parts)} result files into {out} needs pyarrow.parquet, which is not "
                f"installed: pip install 'chalk-client[arrow]'; or save the {len(parts)} parts as they "
                "are, without pyarrow, into a directory with --out DIR/. The job is done: re-attach "
                f"with `chalk-client offline-query --job-id {job.job_id} --wait --out {job.job_id}/`",
                EXIT_MISSING_EXTRA,
            ) from None
        if parts:
            table = importlib.import_module("pyarrow").concat_tables([pq.read_table(p) for p in parts])
        else:  # no files: to_arrow() has the job's columns, empty (and nothing to download)
            table = job.to_arrow()
        combined = Path(scratch) / "combined.parquet"  # a new file: 0o666 under the umask
        pq.write_table(table, combined)
        os.replace(combined, out)  # the scratch folder is beside `out`: one filesystem
    return [out]
