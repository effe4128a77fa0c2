"""ChalkServer's half of ``POST /v1/query/feather``: it reads the ``chal1`` request and writes the answer.

Written apart from the SDK's codec (``chalk_client._api.feather``) and sharing nothing with it, so
each side checks the other: a mistake made once shows up as a round trip that fails.

The request: ``chal1``, then per query a u64 big-endian length and a JSON object (the header), a
u64 big-endian length and an Arrow IPC body (a file, or a stream as the TypeScript client sends).
Nothing follows the last query.

The answer is a byte model ("CHALK_BYTE_TRANSMISSION"): the magic, then four sections, each a u64
big-endian length and a JSON object: the plain attributes, the pydantic attributes (always ``{}``),
a map of item byte LENGTHS followed by the items back to back, and the same for nested models.
The outer model nests ``query_results_bytes``, a model of one item per query keyed ``"0"``,
``"1"``, ...; each is a model with ``{"has_data", "errors", "meta"}``, the item ``scalar_data``
and the nested ``groups_data`` (a model of ``{has_many_fqn: Arrow bytes}`` items). JSON is written
with Python's default separators, as Chalk's server does.

The same byte model carries the request of ``POST /v1/upload_features/multi``:
:func:`read_byte_model` reads one (checking every length against what is left, and that nothing
follows the last section), and :func:`decode_arrow` the Arrow IPC table in it.

pyarrow (the testing extra) is imported only when one of these runs.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    import pyarrow

__all__ = [
    "ByteModel",
    "FeatherRequestError",
    "FeatherResult",
    "decode_arrow",
    "decode_request",
    "encode_response",
    "read_byte_model",
]

_REQUEST_MAGIC = b"chal1"
_MODEL_MAGIC = b"CHALK_BYTE_TRANSMISSION"
_U64 = struct.Struct(">Q")


class FeatherRequestError(ValueError):
    """A body that is not well-formed: a ``/v1/query/feather`` ``chal1`` envelope, a byte model, or
    Arrow IPC; the message says where."""


@dataclass(frozen=True)
class FeatherResult:
    """One query's answer to write.

    Attributes:
        scalars: One row per input row; None writes ``has_data: false`` (an empty-schema table).
        groups: The has-many outputs, one table per has-many FQN.
        errors: ChalkError objects; each is written as a JSON-encoded string.
        meta: The QueryMeta object, written as a JSON-encoded string; None writes null.
    """

    scalars: pyarrow.Table | None
    groups: Mapping[str, pyarrow.Table] = field(default_factory=dict)
    errors: Sequence[Mapping[str, Any]] = ()
    meta: Mapping[str, Any] | None = None


# ---------------------------------------------------------------------------------------------------
# Reading the request


class _Cursor:
    """Reads a body front to back; every read is checked against what is left."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.position = 0

    @property
    def left(self) -> int:
        return len(self.data) - self.position

    def take(self, count: int, what: str) -> memoryview:
        if count > self.left:
            raise FeatherRequestError(
                f"{what} needs {count} bytes at offset {self.position}, but only {self.left} are left"
            )
        chunk = self.data[self.position : self.position + count]
        self.position += count
        return chunk

    def length(self, what: str) -> int:
        (value,) = _U64.unpack(self.take(_U64.size, f"the length of {what}"))
        return int(value)


def decode_request(body: bytes) -> list[tuple[dict[str, Any], pyarrow.Table]]:
    """Each query's header and input table, in the order sent.

    Raises:
        FeatherRequestError: The magic is wrong, a length runs past the end, a header is not a
            UTF-8 JSON object, a body is not Arrow IPC, or there is no query at all.
    """
    import pyarrow as pa

    cursor = _Cursor(body)
    if bytes(cursor.take(len(_REQUEST_MAGIC), "the magic")) != _REQUEST_MAGIC:
        raise FeatherRequestError(f"the body does not start with {_REQUEST_MAGIC.decode()!r}")
    queries: list[tuple[dict[str, Any], pyarrow.Table]] = []
    while cursor.left:
        what = f"query {len(queries)}'s header"
        header_bytes = cursor.take(cursor.length(what), what)
        try:
            header = json.loads(bytes(header_bytes).decode("utf-8"))
        except (ValueError, RecursionError) as err:
            raise FeatherRequestError(f"{what} is not UTF-8 JSON: {err}") from None
        if not isinstance(header, dict):
            raise FeatherRequestError(f"{what} is not a JSON object")
        what = f"query {len(queries)}'s input table"
        table = _read_arrow(pa, cursor.take(cursor.length(what), what), what)
        queries.append((header, table))
    if not queries:
        raise FeatherRequestError(f"the body holds no query after {_REQUEST_MAGIC.decode()!r}")
    return queries


def decode_arrow(data: bytes | memoryview, what: str = "the table") -> pyarrow.Table:
    """`data` as an Arrow table: an IPC file or stream, its buffers compressed (LZ4, ZSTD) or not.

    Raises:
        FeatherRequestError: It is neither, or it does not read, or its data is not valid.
    """
    import pyarrow as pa

    return _read_arrow(pa, memoryview(data), what)


def _read_arrow(pa: Any, data: memoryview, what: str) -> pyarrow.Table:  # noqa: ANN401 - a module
    if bytes(data[:6]) == b"ARROW1":
        reader = pa.ipc.open_file
    elif bytes(data[:4]) == b"\xff\xff\xff\xff":
        reader = pa.ipc.open_stream
    else:
        raise FeatherRequestError(f"{what} is neither an Arrow IPC file (ARROW1) nor an Arrow IPC stream")
    try:
        table = reader(pa.py_buffer(data)).read_all()
        table.validate(full=True)
    except (pa.ArrowException, ValueError, OSError) as err:
        raise FeatherRequestError(f"{what} is not valid Arrow IPC: {err}") from None
    return table


class ByteModel(NamedTuple):
    """A byte model's four sections: its plain attributes, its pydantic attributes, its items and
    its nested models (both name to bytes, in the order sent)."""

    attributes: dict[str, Any]
    pydantic: dict[str, Any]
    items: dict[str, bytes]
    nested: dict[str, bytes]


def read_byte_model(body: bytes, what: str = "the body") -> ByteModel:
    """`body` read as one byte model, front to back.

    Raises:
        FeatherRequestError: The magic is wrong; a length runs past the end; a section is not a
            UTF-8 JSON object (or names a key twice); an item length is not a non-negative
            integer; or bytes follow the last section.
    """
    cursor = _Cursor(body)
    if bytes(cursor.take(len(_MODEL_MAGIC), f"the magic of {what}")) != _MODEL_MAGIC:
        raise FeatherRequestError(f"{what} does not start with {_MODEL_MAGIC.decode()!r}")
    attributes = _json_section(cursor, f"the attributes of {what}")
    pydantic = _json_section(cursor, f"the pydantic attributes of {what}")
    items = _sized_items(cursor, f"the items of {what}")
    nested = _sized_items(cursor, f"the nested models of {what}")
    if cursor.left:
        raise FeatherRequestError(
            f"{cursor.left} bytes follow the last section of {what} (offset {cursor.position})"
        )
    return ByteModel(attributes, pydantic, items, nested)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"the key {key[:100]!r} appears twice")
        found[key] = value
    return found


def _json_section(cursor: _Cursor, what: str) -> dict[str, Any]:
    data = cursor.take(cursor.length(what), what)
    try:
        value = json.loads(bytes(data).decode("utf-8"), object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as err:
        raise FeatherRequestError(f"{what} is not UTF-8 JSON: {err}") from None
    if not isinstance(value, dict):
        raise FeatherRequestError(f"{what} is not a JSON object")
    return value


def _sized_items(cursor: _Cursor, what: str) -> dict[str, bytes]:
    """A map of item byte lengths, then the items back to back in the map's key order."""
    lengths = _json_section(cursor, f"the lengths of {what}")
    items: dict[str, bytes] = {}
    for name, length in lengths.items():
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise FeatherRequestError(
                f"the length of {name[:100]!r} in {what} is not a non-negative integer: {length!r}"[:300]
            )
        items[name] = bytes(cursor.take(length, f"{name[:100]!r} of {what}"))
    return items


# ---------------------------------------------------------------------------------------------------
# Writing the answer


def encode_response(
    answers: Sequence[FeatherResult],
    *,
    compression: Literal["lz4"] | None = "lz4",
    arrow_format: Literal["file", "stream"] = "file",
) -> bytes:
    """The byte-model answer for `answers`, one per query in request order.

    Tables are Arrow IPC files (``arrow_format="stream"``: streams, as the server sends when a
    request asks for ``RECORD_BATCHES``), LZ4-compressed by default (``compression=None``: plain).
    """
    import pyarrow as pa

    options = pa.ipc.IpcWriteOptions(compression=compression)

    def arrow(table: pyarrow.Table) -> bytes:
        sink = pa.BufferOutputStream()
        opener = pa.ipc.new_file if arrow_format == "file" else pa.ipc.new_stream
        with opener(sink, table.schema, options=options) as writer:
            writer.write_table(table)
        return bytes(sink.getvalue().to_pybytes())

    results = {}
    for index, answer in enumerate(answers):
        has_data = answer.scalars is not None
        scalars = answer.scalars if answer.scalars is not None else pa.table({})
        attributes = {
            "has_data": has_data,
            "errors": [json.dumps(dict(error)) for error in answer.errors] or None,
            "meta": None if answer.meta is None else json.dumps(dict(answer.meta)),
        }
        groups = {name: arrow(table) for name, table in answer.groups.items()} if has_data else {}
        results[str(index)] = _byte_model(
            attributes,
            items={"scalar_data": arrow(scalars)},
            nested={"groups_data": _byte_model({}, items=groups, nested={})},
        )
    query_results = _byte_model({}, items=results, nested={})
    return _byte_model({}, items={}, nested={"query_results_bytes": query_results})


def _byte_model(
    attributes: Mapping[str, Any], *, items: Mapping[str, bytes], nested: Mapping[str, bytes]
) -> bytes:
    """One model: magic, attributes, ``{}``, item lengths + items, nested lengths + nested models."""

    def section(value: Mapping[str, Any]) -> bytes:
        encoded = json.dumps(dict(value)).encode("utf-8")
        return _U64.pack(len(encoded)) + encoded

    parts = [_MODEL_MAGIC, section(attributes), section({})]
    parts += [section({name: len(data) for name, data in items.items()}), *items.values()]
    parts += [section({name: len(data) for name, data in nested.items()}), *nested.values()]
    return b"".join(parts)
