"""The server's error objects as the SDK's own type: :class:`ChalkServerErrorInfo`.

Wherever the server reports an error (``OnlineQueryResult.errors``, ``FeatureResult.error``, the
``errors`` of :class:`~chalk_client.ChalkAPIStatusError`, :class:`~chalk_client.ChalkResultError`
and :class:`~chalk_client.ChalkOfflineQueryError`, ``OfflineQueryStatus.error``) the SDK hands out
this frozen type, made from the generated model ``chalk_openapi.models.ChalkError`` that parsed it.
Its ``code`` and ``category`` are open enums: a value the spec names is a member of
:class:`ChalkErrorCode` (or :class:`ChalkErrorCategory`), which compares equal to its string; one
it does not name is kept as the plain string the server sent.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from chalk_openapi.models.chalk_error import ChalkError

__all__ = [
    "ChalkErrorCategory",
    "ChalkErrorCode",
    "ChalkExceptionInfo",
    "ChalkServerErrorInfo",
    "describe_chalk_error",
    "from_generated",
]


class ChalkErrorCode(enum.StrEnum):
    """The error codes the spec names; a code it does not name stays a plain ``str``."""

    CANCELLED = "CANCELLED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    INVALID_QUERY = "INVALID_QUERY"
    PARSE_FAILED = "PARSE_FAILED"
    RESOLVER_FAILED = "RESOLVER_FAILED"
    RESOLVER_NOT_FOUND = "RESOLVER_NOT_FOUND"
    RESOLVER_TIMED_OUT = "RESOLVER_TIMED_OUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    UNAUTHORIZED = "UNAUTHORIZED"
    UPSTREAM_FAILED = "UPSTREAM_FAILED"
    VALIDATION_FAILED = "VALIDATION_FAILED"


class ChalkErrorCategory(enum.StrEnum):
    """Where an error belongs: a single feature, the request, or the network (open, like the code)."""

    FIELD = "FIELD"
    NETWORK = "NETWORK"
    REQUEST = "REQUEST"


def _open(enum_type: type[enum.StrEnum], value: object) -> Any:  # noqa: ANN401 - the member or the str
    text = str(getattr(value, "value", value))
    try:
        return enum_type(text)
    except ValueError:
        return text


@attrs.frozen(repr=False)
class ChalkExceptionInfo:
    """The exception behind a resolver's error, as the server reported it.

    Attributes:
        kind: The exception's type name, e.g. ``"ZeroDivisionError"``.
        message: Its message.
        stacktrace: The stack trace, when the server sent one.
    """

    kind: str
    message: str
    stacktrace: str | None = None

    def __repr__(self) -> str:
        trace = ", stacktrace=..." if self.stacktrace else ""
        return f"ChalkExceptionInfo(kind={self.kind!r}, message={self.message!r}{trace})"


@attrs.frozen(repr=False)
class ChalkServerErrorInfo:
    """One error the server reported: what went wrong, and where.

    Attributes:
        code: A :class:`ChalkErrorCode` member, or the server's string for a code the spec does not
            name (compare either with a string: ``error.code == "RESOLVER_FAILED"``).
        message: The server's message (a secret in it is replaced).
        category: A :class:`ChalkErrorCategory` member (or the server's string), or None.
        feature: The feature it concerns, if any.
        resolver: The resolver that failed, if any.
        primary_key: The primary key of the row it concerns, as text, if any.
        exception: The exception behind it, if the server sent one.
    """

    code: ChalkErrorCode | str
    message: str
    category: ChalkErrorCategory | str | None = None
    feature: str | None = None
    resolver: str | None = None
    primary_key: str | None = None
    exception: ChalkExceptionInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        """The error as the wire shows it (the spec's ``ChalkError``), without the fields not set."""
        wire: dict[str, Any] = {"code": str(self.code), "message": self.message}
        for name, key in (
            ("category", "category"),
            ("feature", "feature"),
            ("resolver", "resolver"),
            ("primary_key", "display_primary_key"),
        ):
            value = getattr(self, name)
            if value is not None:
                wire[key] = str(value)
        if self.exception is not None:
            wire["exception"] = {
                key: value for key, value in attrs.asdict(self.exception).items() if value is not None
            }
        return wire

    def __repr__(self) -> str:
        shown = [f"code={str(self.code)!r}", f"message={self.message!r}"]
        for name in ("category", "feature", "resolver", "primary_key", "exception"):
            value = getattr(self, name)
            if value is not None:
                shown.append(f"{name}={str(value)!r}" if name == "category" else f"{name}={value!r}")
        return f"ChalkServerErrorInfo({', '.join(shown)})"


def _text(value: object) -> str | None:
    # The generated models mark an absent field with an `Unset` object; only strings count.
    return value if isinstance(value, str) else None


def from_generated(error: ChalkError, message: str | None = None) -> ChalkServerErrorInfo:
    """The SDK's type for a parsed ``chalk_openapi.models.ChalkError`` (`message` replaces its own)."""
    exception = error.exception
    kind = getattr(exception, "kind", None)
    info = None
    if isinstance(kind, str):
        info = ChalkExceptionInfo(
            kind=kind,
            message=_text(getattr(exception, "message", None)) or "",
            stacktrace=_text(getattr(exception, "stacktrace", None)),
        )
    category = _text(getattr(error.category, "value", error.category))
    return ChalkServerErrorInfo(
        code=_open(ChalkErrorCode, error.code),
        message=error.message if message is None else message,
        category=None if category is None else _open(ChalkErrorCategory, category),
        feature=_text(error.feature),
        resolver=_text(error.resolver),
        primary_key=_text(error.display_primary_key),
        exception=info,
    )


def describe_chalk_error(error: ChalkServerErrorInfo) -> str:
    """One line for one of the server's errors: its code, where it happened, and its message.

    The exceptions' own messages and ``chalk-client query`` show the server's errors this way.

    Args:
        error: One of the server's errors (``OnlineQueryResult.errors``, ``ChalkAPIStatusError.errors``).

    Returns:
        ``"<code> (<feature>, <resolver>, key <primary key>): <message>"``, the part in brackets
        naming only what the error has, e.g. ``"RESOLVER_FAILED (user.credit_score, key 3): boom"``.
    """
    where = [value for value in (error.feature, error.resolver) if value]
    if error.primary_key:
        where.append(f"key {error.primary_key}")
    place = f" ({', '.join(where)})" if where else ""
    return f"{error.code}{place}: {error.message}"
