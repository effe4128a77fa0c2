"""The argument checks and the JSON encoding that the builders share.

Each check returns the value it was given (or a plain copy) or raises :class:`ChalkInputError`
naming the argument, before anything is sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from chalk_client._core.errors import ChalkInputError
from chalk_client._core.header import is_header_value
from chalk_client._core.token import parse_rfc3339

__all__ = ["encode_json"]


def encode_json(body: Any, what: str) -> bytes:  # noqa: ANN401 - any JSON-able value
    """Compact UTF-8 JSON; datetimes and dates as ISO 8601, array scalars as Python numbers."""
    try:
        return json.dumps(
            body, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default
        ).encode()
    except ChalkInputError:
        raise
    except (TypeError, ValueError, RecursionError) as err:
        raise ChalkInputError(f"{what} cannot be sent as JSON: {err}") from None


def generated_request(
    endpoint: Any,  # noqa: ANN401 - a chalk_openapi.api module
    model: Any = None,  # noqa: ANN401 - its request model, or None to send `body` as it is
    body: Mapping[str, Any] | bytes | None = None,
    /,
    *,
    what: str = "the body",
    **params: str,
) -> tuple[str, str, bytes | None, str]:
    """(method, path, encoded body, media type) of a request as the generated endpoint builds it.

    `params` are the endpoint's path parameters (quoted by it). A mapping `body` goes through the
    generated `model` (``from_dict``, then the endpoint's ``to_dict``); with no `model` it is sent as
    it is (the online query, on the hot path, where the model costs 13 us a call: its body is
    checked against the spec by the contract tests, and against the model's rendering by a lockstep
    test). A `bytes` body is a binary operation's (``application/octet-stream``), sent as it is. The
    endpoint's ``_get_kwargs`` is private to the generator, but stable in the version pinned in
    pyproject.toml; a test pins it.
    """
    arguments: dict[str, object] = dict(params)
    if isinstance(body, bytes):
        arguments["body"] = _Payload(body)
    elif body is not None:
        arguments["body"] = model.from_dict(dict(body)) if model is not None else _AsIs(body)
    built = endpoint._get_kwargs(**arguments)
    method, path = str(built["method"]).upper(), str(built["url"])
    if "content" in built:
        content = built["content"]
        if not isinstance(content, bytes):
            raise TypeError(f"{path}: the generated endpoint did not send the binary body as given")
        return method, path, content, str(built["headers"]["Content-Type"])
    content = encode_json(built["json"], what) if "json" in built else None
    return method, path, content, "application/json"


class _Payload:
    """A binary request body as the generated endpoints read it (their ``File``'s ``payload``)."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


class _AsIs:
    """A request body that renders as the mapping it holds (what a generated model's ``to_dict`` gives)."""

    __slots__ = ("_body",)

    def __init__(self, body: Mapping[str, Any]) -> None:
        self._body = body

    def to_dict(self) -> Mapping[str, Any]:
        return self._body


def _default(value: object) -> Any:  # noqa: ANN401 - any JSON-able value
    if isinstance(value, datetime):
        return _aware(value, "a datetime value").isoformat()
    if isinstance(value, date):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy and similar scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    tolist = getattr(value, "tolist", None)  # numpy arrays, pandas Series
    if callable(tolist):
        return tolist()
    raise TypeError(
        f"a value of type {type(value).__name__} is not JSON (use str, int, float, bool, None, lists, dicts)"
    )


def _feature_mapping(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ChalkInputError(
            f"{name} must be a mapping of feature name to value, got {type(value).__name__}"
        )
    for key in value:
        if not isinstance(key, str) or not key:
            raise ChalkInputError(f"{name} keys must be non-empty feature names (str), got {key!r}")
    return dict(value)


def _column(value: object, name: str) -> list[Any]:
    if type(value) is list:
        return value  # as it is: callers read columns, never change them
    if isinstance(value, set | frozenset):
        raise ChalkInputError(f"input[{name!r}] is a set, which has no order; pass a list")
    if isinstance(value, str | bytes | bytearray | Mapping) or not _is_iterable_column(value):
        return [value]  # a scalar (or a struct value): a column of one
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        listed = tolist()
        if isinstance(listed, list):
            return listed
    try:
        return list(value)  # type: ignore[call-overload,no-any-return]
    except TypeError as err:
        raise ChalkInputError(f"input[{name!r}] is not a column of values: {err}") from None


def _is_iterable_column(value: object) -> bool:
    if isinstance(value, list | tuple | Sequence):
        return True
    # Array-likes (numpy, pandas) count as columns, except zero-dimensional arrays (shape ()).
    return hasattr(value, "__len__") and hasattr(value, "__iter__") and getattr(value, "shape", None) != ()


def _strings(value: object, name: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ChalkInputError(f"{name} must be a list of strings, got {type(value).__name__}")
    items = list(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ChalkInputError(f"{name} must hold non-empty strings, got {item!r}")
    return items


def _string_map(value: object, name: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ChalkInputError(f"{name} must be a mapping of str to str, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise ChalkInputError(
                f"{name} must map str to str (e.g. {{'user.name': '1h'}}), got {key!r}: {item!r}"
            )
    return dict(value)


def _string(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ChalkInputError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _optional_string(value: object, name: str) -> str | None:
    return None if value is None else _string(value, name)


def _header_string(value: object, name: str) -> str | None:
    """An optional argument that travels in an HTTP header: printable ASCII only."""
    text = _optional_string(value, name)
    if text is not None and not is_header_value(text):
        raise ChalkInputError(
            f"{name} {text!r} is sent in an HTTP header, which carries printable ASCII only"
        )
    return text


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ChalkInputError(f"{name} must be True or False, got {value!r}")
    return value


def _aware(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ChalkInputError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ChalkInputError(
            f"{name} is a naive datetime ({value.isoformat()}); give it a time zone, "
            "e.g. datetime.now(timezone.utc), so the SDK does not have to guess"
        )
    return value


def _time(value: object, name: str) -> datetime:
    if isinstance(value, str):
        parsed = parse_rfc3339(value)
        if parsed is None:
            raise ChalkInputError(f"{name} {value!r} is not an ISO 8601 time with a UTC offset")
        return parsed
    return _aware(value, name)


def _is_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False
