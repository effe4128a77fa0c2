"""``chalk-client query --input-file FILE``: every row of a file in one bulk query (``query_bulk``).

The file is read by its suffix (``.csv``, ``.parquet``, ``.json``: :mod:`chalk_client._cli.tables`)
before anything is sent. With ``--out FILE`` the values are written to FILE, in the format its
suffix names, with each has-many group beside it as ``STEM.FEATURE.SUFFIX``, all of them or none
(:func:`~chalk_client._cli.tables.write_tables`), and a summary is printed. Without ``--out`` the
first :data:`PREVIEW_ROWS` rows are printed as a table, with the row count and each group's. Either
way the server's errors are printed last, one ``error:`` line each (as ``query`` prints them, with
the values on stdout), and the exit status is :data:`EXIT_ANSWER_ERRORS` when there were any; the
values the server sent are written all the same. ``--json`` prints the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import attrs

from chalk_client import ChalkClient, describe_chalk_error
from chalk_client._cli.connection import _resolve
from chalk_client._cli.errors import EXIT_ANSWER_ERRORS, EXIT_OK, CommandError
from chalk_client._cli.format import describe_rows
from chalk_client._cli.tables import OUTPUT_SUFFIXES, json_default, read_table_file, write_tables

if TYPE_CHECKING:
    import pyarrow

    from chalk_client import BulkQueryResult

__all__ = ["PREVIEW_ROWS", "group_path"]

PREVIEW_ROWS: Final = 20
"""The rows printed without ``--out``."""


def _query_bulk(args: argparse.Namespace, out: TextIO) -> int:
    inputs = read_table_file(args.input_file)  # before any call
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        result = client.query_bulk(
            inputs, args.output, include_meta=args.include_meta, query_name=args.query_name
        )
    if args.out_file is None:
        out.write(_json_answer(result, args) if args.json else _describe_answer(result, args))
    else:
        written = _save(result, args.out_file)
        out.write(
            _json_summary(result, args, written) if args.json else _describe_saved(result, args, written)
        )
    return EXIT_ANSWER_ERRORS if result.errors else EXIT_OK


def group_path(out: Path, feature: str) -> Path:
    """Where a has-many group is written beside `out`: ``STEM.FEATURE.SUFFIX``."""
    name = feature.replace("/", "_").replace(os.sep, "_")
    return out.with_name(f"{out.stem}.{name}{out.suffix}")


def _save(result: BulkQueryResult, destination: str) -> dict[str, Path]:
    """Write the result's table and groups beside it, all or none; ``{}`` when the server sent no
    values (no columns): then nothing is written."""
    table = result.to_arrow()
    if table.num_columns == 0:
        return {}
    out = Path(destination)
    tables = {out: table} | {group_path(out, name): group for name, group in result.groups.items()}
    try:
        write_tables(tables)
    except OSError as err:
        where = f" ({err.filename})" if err.filename and str(err.filename) != destination else ""
        raise CommandError(
            f"cannot write the values to {destination}{where}: {err.strerror or err}. The query ran, "
            "but nothing was written: pass another --out"
        ) from None
    return {"": out} | {name: group_path(out, name) for name in result.groups}


def _rows(table: pyarrow.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _extras(result: BulkQueryResult, args: argparse.Namespace) -> list[str]:
    """The lines after the values: the meta when asked for, then one per error."""
    lines = []
    if args.include_meta:
        meta = {} if result.meta is None else attrs.asdict(result.meta)
        shown = [f"{name} {value}" for name, value in meta.items() if value is not None]
        lines.append(f"meta: {', '.join(shown) or 'none sent'}")
    lines += [f"error: {describe_chalk_error(error)}" for error in result.errors]
    return lines


def _shape(table: pyarrow.Table) -> str:
    rows, columns = table.num_rows, table.num_columns
    return f"{rows} row{'' if rows == 1 else 's'} x {columns} column{'' if columns == 1 else 's'}"


def _describe_answer(result: BulkQueryResult, args: argparse.Namespace) -> str:
    table = result.to_arrow()
    if table.num_columns == 0:
        lines = ["the server sent no values"]
    else:
        head = table.slice(0, PREVIEW_ROWS)
        preview = describe_rows(head.column_names, [list(row.values()) for row in _rows(head)])
        lines = [preview.rstrip("\n"), _shape(table)]
        if table.num_rows > PREVIEW_ROWS:
            suffixes = "|".join(OUTPUT_SUFFIXES)
            lines[-1] += f" (the first {PREVIEW_ROWS} shown; --out FILE{suffixes} writes them all)"
        for name, group in result.groups.items():
            beside = f"STEM.{name}.SUFFIX"
            lines.append(f"{name}: {group.num_rows} row(s), a has-many group (--out writes it to {beside})")
    return "\n".join(lines + _extras(result, args)) + "\n"


def _describe_saved(result: BulkQueryResult, args: argparse.Namespace, written: dict[str, Path]) -> str:
    if not written:
        lines = [f"the server sent no values: nothing written to {args.out_file}"]
    else:
        lines = [f"wrote {_shape(result.to_arrow())} to {written['']}"]
        for name, group in result.groups.items():
            lines.append(f"wrote {group.num_rows} row(s) of {name} to {written[name]}")
    return "\n".join(lines + _extras(result, args)) + "\n"


def _json_common(result: BulkQueryResult, args: argparse.Namespace) -> dict[str, Any]:
    extra: dict[str, Any] = {"errors": [error.to_dict() for error in result.errors]}
    if args.include_meta:
        extra["meta"] = None if result.meta is None else attrs.asdict(result.meta)
    return extra


def _json_answer(result: BulkQueryResult, args: argparse.Namespace) -> str:
    answer = {
        "data": _rows(result.to_arrow()),
        "groups": {name: _rows(group) for name, group in result.groups.items()},
        **_json_common(result, args),
    }
    return json.dumps(answer, indent=2, default=json_default, ensure_ascii=False) + "\n"


def _json_summary(result: BulkQueryResult, args: argparse.Namespace, written: dict[str, Path]) -> str:
    table = result.to_arrow()
    summary = {
        "out": str(written[""]) if written else None,
        "rows": table.num_rows,
        "columns": list(table.column_names),
        "groups": {
            name: {"out": str(written[name]) if written else None, "rows": group.num_rows}
            for name, group in result.groups.items()
        },
        **_json_common(result, args),
    }
    return json.dumps(summary, indent=2, default=json_default, ensure_ascii=False) + "\n"
