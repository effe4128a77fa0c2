"""From an httpx answer to a generated model or an SDK error: the one place answers are unwrapped.

Both clients send their requests and hand the answer here. Nothing in this module does I/O, so the
sync and async clients share every decision about what an answer means:

- :func:`error_for_status` maps any non-2xx answer to one exception class per status family;
- :func:`parse_model` decodes a 2xx body into a generated attrs model, turning every way that can
  fail (HTML, bad JSON, a missing field) into :class:`ChalkInvalidResponseError`;
- :func:`transport_error` wraps httpx's transport failures into the SDK's own classes.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

import httpx
import orjson

from chalk_client._core.errors import (
    ChalkAPIStatusError,
    ChalkAuthenticationError,
    ChalkBadRequestError,
    ChalkConflictError,
    ChalkConnectionError,
    ChalkInvalidResponseError,
    ChalkNotFoundError,
    ChalkPermissionDeniedError,
    ChalkRateLimitError,
    ChalkServerError,
    ChalkTimeoutError,
    ChalkUnprocessableEntityError,
    redact,
)

__all__ = [
    "MODEL_ERRORS",
    "Answer",
    "PlainAnswer",
    "error_for_status",
    "invalid_response",
    "json_object",
    "parse_model",
    "parse_retry_after",
    "transport_error",
]

_STATUS_CLASSES: Mapping[int, type[ChalkAPIStatusError]] = {
    400: ChalkBadRequestError,
    401: ChalkAuthenticationError,
    403: ChalkPermissionDeniedError,
    404: ChalkNotFoundError,
    409: ChalkConflictError,
    422: ChalkUnprocessableEntityError,
    429: ChalkRateLimitError,
}

_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)

# The exceptions a generated `from_dict` raises on a body of the wrong shape: a missing key
# (KeyError), a list where a dict belongs (TypeError, AttributeError), a bad enum (ValueError).
MODEL_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


class Answer(Protocol):
    """What the SDK reads of an HTTP answer: an ``httpx.Response`` is one, and so is the aiohttp path's.

    The async client's default transport reads answers without building an ``httpx.Response`` (a
    measurable share of a call under load); both kinds pass through the same parsers.
    """

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        ...

    @property
    def reason_phrase(self) -> str:
        """The status line's text."""
        ...

    @property
    def headers(self) -> Mapping[str, str]:
        """The answer's headers (case-insensitive keys)."""
        ...

    @property
    def content(self) -> bytes:
        """The whole body, decoded of any content encoding."""
        ...

    @property
    def is_success(self) -> bool:
        """Whether the status is 2xx."""
        ...

    @property
    def request(self) -> httpx.Request:
        """The request this answers (its method and URL name the call in messages)."""
        ...


class PlainAnswer:
    """An answer read by one of the SDK's own transports (urllib3, aiohttp), without httpx types.

    It is what :class:`Answer` asks of an answer, and no more: the parsers read it as they read an
    ``httpx.Response``, and the ``httpx.Request`` that messages name is made only when one does.
    """

    __slots__ = ("_method", "_request", "_url", "content", "headers", "reason_phrase", "status_code")

    def __init__(
        self,
        status_code: int,
        reason_phrase: str,
        headers: Mapping[str, str],
        content: bytes,
        *,
        method: str,
        url: str,
    ) -> None:
        self.status_code = status_code
        self.reason_phrase = reason_phrase
        self.headers = headers
        self.content = content
        self._method = method
        self._url = url
        self._request: httpx.Request | None = None

    @property
    def is_success(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status_code < 300

    @property
    def request(self) -> httpx.Request:
        """The request this answers, made when a message needs its method and URL (rarely)."""
        if self._request is None:
            self._request = httpx.Request(self._method, self._url)
        return self._request

    def __repr__(self) -> str:
        return f"<PlainAnswer [{self.status_code} {self.reason_phrase}]>"


class _FromDict(Protocol):
    @classmethod
    def from_dict(cls: type[_M], src_dict: Mapping[str, Any]) -> _M: ...


_M = TypeVar("_M", bound=_FromDict)


def parse_model(
    model: type[_M],
    response: Answer,
    *,
    required: Iterable[str] = (),
    secrets: Iterable[str | None] = (),
) -> _M:
    """Decode a 2xx answer into `model`, or raise :class:`ChalkInvalidResponseError`.

    `required` names fields that must be non-empty strings (the generated models do not check
    types, so ``{"access_token": 5}`` would otherwise pass).
    """
    data = json_object(response, secrets)
    for name in required:
        value = data.get(name)
        if not isinstance(value, str) or not value:
            raise invalid_response(response, f"the field {name!r} is missing or not a non-empty string")
    return model_from(model, data, response)


def model_from(model: type[_M], data: Mapping[str, Any], response: Answer) -> _M:
    """`data` (the decoded body of `response`) read by the generated `model`, or
    :class:`ChalkInvalidResponseError`."""
    try:
        return model.from_dict(data)
    except MODEL_ERRORS as err:
        raise invalid_response(
            response, f"it does not match the {model.__name__} schema ({type(err).__name__})"
        ) from None


def error_for_status(
    response: Answer,
    *,
    secrets: Iterable[str | None] = (),
    credentials_exchange: bool = False,
    wall_clock: Callable[[], float] | None = None,
    attempts: int | None = None,
) -> ChalkAPIStatusError:
    """The exception for a non-2xx answer, carrying status, detail, trace id and server errors.

    `credentials_exchange` marks the token endpoint, where 403 means the credentials were
    rejected just as 401 does. Text from the server is redacted of every value in `secrets`.
    """
    from chalk_openapi.models.chalk_error import ChalkError

    from chalk_client._core.server_errors import from_generated

    status = response.status_code
    detail, trace, raw_errors = _error_body(response)
    if 300 <= status < 400:
        # Redirects are never followed: one could carry credentials to another host.
        target = response.headers.get("location", "an unnamed location")
        detail = f"a redirect to {target} (not followed: check the configured server URL)"
    secrets = list(secrets)
    errors = []
    for item in raw_errors:
        try:
            parsed = ChalkError.from_dict(item)
        except MODEL_ERRORS:
            continue  # one malformed entry must not hide the status and detail
        if isinstance(parsed.message, str) and isinstance(getattr(parsed.code, "value", parsed.code), str):
            errors.append(from_generated(parsed, redact(parsed.message, secrets)))
    common: dict[str, Any] = {
        "status_code": status,
        "detail": redact(detail, secrets) if detail else None,
        "trace": redact(trace, secrets) if trace else None,
        "errors": errors,
        "method": response.request.method,
        "url": str(response.request.url),
        "attempts": attempts,
    }
    if credentials_exchange and status in (401, 403):
        return ChalkAuthenticationError(**common)
    if status == 429:
        limited = ChalkRateLimitError(**common)
        limited.retry_after = parse_retry_after(response.headers.get("retry-after"), wall_clock=wall_clock)
        return limited
    if status >= 500:
        return ChalkServerError(**common)
    return _STATUS_CLASSES.get(status, ChalkAPIStatusError)(**common)


def transport_error(
    err: httpx.TransportError,
    *,
    method: str,
    url: str,
    attempts: int | None = None,
    note: str = "",
    secrets: Iterable[str | None] = (),
) -> ChalkConnectionError:
    """Wrap an httpx transport failure; raise the result ``from err`` to keep the cause.

    `note` is added to the message (e.g. that an upload may or may not have been stored); text
    from the failure is redacted of every value in `secrets` (proxy credentials).
    """
    return _transport_error(err, method=method, url=url, attempts=attempts, note=note, secrets=list(secrets))


def _transport_error(
    err: httpx.TransportError,
    *,
    method: str,
    url: str,
    attempts: int | None,
    note: str,
    secrets: list[str | None],
) -> ChalkConnectionError:
    from chalk_client._core.network import certificate_failure  # ssl is loaded already: httpx imports it

    failed = certificate_failure(err)
    if failed is not None:
        reason = (
            getattr(failed, "verify_message", None)
            or getattr(failed, "reason", None)
            or "certificate verify failed"
        )
        return ChalkConnectionError(
            f"TLS certificate verification failed ({reason}): the server's certificate is not signed by a "
            "CA this client trusts. Pass verify=<path to your CA bundle> (or an ssl.SSLContext), or set "
            f"SSL_CERT_FILE; not retried, since it will not fix itself{note}",
            method=method,
            url=url,
            attempts=attempts,
        )
    if isinstance(err, httpx.TimeoutException):
        kind = type(err).__name__.replace("Timeout", " timeout").strip().lower()
        return ChalkTimeoutError(
            f"no answer in time ({kind}){note}", method=method, url=url, attempts=attempts
        )
    if isinstance(err, httpx.ConnectError):
        return ChalkConnectionError(
            f"could not connect ({_short(err, secrets)}){note}", method=method, url=url, attempts=attempts
        )
    return ChalkConnectionError(
        f"the connection failed before a full answer ({type(err).__name__}: {_short(err, secrets)}){note}",
        method=method,
        url=url,
        attempts=attempts,
    )


def parse_retry_after(value: str | None, *, wall_clock: Callable[[], float] | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        import time

        now = wall_clock() if wall_clock is not None else time.time()
        seconds = when.timestamp() - now
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def decode_json(content: bytes) -> Any:  # noqa: ANN401 - any JSON value
    """Decode JSON with orjson (about 3.5 times the stdlib's speed on a large answer).

    What orjson refuses but the stdlib reads (an integer wider than 64 bits, ``NaN``) is decoded
    by the stdlib, so the answers accepted are exactly the stdlib's; a real error raises its
    ``ValueError``.
    """
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def json_object(response: Answer, secrets: Iterable[str | None]) -> dict[str, Any]:
    """The JSON object in `response`'s body, or :class:`ChalkInvalidResponseError` saying what it is."""
    content = response.content
    try:
        data = decode_json(content)
    except (ValueError, UnicodeDecodeError, RecursionError):  # Recursion: nested too deep to decode
        if _looks_like_html(response):
            title = redact(_html_title(content), secrets)
            raise invalid_response(response, f"it is an HTML page ({title})") from None
        start = redact(content[:80].decode("utf-8", "replace"), secrets)
        raise invalid_response(response, f"it is not JSON (starts with {start!r})") from None
    if not isinstance(data, dict):
        raise invalid_response(response, f"expected a JSON object, got {type(data).__name__}")
    return data


def _error_body(response: Answer) -> tuple[str | None, str | None, list[Mapping[str, Any]]]:
    """(detail, trace, raw errors) from an error answer of any shape."""
    content = response.content
    header_trace = response.headers.get("x-chalk-trace-id") or None
    try:
        data = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    if isinstance(data, dict):
        detail = data.get("detail")
        if detail is not None and not isinstance(detail, str):
            detail = json.dumps(detail, default=str)
        trace = data.get("trace")
        trace = trace if isinstance(trace, str) and trace else header_trace
        raw = data.get("errors")
        errors = [e for e in raw if isinstance(e, Mapping)] if isinstance(raw, list) else []
        if not detail and errors:
            message = errors[0].get("message")
            detail = message if isinstance(message, str) else None
        return detail, trace, errors
    if not content:
        return (response.reason_phrase or None), header_trace, []
    if _looks_like_html(response):
        return f"an HTML page ({_html_title(content)})", header_trace, []
    return content.decode("utf-8", "replace").strip(), header_trace, []


def _looks_like_html(response: Answer) -> bool:
    head = response.content[:200].lstrip().lower()
    return "html" in response.headers.get("content-type", "") or head.startswith((b"<!doctype", b"<html"))


def _html_title(content: bytes) -> str:
    match = _HTML_TITLE.search(content[:4096])
    if match:
        title = " ".join(match.group(1).decode("utf-8", "replace").split())
        if title:
            return f"title {title[:100]!r}"
    return "no title"


def invalid_response(response: Answer, reason: str) -> ChalkInvalidResponseError:
    """The error for an answer whose body does not parse, naming the request and the `reason`."""
    return ChalkInvalidResponseError(
        reason,
        method=response.request.method,
        url=str(response.request.url),
        status_code=response.status_code,
    )


def _short(err: Exception, secrets: Iterable[str | None] = ()) -> str:
    text = redact(str(err), secrets) or type(err).__name__
    return text if len(text) <= 200 else text[:200] + "..."
