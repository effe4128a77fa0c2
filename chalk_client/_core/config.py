"""The client configuration: credentials, servers and environment, resolved once into a frozen object.

:meth:`ChalkClientConfig.resolve` reads every source (arguments, ``CHALK_*`` variables, the file that
``chalk login`` writes, defaults) and records in ``sources`` where each value came from, so that
``chalk-client config`` can show it. Every problem is a :class:`ChalkConfigError` whose message names
the source and the fix. No message and no ``repr`` ever contains the client secret.

:func:`describe_network` says which proxy and certificates a client would use (the other half of
``chalk-client config``).
"""

from __future__ import annotations

import enum
import os
import types
from collections.abc import Mapping
from typing import Final

import attrs

from chalk_client._core.errors import ChalkConfigError
from chalk_client._core.header import is_header_value
from chalk_client._core.login_file import _LoginLookup, _read_login_file
from chalk_client._core.sources import _VARIABLES, _clean, _from_variables, _variable_names, describe_source
from chalk_client._core.urls import DEFAULT_API_SERVER, normalize_url

__all__ = ["ChalkClientConfig", "describe_network"]

_MASK: Final = "********"

# The string fields, in the order repr shows them.
_FIELDS: Final = (
    "client_id",
    "client_secret",
    "api_server",
    "environment",
    "branch",
    "deployment_tag",
    "query_server",
)
_URL_FIELDS: Final = ("api_server", "query_server")
# Sent as they are in HTTP headers (X-Chalk-Client-Id, X-Chalk-Branch-Id, X-Chalk-Deployment-Tag),
# which carry printable ASCII only.
_HEADER_FIELDS: Final = ("client_id", "branch", "deployment_tag")


class _NotGiven(enum.Enum):
    """Marks an option of :meth:`ChalkClientConfig.with_options` that was not passed (None clears)."""

    NOT_GIVEN = enum.auto()


_NOT_GIVEN: Final = _NotGiven.NOT_GIVEN


def _frozen_mapping(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(mapping))


@attrs.frozen(repr=False, kw_only=True)
class ChalkClientConfig:
    """The effective client configuration. Build it with :meth:`resolve`, copy it with :meth:`with_options`.

    The constructor stores what it is given without checking it; :meth:`resolve` and
    :meth:`with_options` clean and validate every value first.

    Attributes:
        client_id: The client id of the token exchange, or None when not required and not found.
        client_secret: The client secret; masked in ``repr`` and ``str``.
        api_server: The API server URL, with a scheme and no trailing ``/``.
        environment: The environment id or name to use; None means the token's primary environment.
        branch: The branch to send queries to, if any.
        deployment_tag: The deployment tag to send queries to, if any.
        query_server: A URL that overrides where data-plane calls (queries) go, if any.
        allow_insecure_http: Whether ``http://`` is accepted for hosts that are not loopback.
        sources: For each field that has a value, where it came from: ``"argument"``, a variable name
            such as ``"CHALK_CLIENT_ID"``, ``"/home/u/.chalk.yml (tokens[default])"``, or ``"default"``.
            Not part of equality: two configs with the same values are equal.
    """

    client_id: str | None = None
    client_secret: str | None = None
    api_server: str = DEFAULT_API_SERVER
    environment: str | None = None
    branch: str | None = None
    deployment_tag: str | None = None
    query_server: str | None = None
    allow_insecure_http: bool = False
    sources: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping, eq=False)

    @classmethod
    def resolve(
        cls,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        api_server: str | None = None,
        environment: str | None = None,
        branch: str | None = None,
        deployment_tag: str | None = None,
        query_server: str | None = None,
        allow_insecure_http: bool = False,
        require_credentials: bool = True,
        environ: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> ChalkClientConfig:
        """Resolve each field from the first source that has a value for it.

        Sources, highest first:

        1. the explicit arguments;
        2. ``CHALK_*`` variables: ``CHALK_CLIENT_ID``, ``CHALK_CLIENT_SECRET``, ``CHALK_API_SERVER``,
           ``CHALK_ACTIVE_ENVIRONMENT`` then ``CHALK_ENVIRONMENT``, ``CHALK_BRANCH_ID``,
           ``CHALK_DEPLOYMENT_TAG``, ``CHALK_QUERY_SERVER``;
        3. the same variables with a leading underscore (``_CHALK_CLIENT_ID``, ...);
        4. the file ``chalk login`` writes: ``$XDG_CONFIG_HOME/.chalk.yml`` if that variable is set,
           else ``$HOME/.chalk.yml`` (``.chalk.yaml`` in the same folder if the ``.yml`` is absent).
           Its entry ``tokens[<project root>]`` is used, where the project root is the first folder
           holding ``chalk.yaml`` or ``chalk.yml`` walking up from `cwd`; with no root or no entry for
           it, ``tokens[default]``;
        5. the default ``api_server``, :data:`DEFAULT_API_SERVER`.

        Each field is resolved on its own, so a variable can override one field of the file's entry.
        Values are stripped; an empty value counts as unset at every level.

        Args:
            client_id: The client id; also ``CHALK_CLIENT_ID`` or ``clientId`` in the file.
            client_secret: The client secret; also ``CHALK_CLIENT_SECRET`` or ``clientSecret``.
            api_server: The API server URL; ``https://`` is added when it has no scheme.
            environment: The environment id or name.
            branch: The branch id.
            deployment_tag: The deployment tag.
            query_server: A URL for data-plane calls; ``https://`` is added when it has no scheme.
            allow_insecure_http: Accept ``http://`` URLs for hosts that are not loopback.
            require_credentials: Raise when the client id or secret is missing; when False they are
                left None (to show what resolved).
            environ: The variables to read; :data:`os.environ` by default.
            cwd: Where the search for the project root starts; the current directory by default.

        Raises:
            ChalkConfigError: A credential is missing, the login file cannot be read or has the wrong
                shape, or a URL is not valid.
        """
        arguments = {
            "client_id": client_id,
            "client_secret": client_secret,
            "api_server": api_server,
            "environment": environment,
            "branch": branch,
            "deployment_tag": deployment_tag,
            "query_server": query_server,
        }
        return _resolve(
            arguments,
            allow_insecure_http=allow_insecure_http,
            require_credentials=require_credentials,
            environ=environ,
            cwd=cwd,
            options=None,
        )

    @classmethod
    def resolve_command_line(
        cls,
        arguments: Mapping[str, str | None],
        *,
        options: Mapping[str, str],
        allow_insecure_http: bool = False,
        require_credentials: bool = True,
        environ: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> ChalkClientConfig:
        """:meth:`resolve`, for a command line whose options set some of the fields.

        The sources and their order are those of :meth:`resolve`; what differs is how the values
        the command line was given are named. This is how ``chalk-client`` resolves its options.

        Example::

            config = ChalkClientConfig.resolve_command_line(
                {"client_id": args.client_id, "environment": args.environment},
                options={"client_id": "--client-id", "environment": "--environment"},
            )

        Args:
            arguments: The values the command line was given, by field name (``client_id``,
                ``client_secret``, ``api_server``, ``environment``, ``branch``, ``deployment_tag``,
                ``query_server``); None or an empty value means not given.
            options: For each field the command line has an option for, the option's spelling
                (``{"client_id": "--client-id"}``; ``"allow_insecure_http"`` for the flag that sets
                `allow_insecure_http`). A value given that way has the option as its source in
                ``sources`` and messages about it name the option. A missing credential is one line
                that names the options, the variables and ``chalk login``, and points to
                ``chalk-client config``.
            allow_insecure_http: Accept ``http://`` URLs for hosts that are not loopback.
            require_credentials: Raise when the client id or secret is missing; when False they are
                left None (to show what resolved).
            environ: The variables to read; :data:`os.environ` by default.
            cwd: Where the search for the project root starts; the current directory by default.

        Raises:
            ChalkConfigError: As for :meth:`resolve`.
        """
        return _resolve(
            arguments,
            allow_insecure_http=allow_insecure_http,
            require_credentials=require_credentials,
            environ=environ,
            cwd=cwd,
            options=options,
        )

    def with_options(
        self,
        *,
        client_id: str | _NotGiven | None = _NOT_GIVEN,
        client_secret: str | _NotGiven | None = _NOT_GIVEN,
        api_server: str | _NotGiven | None = _NOT_GIVEN,
        environment: str | _NotGiven | None = _NOT_GIVEN,
        branch: str | _NotGiven | None = _NOT_GIVEN,
        deployment_tag: str | _NotGiven | None = _NOT_GIVEN,
        query_server: str | _NotGiven | None = _NOT_GIVEN,
        allow_insecure_http: bool | _NotGiven = _NOT_GIVEN,
    ) -> ChalkClientConfig:
        """A copy with the given fields changed, cleaned and validated as :meth:`resolve` does.

        A changed field's source becomes ``"argument"``. Passing None (or an empty string) unsets a
        field; for ``api_server`` that means :data:`DEFAULT_API_SERVER` again.

        Raises:
            ChalkConfigError: A value is not a string, or a URL is not valid.
        """
        changes = {
            "client_id": client_id,
            "client_secret": client_secret,
            "api_server": api_server,
            "environment": environment,
            "branch": branch,
            "deployment_tag": deployment_tag,
            "query_server": query_server,
        }
        values: dict[str, str] = {
            name: value for name in _FIELDS if (value := getattr(self, name)) is not None
        }
        sources = {name: source for name, source in self.sources.items() if name in values}
        for name, raw in changes.items():
            if isinstance(raw, _NotGiven):
                continue
            value = _clean(raw, f"the argument {name}=")
            if value is None:
                values.pop(name, None)
                sources.pop(name, None)
            else:
                values[name] = value
                sources[name] = "argument"
        if isinstance(allow_insecure_http, _NotGiven):
            insecure = self.allow_insecure_http
            insecure_source = self.sources.get("allow_insecure_http", "argument")
        elif isinstance(allow_insecure_http, bool):
            insecure, insecure_source = allow_insecure_http, "argument"
        else:
            raise ChalkConfigError(
                f"allow_insecure_http must be True or False, got {type(allow_insecure_http).__name__}"
            )
        return _build(values, sources, allow_insecure_http=insecure, insecure_source=insecure_source)

    def __repr__(self) -> str:
        shown: list[str] = []
        for name in _FIELDS:
            value = getattr(self, name)
            if name == "client_secret" and value is not None:
                value = _MASK
            shown.append(f"{name}={value!r}")
        shown.append(f"allow_insecure_http={self.allow_insecure_http!r}")
        shown.append(f"sources={dict(self.sources)!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    __str__ = __repr__


# The name it had before it was public as a classmethod; the tests still call it so.
resolve_command_line = ChalkClientConfig.resolve_command_line


def describe_network(
    url: str = DEFAULT_API_SERVER, *, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The proxy and the trusted certificates a client with the default network options would use.

    That is a :class:`ChalkClient` given no ``proxy=``, ``verify=``, ``cert=`` or ``trust_env=``:
    the proxy comes from ``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` (as httpx
    reads them), the certificates from ``SSL_CERT_FILE`` or ``SSL_CERT_DIR``, else certifi's bundle.
    ``chalk-client config`` shows the same two lines. Proxy credentials are masked.

    Args:
        url: The URL, with its scheme, whose proxy to describe (the default API server if not given).
        environ: The variables to read; :data:`os.environ` by default.

    Returns:
        ``{"proxy": ..., "ca": ...}`` in words, e.g. ``"http://****:****@proxy.internal:3128 (from
        HTTPS_PROXY)"`` or ``"none"``, and ``"SSL_CERT_FILE=/etc/ssl/ca.pem"`` or ``"certifi's
        bundle (the default)"``.

    Raises:
        ChalkConfigError: A proxy or certificate variable is not valid (the client would refuse it
            too, when it is made).
    """
    from chalk_client._core.network import resolve_network  # ~6 ms of attrs classes: at first use

    network = resolve_network(
        proxy=None,
        verify=True,
        cert=None,
        trust_env=True,
        transport="urllib3",
        caller_transport=False,
        environ=environ,
    )
    return {"proxy": network.proxies.describe(url), "ca": network.ca.text}


def _resolve(
    arguments: Mapping[str, str | None],
    *,
    allow_insecure_http: bool,
    require_credentials: bool,
    environ: Mapping[str, str] | None,
    cwd: str | os.PathLike[str] | None,
    options: Mapping[str, str] | None,
) -> ChalkClientConfig:
    env: Mapping[str, str] = os.environ if environ is None else environ
    if not isinstance(allow_insecure_http, bool):
        raise ChalkConfigError(
            f"allow_insecure_http must be True or False, got {type(allow_insecure_http).__name__}"
        )
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name, raw in arguments.items():
        option = options.get(name) if options is not None else None
        value = _clean(raw, option or f"the argument {name}=")
        if value is not None:
            values[name] = value
            sources[name] = option or "argument"
    for name in _FIELDS:
        if name not in values and (found := _from_variables(env, name)) is not None:
            values[name], sources[name] = found
    login = _read_login_file(env, cwd)
    for name, value in login.values.items():
        if name not in values:
            values[name] = value
            sources[name] = login.source
    if require_credentials:
        missing = [name for name in ("client_id", "client_secret") if name not in values]
        if missing:
            if options is None:
                raise ChalkConfigError(_missing_credentials_message(missing, login))
            raise ChalkConfigError(_missing_credentials_line(missing, login, options))
    insecure_source = (options or {}).get("allow_insecure_http", "argument")
    return _build(values, sources, allow_insecure_http=allow_insecure_http, insecure_source=insecure_source)


def _build(
    values: Mapping[str, str],
    sources: Mapping[str, str],
    *,
    allow_insecure_http: bool,
    insecure_source: str,
) -> ChalkClientConfig:
    """Fill the default, check the URLs and make the object; `values` are already cleaned."""
    values = dict(values)
    # A field with no recorded source came from the constructor, so from an argument.
    sources = {name: sources.get(name, "argument") for name in values}
    if "api_server" not in values:
        values["api_server"] = DEFAULT_API_SERVER
        sources["api_server"] = "default"
    for name in _URL_FIELDS:
        if name in values:
            values[name] = normalize_url(name, values[name], sources[name], allow_insecure_http)
    for name in _HEADER_FIELDS:
        value = values.get(name)
        if value is not None and not is_header_value(value):
            raise ChalkConfigError(
                f"{name} {value!r} (from {sources[name]}) is sent in an HTTP header, which carries "
                "printable ASCII only"
            )
    sources["allow_insecure_http"] = insecure_source if allow_insecure_http else "default"
    return ChalkClientConfig(
        client_id=values.get("client_id"),
        client_secret=values.get("client_secret"),
        api_server=values["api_server"],
        environment=values.get("environment"),
        branch=values.get("branch"),
        deployment_tag=values.get("deployment_tag"),
        query_server=values.get("query_server"),
        allow_insecure_http=allow_insecure_http,
        sources=sources,
    )


def _missing_credentials_message(missing: list[str], login: _LoginLookup) -> str:
    lines = [f"Missing {' and '.join(missing)} for the Chalk API."]
    for name in missing:
        lines.append(f"Looked for {name} in, highest first:")
        tried = [f"the argument {name}= (not given)"]
        tried += [f"the variable {variable} (not set or empty)" for variable in _variable_names(name)]
        tried.append(login.describe(name))
        lines += [f"  {number}. {text}" for number, text in enumerate(tried, start=1)]
    arguments = " and ".join(f"{name}=" for name in missing)
    variables = " and ".join(_VARIABLES[name][0] for name in missing)
    lines.append(
        f"Fix: pass {arguments}, set {variables}, or run `chalk login` (the Chalk CLI's login, which "
        f"writes {login.path})."
    )
    return "\n".join(lines)


def _missing_credentials_line(missing: list[str], login: _LoginLookup, options: Mapping[str, str]) -> str:
    """The missing-credentials message of a command line: one line, naming its own options."""
    fixes: list[str] = []
    looked: list[str] = []
    for name in missing:
        variable = _VARIABLES[name][0]
        option = options.get(name)
        if option is not None:
            fixes.append(f"pass {option} or set {variable}")
            looked.append(option)
        elif name == "client_secret":
            fixes.append(
                f"set {variable} (there is no --client-secret option: a secret on the command line "
                "shows in `ps` and in the shell's history)"
            )
        else:
            fixes.append(f"set {variable}")
        looked += _variable_names(name)
    where = " and ".join(dict.fromkeys(login.describe(name).removeprefix("the file ") for name in missing))
    return (
        f"missing {' and '.join(missing)} for the Chalk API: {'; '.join(fixes)}; or run `chalk login`, "
        f"the Chalk CLI's login, which writes {login.path}. Looked in {', '.join(looked)} and {where}; "
        "`chalk-client config` shows every source."
    )


def rejected_credentials_hint(config: ChalkClientConfig) -> str:
    """What to check when the token exchange rejects the credentials: the client id that was sent
    and where it came from, where the secret came from (never the secret), and the API server."""
    sources = config.sources
    if config.client_id is None:
        sent = "no client id"
    else:
        sent = f"client id {config.client_id!r} (from {describe_source('client_id', sources.get('client_id', 'argument'))})"
    secret = (
        f"the client secret from {describe_source('client_secret', sources.get('client_secret', 'argument'))}"
        if config.client_secret is not None
        else "no client secret"
    )
    server = (
        f"{config.api_server} (from {describe_source('api_server', sources.get('api_server', 'argument'))})"
    )
    text = (
        f"The token exchange rejected {sent} with {secret} at {server}: check that they belong "
        "together and to that server; `chalk-client config` shows every setting and its source."
    )
    if config.client_secret:
        text = text.replace(config.client_secret, _MASK)  # a client id that holds the secret: never shown
    return text
