"""The ``dev-server`` and ``demo`` commands, which need the testing extra.

``dev-server`` stops the same way on SIGTERM as on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import signal
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any, TextIO

from chalk_client._cli.errors import EXIT_MISSING_EXTRA, EXIT_OK, EXIT_USAGE, CommandError


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
