"""Routing as a pure function: environment resolution, base URLs and headers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalk_client import ChalkClientConfig, ChalkConfigError, ChalkEnvironmentError, Token
from chalk_client._core.routing import Plane, resolve_environment, route

NAMES = {"env-dev-1": "dev", "env-prod-1": "Prod", "env-prod-2": "prod-eu"}
ENGINES = {"env-dev-1": "https://dev.engine.test", "env-prod-1": "prod.engine.test"}


def token(**extra: Any) -> Token:
    fields: dict[str, Any] = {
        "access_token": "t",
        "expires_at": datetime(2030, 1, 1, tzinfo=UTC),
        "primary_environment": "env-dev-1",
        "engines": ENGINES,
        "environment_id_to_name": NAMES,
    }
    fields.update(extra)
    return Token(**fields)


def config(**extra: Any) -> ChalkClientConfig:
    return ChalkClientConfig.resolve(
        client_id="id", client_secret="s", api_server="https://api.test", **extra
    )


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        (None, "env-dev-1"),  # the token's primary environment
        ("", "env-dev-1"),
        ("env-prod-1", "env-prod-1"),  # an id as is
        ("prod", "env-prod-1"),  # a name, in any case
        ("PROD", "env-prod-1"),
        ("Prod-EU", "env-prod-2"),
        ("ENV-PROD-2", "env-prod-2"),  # an id in another case
    ],
)
def test_environment_resolution(requested: str | None, expected: str) -> None:
    assert resolve_environment(requested, token()) == expected


def test_unknown_environment_lists_the_available_ones() -> None:
    with pytest.raises(ChalkEnvironmentError) as caught:
        resolve_environment("staging", token())
    message = str(caught.value)
    assert "'staging'" in message
    assert "dev (env-dev-1), Prod (env-prod-1), prod-eu (env-prod-2)" in message
    assert caught.value.environment == "staging"
    assert isinstance(caught.value, ChalkConfigError)


def test_without_a_name_map_the_value_is_sent_as_given() -> None:
    assert resolve_environment("whatever", token(environment_id_to_name={})) == "whatever"
    assert resolve_environment(None, token(primary_environment=None)) is None


def test_data_plane_goes_to_the_engine_of_the_environment_with_https_added() -> None:
    assert route(config(), token(), plane=Plane.DATA).base_url == "https://dev.engine.test"
    prod = route(config(environment="prod"), token(), plane=Plane.DATA)
    assert prod.base_url == "https://prod.engine.test"
    assert prod.environment_id == "env-prod-1"


def test_data_plane_falls_back_to_the_api_server_without_an_engine() -> None:
    assert route(config(environment="prod-eu"), token(), plane=Plane.DATA).base_url == "https://api.test"


def test_query_server_wins_and_api_calls_always_use_the_api_server() -> None:
    cfg = config(query_server="https://q.test")
    assert route(cfg, token(), plane=Plane.DATA).base_url == "https://q.test"
    assert route(cfg, token(), plane=Plane.API).base_url == "https://api.test"
    assert route(config(), token(), plane=Plane.API).base_url == "https://api.test"


def test_branch_sends_everything_to_the_api_server() -> None:
    cfg = config(query_server="https://q.test", branch="b1")
    for plane in Plane:
        r = route(cfg, token(), plane=plane)
        assert r.base_url == "https://api.test"
        assert ("X-Chalk-Deployment-Type", "branch") in r.headers
        assert ("X-Chalk-Branch-Id", "b1") in r.headers
    per_call = route(config(), token(), plane=Plane.DATA, branch="b2")
    assert per_call.base_url == "https://api.test"
    assert ("X-Chalk-Branch-Id", "b2") in per_call.headers


def test_headers() -> None:
    r = route(config(deployment_tag="v7", environment="Prod"), token(), plane=Plane.DATA, query_name="q")
    assert dict(r.headers) == {
        "X-Chalk-Client-Id": "id",
        "X-Chalk-Env-Id": "env-prod-1",
        "X-Chalk-Deployment-Type": "engine",
        "X-Chalk-Deployment-Tag": "v7",
        "X-Chalk-Query-Name": "q",
    }


def test_a_plain_http_engine_off_loopback_is_refused() -> None:
    tok = token(engines={"env-dev-1": "http://engine.example.com"})
    with pytest.raises(ChalkConfigError, match="plain http"):
        route(config(), tok, plane=Plane.DATA)
    loopback = token(engines={"env-dev-1": "http://127.0.0.1:8080"})
    assert route(config(), loopback, plane=Plane.DATA).base_url == "http://127.0.0.1:8080"


# ---------------------------------------------------------------------------------------------------
# An unknown environment: where it came from, and a fix that works


def env_config(environ: dict[str, str], **extra: Any) -> ChalkClientConfig:
    return ChalkClientConfig.resolve(
        client_id="id", client_secret="s", api_server="https://api.test", environ=environ, **extra
    )


def unknown(cfg: ChalkClientConfig, **call: Any) -> ChalkEnvironmentError:
    with pytest.raises(ChalkEnvironmentError) as caught:
        route(cfg, token(), plane=Plane.DATA, **call)
    return caught.value


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"CHALK_ACTIVE_ENVIRONMENT": "staging", "CHALK_ENVIRONMENT": "prod"}, "CHALK_ACTIVE_ENVIRONMENT"),
        ({"CHALK_ENVIRONMENT": "staging"}, "CHALK_ENVIRONMENT"),
        ({"_CHALK_ACTIVE_ENVIRONMENT": "staging", "_CHALK_ENVIRONMENT": "prod"}, "_CHALK_ACTIVE_ENVIRONMENT"),
    ],
)
def test_unknown_environment_from_a_variable_says_which_and_the_fix_works(
    environ: dict[str, str], variable: str
) -> None:
    err = unknown(env_config(environ))
    message = str(err)
    assert f"'staging' (from {variable})" in message
    assert f"Set {variable} to one of these names or ids." in message
    assert err.source == variable
    # Following the advice takes effect: no other source outranks the variable it names.
    fixed = env_config({**environ, variable: "prod"})
    assert route(fixed, token(), plane=Plane.DATA).environment_id == "env-prod-1"


def test_unknown_environment_from_the_login_file_suggests_a_variable_that_outranks_it(
    tmp_path: Any,
) -> None:
    login = tmp_path / ".chalk.yml"
    login.write_text(
        "tokens:\n  default:\n    clientId: id\n    clientSecret: s\n    activeEnvironment: staging\n"
    )
    environ = {"HOME": str(tmp_path)}
    err = unknown(env_config(environ, cwd=tmp_path))
    message = str(err)
    assert f"'staging' (from {login} (tokens[default]))" in message
    assert f"Change activeEnvironment in {login} (tokens[default])" in message
    assert "or set CHALK_ACTIVE_ENVIRONMENT, which outranks the file" in message
    fixed = env_config({**environ, "CHALK_ACTIVE_ENVIRONMENT": "prod"}, cwd=tmp_path)
    assert route(fixed, token(), plane=Plane.DATA).environment_id == "env-prod-1"


def test_unknown_environment_from_an_argument_says_so() -> None:
    err = unknown(config(environment="staging"))
    assert "'staging' (from the environment= argument)" in str(err)
    assert "Pass one of these names or ids as environment=." in str(err)
    assert err.source == "argument"
    per_call = unknown(config(), environment="staging")
    assert "(from the call's environment= argument)" in str(per_call)


def test_unknown_environment_from_a_command_line_option_names_the_option() -> None:
    from chalk_client._core.config import resolve_command_line

    cfg = resolve_command_line(
        {"client_id": "id", "environment": "staging"},
        options={"client_id": "--client-id", "environment": "--environment"},
        require_credentials=False,
    )
    err = unknown(cfg)
    assert "'staging' (from --environment)" in str(err)
    assert "Pass one of these names or ids as --environment." in str(err)


def test_an_unknown_primary_environment_of_the_token_says_it_came_from_the_token() -> None:
    with pytest.raises(ChalkEnvironmentError) as caught:
        route(config(), token(primary_environment="env-gone"), plane=Plane.DATA)
    err = caught.value
    assert "(from the token's primary_environment)" in str(err)
    assert "Pass one of these names or ids as environment=" in str(err)


def test_an_ambiguous_name_names_its_source_too() -> None:
    names = {"env-a": "prod", "env-b": "PROD"}
    with pytest.raises(ChalkEnvironmentError) as caught:
        resolve_environment("Prod", token(environment_id_to_name=names), source="CHALK_ENVIRONMENT")
    assert "(from CHALK_ENVIRONMENT) is ambiguous" in str(caught.value)
    assert "Set CHALK_ENVIRONMENT to the id of the one you mean." in str(caught.value)
