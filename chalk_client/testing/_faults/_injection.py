"""What a fault does to the one call it applies to: :class:`Injection`.

The answer comes from the endpoint's handler (delayed, altered, or cut short on the wire) or is one
of the fault's own: an error status with the Chalk error body, a 429 with ``Retry-After``, a
truncated JSON document, a proxy's HTML page, an empty body. Drop faults close the connection
before, in the middle of, or instead of the answer; ``revoke_token`` revokes every token first.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
from collections.abc import Callable, Iterable
from typing import Any, Final

from chalk_client.testing._faults._connections import Connections
from chalk_client.testing._faults._endpoints import required_fields
from chalk_client.testing._faults._fault import Fault, FaultKind
from chalk_client.testing._http import (
    Handler,
    RawHeaders,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    chalk_error,
    error_response,
    json_response,
)

__all__ = ["Injection"]

# A JSON document cut off in the middle, as a proxy that gave up half-way would deliver it.
_TRUNCATED_JSON: Final = b'{"data":[{"field":"user.name","value":"Ada Lov'
_JSON: Final = (b"content-type", b"application/json")
# Kinds whose answer comes from the endpoint's handler (possibly altered, delayed or cut short).
_RUN_HANDLER: Final = frozenset(
    {
        FaultKind.DELAY,
        FaultKind.DROP_MID_BODY,
        FaultKind.DROP_AFTER_STORE,
        FaultKind.MISSING_FIELDS,
        FaultKind.REVOKE_TOKEN,
    }
)


class Injection:
    """One fault applied to one call: builds the answer, then delivers it (or drops it).

    Made by :meth:`~chalk_client.testing.FaultPlan.take` for the app; its methods run on the
    server's event loop. The call counts as in flight
    (:attr:`~chalk_client.testing.FaultPlan.in_flight`) until :meth:`deliver` is done, or
    :meth:`respond` is cancelled.
    """

    __slots__ = ("_connections", "_done", "_finish", "_revoke", "fault")

    def __init__(
        self,
        fault: Fault,
        *,
        revoke: Callable[[], None],
        connections: Connections,
        finish: Callable[[], None],
    ) -> None:
        self.fault = fault
        self._revoke = revoke
        self._connections = connections
        self._finish = finish
        self._done = False

    def _finished(self) -> None:
        if not self._done:
            self._done = True
            self._finish()

    async def respond(self, request: Request, handler: Handler) -> Response:
        """The answer to `request` under the fault (the handler's, altered, or one of its own)."""
        try:
            return await self._respond(request, handler)
        except Exception:
            raise  # the app answers with the error, then calls deliver()
        except BaseException:
            self._finished()  # cancelled (the server is stopping): deliver() will not run
            raise

    async def _respond(self, request: Request, handler: Handler) -> Response:
        fault = self.fault
        kind = fault.kind
        if kind in _RUN_HANDLER:
            if kind is FaultKind.DELAY:
                await asyncio.sleep(fault.seconds)
            elif kind is FaultKind.REVOKE_TOKEN:
                self._revoke()
            response = await handler(request)
            if kind is FaultKind.MISSING_FIELDS:
                return _without_fields(response, fault.fields, request)
            return response
        if kind is FaultKind.DROP_BEFORE:
            return Response(0, [], b"")  # never sent
        status = fault.status_code
        assert status is not None  # every other kind has one (Fault.__post_init__)
        if kind is FaultKind.STATUS:
            if fault.body is not None:
                length = (b"content-length", str(len(fault.body)).encode())
                content_type = [] if _has_header(fault.headers, "content-type") else [_JSON]
                return Response(status, [*content_type, length], fault.body)
            return _status_answer(status, f"injected fault: {_phrase(status)}")
        if kind is FaultKind.RATE_LIMIT:
            headers: RawHeaders = []
            if fault.retry_after is not None:
                headers.append((b"retry-after", f"{fault.retry_after:g}".encode()))
            return error_response(
                429,
                "injected fault: too many requests",
                [chalk_error("UPSTREAM_FAILED", "rate limited; slow down", "NETWORK")],
                headers,
            )
        if kind is FaultKind.INVALID_JSON:
            return _raw(status, b"application/json", _TRUNCATED_JSON)
        if kind is FaultKind.HTML_PAGE:
            return _raw(status, b"text/html; charset=utf-8", _html_page(status))
        if kind is FaultKind.EMPTY_BODY:
            return _raw(status, b"application/json", b"")
        # UNKNOWN_ERROR_CODE
        unknown = chalk_error(fault.code, f"an error of a kind this client has not seen ({fault.code})")
        if status >= 400:
            return error_response(status, f"injected fault: error code {fault.code}", [unknown])
        response = await handler(request)
        return _with_error(response, unknown, status)

    def status_sent(self, response: Response) -> int:
        """The status line the client receives under the fault: 0 when the connection is dropped first."""
        if self.fault.kind in (FaultKind.DROP_BEFORE, FaultKind.DROP_AFTER_STORE):
            return 0
        return response.status

    async def deliver(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        """Send `response` as the fault says: whole, cut off half-way, or not at all."""
        try:
            await self._deliver(response, scope, receive, send)
        finally:
            self._finished()

    async def _deliver(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self.fault
        kind = fault.kind
        headers = response.headers
        if fault.headers:
            headers = [
                *headers,
                *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in fault.headers),
            ]
        if kind in (FaultKind.DROP_BEFORE, FaultKind.DROP_AFTER_STORE):
            await self._abort(scope, receive)
            return
        if kind is FaultKind.DROP_MID_BODY:
            body = response.body
            declared = max(len(body), 1)  # always more than the half that is sent
            headers = [(k, v) for k, v in headers if k != b"content-length"]
            headers.append((b"content-length", str(declared).encode()))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            await self._abort(scope, receive)
            return
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _abort(self, scope: Scope, receive: Receive) -> None:
        transport = self._connections.find(scope)
        if transport is None:
            raise RuntimeError(
                "a drop fault needs the connection's transport: serve the app with "
                "FaultPlan.protocol_class() as uvicorn's http protocol"
            )
        transport.abort()
        # Wait until uvicorn has seen the connection go (it then expects no answer).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receive(), 1.0)


def _phrase(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _status_code_of(status: int) -> str | None:
    if status == 401:
        return "UNAUTHENTICATED"
    if status == 403:
        return "UNAUTHORIZED"
    if status in (408, 504):
        return "DEADLINE_EXCEEDED"
    if status in (502, 503):
        return "UPSTREAM_FAILED"
    if status >= 500:
        return "INTERNAL_SERVER_ERROR"
    if status >= 400:
        return "VALIDATION_FAILED"
    return None


def _status_answer(status: int, detail: str) -> Response:
    code = _status_code_of(status)
    if code is None:  # a 2xx or 3xx "fault": an empty JSON object
        return json_response({}, status)
    return error_response(status, detail, [chalk_error(code, detail)])


def _raw(status: int, content_type: bytes, body: bytes) -> Response:
    return Response(
        status, [(b"content-type", content_type), (b"content-length", str(len(body)).encode())], body
    )


def _html_page(status: int) -> bytes:
    phrase = _phrase(status)
    return (
        f"<!DOCTYPE html>\n<html><head><title>{phrase}</title></head>\n"
        f"<body><center><h1>{phrase}</h1></center><hr><center>nginx</center></body></html>\n"
    ).encode()


def _has_header(headers: Iterable[tuple[str, str]], name: str) -> bool:
    return any(key.lower() == name for key, _ in headers)


def _json_object(response: Response) -> dict[str, Any] | None:
    try:
        data = json.loads(response.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _without_fields(response: Response, fields: tuple[str, ...] | None, request: Request) -> Response:
    if response.status >= 400:
        return response
    data = _json_object(response)
    if data is None:
        return response
    if fields is None:
        fields = required_fields(request.path, bool(request.path_params))
    kept = {} if fields is None else {k: v for k, v in data.items() if k not in fields}
    return _rebuilt(response, kept)


def _with_error(response: Response, error: dict[str, Any], status: int) -> Response:
    data = _json_object(response)
    if data is None or response.status >= 400:
        return response
    errors = data.get("errors")
    data["errors"] = [*(errors if isinstance(errors, list) else []), error]
    return _rebuilt(response, data, status)


def _rebuilt(response: Response, data: dict[str, Any], status: int | None = None) -> Response:
    extra = [(k, v) for k, v in response.headers if k not in (b"content-type", b"content-length")]
    return json_response(data, response.status if status is None else status, extra)
