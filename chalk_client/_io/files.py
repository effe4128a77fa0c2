"""Result files on disk: download a signed URL into a file atomically, and create files safely.

- A download (the drivers' answer to a ``Fetch`` step, written into a :class:`PartFile`) streams
  the file to a temporary name beside its target, in chunks of :data:`DOWNLOAD_CHUNK_BYTES`, checks
  the length against ``Content-Length``, then renames it. A failed file leaves nothing behind. The
  request asks for the bytes as stored (``Accept-Encoding: identity``) and sends no
  ``Authorization`` header: the URL's signature is the credential.
- Files are created with the usual permissions (:func:`create_file`), and the directory they go
  into is created when missing (:func:`_as_directory`).

Retries, refreshing an expired URL and removing the files of a failed download are decided by the
download flow (``chalk_client._api.offline_flows``), not here.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

from chalk_client._core.steps import _TruncatedError

__all__ = ["DOWNLOAD_CHUNK_BYTES", "RAW_FILE", "PartFile", "create_file"]

DOWNLOAD_CHUNK_BYTES: Final = 1 << 20
# The bytes on the wire are the file: no compression to undo, and Content-Length counts them.
RAW_FILE: Final = {"Accept-Encoding": "identity"}


def create_file(directory: Path, prefix: str, suffix: str) -> tuple[int, Path]:
    """A new file with a unique name in `directory`, open for writing, with the usual permissions.

    Created with mode 0o666, which the process's umask masks as for any file a program writes
    (``tempfile.mkstemp`` would make it 0600: a dataset others cannot read). ``O_EXCL`` makes the
    name unique; ``os.umask`` is never called (it is not thread-safe).
    """
    import secrets

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = directory / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a unique file name in {directory}")  # pragma: no cover


class PartFile:
    """A file being downloaded: a temporary name beside `target`, renamed only once complete."""

    def __init__(self, target: Path) -> None:
        fd, name = create_file(target.parent, f".{target.name}.", ".part")
        self._file = os.fdopen(fd, "wb")
        self._temporary = name
        self._target = target
        self._written = 0
        self._done = False

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._written += len(chunk)

    def commit(self, expected: str | None) -> None:
        """Check the length against `expected` (``Content-Length``), then move the file into place."""
        self._file.close()
        if expected is not None and expected.isdigit() and int(expected) != self._written:
            raise _TruncatedError(f"the body ended after {self._written} of {int(expected)} bytes")
        os.replace(self._temporary, self._target)
        self._done = True

    def discard(self) -> None:
        """Remove the temporary file unless it was committed."""
        if not self._done:
            self._file.close()
            with contextlib.suppress(OSError):
                self._temporary.unlink()


def _as_directory(directory: str | os.PathLike[str]) -> Path:
    """`directory` as a path, created (with its parents) when missing."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    return path
