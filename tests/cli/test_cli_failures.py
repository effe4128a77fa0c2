"""The command line's failures: one ``error:`` line on stderr and a documented exit status, never a
traceback; a closed pipe ends quietly; dev-server stops on SIGTERM as on Ctrl-C.

Subprocesses run the command where the process itself is under test (signals, pipes, a hidden
extra); every wait on one is bounded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalk_client._cli.main import EXIT_CODES, main
from chalk_client.testing import ChalkServer
from tests.conftest import SECRET

_TIMEOUT = 60  # seconds any subprocess gets, at most, to do its part


def one_error_line(err: str) -> str:
    """The single ``error:`` line of `err`, after checking that it is all there is."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def without_progress(err: str) -> str:
    """stderr without offline-query's progress lines (stderr is not a terminal here)."""
    return "".join(line for line in err.splitlines(keepends=True) if not line.startswith("offline query: "))


def run_cli(code: str, *, timeout: float = _TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run `code` (Python that ends by calling the command) in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ),
    )


class DevServer:
    """``chalk-client dev-server`` in a subprocess, with its printed credentials."""

    def __init__(self, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chalk_client._cli", "dev-server", *extra],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        assert self.proc.stdout is not None
        # Five lines: the banner, a blank line, three exports. readline() returns at EOF too.
        self.lines = [self.proc.stdout.readline() for _ in range(5)]
        self.exports = dict(
            line.removeprefix("export ").strip().split("=", 1) for line in self.lines if "=" in line
        )
        assert "CHALK_API_SERVER" in self.exports, self.lines

    def finish(self) -> tuple[int, str, str]:
        """Wait (bounded) for it to exit: the status, the rest of stdout, and stderr."""
        out, err = self.proc.communicate(timeout=_TIMEOUT)
        return self.proc.returncode, out or "", err or ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=_TIMEOUT)


@pytest.fixture
def dev_server() -> Iterator[DevServer]:
    server = DevServer()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ChalkServer]:
    with ChalkServer(client_secret=SECRET, offline_duration=0) as server:
        monkeypatch.setenv("CHALK_CLIENT_ID", server.client_id)
        monkeypatch.setenv("_CHALK_CLIENT_SECRET", SECRET)
        monkeypatch.setenv("CHALK_API_SERVER", server.url)
        monkeypatch.chdir(tmp_path)
        yield server


# ---------------------------------------------------------------------------------------------------
# Exit statuses and usage errors


def test_help_documents_every_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "exit status:" in out
    for code, meaning in EXIT_CODES.items():
        assert f"  {code:<4} {meaning.split()[0]}" in out
    assert set(EXIT_CODES) == {0, 1, 2, 3, 64, 130, 141}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["no-such-command"], "invalid choice: 'no-such-command'"),
        (["token", "--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["query", "--output", "user.name"], "one of the arguments --input --input-file is required"),
        (["dev-server", "--port", "70000"], "70000 is not a port: use 1 to 65535, or 0 for a free one"),
        (["dev-server", "--port", "-1"], "-1 is not a port"),
        (["dev-server", "--port", "eighty"], "'eighty' is not a port number"),
        (["dev-server", "--token-lifetime", "0"], "must be more than 0 seconds"),
        (["demo", "--token-lifetime", "soon"], "'soon' is not a number of seconds"),
    ],
)
def test_usage_errors_are_one_line_and_exit_64(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 64
    line = one_error_line(capsys.readouterr().err)
    assert expected in line
    assert "--help" in line


# ---------------------------------------------------------------------------------------------------
# dev-server and demo: the extra, the port, signals, pipes


@pytest.mark.parametrize(
    ("command", "hidden"),
    [("dev-server", "uvicorn"), ("demo", "uvicorn"), ("demo", "pyarrow")],
)
def test_without_the_testing_extra_the_line_names_it(command: str, hidden: str) -> None:
    # None in sys.modules makes the import fail as if the package were not installed.
    done = run_cli(
        "import sys\n"
        f"sys.modules[{hidden!r}] = None\n"
        f"sys.modules[{hidden + '.parquet'!r}] = None\n"
        "from chalk_client._cli.main import main\n"
        f"raise SystemExit(main([{command!r}]))\n"
    )
    assert done.returncode == 3, done.stderr
    line = one_error_line(done.stderr)
    assert f"`chalk-client {command}` needs the testing extra" in line
    assert f"({hidden} is missing)" in line
    assert line.endswith("pip install 'chalk-client[testing]'")
    assert done.stdout == ""


def test_a_port_that_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["dev-server", "--port", str(port)]) == 1
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert f"port {port} on 127.0.0.1 is taken: pass another --port, or leave it out" in line
    assert captured.out == ""  # no credentials printed for a server that never ran


def test_dev_server_stops_on_sigterm_as_on_ctrl_c(dev_server: DevServer) -> None:
    assert dev_server.exports["CHALK_API_SERVER"].startswith("http://127.0.0.1:")
    dev_server.proc.send_signal(signal.SIGTERM)
    code, out, err = dev_server.finish()
    assert code == 0
    assert out.endswith("\nstopped\n")
    assert err == ""


def test_a_closed_pipe_ends_quietly(dev_server: DevServer) -> None:
    # As `chalk-client dev-server | head -1`: the reader has gone when "stopped" is written.
    assert dev_server.proc.stdout is not None
    dev_server.proc.stdout.close()
    dev_server.proc.send_signal(signal.SIGTERM)
    dev_server.proc.wait(timeout=_TIMEOUT)
    assert dev_server.proc.stderr is not None
    err = dev_server.proc.stderr.read()
    assert err == ""  # no traceback, no "Exception ignored" at exit
    assert dev_server.proc.returncode == 141


# ---------------------------------------------------------------------------------------------------
# Credentials


def test_missing_credentials_name_the_command_lines_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token"]) == 1
    line = one_error_line(capsys.readouterr().err)
    for expected in (
        "pass --client-id or set CHALK_CLIENT_ID",
        "set CHALK_CLIENT_SECRET (there is no --client-secret option",
        "run `chalk login`, the Chalk CLI's login, which writes",
        ".chalk.yml",
        "`chalk-client config`",
    ):
        assert expected in line


def test_rejected_credentials_name_the_client_id_and_the_option_it_came_from(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--client-id", "not-this-one"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "answered 401" in line
    assert "client id 'not-this-one' (from --client-id)" in line
    assert "the client secret from _CHALK_CLIENT_SECRET" in line
    assert "`chalk-client config`" in line
    assert SECRET not in line


# ---------------------------------------------------------------------------------------------------
# offline-query: input and output files


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_an_unreadable_input_file_is_one_line_before_any_call(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "inputs.csv"
    if kind == "directory":
        path.mkdir()
    # No credentials are set: the file is read, and refused, before anything else.
    assert main(["offline-query", "--input-file", str(path), "--output", "user.name"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert f"cannot read --input-file {path}" in line


def test_an_output_that_cannot_be_written_names_the_job_to_re_attach(
    server: ChalkServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("in the way\n")
    code = main(["offline-query", "--output", "user.name", "--wait", "--out", "a-file/results.parquet"])
    assert code == 1
    line = one_error_line(without_progress(capsys.readouterr().err))
    job_id = server.offline_jobs[-1].job_id
    assert f"cannot write the results of job {job_id} to a-file/results.parquet" in line
    assert f"--job-id {job_id} --wait --out PATH" in line


def reference_mode(folder: Path) -> int:
    """The permissions a file a program writes gets here: 0o666 under this process's umask."""
    probe = folder / "probe"
    probe.write_bytes(b"")  # open() creates with 0o666, masked by the umask
    mode = probe.stat().st_mode & 0o777
    probe.unlink()
    return mode


@pytest.mark.parametrize(
    ("extra", "out", "files"),
    [
        ([], "combined.parquet", ["combined.parquet"]),  # 1000 rows: two parts, combined
        (["--max-samples", "3"], "single.parquet", ["single.parquet"]),  # one part, moved
        ([], "parts/", ["parts/{job}-00000.parquet", "parts/{job}-00001.parquet"]),  # {job}: its id
    ],
)
def test_saved_results_get_the_usual_permissions(
    server: ChalkServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    out: str,
    files: list[str],
) -> None:
    expected = reference_mode(tmp_path)
    assert main(["offline-query", "--output", "user.name", *extra, "--wait", "--out", out]) == 0
    capsys.readouterr()
    for name in files:
        path = tmp_path / name.format(job=server.offline_jobs[-1].job_id)
        assert path.stat().st_mode & 0o777 == expected, name
    assert not [p.name for p in tmp_path.rglob(".*")]  # no temporary file left behind


def test_a_job_without_result_files_is_saved_as_an_empty_table_of_its_columns(
    server: ChalkServer, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    from chalk_client import ChalkClient
    from chalk_client._cli.commands_offline import save_results

    with ChalkClient() as client:
        job = client.offline_query({"user.id": [1, 2]}, ["user.name", "user.age"]).wait(timeout=30)
        job.download = lambda directory: []  # type: ignore[method-assign] # as a job with no rows at all
        assert save_results(job, str(tmp_path / "empty.parquet")) == [tmp_path / "empty.parquet"]
    table = pq.read_table(tmp_path / "empty.parquet")
    assert table.num_rows == 0
    assert {"user.name", "user.age"} <= set(table.column_names)
    assert not [p.name for p in tmp_path.rglob(".*")]  # no temporary file left behind


def test_several_result_files_without_pyarrow_say_how_to_save_them(
    dev_server: DevServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The server runs in its own process with pyarrow; this process, the command's, has none.
    for name, value in dev_server.exports.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code = main(["offline-query", "--output", "user.name", "--wait", "--out", "results.parquet"])
    captured = capsys.readouterr()
    assert code == 3
    assert captured.out.startswith("submitted offline query job ")
    job_id = captured.out.split()[4]  # a UUID, as Chalk's are
    line = one_error_line(without_progress(captured.err))
    assert "combining 2 result files into results.parquet needs pyarrow" in line
    assert "pip install 'chalk-client[arrow]'" in line
    assert "--out DIR/" in line
    assert f"chalk-client offline-query --job-id {job_id} --wait --out {job_id}/" in line
    assert list(tmp_path.iterdir()) == []  # nothing half-written

    # The advice works, still without pyarrow.
    assert main(["offline-query", "--job-id", job_id, "--wait", "--out", f"{job_id}/"]) == 0
    assert sorted(p.name for p in (tmp_path / job_id).iterdir()) == [
        f"{job_id}-00000.parquet",
        f"{job_id}-00001.parquet",
    ]


def test_an_unknown_environment_names_the_option_it_came_from(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["whoami", "--environment", "staging"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "the environment 'staging' (from --environment) is not one this token can use" in line
    assert "Available: dev (env-dev-1), prod (env-prod-1)." in line
    assert line.endswith("Pass one of these names or ids as --environment.")
