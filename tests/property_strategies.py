"""Shared by the property-based tests (issue 6): the hypothesis profile, JSON strategies, checks.

Not a test module: ``test_properties.py`` and ``test_properties_inputs.py`` import from it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from hypothesis import settings
from hypothesis import strategies as st

from chalk_client import ChalkAPIStatusError, ChalkInvalidResponseError, ChalkResultError, ChalkSDKError
from tests.conftest import SECRET

__all__ = [
    "A_JWT",
    "PROFILE",
    "ascii_texts",
    "check_chalk_errors",
    "check_error",
    "content_types",
    "dumps",
    "json_of",
    "json_values",
    "non_json_bodies",
    "outcome",
    "response",
    "texts",
]

# Registered in this module, not in conftest.py, and never loaded globally: each property passes it to
# `settings(...)`, so other modules' hypothesis tests keep their own defaults.
settings.register_profile(
    "chalk-properties",
    derandomize=True,  # the same examples on every run: CI is deterministic
    database=None,  # nothing written to .hypothesis/
    deadline=None,  # a first call imports the generated models; timing is not the property
    max_examples=100,
    print_blob=False,
)
PROFILE = settings.get_profile("chalk-properties")

A_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

# ---------------------------------------------------------------------------------------------------
# Strategies: JSON of any shape, bodies that are not JSON at all


# Texts the server might echo: the secret (must never reach a message), a JWT, empties, markup.
_TRICKY_TEXT = st.sampled_from(
    [SECRET, f"bad secret {SECRET}!", A_JWT, "", " ", "null", "<b>x</b>", "\u00e9\u20ac\U0001f600", "\x00"]
)
texts = st.text(max_size=30) | _TRICKY_TEXT
# ASCII only (control characters included): what an HTTP header can carry. See the xfails below.
ascii_texts = st.text(st.characters(max_codepoint=127), max_size=30) | _TRICKY_TEXT.filter(str.isascii)


def json_of(strings: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """JSON values of any shape whose strings come from `strings`."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([10**400, -(10**400), 2**63, 1e300, -1e300]),  # beyond float / datetime range
        st.floats(),  # nan and +-inf too: Python's json reads NaN and Infinity
        strings,
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(strings, children, max_size=4),
        max_leaves=12,
    )


json_values = json_of(texts)


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


_HTML = st.builds(
    lambda title, body: f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>",
    texts,
    texts,
).map(str.encode)
non_json_bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=100),  # invalid UTF-8 included
    st.sampled_from([b"\xff\xfe\xfa", b'{"detail": "\xff"}', b"[" * 1200, b'{"a":' * 1200, b"1" * 5000]),
    texts.map(str.encode),
    _HTML,
)
content_types = st.sampled_from(
    [None, "application/json", "text/html; charset=utf-8", "text/plain", "application/octet-stream"]
)


def response(status: int, content: bytes, content_type: str | None = None, **headers: str) -> httpx.Response:
    all_headers = dict(headers)
    if content_type is not None:
        all_headers["content-type"] = content_type
    return httpx.Response(status, content=content, headers=all_headers)


# ---------------------------------------------------------------------------------------------------
# Checks shared by the properties


def check_error(err: ChalkSDKError, *, secret: str | None = SECRET) -> None:
    """An SDK error is printable, never holds `secret`, and has its documented attributes.

    The text of a :class:`ChalkResultError` is the server's error messages as sent: see
    ``test_result_error_messages_never_show_the_secret`` for why it is not checked for the secret here.
    """
    text = str(err)
    assert isinstance(repr(err), str)
    if secret is not None and not isinstance(err, ChalkResultError):
        assert secret not in text
        assert secret not in repr(err)
    if isinstance(err, ChalkAPIStatusError):
        assert isinstance(err.status_code, int)
        assert str(err.status_code) in text
        assert err.detail is None or isinstance(err.detail, str)
        assert err.trace is None or (isinstance(err.trace, str) and err.trace)
        check_chalk_errors(err.errors)
    if isinstance(err, ChalkInvalidResponseError):
        assert str(err.status_code) in text
    if isinstance(err, ChalkResultError):
        check_chalk_errors(err.errors)
        assert err.trace is None or isinstance(err.trace, str)


def check_chalk_errors(errors: object) -> None:
    from chalk_client import ChalkServerErrorInfo

    assert isinstance(errors, list)
    for error in errors:
        assert type(error) is ChalkServerErrorInfo  # the SDK's type, never the generated one
        assert isinstance(error.code, str)
        assert isinstance(error.message, str)
        assert "Unset" not in repr(error)


_T = TypeVar("_T")


def outcome(call: Callable[[], _T]) -> _T | ChalkSDKError:
    """What `call` returns, or the SDK error it raises; any other exception propagates (and fails)."""
    try:
        return call()
    except ChalkSDKError as err:
        return err
