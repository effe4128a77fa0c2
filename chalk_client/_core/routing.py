"""Where a call goes and with which headers: pure functions of the config, the token and the call.

- The environment is the one asked for (per call, else configured), else the token's
  ``primary_environment``. A value that is a known environment id is used as is; otherwise it is
  matched case-insensitively against the token's ``environment_id_to_name``; no match is a
  :class:`ChalkEnvironmentError` that lists what is available, says where the value came from (the
  call's argument, the client's, which variable, the login file) and gives a fix that takes effect
  from there (a variable is only outranked by an argument). When the token names no
  environments at all, the value is sent as given (there is nothing to check it against).
- Data-plane calls (the online query) go to ``query_server`` if set, else the token's
  ``engines[environment id]``, else ``api_server``. Everything else goes to ``api_server``.
  With a branch, everything goes to ``api_server``.
- Engine URLs without a scheme get ``https://``; ``http://`` is accepted for loopback hosts only,
  unless the client allows insecure HTTP (the token must not travel in clear text).
- Headers: ``X-Chalk-Client-Id``, ``X-Chalk-Env-Id``, ``X-Chalk-Deployment-Type`` (``engine``, or
  ``branch``), ``X-Chalk-Branch-Id``, ``X-Chalk-Deployment-Tag``, ``X-Chalk-Query-Name``. The
  ``Authorization`` header is added by the auth flow, ``User-Agent`` with the request.
"""

from __future__ import annotations

import enum

import attrs

from chalk_client._core.config import ChalkClientConfig
from chalk_client._core.errors import ChalkEnvironmentError
from chalk_client._core.header import is_header_value
from chalk_client._core.sources import describe_source, environment_variables
from chalk_client._core.token import Token
from chalk_client._core.urls import normalize_url

__all__ = ["Plane", "Route", "resolve_environment", "route"]


class Plane(enum.Enum):
    """Which server family a call belongs to."""

    DATA = "data"  # online queries: the environment's engine
    API = "api"  # everything else: the API server


@attrs.frozen
class Route:
    """The base URL of a call and its routing headers."""

    base_url: str
    headers: tuple[tuple[str, str], ...]
    environment_id: str | None


def resolve_environment(requested: str | None, token: Token, *, source: str | None = None) -> str | None:
    """The environment id to use: `requested` (an id, or a name in any case), else the token's default.

    `source` says where `requested` came from (``"argument"``, a variable name, the login file, or
    an option such as ``"--environment"``): the error names it, and a fix that works for it.
    """
    value: str | None = requested
    where: str | None = source
    if not value:
        value, where = token.primary_environment, _TOKEN_PRIMARY
    if not value:
        return None
    names = token.environment_id_to_name
    if value in names or value in token.engines or not names:
        return value
    folded = value.casefold()
    matches = sorted(env_id for env_id, name in names.items() if name.casefold() == folded)
    if len(matches) == 1:
        return matches[0]
    if folded in {env_id.casefold() for env_id in names}:
        return next(env_id for env_id in names if env_id.casefold() == folded)
    available = ", ".join(f"{name} ({env_id})" for env_id, name in sorted(names.items()))
    origin = f" (from {describe_source('environment', where)})" if where else ""
    if matches:
        raise ChalkEnvironmentError(
            f"the environment name {value!r}{origin} is ambiguous: it names {', '.join(matches)}. "
            f"Available: {available}. {_environment_fix(where, 'the id of the one you mean')}",
            environment=value,
            available=names,
            source=where,
        )
    raise ChalkEnvironmentError(
        f"the environment {value!r}{origin} is not one this token can use. Available: {available}. "
        f"{_environment_fix(where, 'one of these names or ids')}",
        environment=value,
        available=names,
        source=where,
    )


_TOKEN_PRIMARY = "the token's primary_environment"
_CALL_ARGUMENT = "the call's environment= argument"


def _environment_fix(source: str | None, wanted: str) -> str:
    """How to change the environment so that the change takes effect, given where it came from."""
    top = environment_variables()[0]
    if source is None or source in ("argument", _CALL_ARGUMENT):
        return f"Pass {wanted} as environment=."
    if source == _TOKEN_PRIMARY:
        return (
            f"Pass {wanted} as environment= (or set {top}): the token's own primary environment "
            "is not among its environments."
        )
    if source.startswith("-"):  # a command-line option
        return f"Pass {wanted} as {source}."
    if source in environment_variables():
        # It is the highest variable that is set, so changing it is what takes effect.
        return f"Set {source} to {wanted}."
    # The login file: any variable outranks it.
    return f"Change activeEnvironment in {source} to {wanted}, or set {top}, which outranks the file."


def route(
    config: ChalkClientConfig,
    token: Token,
    *,
    plane: Plane,
    environment: str | None = None,
    branch: str | None = None,
    query_name: str | None = None,
    branchless: bool = False,
) -> Route:
    """The route of one call; `environment` and `branch` override the configured ones, and a
    `branchless` call (the engine's ping, the branch list, datasets) ignores the client's branch."""
    if environment:
        env_id = resolve_environment(environment, token, source=_CALL_ARGUMENT)
    else:
        env_id = resolve_environment(
            config.environment, token, source=config.sources.get("environment", "argument")
        )
    if env_id and not is_header_value(env_id):
        raise ChalkEnvironmentError(
            f"the environment {env_id!r} cannot be sent in the X-Chalk-Env-Id header "
            "(printable ASCII only); pass an environment id",
            environment=env_id,
            available=token.environment_id_to_name,
        )
    branch = None if branchless else branch or config.branch
    headers: list[tuple[str, str]] = []
    if config.client_id:
        headers.append(("X-Chalk-Client-Id", config.client_id))
    if env_id:
        headers.append(("X-Chalk-Env-Id", env_id))
    if branch:
        headers.append(("X-Chalk-Deployment-Type", "branch"))
        headers.append(("X-Chalk-Branch-Id", branch))
    else:
        headers.append(("X-Chalk-Deployment-Type", "engine"))
    if config.deployment_tag:
        headers.append(("X-Chalk-Deployment-Tag", config.deployment_tag))
    if query_name:
        headers.append(("X-Chalk-Query-Name", query_name))
    return Route(
        base_url=_base_url(config, token, plane=plane, env_id=env_id, branch=branch),
        headers=tuple(headers),
        environment_id=env_id,
    )


def _base_url(
    config: ChalkClientConfig, token: Token, *, plane: Plane, env_id: str | None, branch: str | None
) -> str:
    if plane is Plane.API or branch:
        return config.api_server
    if config.query_server:
        return config.query_server
    engine = token.engines.get(env_id) if env_id else None
    if engine:
        return _engine_url(engine, config.allow_insecure_http)
    return config.api_server


_ENGINE_URLS: dict[tuple[str, bool], str] = {}


def _engine_url(value: str, allow_insecure_http: bool) -> str:
    # Tokens repeat the same few engine URLs: validate each once (the cache is tiny and bounded).
    key = (value, allow_insecure_http)
    url = _ENGINE_URLS.get(key)
    if url is None:
        url = normalize_url("engine URL", value, "the token's engines", allow_insecure_http)
        if len(_ENGINE_URLS) < 256:
            _ENGINE_URLS[key] = url
    return url
