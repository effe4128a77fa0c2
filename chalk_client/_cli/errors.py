"""The command's exit statuses and its one-line failures.

Every failure is one ``error: ...`` line on stderr and an exit status from :data:`EXIT_CODES`, never
a traceback for a mistake in the setup or the arguments. Output cut short
(``chalk-client ... | head -1``) ends quietly.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Final

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
        "file), the network or the server, an upload or a deletion the server answered with errors "
        "(one 'error:' line each), a failed or timed-out offline job, a file that cannot be "
        "written, a port that is taken"
    ),
    EXIT_ANSWER_ERRORS: "query: the server answered, but reported errors (printed with the values)",
    EXIT_MISSING_EXTRA: "an optional extra is not installed (the line names the pip install)",
    EXIT_USAGE: (
        "usage: an unknown command or option, an option value that is not valid, or options "
        "that do not go together"
    ),
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_BROKEN_PIPE: "the output was closed early (e.g. piped into head)",
}
"""Every exit status of the command, and what it means (the ``--help`` epilog lists them)."""


class CommandError(Exception):
    """A failure the command reports as one ``error:`` line, with its exit status; and with
    `details`, one more ``error:`` line for each (the server's errors, one per line)."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR, *, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.details = tuple(details)


def _fail(message: str, code: int, details: Sequence[str] = ()) -> int:
    """Print `message`, then each of `details`, as one ``error:`` line each on stderr; returns `code`."""
    lines = [
        " ".join(part.strip() for part in text.splitlines() if part.strip()) for text in (message, *details)
    ]
    with contextlib.suppress(OSError):  # stderr closed too: nothing more to say
        print("".join(f"error: {line}\n" for line in lines), end="", file=sys.stderr, flush=True)
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
