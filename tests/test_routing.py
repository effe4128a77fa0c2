"""Routing as a pure function: environment resolution, base URLs and headers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalk_client import ChalkClientConfig, ChalkConfigError, ChalkEnvironmentError, Token
from chalk_client._routing import Plane, resolve_environment, route

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
