"""The one rule for text the SDK sends in an HTTP header (client id, branch, environment, names).

A header value here is printable ASCII: letters, digits, punctuation and spaces. Control characters
(tabs, line breaks) and anything beyond ASCII are refused before a request is built, with an error
naming the value and where it came from, rather than left for an HTTP library to reject, mangle or
(for a tab at either end) have a server trim into another value.
"""

from __future__ import annotations

__all__ = ["is_header_value"]


def is_header_value(text: str) -> bool:
    """Whether `text` can be sent as an HTTP header value as it is (printable ASCII, spaces included)."""
    return text.isascii() and text.isprintable()
