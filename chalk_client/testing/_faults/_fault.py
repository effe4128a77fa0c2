"""What goes wrong, and where: :class:`~chalk_client.testing.Fault` and its constructors.

A :class:`Fault` is a frozen value, checked when it is made: what happens (its :class:`FaultKind`),
to which calls (an endpoint selector, ``served_by``), how often (``count``, ``skip``), and the
details of its kind. The package docstring (:mod:`chalk_client.testing._faults`) describes every
kind.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping, Sequence
from typing import Final, Literal, TypedDict, Unpack

from chalk_client.testing._faults._endpoints import path_of

__all__ = ["Fault", "FaultKind", "Where"]

_UNKNOWN_CODE: Final = "QUOTA_EXCEEDED"


class FaultKind(enum.Enum):
    """What a :class:`Fault` does to the calls it applies to.

    :mod:`chalk_client.testing._faults` describes each kind.
    """

    STATUS = "status"
    RATE_LIMIT = "rate_limit"
    DELAY = "delay"
    DROP_BEFORE = "drop_before"
    DROP_MID_BODY = "drop_mid_body"
    DROP_AFTER_STORE = "drop_after_store"
    INVALID_JSON = "invalid_json"
    HTML_PAGE = "html_page"
    EMPTY_BODY = "empty_body"
    MISSING_FIELDS = "missing_fields"
    UNKNOWN_ERROR_CODE = "unknown_error_code"
    REVOKE_TOKEN = "revoke_token"


# The status each kind answers with when none is given; kinds absent here send no status of their own.
_DEFAULT_STATUS: Final[Mapping[FaultKind, int]] = {
    FaultKind.STATUS: 503,
    FaultKind.RATE_LIMIT: 429,
    FaultKind.INVALID_JSON: 200,
    FaultKind.HTML_PAGE: 502,
    FaultKind.EMPTY_BODY: 200,
    FaultKind.UNKNOWN_ERROR_CODE: 400,
}
_DROP_KINDS: Final[Mapping[str, FaultKind]] = {
    "before": FaultKind.DROP_BEFORE,
    "mid_body": FaultKind.DROP_MID_BODY,
    "after_store": FaultKind.DROP_AFTER_STORE,
}


class Where(TypedDict, total=False):
    """The keyword arguments every :class:`Fault` constructor takes besides its own."""

    count: int | None
    skip: int
    served_by: Literal["api", "engine"] | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fault:
    """One way for chosen calls to go wrong; build it with a constructor (``Fault.status(...)``).

    Attributes:
        kind: What happens.
        endpoint: Which calls: a path, a route template, an operation name, or ``"*"``.
        count: How many matching calls it affects; None: until it is removed.
        skip: Matching calls let through before it applies.
        served_by: ``"api"`` or ``"engine"``: only calls to that address; None: both.
        status_code: The status answered (status, rate_limit, invalid_json, html_page, empty_body,
            unknown_error_code); None for the other kinds.
        body: status: the body to send instead of the Chalk error body.
        headers: Extra headers of the answer (kinds that answer).
        seconds: delay: how long to wait before handling the call.
        retry_after: rate_limit: the ``Retry-After`` value in seconds (None: no header).
        fields: missing_fields: the top-level fields to leave out (None: those the spec requires).
        code: unknown_error_code: the error code to send.
    """

    kind: FaultKind
    endpoint: str = "*"
    count: int | None = 1
    skip: int = 0
    served_by: Literal["api", "engine"] | None = None
    status_code: int | None = None
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    retry_after: float | None = None
    fields: tuple[str, ...] | None = None
    code: str = _UNKNOWN_CODE

    def __post_init__(self) -> None:
        kind = self.kind
        if not isinstance(kind, FaultKind):
            raise TypeError(f"kind must be a FaultKind, not {kind!r}")
        path_of(self.endpoint)  # raises for an unknown selector
        count = self.count
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError(f"count must be an int >= 1, or None for 'until removed'; not {count!r}")
        if isinstance(self.skip, bool) or not isinstance(self.skip, int) or self.skip < 0:
            raise ValueError(f"skip must be an int >= 0, not {self.skip!r}")
        if self.served_by not in (None, "api", "engine"):
            raise ValueError(f"served_by must be 'api', 'engine' or None, not {self.served_by!r}")
        default = _DEFAULT_STATUS.get(kind)
        if default is None:
            if self.status_code is not None:
                raise ValueError(f"a {kind.value} fault sends no status of its own; leave status_code unset")
        elif self.status_code is None:
            object.__setattr__(self, "status_code", default)
        else:
            _check_status(self.status_code)
            if kind is FaultKind.RATE_LIMIT and self.status_code != 429:
                raise ValueError("a rate_limit fault answers 429; use Fault.status for other statuses")
        if self.body is not None and kind is not FaultKind.STATUS:
            raise ValueError("only a status fault takes a body")
        if self.body is not None and not isinstance(self.body, bytes):
            raise TypeError(f"body must be bytes, not {type(self.body).__name__}")
        object.__setattr__(self, "headers", tuple((str(k), str(v)) for k, v in self.headers))
        _check_seconds("seconds", self.seconds)
        if self.retry_after is not None:
            _check_seconds("retry_after", self.retry_after)
        if self.fields is not None:
            object.__setattr__(self, "fields", tuple(self.fields))
        if not isinstance(self.code, str) or not self.code:
            raise ValueError(f"code must be a non-empty string, not {self.code!r}")

    # -- constructors ----------------------------------------------------------------------------

    @classmethod
    def status(
        cls,
        endpoint: str,
        status: int = 503,
        *,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        **where: Unpack[Where],
    ) -> Fault:
        """Answer `status`, with the Chalk error body unless `body` is given (the handler does not run).

        Example: ``Fault.status("/v1/query/online", 500, count=3)``.
        """
        raw = body.encode() if isinstance(body, str) else body
        return cls(
            kind=FaultKind.STATUS,
            endpoint=endpoint,
            status_code=status,
            body=raw,
            headers=_header_items(headers),
            **where,
        )

    @classmethod
    def rate_limit(cls, endpoint: str, retry_after: float | None = 1.0, **where: Unpack[Where]) -> Fault:
        """Answer 429 with ``Retry-After: <retry_after>`` (no header when None).

        Example: ``Fault.rate_limit("query_online", retry_after=2.5)``.
        """
        return cls(kind=FaultKind.RATE_LIMIT, endpoint=endpoint, retry_after=retry_after, **where)

    @classmethod
    def delay(cls, endpoint: str, seconds: float, **where: Unpack[Where]) -> Fault:
        """Wait `seconds`, then handle the call normally.

        Example: ``Fault.delay("query_online", 0.5)`` against a client with a 0.2 s read timeout.
        """
        return cls(kind=FaultKind.DELAY, endpoint=endpoint, seconds=seconds, **where)

    @classmethod
    def drop(
        cls,
        endpoint: str,
        when: Literal["before", "mid_body", "after_store"] = "before",
        **where: Unpack[Where],
    ) -> Fault:
        """Close the connection: `before` handling, in the middle of the body, or `after_store`.

        Example: ``Fault.drop("upload_features", when="after_store")``: the rows are stored, the
        client gets no answer.
        """
        kind = _DROP_KINDS.get(when)
        if kind is None:
            raise ValueError(f"when must be one of {', '.join(map(repr, _DROP_KINDS))}; not {when!r}")
        return cls(kind=kind, endpoint=endpoint, **where)

    @classmethod
    def invalid_json(cls, endpoint: str, status: int = 200, **where: Unpack[Where]) -> Fault:
        """Answer `status` with ``Content-Type: application/json`` and a truncated JSON document."""
        return cls(kind=FaultKind.INVALID_JSON, endpoint=endpoint, status_code=status, **where)

    @classmethod
    def html_page(cls, endpoint: str, status: int = 502, **where: Unpack[Where]) -> Fault:
        """Answer `status` with a proxy's HTML error page (``text/html``)."""
        return cls(kind=FaultKind.HTML_PAGE, endpoint=endpoint, status_code=status, **where)

    @classmethod
    def empty_body(cls, endpoint: str, status: int = 200, **where: Unpack[Where]) -> Fault:
        """Answer `status` with ``Content-Type: application/json`` and no body."""
        return cls(kind=FaultKind.EMPTY_BODY, endpoint=endpoint, status_code=status, **where)

    @classmethod
    def missing_fields(
        cls, endpoint: str, fields: Sequence[str] | None = None, **where: Unpack[Where]
    ) -> Fault:
        """Answer what the handler answers, without `fields` (default: those the spec requires)."""
        return cls(
            kind=FaultKind.MISSING_FIELDS,
            endpoint=endpoint,
            fields=None if fields is None else tuple(fields),
            **where,
        )

    @classmethod
    def unknown_error_code(
        cls, endpoint: str, status: int = 400, *, code: str = _UNKNOWN_CODE, **where: Unpack[Where]
    ) -> Fault:
        """An error whose code the spec does not define: a `status` error body, or (2xx) in the answer."""
        return cls(
            kind=FaultKind.UNKNOWN_ERROR_CODE, endpoint=endpoint, status_code=status, code=code, **where
        )

    @classmethod
    def revoke_token(cls, endpoint: str = "*", **where: Unpack[Where]) -> Fault:
        """Revoke every token issued so far just before handling the call (which then gets a 401)."""
        return cls(kind=FaultKind.REVOKE_TOKEN, endpoint=endpoint, **where)


def _check_status(status: object) -> None:
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise ValueError(f"status must be an int in 200..599, not {status!r}")
    if status in (204, 304):
        raise ValueError(f"status {status} cannot carry a body; choose another")


def _check_seconds(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, not {value!r}")


def _header_items(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((headers or {}).items())
