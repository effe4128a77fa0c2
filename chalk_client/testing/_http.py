"""The HTTP layer of :class:`~chalk_client.testing.ChalkServer`: a raw ASGI app and a small router.

uvicorn parses HTTP; this module turns each ASGI request into a :class:`Request`, finds its handler
by ``(method, path)``, and writes the handler's :class:`Response`. It is kept small because every
request of a benchmark goes through it: exact paths resolve with one dict lookup, the body is read
with as few ``receive()`` calls as the client's chunks allow, and a response is two ``send()`` calls.

One app can serve several listening addresses: each local port may have its own name and router
(:meth:`App.listen`), and every request knows which one it came in on (:attr:`Request.served_by`).
An observer, when given, sees every request and its status before the answer goes out.

Handlers raise :class:`ApiError` to answer with the shared Chalk error body
``{"detail": ..., "trace": ..., "errors": [ChalkError, ...]}``; any other exception becomes a 500 with
the same body, and is logged on the ``chalk_client.testing`` logger.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any, Final, Protocol

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "ApiError",
    "App",
    "Handler",
    "Observer",
    "Request",
    "Response",
    "Router",
    "chalk_error",
    "error_response",
    "json_response",
    "new_trace_id",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]

DEFAULT_MAX_BODY_BYTES: Final = 16 * 1024 * 1024

_logger = logging.getLogger("chalk_client.testing")

_JSON_CONTENT_TYPE: Final = (b"content-type", b"application/json")
_CONNECTION_CLOSE: Final = (b"connection", b"close")
# Compact separators: smaller bodies, and the C encoder does the work.
_encode_json = json.JSONEncoder(separators=(",", ":")).encode


class Request:
    """One HTTP request, with its body already read.

    Attributes:
        method: The HTTP method, upper case.
        path: The URL path, percent-decoded, without the query string.
        query_string: The raw query string.
        headers: The raw ASGI headers: ``(lower-case name, value)`` byte pairs.
        body: The whole request body.
        path_params: Values of the ``{name}`` segments of the route's path template.
        served_by: The name of the listening address the request came in on (``"api"`` by default).
        query_name: Set by a handler that learns the request's query name, for the app's observer.
        fault: The kind of the injected fault that applies to it (``"drop_before"``, ...), or None.
    """

    __slots__ = (
        "body",
        "fault",
        "headers",
        "method",
        "path",
        "path_params",
        "query_name",
        "query_string",
        "served_by",
    )

    def __init__(
        self,
        method: str,
        path: str,
        *,
        query_string: bytes = b"",
        headers: Sequence[tuple[bytes, bytes]] = (),
        body: bytes = b"",
        path_params: Mapping[str, str] | None = None,
        served_by: str = "api",
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = headers
        self.body = body
        self.path_params: Mapping[str, str] = path_params if path_params is not None else {}
        self.served_by = served_by
        self.query_name: str | None = None
        self.fault: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        key = name.lower().encode("latin-1")
        for header_name, value in self.headers:
            if header_name == key:
                return value.decode("latin-1")
        return None

    def json(self) -> Any:  # noqa: ANN401 - any JSON value
        """The body parsed as JSON; a body that does not parse raises a 400 ``PARSE_FAILED``."""
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ApiError(400, "PARSE_FAILED", "the request body is not valid JSON") from None

    def __repr__(self) -> str:
        # Never the body or the headers: they carry secrets and tokens.
        return f"<Request {self.method} {self.path}>"


class Response:
    """A complete answer: status, raw headers (with ``content-length``) and body.

    With a positive `chunk_size`, the body is sent in ASGI messages of at most that many bytes
    (``more_body``), as a large download is; otherwise in one.
    """

    __slots__ = ("body", "chunk_size", "headers", "status")

    def __init__(self, status: int, headers: RawHeaders, body: bytes, *, chunk_size: int = 0) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"<Response {self.status}, {len(self.body)} bytes>"


def json_response(
    content: Any,  # noqa: ANN401 - any JSON-serializable value
    status: int = 200,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> Response:
    """A ``Content-Type: application/json`` answer with `content` encoded compactly."""
    body = _encode_json(content).encode()
    raw: RawHeaders = [_JSON_CONTENT_TYPE, (b"content-length", str(len(body)).encode())]
    raw.extend(headers)
    return Response(status, raw, body)


def chalk_error(code: str, message: str, category: str = "REQUEST", **extra: Any) -> dict[str, Any]:  # noqa: ANN401
    """A ``ChalkError`` object; `extra` adds optional fields such as ``feature`` or ``resolver``."""
    error: dict[str, Any] = {"code": code, "category": category, "message": message}
    error.update(extra)
    return error


def new_trace_id() -> str:
    """A random trace id, as the shared error body carries."""
    return secrets.token_hex(16)


def error_response(
    status: int,
    detail: str,
    errors: Sequence[Mapping[str, Any]] = (),
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> Response:
    """An answer with the shared error body ``{detail, trace, errors}`` and a fresh trace id."""
    body = {"detail": detail, "trace": new_trace_id(), "errors": list(errors)}
    return json_response(body, status, headers)


class ApiError(Exception):
    """Raised by a handler (or the router) to answer with the shared error body.

    Args:
        status: The HTTP status.
        code: The ``ChalkError`` code, e.g. ``VALIDATION_FAILED``.
        message: The error's ``message``; also the ``detail`` unless `detail` is given.
        category: The ``ChalkError`` category.
        detail: The body's ``detail``.
        errors: Further ``ChalkError`` objects, after the first.
        headers: Extra response headers.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        category: str = "REQUEST",
        detail: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Iterable[tuple[bytes, bytes]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail if detail is not None else message
        self.errors: list[Mapping[str, Any]] = [chalk_error(code, message, category), *errors]
        self.headers = list(headers)

    def to_response(self) -> Response:
        """The answer this error stands for."""
        return error_response(self.status, self.detail, self.errors, self.headers)


Handler = Callable[[Request], Awaitable[Response]]


class Injected(Protocol):
    """A fault taken for one request (what :mod:`chalk_client.testing._faults` hands the app)."""

    async def respond(self, request: Request, handler: Handler) -> Response:
        """The answer under the fault."""
        ...

    def status_sent(self, response: Response) -> int:
        """The status the client receives (0 when no status line is sent)."""
        ...

    async def deliver(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        """Send `response` as the fault says."""
        ...


class FaultSource(Protocol):
    """What the app asks of a fault plan: whether any fault is in force, and the one for a request.

    A protocol, so this module need not import the plan (which imports this module's types).
    """

    @property
    def armed(self) -> bool:
        """Whether any fault is in force (one attribute check per request otherwise)."""
        ...

    def take(self, request: Request) -> Injected | None:
        """The fault for `request`, if one matches."""
        ...


Observer = Callable[[Request, int], None]
"""Called with each request and the status it is answered with, just before the answer is sent."""

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Router:
    """Maps ``(method, path)`` to a handler.

    A path is exact (``/v1/oauth/token``) or a template whose ``{name}`` segments match one path
    segment each (``/v1/runs/{run_id}``). Exact paths cost one dict lookup; templates are tried in
    the order they were added. A known path with another method is a 405 with ``Allow``; an
    unknown path is a 404, whose message ends with `not_found_hint`.
    """

    def __init__(self, *, not_found_hint: str = "") -> None:
        self._not_found_hint = not_found_hint
        self._exact: dict[str, dict[str, Handler]] = {}
        self._templates: list[tuple[re.Pattern[str], str, dict[str, Handler]]] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        """Route `method` requests for `path` (exact or template) to `handler`."""
        if not path.startswith("/"):
            raise ValueError(f"a route path starts with '/': {path!r}")
        method = method.upper()
        if _PARAM.search(path) is None:
            methods = self._exact.setdefault(path, {})
        else:
            methods = self._template_methods(path)
        if method in methods:
            raise ValueError(f"route {method} {path} is already defined")
        methods[method] = handler

    def _template_methods(self, template: str) -> dict[str, Handler]:
        for _, existing, known in self._templates:
            if existing == template:
                return known
        pattern: list[str] = []
        position = 0
        for match in _PARAM.finditer(template):
            pattern.append(re.escape(template[position : match.start()]))
            pattern.append(f"(?P<{match.group(1)}>[^/]+)")
            position = match.end()
        pattern.append(re.escape(template[position:]))
        methods: dict[str, Handler] = {}
        self._templates.append((re.compile("".join(pattern)), template, methods))
        return methods

    def routes(self) -> set[tuple[str, str]]:
        """Every ``(method, path or template)`` this router serves."""
        found = {(method, path) for path, methods in self._exact.items() for method in methods}
        found.update((method, template) for _, template, methods in self._templates for method in methods)
        return found

    def resolve(self, method: str, path: str) -> tuple[Handler, Mapping[str, str] | None]:
        """The handler and path parameters for a request; raises :class:`ApiError` 404 or 405."""
        params: Mapping[str, str] | None = None
        methods = self._exact.get(path)
        if methods is None:
            for pattern, _, candidate in self._templates:
                match = pattern.fullmatch(path)
                if match is not None:
                    methods, params = candidate, match.groupdict()
                    break
            else:
                raise ApiError(
                    404, "VALIDATION_FAILED", f"no such endpoint: {method} {path}{self._not_found_hint}"
                )
        handler = methods.get(method)
        if handler is None:
            allow = ", ".join(sorted(methods))
            raise ApiError(
                405,
                "VALIDATION_FAILED",
                f"{method} is not allowed on {path}; allowed: {allow}",
                headers=[(b"allow", allow.encode())],
            )
        return handler, params


class App:
    """The raw ASGI 3 application: routes, reads the body (capped), runs the handler, answers.

    Args:
        router: Where requests go, unless their local port was given its own router with
            :meth:`listen`.
        max_body_bytes: A larger body is answered with 413, and the connection is closed.
        name: The :attr:`Request.served_by` of requests that `router` serves.
        observer: Called with every answered request and its status before the answer is sent (so
            a client that has its answer also finds it observed); it must be quick. What it raises
            is logged, and the answer is sent anyway. A request whose connection a fault drops is
            observed with the status the client received: 0 when none.
        faults: Faults to inject (:mod:`chalk_client.testing._faults`), checked once each routed
            request's body is read; while none is in force that costs one attribute read.
    """

    def __init__(
        self,
        router: Router,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        name: str = "api",
        observer: Observer | None = None,
        faults: FaultSource | None = None,
    ) -> None:
        self.router = router
        self.max_body_bytes = max_body_bytes
        self.name = name
        self.observer = observer
        self.faults = faults
        self._listeners: dict[int, tuple[str, Router]] = {}

    def listen(self, port: int, name: str, router: Router) -> None:
        """Serve requests that arrive on local `port` with `router`, as `name`."""
        listeners = dict(self._listeners)
        listeners[port] = (name, router)
        self._listeners = listeners  # replaced whole: the serving thread reads it without a lock

    def forget_listeners(self) -> None:
        """Serve every port with the default router again."""
        self._listeners = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI ``http`` request; other scope types are ignored (no lifespan, no websockets)."""
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        path: str = scope["path"]
        name, router = self.name, self.router
        if self._listeners:
            server = scope.get("server")
            if server is not None:
                name, router = self._listeners.get(server[1], (name, router))
        headers: Sequence[tuple[bytes, bytes]] = scope["headers"]
        request = Request(method, path, query_string=scope["query_string"], headers=headers, served_by=name)
        injected = None
        try:
            handler, params = router.resolve(method, path)
            body = await self._read_body(headers, receive)
            if body is None:  # the client went away
                return
            request.body = body
            if params is not None:
                request.path_params = params
            plan = self.faults
            if plan is not None and plan.armed:
                injected = plan.take(request)
            if injected is None:
                response = await handler(request)
            else:
                response = await injected.respond(request, handler)
        except ApiError as exc:
            response = exc.to_response()
        except Exception:
            _logger.exception("ChalkServer: unhandled error answering %s %s", method, path)
            response = error_response(
                500,
                "Internal Server Error",
                [chalk_error("INTERNAL_SERVER_ERROR", "the test server failed; see its log")],
            )
        status = response.status if injected is None else injected.status_sent(response)
        if self.observer is not None:
            try:
                self.observer(request, status)
            except Exception:
                _logger.exception("ChalkServer: the request observer failed on %s %s", method, path)
        if injected is not None:
            await injected.deliver(response, scope, receive, send)
            return
        await send({"type": "http.response.start", "status": response.status, "headers": response.headers})
        body, step = response.body, response.chunk_size
        if step <= 0 or len(body) <= step:
            await send({"type": "http.response.body", "body": body})
            return
        for start in range(0, len(body), step):
            end = start + step
            await send({"type": "http.response.body", "body": body[start:end], "more_body": end < len(body)})

    async def _read_body(self, headers: Sequence[tuple[bytes, bytes]], receive: Receive) -> bytes | None:
        limit = self.max_body_bytes
        for name, value in headers:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    raise self._too_large()
                break
        message = await receive()
        if message["type"] != "http.request":
            return None
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            if len(body) > limit:
                raise self._too_large()
            return body
        chunks = [body]
        size = len(body)
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> ApiError:
        return ApiError(
            413,
            "VALIDATION_FAILED",
            f"the request body is larger than {self.max_body_bytes} bytes",
            # The rest of the body is not read, so the connection cannot carry another request.
            headers=[_CONNECTION_CLOSE],
        )
