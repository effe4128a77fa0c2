"""A pytest plugin that holds every request the SDK sends and every answer ChalkServer gives to the spec.

Enable it with ``-p tests.contract.plugin`` (or ``pytest_plugins`` in ``tests/conftest.py``).

What it checks
    - Requests: every request of every client goes through ``SyncDriver._send`` or
      ``AsyncDriver._send``; both are wrapped (class attributes, for the whole session), and each
      ``Send`` step's method, URL and body are recorded. A request whose ``(method, path)`` is an
      operation of ``openapi/chalk.yaml`` must carry a JSON body that matches the operation's request
      schema (and none when the operation takes none). Other paths, such as a test's own fake
      endpoints or the signed download URLs, are not the spec's business.
    - Answers: ``App.__call__`` (ChalkServer's ASGI app) is wrapped: for a request whose
      ``(method, path)`` is an operation, the ``send`` callable it is given is wrapped to capture the
      status and the body of the answer. Every ``application/json`` answer must match the schema the
      spec gives that operation and status; a status the spec does not document, or an answer in a
      media type the spec does not give it, is a violation too. Only apps of a ChalkServer are
      watched (an ``App`` with a ``FaultPlan``): a test's own ``App`` with its own handlers is not.
    - Binary bodies: an operation whose request or answer the spec gives as
      ``application/octet-stream`` has its byte format checked by the readers of both sides, as
      :data:`BINARY_REQUESTS` and :data:`BINARY_ANSWERS` name them per operation. ``query_bulk``'s
      request must be a ``chal1`` envelope that ChalkServer's reader
      (``chalk_client.testing._feather.decode_request``) takes, and its 200 answer a byte model that
      the SDK's reader (``chalk_client._api.feather.decode_response``) takes, whose errors are
      ``ChalkError`` objects and whose meta a ``QueryMeta``. ``multi_upload_features``'s request
      must be a byte model that ChalkServer's reader (``read_byte_model``) takes, with the one item
      ``table_bytes``, an Arrow table whose columns the attribute ``features`` names (its answer is
      JSON). Error answers are JSON, checked as any other's. A binary operation without a checker
      is a violation.
    - Faults: an answer whose request an injected fault applied to (``FaultPlan.take`` returned an
      injection; it is wrapped to tell the app's wrapper which fault) is checked only when the fault
      leaves the answer as the spec describes it: ``delay``, ``revoke_token``, ``rate_limit``,
      ``unknown_error_code`` (the spec's error codes are an open set), and ``status`` with the
      default error body and a 4xx/5xx status. The deliberately malformed ones (``invalid_json``,
      ``html_page``, ``empty_body``, ``missing_fields``, the drops, a ``status`` with a body of the
      test's own or a 1xx-3xx status) are skipped.

When it fails
    The wrappers only record (no check runs in the server's thread, and nothing is raised into the
    SDK or the server, whose own error handling would swallow it or change the test). An autouse
    fixture checks what was recorded after each test and fails its teardown with every violation:
    the operation, the JSON pointer of each wrong value and the message. What was recorded before a
    test started (by a module fixture's setup, or after the previous test) is checked with it, and
    says so.

Cost
    Recording is an append per request; checking is one jsonschema validation (or one decoding) per
    body, in the test's thread after the test. A request body seen before (same operation, same
    bytes: kept as a digest) is not checked again, and after ``MAX_ANSWERS_PER_KEY`` answers to one path with one status in one test (a load
    test's thousands of identical calls), further ones are counted but not checked.
"""

from __future__ import annotations

import collections
import contextvars
import functools
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
import pytest

from tests.contract import spec

__all__ = ["BINARY_ANSWERS", "BINARY_REQUESTS", "MAX_ANSWERS_PER_KEY", "Recorder", "recorder"]

MAX_ANSWERS_PER_KEY: Final = 500
_MAX_SEEN_REQUESTS: Final = 4096
_JSON: Final = b"application/json"

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]


def _is_json(content_type: bytes | str | None) -> bool:
    if content_type is None:
        return False
    if isinstance(content_type, str):
        content_type = content_type.encode("latin-1")
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == _JSON or (media_type.startswith(b"application/") and media_type.endswith(b"+json"))


def _media_type(content_type: bytes | None) -> str | None:
    if content_type is None:
        return None
    return content_type.split(b";", 1)[0].strip().lower().decode("latin-1")


def _check_bulk_request(body: bytes) -> None:
    """A ``chal1`` envelope, as ChalkServer's reader takes it."""
    from chalk_client.testing._feather import FeatherRequestError, decode_request

    try:
        decode_request(body)
    except FeatherRequestError as err:
        raise AssertionError(f"the body is not a well-formed chal1 envelope: {err}") from None


def _check_bulk_answer(body: bytes) -> None:
    """A byte model, as the SDK's reader takes it, whose errors and metas fit the spec's schemas."""
    from chalk_client._api.feather import decode_response
    from chalk_client._core.errors import ChalkInvalidResponseError

    try:
        answers = decode_response(body, what="the bulk query")
    except ChalkInvalidResponseError as err:
        raise AssertionError(f"the body is not a well-formed bulk answer: {err}") from None
    for index, answer in enumerate(answers):
        for position, error in enumerate(answer.errors):
            spec.validate_component("ChalkError", error, f"result {index}'s errors[{position}]")
        if answer.meta is not None:
            spec.validate_component("QueryMeta", answer.meta, f"result {index}'s meta")


def _check_multi_upload_request(body: bytes) -> None:
    """A byte model, as ChalkServer's reader takes it, whose ``table_bytes`` is an Arrow table whose
    columns ``features`` names, each once (in any order)."""
    from chalk_client.testing._feather import FeatherRequestError, decode_arrow, read_byte_model

    try:
        model = read_byte_model(body)
    except FeatherRequestError as err:
        raise AssertionError(f"the body is not a well-formed byte model: {err}") from None
    features = model.attributes.get("features")
    if not isinstance(features, list) or not all(isinstance(name, str) for name in features):
        raise AssertionError(f"the attribute 'features' is not a list of strings: {features!r}"[:300])
    compression = model.attributes.get("table_compression")
    if compression not in ("uncompressed", "lz4", "zstd"):
        raise AssertionError(f"the attribute 'table_compression' is {compression!r}"[:300])
    if set(model.items) != {"table_bytes"} or model.nested:
        raise AssertionError(
            f"the body's items are {sorted(model.items)} and nested models {sorted(model.nested)}: "
            "it should have the item 'table_bytes' alone"
        )
    try:
        table = decode_arrow(model.items["table_bytes"], "'table_bytes'")
    except FeatherRequestError as err:
        raise AssertionError(str(err)) from None
    if sorted(features) != sorted(table.column_names):
        raise AssertionError(
            f"'features' {features!r} does not name the table's columns {table.column_names!r}"[:400]
        )


BINARY_REQUESTS: Final[dict[str, Callable[[bytes], None]]] = {
    "query_bulk": _check_bulk_request,
    "multi_upload_features": _check_multi_upload_request,
}
"""operationId -> the check of its binary request body (raises ``AssertionError``)."""

BINARY_ANSWERS: Final[dict[str, Callable[[bytes], None]]] = {"query_bulk": _check_bulk_answer}
"""operationId -> the check of its binary 2xx answer body (raises ``AssertionError``)."""


def _fault_keeps_the_contract(fault: Any) -> bool:
    """Whether the answer under `fault` is still one the spec describes (so it is checked)."""
    kind = fault.kind.value
    if kind in ("delay", "revoke_token", "rate_limit", "unknown_error_code"):
        return True
    if kind == "status":
        return fault.body is None and fault.status_code is not None and fault.status_code >= 400
    return False


class Recorder:
    """What the SDK sent and ChalkServer answered since the last check, and the checks.

    Any thread appends (a deque's append is atomic); the test's thread drains and checks.
    """

    def __init__(self) -> None:
        # ("request", method, url, body) and ("answer", method, path, status, body, content_type)
        self._pending: collections.deque[tuple[Any, ...]] = collections.deque()
        self._seen_requests: collections.OrderedDict[tuple[str, bytes | None], None] = (
            collections.OrderedDict()
        )
        self.requests_checked = 0
        self.answers_checked = 0
        self.answers_skipped = 0  # faulted on purpose
        self.answers_capped = 0  # beyond MAX_ANSWERS_PER_KEY in one test
        self.seconds = 0.0  # spent checking

    # -- recording (any thread) ----------------------------------------------------------------

    def request(self, method: str, url: str, body: bytes | None) -> None:
        self._pending.append(("request", method, url, body))

    def answer(self, method: str, path: str, status: int, body: bytes, content_type: bytes | None) -> None:
        self._pending.append(("answer", method, path, status, body, content_type))

    def skipped(self) -> None:
        self.answers_skipped += 1

    # -- checking (the test's thread) ----------------------------------------------------------

    def check(self) -> list[str]:
        """Check what was recorded since the last call; the violations, as messages."""
        started = time.perf_counter()
        violations: list[str] = []
        answers_per_key: collections.Counter[tuple[str, int]] = collections.Counter()
        while True:
            try:
                entry = self._pending.popleft()
            except IndexError:
                break
            try:
                if entry[0] == "request":
                    self._check_request(*entry[1:])
                else:
                    key = (entry[2], entry[3])
                    answers_per_key[key] += 1
                    if answers_per_key[key] > MAX_ANSWERS_PER_KEY:
                        self.answers_capped += 1
                        continue
                    self._check_answer(*entry[1:])
            except AssertionError as exc:
                violations.append(str(exc))
        self.seconds += time.perf_counter() - started
        return violations

    def _check_request(self, method: str, url: str, body: bytes | None) -> None:
        path = urlsplit(url).path or "/"
        operation = spec.match(method, path)
        if operation is None:
            return
        key = (
            operation.operation_id,
            None if body is None else hashlib.blake2b(body, digest_size=16).digest(),
        )
        if key in self._seen_requests:
            return
        self.requests_checked += 1
        where = f"the SDK sent {method} {url}"
        if operation.binary_request:
            check = BINARY_REQUESTS.get(operation.operation_id)
            if check is None:
                raise AssertionError(
                    f"{operation}: a binary request body, and no check for it in BINARY_REQUESTS"
                )
            if not body:
                raise AssertionError(f"{operation}: {where} without the binary body the spec requires")
            try:
                check(body)
            except AssertionError as exc:
                raise AssertionError(f"{operation}: {where}\n{exc}") from None
        else:
            if not body:
                parsed: Any = spec.NO_BODY
            else:
                try:
                    parsed = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raise AssertionError(
                        f"{operation}: {where} with a body that is not JSON: {body[:200]!r}"
                    ) from None
            try:
                spec.validate_request(method, path, parsed)
            except AssertionError as exc:
                raise AssertionError(f"{where}\n{exc}") from None
        self._seen_requests[key] = None
        if len(self._seen_requests) > _MAX_SEEN_REQUESTS:
            self._seen_requests.popitem(last=False)

    def _check_answer(
        self, method: str, path: str, status: int, body: bytes, content_type: bytes | None
    ) -> None:
        operation = spec.match(method, path)
        if operation is None:  # pragma: no cover - the app's wrapper records operations only
            return
        self.answers_checked += 1
        where = f"ChalkServer answered {method} {path} with {status}"
        media_type = _media_type(content_type)
        documented = operation.media_types(status)
        if media_type == spec.BINARY_MEDIA_TYPE and media_type in documented:
            check = BINARY_ANSWERS.get(operation.operation_id)
            if check is None:
                raise AssertionError(f"{operation}: a binary answer, and no check for it in BINARY_ANSWERS")
            try:
                check(body)
            except AssertionError as exc:
                raise AssertionError(f"{operation}: {where}\n{exc}") from None
            return
        if not _is_json(content_type):
            shown = content_type.decode("latin-1") if content_type is not None else "no content type"
            if documented and spec.JSON_MEDIA_TYPE not in documented:
                raise AssertionError(
                    f"{operation}: {where}, {shown}: the spec documents {', '.join(documented)}"
                )
            raise AssertionError(f"{operation}: {where}, {shown}: the spec documents JSON answers only")
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise AssertionError(f"{operation}: {where}, a body that is not JSON: {body[:200]!r}") from None
        try:
            spec.validate_response(method, path, status, parsed)
        except AssertionError as exc:
            raise AssertionError(f"{where}\n{exc}") from None


recorder: Final = Recorder()
"""The session's recorder (one per process; each xdist worker has its own)."""


# -- the wrappers ------------------------------------------------------------------------------

# The capture of the answer the app is writing in this task (the app runs one task per request).
_capture: contextvars.ContextVar[_Capture | None] = contextvars.ContextVar("contract_capture", default=None)


class _Capture:
    """Wraps an ASGI ``send``: keeps the status and body of a JSON answer, and records it just
    before its last body message goes out (so the client never has it before it is recorded)."""

    __slots__ = ("_chunks", "_send", "content_type", "fault", "method", "path", "status")

    def __init__(self, send: Send, method: str, path: str) -> None:
        self._send = send
        self.method = method
        self.path = path
        self.status: int | None = None
        self.content_type: bytes | None = None
        self.fault: Any = None
        self._chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        try:
            kind = message["type"]
            if kind == "http.response.start":
                self.status = message["status"]
                empty = False
                for raw_name, value in message.get("headers", ()):
                    name = raw_name.lower()
                    if name == b"content-type":
                        self.content_type = value
                    elif name == b"content-length":
                        empty = value.strip() == b"0"
                if empty:  # the client has the whole answer once the start is sent
                    self._done()
                    self.status = None
            elif kind == "http.response.body" and self.status is not None:
                self._chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._done()
        except Exception as exc:  # pragma: no cover - recording must never break the server
            recorder.answer(self.method, self.path, -1, repr(exc).encode(), None)
        await self._send(message)

    def _done(self) -> None:
        status = self.status
        if status is None:  # pragma: no cover - a body before the start is uvicorn's error
            return
        if self.fault is not None and not _fault_keeps_the_contract(self.fault):
            recorder.skipped()
            return
        body = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        recorder.answer(self.method, self.path, status, body, self.content_type)


def _watched(app: Any) -> bool:
    from chalk_client.testing._faults._plan import FaultPlan

    return isinstance(getattr(app, "faults", None), FaultPlan)


def _wrap_app_call(original: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    @functools.wraps(original)
    async def __call__(self: Any, scope: Any, receive: Any, send: Send) -> None:
        if scope.get("type") != "http" or not _watched(self):
            return await original(self, scope, receive, send)
        method, path = scope["method"], scope["path"]
        if spec.match(method, path) is None:  # the storage downloads, /_faults, unknown paths
            return await original(self, scope, receive, send)
        capture = _Capture(send, method, path)
        token = _capture.set(capture)
        try:
            return await original(self, scope, receive, capture.send)
        finally:
            _capture.reset(token)

    return __call__


def _wrap_take(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def take(self: Any, request: Any) -> Any:
        injection = original(self, request)
        if injection is not None:
            capture = _capture.get()
            if capture is not None:
                capture.fault = injection.fault
        return injection

    return take


def _wrap_sync_send(original: Callable[..., object]) -> Callable[..., object]:
    @functools.wraps(original)
    def _send(self: Any, step: Any, pool: Any) -> object:
        recorder.request(step.method, step.url, step.body)
        return original(self, step, pool)

    return _send


def _wrap_async_send(original: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
    @functools.wraps(original)
    async def _send(self: Any, step: Any, pool: Any) -> object:
        recorder.request(step.method, step.url, step.body)
        return await original(self, step, pool)

    return _send


def _install(patch: pytest.MonkeyPatch) -> None:
    from chalk_client._io.async_driver import AsyncDriver
    from chalk_client._io.sync_driver import SyncDriver

    patch.setattr(SyncDriver, "_send", _wrap_sync_send(SyncDriver._send))
    patch.setattr(AsyncDriver, "_send", _wrap_async_send(AsyncDriver._send))
    try:
        from chalk_client.testing._faults._plan import FaultPlan
        from chalk_client.testing._http import App
    except ImportError:  # pragma: no cover - without the testing extra there is no ChalkServer
        return
    patch.setattr(App, "__call__", _wrap_app_call(App.__call__))
    patch.setattr(FaultPlan, "take", _wrap_take(FaultPlan.take))


# -- pytest ------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _contract_wrappers() -> Iterator[None]:
    """Wrap the drivers' ``_send``, ChalkServer's app and its fault plan's ``take`` for the session
    (before any module fixture starts a server or sends a request)."""
    with pytest.MonkeyPatch.context() as patch:
        _install(patch)
        yield
    leftover = recorder.check()
    if leftover:
        pytest.fail(_report(leftover, "after the last test (a fixture's teardown)"), pytrace=False)


@pytest.fixture(autouse=True)
def _contract(_contract_wrappers: None) -> Iterator[None]:
    """Fail the test whose requests or answers break the spec (in its teardown, with every violation)."""
    before = recorder.check()
    yield
    violations = recorder.check()
    violations.extend(
        f"(sent or answered before this test started: in a fixture's setup, or after the previous test)\n{v}"
        for v in before
    )
    if violations:
        pytest.fail(_report(violations), pytrace=False)


def _report(violations: list[str], when: str | None = None) -> str:
    title = f"{len(violations)} violation{'s' if len(violations) != 1 else ''} of openapi/chalk.yaml"
    if when is not None:
        title += f", {when}"
    return title + ":\n\n" + "\n\n".join(violations)
