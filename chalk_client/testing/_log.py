"""The request log of :class:`~chalk_client.testing.ChalkServer`: what came in, where, and the answer.

Tests read it to check routing (which address served a call) and headers. It keeps the most
recent requests only, so a long benchmark does not grow it without bound, and it never keeps the
``Authorization`` header, nor any body (a bulk query's is binary, and may be megabytes).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping
from typing import Final, NamedTuple

from chalk_client.testing._http import Request
from chalk_client.testing._operations import operation_of

__all__ = ["DEFAULT_MAX_RECORDS", "RequestLog", "RequestRecord"]

DEFAULT_MAX_RECORDS: Final = 10_000


class RequestRecord(NamedTuple):
    """One request the server answered.

    Attributes:
        method: The HTTP method.
        path: The URL path, without the query string.
        served_by: ``"api"`` or ``"engine"``: the address the request came in on.
        headers: Request headers by lower-case name (the last value of a repeated one), without
            ``authorization``.
        status: The HTTP status it was answered with; 0 when an injected fault dropped the
            connection before a status was sent.
        query_name: The query name of an online query or upload (the body's ``query_name``, else
            the ``X-Chalk-Query-Name`` header), or of a bulk query (its first query's
            ``query_name``, else the header), else None.
        fault: The kind of the injected fault that applied to it (``"status"``, ``"drop_before"``,
            ...: a :class:`~chalk_client.testing.FaultKind` value), else None.
        operation: The spec operation it was (its ``operationId``: ``"query_online"``, ...), or
            None for a path the spec does not name (a result file, a control route).
    """

    method: str
    path: str
    served_by: str
    headers: Mapping[str, str]
    status: int
    query_name: str | None = None
    fault: str | None = None
    operation: str | None = None


class RequestLog:
    """The last `max_records` requests, oldest first; any thread may add, read or clear."""

    def __init__(self, max_records: int = DEFAULT_MAX_RECORDS) -> None:
        self._lock = threading.Lock()
        self._records: collections.deque[RequestRecord] = collections.deque(maxlen=max_records)

    def observe(self, request: Request, status: int) -> None:
        """Record `request` and its answer's `status` (an :data:`~._http.Observer`)."""
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in request.headers
            if name != b"authorization"
        }
        record = RequestRecord(
            request.method,
            request.path,
            request.served_by,
            headers,
            status,
            request.query_name,
            request.fault,
            operation_of(request.method, request.path),
        )
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RequestRecord]:
        """A copy of the records kept."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()
