"""``chalk-client upload --input-file FILE`` (multi_upload_features) and ``chalk-client delete``
(delete_features, and drop_features with --all-rows), against a real ChalkServer: what is stored
and deleted, as a query then sees it; the argument checks before anything is sent; the server's
errors one line each; the operation ids of what was stored before a failure; the exit statuses."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalk_client import ChalkClient
from chalk_client._cli.main import main
from chalk_client.testing import ChalkServer, Fault, seeded_user
from tests.cli.test_cli_failures import one_error_line
from tests.cli.test_query_bulk import usage_error
from tests.conftest import SECRET

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ChalkServer]:
    with ChalkServer(client_secret=SECRET) as server:
        monkeypatch.setenv("CHALK_CLIENT_ID", server.client_id)
        monkeypatch.setenv("_CHALK_CLIENT_SECRET", SECRET)
        monkeypatch.setenv("CHALK_API_SERVER", server.url)
        monkeypatch.chdir(tmp_path)
        yield server


def run(command: str) -> int:
    """`command`'s exit status; its words are split at spaces."""
    return main(command.split())


def write(path: str, text: str) -> str:
    Path(path).write_text(text, encoding="utf-8")
    return path


def query(user_id: int, *features: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The values `chalk-client query --json` answers for one user."""
    argv = ["query", "--input", f"user.id={user_id}", "--json"]
    for feature in features:
        argv += ["--output", feature]
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["errors"] == []
    data: dict[str, Any] = answer["data"]
    return data


def error_lines(err: str) -> list[str]:
    """stderr's lines, after checking that each is an ``error:`` line and none a traceback."""
    lines = err.splitlines()
    assert lines, err
    assert all(line.startswith("error: ") for line in lines), err
    assert "Traceback" not in err
    return [line.removeprefix("error: ") for line in lines]


# ---------------------------------------------------------------------------------------------------
# upload --input-file: stored, as a query then sees it


def test_a_csv_file_is_uploaded_and_a_query_sees_it(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write("rows.csv", "user.id,user.name,user.age\n1,Ada King,37\n2,Alan M. Turing,41\n")
    assert run("upload --input-file rows.csv") == 0
    captured = capsys.readouterr()
    assert re.fullmatch(
        f"uploaded 2 rows of user.id, user.name, user.age in 1 table \\(operation id {_UUID}\\)\n",
        captured.out,
    ), captured.out
    assert captured.err == ""
    assert server.rows_stored == 2
    assert server.upload_requests == 1
    assert [r.path for r in server.requests if r.path.startswith("/v1/upload")] == [
        "/v1/upload_features/multi"
    ]

    assert run("query --input user.id=1 --output user.name --output user.age") == 0
    assert capsys.readouterr().out == 'user.name  "Ada King"\nuser.age   37\n'
    with ChalkClient() as client:  # the SDK sees the same values
        result = client.query({"user.id": 2}, ["user.name", "user.age"])
    assert result.to_dict() == {"user.name": "Alan M. Turing", "user.age": 41}


def test_csv_cells_are_json_when_they_parse(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    # A bare 123 is the number: user.name is a string feature, so the server refuses the column.
    write("rows.csv", "user.id,user.name\n1,123\n2,456\n")
    assert run("upload --input-file rows.csv") == 1
    errors = error_lines(capsys.readouterr().err)
    assert errors[0] == "nothing was stored: the server reported 1 error"
    assert errors[1].startswith("VALIDATION_FAILED (user.name): the column 'user.name' must be a string")
    assert server.rows_stored == 0

    # Quoted as JSON ("123", "007"), a cell is the string; 40 is a number; Ada King is text.
    write("rows.csv", 'user.id,user.name,user.age\n1,"""123""",40\n2,"""007""",41\n3,Ada King,42\n')
    assert run("upload --input-file rows.csv") == 0
    capsys.readouterr()
    assert query(1, "user.name", "user.age", capsys=capsys) == {"user.name": "123", "user.age": 40}
    assert query(2, "user.name", capsys=capsys) == {"user.name": "007"}
    assert query(3, "user.name", capsys=capsys) == {"user.name": "Ada King"}


def test_a_column_of_mixed_types_is_refused_before_anything_is_sent(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write("rows.csv", "user.id,user.age\n1,40\n2,forty\n")
    assert run("upload --input-file rows.csv") == 1
    line = one_error_line(capsys.readouterr().err)
    assert "cannot be sent as an Arrow table" in line
    assert "'forty'" in line
    assert server.requests == []


def test_json_rows_go_as_one_table_per_set_of_keys(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # A key a row lacks is not uploaded as null: user 1 keeps its age, user 2 its name.
    rows = [
        {"user.id": 1, "user.name": "Ada King"},
        {"user.id": 2, "user.age": 50},
        {"user.id": 3, "user.name": "Grace B. Hopper"},
    ]
    write("rows.json", json.dumps(rows))
    assert run("upload --input-file rows.json") == 0
    out = capsys.readouterr().out
    assert re.fullmatch(
        f"uploaded 3 rows of user.id, user.name, user.age in 2 tables \\(operation ids {_UUID}, {_UUID}\\)\n",
        out,
    ), out
    assert server.upload_requests == 2
    assert query(1, "user.name", "user.age", capsys=capsys) == {"user.name": "Ada King", "user.age": 19}
    assert query(2, "user.name", "user.age", capsys=capsys) == {"user.name": "Alan Turing", "user.age": 50}
    assert query(3, "user.name", capsys=capsys) == {"user.name": "Grace B. Hopper"}


def test_json_columns_and_parquet_files_are_uploaded(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    write("columns.json", json.dumps({"user.id": [4, 5], "user.age": [70, 71]}))
    assert run("upload --input-file columns.json") == 0
    assert capsys.readouterr().out.startswith("uploaded 2 rows of user.id, user.age in 1 table (")
    pq.write_table(
        pa.table({"user.id": pa.array([6], pa.int32()), "user.name": ["Parquet Pat"]}), "r.PARQUET"
    )
    assert run("upload --input-file r.PARQUET") == 0
    assert capsys.readouterr().out.startswith("uploaded 1 row of user.id, user.name in 1 table (")
    assert query(5, "user.age", capsys=capsys) == {"user.age": 71}
    assert query(6, "user.name", capsys=capsys) == {"user.name": "Parquet Pat"}
    assert server.rows_stored == 3


# ---------------------------------------------------------------------------------------------------
# upload: the arguments, refused before anything is sent


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["upload", "--input", "user.id=1", "--input-file", "rows.csv"],
            "argument --input-file: not allowed with argument --input",
        ),
        (["upload"], "one of the arguments --input --input-file is required"),
        (["upload", "--input-file", "rows.tsv"], "'rows.tsv' is not a .csv, .parquet, .json file"),
    ],
)
def test_upload_arguments_are_usage_errors(
    server: ChalkServer, argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write("rows.csv", "user.id\n1\n")
    assert expected in usage_error(argv, capsys)
    assert server.requests == []  # not even a token exchange


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("rows.csv", "", "--input-file rows.csv is empty: its first line must name the features"),
        ("rows.csv", "user.id,user.id\n1,2\n", "the header needs distinct, non-empty feature names"),
        ("rows.csv", "user.id,user.name\n1\n", "line 2: 1 cells where the header has 2"),
        ("rows.json", '{"user.id": 1}', "'user.id' is a int, not a list of values"),
        ("missing.json", None, "cannot read --input-file missing.json"),
    ],
)
def test_a_bad_file_is_one_line_before_anything_is_sent(
    server: ChalkServer, name: str, text: str | None, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if text is not None:
        write(name, text)
    assert main(["upload", "--input-file", name]) == 1
    assert expected in one_error_line(capsys.readouterr().err)
    assert server.requests == []


def test_without_pyarrow_the_line_names_the_extra(
    server: ChalkServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write("rows.csv", "user.id,user.age\n1,30\n")  # a CSV file is read without pyarrow
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert run("upload --input-file rows.csv") == 3
    assert "pip install 'chalk-client[arrow]'" in one_error_line(capsys.readouterr().err)
    assert server.rows_stored == 0


# ---------------------------------------------------------------------------------------------------
# upload: the server's errors, one line each; what was stored before a failure


def test_the_servers_errors_are_one_line_each(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write("rows.csv", "user.id,user.shoe_size,user.hat_size\n1,42,7\n")
    assert run("upload --input-file rows.csv") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert error_lines(captured.err) == [
        "nothing was stored: the server reported 2 errors",
        "RESOLVER_NOT_FOUND (user.shoe_size): unknown feature 'user.shoe_size'",
        "RESOLVER_NOT_FOUND (user.hat_size): unknown feature 'user.hat_size'",
    ]
    # upload --input (upload_features) prints them the same way; its answer has a trace id.
    assert run("upload --input user.id=1 --input user.shoe_size=42") == 1
    errors = error_lines(capsys.readouterr().err)
    assert re.fullmatch("nothing was stored: the server reported 1 error \\(trace [0-9a-f]+\\)", errors[0])
    assert errors[1:] == ["RESOLVER_NOT_FOUND (user.shoe_size): unknown feature 'user.shoe_size'"]
    assert server.rows_stored == 0


def test_a_table_refused_after_others_were_stored_prints_their_operation_ids(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{"user.id": 1, "user.name": "Ada King"}, {"user.id": 2, "user.shoe_size": 42}]
    write("rows.json", json.dumps(rows))
    assert run("upload --input-file rows.json") == 1
    captured = capsys.readouterr()
    stored = re.fullmatch(f"stored 1 table before the failure: operation id ({_UUID})\n", captured.out)
    assert stored, captured.out
    errors = error_lines(captured.err)
    assert errors == [
        "table 2 of the upload was not stored (the table before it was stored: operation id "
        f"{stored[1]}): the server reported 1 error",
        "RESOLVER_NOT_FOUND (user.shoe_size): unknown feature 'user.shoe_size'",
    ]
    assert server.rows_stored == 1
    assert query(1, "user.name", capsys=capsys) == {"user.name": "Ada King"}


def test_a_request_that_fails_after_others_were_stored_prints_their_operation_ids(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{"user.id": 1, "user.age": 30}, {"user.id": 2, "user.name": "B"}, {"user.id": 3}]
    write("rows.json", json.dumps(rows))
    server.faults.add(Fault.status("multi_upload_features", 403, skip=2))
    assert run("upload --input-file rows.json") == 1
    captured = capsys.readouterr()
    stored = re.fullmatch(
        f"stored 2 tables before the failure: operation ids ({_UUID}, {_UUID})\n", captured.out
    )
    assert stored, captured.out
    line = one_error_line(captured.err)
    assert "answered 403" in line
    assert line.endswith(
        f"; table 3 of the upload failed (the 2 tables before it were stored: operation ids {stored[1]})"
    )
    assert server.upload_requests == 2


# ---------------------------------------------------------------------------------------------------
# delete: some entities' values; --all-rows: a feature of every entity


def test_delete_then_a_query_answers_null(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert query(1, "user.name", "user.age", capsys=capsys) == {"user.name": "Ada Lovelace", "user.age": 19}
    argv = ["delete", "--namespace", "user", "--primary-key", "1", "--primary-key", "2", "--feature", "name"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == "deleted user.name of user 1, 2 from the online and offline stores\n"
    assert captured.err == ""
    assert [(r.method, r.path) for r in server.requests][-1] == ("DELETE", "/v1/features/rows")
    assert query(1, "user.name", "user.age", capsys=capsys) == {"user.name": None, "user.age": 19}
    assert query(2, "user.name", capsys=capsys) == {"user.name": None}
    assert query(3, "user.name", capsys=capsys) == {"user.name": "Grace Hopper"}

    # Every feature (but the key), with the feature's full name too; deleting twice is fine.
    assert run("delete --namespace user --primary-key 3") == 0
    assert capsys.readouterr().out == "deleted every feature of user 3 from the online and offline stores\n"
    assert query(3, "user.name", "user.age", capsys=capsys) == {"user.name": None, "user.age": None}
    assert run("delete --namespace user --primary-key 3 --feature user.age") == 0
    assert capsys.readouterr().out == "deleted user.age of user 3 from the online and offline stores\n"


def test_an_upload_after_a_delete_brings_the_value_back(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("delete --namespace user --primary-key 4 --feature age") == 0
    write("rows.csv", "user.id,user.age\n4,44\n")
    assert run("upload --input-file rows.csv") == 0
    capsys.readouterr()
    assert query(4, "user.age", capsys=capsys) == {"user.age": 44}


def test_retain_online_keeps_what_a_query_sees(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["delete", "--namespace", "user", "--primary-key", "1", "--feature", "name", "--retain-online"]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        "deleted user.name of user 1 from the offline store (the online store keeps them)\n"
    )
    assert query(1, "user.name", capsys=capsys) == {"user.name": "Ada Lovelace"}
    argv[-1] = "--retain-offline"
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        "deleted user.name of user 1 from the online store (the offline store keeps them)\n"
    )
    assert query(1, "user.name", capsys=capsys) == {"user.name": None}


def test_tags_are_sent(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    # ChalkServer's features carry no tags: nothing is deleted, and that is no error.
    argv = ["delete", "--namespace", "user", "--primary-key", "1", "--tag", "pii", "--tag", "legal"]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        "deleted the features tagged pii, legal of user 1 from the online and offline stores\n"
    )
    assert query(1, "user.name", capsys=capsys) == {"user.name": "Ada Lovelace"}


def test_many_primary_keys_are_counted(server: ChalkServer, capsys: pytest.CaptureFixture[str]) -> None:
    keys = [str(n) for n in range(100, 125)]
    argv = ["delete", "--namespace", "user", "--feature", "age"]
    for key in keys:
        argv += ["--primary-key", key]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        "deleted user.age of user 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, ... (25 in all) "
        "from the online and offline stores\n"
    )
    assert query(124, "user.age", capsys=capsys) == {"user.age": None}


def test_all_rows_drops_a_feature_of_every_entity(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("delete --namespace user --feature age --feature user.credit_score --all-rows") == 0
    captured = capsys.readouterr()
    assert (
        captured.out
        == "dropped user.age, user.credit_score of every user from the online and offline stores\n"
    )
    assert captured.err == ""
    assert [(r.method, r.path) for r in server.requests][-1] == ("DELETE", "/v1/features/columns")
    for user_id in (1, 500):
        assert query(user_id, "user.name", "user.age", "user.credit_score", capsys=capsys) == {
            "user.name": (seeded_user(user_id) or {})["user.name"],
            "user.age": None,
            "user.credit_score": None,
        }


# ---------------------------------------------------------------------------------------------------
# delete: the arguments, refused before anything is sent


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("--primary-key 1 --feature a --tag b", "argument --tag: not allowed with argument --feature"),
        ("--feature name", "one of the arguments --primary-key --all-rows is required"),
        ("--primary-key 1 --all-rows", "argument --all-rows: not allowed with argument --primary-key"),
        ("--primary-key 1 --retain-offline --retain-online", "not allowed with argument --retain-offline"),
        ("--all-rows", "--all-rows needs a --feature to drop, e.g. --feature age"),
        ("--all-rows --tag pii", "--tag works only with --primary-key"),
    ],
)
def test_delete_arguments_are_usage_errors(
    server: ChalkServer, args: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:  # argparse's checks exit; the command's own return the same status
        code = main(["delete", "--namespace", "user", *args.split()])
    except SystemExit as exited:
        code = exited.code
    assert code == 64
    line = one_error_line(capsys.readouterr().err)
    assert expected in line
    assert "--help" in line
    assert "the following arguments are required: --namespace" in usage_error(
        ["delete", "--all-rows"], capsys
    )
    assert server.requests == []


@pytest.mark.parametrize("extra", [["--primary-key", "1"], ["--feature", "age", "--all-rows"]])
def test_a_branch_is_refused_before_anything_is_sent(
    server: ChalkServer, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["delete", "--namespace", "user", "--branch", "feature-x", *extra]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "is not possible on a branch (the client's branch is 'feature-x')" in line
    assert server.requests == []


# ---------------------------------------------------------------------------------------------------
# delete: the server's errors, one line each


def test_a_deletion_the_server_refuses_is_one_line_per_error(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("delete --namespace user --primary-key 1 --feature shoe_size --feature id") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    errors = error_lines(captured.err)
    assert errors[0] == "the deletion of user 1 may be partial: the server reported 2 errors"
    assert errors[1] == "RESOLVER_NOT_FOUND (user.shoe_size): unknown feature 'user.shoe_size'"
    assert errors[2].startswith("INVALID_QUERY (user.id): ")
    assert query(1, "user.name", capsys=capsys) == {"user.name": "Ada Lovelace"}

    assert run("delete --namespace account --feature age --all-rows") == 1
    errors = error_lines(capsys.readouterr().err)
    assert errors[0] == "the drop of account.age may be partial: the server reported 1 error"
    assert errors[1].startswith("INVALID_QUERY: unknown namespace 'account'")


# ---------------------------------------------------------------------------------------------------
# Help, and the secret


def test_help_documents_both_forms(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run("--help")
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "chalk-client upload --input-file rows.csv" in out
    assert "chalk-client delete --namespace user --feature age --all-rows" in out
    for command, expected in [
        ("upload", ["--input-file FILE", "multi_upload_features", "operation id", ".parquet"]),
        (
            "delete",
            ["--primary-key KEY", "--all-rows", "drop_features", "delete_features", "--retain-online"],
        ),
    ]:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        for phrase in expected:
            assert phrase in text, (command, phrase)


def test_the_secret_and_the_token_never_appear(
    server: ChalkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write("rows.csv", "user.id,user.name\n1,Ada King\n")
    write("bad.csv", "user.id,user.shoe_size\n1,42\n")
    runs = [
        ["upload", "--input-file", "rows.csv"],
        ["upload", "--input-file", "bad.csv"],
        ["delete", "--namespace", "user", "--primary-key", "1", "--feature", "name"],
        ["delete", "--namespace", "user", "--primary-key", "1", "--feature", "shoe_size"],
        ["delete", "--namespace", "user", "--feature", "age", "--all-rows"],
        ["delete", "--namespace", "user", "--primary-key", "1", "--branch", "b"],
    ]
    shown = ""
    for argv in runs:
        main(argv)
        captured = capsys.readouterr()
        shown += captured.out + captured.err
    server.faults.add(Fault.status("multi_upload_features", 401))
    assert run("upload --input-file rows.csv") == 1
    captured = capsys.readouterr()
    shown += captured.out + captured.err
    assert "answered 401" in shown
    assert SECRET not in shown
    assert not [word for word in re.split(r"[\s:()'\"]+", shown) if word and server.is_valid_token(word)]
