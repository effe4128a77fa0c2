"""The ``chalk-client`` command: query, upload, delete, offline-query, whoami, token, config,
dev-server, demo.

:func:`main` parses the arguments (``parser``), runs the command and turns a failure into one
``error: ...`` line on stderr (and one more per error the server reported) and an exit status from
:data:`EXIT_CODES` (``errors``). The commands are grouped by area: ``commands`` (query, upload,
whoami, token, config), ``commands_bulk`` (query --input-file), ``commands_writes``
(upload --input-file, delete), ``commands_offline`` (offline-query) and ``commands_server``
(dev-server, demo). ``tables`` reads the input files and writes the result files; ``connection``
resolves the connection options; ``format`` shows answers as text.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from chalk_client import ChalkMissingDependencyError, ChalkSDKError
from chalk_client._cli.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_MISSING_EXTRA,
    CommandError,
    _fail,
    _flush_stdout,
)
from chalk_client._cli.parser import _parser

__all__ = ["EXIT_CODES", "main"]


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
        return _fail(str(err), err.exit_code, err.details)
    except ChalkMissingDependencyError as err:
        return _fail(str(err), EXIT_MISSING_EXTRA)
    except ChalkSDKError as err:
        return _fail(str(err), EXIT_ERROR)


if __name__ == "__main__":
    raise SystemExit(main())
