"""The benchmark server's uploads: counting the rows of a ``/v1/upload_features/multi`` body (a byte
model holding an Arrow IPC file, read with pyarrow) and of a ``/v1/upload_features`` body (JSON,
parsed whole), and their answers (``scripts/_bench_server.py`` serves them).

Written apart from the SDK's codec, with nothing but ``json`` at import: pyarrow loads when a
multi-upload first comes. Each answer carries the rows the server counted (in its operation id or
trace id), so the benchmark checks every call's rows against what the server read.
"""

from __future__ import annotations

import json
from typing import Any, Final

_MODEL_MAGIC: Final = b"CHALK_BYTE_TRANSMISSION"
_TABLE_ITEM: Final = "table_bytes"
_encode = json.JSONEncoder(separators=(",", ":")).encode


def _sections(body: bytes) -> tuple[dict[str, Any], memoryview] | None:
    """A one-table upload model's attributes and its ``table_bytes`` (a view); None if it is not one.

    The magic, then four sections, each a u64 big-endian length and JSON: the attributes, ``{}``,
    the item lengths (the items follow, back to back), the nested lengths (``{}``: none); nothing after.
    """
    data = memoryview(body)
    if bytes(data[: len(_MODEL_MAGIC)]) != _MODEL_MAGIC:
        return None
    at = len(_MODEL_MAGIC)
    parsed: list[Any] = []
    items: dict[str, memoryview] = {}
    for section in range(4):
        if at + 8 > len(data):
            return None
        length = int.from_bytes(data[at : at + 8], "big")
        at += 8
        if length > len(data) - at:
            return None
        try:
            value = json.loads(bytes(data[at : at + length]))
        except ValueError:
            return None
        at += length
        if not isinstance(value, dict):
            return None
        parsed.append(value)
        if section == 2:  # the item lengths: the items follow
            for name, size in value.items():
                if not isinstance(size, int) or size < 0 or size > len(data) - at:
                    return None
                items[name] = data[at : at + size]
                at += size
    if at != len(data) or parsed[3] or set(items) != {_TABLE_ITEM}:
        return None
    return parsed[0], items[_TABLE_ITEM]


def multi_upload_rows(body: bytes) -> int | None:
    """The rows of a ``/v1/upload_features/multi`` body; None if it is not a one-table upload.

    The Arrow file is read whole with ``pyarrow.ipc`` (zero-copy from the body) and checked
    (``validate()``): its columns must be the attributes' ``features``, in order.
    """
    found = _sections(body)
    if found is None:
        return None
    attributes, arrow = found
    features = attributes.get("features")
    if not isinstance(features, list) or attributes.get("table_compression") != "uncompressed":
        return None
    pa = load_pyarrow()
    try:
        table = pa.ipc.open_file(pa.py_buffer(arrow)).read_all()
        table.validate()
    except (pa.ArrowException, ValueError, OSError):
        return None
    if table.column_names != features or not features:
        return None
    return int(table.num_rows)


def load_pyarrow() -> Any:
    """pyarrow, imported when a multi-upload first comes (the online-query server starts without it)."""
    import pyarrow

    return pyarrow


def json_upload_rows(body: bytes) -> int | None:
    """The rows of a ``/v1/upload_features`` body (parsed whole): ``input``'s columns, all one length."""
    try:
        request = json.loads(body)
    except ValueError:
        return None
    columns = request.get("input") if isinstance(request, dict) else None
    if not isinstance(columns, dict) or not columns:
        return None
    lengths = {len(column) if isinstance(column, list) else -1 for column in columns.values()}
    if len(lengths) != 1 or min(lengths) < 1:
        return None
    return lengths.pop()


def multi_upload_answer(number: int, rows: int) -> bytes:
    """The JSON answer of a stored table: its operation id names the upload's number and its rows."""
    return _encode({"operation_id": operation_id(number, rows), "errors": []}).encode()


def json_upload_answer(number: int, rows: int) -> bytes:
    """The JSON answer of a JSON upload: its trace id names the upload's number and its rows."""
    return _encode({"errors": [], "trace_id": operation_id(number, rows)}).encode()


def operation_id(number: int, rows: int) -> str:
    """The id an upload's answer carries: ``bench-<number>-rows-<rows>``."""
    return f"bench-{number}-rows-{rows}"


def rows_of(answer_id: str | None) -> int | None:
    """The rows an answer's id says the server counted (see `operation_id`); None if it says none."""
    head, _, rows = (answer_id or "").rpartition("-rows-")
    return int(rows) if head.startswith("bench-") and rows.isdigit() else None
