"""The command's argument parser: every command, its options and their types, and the ``--help`` epilog."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, NoReturn

from chalk_client import __version__
from chalk_client._cli.commands import _config, _query, _token, _upload, _whoami
from chalk_client._cli.commands_bulk import PREVIEW_ROWS
from chalk_client._cli.commands_offline import _offline_query
from chalk_client._cli.commands_server import _demo, _dev_server
from chalk_client._cli.commands_writes import _delete
from chalk_client._cli.errors import EXIT_CODES, EXIT_USAGE
from chalk_client._cli.tables import INPUT_SUFFIXES, OUTPUT_SUFFIXES


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one ``error:`` line and :data:`EXIT_USAGE`."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see `{self.prog} --help`)\n")


_EXAMPLES: Final = """\
examples (each command's --help tells more):
  chalk-client query --input user.id=1 --output user.name
  chalk-client query --input-file users.csv --output user.name --out names.parquet
  chalk-client upload --input user.id=1 --input user.name=Ada
  chalk-client upload --input-file rows.csv
  chalk-client delete --namespace user --primary-key 1 --primary-key 2 --feature name
  chalk-client delete --namespace user --feature age --all-rows
  chalk-client offline-query --input-file users.csv --output user.name --wait
"""


def _epilog() -> str:
    lines = [_EXAMPLES, "exit status:"]
    lines += [f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES.items()]
    return "\n".join(lines)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1 to 65535, or 0 for a free one")
    return port


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return seconds


def _suffixed(suffixes: tuple[str, ...], what: str) -> Callable[[str], str]:
    """An argparse type: a path whose suffix (any case) is one of `suffixes`."""

    def check(text: str) -> str:
        if Path(text).suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {', '.join(suffixes)} file: {what} by its suffix"
            )
        return text

    return check


_input_file = _suffixed(INPUT_SUFFIXES, "the file is read")
_out_file = _suffixed(OUTPUT_SUFFIXES, "the format is chosen")

_QUERY_EPILOG: Final = f"""\
one entity: --input FEATURE=VALUE (repeatable) runs one query and prints its values.

many rows: --input-file FILE runs one bulk query (query_bulk, over Arrow: needs
'chalk-client[arrow]') with a row per row of FILE, read by its suffix:
  .csv      a header row of feature names, then one row per entity; a cell is read as
            JSON when it parses (1, [1, 2], "007"), else as text; an empty cell is null
  .parquet  the table as it is, with its types
  .json     an object of columns {{"user.id": [1, 2]}}, or a list of row objects
            [{{"user.id": 1}}, {{"user.id": 2}}] (a key a row lacks is null)

--out FILE writes every row, in the format FILE's suffix names:
  .parquet  the server's columns and Arrow types
  .csv      a header, then cells that --input-file reads back as the same values: null
            empty, text as it is (quoted as JSON when it would read as JSON), other
            values as JSON, times in ISO 8601
  .json     a list of row objects, [{{"user.id": 1, "user.name": "Ada Lovelace"}}, ...]
Each has-many output (e.g. user.transactions) goes to its own file beside FILE, named
STEM.FEATURE.SUFFIX (scores.parquet -> scores.user.transactions.parquet). The files are
written all or none: to a scratch folder beside FILE, then moved into place; an existing
file is replaced. Nothing is written when the server sent no values. Then a line per file.
Without --out, the first {PREVIEW_ROWS} rows are printed as a table, then the row count and
each has-many output's.

The server's errors are printed last, one 'error:' line each, and the exit status is 2; the
values it sent are printed or written all the same. --json prints the answer as JSON:
{{"data": [rows], "groups": {{feature: [rows]}}, "errors": [...]}}, or with --out what was
written: {{"out", "rows", "columns", "groups": {{feature: {{"out", "rows"}}}}, "errors"}}; with
--include-meta, a "meta" object too (the text output: a "meta:" line).

examples:
  chalk-client query --input user.id=1 --output user.name --output user.credit_score
  chalk-client query --input-file users.csv --output user.name --output user.credit_score \\
      --out scores.parquet
"""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chalk-client",
        description=(
            "The chalk-client SDK's command line: query, upload and delete features, run offline "
            "queries, inspect configuration and tokens, run a local server."
        ),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"chalk-client {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def connection_options(sub: argparse.ArgumentParser) -> None:
        # No --client-secret: a secret on the command line shows up in `ps` and shell history.
        sub.add_argument(
            "--client-id",
            help="overrides CHALK_CLIENT_ID and the chalk login file (the secret: CHALK_CLIENT_SECRET)",
        )
        sub.add_argument("--api-server", help="overrides CHALK_API_SERVER (default https://api.chalk.ai)")
        sub.add_argument("--environment", help="an environment id or name")
        sub.add_argument("--branch", help="send every call to this branch")
        sub.add_argument(
            "--allow-insecure-http",
            action="store_true",
            help="allow credentials over plain http:// to a non-loopback host",
        )

    query = commands.add_parser(
        "query",
        help="compute or look up feature values: for one entity, or for every row of a file in one bulk query",
        description=(
            "Compute or look up feature values: for one entity (--input), or for every row of a\n"
            ".csv, .parquet or .json file in one bulk query (--input-file)."
        ),
        epilog=_QUERY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    connection_options(query)
    source = query.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--input",
        action="append",
        metavar="FEATURE=VALUE",
        help="a known value, e.g. user.id=1 (repeat for more; VALUE is read as JSON when it parses)",
    )
    source.add_argument(
        "--input-file",
        type=_input_file,
        metavar="FILE",
        help="run one bulk query over the rows of a .csv, .parquet or .json file (see below)",
    )
    query.add_argument(
        "--output", action="append", required=True, metavar="FEATURE", help="a feature to return"
    )
    query.add_argument(
        "--out",
        dest="out_file",
        type=_out_file,
        metavar="FILE",
        help=(
            "with --input-file: write the values to a .parquet, .csv or .json file, by its "
            f"suffix (default: print the first {PREVIEW_ROWS} rows)"
        ),
    )
    query.add_argument(
        "--include-meta",
        action="store_true",
        help="show the resolver and cache hit of each value (--input-file: the query's metadata)",
    )
    query.add_argument("--query-name", help="a named query")
    query.add_argument(
        "--json", action="store_true", help="print the answer (with --out: what was written) as JSON"
    )
    query.set_defaults(run=_query)

    _write_parsers(commands, connection_options)
    _offline_parser(commands, connection_options)

    whoami = commands.add_parser("whoami", help="show the identity behind the credentials")
    connection_options(whoami)
    whoami.set_defaults(run=_whoami)

    token = commands.add_parser(
        "token", help="exchange credentials and show the token's environments and expiry"
    )
    connection_options(token)
    token.add_argument("--show-token", action="store_true", help="print the access token itself")
    token.set_defaults(run=_token)

    config = commands.add_parser("config", help="show each resolved setting and where it came from")
    connection_options(config)
    config.set_defaults(run=_config)

    server = commands.add_parser(
        "dev-server", help="run a Chalk-compatible server on 127.0.0.1 until Ctrl-C or SIGTERM"
    )
    server.add_argument("--port", type=_port, default=0, help="port to listen on (default: a free one)")
    server.add_argument("--token-lifetime", type=_seconds, default=3600.0, help="seconds a token lives")
    server.set_defaults(run=_dev_server)

    demo = commands.add_parser("demo", help="a tour of the SDK against a local server")
    demo.add_argument("--token-lifetime", type=_seconds, default=4.0, help="seconds a demo token lives")
    demo.set_defaults(run=_demo)
    return parser


_UPLOAD_EPILOG: Final = """\
a few values: --input FEATURE=VALUE (repeatable; repeat a feature for more rows) sends the
columns in one upload_features call, every column the same length.

from a file: --input-file FILE sends FILE's rows with multi_upload_features (over Arrow: needs
'chalk-client[arrow]'), read by its suffix:
  .csv      a header row of feature names, then one row per entity; a cell is read as JSON
            when it parses (37, [1, 2], "007"), else as text; an empty cell is null, and
            is uploaded as null
  .parquet  the table as it is, with its types
  .json     an object of columns {"user.id": [1, 2], "user.name": ["Ada", "Grace"]}, or a
            list of row objects [{"user.id": 1, "user.name": "Ada"}, {"user.id": 2,
            "user.age": 40}]: the rows of each set of keys go as one table, so a key a row
            lacks is left as it is, not uploaded as null
It prints the rows and features sent and the server's operation id of each table stored:
  uploaded 2 rows of user.id, user.name in 1 table (operation id 5f0c...)

When the server answers with errors, that table is not stored: one 'error:' line says so,
then one line per error, and the exit status is 1 (for --input too). When a table fails after
others were stored, those are printed first, on stdout ("stored 1 table before the failure:
operation id ..."): their rows are in, do not upload them again.

examples:
  chalk-client upload --input user.id=1 --input user.name=Ada --input user.age=37
  chalk-client upload --input-file rows.csv
"""

_DELETE_EPILOG: Final = """\
some entities: --primary-key KEY (repeatable) runs delete_features, which deletes their values
  of each --feature (repeatable; 'name' or 'user.name'), or of the features with a --tag
  (repeatable), or, with neither, of every feature.
every entity: --feature FEATURE (repeatable) --all-rows runs drop_features, which deletes
  those features' values for every entity of the namespace. --all-rows takes no --tag.

Either deletes from the online and the offline store; --retain-offline keeps the offline
store's values, --retain-online the online store's (not both: that would delete nothing). Not
possible on a branch: --branch is refused before anything is sent. It prints one line:
  deleted user.name of user 1, 2 from the online and offline stores
  dropped user.age of every user from the online and offline stores
When the server answers with errors, one 'error:' line says the deletion may be partial, then
one line per error, and the exit status is 1.

examples:
  chalk-client delete --namespace user --primary-key 1 --primary-key 2 --feature name
  chalk-client delete --namespace user --primary-key 1 --tag pii --retain-offline
  chalk-client delete --namespace user --feature age --all-rows
"""


def _write_parsers(
    commands: Any,  # noqa: ANN401 - argparse's private _SubParsersAction
    connection_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    upload = commands.add_parser(
        "upload",
        help="write feature values: a few given as FEATURE=VALUE, or the rows of a file",
        description=(
            "Write feature values: a few given as FEATURE=VALUE (--input), or the rows of a\n"
            ".csv, .parquet or .json file (--input-file)."
        ),
        epilog=_UPLOAD_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    connection_options(upload)
    source = upload.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--input",
        action="append",
        metavar="FEATURE=VALUE",
        help="a value, e.g. user.id=1 --input user.name=Ada; repeat a feature for more rows",
    )
    source.add_argument(
        "--input-file",
        type=_input_file,
        metavar="FILE",
        help="upload the rows of a .csv, .parquet or .json file (see below)",
    )
    upload.set_defaults(run=_upload)

    delete = commands.add_parser(
        "delete",
        help="delete stored feature values: of some entities, or (--all-rows) of every entity",
        description=(
            "Delete stored feature values: of some entities (--primary-key), or of the\n"
            "--feature columns for every entity of the namespace (--all-rows)."
        ),
        epilog=_DELETE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    connection_options(delete)
    delete.add_argument("--namespace", required=True, help="the feature class, e.g. user")
    which = delete.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--primary-key",
        dest="primary_keys",
        action="append",
        metavar="KEY",
        help="an entity whose values to delete, e.g. 1 (repeat for more)",
    )
    which.add_argument(
        "--all-rows",
        action="store_true",
        help="delete the --feature values of every entity (drop_features) instead",
    )
    what = delete.add_mutually_exclusive_group()
    what.add_argument(
        "--feature",
        dest="features",
        action="append",
        metavar="FEATURE",
        help="a feature to delete, e.g. name or user.name (repeat for more; default: every feature)",
    )
    what.add_argument(
        "--tag",
        dest="tags",
        action="append",
        metavar="TAG",
        help="delete the features with this tag (repeat for more; with --primary-key)",
    )
    stores = delete.add_mutually_exclusive_group()
    stores.add_argument("--retain-offline", action="store_true", help="keep the offline store's values")
    stores.add_argument("--retain-online", action="store_true", help="keep the online store's values")
    delete.set_defaults(run=_delete)


def _offline_parser(
    commands: Any,  # noqa: ANN401 - argparse's private _SubParsersAction
    connection_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    offline = commands.add_parser(
        "offline-query", help="build a dataset in the background; wait for it and save it as parquet"
    )
    connection_options(offline)
    source = offline.add_mutually_exclusive_group()
    source.add_argument(
        "--input-file",
        metavar="CSV",
        help="input rows: a header of feature names, then one row per entity (cells read as JSON when they parse)",
    )
    source.add_argument("--job-id", help="follow a job submitted earlier instead of submitting one")
    offline.add_argument(
        "--output", action="append", default=[], metavar="FEATURE", help="a feature to compute"
    )
    offline.add_argument(
        "--required-output",
        action="append",
        default=[],
        metavar="FEATURE",
        help="rows without it are dropped",
    )
    offline.add_argument("--dataset-name", help="name the dataset")
    offline.add_argument("--max-samples", type=int, help="keep at most this many rows")
    offline.add_argument("--wait", action="store_true", help="wait for the job, then save its results")
    offline.add_argument("--timeout", type=float, help="with --wait: seconds to wait at most")
    offline.add_argument(
        "--cancel-on-timeout", action="store_true", help="with --timeout: cancel the job when time runs out"
    )
    offline.add_argument(
        "--out",
        metavar="PATH",
        help="with --wait: a .parquet file (default <job id>.parquet), or a directory for the raw parts",
    )
    offline.set_defaults(run=_offline_query)
