"""The benchmark server's bulk queries: reading a one-query ``chal1`` request and writing the
byte-model answer (``scripts/_bench_server.py`` serves them; ``bulk_decode`` decodes `bulk_table`'s table).

Written apart from the SDK's codec and from ChalkServer's (``chalk_client.testing._feather``), with
nothing but ``json`` at import: pyarrow loads when a function here first needs it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

USER_ID: Final = "user.id"
_REQUEST_MAGIC: Final = b"chal1"
_MODEL_MAGIC: Final = b"CHALK_BYTE_TRANSMISSION"


def feather_request(body: bytes) -> tuple[tuple[str, ...], memoryview] | None:
    """The outputs and the Arrow input of a one-query ``chal1`` body; None if it is not one.

    ``chal1``, a u64 big-endian header length, the JSON header, a u64 big-endian body length, the
    Arrow IPC input; nothing after it (a multi-query is not served).
    """
    data = memoryview(body)
    if bytes(data[: len(_REQUEST_MAGIC)]) != _REQUEST_MAGIC:
        return None
    at = len(_REQUEST_MAGIC)
    pieces = []
    for _ in range(2):  # the header, then the Arrow input
        if at + 8 > len(data):
            return None
        length = int.from_bytes(data[at : at + 8], "big")
        at += 8
        if length > len(data) - at:
            return None
        pieces.append(data[at : at + length])
        at += length
    if at != len(data):
        return None
    try:
        header = json.loads(bytes(pieces[0]))
    except ValueError:
        return None
    outputs = header.get("outputs") if isinstance(header, dict) else None
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) for o in outputs):
        return None
    return tuple(outputs), pieces[1]


def input_rows(arrow: memoryview) -> int | None:
    """The rows of an Arrow IPC file (zero-copy: no column is read), or None if it is not one."""
    pa = _pyarrow()
    try:
        reader = pa.ipc.open_file(pa.py_buffer(arrow))
        return sum(int(reader.get_batch(index).num_rows) for index in range(reader.num_record_batches))
    except (pa.ArrowException, ValueError, OSError):
        return None


def bulk_table(rows: int, outputs: Sequence[str]) -> Any:
    """`rows` rows: ``user.id`` 0..rows-1, then each output (a name: a string; an age: an int; else a float)."""
    pa = _pyarrow()
    columns: dict[str, Any] = {USER_ID: pa.array(range(rows), pa.int64())}
    for name in outputs:
        if name.endswith("name"):
            columns[name] = pa.array([f"user number {i}" for i in range(rows)], pa.large_string())
        elif name.endswith("age"):
            columns[name] = pa.array([18 + i % 80 for i in range(rows)], pa.int64())
        elif name != USER_ID:
            columns[name] = pa.array([300.0 + (i * 37) % 551 for i in range(rows)], pa.float64())
    return pa.table(columns)


def byte_model(attributes: dict[str, Any], items: dict[str, bytes], nested: dict[str, bytes]) -> bytes:
    """One byte model: the magic, then the attributes, ``{}``, item lengths + items, nested lengths + models."""

    def section(value: dict[str, Any]) -> bytes:
        encoded = json.dumps(value).encode()  # Python's default separators, as Chalk's server writes
        return len(encoded).to_bytes(8, "big") + encoded

    parts = [_MODEL_MAGIC, section(attributes), section({})]
    parts += [section({name: len(data) for name, data in items.items()}), *items.values()]
    parts += [section({name: len(data) for name, data in nested.items()}), *nested.values()]
    return b"".join(parts)


def bulk_answer(table: Any) -> bytes:
    """The ``/v1/query/feather`` answer of one query with data: `table` as an LZ4 Arrow IPC file."""
    pa = _pyarrow()
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    with pa.ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    result = byte_model(
        {"has_data": True, "errors": None, "meta": None},
        {"scalar_data": sink.getvalue().to_pybytes()},
        {"groups_data": byte_model({}, {}, {})},
    )
    return byte_model({}, {}, {"query_results_bytes": byte_model({}, {"0": result}, {})})


def _pyarrow() -> Any:
    import pyarrow  # only once a bulk query comes: the online-query server starts without it

    return pyarrow
