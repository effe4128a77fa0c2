"""``chalk-client query --input-file FILE``: one bulk query over a file's rows, against a real
ChalkServer; the argument checks, the file formats in and out, and the all-or-nothing write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalk_client import ChalkClient
from chalk_client._cli.main import main
from chalk_client._cli.tables import read_input_file, read_table_file, write_tables
from chalk_client.testing import FAILING_USER_ID, ChalkServer, seeded_transactions, seeded_user
from tests.cli.test_cli_failures import one_error_line
from tests.conftest import SECRET

OUTPUTS = ["--output", "user.name", "--output", "user.credit_score"]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ChalkServer]:
    with ChalkServer(client_secret=SECRET) as server:
        monkeypatch.setenv("CHALK_CLIENT_ID", server.client_id)
        monkeypatch.setenv("_CHALK_CLIENT_SECRET", SECRET)
        monkeypatch.setenv("CHALK_API_SERVER", server.url)
        monkeypatch.chdir(tmp_path)
        yield server


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The arguments of each ``query_bulk`` call the command makes (the real call still runs)."""
    calls: list[dict[str, Any]] = []
    real = ChalkClient.query_bulk

    def spy(self: ChalkClient, input: object, output: Any, **options: Any) -> Any:
        calls.append({"input": input, "output": list(output), **options})
        return real(self, input, output, **options)

    monkeypatch.setattr(ChalkClient, "query_bulk", spy)
    return calls


def users_csv(path: Path, ids: list[int], extra: str = "") -> Path:
    lines = ["user.id" + (",user.tags" if extra else "")]
    lines += [f"{n}" + (f",{extra}" if extra else "") for n in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def expected(ids: list[int]) -> list[dict[str, Any]]:
    rows = []
    for n in ids:
        seeded = seeded_user(n) or {}
        rows.append(
            {
                "user.id": n,
                "user.name": seeded.get("user.name"),
                "user.credit_score": seeded.get("user.credit_score"),
            }
        )
    return rows


def scalar_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: row[k] for k in ("user.id", "user.name", "user.credit_score")} for row in rows]


def no_hidden_files(folder: Path) -> bool:
    return not [p.name for p in folder.rglob(".*")]


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 64
    return one_error_line(capsys.readouterr().err)


# ---------------------------------------------------------------------------------------------------
# Arguments: refused before anything is sent


def test_input_and_input_file_exclude_each_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = users_csv(tmp_path / "users.csv", [1])
    line = usage_error(["query", "--input", "user.id=1", "--input-file", str(csv_file), *OUTPUTS], capsys)
    assert "argument --input-file: not allowed with argument --input" in line
    line = usage_error(["query", *OUTPUTS], capsys)
    assert "one of the arguments --input --input-file is required" in line


@pytest.mark.parametrize(
    ("option", "value", "expected_message"),
    [
        ("--out", "scores.xlsx", "'scores.xlsx' is not a .parquet, .csv, .json file"),
        ("--out", "scores", "'scores' is not a .parquet, .csv, .json file"),
        ("--input-file", "users.tsv", "'users.tsv' is not a .csv, .parquet, .json file"),
    ],
)
def test_unknown_suffixes_are_usage_errors_before_anything_is_sent(
    server: ChalkServer, option: str, value: str, expected_message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    users_csv(Path("users.csv"), [1])
    argv = ["query", "--input-file", "users.csv", *OUTPUTS, "--out", "scores.parquet"]
    argv[argv.index(option) + 1] = value
    line = usage_error(argv, capsys)
    assert f"argument {option}: {expected_message}" in line
    assert server.requests == []  # not even a token exchange
    assert sorted(p.name for p in Path().iterdir()) == ["users.csv"]


def test_out_needs_input_file(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--input", "user.id=1", *OUTPUTS, "--out", "scores.csv"]) == 64
    line = one_error_line(capsys.readouterr().err)
    assert "--out needs --input-file" in line
    assert server.requests == []


def test_suffixes_are_read_in_any_case(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    users_csv(Path("USERS.CSV"), [2])
    assert main(["query", "--input-file", "USERS.CSV", *OUTPUTS, "--out", "Scores.JSON"]) == 0
    assert scalar_rows(json.loads(Path("Scores.JSON").read_text())) == expected([2])
    capsys.readouterr()


# ---------------------------------------------------------------------------------------------------
# CSV in, each format out, with the seeded values


def test_csv_in_parquet_out(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow.parquet as pq

    ids = [1, 2, 3, 4, 1000]
    users_csv(Path("users.csv"), ids)
    assert main(["query", "--input-file", "users.csv", *OUTPUTS, "--out", "scores.parquet"]) == 0
    assert capsys.readouterr().out == "wrote 5 rows x 4 columns to scores.parquet\n"
    table = pq.read_table("scores.parquet")
    assert table.column_names == ["user.id", "user.name", "user.credit_score", "__ts__"]
    assert scalar_rows(table.to_pylist()) == expected(ids)
    assert str(table.schema.field("user.credit_score").type) == "int64"  # the server's types kept
    assert no_hidden_files(Path())
    # One bulk query for the whole file, not a query per row.
    assert [r.path for r in server.requests if r.path.startswith("/v1/query")] == ["/v1/query/feather"]


def test_csv_in_csv_out_reads_back_as_the_same_values(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [5, 6, 7]
    users_csv(Path("users.csv"), ids)
    assert main(["query", "--input-file", "users.csv", *OUTPUTS, "--out", "out/scores.csv"]) == 0
    assert capsys.readouterr().out == "wrote 3 rows x 4 columns to out/scores.csv\n"
    lines = Path("out/scores.csv").read_text().splitlines()
    assert lines[0] == "user.id,user.name,user.credit_score,__ts__"
    first = seeded_user(5) or {}
    assert lines[1].startswith(f"5,{first['user.name']},{first['user.credit_score']},")
    columns = read_input_file("out/scores.csv")
    assert columns["user.id"] == ids
    assert columns["user.name"] == [(seeded_user(n) or {})["user.name"] for n in ids]
    assert columns["user.credit_score"] == [(seeded_user(n) or {})["user.credit_score"] for n in ids]


def test_csv_in_json_out_is_a_list_of_row_objects(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [8, 9]
    users_csv(Path("users.csv"), ids)
    assert main(["query", "--input-file", "users.csv", *OUTPUTS, "--out", "scores.json"]) == 0
    capsys.readouterr()
    rows = json.loads(Path("scores.json").read_text())
    assert scalar_rows(rows) == expected(ids)
    assert rows[0]["__ts__"].endswith("+00:00")  # times in ISO 8601


def test_a_json_cell_is_sent_as_its_value(
    server: ChalkServer, sent: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    Path("users.csv").write_text('user.id,user.tags,user.nickname\n1,"[1, 2]",Ada\n2,[],"""007"""\n3,,\n')
    assert main(["query", "--input-file", "users.csv", *OUTPUTS, "--json"]) == 0
    assert sent[0]["input"] == {
        "user.id": [1, 2, 3],
        "user.tags": [[1, 2], [], None],
        "user.nickname": ["Ada", "007", None],
    }
    assert sent[0]["output"] == ["user.name", "user.credit_score"]
    assert scalar_rows(json.loads(capsys.readouterr().out)["data"]) == expected([1, 2, 3])


def test_parquet_and_json_input_files(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"user.id": pa.array([3, 1], pa.int32())}), "users.parquet")
    Path("columns.json").write_text('{"user.id": [3, 1]}')
    Path("rows.json").write_text('[{"user.id": 3}, {"user.id": 1, "user.tags": ["a"]}]')
    for name in ("users.parquet", "columns.json", "rows.json"):
        assert main(["query", "--input-file", name, *OUTPUTS, "--json"]) == 0, name
        assert scalar_rows(json.loads(capsys.readouterr().out)["data"]) == expected([3, 1]), name
    assert read_table_file("rows.json") == {"user.id": [3, 1], "user.tags": [None, ["a"]]}


@pytest.mark.parametrize(
    ("name", "content", "expected_message"),
    [
        ("users.json", "{not json", "--input-file users.json is not a UTF-8 JSON file"),
        ("users.json", '{"user.id": 1}', "'user.id' is a int, not a list of values"),
        ("users.json", "[1, 2]", "row 1 is a int, not an object"),
        ("users.json", "[]", "--input-file users.json has no rows"),
        ("users.json", '"user.id"', "--input-file users.json holds a str"),
        ("users.parquet", "user.id\n1\n", "--input-file users.parquet is not a parquet file"),
        ("users.csv", "", "--input-file users.csv is empty"),
    ],
)
def test_a_bad_input_file_is_one_line_before_any_call(
    name: str, content: str, expected_message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No credentials are set: the file is read, and refused, before anything else.
    (tmp_path / name).write_text(content)
    assert main(["query", "--input-file", str(tmp_path / name), *OUTPUTS]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert expected_message.replace(name, str(tmp_path / name)) in line


def test_a_missing_input_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("missing.csv", "missing.parquet", "missing.json"):
        assert main(["query", "--input-file", str(tmp_path / name), *OUTPUTS]) == 1
        assert f"cannot read --input-file {tmp_path / name}" in one_error_line(capsys.readouterr().err)


# ---------------------------------------------------------------------------------------------------
# The server's errors, the table without --out, has-many groups, meta


def test_answer_errors_exit_2_and_the_values_are_written_all_the_same(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq

    ids = [12, FAILING_USER_ID, 14]
    users_csv(Path("users.csv"), ids)
    assert main(["query", "--input-file", "users.csv", *OUTPUTS, "--out", "scores.parquet"]) == 2
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "wrote 3 rows x 4 columns to scores.parquet"
    assert lines[1].startswith(
        "error: RESOLVER_FAILED (user.credit_score, resolvers.get_credit_score, key 13)"
    )
    assert len(lines) == 2
    assert captured.err == ""
    rows = scalar_rows(pq.read_table("scores.parquet").to_pylist())
    assert rows == expected(ids)
    assert rows[1]["user.credit_score"] is None

    assert main(["query", "--input-file", "users.csv", *OUTPUTS, "--out", "scores.json", "--json"]) == 2
    summary = json.loads(capsys.readouterr().out)
    assert summary["out"] == "scores.json"
    assert summary["rows"] == 3
    assert [e["code"] for e in summary["errors"]] == ["RESOLVER_FAILED"]
    assert summary["errors"][0]["display_primary_key"] == "13"


def test_without_out_the_first_rows_are_printed_with_the_count(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = list(range(1, 26))  # 25 rows, 13 among them
    users_csv(Path("users.csv"), ids)
    assert main(["query", "--input-file", "users.csv", *OUTPUTS]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["user.id", "user.name", "user.credit_score", "__ts__"]
    assert lines[1].split()[:3] == ["1", "Ada", "Lovelace"]
    assert lines[13].split()[0] == "13"
    assert " null " in lines[13]
    assert (
        lines[21] == "25 rows x 4 columns (the first 20 shown; --out FILE.parquet|.csv|.json writes them all)"
    )
    assert lines[22].startswith("error: RESOLVER_FAILED (user.credit_score")
    assert len(lines) == 23
    assert list(Path().iterdir()) == [Path("users.csv")]  # nothing written without --out


def test_json_without_out_has_every_row_and_the_errors(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = list(range(1, 31))
    users_csv(Path("users.csv"), ids)
    assert main(["query", "--input-file", "users.csv", *OUTPUTS, "--json"]) == 2
    answer = json.loads(capsys.readouterr().out)
    assert scalar_rows(answer["data"]) == expected(ids)
    assert answer["groups"] == {}
    assert [e["feature"] for e in answer["errors"]] == ["user.credit_score"]
    assert "meta" not in answer


def test_has_many_groups_are_written_beside_out(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq

    ids = [1, 2, 3, 4]
    users_csv(Path("users.csv"), ids)
    argv = ["query", "--input-file", "users.csv", "--output", "user.name", "--output", "user.transactions"]
    assert main([*argv, "--out", "scores.parquet"]) == 0
    transactions = [t for n in ids for t in seeded_transactions(n)]
    assert capsys.readouterr().out.splitlines() == [
        "wrote 4 rows x 3 columns to scores.parquet",
        f"wrote {len(transactions)} row(s) of user.transactions to scores.user.transactions.parquet",
    ]
    group = pq.read_table("scores.user.transactions.parquet").drop_columns(["__ts__"]).to_pylist()
    assert group == transactions
    assert "user.transactions" not in pq.read_table("scores.parquet").column_names

    assert main([*argv, "--out", "scores.csv"]) == 0
    capsys.readouterr()
    columns = read_input_file("scores.user.transactions.csv")
    assert columns["transaction.amount"] == [t["transaction.amount"] for t in transactions]

    assert main(argv) == 0  # without --out: the group's row count
    out = capsys.readouterr().out
    assert f"user.transactions: {len(transactions)} row(s), a has-many group" in out
    assert main([*argv, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [{k: v for k, v in t.items() if k != "__ts__"} for t in answer["groups"]["user.transactions"]] == (
        transactions
    )


def test_include_meta_and_query_name(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    users_csv(Path("users.csv"), [1])
    argv = ["query", "--input-file", "users.csv", *OUTPUTS, "--include-meta", "--query-name", "scores"]
    assert main(argv) == 0
    meta_line = capsys.readouterr().out.splitlines()[-1]
    assert meta_line.startswith("meta: ")
    assert "environment_id env-dev-1" in meta_line
    assert main([*argv, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["meta"]["environment_id"] == "env-dev-1"
    assert answer["meta"]["query_id"]
    assert [r.query_name for r in server.requests if r.path == "/v1/query/feather"] == ["scores", "scores"]


def test_the_single_query_is_unchanged(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--input", "user.id=1", "--output", "user.name", "--include-meta"]) == 0
    assert capsys.readouterr().out.startswith('user.name  "Ada Lovelace"  (resolver resolvers.get_user_name')
    assert [r.path for r in server.requests if r.path.startswith("/v1/query")] == ["/v1/query/online"]


# ---------------------------------------------------------------------------------------------------
# Writing: all or nothing


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(
    server: ChalkServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq

    users_csv(Path("users.csv"), [1, 2, 3])
    Path("scores.parquet").write_bytes(b"the old results")
    real_write = pq.write_table
    written: list[object] = []

    def full_disk(table: Any, where: Any, **kwargs: Any) -> None:
        if written:  # the second file (the group) fails half-way
            where.write(b"PAR1 half a file")
            raise OSError(28, "No space left on device")
        written.append(where)
        real_write(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", full_disk)
    argv = ["query", "--input-file", "users.csv", *OUTPUTS, "--output", "user.transactions"]
    assert main([*argv, "--out", "scores.parquet"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "cannot write the values to scores.parquet: No space left on device" in line
    assert "nothing was written" in line
    assert sorted(p.name for p in Path().iterdir()) == ["scores.parquet", "users.csv"]
    assert Path("scores.parquet").read_bytes() == b"the old results"
    assert no_hidden_files(Path())


def test_an_out_that_cannot_be_written_is_one_line(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    users_csv(Path("users.csv"), [1])
    Path("a-file").write_text("in the way\n")
    Path("taken.json").mkdir()
    for out, reason in (("a-file/scores.csv", "(a-file): File exists"), ("taken.json", "Is a directory")):
        assert main(["query", "--input-file", "users.csv", *OUTPUTS, "--out", out]) == 1
        line = one_error_line(capsys.readouterr().err)
        assert f"cannot write the values to {out}" in line
        assert reason in line
    assert sorted(p.name for p in Path().iterdir()) == ["a-file", "taken.json", "users.csv"]
    assert list(Path("taken.json").iterdir()) == []


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    import pyarrow as pa

    from tests.cli.test_cli_failures import reference_mode

    table = pa.table({"user.id": [1]})
    paths = [tmp_path / "x.parquet", tmp_path / "x.csv", tmp_path / "x.json"]
    for path in paths:
        assert write_tables({path: table}) == [path]
        assert path.stat().st_mode & 0o777 == reference_mode(tmp_path)
    assert no_hidden_files(tmp_path)


def test_csv_cells_read_back_as_the_values_written(tmp_path: Path) -> None:
    import pyarrow as pa

    values = {
        "text": ["Ada", "007", "true", "", None, "a,b", 'say "hi"', "null", "two\nlines"],
        "number": [1, 0, -3, None, 2**40, 7, 8, 9, 10],
        "real": [0.5, 1e-9, None, 2.0, 3.25, 0.0, -1.5, 4.0, 5.0],
        "flag": [True, False, None, True, True, False, True, False, True],
        "tags": [[1, 2], [], None, [3], [4], [5], [6], [7], [8]],
        "info": [{"a": "b"}, None, {"a": "c"}, {"a": None}, None, None, None, None, None],
    }
    path = tmp_path / "cells.csv"
    write_tables({path: pa.table(values)})
    assert read_input_file(str(path)) == values


def test_without_pyarrow_the_line_names_the_arrow_extra(
    server: ChalkServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    users_csv(Path("users.csv"), [1])
    Path("users.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    for name in ("users.csv", "users.parquet"):
        assert main(["query", "--input-file", name, *OUTPUTS, "--out", "scores.csv"]) == 3
        line = one_error_line(capsys.readouterr().err)
        assert "needs pyarrow" in line
        assert line.endswith("pip install 'chalk-client[arrow]'")
    assert [r.path for r in server.requests if r.path.startswith("/v1/query")] == []
    assert sorted(p.name for p in Path().iterdir()) == ["users.csv", "users.parquet"]
