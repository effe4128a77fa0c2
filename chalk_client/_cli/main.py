"""The ``chalk-client`` command: query, upload, offline-query, whoami, token, config, dev-server, demo.

Every failure is one ``error: ...`` line on stderr and an exit status from :data:`EXIT_CODES`, never
a traceback for a mistake in the setup or the arguments; the secret and the token are never printed
unless ``--show-token`` asks for the token. ``query`` exits 2 when the server answered but reported
errors (they are printed with the values). Output cut short (``chalk-client ... | head -1``) ends
quietly, and ``dev-server`` stops the same way on SIGTERM as on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, Final, NoReturn, TextIO

from chalk_client import OfflineQuery, OfflineQueryStatus, OnlineQueryResult
from chalk_client._cli.format import describe_result
from chalk_client._client import ChalkClient
from chalk_client._core.config import _FIELDS, ChalkClientConfig, resolve_command_line
from chalk_client._core.errors import (
    ChalkConfigError,
    ChalkInputError,
    ChalkMissingDependencyError,
    ChalkSDKError,
)
from chalk_client._core.token import Token
from chalk_client._version import __version__

__all__ = ["EXIT_CODES", "main"]

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_ANSWER_ERRORS: Final = 2
EXIT_MISSING_EXTRA: Final = 3
EXIT_USAGE: Final = 64
EXIT_INTERRUPTED: Final = 130
EXIT_BROKEN_PIPE: Final = 141

EXIT_CODES: Final = {
    EXIT_OK: "success",
    EXIT_ERROR: (
        "the command failed: configuration or credentials, invalid input (an --input, the input "
        "file), the network or the server, a failed or timed-out offline job, a file that cannot be "
        "written, a port that is taken"
    ),
    EXIT_ANSWER_ERRORS: "query: the server answered, but reported errors (printed with the values)",
    EXIT_MISSING_EXTRA: "an optional extra is not installed (the line names the pip install)",
    EXIT_USAGE: "usage: an unknown command or option, or an option value that is not valid",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_BROKEN_PIPE: "the output was closed early (e.g. piped into head)",
}
"""Every exit status of the command, and what it means (the ``--help`` epilog lists them)."""

# How the command line spells the options that set configuration fields: messages name them.
_OPTIONS: Final = {
    "client_id": "--client-id",
    "api_server": "--api-server",
    "environment": "--environment",
    "branch": "--branch",
    "allow_insecure_http": "--allow-insecure-http",
}


class CommandError(Exception):
    """A failure the command reports as one ``error:`` line, with its exit status."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see :data:`EXIT_CODES`)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:  # --help, --version, or a usage error: already written
        _flush_stdout()
        raise
    command: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        code = command(args, sys.stdout)
        if not _flush_stdout():
            return EXIT_BROKEN_PIPE
        return code
    except BrokenPipeError:
        _flush_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CommandError as err:
        return _fail(str(err), err.exit_code)
    except ChalkMissingDependencyError as err:
        return _fail(str(err), EXIT_MISSING_EXTRA)
    except ChalkSDKError as err:
        return _fail(str(err), EXIT_ERROR)


def _fail(message: str, code: int) -> int:
    """Print `message` as one ``error:`` line on stderr; returns `code`."""
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    with contextlib.suppress(OSError):  # stderr closed too: nothing more to say
        print(f"error: {line}", file=sys.stderr, flush=True)
    return code


def _flush_stdout() -> bool:
    """Flush stdout; False when its reader has gone. Then later writes, and the interpreter's last
    flush at exit, go to the null device instead of printing a BrokenPipeError."""
    try:
        sys.stdout.flush()
        return True
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return False


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one ``error:`` line and :data:`EXIT_USAGE`."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see `{self.prog} --help`)\n")


def _epilog() -> str:
    lines = ["exit status:"]
    lines += [f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES.items()]
    return "\n".join(lines)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1 to 65535, or 0 for a free one")
    return port


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return seconds


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chalk-client",
        description=(
            "The chalk-client SDK's command line: query and upload features, inspect configuration "
            "and tokens, run a local server."
        ),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"chalk-client {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def connection_options(sub: argparse.ArgumentParser) -> None:
        # No --client-secret: a secret on the command line shows up in `ps` and shell history.
        sub.add_argument(
            "--client-id",
            help="overrides CHALK_CLIENT_ID and the chalk login file (the secret: CHALK_CLIENT_SECRET)",
        )
        sub.add_argument("--api-server", help="overrides CHALK_API_SERVER (default https://api.chalk.ai)")
        sub.add_argument("--environment", help="an environment id or name")
        sub.add_argument("--branch", help="send every call to this branch")
        sub.add_argument(
            "--allow-insecure-http",
            action="store_true",
            help="allow credentials over plain http:// to a non-loopback host",
        )

    query = commands.add_parser("query", help="compute or look up feature values for one entity")
    connection_options(query)
    query.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="FEATURE=VALUE",
        help="a known value, e.g. user.id=1 (repeat for more; VALUE is read as JSON when it parses)",
    )
    query.add_argument(
        "--output", action="append", required=True, metavar="FEATURE", help="a feature to return"
    )
    query.add_argument(
        "--include-meta", action="store_true", help="show the resolver and cache hit of each value"
    )
    query.add_argument("--query-name", help="a named query")
    query.add_argument("--json", action="store_true", help="print the answer as JSON")
    query.set_defaults(run=_query)

    upload = commands.add_parser("upload", help="write feature values")
    connection_options(upload)
    upload.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="FEATURE=VALUE",
        help="a value, e.g. user.id=1 --input user.name=Ada; repeat a feature for more rows",
    )
    upload.set_defaults(run=_upload)

    _offline_parser(commands, connection_options)

    whoami = commands.add_parser("whoami", help="show the identity behind the credentials")
    connection_options(whoami)
    whoami.set_defaults(run=_whoami)

    token = commands.add_parser(
        "token", help="exchange credentials and show the token's environments and expiry"
    )
    connection_options(token)
    token.add_argument("--show-token", action="store_true", help="print the access token itself")
    token.set_defaults(run=_token)

    config = commands.add_parser("config", help="show each resolved setting and where it came from")
    connection_options(config)
    config.set_defaults(run=_config)

    server = commands.add_parser(
        "dev-server", help="run a Chalk-compatible server on 127.0.0.1 until Ctrl-C or SIGTERM"
    )
    server.add_argument("--port", type=_port, default=0, help="port to listen on (default: a free one)")
    server.add_argument("--token-lifetime", type=_seconds, default=3600.0, help="seconds a token lives")
    server.set_defaults(run=_dev_server)

    demo = commands.add_parser("demo", help="a tour of the SDK against a local server")
    demo.add_argument("--token-lifetime", type=_seconds, default=4.0, help="seconds a demo token lives")
    demo.set_defaults(run=_demo)
    return parser


def _offline_parser(
    commands: Any,  # noqa: ANN401 - argparse's private _SubParsersAction
    connection_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    offline = commands.add_parser(
        "offline-query", help="build a dataset in the background; wait for it and save it as parquet"
    )
    connection_options(offline)
    source = offline.add_mutually_exclusive_group()
    source.add_argument(
        "--input-file",
        metavar="CSV",
        help="input rows: a header of feature names, then one row per entity (cells read as JSON when they parse)",
    )
    source.add_argument("--job-id", help="follow a job submitted earlier instead of submitting one")
    offline.add_argument(
        "--output", action="append", default=[], metavar="FEATURE", help="a feature to compute"
    )
    offline.add_argument(
        "--required-output",
        action="append",
        default=[],
        metavar="FEATURE",
        help="rows without it are dropped",
    )
    offline.add_argument("--dataset-name", help="name the dataset")
    offline.add_argument("--max-samples", type=int, help="keep at most this many rows")
    offline.add_argument("--wait", action="store_true", help="wait for the job, then save its results")
    offline.add_argument("--timeout", type=float, help="with --wait: seconds to wait at most")
    offline.add_argument(
        "--cancel-on-timeout", action="store_true", help="with --timeout: cancel the job when time runs out"
    )
    offline.add_argument(
        "--out",
        metavar="PATH",
        help="with --wait: a .parquet file (default <job id>.parquet), or a directory for the raw parts",
    )
    offline.set_defaults(run=_offline_query)


def _resolve(args: argparse.Namespace, *, require_credentials: bool) -> ChalkClientConfig:
    """The configuration, with the options' own names as their sources (and in its messages)."""
    return resolve_command_line(
        {
            "client_id": args.client_id,
            "api_server": args.api_server,
            "environment": args.environment,
            "branch": args.branch,
        },
        options=_OPTIONS,
        allow_insecure_http=args.allow_insecure_http,
        require_credentials=require_credentials,
    )


def _token(args: argparse.Namespace, out: TextIO) -> int:
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        token = client.get_token()
        out.write(describe_token(token, show_token=args.show_token))
    return 0


def _query(args: argparse.Namespace, out: TextIO) -> int:
    inputs = {name: values[-1] for name, values in _pairs(args.input).items()}
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        result = client.query(inputs, args.output, include_meta=args.include_meta, query_name=args.query_name)
    out.write(_json_answer(result) if args.json else describe_result(result))
    return EXIT_ANSWER_ERRORS if result.errors else EXIT_OK


def _json_answer(result: OnlineQueryResult) -> str:
    errors = [error.to_dict() for error in result.errors]
    return json.dumps({"data": result.to_dict(), "errors": errors}, indent=2, default=str) + "\n"


def _upload(args: argparse.Namespace, out: TextIO) -> int:
    columns = _pairs(args.input)
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        result = client.upload_features(columns)
    trace = f" (trace {result.trace_id})" if result.trace_id else ""
    out.write(f"uploaded {result.rows} row(s) of {', '.join(result.features)}{trace}\n")
    return 0


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


def read_input_file(path: str) -> dict[str, list[Any]]:
    """A CSV file as input columns: the header names the features; cells are JSON when they parse."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except OSError as err:
        raise ChalkInputError(f"cannot read --input-file {path}: {err.strerror or err}") from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise ChalkInputError(f"--input-file {path} is not a UTF-8 CSV file: {err}") from None
    if not rows or not any(rows[0]):
        raise ChalkInputError(f"--input-file {path} is empty: its first line must name the features")
    header, body = rows[0], [row for row in rows[1:] if row]
    columns: dict[str, list[Any]] = {name.strip(): [] for name in header}
    if len(columns) != len(header) or "" in columns:
        raise ChalkInputError(f"--input-file {path}: the header needs distinct, non-empty feature names")
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ChalkInputError(
                f"--input-file {path}, line {number}: {len(row)} cells where the header has {len(header)}"
            )
        for name, cell in zip(columns, row, strict=True):
            columns[name].append(_cell(cell))
    return columns


def _cell(text: str) -> Any:  # noqa: ANN401 - any JSON value
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # a bare word is a string


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
        from chalk_client._api.tables import _read_table, _require
        from chalk_client._io.files import create_file

        try:
            pq = _require("pyarrow.parquet", "arrow", f"combining {len(parts)} result files into {out}")
        except ChalkMissingDependencyError as err:
            raise CommandError(
                f"{err}; or save the {len(parts)} parts as they are, without pyarrow, into a directory "
                f"with --out DIR/. The job is done: re-attach with `chalk-client offline-query --job-id "
                f"{job.job_id} --wait --out {job.job_id}/`",
                EXIT_MISSING_EXTRA,
            ) from None
        table = _read_table(parts, job._columns())
        fd, temporary = create_file(out.parent, f".{out.name}.", ".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                pq.write_table(table, handle)
            os.replace(temporary, out)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    return [out]


def _whoami(args: argparse.Namespace, out: TextIO) -> int:
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        me = client.whoami()
    out.write(
        f"user:         {me.user}\nteam:         {me.team_id or '-'}\nenvironment:  {me.environment_id or '-'}\n"
    )
    return 0


def _pairs(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["user.id=1", "user.id=2"]`` -> ``{"user.id": [1, 2]}``; values are JSON when they parse."""
    columns: dict[str, list[Any]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ChalkInputError(f"--input {item!r} is not FEATURE=VALUE (e.g. user.id=1)")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw  # a bare word is a string: user.name=Ada
        columns.setdefault(name.strip(), []).append(value)
    return columns


def describe_token(token: Token, *, show_token: bool = False, now: datetime | None = None) -> str:
    """A few lines about a token: environments, expiry, and the token only when asked."""
    now = now or datetime.now(UTC)
    left = (token.expires_at - now).total_seconds()
    lines = [
        f"token:        {token.access_token if show_token else '******** (--show-token to print it)'}",
        f"type:         {token.token_type}",
        f"expires at:   {token.expires_at.isoformat()} (in {left:.0f} s)",
        f"api server:   {token.api_server or '-'}",
        f"primary env:  {token.primary_environment or '-'}",
    ]
    if token.environment_id_to_name:
        lines.append("environments:")
        for env_id, name in sorted(token.environment_id_to_name.items()):
            engine = token.engines.get(env_id, "-")
            marker = " (primary)" if env_id == token.primary_environment else ""
            lines.append(f"  {env_id:<16} {name:<12} engine {engine}{marker}")
    return "\n".join(lines) + "\n"


def _config(args: argparse.Namespace, out: TextIO) -> int:
    config = _resolve(args, require_credentials=False)
    width = max(len(f) for f in _FIELDS)
    for field in _FIELDS:
        value = getattr(config, field)
        shown = "-" if value is None else ("********" if field == "client_secret" else value)
        source = config.sources.get(field, "not set")
        out.write(f"{field:<{width}}  {shown}  ({source})\n")
    # The network settings the command line's client uses (proxy credentials masked).
    from chalk_client._core.network import resolve_network

    try:
        network = resolve_network(
            proxy=None, verify=True, cert=None, trust_env=True, transport="urllib3", caller_transport=False
        )
    except ChalkConfigError as err:
        out.write(f"{'network':<{width}}  error: {err}\n")
        return 0
    out.write(f"{'proxy':<{width}}  {network.proxies.describe(config.api_server)}\n")
    out.write(f"{'ca':<{width}}  {network.ca.text}\n")
    return 0


def _dev_server(args: argparse.Namespace, out: TextIO) -> int:
    server_class = _chalk_server("dev-server")
    try:
        server = server_class(port=args.port, token_lifetime=args.token_lifetime)
    except ValueError as err:
        raise CommandError(str(err), EXIT_USAGE) from None
    with _stop_on_sigterm():
        try:
            server.start()
        except RuntimeError as err:
            raise CommandError(_listen_failure(err, args.port)) from None
        try:
            # These are the throwaway credentials of a local test server, printed so you can use them.
            out.write(
                f"ChalkServer listening on {server.url} (Ctrl-C to stop)\n\n"
                f"export CHALK_API_SERVER={server.url}\n"
                f"export CHALK_CLIENT_ID={server.client_id}\n"
                f"export CHALK_CLIENT_SECRET={server.client_secret}\n"
            )
            out.flush()
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM: from the moment the URL is out
            server.stop()
            out.write("\nstopped\n")
            out.flush()
        finally:
            server.stop()  # does nothing when already stopped
    return EXIT_OK


def _chalk_server(command: str) -> Any:  # noqa: ANN401 - the ChalkServer class
    """ChalkServer, or a CommandError naming the testing extra when it cannot be imported."""
    try:
        from chalk_client.testing import ChalkServer
    except ImportError as err:  # ChalkMissingDependencyError, or a broken install of uvicorn
        raise CommandError(_missing_testing_extra(command, err), EXIT_MISSING_EXTRA) from None
    return ChalkServer


def _missing_testing_extra(command: str, err: ImportError) -> str:
    missing = f"{err.name.split('.')[0]} is missing" if err.name else str(err)
    return (
        f"`chalk-client {command}` needs the testing extra, which is not installed ({missing}): "
        "pip install 'chalk-client[testing]'"
    )


def _listen_failure(err: RuntimeError, port: int) -> str:
    """Why the server could not listen, in words that say what to do."""
    cause = err.__cause__
    if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
        return f"port {port} on 127.0.0.1 is taken: pass another --port, or leave it out for a free one"
    if isinstance(cause, OSError) and cause.errno in (errno.EACCES, errno.EPERM):
        return (
            f"not allowed to listen on port {port} ({cause.strerror}): ports below 1024 need privileges; "
            "pass a higher --port, or leave it out for a free one"
        )
    return str(err)


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while the block runs, so it stops as Ctrl-C does."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    _chalk_server("demo")
    try:
        import pyarrow.parquet  # noqa: F401 - the demo's offline query writes and reads parquet
    except ImportError as err:
        raise CommandError(_missing_testing_extra("demo", err), EXIT_MISSING_EXTRA) from None
    from chalk_client._cli.demo import run_demo

    return run_demo(out, token_lifetime=args.token_lifetime)


if __name__ == "__main__":
    raise SystemExit(main())
