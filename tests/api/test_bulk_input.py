"""A bulk query's input table and ``now``: every check made before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from chalk_client import ChalkInputError
from chalk_client._api.bulk_input import bulk_input_table, bulk_now

pa = pytest.importorskip("pyarrow")


def test_a_mapping_becomes_a_table_with_pyarrows_types() -> None:
    when = datetime(2026, 1, 1, 12, tzinfo=UTC)
    table = bulk_input_table({"user.id": [1, 2], "user.name": ["Ada", None], "user.at": [when, when]})
    assert table.column_names == ["user.id", "user.name", "user.at"]
    assert table.num_rows == 2
    assert table.schema.field("user.id").type == pa.int64()
    assert table.schema.field("user.name").type == pa.string()
    assert table.column("user.name").to_pylist() == ["Ada", None]
    assert pa.types.is_timestamp(table.schema.field("user.at").type)


def test_a_pyarrow_table_keeps_its_columns_and_types() -> None:
    given = pa.table({"user.id": pa.array([1, 2], pa.int32()), "user.score": pa.array([0.5, 1.5])})
    assert bulk_input_table(given) is given


def test_pandas_and_polars_frames_become_tables() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"user.id": [1, 2, 3]}, index=[7, 8, 9])
    table = bulk_input_table(frame)
    assert table.column_names == ["user.id"]  # the index is not sent
    assert table.column("user.id").to_pylist() == [1, 2, 3]
    pl = pytest.importorskip("polars")
    assert bulk_input_table(pl.DataFrame({"user.id": [4, 5]})).column("user.id").to_pylist() == [4, 5]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({}, "no columns"),
        ({"user.id": []}, "no rows"),
        ({"user.id": [1, 2], "user.name": ["a"]}, "different lengths"),
        ({3: [1]}, "non-empty feature names"),
        ({"": [1]}, "non-empty feature names"),
        ({"user.at": [datetime(2026, 1, 1)]}, "naive"),
        # pyarrow reads [aware, naive] as one aware column: each value of such a column is checked
        ({"user.at": [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2)]}, r"input\['user.at'\]\[1\]"),
        ({"user.seen": [[datetime(2026, 1, 1)]]}, "naive timestamps"),  # nested in a list
        ({"user.visit": [{"at": datetime(2026, 1, 1)}]}, "naive timestamps"),  # nested in a struct
        ([1, 2], "must be a mapping"),
        ({"user.x": [1, "a"]}, "cannot be sent as an Arrow table"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(value: Any, fragment: str) -> None:
    with pytest.raises(ChalkInputError, match=fragment):
        bulk_input_table(value)


def test_a_table_of_naive_timestamps_or_unnamed_or_repeated_columns_is_refused() -> None:
    with pytest.raises(ChalkInputError, match="naive timestamps"):
        bulk_input_table(pa.table({"user.at": pa.array([datetime(2026, 1, 1)], pa.timestamp("us"))}))
    repeated = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["user.id", "user.id"])
    with pytest.raises(ChalkInputError, match=r"more than once: user\.id"):
        bulk_input_table(repeated)
    with pytest.raises(ChalkInputError, match="no rows"):
        bulk_input_table(pa.table({"user.id": pa.array([], pa.int64())}))
    nested = pa.array([[datetime(2026, 1, 1)]], pa.list_(pa.timestamp("us")))
    with pytest.raises(ChalkInputError, match="naive timestamps"):
        bulk_input_table(pa.table({"user.seen": nested}))
    aware = pa.array(
        [{"at": datetime(2026, 1, 1, tzinfo=UTC)}], pa.struct([("at", pa.timestamp("us", "UTC"))])
    )
    assert bulk_input_table(pa.table({"user.visit": aware})).num_rows == 1


def test_now_is_one_iso_string_per_row() -> None:
    moment = datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=2)))
    assert bulk_now(None, 3) is None
    assert bulk_now(moment, 3) == ["2026-01-01T07:00:00+00:00"] * 3
    later = moment + timedelta(seconds=1, microseconds=5)
    assert bulk_now([moment, later], 2) == ["2026-01-01T07:00:00+00:00", "2026-01-01T07:00:01.000005+00:00"]


@pytest.mark.parametrize(
    ("now", "fragment"),
    [
        (datetime(2026, 1, 1), "naive"),
        ([datetime(2026, 1, 1, tzinfo=UTC)], "1 entries for 2 input rows"),
        ("2026-01-01T00:00:00Z", "aware datetime or one per row"),
        ([datetime(2026, 1, 1, tzinfo=UTC), "x"], r"now\[1\] must be an aware datetime"),
    ],
)
def test_a_bad_now_is_refused(now: Any, fragment: str) -> None:
    with pytest.raises(ChalkInputError, match=fragment):
        bulk_now(now, 2)


def test_the_input_table_reaches_chalk_servers_reader_whole() -> None:
    from chalk_client._api.feather import encode_request
    from chalk_client.testing._feather import decode_request

    table = bulk_input_table({"user.id": [1, 2, 3], "user.name": ["a", None, "c"]})
    header = {"outputs": ["user.credit_score"], "now": bulk_now(datetime(2026, 1, 1, tzinfo=UTC), 3)}
    [(got_header, got_table)] = decode_request(encode_request([(header, table)]))
    assert got_header == header
    assert got_table.equals(table)
