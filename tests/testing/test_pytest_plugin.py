"""The pytest plugin (chalk_client.pytest_plugin), run the way users run it: in pytest subprocesses.

Each test writes a small user test suite with ``pytester`` and runs it in a fresh interpreter, with
warnings as errors and strict markers, as this suite runs. The plugin is loaded through a
``pytest11`` entry point when the package's is installed, else with ``-p``.
"""

from __future__ import annotations

import importlib.metadata

import pytest

pytest_plugins = ["pytester"]

PLUGIN = "chalk_client.pytest_plugin"
INSTALL_HINT = "pip install 'chalk-client[testing]'"
# Bounds each pytest subprocess (a run takes a second or two).
RUN_TIMEOUT = 60.0

INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider
filterwarnings = error
"""


def _entry_point_installed() -> bool:
    return any(ep.value == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11"))


def _run(pytester: pytest.Pytester, *args: str, load: str = "-p") -> pytest.RunResult:
    """Run pytest in a subprocess with the plugin loaded.

    By the package's entry point once it is installed; until then by ``-p`` (`load` ``"-p"``), or
    (``"entry point"``) by a ``pytest11`` entry point of a distribution made for the run, declared
    as pyproject.toml declares it. ``"both"`` loads it by ``-p`` and an entry point at once, as a
    user's ``-p`` or ``pytest_plugins`` does with the package installed.
    """
    plugin_args: list[str] = []
    installed = _entry_point_installed()
    if load in ("entry point", "both") and not installed:
        info = pytester.mkdir("chalk_plugin_under_test-0.dist-info")
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: chalk-plugin-under-test\nVersion: 0\n")
        (info / "entry_points.txt").write_text(f"[pytest11]\n{PLUGIN} = {PLUGIN}\n")
    if load == "both" or (load == "-p" and not installed):
        plugin_args = ["-p", PLUGIN]
    return pytester.runpytest_subprocess(*plugin_args, "-q", *args, timeout=RUN_TIMEOUT)


USER_TESTS = """
import asyncio
import gc
import socket
import time
import warnings

import pytest

from chalk_client import AsyncChalkClient, ChalkClient, ChalkSDKError, ChalkServerError
from chalk_client.testing import ChalkServer, Fault, seeded_user

EARLIER = {}


def test_the_fixtures_query_the_seeded_graph(chalk_server, chalk_client):
    assert isinstance(chalk_server, ChalkServer) and isinstance(chalk_client, ChalkClient)
    assert chalk_server.url.startswith("http://127.0.0.1:")
    assert chalk_server.engine_url.startswith("http://127.0.0.1:")
    result = chalk_client.query({"user.id": 1}, ["user.name", "user.age"])
    assert result.to_dict() == {k: seeded_user(1)[k] for k in ("user.name", "user.age")}
    assert chalk_client.upload_features({"user.id": 2, "user.name": "Uploaded"}).rows == 1
    assert chalk_client.query({"user.id": 2}, ["user.name"]).get_value("user.name") == "Uploaded"
    assert chalk_server.token_exchanges == 1
    assert [r.served_by for r in chalk_server.requests if r.path == "/v1/query/online"] == ["engine"] * 2
    EARLIER["sync"] = (chalk_server, chalk_client, chalk_server.client_id)


def test_each_test_gets_a_fresh_server_and_the_last_client_is_closed(chalk_server, chalk_client):
    old_server, old_client, old_client_id = EARLIER["sync"]
    assert chalk_server is not old_server
    assert chalk_server.client_id != old_client_id
    assert chalk_server.token_exchanges == 0 and chalk_server.requests == []
    # The last test's upload is gone with its server.
    assert chalk_client.query({"user.id": 2}, ["user.name"]).get_value("user.name") == seeded_user(2)["user.name"]
    with pytest.raises(ChalkSDKError, match="closed"):
        old_client.query({"user.id": 1}, ["user.name"])
    # The last server was stopped: its port refuses connections.
    old_port = int(old_server.url.rsplit(":", 1)[1])
    if old_port not in (int(chalk_server.url.rsplit(":", 1)[1]), int(chalk_server.engine_url.rsplit(":", 1)[1])):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", old_port), timeout=5).close()


def _seconds_left(client):
    return client.get_token().expires_at.timestamp() - time.time()


def test_defaults(chalk_server, chalk_client):
    assert chalk_server.token_lifetime == 3600
    assert 3500 < _seconds_left(chalk_client) <= 3600


@pytest.mark.chalk_server(token_lifetime=90)
def test_the_marker_sets_server_options(chalk_server, chalk_client):
    assert chalk_server.token_lifetime == 90
    assert 0 < _seconds_left(chalk_client) <= 90


@pytest.mark.chalk_server(faults=[Fault.status("query_online", 400)])
def test_a_fault_from_the_marker(chalk_server, chalk_client):
    with pytest.raises(ChalkSDKError) as raised:
        chalk_client.query({"user.id": 1}, ["user.name"])
    assert raised.value.status_code == 400
    assert chalk_client.query({"user.id": 1}, ["user.name"]).get_value("user.name") == seeded_user(1)["user.name"]


def test_a_fault_injected_while_it_serves_is_seen_by_the_client(chalk_server, chalk_client):
    rule = chalk_server.faults.fail_next("query_online", count=None, status=503)
    with pytest.raises(ChalkServerError) as raised:
        chalk_client.query({"user.id": 1}, ["user.name"], timeout=5)
    assert raised.value.status_code == 503
    assert rule.hits == 1  # chalk_client_options (below) turned retries off
    assert [r.fault for r in chalk_server.requests if r.path == "/v1/query/online"] == ["status"]
    chalk_server.faults.clear()
    assert chalk_client.query({"user.id": 1}, ["user.name"]).get_value("user.name") == seeded_user(1)["user.name"]


def test_faults_do_not_outlive_their_test(chalk_server, chalk_client):
    assert chalk_server.faults.rules == []
    assert chalk_client.query({"user.id": 1}, ["user.name"]).get_value("user.name") == seeded_user(1)["user.name"]


@pytest.fixture
def chalk_client_options():
    return {"max_retries": 0}


def test_async_client_in_successive_asyncio_runs(chalk_server, async_chalk_client):
    assert isinstance(async_chalk_client, AsyncChalkClient)

    async def name(user_id):
        result = await async_chalk_client.query({"user.id": user_id}, ["user.name"])
        return result.get_value("user.name")

    assert asyncio.run(name(1)) == seeded_user(1)["user.name"]
    assert asyncio.run(name(3)) == seeded_user(3)["user.name"]  # a new loop, a new pool
    assert chalk_server.token_exchanges == 1  # one token across loops


def test_async_client_in_a_loop_the_test_leaves_open(async_chalk_client):
    loop = asyncio.new_event_loop()
    result = loop.run_until_complete(async_chalk_client.query({"user.id": 1}, ["user.name"]))
    assert result.get_value("user.name") == seeded_user(1)["user.name"]
    EARLIER["loop"] = loop
    EARLIER["async"] = async_chalk_client


def test_the_pool_of_a_loop_left_open_was_closed_in_that_loop():
    loop = EARLIER.pop("loop")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del EARLIER["async"]
        gc.collect()
        loop.close()  # without running it again: nothing was left for it to finish
        del loop
        gc.collect()
    assert [str(w.message) for w in caught] == []
"""

OPTIONS_TESTS = """
import pytest


@pytest.fixture
def chalk_server_options():
    return {"token_lifetime": 120, "client_id": "id-from-options"}


def test_the_options_fixture(chalk_server, chalk_client):
    assert (chalk_server.token_lifetime, chalk_server.client_id) == (120, "id-from-options")
    assert chalk_client.config.client_id == "id-from-options"
    chalk_client.get_token()
    assert chalk_server.token_exchanges == 1


@pytest.mark.chalk_server(token_lifetime=30)
def test_the_marker_overrides_the_options_fixture(chalk_server):
    assert (chalk_server.token_lifetime, chalk_server.client_id) == (30, "id-from-options")


@pytest.mark.chalk_server(token_lifetime=45, run_duration=2.0)
class TestMarkers:
    def test_the_class_marker(self, chalk_server):
        assert (chalk_server.token_lifetime, chalk_server.run_duration) == (45, 2.0)

    @pytest.mark.chalk_server(token_lifetime=15)
    def test_the_closest_marker_wins(self, chalk_server):
        assert (chalk_server.token_lifetime, chalk_server.run_duration) == (15, 2.0)
        assert chalk_server.client_id == "id-from-options"


@pytest.mark.chalk_server(60)
def test_a_positional_marker_argument(chalk_server):
    pass
"""


BAD_OPTIONS_TESTS = """
import pytest


@pytest.fixture
def chalk_server_options():
    return [("token_lifetime", 60)]


def test_options_that_are_no_dict(chalk_server):
    pass
"""


def test_the_fixtures_marker_and_options_in_a_user_suite(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_user=USER_TESTS, test_options=OPTIONS_TESTS, test_bad_options=BAD_OPTIONS_TESTS)
    result = _run(pytester)
    result.assert_outcomes(passed=14, errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "*ERROR at setup of test_a_positional_marker_argument*",
            "*@pytest.mark.chalk_server takes ChalkServer keyword arguments only*got positional (60,)*",
            "*ERROR at setup of test_options_that_are_no_dict*",
            "*the chalk_server_options fixture must return a dict of ChalkServer keyword arguments, not list*",
        ]
    )


ANYIO_TESTS = """
import pytest

from chalk_client.testing import seeded_user


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_async_test(chalk_server, async_chalk_client):
    result = await async_chalk_client.query({"user.id": 1}, ["user.name"])
    assert result.get_value("user.name") == seeded_user(1)["user.name"]
    assert chalk_server.token_exchanges == 1


@pytest.mark.anyio
async def test_another_async_test_another_server(chalk_server, async_chalk_client):
    await async_chalk_client.get_token()
    assert chalk_server.token_exchanges == 1
"""


def test_the_async_client_in_async_tests_run_by_anyio(pytester: pytest.Pytester) -> None:
    pytest.importorskip("anyio.pytest_plugin")  # anyio comes with httpx, and so its pytest plugin
    pytester.makeini(INI)
    pytester.makepyfile(test_anyio=ANYIO_TESTS)
    result = _run(pytester, "-p", "anyio")
    result.assert_outcomes(passed=2)


NO_FIXTURE_TESTS = f"""
import sys


def test_loading_the_plugin_imports_nothing_and_starts_nothing(request):
    plugins = [getattr(p, "__name__", None) for p in request.config.pluginmanager.get_plugins()]
    assert {PLUGIN!r} in plugins
    assert any(line.startswith("chalk_server(**options):") for line in request.config.getini("markers"))
    loaded = [m for m in ("uvicorn", "httptools", "pyarrow", "chalk_client.testing") if m in sys.modules]
    assert loaded == []
"""


def test_nothing_is_imported_until_a_test_asks_for_a_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_plain=NO_FIXTURE_TESTS)
    result = _run(pytester, load="entry point")
    result.assert_outcomes(passed=1)


def test_the_fixtures_are_listed_with_their_documentation(pytester: pytest.Pytester) -> None:
    # Loaded twice over: the entry point is named after the module, so pytest sees one plugin (with
    # another name, `-p chalk_client.pytest_plugin` would fail: "already registered").
    pytester.makeini(INI)
    result = _run(pytester, "--fixtures", load="both")
    assert result.ret == 0
    result.stdout.fnmatch_lines_random(
        [
            "chalk_server -- *pytest_plugin.py:*",
            "*A ChalkServer on 127.0.0.1, started for this test and stopped after it.",
            "chalk_client -- *",
            "*A ChalkClient connected to ``chalk_server``, closed after the test.",
            "async_chalk_client -- *",
            "chalk_server_options -- *",
            "chalk_client_options -- *",
            "async_chalk_client_options -- *",
        ]
    )


BLOCK_UVICORN = """
import sys


class BlockUvicorn:
    # As if the testing extra were not installed.
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "uvicorn":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


assert "uvicorn" not in sys.modules
sys.meta_path.insert(0, BlockUvicorn())
"""

MISSING_EXTRA_TESTS = """
def test_server(chalk_server):
    pass


def test_client(chalk_client):
    pass


def test_async_client(async_chalk_client):
    pass


def test_no_fixture():
    pass
"""


def test_without_the_testing_extra_a_fixture_fails_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(BLOCK_UVICORN)
    pytester.makepyfile(test_missing=MISSING_EXTRA_TESTS)
    result = _run(pytester)
    result.assert_outcomes(passed=1, errors=3)
    message = (
        "the chalk_server fixture needs the 'testing' extra of chalk-client "
        f"(uvicorn, which is not installed): {INSTALL_HINT}"
    )
    lines = result.stdout.lines
    # Once per test in its error section (the short summary repeats it, cut to the terminal width
    # unless CI is set: count only the lines that start with it).
    assert sum(line.startswith(message) for line in lines) == 3, result.stdout.str()
    # A message, not a traceback through the plugin.
    assert not any("pytest_plugin.py" in line for line in lines), result.stdout.str()
