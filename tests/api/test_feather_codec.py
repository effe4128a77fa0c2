"""The ``/v1/query/feather`` byte codecs, each half checked against the other.

The SDK writes the ``chal1`` request and reads the byte-model answer (``chalk_client._api.feather``);
ChalkServer reads the request and writes the answer (``chalk_client.testing._feather``). The two share
no code, so a round trip through both is a check of each. Malformed bodies are built here by hand
(``_model``), a third reading of the layout in ``/work/shared/chalk-bulk.md`` sections 1 and 2.
"""

from __future__ import annotations

import contextlib
import json
import struct
import subprocess
import sys
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalk_client import ChalkInputError, ChalkInvalidResponseError, ChalkMissingDependencyError
from chalk_client._api.feather import BulkAnswer, decode_response, encode_request
from chalk_client.testing._feather import FeatherRequestError, FeatherResult, decode_request, encode_response
from tests.property_strategies import PROFILE

pa = pytest.importorskip("pyarrow")

WHAT = "/v1/query/feather"
MAGIC = b"CHALK_BYTE_TRANSMISSION"
NO_DATA_ATTRS = b'{"has_data": false, "errors": null, "meta": null}'
DATA_ATTRS = b'{"has_data": true, "errors": null, "meta": null}'

# ---------------------------------------------------------------------------------------------------
# Strategies: tables of the supported types, headers, answers

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
_MICROS = st.integers(-62_135_596_800_000_000, 253_402_300_799_999_999)  # years 1..9999
_COLUMN_TYPES = [
    (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    (pa.float64(), st.floats(allow_nan=False)),
    (pa.bool_(), st.booleans()),
    (pa.string(), _TEXT),
    (pa.large_string(), _TEXT),
    (pa.timestamp("us", tz="UTC"), _MICROS),
    (pa.null(), st.none()),
]


@st.composite
def tables(draw: st.DrawFn) -> Any:
    rows = draw(st.integers(0, 4))
    names = draw(st.lists(st.text("abcu._", min_size=1, max_size=6), max_size=4, unique=True))
    columns = {}
    for name in names:
        kind, values = draw(st.sampled_from(_COLUMN_TYPES))
        column = draw(st.lists(st.none() | values, min_size=rows, max_size=rows))
        columns[name] = pa.array(column, type=kind)
    return pa.table(columns) if columns else pa.table({})


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
_OBJECTS = st.dictionaries(_TEXT, _JSON, max_size=4)

results = st.builds(
    FeatherResult,
    scalars=st.none() | tables(),
    groups=st.dictionaries(st.text("abcu._", min_size=1, max_size=8), tables(), max_size=2),
    errors=st.lists(_OBJECTS, max_size=2),
    meta=st.none() | _OBJECTS,
)


def _table_bytes(table: Any, *, stream: bool = False) -> bytes:
    sink = pa.BufferOutputStream()
    with (pa.ipc.new_stream if stream else pa.ipc.new_file)(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


# ---------------------------------------------------------------------------------------------------
# Round trips


@settings(PROFILE, max_examples=40)
@given(st.lists(st.tuples(_OBJECTS, tables()), min_size=1, max_size=12))
def test_request_round_trips_through_the_server_reader(blocks: list[tuple[dict[str, Any], Any]]) -> None:
    decoded = decode_request(encode_request(blocks))
    assert len(decoded) == len(blocks)
    for (header, table), (got_header, got_table) in zip(blocks, decoded, strict=True):
        assert got_header == header
        assert got_table.equals(table, check_metadata=True)


@settings(PROFILE, max_examples=40)
@given(
    st.lists(results, min_size=1, max_size=12),
    st.sampled_from(["lz4", None]),
    st.sampled_from(["file", "stream"]),
)
def test_response_round_trips_through_the_sdk_reader(
    answers: list[FeatherResult], compression: Any, arrow_format: Any
) -> None:
    body = encode_response(answers, compression=compression, arrow_format=arrow_format)
    decoded = decode_response(body, what=WHAT)
    assert len(decoded) == len(answers)
    for answer, got in zip(answers, decoded, strict=True):
        assert isinstance(got, BulkAnswer)
        if answer.scalars is None:
            assert got.scalars is None
            assert got.groups == {}
        else:
            assert got.scalars is not None
            assert got.scalars.equals(answer.scalars, check_metadata=True)
            assert list(got.groups) == list(answer.groups)
            for name, table in answer.groups.items():
                assert got.groups[name].equals(table, check_metadata=True)
        assert got.errors == [dict(e) for e in answer.errors]
        assert got.meta == answer.meta


def test_lz4_is_the_servers_default_and_is_read() -> None:
    table = pa.table({"user.name": ["a" * 200] * 50})
    compressed = encode_response([FeatherResult(table)])
    plain = encode_response([FeatherResult(table)], compression=None)
    assert len(compressed) < len(plain)
    for body in (compressed, plain):
        [answer] = decode_response(body, what=WHAT)
        assert answer.scalars is not None
        assert answer.scalars.equals(table)


def test_server_reader_accepts_an_arrow_stream_body() -> None:
    table = pa.table({"user.id": [1, 2]})
    header = b'{"outputs": ["user.name"], "feather_body_type": "RECORD_BATCHES"}'
    arrow = _table_bytes(table, stream=True)
    body = b"chal1" + _u64(len(header)) + header + _u64(len(arrow)) + arrow
    [(got_header, got_table)] = decode_request(body)
    assert got_header["feather_body_type"] == "RECORD_BATCHES"
    assert got_table.equals(table)


# ---------------------------------------------------------------------------------------------------
# Golden bytes: the request and the answer's framing, per the doc's layout


def _u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def test_request_bytes_match_the_documented_layout() -> None:
    table = pa.table({"user.id": pa.array([1], pa.int64())})
    body = encode_request([({"outputs": ["user.name"], "include_meta": True}, table)])
    header = b'{"outputs":["user.name"],"include_meta":true}'
    assert body[:5] == b"\x63\x68\x61\x6c\x31"  # "chal1"
    assert body[5:13] == b"\x00\x00\x00\x00\x00\x00\x00\x2d" == _u64(len(header))
    assert body[13 : 13 + 45] == header
    arrow_length = int.from_bytes(body[58:66], "big")
    arrow = body[66:]
    assert arrow_length == len(arrow)  # nothing follows the last block
    assert arrow[:8] == b"ARROW1\x00\x00"
    assert arrow[-6:] == b"ARROW1"
    assert pa.ipc.open_file(pa.py_buffer(arrow)).read_all().equals(table)
    assert body == b"chal1" + _u64(45) + header + _u64(len(arrow)) + arrow


def test_two_queries_are_two_blocks_after_one_magic() -> None:
    one = pa.table({"user.id": [1]})
    body = encode_request([({"a": 1}, one), ({"b": "\u00e9"}, one)])
    assert body.count(b"chal1") == 1
    second = '{"b":"\u00e9"}'.encode()
    first_arrow = int.from_bytes(body[20:28], "big")  # after magic, length 7 and '{"a":1}'
    start = 28 + first_arrow
    assert body[start : start + 8 + len(second)] == _u64(10) + second
    assert len(body) == start + 8 + 10 + 8 + int.from_bytes(body[start + 18 : start + 26], "big")


def test_server_answer_framing_matches_the_documented_offsets() -> None:
    # Section 2.3's worked offsets (ts first.bytes): one query, no errors, no meta, no groups.
    body = encode_response([FeatherResult(pa.table({"user.id": [1]}))])
    assert body[:23] == MAGIC
    assert body[23:53] == (_u64(2) + b"{}") * 3
    outer_map_length = int.from_bytes(body[53:61], "big")  # 29 in the doc, for a 4-digit length
    inner = body[61 + outer_map_length :]
    assert body[61 : 61 + outer_map_length] == b'{"query_results_bytes": %d}' % len(inner)
    assert inner[:23] == MAGIC
    assert inner[23:43] == (_u64(2) + b"{}") * 2
    map_length = int.from_bytes(inner[43:51], "big")
    length_map = inner[51 : 51 + map_length]
    result_length = json.loads(length_map)["0"]
    assert length_map == b'{"0": %d}' % result_length
    result = inner[51 + map_length : 51 + map_length + result_length]
    assert inner[51 + map_length + result_length :] == _u64(2) + b"{}"
    assert result[:23] == MAGIC
    assert result[23:31] == _u64(48)
    assert result[31:79] == DATA_ATTRS
    assert result[-63:] == MAGIC + (_u64(2) + b"{}") * 4  # an empty groups_data: 63 bytes
    assert result[-(63 + 27) : -63] == _u64(19) + b'{"groups_data": 63}'


# ---------------------------------------------------------------------------------------------------
# Hand-built answers: ordering, has_data false, and every way one can be malformed


def _section(raw: bytes) -> bytes:
    return _u64(len(raw)) + raw


def _lengths(items: list[tuple[str, bytes]]) -> bytes:
    return json.dumps({name: len(data) for name, data in items}).encode()


def _model(
    attrs: bytes = b"{}",
    items: list[tuple[str, bytes]] | None = None,
    nested: list[tuple[str, bytes]] | None = None,
    *,
    items_map: bytes | None = None,
    magic: bytes = MAGIC,
) -> bytes:
    items, nested = items or [], nested or []
    return b"".join(
        [
            magic,
            _section(attrs),
            _section(b"{}"),
            _section(items_map if items_map is not None else _lengths(items)),
            *(data for _, data in items),
            _section(_lengths(nested)),
            *(data for _, data in nested),
        ]
    )


def _result(
    scalars: bytes, attrs: bytes = DATA_ATTRS, groups: list[tuple[str, bytes]] | None = None
) -> bytes:
    return _model(attrs, [("scalar_data", scalars)], [("groups_data", _model(items=groups))])


def _outer(results: list[tuple[str, bytes]], *, items_map: bytes | None = None) -> bytes:
    return _model(nested=[("query_results_bytes", _model(items=results, items_map=items_map))])


_ONE = _table_bytes(pa.table({"x": [1]}))


@pytest.mark.parametrize("order", ["lexicographic", "reversed"])
def test_results_come_back_by_their_integer_key(order: str) -> None:
    keys = [str(i) for i in range(12)]
    keys = sorted(keys) if order == "lexicographic" else keys[::-1]  # "10" before "2"
    body = _outer([(key, _result(_table_bytes(pa.table({"q": [int(key)]})))) for key in keys])
    answers = decode_response(body, what=WHAT)
    assert [a.scalars.column("q")[0].as_py() for a in answers if a.scalars is not None] == list(range(12))


def test_no_data_ignores_the_scalar_bytes() -> None:
    # The fixtures carry an empty-schema stream here; whatever it is, it is not read.
    error = json.dumps({"code": "PARSE_FAILED", "category": "REQUEST", "message": "bad"})
    attrs = json.dumps({"has_data": False, "errors": [error], "meta": None}).encode()
    [answer] = decode_response(_outer([("0", _result(b"", attrs))]), what=WHAT)
    assert answer == BulkAnswer(
        scalars=None,
        groups={},
        errors=[{"code": "PARSE_FAILED", "category": "REQUEST", "message": "bad"}],
        meta=None,
    )


def test_groups_and_meta_are_read() -> None:
    meta = json.dumps({"query_id": "q1", "execution_duration_s": 0.5})
    attrs = json.dumps({"has_data": True, "errors": [], "meta": meta}).encode()
    group = pa.table({"cup.id": ["c1", "c2"], "cup.user_id": [1, 1]})
    [answer] = decode_response(
        _outer([("0", _result(_ONE, attrs, [("user.cups", _table_bytes(group, stream=True))]))]), what=WHAT
    )
    assert answer.meta == {"query_id": "q1", "execution_duration_s": 0.5}
    assert answer.errors == []
    assert answer.groups["user.cups"].equals(group)


_BAD_BODIES = {
    "empty": b"",
    "bad magic": _outer([("0", _result(_ONE))]).replace(MAGIC, b"CHALK_BYTE_TRANSMISSIOX", 1),
    "inner bad magic": _outer([("0", _model(magic=b"X" * 23))]),
    "no query_results_bytes": _model(nested=[("other", _model())]),
    "keys not from 0": _outer([("1", _result(_ONE))]),
    "key gap": _outer([("0", _result(_ONE)), ("2", _result(_ONE))]),
    "key 00": _outer([("00", _result(_ONE))]),
    "key -0": _outer([("-0", _result(_ONE))]),
    "duplicate key": _outer(
        [("0", _result(_ONE))] * 2, items_map=b'{"0": %d, "0": %d}' % ((len(_result(_ONE)),) * 2)
    ),
    "length one short": _outer([("0", _result(_ONE))], items_map=b'{"0": %d}' % (len(_result(_ONE)) - 1)),
    "length one long": _outer([("0", _result(_ONE))], items_map=b'{"0": %d}' % (len(_result(_ONE)) + 1)),
    "huge length": _outer([("0", _result(_ONE))], items_map=b'{"0": 18446744073709551615}'),
    "negative length": _outer([("0", _result(_ONE))], items_map=b'{"0": -1}'),
    "float length": _outer([("0", _result(_ONE))], items_map=b'{"0": 1.5}'),
    "bool length": _outer([("0", _result(_ONE))], items_map=b'{"0": true}'),
    "NaN in a map": _outer([("0", _result(_ONE))], items_map=b'{"0": NaN}'),
    "section past the end": MAGIC + _u64(2**63) + b"{}",
    "body ends in a length": MAGIC + b"\x00\x00\x00",
    "trailing bytes": _outer([("0", _result(_ONE))]) + b"\x00",
    "attrs not JSON": _outer([("0", _result(_ONE, b"{not json"))]),
    "attrs not UTF-8": _outer([("0", _result(_ONE, b'{"has_data": true, "x": "\xff"}'))]),
    "attrs an array": _outer([("0", _result(_ONE, b"[]"))]),
    "has_data missing": _outer([("0", _result(_ONE, b'{"errors": null}'))]),
    "has_data a string": _outer([("0", _result(_ONE, b'{"has_data": "yes"}'))]),
    "errors not a list": _outer([("0", _result(_ONE, b'{"has_data": true, "errors": "x"}'))]),
    "error not JSON": _outer([("0", _result(_ONE, b'{"has_data": true, "errors": ["{oops"]}'))]),
    "error not an object": _outer([("0", _result(_ONE, b'{"has_data": true, "errors": ["[1]"]}'))]),
    "meta not an object": _outer([("0", _result(_ONE, b'{"has_data": true, "meta": "[]"}'))]),
    "meta a number": _outer([("0", _result(_ONE, b'{"has_data": true, "meta": 5}'))]),
    "meta not JSON": _outer([("0", _result(_ONE, b'{"has_data": true, "meta": "{\\"a\\": \\ud800"}'))]),
    "no scalar_data": _outer([("0", _model(DATA_ATTRS, [], [("groups_data", _model())]))]),
    "no groups_data": _outer([("0", _model(DATA_ATTRS, [("scalar_data", _ONE)], []))]),
    "scalars not Arrow": _outer([("0", _result(b"hello, world"))]),
    "scalars a cut Arrow file": _outer([("0", _result(_ONE[:-10]))]),
    "scalars a cut Arrow stream": _outer(
        [("0", _result(_table_bytes(pa.table({"x": [1]}), stream=True)[:40]))]
    ),
    "group not Arrow": _outer([("0", _result(_ONE, groups=[("user.cups", b"ARROW1 but no more")]))]),
}


@pytest.mark.parametrize("body", list(_BAD_BODIES.values()), ids=list(_BAD_BODIES))
def test_malformed_answers_are_invalid_responses(body: bytes) -> None:
    with pytest.raises(ChalkInvalidResponseError) as caught:
        decode_response(body, what=WHAT)
    assert caught.value.method == "POST"
    assert caught.value.url == WHAT
    assert caught.value.status_code == 200
    assert "bulk query answer" in str(caught.value)


def test_the_error_names_the_answers_request() -> None:
    answer = httpx.Response(200, request=httpx.Request("POST", "https://engine.test/v1/query/feather"))
    with pytest.raises(ChalkInvalidResponseError) as caught:
        decode_response(b"nope", what=WHAT, answer=answer)
    assert caught.value.url == "https://engine.test/v1/query/feather"


_VALID = encode_response(
    [
        FeatherResult(
            pa.table({"user.id": [1, 2], "user.name": ["a", None]}), {"user.cups": pa.table({"c": [1]})}
        ),
        FeatherResult(None, errors=[{"code": "PARSE_FAILED", "message": "m"}], meta={"query_id": "q"}),
    ]
)
_VALID_STREAM = encode_response([FeatherResult(pa.table({"user.id": [1, 2]}))], arrow_format="stream")


def _invalid_or_answers(body: bytes) -> None:
    try:
        answers = decode_response(body, what=WHAT)
    except ChalkInvalidResponseError:
        return
    assert all(isinstance(a, BulkAnswer) for a in answers)
    # Every value can be read without a crash: offsets were checked. Text is not checked for
    # UTF-8 when decoding (that would double the decode's cost), so a changed byte inside a string
    # may fail here, as a UnicodeDecodeError, and only so.
    for answer in answers:
        for table in [answer.scalars, *answer.groups.values()]:
            for column in [] if table is None else table.columns:
                with contextlib.suppress(UnicodeDecodeError):
                    column.to_pylist()


def _string_table(offsets: list[int], data: bytes) -> pa.Table:
    buffers = [None, pa.py_buffer(struct.pack(f"<{len(offsets)}i", *offsets)), pa.py_buffer(data)]
    return pa.table({"user.name": pa.Array.from_buffers(pa.string(), len(offsets) - 1, buffers)})


def test_a_string_column_whose_offsets_fall_is_an_invalid_response() -> None:
    good = encode_response([FeatherResult(scalars=_string_table([0, 2, 3], b"abc"))], compression=None)
    (answer,) = decode_response(good, what=WHAT)
    assert answer.scalars is not None
    assert answer.scalars.column("user.name").to_pylist() == ["ab", "c"]
    bad = encode_response([FeatherResult(scalars=_string_table([0, 3, 1], b"abc"))], compression=None)
    with pytest.raises(ChalkInvalidResponseError, match="offsets run outside its 3 bytes"):
        decode_response(bad, what=WHAT)


def test_text_that_is_not_utf8_is_read_and_fails_only_when_made_a_str() -> None:
    body = encode_response([FeatherResult(scalars=_string_table([0, 2], b"\xff\xfe"))], compression=None)
    (answer,) = decode_response(body, what=WHAT)
    assert answer.scalars is not None
    with pytest.raises(UnicodeDecodeError):
        answer.scalars.column("user.name").to_pylist()


@pytest.mark.parametrize("body", [_VALID, _VALID_STREAM], ids=["file, lz4", "stream, lz4"])
def test_every_truncation_is_an_invalid_response(body: bytes) -> None:
    assert decode_response(body, what=WHAT)
    for cut in range(len(body)):
        with pytest.raises(ChalkInvalidResponseError):
            decode_response(body[:cut], what=WHAT)


def test_every_cut_of_an_arrow_item_with_honest_framing() -> None:
    # The framing is right but the Arrow bytes end early: a file never parses; a stream cut
    # between messages may (an absent end marker), but nothing other than the SDK's error escapes.
    file, stream = _ONE, _table_bytes(pa.table({"x": [1, None]}), stream=True)
    for cut in range(len(file)):
        with pytest.raises(ChalkInvalidResponseError):
            decode_response(_outer([("0", _result(file[:cut]))]), what=WHAT)
    for cut in range(len(stream)):
        _invalid_or_answers(_outer([("0", _result(stream[:cut]))]))


@settings(PROFILE, max_examples=300)
@given(st.binary(max_size=300) | st.binary(max_size=300).map(lambda tail: MAGIC + tail))
def test_random_bytes_are_invalid_responses(body: bytes) -> None:
    with pytest.raises(ChalkInvalidResponseError):
        decode_response(body, what=WHAT)


@settings(PROFILE, max_examples=300)
@given(st.sampled_from([_VALID, _VALID_STREAM]), st.data())
def test_a_changed_byte_gives_answers_or_an_invalid_response(body: bytes, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(body) - 1))
    value = data.draw(st.integers(0, 255))
    _invalid_or_answers(body[:position] + bytes([value]) + body[position + 1 :])


# ---------------------------------------------------------------------------------------------------
# The server's reader refuses malformed requests; the SDK's writer refuses bad input


_A_BLOCK = encode_request([({"outputs": ["user.name"]}, pa.table({"user.id": [1]}))])
_BAD_REQUESTS = {
    "empty": (b"", "magic"),
    "bad magic": (b"chal2" + _A_BLOCK[5:], "does not start with"),
    "no query": (b"chal1", "no query"),
    "cut length": (_A_BLOCK + b"\x00\x00\x00", "length of query 1's header"),
    "header past the end": (b"chal1" + _u64(100) + b"{}", "only 2 are left"),
    "header not JSON": (b"chal1" + _section(b"{nope") + _section(_ONE), "not UTF-8 JSON"),
    "header not UTF-8": (b"chal1" + _section(b'{"a": "\xff"}') + _section(_ONE), "not UTF-8 JSON"),
    "header an array": (b"chal1" + _section(b"[]") + _section(_ONE), "not a JSON object"),
    "body not Arrow": (b"chal1" + _section(b"{}") + _section(b"parquet?"), "neither an Arrow IPC file"),
    "body a cut Arrow file": (b"chal1" + _section(b"{}") + _section(_ONE[:-8]), "not valid Arrow IPC"),
    "body past the end": (b"chal1" + _section(b"{}") + _u64(10**12), "input table needs"),
}


@pytest.mark.parametrize(("body", "words"), list(_BAD_REQUESTS.values()), ids=list(_BAD_REQUESTS))
def test_server_reader_refuses_malformed_requests(body: bytes, words: str) -> None:
    with pytest.raises(FeatherRequestError, match=words) as caught:
        decode_request(body)
    assert isinstance(caught.value, ValueError)


def test_every_truncation_of_a_request_is_refused() -> None:
    for cut in range(len(_A_BLOCK)):
        with pytest.raises(FeatherRequestError):
            decode_request(_A_BLOCK[:cut])


@pytest.mark.parametrize(
    "blocks",
    [
        [],
        [({"now": float("nan")}, pa.table({"a": [1]}))],
        [({"name": "\ud800"}, pa.table({"a": [1]}))],
        [({"x": object()}, pa.table({"a": [1]}))],
        [(["not", "a", "mapping"], pa.table({"a": [1]}))],
        [({}, {"a": [1]})],
    ],
    ids=["none", "NaN", "lone surrogate", "not JSON-able", "header not a mapping", "input not a table"],
)
def test_request_writer_refuses_bad_blocks(blocks: Any) -> None:
    with pytest.raises(ChalkInputError):
        encode_request(blocks)


def test_without_pyarrow_both_sdk_functions_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ChalkMissingDependencyError, match=r"chalk-client\[arrow\]"):
        encode_request([({}, object())])
    with pytest.raises(ChalkMissingDependencyError, match=r"chalk-client\[arrow\]"):
        decode_response(_VALID, what=WHAT)


def test_importing_the_codecs_does_not_import_pyarrow() -> None:
    code = (
        "import sys, chalk_client, chalk_client._api.feather, chalk_client.testing._feather\n"
        "assert 'pyarrow' not in sys.modules, 'pyarrow was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
