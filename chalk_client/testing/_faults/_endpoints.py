"""Endpoint selectors: which calls a :class:`~chalk_client.testing.Fault` applies to.

A selector is a path (``"/v1/query/online"``), a route template (``"/v1/runs/{run_id}"``), an
operation name of ``openapi/chalk.yaml`` (:data:`OPERATIONS`), or ``"*"``. Also here, from the
spec: the fields each answer must have, which a ``missing_fields`` fault leaves out by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

from chalk_client.testing._operations import OPERATIONS as _OPERATIONS

__all__ = ["OPERATIONS", "TOKEN_PATH", "path_of", "required_fields", "selector"]

TOKEN_PATH: Final = _OPERATIONS["get_token"].path

OPERATIONS: Final[Mapping[str, str]] = {name: operation.path for name, operation in _OPERATIONS.items()}
"""Operation name (``operationId`` in ``openapi/chalk.yaml``) to its path or path template."""

# The fields each answer must have, per the spec: what ``missing_fields`` leaves out by default.
_REQUIRED_BY_OPERATION: Final[Mapping[str, tuple[str, ...]]] = {
    "get_token": ("access_token",),
    "query_online": ("data",),
    "who_am_i": ("user",),
    "trigger_resolver_run": ("id", "status"),
    "get_run_status": ("id", "status"),
    "submit_offline_query": ("is_finished", "revisions"),
    "get_offline_query_status": ("is_finished",),
    "get_offline_query_progress": ("report",),
    "cancel_offline_query": ("report",),
    "get_dataset_revision": ("revision_id", "status"),
    "multi_upload_features": ("operation_id",),
    "ping_engine": ("num",),
    "get_branches": ("branches",),
    "get_dataset": ("is_finished", "revisions"),
    "get_dataset_of_revision": ("is_finished", "revisions"),
}
_REQUIRED_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    OPERATIONS[name]: fields for name, fields in _REQUIRED_BY_OPERATION.items()
}

_PARAM: Final = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def path_of(endpoint: object) -> str:
    """The path or template an endpoint selector stands for (``"*"`` stays ``"*"``)."""
    if not isinstance(endpoint, str) or not endpoint:
        raise ValueError(f"endpoint must be a path, an operation name or '*', not {endpoint!r}")
    if endpoint == "*" or endpoint.startswith("/"):
        return endpoint
    path = OPERATIONS.get(endpoint)
    if path is None:
        raise ValueError(
            f"unknown endpoint {endpoint!r}: give a path such as '/v1/query/online', '*', or an "
            f"operation name: {', '.join(OPERATIONS)}"
        )
    return path


def selector(endpoint: str) -> Callable[[str, bool], bool]:
    """``(path, routed_by_template) -> bool`` for an endpoint selector.

    A template selector matches only calls routed by a template, so ``/v1/runs/{run_id}`` does not
    match ``/v1/runs/trigger`` (an exact route of its own).
    """
    path = path_of(endpoint)
    if path == "*":
        return lambda _path, _templated: True
    if _PARAM.search(path) is None:
        return lambda request_path, _templated: request_path == path
    parts = _PARAM.split(path)
    pattern = re.compile("[^/]+".join(re.escape(part) for part in parts))
    return lambda request_path, templated: templated and pattern.fullmatch(request_path) is not None


def required_fields(path: str, templated: bool) -> tuple[str, ...] | None:
    """The fields the spec requires of the answer to `path` (None: the spec requires none)."""
    fields = _REQUIRED_FIELDS.get(path)
    if fields is not None or not templated:
        return fields
    for template, names in _REQUIRED_FIELDS.items():
        if _PARAM.search(template) is not None and selector(template)(path, True):
            return names
    return None
