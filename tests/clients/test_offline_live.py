"""Offline queries on both clients against a real ChalkServer, and the offline-query command.

The clients' sleeps move the server's clock instead of waiting, so a job's whole life (submitted,
running, successful) takes no real time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalk_client import (
    ChalkOfflineQueryError,
    OfflineQueryStatus,
)
from chalk_client._cli.main import main
from chalk_client.testing import FAILING_USER_ID, ChalkServer, seeded_user
from tests.conftest import SECRET, ClientUnderTest, ServerClock

OUTPUTS = ["user.name", "user.age", "user.credit_score"]


@pytest.fixture(scope="module")
def server_clock() -> ServerClock:
    return ServerClock()


@pytest.fixture(scope="module")
def server(server_clock: ServerClock) -> Iterator[ChalkServer]:
    with ChalkServer(clock=server_clock, offline_duration=4.0, client_secret=SECRET) as running:
        yield running


@pytest.fixture
def client_options(server: ChalkServer, server_clock: ServerClock) -> dict[str, Any]:
    """The clients' waits move the server's clock instead (and are recorded)."""
    return {"server": server, "fake_sleep": server_clock.advance}


def expected_row(user_id: int) -> dict[str, Any]:
    seeded = seeded_user(user_id)
    assert seeded is not None
    row = {"user.id": user_id, **{name: seeded[name] for name in OUTPUTS}}
    if user_id == FAILING_USER_ID:
        row["user.credit_score"] = None  # its resolver fails: null in an offline result
    return row


def test_a_1000_row_round_trip_matches_the_seeded_data(client: ClientUnderTest, server: ChalkServer) -> None:
    seen: list[OfflineQueryStatus] = []
    ids = list(range(1, 1001))
    job = client(
        "offline_query", {"user.id": ids}, OUTPUTS, dataset_name="round-trip", on_progress=seen.append
    )
    client.run(job.wait(timeout=60))
    table = client.run(job.to_arrow())
    assert table.column_names == ["user.id", *OUTPUTS]
    assert table.to_pylist() == [expected_row(n) for n in ids]
    statuses = [s.status for s in seen]
    assert statuses[0] in ("submitted", "running")
    assert statuses[-1] == "successful"
    assert "running" in statuses
    fractions = [s.fraction for s in seen if s.status == "running"]
    assert fractions == sorted(fractions)  # progress only grows
    assert seen[-1].rows == 1000
    assert len(client.run(job.urls())) == 2  # 500 rows per file
    assert sum(client.sleeps) >= 4.0  # the job's duration passed on the server's clock, not in real time


def test_pandas_and_polars_read_the_same_rows(client: ClientUnderTest) -> None:
    job = client("offline_query", {"user.id": [3, 1, 2]}, ["user.name"], wait=True)
    assert client.run(job.to_pandas())["user.name"].tolist() == [
        "Grace Hopper",
        "Ada Lovelace",
        "Alan Turing",
    ]
    assert client.run(job.to_polars())["user.id"].to_list() == [3, 1, 2]


def test_required_output_and_max_samples(client: ClientUnderTest) -> None:
    job = client(
        "offline_query",
        {"user.id": [12, 13, 14, 15]},
        ["user.name"],
        required_output=["user.credit_score"],
        max_samples=2,
        wait=True,
    )
    assert client.run(job.to_arrow()).column("user.id").to_pylist() == [12, 14]


def test_an_unknown_feature_fails_the_job_with_a_chalk_error(client: ClientUnderTest) -> None:
    job = client("offline_query", {"user.id": [1]}, ["user.nope"])
    with pytest.raises(ChalkOfflineQueryError) as caught:
        client.run(job.wait(timeout=60))
    assert caught.value.job_id == job.job_id
    assert caught.value.status == "failed"
    assert [str(e.code) for e in caught.value.errors] == ["RESOLVER_NOT_FOUND"]
    assert "user.nope" in str(caught.value)


def test_cancel_stops_the_job(client: ClientUnderTest, server: ChalkServer) -> None:
    job = client("offline_query", {"user.id": [1, 2]}, ["user.name"])
    assert client.run(job.cancel()).status == "cancelled"
    with pytest.raises(ChalkOfflineQueryError) as caught:
        client.run(job.wait())
    assert caught.value.status == "cancelled"
    [record] = [j for j in server.offline_jobs if j.job_id == job.job_id]
    assert record.status == "CANCELLED"


def test_expired_urls_are_refreshed(
    client: ClientUnderTest, server: ChalkServer, server_clock: ServerClock, tmp_path: Path
) -> None:
    job = client("offline_query", {"user.id": [1, 2, 3]}, ["user.name"], wait=True)
    server_clock.advance(server.offline_url_lifetime + 1)  # the URLs the wait saw have expired
    [path] = client.run(job.download(tmp_path))
    assert path.name == f"{job.job_id}-00000.parquet"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_reattach_by_job_id(client: ClientUnderTest) -> None:
    job = client("offline_query", {"user.id": [4]}, ["user.name"])
    again = client("get_offline_query", job.job_id)
    assert client.run(again.to_arrow()).to_pylist() == [{"user.id": 4, "user.name": "Erin Smith"}]


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def cli_env(server: ChalkServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("CHALK_CLIENT_ID", server.client_id)
    monkeypatch.setenv("_CHALK_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("CHALK_API_SERVER", server.url)
    monkeypatch.chdir(tmp_path)
    server.offline_duration = 0  # the command sleeps for real, and this server's clock is manual
    yield tmp_path
    server.offline_duration = 4.0


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_cli_offline_query_waits_and_writes_parquet(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq

    inputs = write_csv(cli_env / "inputs.csv", [["user.id"], *[[n] for n in range(1, 601)]])
    code = main(
        [
            "offline-query",
            "--input-file",
            str(inputs),
            "--output",
            "user.credit_score",
            "--wait",
            "--out",
            "results.parquet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    table = pq.read_table(cli_env / "results.parquet")  # two parts, combined into one file
    assert table.num_rows == 600
    assert table.column("user.credit_score").to_pylist()[:2] == [
        expected_row(1)["user.credit_score"],
        expected_row(2)["user.credit_score"],
    ]
    assert "offline query: successful 100% (600 rows)" in captured.err  # plain lines: not a terminal
    assert "\r" not in captured.err
    assert "saved to results.parquet" in captured.out
    assert sorted(p.name for p in cli_env.iterdir()) == ["inputs.csv", "results.parquet"]  # no leftovers


def test_cli_offline_query_without_wait_prints_how_to_follow(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["offline-query", "--output", "user.name", "--max-samples", "3"]) == 0
    out = capsys.readouterr().out
    job_id = out.split()[4]
    assert f"chalk-client offline-query --job-id {job_id} --wait" in out
    assert main(["offline-query", "--job-id", job_id, "--wait", "--out", "parts/"]) == 0
    assert [p.name for p in (cli_env / "parts").iterdir()] == [f"{job_id}-00000.parquet"]


def test_cli_progress_bar_on_a_terminal() -> None:
    import io

    from chalk_client._cli.commands_offline import ProgressPrinter

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    printer = ProgressPrinter(stream)
    printer(OfflineQueryStatus("running", 0.5, 50))
    printer(OfflineQueryStatus("successful", 1.0, 100))
    text = stream.getvalue()
    assert text.startswith("\r[" + "#" * 15 + "-" * 15 + "] running 50% (50 rows)")
    assert "\r[" + "#" * 30 + "] successful 100% (100 rows)" in text
    assert text.endswith("\n")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "is empty"),
        ([["user.id", "user.id"], [1, 2]], "distinct"),
        ([["user.id", "user.name"], [1]], "line 2: 1 cells where the header has 2"),
    ],
)
def test_cli_bad_input_files_are_one_clear_line(
    cli_env: Path, capsys: pytest.CaptureFixture[str], rows: list[list[Any]], message: str
) -> None:
    path = write_csv(cli_env / "bad.csv", rows)
    assert main(["offline-query", "--input-file", str(path), "--output", "user.name"]) == 1
    assert message in capsys.readouterr().err


def test_cli_needs_an_output(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["offline-query"]) == 1
    assert "--output" in capsys.readouterr().err
