"""Every exception the SDK raises, under one root.

The tree::

    ChalkSDKError                      everything chalk_client raises
    ├── ChalkConfigError               configuration missing or malformed: fix the setup
    ├── ChalkInvalidResponseError      an answer that does not parse (HTML, bad JSON, missing fields)
    ├── ChalkUnavailableError          retry later: the server or the network failed
    │   ├── ChalkConnectionError       could not connect, or the connection dropped
    │   │   └── ChalkTimeoutError      no answer in time
    │   └── ChalkServerError           a 5xx answer (also a ChalkAPIStatusError)
    └── ChalkAPIStatusError            the server answered with a 4xx or 5xx status
        ├── ChalkBadRequestError            400
        ├── ChalkAuthenticationError        401 (and 401/403 on the token exchange: credentials rejected)
        ├── ChalkPermissionDeniedError      403
        ├── ChalkNotFoundError              404
        ├── ChalkConflictError              409
        ├── ChalkUnprocessableEntityError   422
        ├── ChalkRateLimitError             429, with ``retry_after``
        └── ChalkServerError                5xx

The server's own error object (``code``, ``category``, ``message``, ...) is the generated model
``chalk_openapi.models.ChalkError``; status errors carry a list of them in ``errors``.

Messages never contain a client secret or an access token: :func:`redact` takes them out of any
text that came from the server before it reaches an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalk_openapi.models.chalk_error import ChalkError

__all__ = [
    "ChalkAPIStatusError",
    "ChalkAuthenticationError",
    "ChalkBadRequestError",
    "ChalkConfigError",
    "ChalkConflictError",
    "ChalkConnectionError",
    "ChalkInvalidResponseError",
    "ChalkNotFoundError",
    "ChalkPermissionDeniedError",
    "ChalkRateLimitError",
    "ChalkSDKError",
    "ChalkServerError",
    "ChalkTimeoutError",
    "ChalkUnavailableError",
    "ChalkUnprocessableEntityError",
]

REDACTED = "[REDACTED]"
# A bearer token is a JWT: three base64url parts, the first a JSON header ("eyJ" is '{"').
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

# Server-supplied text is cut to this many characters in messages: an HTML proxy page is not a message.
_MAX_DETAIL_CHARS = 300


class ChalkSDKError(Exception):
    """The root of every exception raised by chalk_client."""


class ChalkConfigError(ChalkSDKError):
    """The configuration is missing or malformed; the message says which source and how to fix it."""


class ChalkInvalidResponseError(ChalkSDKError):
    """The server answered, but not in a form the SDK understands.

    Attributes:
        method: The HTTP method of the request.
        url: The URL of the request.
        status_code: The HTTP status of the answer.
    """

    def __init__(self, reason: str, *, method: str, url: str, status_code: int) -> None:
        self.method = method
        self.url = url
        self.status_code = status_code
        self.reason = reason
        super().__init__(f"{method} {url} answered {status_code} with a body that does not parse: {reason}")


class ChalkUnavailableError(ChalkSDKError):
    """The server or the network failed; trying again later may succeed."""


class ChalkConnectionError(ChalkUnavailableError):
    """The request could not be sent, or the connection dropped before a full answer.

    Attributes:
        method: The HTTP method of the request.
        url: The URL of the request.
    """

    def __init__(self, message: str, *, method: str, url: str) -> None:
        self.method = method
        self.url = url
        super().__init__(f"{method} {url}: {message}")


class ChalkTimeoutError(ChalkConnectionError):
    """No answer arrived within the timeout."""


class ChalkAPIStatusError(ChalkSDKError):
    """The server answered with a 4xx or 5xx status.

    Attributes:
        status_code: The HTTP status.
        detail: The server's explanation (``detail`` of the error body, or the start of a non-JSON body).
        trace: The trace id to quote to Chalk support, when the server sent one.
        errors: The server's ``ChalkError`` objects, when it sent any.
        method: The HTTP method of the request.
        url: The URL of the request.
    """

    def __init__(
        self,
        *,
        status_code: int,
        detail: str | None,
        trace: str | None,
        errors: Sequence[ChalkError] = (),
        method: str,
        url: str,
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.trace = trace
        self.errors: list[ChalkError] = list(errors)
        self.method = method
        self.url = url
        super().__init__(self._message())

    def _message(self) -> str:
        text = f"{method_url(self.method, self.url)} answered {self.status_code}"
        if self.detail:
            text += f": {self.detail}"
        codes = [str(getattr(e.code, "value", e.code)) for e in self.errors]
        if codes:
            text += f" [{', '.join(codes)}]"
        if self.trace:
            text += f" (trace {self.trace})"
        return text


class ChalkBadRequestError(ChalkAPIStatusError):
    """400: the request was malformed."""


class ChalkAuthenticationError(ChalkAPIStatusError):
    """401, or 401/403 on the token exchange: the credentials or the token were rejected.

    Fix the client id and secret (``chalk-client config`` shows where each came from); retrying
    the same credentials will not help.
    """


class ChalkPermissionDeniedError(ChalkAPIStatusError):
    """403: authenticated, but not allowed to do this."""


class ChalkNotFoundError(ChalkAPIStatusError):
    """404: no such resource."""


class ChalkConflictError(ChalkAPIStatusError):
    """409: the request conflicts with the current state."""


class ChalkUnprocessableEntityError(ChalkAPIStatusError):
    """422: the request was well-formed but not valid."""


class ChalkRateLimitError(ChalkAPIStatusError):
    """429: too many requests.

    Attributes:
        retry_after: Seconds the server asked to wait, when it said (``Retry-After``).
    """

    retry_after: float | None = None


class ChalkServerError(ChalkAPIStatusError, ChalkUnavailableError):
    """5xx: the server failed; trying again later may succeed."""


def method_url(method: str, url: str) -> str:
    """``"POST https://host/path"``, the way every message names a request."""
    return f"{method.upper()} {url}"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace each secret, and anything shaped like a JWT, in `text`; cut it to a readable length."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _JWT.sub(REDACTED, text)
    if len(text) > _MAX_DETAIL_CHARS:
        text = text[:_MAX_DETAIL_CHARS] + "..."
    return text
