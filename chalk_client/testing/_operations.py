"""The spec's operations, each one's method and path template, as the generated package builds them.

ChalkServer routes these (and fault selectors name them); it restates no path by hand. Each path
comes from the generated endpoint function's ``_get_kwargs`` (private to the generator, stable in
the pinned version), called with a placeholder for each path parameter: ``/v1/runs/{run_id}``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Final, NamedTuple

from chalk_openapi.api.account import get_branches, ping_engine, who_am_i
from chalk_openapi.api.auth import get_token
from chalk_openapi.api.offline import (
    cancel_offline_query,
    get_dataset,
    get_dataset_of_revision,
    get_dataset_revision,
    get_offline_query_progress,
    get_offline_query_status,
    submit_offline_query,
)
from chalk_openapi.api.query import (
    delete_features,
    drop_features,
    multi_upload_features,
    query_bulk,
    query_online,
    upload_features,
)
from chalk_openapi.api.runs import get_run_status, trigger_resolver_run

__all__ = ["OPERATIONS", "Operation", "operation_of"]

# Every endpoint module of the generated package; the module is named after the operationId.
_ENDPOINTS: Final = (
    get_token,
    query_online,
    query_bulk,
    upload_features,
    multi_upload_features,
    delete_features,
    drop_features,
    who_am_i,
    ping_engine,
    get_branches,
    trigger_resolver_run,
    get_run_status,
    submit_offline_query,
    get_offline_query_status,
    get_offline_query_progress,
    cancel_offline_query,
    get_dataset_revision,
    get_dataset,
    get_dataset_of_revision,
)
_PLACEHOLDER: Final = re.compile(r"__chalk_param_([A-Za-z0-9_]+)__")


class Operation(NamedTuple):
    """One operation of ``openapi/chalk.yaml``: its HTTP method and path (or path template)."""

    method: str
    path: str


class _AnyBody:
    """A stand-in body: a JSON model's (``to_dict()``) or a binary ``File``'s (``payload``)."""

    payload = b""

    def to_dict(self) -> dict[str, Any]:
        return {}


def _operation(endpoint: ModuleType) -> Operation:
    parameters = inspect.signature(endpoint._get_kwargs).parameters
    arguments: dict[str, Any] = {}
    for name, parameter in parameters.items():
        if name == "body":
            arguments[name] = _AnyBody()
        elif parameter.default is inspect.Parameter.empty:  # a path parameter
            arguments[name] = f"__chalk_param_{name}__"
    built = endpoint._get_kwargs(**arguments)
    return Operation(str(built["method"]).upper(), _PLACEHOLDER.sub(r"{\1}", str(built["url"])))


OPERATIONS: Final[Mapping[str, Operation]] = {
    endpoint.__name__.rsplit(".", 1)[-1]: _operation(endpoint) for endpoint in _ENDPOINTS
}
"""operationId -> (method, path template), for every operation of the spec."""


_EXACT: Final = {(op.method, op.path): name for name, op in OPERATIONS.items() if "{" not in op.path}
_TEMPLATES: Final = [
    (op.method, re.compile(re.sub(r"\\\{[A-Za-z0-9_]+\\\}", "[^/]+", re.escape(op.path))), name)
    for name, op in OPERATIONS.items()
    if "{" in op.path
]


def operation_of(method: str, path: str) -> str | None:
    """The operationId a request for `path` with `method` is, or None for a path outside the spec."""
    name = _EXACT.get((method, path))
    if name is not None:
        return name
    for template_method, pattern, template_name in _TEMPLATES:
        if template_method == method and pattern.fullmatch(path):
            return template_name
    return None
