"""The chalk-client command: config, token and demo, against a real ChalkServer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalk_client._cli.main import main
from chalk_client.testing import ChalkServer
from tests.conftest import SECRET


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChalkServer]:
    with ChalkServer(client_secret=SECRET) as server:
        monkeypatch.setenv("CHALK_CLIENT_ID", server.client_id)
        monkeypatch.setenv("_CHALK_CLIENT_SECRET", SECRET)
        monkeypatch.setenv("CHALK_API_SERVER", server.url)
        yield server


def test_config_shows_each_field_with_its_source(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "--environment", "prod"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["client_id"].endswith("(CHALK_CLIENT_ID)")
    assert "********" in lines["client_secret"]
    assert lines["client_secret"].endswith("(_CHALK_CLIENT_SECRET)")
    assert server.url in lines["api_server"]
    assert lines["environment"].endswith("(--environment)")  # the option that set it
    assert lines["branch"].endswith("(not set)")
    assert SECRET not in out


def test_config_shows_every_text_field_of_the_configuration() -> None:
    # The command keeps its own list (it uses the public API only): it must not fall behind the class.
    from chalk_client._cli.commands import CONFIG_FIELDS
    from chalk_client._core.config import _FIELDS

    assert CONFIG_FIELDS == _FIELDS


def test_token_is_masked_unless_asked(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token"]) == 0
    out = capsys.readouterr().out
    assert "env-dev-1" in out
    assert "(primary)" in out
    assert "--show-token" in out
    assert main(["token", "--show-token"]) == 0
    shown = capsys.readouterr().out.splitlines()[0].split()[1]
    assert server.is_valid_token(shown)
    assert server.token_exchanges == 2  # one per command: each run is a new process's client


def test_missing_credentials_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "CHALK_CLIENT_ID" in err
    assert "Traceback" not in err


def test_rejected_credentials_exit_1(server: ChalkServer, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("CHALK_CLIENT_SECRET", "wrong-secret-value")
    assert main(["token"]) == 1
    err = capsys.readouterr().err
    assert "401" in err
    assert "wrong-secret-value" not in err


def test_demo_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    # A short token lifetime keeps the demo's one real wait (for the refresh) under a second.
    assert main(["demo", "--token-lifetime", "0.6"]) == 0
    out = capsys.readouterr().out
    # The story: what Chalk is, values, writes, errors, runs, offline, then what the client does.
    assert out.startswith("Chalk is a feature store.")
    headings = [line.split(".")[0] for line in out.splitlines() if line[:1].isdigit()]
    assert headings == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert out.index("Ada Lovelace") < out.index("offline query") < out.index("What the client does for you")
    assert '"Ada Lovelace"' in out  # the data plane: a query ...
    assert "the query went to the engine address" in out
    assert '"Ada King"  (resolver resolvers.get_user_name, cache hit)' in out  # ... sees the upload
    assert "error RESOLVER_FAILED" in out
    assert "get_run_status: succeeded" in out
    assert "refused before anything is sent" in out
    assert "ChalkAuthenticationError" in out
    assert "not-the-secret" not in out
    assert "1000 rows x 5 columns in" in out  # a bulk query ...
    assert "x longer)" in out  # ... timed against single queries
    assert "user.name: large_string" in out
    assert "errors are returned, not raised: ['RESOLVER_FAILED for user 13']" in out
    assert "user.transactions came back as its own table (6 rows)" in out  # a multi-query
    assert "RESOLVER_NOT_FOUND for user.shoe_size" in out
    assert "progress: successful 100% (1000 rows)" in out  # the offline query ...
    assert "0% (1 row" not in out  # no "running 0% (1 rows)"
    assert "to_arrow(): 1000 rows x 4 columns" in out  # ... read back as a table
    assert "{'user.id': 1, 'user.name': 'Ada King'" in out
    assert "same token True" in out  # the second call was cached
    assert "new token True" in out  # the refresh after the buffer
    assert "exchanges so far: 2" in out
    assert "32 queries in flight at once shared 1 exchange" in out


def test_dev_server_prints_working_credentials_and_stops_on_ctrl_c() -> None:
    import os
    import signal
    import subprocess
    import sys

    from chalk_client import ChalkClient

    proc = subprocess.Popen(
        [sys.executable, "-m", "chalk_client._cli", "dev-server", "--token-lifetime", "600"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        exports = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines if "=" in line)
        assert exports["CHALK_API_SERVER"].startswith("http://127.0.0.1:")
        with ChalkClient(
            client_id=exports["CHALK_CLIENT_ID"],
            client_secret=exports["CHALK_CLIENT_SECRET"],
            api_server=exports["CHALK_API_SERVER"],
        ) as client:
            assert client.get_token().access_token
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


def test_query_prints_a_table_and_exits_2_on_errors(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "--input", "user.id=1", "--output", "user.name", "--output", "user.age"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ['user.name  "Ada Lovelace"', "user.age   19"]
    assert main(["query", "--input", "user.id=13", "--output", "user.credit_score"]) == 2
    out = capsys.readouterr().out
    assert "error RESOLVER_FAILED" in out
    assert "error: RESOLVER_FAILED (user.credit_score" in out


def test_query_json(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["query", "--input", "user.id=2", "--output", "user.name", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"data": {"user.name": "Alan Turing"}, "errors": []}


def test_upload_then_query_and_whoami(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upload", "--input", "user.id=1", "--input", "user.name=Ada", "--input", "user.age=37"]) == 0
    assert capsys.readouterr().out.startswith("uploaded 1 row(s) of user.id, user.name, user.age")
    assert server.rows_stored == 1
    assert (
        main(["query", "--input", "user.id=1", "--output", "user.name", "--output", "user.age", "--json"])
        == 0
    )
    assert '"user.age": 37' in capsys.readouterr().out
    assert main(["whoami"]) == 0
    assert f"user:         {server.client_id}" in capsys.readouterr().out


def test_bad_input_is_one_clear_line(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upload", "--input", "user.id"]) == 1
    assert "not FEATURE=VALUE" in capsys.readouterr().err
    assert main(["upload", "--input", "user.id=1", "--input", "user.id=2", "--input", "user.name=x"]) == 1
    assert "different lengths" in capsys.readouterr().err
    assert server.rows_stored == 0
