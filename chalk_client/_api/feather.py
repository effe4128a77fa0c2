"""The bytes of ``POST /v1/query/feather``: the ``chal1`` request envelope and the byte-model response.

Pure: no I/O, no clock. pyarrow is an optional extra (``chalk-client[arrow]``) and is imported only
when a function here runs, so ``import chalk_client`` never loads it.

**Request** (:func:`encode_request`): the 5 ASCII bytes ``chal1``, then for each query a block of
a u64 big-endian header length, the header (compact UTF-8 JSON object), a u64 big-endian body length
and the body (an Arrow IPC *file* of the query's input table). Nothing follows the last block.

**Response** (:func:`decode_response`): a "byte model", three levels deep. Each model is the
23 bytes ``CHALK_BYTE_TRANSMISSION`` followed by four sections, each a u64 big-endian length and
that many bytes of a JSON object:

1. the plain attributes;
2. pydantic attributes (ignored);
3. a map ``{name: byte LENGTH}`` (lengths, not offsets), then the items' bytes back to back in the
   map's key order;
4. the same for nested models.

The outer model nests ``query_results_bytes``: a model whose items are keyed ``"0"`` ... ``"n-1"``,
one per query, each a nested model with attributes ``has_data``, ``errors`` (JSON-encoded error
strings) and ``meta`` (a JSON-encoded string), the item ``scalar_data`` (Arrow IPC bytes) and the
nested ``groups_data`` (a model whose items are ``{has_many_fqn: Arrow IPC bytes}``).

Arrow bodies may be IPC files (``ARROW1``) or streams (the ``0xFFFFFFFF`` continuation marker), with
or without LZ4 buffer compression (pyarrow decompresses). Every length is checked against what is
left; anything malformed is a :class:`ChalkInvalidResponseError`, never an IndexError, a JSON or
Unicode error or a pyarrow exception.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from chalk_client._api.tables import _require
from chalk_client._core.answers import Answer, invalid_response
from chalk_client._core.errors import ChalkInputError, ChalkInvalidResponseError

if TYPE_CHECKING:
    import pyarrow

__all__ = [
    "BYTE_MODEL_MAGIC",
    "REQUEST_MAGIC",
    "BulkAnswer",
    "decode_response",
    "encode_request",
    "encode_upload",
]

REQUEST_MAGIC = b"chal1"
BYTE_MODEL_MAGIC = b"CHALK_BYTE_TRANSMISSION"

_LEN = 8  # every length: unsigned 64-bit big-endian
_ARROW_FILE_MAGIC = b"ARROW1"
_ARROW_STREAM_MARKER = b"\xff\xff\xff\xff"


@attrs.frozen
class BulkAnswer:
    """One query's part of a bulk answer, as the server sent it.

    Attributes:
        scalars: One row per input row, or None when the server said it has no data.
        groups: The has-many outputs: one table per has-many feature, keyed by its FQN (empty
            without data).
        errors: The server's error objects, as decoded JSON objects (empty when none).
        meta: The query's metadata object, or None when not sent.
    """

    scalars: pyarrow.Table | None
    groups: dict[str, pyarrow.Table]
    errors: list[dict[str, Any]]
    meta: dict[str, Any] | None


def _pyarrow(what: str) -> Any:  # noqa: ANN401 - a module
    return _require("pyarrow", "arrow", what)


# ---------------------------------------------------------------------------------------------------
# The request


def encode_request(blocks: Sequence[tuple[Mapping[str, Any], pyarrow.Table]]) -> bytes:
    """The ``chal1`` body for one query (bulk) or several (multi-query), in order.

    Each block is the query's JSON header (every request field but the inputs) and its input table.

    Raises:
        ChalkInputError: No block, a header that is not a JSON-able mapping, or an input that is
            not a ``pyarrow.Table``.
        ChalkMissingDependencyError: pyarrow is not installed.
    """
    if not blocks:
        raise ChalkInputError("a bulk query needs at least one query")
    pa = _pyarrow("a bulk query")
    parts: list[bytes | memoryview] = [REQUEST_MAGIC]
    for position, (header, table) in enumerate(blocks):
        if not isinstance(header, Mapping):
            raise ChalkInputError(f"query {position}'s header is not a mapping: {type(header).__name__}")
        if not isinstance(table, pa.Table):
            raise ChalkInputError(f"query {position}'s input is not a pyarrow.Table: {type(table).__name__}")
        try:
            head = json.dumps(dict(header), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            head_bytes = head.encode("utf-8")  # a lone surrogate has no UTF-8: UnicodeEncodeError
        except (TypeError, ValueError, RecursionError) as err:
            raise ChalkInputError(f"query {position}'s header is not JSON: {err}") from None
        body = _arrow_file(pa, table)
        parts += [len(head_bytes).to_bytes(_LEN, "big"), head_bytes, len(body).to_bytes(_LEN, "big"), body]
    return b"".join(parts)  # the one copy of each Arrow body


def encode_upload(table: pyarrow.Table) -> bytes:
    """The body of ``POST /v1/upload_features/multi`` for `table`: a byte model (the answer's format)
    whose attributes are ``{"features": [column names], "table_compression": "uncompressed"}`` and
    whose one item, ``table_bytes``, is the table as an Arrow IPC file.

    Raises:
        ChalkInputError: `table` is not a ``pyarrow.Table``.
        ChalkMissingDependencyError: pyarrow is not installed.
    """
    pa = _pyarrow("an upload of Arrow tables")
    if not isinstance(table, pa.Table):
        raise ChalkInputError(f"an upload's table is not a pyarrow.Table: {type(table).__name__}")
    attributes = {"features": list(table.column_names), "table_compression": "uncompressed"}
    data = _arrow_file(pa, table)
    parts: list[bytes | memoryview] = [BYTE_MODEL_MAGIC]
    for section in (attributes, {}, {"table_bytes": len(data)}):
        encoded = json.dumps(section, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        parts += [len(encoded).to_bytes(_LEN, "big"), encoded]
    parts += [data, (2).to_bytes(_LEN, "big"), b"{}"]  # the table, then no nested models
    return b"".join(parts)  # the one copy of the Arrow file


def _arrow_file(pa: Any, table: pyarrow.Table) -> memoryview:  # noqa: ANN401 - a module
    """`table` as an Arrow IPC file, in pyarrow's buffer (not copied)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return memoryview(sink.getvalue())


# ---------------------------------------------------------------------------------------------------
# The response


class _MalformedError(Exception):
    """Why the body does not parse; turned into ChalkInvalidResponseError at the top."""


@attrs.frozen
class _Model:
    """One byte model: its plain attributes, its items and its nested models (each in the map's order)."""

    attributes: dict[str, Any]
    items: dict[str, memoryview]
    nested: dict[str, memoryview]


def decode_response(body: bytes, *, what: str, answer: Answer | None = None) -> list[BulkAnswer]:
    """Each query's answer from a ``/v1/query/feather`` 2xx body, in request order.

    `what` names the request when `answer` is not given (``"/v1/query/feather"``: the error's
    ``url``, with method POST and status 200); with `answer`, the error names its request.

    Raises:
        ChalkInvalidResponseError: The body is not a well-formed bulk answer.
        ChalkMissingDependencyError: pyarrow is not installed.
    """
    pa = _pyarrow("reading a bulk query's answer")
    try:
        return _decode(pa, memoryview(body))
    except _MalformedError as err:
        reason = f"the bulk query answer: {err}"
    if answer is not None:
        raise invalid_response(answer, reason)
    raise ChalkInvalidResponseError(reason, method="POST", url=what, status_code=200)


def _decode(pa: Any, body: memoryview) -> list[BulkAnswer]:  # noqa: ANN401 - a module
    outer = _model(body, "the outer model")
    if "query_results_bytes" not in outer.nested:
        raise _MalformedError("the outer model has no 'query_results_bytes'")
    results = _model(outer.nested["query_results_bytes"], "query_results_bytes")
    expected = {str(index) for index in range(len(results.items))}
    if set(results.items) != expected:
        keys = ", ".join(repr(key) for key in list(results.items)[:12])
        raise _MalformedError(f"query_results_bytes's keys are not '0'..'n-1': {keys}")
    return [_result(pa, results.items[str(index)], f"result {index}") for index in range(len(results.items))]


def _result(pa: Any, data: memoryview, where: str) -> BulkAnswer:  # noqa: ANN401 - a module
    model = _model(data, where)
    has_data = model.attributes.get("has_data")
    if not isinstance(has_data, bool):
        raise _MalformedError(f"{where}: 'has_data' is missing or not a boolean")
    errors = _errors(model.attributes.get("errors"), where)
    meta = _meta(model.attributes.get("meta"), where)
    if "groups_data" not in model.nested:
        raise _MalformedError(f"{where} has no 'groups_data'")
    groups_model = _model(model.nested["groups_data"], f"{where}'s groups_data")
    if "scalar_data" not in model.items:
        raise _MalformedError(f"{where} has no 'scalar_data'")
    if not has_data:
        return BulkAnswer(scalars=None, groups={}, errors=errors, meta=meta)
    scalars = _table(pa, model.items["scalar_data"], f"{where}'s scalar_data")
    groups = {
        name: _table(pa, table, f"{where}'s group {name!r}") for name, table in groups_model.items.items()
    }
    return BulkAnswer(scalars=scalars, groups=groups, errors=errors, meta=meta)


def _errors(value: object, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _MalformedError(f"{where}: 'errors' is not a list")
    errors = []
    for position, item in enumerate(value):
        # Each error is a JSON-encoded string; an object in its place is read as it stands.
        error = _json(item, f"{where}'s errors[{position}]") if isinstance(item, str) else item
        if not isinstance(error, dict):
            raise _MalformedError(f"{where}: errors[{position}] is not a JSON object")
        errors.append(error)
    return errors


def _meta(value: object, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    meta = _json(value, f"{where}'s meta") if isinstance(value, str) else value
    if not isinstance(meta, dict):
        raise _MalformedError(f"{where}: 'meta' is not a JSON object")
    return meta


def _model(data: memoryview, where: str) -> _Model:
    """Parse exactly `data` as one byte model; every section must fit and nothing may follow."""
    if bytes(data[: len(BYTE_MODEL_MAGIC)]) != BYTE_MODEL_MAGIC:
        raise _MalformedError(f"{where} does not start with {BYTE_MODEL_MAGIC.decode()}")
    at = len(BYTE_MODEL_MAGIC)
    attributes, at = _section(data, at, f"{where}'s attributes")
    _, at = _section(data, at, f"{where}'s pydantic attributes")
    item_lengths, at = _section(data, at, f"{where}'s item length map")
    items, at = _slices(data, at, _lengths(item_lengths, f"{where}'s item length map"), f"{where}'s items")
    nested_lengths, at = _section(data, at, f"{where}'s nested length map")
    nested, at = _slices(
        data, at, _lengths(nested_lengths, f"{where}'s nested length map"), f"{where}'s nested models"
    )
    if at != len(data):
        raise _MalformedError(f"{where}: {len(data) - at} extra byte(s) after its last section")
    return _Model(attributes, items, nested)


def _section(data: memoryview, at: int, where: str) -> tuple[dict[str, Any], int]:
    """The JSON object at `at` (after its u64 length) and the index after it."""
    if at + _LEN > len(data):
        raise _MalformedError(f"{where}: the body ends inside its length (at byte {at})")
    length = int.from_bytes(data[at : at + _LEN], "big")
    at += _LEN
    if length > len(data) - at:
        raise _MalformedError(f"{where}: length {length} runs past the end ({len(data) - at} bytes left)")
    value = _json(bytes(data[at : at + length]), where)
    if not isinstance(value, dict):
        raise _MalformedError(f"{where} is not a JSON object")
    return value, at + length


def _lengths(value: dict[str, Any], where: str) -> dict[str, int]:
    for name, length in value.items():
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise _MalformedError(f"{where}: {name!r} has a length that is not a non-negative integer")
    return value


def _slices(
    data: memoryview, at: int, lengths: dict[str, int], where: str
) -> tuple[dict[str, memoryview], int]:
    """The items back to back from `at`, in the map's order, and the index after the last."""
    items = {}
    for name, length in lengths.items():
        if length > len(data) - at:
            raise _MalformedError(
                f"{where}: {name!r} ({length} bytes) runs past the end ({len(data) - at} bytes left)"
            )
        items[name] = data[at : at + length]
        at += length
    return items, at


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _MalformedError("a JSON object repeats a key")
    return result


def _reject_constant(name: str) -> object:
    raise _MalformedError(f"JSON holds {name}")


def _json(raw: bytes | str, where: str) -> object:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)
    except _MalformedError as err:
        raise _MalformedError(f"{where}: {err}") from None
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _MalformedError(f"{where} is not UTF-8 JSON: {err}") from None


def _table(pa: Any, data: memoryview, where: str) -> pyarrow.Table:  # noqa: ANN401 - a module
    """An Arrow IPC file or stream, compressed or not, checked (:func:`_validate`)."""
    head = bytes(data[:6])
    if head == _ARROW_FILE_MAGIC:
        open_reader = pa.ipc.open_file
    elif head[:4] == _ARROW_STREAM_MARKER:
        open_reader = pa.ipc.open_stream
    else:
        raise _MalformedError(f"{where} is neither an Arrow IPC file nor an Arrow IPC stream")
    try:
        table = open_reader(pa.py_buffer(data)).read_all()
        _validate(pa, table)
    except _MalformedError as err:
        raise _MalformedError(f"{where} is not valid Arrow: {err}") from None
    except Exception as err:  # any pyarrow failure on foreign bytes means the same: it does not parse
        raise _MalformedError(f"{where} is not valid Arrow: {type(err).__name__}: {err}") from None
    return table


def _validate(pa: Any, table: pyarrow.Table) -> None:  # noqa: ANN401 - a module
    """Check foreign bytes now, not when first read: every buffer's size, and every offset and
    dictionary index within bounds.

    ``validate(full=True)`` does all of that and also checks that text is UTF-8, which is most of
    what reading a table of strings costs. So a string or binary column (the plain kinds, not
    nested) gets the memory-safety part alone, its offsets checked with Arrow's own kernels; text
    that is not UTF-8 fails later, as a ``UnicodeDecodeError``, when a value becomes a ``str``.
    Every other column is validated fully.
    """
    table.validate()  # the structure: buffer sizes against lengths
    types = pa.types
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        plain = types.is_string(kind) or types.is_large_string(kind) or types.is_binary(kind)
        if not (plain or types.is_large_binary(kind)):
            column.validate(full=True)
            continue
        wide = types.is_large_string(kind) or types.is_large_binary(kind)
        for chunk in column.chunks:
            _check_offsets(pa, chunk, pa.int64() if wide else pa.int32(), name)


def _check_offsets(pa: Any, chunk: Any, offset_type: Any, name: str) -> None:  # noqa: ANN401 - pyarrow
    """:class:`_MalformedError` unless a string or binary chunk's offsets rise from 0 or more to at
    most its data's size."""
    rows = len(chunk)
    if rows == 0:
        return
    _, offsets_buffer, data_buffer = chunk.buffers()
    offsets = pa.Array.from_buffers(offset_type, rows + 1, [None, offsets_buffer], offset=chunk.offset)
    compute = _require("pyarrow.compute", "arrow", "reading a bulk query's answer")
    first, last = offsets[0].as_py(), offsets[rows].as_py()
    size = 0 if data_buffer is None else data_buffer.size
    falling = compute.any(compute.less(offsets.slice(1), offsets.slice(0, rows))).as_py()
    if first < 0 or last > size or falling:
        raise _MalformedError(f"column {name!r}'s offsets run outside its {size} bytes of data")
