"""Property-based tests over what the user gives the SDK (issue 6): config files and call arguments.

- Any login file (random YAML text, random bytes, random structures under ``tokens``), with any
  ``CHALK_*`` variables and arguments: :meth:`ChalkClientConfig.resolve` returns a config, or
  raises :class:`ChalkConfigError`, whose message never holds the client secret; a config it
  returns builds a client that works (or fails with an SDK error).
- Any ``input``/``output`` (and options) to ``query`` and any ``input`` to ``upload_features``:
  either the request goes out and the fake API's success comes back, or :class:`ChalkInputError`
  is raised before anything was sent (not even the token exchange).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalk_client import (
    ChalkClient,
    ChalkClientConfig,
    ChalkConfigError,
    ChalkEnvironmentError,
    ChalkInputError,
    ChalkSDKError,
    OnlineQueryResult,
    UploadResult,
)
from tests.conftest import SECRET, FakeClock, build_client
from tests.fake_api import FakeChalkAPI
from tests.property_strategies import PROFILE, check_error, outcome


def mostly(
    good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any], odds: int = 4
) -> st.SearchStrategy[Any]:
    """`good` `odds` times out of `odds + 1`, else `bad`: most calls get far enough to be sent."""
    # Good first: hypothesis favours (and shrinks towards) the first element.
    return st.sampled_from([*[good] * odds, bad]).flatmap(lambda chosen: chosen)


# ---------------------------------------------------------------------------------------------------
# 4. Config files

# Text for values that are not the secret: the secret is placed only where a secret belongs
# (clientSecret, CHALK_CLIENT_SECRET, client_secret=), and must then never be quoted.
plain = st.text(max_size=20) | st.sampled_from(["", " ", "\t", "~", "null", "\x00", "\u00e9\u20ac", "-"])
urls = plain | st.sampled_from(
    [
        "https://api.chalk.test",
        "api.chalk.test/",
        "http://localhost:8080",
        "http://10.0.0.1",
        "ftp://x",
        "https://",
        "https://[::1",
        "https://a\x00b",
        "https://a:99999",
        "https://\u2100.com",
    ]
)
ascii_plain = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)
header_safe = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)
_environments = st.sampled_from(["dev", "DEV", "env-1"])  # what the fake token knows
yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    plain,
    st.dates(),
    st.datetimes(),
    st.binary(max_size=8),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(yaml_scalars, children, max_size=3),
    max_leaves=8,
)
# Each value mostly a string (of any content), sometimes YAML of another type.
_FILE_KEY_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "clientId": mostly(header_safe | plain, yaml_values, odds=9),
    "clientSecret": mostly(st.just(SECRET), yaml_values, odds=9),
    "apiServer": mostly(urls, yaml_values, odds=9),
    "activeEnvironment": mostly(_environments, plain | yaml_values),
    "queryServer": mostly(urls, yaml_values, odds=9),
    "branch": mostly(header_safe | plain, yaml_values, odds=9),
    "deploymentTag": mostly(header_safe | plain, yaml_values, odds=9),
    "name": plain | yaml_values,
}
_CREDENTIAL_KEYS = ("clientId", "clientSecret")
_entries = mostly(
    st.fixed_dictionaries(
        {key: _FILE_KEY_VALUES[key] for key in _CREDENTIAL_KEYS},
        optional={key: v for key, v in _FILE_KEY_VALUES.items() if key not in _CREDENTIAL_KEYS},
    ),
    st.fixed_dictionaries({}, optional=_FILE_KEY_VALUES) | yaml_values,
)


def _document(project: str) -> st.SearchStrategy[Any]:
    """The login file as data: ``tokens`` keyed by the project, ``default`` or anything."""
    names = mostly(
        st.sampled_from(["default", project]), st.sampled_from([project + "/", "other"]) | yaml_scalars
    )
    tokens = st.dictionaries(names, _entries, min_size=1, max_size=3)
    return mostly(
        st.fixed_dictionaries({"tokens": tokens}, optional={"other": yaml_values}),
        st.fixed_dictionaries({"tokens": yaml_values}) | yaml_values,
    )


def _as_yaml(document: object, flow: bool | None) -> bytes:
    return yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True).encode()


# Lines a hand-edited login file might have, with the odd YAML construct among them.
_LINES = st.sampled_from(
    [
        "tokens:",
        "  default:",
        "    clientId: abc",
        f"    clientSecret: {SECRET}",
        f"    clientSecret: '{SECRET}",
        "    apiServer: https://api.chalk.test",
        "    apiServer: [1, 2",
        "  - item",
        "\tclientId: tab",
        "---",
        "...",
        "%YAML 1.1",
        "&a [*a]",
        "*undefined",
        "!!python/object/apply:os.system ['true']",
        "? complex key",
        "key: !!binary not-base64",
        "date: 2024-13-45",
        "{",
        "x: {{{",
    ]
)
_texts = st.one_of(
    st.lists(_LINES | plain, max_size=8).map(lambda lines: "\n".join(lines).encode()),
    st.text(max_size=60).map(str.encode),
    st.binary(max_size=60),  # not UTF-8
    st.sampled_from([b"\xff\xfe\x00t\x00o", b"[" * 600, b"a: " + b"[" * 600, b"\x00"]),  # 600: RecursionError
)
_VARIABLE_VALUES: dict[str, st.SearchStrategy[str]] = {
    "CHALK_CLIENT_ID": ascii_plain | header_safe,
    "CHALK_CLIENT_SECRET": st.just(SECRET) | st.just(""),
    "CHALK_API_SERVER": urls,
    "CHALK_ACTIVE_ENVIRONMENT": mostly(_environments, plain),
    "_CHALK_BRANCH_ID": ascii_plain | plain,
    "CHALK_QUERY_SERVER": urls,
    "XDG_CONFIG_HOME": st.sampled_from(["relative/dir", "", "/nonexistent-xdg"]),
}
_ARGUMENTS: dict[str, st.SearchStrategy[Any]] = {
    "client_id": ascii_plain | header_safe,
    "client_secret": st.just(SECRET),
    "api_server": urls,
    "environment": mostly(_environments, plain),
    "query_server": urls,
    "deployment_tag": ascii_plain | plain,
    "allow_insecure_http": mostly(st.booleans(), st.just(1)),
    "require_credentials": st.booleans(),
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A home for the login file, and a project folder (with chalk.yaml) to resolve from.

    Module-scoped: every example rewrites the login file, so nothing carries over between them.
    """
    root = tmp_path_factory.mktemp("config-properties")
    home = root / "home"
    home.mkdir()
    project = root / "work" / "project"
    project.mkdir(parents=True)
    (project / "chalk.yaml").write_text("project: demo\n")
    return home, project


def _working_token(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/oauth/token":
        body: dict[str, Any] = {"access_token": "tOkEn-1", "expires_in": 3600, "primary_environment": "env-1"}
        body["environment_id_to_name"] = {"env-1": "dev"}
        return httpx.Response(200, json=body)
    return httpx.Response(200, json={"data": [{"field": "user.name", "value": "Ada"}]})


@given(data=st.data(), kind=st.sampled_from(["structure", "structure", "text", "none"]))
@settings(PROFILE, max_examples=200)
def test_any_login_file_resolves_or_is_a_config_error(
    folders: tuple[Path, Path], data: st.DataObject, kind: str
) -> None:
    home, project = folders
    login = home / ".chalk.yml"
    login.unlink(missing_ok=True)
    environ: dict[str, str] = {"HOME": str(home)}
    if kind == "structure":
        document = data.draw(_document(str(project)), label="document")
        login.write_bytes(_as_yaml(document, data.draw(st.sampled_from([None, True, False]))))
    elif kind == "text":
        login.write_bytes(data.draw(_texts, label="text"))
    environ.update(data.draw(st.fixed_dictionaries({}, optional=_VARIABLE_VALUES), label="environ"))
    arguments = data.draw(st.fixed_dictionaries({}, optional=_ARGUMENTS), label="arguments")

    config = outcome(lambda: ChalkClientConfig.resolve(environ=environ, cwd=project, **arguments))
    if isinstance(config, ChalkSDKError):
        assert isinstance(config, ChalkConfigError)
        check_error(config)
        return
    assert isinstance(config, ChalkClientConfig)
    assert SECRET not in repr(config)
    for name in ("client_id", "client_secret", "environment", "branch", "deployment_tag", "query_server"):
        value = getattr(config, name)
        assert value is None or (isinstance(value, str) and value == value.strip() and value)
    for url in (config.api_server, config.query_server):
        if url is not None:
            assert url.startswith(("https://", "http://"))
            httpx.URL(url)
    if arguments.get("require_credentials", True):
        assert config.client_id
        assert config.client_secret
    if not (config.client_id and config.client_secret):
        return
    # What resolved is usable: a client on it exchanges and queries, or fails with an SDK error.
    transport = httpx.MockTransport(_working_token)
    made = outcome(lambda: ChalkClient(config=config, transport=transport, clock=FakeClock()))
    if isinstance(made, ChalkSDKError):
        check_error(made)
        return
    with made as client:
        result = outcome(lambda: client.query({"user.id": 1}, ["user.name"]))
    if isinstance(result, ChalkSDKError):
        assert isinstance(result, ChalkEnvironmentError)  # the environment is not one the token knows
        check_error(result)
    else:
        assert result.to_dict() == {"user.name": "Ada"}


# ---------------------------------------------------------------------------------------------------
# 5. Arguments to query and upload_features


class Opaque:
    """An object the SDK cannot know how to send."""

    def __repr__(self) -> str:
        return "Opaque()"


class Color(enum.Enum):
    RED = "red"


class ArrayLike:
    """Duck-typed like a numpy array: ``tolist`` and ``shape``, optionally zero-dimensional."""

    def __init__(self, items: list[Any], scalar: bool = False) -> None:
        self.items = items
        self.shape: tuple[int, ...] = () if scalar else (len(items),)

    def tolist(self) -> Any:
        return self.items[0] if self.shape == () else list(self.items)

    def item(self) -> Any:
        return self.items[0]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __repr__(self) -> str:
        return f"ArrayLike({self.items!r}, scalar={self.shape == ()})"


class HugeInt(int):
    """An int too long for str() (over 4300 digits), with a repr that does not try."""

    def __repr__(self) -> str:
        return "HugeInt(10**5000)"


_zones = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-12))])
values_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, HugeInt(10**5000), -(2**63)]),
    st.floats(),  # nan and inf cannot be JSON
    st.text(max_size=10),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2),
    st.binary(max_size=6),
    st.datetimes(),  # naive: refused
    st.datetimes(timezones=_zones),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.decimals(allow_nan=True),
    st.complex_numbers(max_magnitude=10),
    st.uuids(),
    st.builds(Opaque),
    st.just(Color.RED),
    st.just(object()),
    st.just(print),
)
hashables = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5), st.dates()
)
values = st.recursive(
    values_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=5), children, max_size=3),
        st.dictionaries(hashables, children, max_size=2),  # keys JSON turns into strings, or cannot
        st.sets(hashables, max_size=3),
        st.frozensets(st.integers(), max_size=2),
        st.lists(children, max_size=3).map(ArrayLike),
        children.map(lambda item: ArrayLike([item], scalar=True)),
    ),
    max_leaves=8,
)


good_names = st.sampled_from(["user.id", "user.name", "user.age"]) | st.text(min_size=1, max_size=12)
surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2)
feature_names = mostly(good_names, st.just("") | surrogates, odds=9)
keys = mostly(
    feature_names,
    st.one_of(
        st.integers(), st.none(), st.binary(max_size=4), st.tuples(st.text(max_size=3)), st.just(Color.RED)
    ),
    odds=9,
)
# What JSON can carry, aware datetimes and dates included.
json_ok = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
        st.datetimes(timezones=_zones),
        st.dates(),
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
input_mappings = mostly(
    st.dictionaries(keys, mostly(json_ok, values), min_size=1, max_size=4),
    st.one_of(
        st.dictionaries(keys, values, max_size=4),
        st.lists(st.tuples(feature_names, values), max_size=2),  # a list of pairs, not a mapping
        values,
    ),
    odds=3,
)
outputs = mostly(
    st.one_of(
        st.lists(feature_names, min_size=1, max_size=4),
        st.lists(feature_names, min_size=1, max_size=3).map(tuple),
        st.lists(feature_names, min_size=1, max_size=3).map(lambda names: (n for n in names)),  # generator
    ),
    st.one_of(st.just([]), st.lists(keys, max_size=3), st.text(max_size=10), values),  # a str is no list
    odds=3,
)
# Optional arguments, each mostly valid; per-call values that become headers are ASCII here
# (see test_any_header_bound_argument_is_sent_or_refused).
header_text = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=10)
_bad_strings = st.just("") | st.integers() | st.just(b"bytes")
_bad_flags = st.sampled_from([1, "yes", 2.5])
query_options = st.fixed_dictionaries(
    {},
    optional={
        "now": mostly(st.datetimes(timezones=_zones), st.datetimes() | st.dates() | st.text(max_size=5)),
        "staleness": mostly(st.dictionaries(good_names, st.text(min_size=1, max_size=4), max_size=2), values),
        "tags": mostly(st.lists(st.text(min_size=1, max_size=5), max_size=2), values | st.just([""])),
        "query_name": mostly(st.none() | header_text, _bad_strings),
        "correlation_id": mostly(st.none() | st.text(min_size=1, max_size=8), _bad_strings | surrogates),
        "include_meta": mostly(st.booleans(), _bad_flags),
        "explain": mostly(st.booleans(), _bad_flags),
        "environment": mostly(
            st.sampled_from([None, "dev", "PROD", "env-1"]), st.sampled_from(["staging", "", 5])
        ),
        "branch": mostly(st.none() | header_text, _bad_strings),
    },
)
upload_options = st.fixed_dictionaries(
    {},
    optional={
        "correlation_id": mostly(st.none() | st.text(min_size=1, max_size=8), _bad_strings | surrogates),
        "query_name": mostly(st.none() | header_text, _bad_strings),
        "environment": mostly(st.sampled_from([None, "dev", "env-1"]), st.sampled_from(["", 5])),
        "branch": mostly(st.none() | header_text, _bad_strings),
    },
)


def _snapshot(value: object) -> str:
    """A repr taken before the call, to check that the SDK did not change the caller's objects."""
    return repr(value)


def _call(kind: str, api: FakeChalkAPI, method: str, *args: Any, **kwargs: Any) -> Any:
    """`method` on a fresh sync or async client over `api`; its result or its SDK error."""
    with build_client(kind, api=api) as client:
        return outcome(lambda: client(method, *args, **kwargs))


def _check_refused(err: ChalkSDKError, api: FakeChalkAPI) -> None:
    if isinstance(err, ChalkInputError):
        assert isinstance(err, ValueError)  # documented: also a ValueError
        assert api.requests == []  # refused before anything was sent, even the token exchange
    else:
        # The environment is checked against the token, so after the exchange; still nothing sent.
        assert isinstance(err, ChalkEnvironmentError)
        assert api.data_requests() == []
    check_error(err)


def _query_property(kind: str, input: Any, output: Any, options: Mapping[str, Any]) -> None:
    api = FakeChalkAPI(FakeClock())
    before = _snapshot(input)
    output_list = list(output) if isinstance(output, list | tuple) else None
    result = _call(kind, api, "query", input, output, **options)
    assert _snapshot(input) == before
    if isinstance(result, ChalkSDKError):
        _check_refused(result, api)
        return
    assert isinstance(result, OnlineQueryResult)
    (request,) = api.data_requests()
    body = json.loads(request.content)
    assert isinstance(input, Mapping)
    assert list(body["inputs"]) == list(input)
    if output_list is not None:
        assert body["outputs"] == output_list
    assert result.features == body["outputs"]


@given(input=input_mappings, output=outputs, options=query_options)
@example(input={"user.id": float("nan")}, output=["user.name"], options={})
@example(input={"user.id": datetime(2026, 1, 1)}, output=["user.name"], options={})
@example(input={"user.id": {1, 2}}, output=["user.name"], options={})
@example(input={"user.id": [[[]] * 2] * 2}, output=["user.name"], options={"now": date(2026, 1, 1)})
@settings(PROFILE, max_examples=200)
def test_any_query_arguments_are_sent_or_refused_before_sending(
    input: Any,
    output: Any,
    options: dict[str, Any],
) -> None:
    _query_property("sync", input, output, options)


@given(input=input_mappings, output=outputs, options=query_options)
@settings(PROFILE, max_examples=60)
def test_any_query_arguments_on_the_async_client(
    input: Any,
    output: Any,
    options: dict[str, Any],
) -> None:
    _query_property("async", input, output, options)


def _columns_of(rows: int) -> st.SearchStrategy[Any]:
    """A column of `rows` values, in one of the forms upload_features takes (a scalar is one row)."""
    cells = mostly(json_ok, values)
    forms = [
        st.lists(cells, min_size=rows, max_size=rows),
        st.lists(cells, min_size=rows, max_size=rows).map(tuple),
        st.lists(st.integers(), min_size=rows, max_size=rows).map(ArrayLike),
        st.lists(st.integers(), min_size=rows, max_size=rows).map(lambda items: (i for i in items)),
        st.just(range(rows)),
    ]
    if rows == 1:
        forms.append(cells.filter(lambda v: not isinstance(v, list | tuple | set | frozenset | ArrayLike)))
    return st.one_of(*forms)


upload_inputs = mostly(
    st.integers(1, 3).flatmap(lambda rows: st.dictionaries(keys, _columns_of(rows), min_size=1, max_size=3)),
    st.one_of(
        st.dictionaries(keys, values | st.lists(values, max_size=3), max_size=3),  # lengths that differ
        st.dictionaries(good_names, st.sets(st.integers(), max_size=2) | st.just([]), min_size=1, max_size=2),
        values,
    ),
    odds=3,
)


def _upload_property(input: Any, options: Mapping[str, Any]) -> None:
    api = FakeChalkAPI(FakeClock())
    result = _call("sync", api, "upload_features", input, **options)
    if isinstance(result, ChalkSDKError):
        _check_refused(result, api)
        return
    assert isinstance(result, UploadResult)
    assert isinstance(input, Mapping)
    assert result.features == tuple(input)
    (request,) = api.data_requests()
    sent = json.loads(request.content)["input"]
    assert list(sent) == list(input)
    assert result.rows >= 1
    assert {len(column) for column in sent.values()} == {result.rows}


@given(input=upload_inputs, options=upload_options)
@example(input={"user.id": [1, 2], "user.name": ["a"]}, options={})
@example(input={"user.id": set()}, options={})
@example(input={"user.id": []}, options={})
@example(input={"user.id": ArrayLike([5], scalar=True)}, options={})
@settings(PROFILE, max_examples=200)
def test_any_upload_input_is_sent_or_refused_before_sending(
    input: Any,
    options: dict[str, Any],
) -> None:
    _upload_property(input, options)


@given(
    option=st.sampled_from(["query_name", "branch"]),
    value=st.text(min_size=1, max_size=5),
    method=st.sampled_from(["query", "upload_features"]),
)
@settings(PROFILE, max_examples=50)
def test_any_header_bound_argument_is_sent_or_refused(option: str, value: str, method: str) -> None:
    args: tuple[Any, ...] = ({"user.id": 1}, ["user.name"]) if method == "query" else ({"user.id": 1},)
    api = FakeChalkAPI(FakeClock())
    result = _call("sync", api, method, *args, **{option: value})
    if isinstance(result, ChalkSDKError):
        _check_refused(result, api)
