"""Where a configuration value comes from: the ``CHALK_*`` variable table, a value cleaned the same way
from every source, and a recorded source as messages name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from chalk_client._core.errors import ChalkConfigError

# Field -> variables, highest first. Each is also read with a leading underscore, after every plain
# name: the official clients accept ``_CHALK_*``, and the plain name wins.
# CHALK_ACTIVE_ENVIRONMENT is what the Rust, Go and Java clients read; chalkpy reads CHALK_ENVIRONMENT.
_VARIABLES: Final[Mapping[str, tuple[str, ...]]] = {
    "client_id": ("CHALK_CLIENT_ID",),
    "client_secret": ("CHALK_CLIENT_SECRET",),
    "api_server": ("CHALK_API_SERVER",),
    "environment": ("CHALK_ACTIVE_ENVIRONMENT", "CHALK_ENVIRONMENT"),
    "branch": ("CHALK_BRANCH_ID",),
    "deployment_tag": ("CHALK_DEPLOYMENT_TAG",),
    "query_server": ("CHALK_QUERY_SERVER",),
}


def _clean(raw: object, where: str) -> str | None:
    """A value stripped of surrounding whitespace, None when unset or blank. Never quotes the value."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ChalkConfigError(f"{where} must be a string, got {type(raw).__name__}")
    return raw.strip() or None


def _variable_names(name: str) -> tuple[str, ...]:
    plain = _VARIABLES[name]
    return (*plain, *(f"_{variable}" for variable in plain))


def _from_variables(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """The value of field `name` from the first variable that has one, and that variable's name."""
    for variable in _variable_names(name):
        value = _clean(env.get(variable), f"the variable {variable}")
        if value is not None:
            return value, variable
    return None


def describe_source(field: str, source: str) -> str:
    """A recorded source as a message names it: ``"argument"`` becomes ``"the client_id= argument"``;
    a variable, an option or the login file stays as it is."""
    if source == "argument":
        return f"the {field}= argument"
    if source == "default":
        return "the default"
    return source


def environment_variables() -> tuple[str, ...]:
    """The variables that set the environment, highest first (``_CHALK_*`` ones last)."""
    return _variable_names("environment")
