"""Tests for chalk_client._core.config and the modules it reads with (sources, login_file, urls):
precedence, the login file, errors, URL rules, masking, copies.

Every test passes `environ=` and `cwd=` built under `tmp_path`: the real HOME and variables are never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

from chalk_client._core.config import ChalkClientConfig
from chalk_client._core.errors import ChalkConfigError
from chalk_client._core.urls import DEFAULT_API_SERVER

SECRET = "sk-TOPSECRET-7f3a9c"


@attrs.define
class Setup:
    """A fake home with an optional login file, and a project folder (with chalk.yaml) to run in."""

    home: Path
    project: Path
    environ: dict[str, str]

    @property
    def login_path(self) -> Path:
        return self.home / ".chalk.yml"

    def write_login(self, tokens: Any, *, name: str = ".chalk.yml", folder: Path | None = None) -> Path:
        path = (folder or self.home) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump({"tokens": tokens}))
        return path

    def write_raw(self, text: str) -> Path:
        self.login_path.write_text(text)
        return self.login_path

    def resolve(self, **kwargs: Any) -> ChalkClientConfig:
        kwargs.setdefault("environ", self.environ)
        kwargs.setdefault("cwd", self.project)
        return ChalkClientConfig.resolve(**kwargs)


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "work" / "project"
    project.mkdir(parents=True)
    (project / "chalk.yaml").write_text("project: demo\n")
    return Setup(home=home, project=project, environ={"HOME": str(home)})


def credentials(**values: str) -> dict[str, str]:
    return {"client_id": "id", "client_secret": SECRET, **values}


# ---------------------------------------------------------------------------------------------------
# Precedence

ALL_LEVELS_ENV = {"CHALK_CLIENT_ID": "env-id", "_CHALK_CLIENT_ID": "underscore-id"}
PROJECT_ENTRY = {"clientId": "project-id", "clientSecret": "project-secret"}
DEFAULT_ENTRY = {"clientId": "default-id", "clientSecret": "default-secret"}


@pytest.mark.parametrize(
    ("argument", "variables", "entries", "expected", "source"),
    [
        pytest.param(
            "arg-id",
            ALL_LEVELS_ENV,
            {"{project}": PROJECT_ENTRY, "default": DEFAULT_ENTRY},
            "arg-id",
            "argument",
            id="argument-beats-all",
        ),
        pytest.param(
            None,
            ALL_LEVELS_ENV,
            {"{project}": PROJECT_ENTRY, "default": DEFAULT_ENTRY},
            "env-id",
            "CHALK_CLIENT_ID",
            id="CHALK-beats-underscore",
        ),
        pytest.param(
            None,
            {"_CHALK_CLIENT_ID": "underscore-id"},
            {"{project}": PROJECT_ENTRY, "default": DEFAULT_ENTRY},
            "underscore-id",
            "_CHALK_CLIENT_ID",
            id="underscore-beats-file",
        ),
        pytest.param(
            None,
            {},
            {"{project}": PROJECT_ENTRY, "default": DEFAULT_ENTRY},
            "project-id",
            "{login} (tokens[{project}])",
            id="project-entry-beats-default",
        ),
        pytest.param(
            None,
            {},
            {"default": DEFAULT_ENTRY},
            "default-id",
            "{login} (tokens[default])",
            id="default-entry",
        ),
        pytest.param(None, {}, None, None, None, id="nothing"),
        # Empty values count as unset at every level.
        pytest.param(
            "  ",
            {"CHALK_CLIENT_ID": "", "_CHALK_CLIENT_ID": "underscore-id"},
            None,
            "underscore-id",
            "_CHALK_CLIENT_ID",
            id="empty-argument-and-CHALK",
        ),
        pytest.param(
            "",
            {"CHALK_CLIENT_ID": " ", "_CHALK_CLIENT_ID": "\t"},
            {"default": DEFAULT_ENTRY},
            "default-id",
            "{login} (tokens[default])",
            id="empty-underscore",
        ),
        pytest.param(None, {}, {"default": {"clientId": "   "}}, None, None, id="empty-file-value"),
        pytest.param(" padded-id \n", {}, None, "padded-id", "argument", id="whitespace-stripped"),
    ],
)
def test_client_id_precedence(
    setup: Setup,
    argument: str | None,
    variables: dict[str, str],
    entries: dict[str, Any] | None,
    expected: str | None,
    source: str | None,
) -> None:
    if entries is not None:
        setup.write_login({key.format(project=setup.project): entry for key, entry in entries.items()})
    setup.environ.update(variables)

    config = setup.resolve(client_id=argument, require_credentials=False)

    assert config.client_id == expected
    if source is None:
        assert "client_id" not in config.sources
    else:
        assert config.sources["client_id"] == source.format(login=setup.login_path, project=setup.project)


@pytest.mark.parametrize(
    ("variables", "entry", "expected", "source"),
    [
        pytest.param(
            {
                "CHALK_ACTIVE_ENVIRONMENT": "active",
                "CHALK_ENVIRONMENT": "plain",
                "_CHALK_ACTIVE_ENVIRONMENT": "u-active",
                "_CHALK_ENVIRONMENT": "u-plain",
            },
            "file-env",
            "active",
            "CHALK_ACTIVE_ENVIRONMENT",
            id="CHALK_ACTIVE_ENVIRONMENT-first",
        ),
        pytest.param(
            {"CHALK_ENVIRONMENT": "plain", "_CHALK_ACTIVE_ENVIRONMENT": "u-active"},
            "file-env",
            "plain",
            "CHALK_ENVIRONMENT",
            id="CHALK_ENVIRONMENT-beats-underscore",
        ),
        pytest.param(
            {
                "CHALK_ACTIVE_ENVIRONMENT": "",
                "_CHALK_ACTIVE_ENVIRONMENT": "u-active",
                "_CHALK_ENVIRONMENT": "x",
            },
            "file-env",
            "u-active",
            "_CHALK_ACTIVE_ENVIRONMENT",
            id="underscore-active-first",
        ),
        pytest.param(
            {"_CHALK_ENVIRONMENT": "u-plain"}, "file-env", "u-plain", "_CHALK_ENVIRONMENT", id="u-plain"
        ),
        pytest.param({}, "file-env", "file-env", "{login} (tokens[default])", id="file"),
    ],
)
def test_environment_precedence(
    setup: Setup, variables: dict[str, str], entry: str, expected: str, source: str
) -> None:
    setup.write_login({"default": {"activeEnvironment": entry}})
    setup.environ.update(variables)

    config = setup.resolve(require_credentials=False)

    assert config.environment == expected
    assert config.sources["environment"] == source.format(login=setup.login_path)


@pytest.mark.parametrize(
    ("field", "variable", "value"),
    [
        ("client_id", "CHALK_CLIENT_ID", "the-id"),
        ("client_secret", "CHALK_CLIENT_SECRET", "the-secret"),
        ("api_server", "CHALK_API_SERVER", "https://api.example.com"),
        ("environment", "CHALK_ACTIVE_ENVIRONMENT", "prod"),
        ("branch", "CHALK_BRANCH_ID", "feature-x"),
        ("deployment_tag", "CHALK_DEPLOYMENT_TAG", "v42"),
        ("query_server", "CHALK_QUERY_SERVER", "https://query.example.com"),
    ],
)
@pytest.mark.parametrize("prefix", ["", "_"])
def test_each_variable_sets_its_field(
    setup: Setup, field: str, variable: str, value: str, prefix: str
) -> None:
    setup.environ[prefix + variable] = value

    config = setup.resolve(require_credentials=False)

    assert getattr(config, field) == value
    assert config.sources[field] == prefix + variable


def test_every_file_key_maps_to_its_field(setup: Setup) -> None:
    setup.write_login(
        {
            str(setup.project): {
                "name": "my-project",
                "clientId": "file-id",
                "clientSecret": "file-secret",
                "apiServer": "https://api.example.com/",
                "activeEnvironment": "prod",
                "queryServer": "query.example.com",
                "branch": "feature-x",
                "deploymentTag": "v42",
                "somethingNew": ["ignored"],
            }
        }
    )

    config = setup.resolve()

    assert (
        config.client_id,
        config.client_secret,
        config.api_server,
        config.environment,
        config.query_server,
        config.branch,
        config.deployment_tag,
    ) == (
        "file-id",
        "file-secret",
        "https://api.example.com",
        "prod",
        "https://query.example.com",
        "feature-x",
        "v42",
    )
    source = f"{setup.login_path} (tokens[{setup.project}])"
    assert {name for name, where in config.sources.items() if where == source} == {
        "client_id",
        "client_secret",
        "api_server",
        "environment",
        "query_server",
        "branch",
        "deployment_tag",
    }


def test_variables_and_arguments_override_single_fields_of_the_entry(setup: Setup) -> None:
    setup.write_login(
        {
            "default": {
                "clientId": "file-id",
                "clientSecret": "file-secret",
                "apiServer": "https://file.example.com",
                "activeEnvironment": "file-env",
            }
        }
    )
    setup.environ["CHALK_ACTIVE_ENVIRONMENT"] = "env-env"

    config = setup.resolve(api_server="https://arg.example.com")

    assert config.client_id == "file-id"
    assert config.client_secret == "file-secret"
    assert config.environment == "env-env"
    assert config.api_server == "https://arg.example.com"
    assert config.sources["client_id"] == f"{setup.login_path} (tokens[default])"
    assert config.sources["environment"] == "CHALK_ACTIVE_ENVIRONMENT"
    assert config.sources["api_server"] == "argument"


def test_default_api_server(setup: Setup) -> None:
    config = setup.resolve(**credentials())

    assert config.api_server == DEFAULT_API_SERVER == "https://api.chalk.ai"
    assert config.sources["api_server"] == "default"
    assert config.environment is None
    assert config.branch is None
    assert config.deployment_tag is None
    assert config.query_server is None
    assert "environment" not in config.sources


def test_xdg_config_home_beats_home(setup: Setup, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    setup.write_login({"default": {"clientId": "home-id"}})
    xdg_file = setup.write_login({"default": {"clientId": "xdg-id"}}, folder=xdg)
    setup.environ["XDG_CONFIG_HOME"] = str(xdg)

    config = setup.resolve(require_credentials=False)

    assert config.client_id == "xdg-id"
    assert config.sources["client_id"] == f"{xdg_file} (tokens[default])"


def test_empty_xdg_config_home_means_home(setup: Setup) -> None:
    setup.write_login({"default": {"clientId": "home-id"}})
    setup.environ["XDG_CONFIG_HOME"] = " "

    assert setup.resolve(require_credentials=False).client_id == "home-id"


def test_chalk_yaml_fallback(setup: Setup) -> None:
    path = setup.write_login({"default": {"clientId": "yaml-id"}}, name=".chalk.yaml")

    config = setup.resolve(require_credentials=False)

    assert config.client_id == "yaml-id"
    assert config.sources["client_id"] == f"{path} (tokens[default])"


def test_chalk_yml_preferred_over_chalk_yaml(setup: Setup) -> None:
    setup.write_login({"default": {"clientId": "yml-id"}})
    setup.write_login({"default": {"clientId": "yaml-id"}}, name=".chalk.yaml")

    assert setup.resolve(require_credentials=False).client_id == "yml-id"


@pytest.mark.parametrize("marker", ["chalk.yaml", "chalk.yml"])
def test_project_root_found_walking_up_from_nested_cwd(tmp_path: Path, marker: str) -> None:
    home = tmp_path / "home"
    root = tmp_path / "repo"
    nested = root / "src" / "features" / "deep"
    nested.mkdir(parents=True)
    (root / marker).write_text("")
    # A marker further up must not win over the nearest one.
    (tmp_path / "chalk.yaml").write_text("")
    home.mkdir()
    (home / ".chalk.yml").write_text(
        yaml.safe_dump(
            {
                "tokens": {
                    str(root): {"clientId": "repo-id"},
                    str(tmp_path): {"clientId": "outer-id"},
                    "default": {"clientId": "default-id"},
                }
            }
        )
    )

    config = ChalkClientConfig.resolve(environ={"HOME": str(home)}, cwd=nested, require_credentials=False)

    assert config.client_id == "repo-id"
    assert config.sources["client_id"] == f"{home / '.chalk.yml'} (tokens[{root}])"


def test_project_without_entry_falls_back_to_default(setup: Setup, tmp_path: Path) -> None:
    setup.write_login({str(tmp_path / "another-project"): {"clientId": "other"}, "default": DEFAULT_ENTRY})

    config = setup.resolve()

    assert config.client_id == "default-id"
    assert config.sources["client_id"] == f"{setup.login_path} (tokens[default])"


def test_no_project_root_uses_default(setup: Setup, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    setup.write_login({str(setup.project): PROJECT_ENTRY, "default": DEFAULT_ENTRY})

    config = setup.resolve(cwd=elsewhere)

    assert config.client_id == "default-id"


def test_entries_are_not_merged(setup: Setup) -> None:
    """The chosen entry is used alone: a field it lacks is not taken from `default`."""
    setup.write_login({str(setup.project): {"clientId": "project-id"}, "default": DEFAULT_ENTRY})

    config = setup.resolve(require_credentials=False)

    assert config.client_id == "project-id"
    assert config.client_secret is None


def test_file_without_tokens_gives_no_values(setup: Setup) -> None:
    setup.write_raw("somethingElse: 1\n")

    config = setup.resolve(require_credentials=False)

    assert (config.client_id, config.client_secret, config.api_server) == (None, None, DEFAULT_API_SERVER)


def test_empty_file_gives_no_values(setup: Setup) -> None:
    setup.write_raw("")

    assert setup.resolve(require_credentials=False).client_id is None


# ---------------------------------------------------------------------------------------------------
# Missing credentials


def test_missing_credentials_names_every_source_and_the_fix(setup: Setup) -> None:
    with pytest.raises(ChalkConfigError) as caught:
        setup.resolve()

    message = str(caught.value)
    for expected in (
        "client_id=",
        "client_secret=",
        "CHALK_CLIENT_ID",
        "_CHALK_CLIENT_ID",
        "CHALK_CLIENT_SECRET",
        "_CHALK_CLIENT_SECRET",
        str(setup.login_path),
        str(setup.home / ".chalk.yaml"),
        "does not exist",
        "chalk login",
    ):
        assert expected in message


def test_missing_secret_with_file_names_the_entry(setup: Setup) -> None:
    setup.write_login({"default": {"clientId": "default-id"}})

    with pytest.raises(ChalkConfigError) as caught:
        setup.resolve()

    message = str(caught.value)
    assert "Missing client_secret" in message
    assert "CHALK_CLIENT_SECRET" in message
    assert "_CHALK_CLIENT_SECRET" in message
    assert f"{setup.login_path}, entry tokens[default] (has no clientSecret)" in message
    assert "client_id=" not in message  # client_id was found: only the missing field is reported


def test_missing_credentials_with_no_matching_entry_names_the_keys_tried(setup: Setup) -> None:
    setup.write_login({"/somewhere/else": {"clientId": "x", "clientSecret": "y"}})

    with pytest.raises(ChalkConfigError) as caught:
        setup.resolve()

    message = str(caught.value)
    assert f"tokens[{setup.project}]" in message
    assert "tokens[default]" in message
    assert "exists" in message


def test_require_credentials_false_leaves_them_none(setup: Setup) -> None:
    config = setup.resolve(require_credentials=False)

    assert config.client_id is None
    assert config.client_secret is None
    assert "client_id" not in config.sources
    assert "client_secret" not in config.sources
    assert "client_secret=None" in repr(config)


# ---------------------------------------------------------------------------------------------------
# A malformed or unreadable login file


def test_malformed_yaml_names_file_and_line_but_not_the_content(setup: Setup) -> None:
    path = setup.write_raw(f'tokens:\n  default:\n    clientId: abc\n    clientSecret: "{SECRET}\n')

    with pytest.raises(ChalkConfigError) as caught:
        setup.resolve()

    message = str(caught.value)
    assert str(path) in message
    assert "line " in message
    assert SECRET not in message
    assert "clientSecret" not in message
    # No chained yaml error either: its message quotes the line.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_yaml_value_error_becomes_config_error(setup: Setup) -> None:
    # An impossible date makes PyYAML raise ValueError rather than a YAMLError.
    path = setup.write_raw("tokens:\n  default:\n    clientId: 2024-13-45\n")

    with pytest.raises(ChalkConfigError, match="not valid YAML") as caught:
        setup.resolve()

    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        pytest.param(["a", "b"], ["must be a mapping", "got list"], id="top-level-list"),
        pytest.param({"tokens": ["a", "b"]}, ["tokens must be a mapping", "got list"], id="tokens-list"),
        pytest.param({"tokens": {"default": "a string"}}, ["tokens[default]", "got str"], id="entry-string"),
        pytest.param(
            {"tokens": {"default": {"clientId": 123}}}, ["tokens[default].clientId", "got int"], id="id-int"
        ),
        pytest.param(
            {"tokens": {"default": {"clientId": "id", "apiServer": {"url": "x"}}}},
            ["tokens[default].apiServer", "got dict"],
            id="api-server-mapping",
        ),
    ],
)
def test_wrong_types_name_file_and_key(setup: Setup, content: Any, fragments: list[str]) -> None:
    path = setup.write_raw(yaml.safe_dump(content))

    with pytest.raises(ChalkConfigError) as caught:
        setup.resolve()

    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_wrong_type_in_project_entry_names_the_project_key(setup: Setup) -> None:
    setup.write_login({str(setup.project): {"clientId": ["a"]}})

    with pytest.raises(ChalkConfigError, match=r"tokens\[.*project\]\.clientId"):
        setup.resolve()


def test_secret_of_wrong_type_is_not_quoted(setup: Setup) -> None:
    path = setup.write_login({"default": {"clientId": "id", "clientSecret": [SECRET, SECRET]}})

    with pytest.raises(ChalkConfigError) as caught:
        setup.resolve()

    message = str(caught.value)
    assert str(path) in message
    assert "tokens[default].clientSecret" in message
    assert SECRET not in message


def test_unreadable_login_file_is_a_config_error(setup: Setup) -> None:
    setup.login_path.mkdir()

    with pytest.raises(ChalkConfigError) as caught:
        setup.resolve()

    assert str(setup.login_path) in str(caught.value)


def test_argument_of_wrong_type_is_a_config_error(setup: Setup) -> None:
    with pytest.raises(ChalkConfigError, match="client_secret= must be a string, got int"):
        setup.resolve(client_id="id", client_secret=12345)


# ---------------------------------------------------------------------------------------------------
# URLs


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("api.example.com", "https://api.example.com"),
        ("https://api.example.com/", "https://api.example.com"),
        ("https://api.example.com/prefix//", "https://api.example.com/prefix"),
        ("localhost:8080", "https://localhost:8080"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.3.4.5", "http://127.3.4.5"),
        ("http://localhost", "http://localhost"),
        ("http://LOCALHOST:9/", "http://LOCALHOST:9"),
        ("http://[::1]:9", "http://[::1]:9"),
        ("  https://api.example.com  ", "https://api.example.com"),
    ],
)
@pytest.mark.parametrize("field", ["api_server", "query_server"])
def test_accepted_urls(setup: Setup, field: str, given: str, expected: str) -> None:
    config = setup.resolve(**credentials(**{field: given}))

    assert getattr(config, field) == expected


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("ftp://files.example.com", "ftp://"),
        ("https://", "no host"),
        ("https://api.example.com:notaport", "not a valid URL"),
        ("http://api.example.com", "allow_insecure_http=True"),
        ("http://10.0.0.1", "allow_insecure_http=True"),
        ("http://localhost.example.com", "allow_insecure_http=True"),
    ],
)
@pytest.mark.parametrize("field", ["api_server", "query_server"])
def test_refused_urls_name_field_and_source(setup: Setup, field: str, given: str, fragment: str) -> None:
    with pytest.raises(ChalkConfigError) as caught:
        setup.resolve(**credentials(**{field: given}))

    message = str(caught.value)
    assert fragment in message
    assert field in message
    assert "(from argument)" in message
    assert SECRET not in message


def test_url_error_names_variable_source(setup: Setup) -> None:
    setup.environ["CHALK_API_SERVER"] = "ftp://files.example.com"

    with pytest.raises(ChalkConfigError, match=r"api_server .*\(from CHALK_API_SERVER\)"):
        setup.resolve(**credentials())


def test_url_error_names_file_source(setup: Setup) -> None:
    setup.write_login({"default": {**DEFAULT_ENTRY, "apiServer": "http://api.example.com"}})

    with pytest.raises(ChalkConfigError) as caught:
        setup.resolve()

    assert f"(from {setup.login_path} (tokens[default]))" in str(caught.value)


def test_allow_insecure_http_opt_in(setup: Setup) -> None:
    config = setup.resolve(
        **credentials(api_server="http://api.example.com/", query_server="http://10.0.0.1:1234"),
        allow_insecure_http=True,
    )

    assert config.api_server == "http://api.example.com"
    assert config.query_server == "http://10.0.0.1:1234"
    assert config.allow_insecure_http is True
    assert config.sources["allow_insecure_http"] == "argument"


# ---------------------------------------------------------------------------------------------------
# Masking and immutability


def test_secret_is_masked_everywhere(setup: Setup) -> None:
    config = setup.resolve(**credentials(environment="prod"))

    for text in (repr(config), str(config), f"{config!r}", f"{config}", f"{config!s}"):
        assert SECRET not in text
        assert "client_secret='********'" in text
        assert "client_id='id'" in text
        assert "environment='prod'" in text
        assert "api_server='https://api.chalk.ai'" in text


def test_config_is_frozen(setup: Setup) -> None:
    config = setup.resolve(**credentials())

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.client_id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.sources["client_id"] = "forged"  # type: ignore[index]
    assert config.client_id == "id"


def test_sources_do_not_affect_equality(setup: Setup) -> None:
    from_argument = setup.resolve(**credentials())
    setup.environ.update({"CHALK_CLIENT_ID": "id", "CHALK_CLIENT_SECRET": SECRET})
    from_variables = setup.resolve()

    assert from_argument == from_variables
    assert hash(from_argument) == hash(from_variables)
    assert from_argument.sources != from_variables.sources


# ---------------------------------------------------------------------------------------------------
# with_options


def test_with_options_changes_fields_and_their_sources(setup: Setup) -> None:
    setup.environ["CHALK_BRANCH_ID"] = "env-branch"
    config = setup.resolve(**credentials())

    changed = config.with_options(environment=" staging ", api_server="api.example.com/")

    assert changed.environment == "staging"
    assert changed.api_server == "https://api.example.com"
    assert changed.sources["environment"] == "argument"
    assert changed.sources["api_server"] == "argument"
    # Untouched fields keep value and source; the original is unchanged.
    assert changed.branch == "env-branch"
    assert changed.sources["branch"] == "CHALK_BRANCH_ID"
    assert changed.client_secret == SECRET
    assert config.environment is None
    assert config.api_server == DEFAULT_API_SERVER


def test_with_options_none_unsets(setup: Setup) -> None:
    config = setup.resolve(**credentials(branch="b", api_server="https://api.example.com"))

    changed = config.with_options(branch=None, api_server="")

    assert changed.branch is None
    assert "branch" not in changed.sources
    assert changed.api_server == DEFAULT_API_SERVER
    assert changed.sources["api_server"] == "default"


def test_with_options_validates_urls(setup: Setup) -> None:
    config = setup.resolve(**credentials())

    with pytest.raises(ChalkConfigError, match="allow_insecure_http=True"):
        config.with_options(query_server="http://query.example.com")
    assert config.with_options(
        query_server="http://query.example.com", allow_insecure_http=True
    ).query_server == ("http://query.example.com")


def test_with_options_revalidates_when_insecure_http_is_withdrawn(setup: Setup) -> None:
    config = setup.resolve(**credentials(api_server="http://api.example.com"), allow_insecure_http=True)

    with pytest.raises(ChalkConfigError, match=r"api_server .*\(from argument\)"):
        config.with_options(allow_insecure_http=False)


def test_with_options_rejects_wrong_types(setup: Setup) -> None:
    config = setup.resolve(**credentials())

    with pytest.raises(ChalkConfigError, match="branch= must be a string"):
        config.with_options(branch=3)  # type: ignore[arg-type]


def test_missing_credentials_explains_chalk_login(setup: Setup) -> None:
    with pytest.raises(ChalkConfigError) as caught:
        setup.resolve()
    assert f"run `chalk login` (the Chalk CLI's login, which writes {setup.login_path})" in str(caught.value)


# ---------------------------------------------------------------------------------------------------
# A command line's configuration: its options as sources, a one-line missing-credentials message

CLI_OPTIONS = {"client_id": "--client-id", "environment": "--environment", "api_server": "--api-server"}


def resolve_cli(setup: Setup, **arguments: str | None) -> ChalkClientConfig:
    from chalk_client._core.config import resolve_command_line

    return resolve_command_line(arguments, options=CLI_OPTIONS, environ=setup.environ, cwd=setup.project)


def test_command_line_options_are_recorded_as_their_own_sources(setup: Setup) -> None:
    setup.environ["CHALK_CLIENT_SECRET"] = SECRET
    config = resolve_cli(setup, client_id="cli-id", environment="prod", api_server=None)
    assert config.client_id == "cli-id"
    assert config.sources["client_id"] == "--client-id"
    assert config.sources["environment"] == "--environment"
    assert config.sources["client_secret"] == "CHALK_CLIENT_SECRET"
    assert config.sources["api_server"] == "default"


def test_command_line_missing_credentials_is_one_line_naming_its_options(setup: Setup) -> None:
    with pytest.raises(ChalkConfigError) as caught:
        resolve_cli(setup, client_id=None)
    message = str(caught.value)
    assert "\n" not in message
    for expected in (
        "missing client_id and client_secret",
        "pass --client-id or set CHALK_CLIENT_ID",
        "set CHALK_CLIENT_SECRET (there is no --client-secret option",
        f"run `chalk login`, the Chalk CLI's login, which writes {setup.login_path}",
        "_CHALK_CLIENT_ID",
        "_CHALK_CLIENT_SECRET",
        f"{setup.login_path} (does not exist",
        "`chalk-client config`",
    ):
        assert expected in message
    assert "client_id=" not in message  # the library's spelling is not the command line's


def test_command_line_missing_secret_names_the_entry_that_lacks_it(setup: Setup) -> None:
    setup.write_login({"default": {"clientId": "default-id"}})
    with pytest.raises(ChalkConfigError) as caught:
        resolve_cli(setup)
    message = str(caught.value)
    assert message.startswith("missing client_secret for the Chalk API: set CHALK_CLIENT_SECRET")
    assert f"{setup.login_path}, entry tokens[default] (has no clientSecret)" in message
    assert "--client-id" not in message  # the client id was found


# ---------------------------------------------------------------------------------------------------
# The rejected-credentials hint


def test_rejected_credentials_hint_names_the_id_and_every_source_but_never_the_secret(setup: Setup) -> None:
    from chalk_client._core.config import rejected_credentials_hint

    setup.write_login({"default": {"clientSecret": SECRET}})
    setup.environ["_CHALK_CLIENT_ID"] = "abc"
    config = setup.resolve(api_server="https://api.example.test")
    hint = rejected_credentials_hint(config)
    assert "client id 'abc' (from _CHALK_CLIENT_ID)" in hint
    assert f"the client secret from {setup.login_path} (tokens[default])" in hint
    assert "https://api.example.test (from the api_server= argument)" in hint
    assert "`chalk-client config`" in hint
    assert SECRET not in hint
