"""The file step of an offline job's flows: what a flow yields to have a file downloaded, and why one failed.

A job's flows (``chalk_client._api.offline_flows``) yield steps, and a driver (the job handles in
``chalk_client._jobs``) carries them out. Most steps carry API types and live with the flows:
``_Send`` (make an API call), ``_Sleep`` (wait) and ``_Report`` (hand a status to the progress
callback). The file step is here, in the pure core, because the I/O layer carries it out
(``chalk_client._io.files``) and may import nothing but the core:

- :class:`_Fetch` asks for `url` to be streamed into `target`. Its reply is None (the file is in
  place), the HTTP status of an answer other than 200, or the error: an ``httpx.TransportError``
  or :class:`_TruncatedError`. Either way no partial file is left behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

__all__ = ["_Fetch", "_TruncatedError"]


class _Fetch(NamedTuple):
    """Stream `url` into `target` (atomically); the reply is None, an HTTP status, or the error."""

    url: str
    target: Path


class _TruncatedError(Exception):
    """The body ended before its ``Content-Length``."""
