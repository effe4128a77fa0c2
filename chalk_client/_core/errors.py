"""Every exception the SDK raises, under one root.

The tree::

    ChalkSDKError                      everything chalk_client raises
    ├── ChalkConfigError               configuration missing or malformed: fix the setup
    │   └── ChalkEnvironmentError      the environment is not one the token knows
    ├── ChalkInputError                invalid arguments, caught before anything was sent (a ValueError)
    ├── ChalkResultError               a 200 answer that reports errors (raise_for_errors, uploads)
    ├── ChalkOfflineQueryError         an offline query job failed or was cancelled
    │   └── ChalkOfflineQueryTimeoutError   it did not finish within the wait's timeout
    ├── ChalkDownloadError             a result file could not be downloaded (nothing was left behind)
    ├── ChalkMissingDependencyError    an optional extra is not installed (also an ImportError)
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

The server's own error objects (``code``, ``category``, ``message``, ...) are
:class:`~chalk_client.ChalkServerErrorInfo` (``chalk_client._core.server_errors``); status errors
carry a list of them in ``errors``.

Errors of API calls carry ``attempts``: how many times the request was sent (retries included),
and their message says it.

Messages never contain a client secret or an access token: :func:`redact` takes them out of any
text that came from the server before it reaches an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from chalk_client._core.server_errors import ChalkServerErrorInfo, describe_chalk_error

__all__ = [
    "ChalkAPIStatusError",
    "ChalkAuthenticationError",
    "ChalkBadRequestError",
    "ChalkClientClosedError",
    "ChalkConfigError",
    "ChalkConflictError",
    "ChalkConnectionError",
    "ChalkDownloadError",
    "ChalkEnvironmentError",
    "ChalkInputError",
    "ChalkInvalidResponseError",
    "ChalkMissingDependencyError",
    "ChalkNotFoundError",
    "ChalkOfflineQueryError",
    "ChalkOfflineQueryTimeoutError",
    "ChalkPermissionDeniedError",
    "ChalkRateLimitError",
    "ChalkResultError",
    "ChalkSDKError",
    "ChalkServerError",
    "ChalkTimeoutError",
    "ChalkUnavailableError",
    "ChalkUnprocessableEntityError",
    "describe_chalk_error",
]

REDACTED = "[REDACTED]"
# A bearer token is a JWT: three base64url parts, the first a JSON header ("eyJ" is '{"').
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

# Server-supplied text is cut to this many characters in messages: an HTML proxy page is not a message.
_MAX_DETAIL_CHARS = 300


class ChalkSDKError(Exception):
    """The root of every exception raised by chalk_client.

    Attributes:
        operation_ids: On an error from ``multi_upload_features`` that sent several tables, the
            operation ids of those the server stored before the failure (empty otherwise, and on
            every other call).
    """

    operation_ids: tuple[str, ...] = ()


class ChalkClientClosedError(ChalkSDKError):
    """A call on a client after its ``close()`` / ``aclose()``: a closed client stays closed.

    The same on both clients; make a new client instead (nothing was sent).
    """


class ChalkConfigError(ChalkSDKError):
    """The configuration is missing or malformed; the message says which source and how to fix it."""


class ChalkEnvironmentError(ChalkConfigError):
    """The configured environment is neither an id nor a name the token knows.

    Attributes:
        environment: The value that did not match.
        available: The environments the token knows, as ``{id: name}``.
        source: Where the value came from: ``"argument"``, a variable such as
            ``"CHALK_ACTIVE_ENVIRONMENT"``, the login file, ``"the token's primary_environment"``, ...;
            None when not known.
    """

    def __init__(
        self,
        message: str,
        *,
        environment: str,
        available: Mapping[str, str],
        source: str | None = None,
    ) -> None:
        self.environment = environment
        self.available = dict(available)
        self.source = source
        super().__init__(message)


class ChalkInputError(ChalkSDKError, ValueError):
    """An argument is invalid; nothing was sent. The message names the argument and the fix."""


class ChalkResultError(ChalkSDKError):
    """The server answered 200 but reported errors (from ``raise_for_errors()``, or an upload).

    Attributes:
        errors: The server's errors (:class:`ChalkServerErrorInfo`).
        trace: The trace id, when the server sent one.
        operation_ids: A multi-upload of several tables: the operation ids of those the server
            stored before this one failed (empty otherwise).
    """

    operation_ids: tuple[str, ...]

    def __init__(
        self,
        what: str,
        errors: Sequence[ChalkServerErrorInfo],
        *,
        trace: str | None = None,
        operation_ids: Sequence[str] = (),
    ) -> None:
        self.errors: list[ChalkServerErrorInfo] = list(errors)
        self.trace = trace
        self.operation_ids: tuple[str, ...] = tuple(operation_ids)
        shown = "; ".join(describe_chalk_error(e) for e in self.errors[:5])
        more = f"; and {len(self.errors) - 5} more" if len(self.errors) > 5 else ""
        count = f"{len(self.errors)} error" + ("s" if len(self.errors) != 1 else "")
        text = f"{what} reported {count}: {shown}{more}"
        if trace:
            text += f" (trace {trace})"
        # The messages are the server's text: anything shaped like an access token goes.
        super().__init__(_JWT.sub(REDACTED, text))


class ChalkOfflineQueryError(ChalkSDKError):
    """An offline query job ended without results: it failed, was cancelled, or expired.

    Attributes:
        job_id: The job (the dataset revision) id.
        status: ``"failed"``, ``"cancelled"`` or ``"expired"`` (``"timeout"`` for the subclass).
        errors: The server's errors (:class:`ChalkServerErrorInfo`) for the job.
    """

    def __init__(
        self, message: str, *, job_id: str, status: str, errors: Sequence[ChalkServerErrorInfo] = ()
    ) -> None:
        self.job_id = job_id
        self.status = status
        self.errors: list[ChalkServerErrorInfo] = list(errors)
        if self.errors:
            shown = "; ".join(describe_chalk_error(e) for e in self.errors[:5])
            more = f"; and {len(self.errors) - 5} more" if len(self.errors) > 5 else ""
            message = f"{message}: {shown}{more}"
        super().__init__(message)


class ChalkOfflineQueryTimeoutError(ChalkOfflineQueryError):
    """Waiting for an offline query took longer than its timeout.

    The job keeps running on the server unless the wait was told to cancel it.

    Attributes:
        timeout: The seconds waited.
        cancelled: Whether the SDK cancelled the job when the time ran out.
    """

    def __init__(self, message: str, *, job_id: str, timeout: float, cancelled: bool) -> None:
        self.timeout = timeout
        self.cancelled = cancelled
        super().__init__(message, job_id=job_id, status="timeout")


class ChalkDownloadError(ChalkSDKError):
    """A result file could not be downloaded; no partial file was left behind.

    Attributes:
        url: The file's URL without its query string (signed URLs carry credentials there).
        status_code: The HTTP status of the last answer, or None when none came.
        attempts: How many times the download was tried.
    """

    def __init__(self, message: str, *, url: str, status_code: int | None, attempts: int) -> None:
        self.url = url
        self.status_code = status_code
        self.attempts = attempts
        super().__init__(message + _attempts_note(attempts))


class ChalkMissingDependencyError(ChalkSDKError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class ChalkInvalidResponseError(ChalkSDKError):
    """The server answered, but not in a form the SDK understands.

    Attributes:
        method: The HTTP method of the request.
        url: The URL of the request.
        status_code: The HTTP status of the answer.
        attempts: How many times the request was sent, when known.
    """

    def __init__(
        self, reason: str, *, method: str, url: str, status_code: int, attempts: int | None = None
    ) -> None:
        self.method = method
        self.url = url
        self.status_code = status_code
        self.reason = reason
        self.attempts = attempts
        super().__init__(
            f"{method} {url} answered {status_code} with a body that does not parse: {reason}"
            + _attempts_note(attempts)
        )


class ChalkUnavailableError(ChalkSDKError):
    """The server or the network failed; trying again later may succeed."""


class ChalkConnectionError(ChalkUnavailableError):
    """The request could not be sent, or the connection dropped before a full answer.

    Attributes:
        method: The HTTP method of the request.
        url: The URL of the request.
        attempts: How many times the request was sent, when known.
    """

    def __init__(self, message: str, *, method: str, url: str, attempts: int | None = None) -> None:
        self.method = method
        self.url = url
        self.attempts = attempts
        super().__init__(f"{method} {url}: {message}{_attempts_note(attempts)}")


class ChalkTimeoutError(ChalkConnectionError):
    """No answer arrived within the timeout."""


class ChalkAPIStatusError(ChalkSDKError):
    """The server answered with a 4xx or 5xx status.

    Attributes:
        status_code: The HTTP status.
        detail: The server's explanation (``detail`` of the error body, or the start of a non-JSON body).
        trace: The trace id to quote to Chalk support, when the server sent one.
        errors: The server's errors (:class:`ChalkServerErrorInfo`), when it sent any.
        method: The HTTP method of the request.
        url: The URL of the request.
        attempts: How many times the request was sent, when known.
        hint: What to do about it, when the SDK knows more than the server said (the end of the
            message); None otherwise.
    """

    hint: str | None = None

    def __init__(
        self,
        *,
        status_code: int,
        detail: str | None,
        trace: str | None,
        errors: Sequence[ChalkServerErrorInfo] = (),
        method: str,
        url: str,
        attempts: int | None = None,
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.trace = trace
        self.errors: list[ChalkServerErrorInfo] = list(errors)
        self.method = method
        self.url = url
        self.attempts = attempts
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
        text += _attempts_note(self.attempts)
        if self.hint:
            text += f". {self.hint}"
        return text

    def add_hint(self, hint: str) -> None:
        """End the message with `hint`: what to do, in the SDK's words (never a secret)."""
        self.hint = hint
        self.args = (self._message(),)


class ChalkBadRequestError(ChalkAPIStatusError):
    """400: the request was malformed."""


class ChalkAuthenticationError(ChalkAPIStatusError):
    """401, or 401/403 on the token exchange: the credentials or the token were rejected.

    Fix the client id and secret (``chalk-client config`` shows where each came from); retrying
    the same credentials will not help. On the token exchange (400 too), ``hint`` names the client
    id that was sent and where it and the secret came from, never the secret.
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


def _attempts_note(attempts: int | None) -> str:
    if attempts is None:
        return ""
    return " (1 attempt)" if attempts == 1 else f" (after {attempts} attempts)"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace each secret, and anything shaped like a JWT, in `text`; cut it to a readable length."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _JWT.sub(REDACTED, text)
    if len(text) > _MAX_DETAIL_CHARS:
        text = text[:_MAX_DETAIL_CHARS] + "..."
    return text
