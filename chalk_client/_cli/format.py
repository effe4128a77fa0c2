"""Online-query answers as text for people: the command line's table, which the demo shows too.

Its own module so that the command (``_cli``) and the demo (``_demo``) share it without importing
each other.
"""

from __future__ import annotations

import json

from chalk_client import OnlineQueryResult, describe_chalk_error

__all__ = ["describe_result"]


def describe_result(result: OnlineQueryResult) -> str:
    """The answer as an aligned table, errors last."""
    rows = [(f.feature, json.dumps(f.value, default=str), f) for f in result]
    width = max((len(name) for name, _, _ in rows), default=0)
    lines = []
    for name, value, feature in rows:
        extra = []
        if feature.resolver:
            extra.append(f"resolver {feature.resolver}")
        if feature.cache_hit is not None:
            extra.append("cache hit" if feature.cache_hit else "computed")
        if feature.error is not None:
            extra.append(f"error {feature.error.code}")
        lines.append(f"{name:<{width}}  {value}" + (f"  ({', '.join(extra)})" if extra else ""))
    for error in result.errors:
        lines.append(f"error: {describe_chalk_error(error)}")
    return "\n".join(lines) + "\n"
