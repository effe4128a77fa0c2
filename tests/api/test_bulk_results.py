"""What a bulk answer becomes: the server's tables untouched, its errors as ChalkServerErrorInfo."""

from __future__ import annotations

import pytest

from chalk_client import ChalkErrorCode, ChalkResultError, ChalkServerErrorInfo
from chalk_client._api.bulk_results import BulkQuery, BulkQueryResult, bulk_result
from chalk_client._api.feather import BulkAnswer, decode_response
from chalk_client.testing._feather import FeatherResult, encode_response

pa = pytest.importorskip("pyarrow")


def _through_the_wire(*answers: FeatherResult) -> list[BulkAnswer]:
    return decode_response(encode_response(list(answers)), what="/v1/query/feather")


def test_the_scalar_table_keeps_the_servers_columns_and_types() -> None:
    scalars = pa.table(
        {"user.id": pa.array([1, 2], pa.int64()), "user.score": pa.array([0.5, None], pa.float32())}
    )
    groups = {"user.transactions": pa.table({"transaction.amount": [3.0, 4.0]})}
    [answer] = _through_the_wire(FeatherResult(scalars=scalars, groups=groups, meta={"query_id": "q1"}))
    result = bulk_result(answer)
    assert len(result) == 2
    assert result.to_arrow().equals(scalars)
    assert result.to_arrow().schema.field("user.score").type == pa.float32()
    assert set(result.groups) == {"user.transactions"}
    assert result.groups["user.transactions"].equals(groups["user.transactions"])
    assert result.meta is not None
    assert result.meta.query_id == "q1"
    assert result.errors == []
    assert result.raise_for_errors() is result
    assert repr(result) == "<BulkQueryResult rows=2 columns=2 groups=1 errors=0>"


def test_errors_are_returned_as_sdk_types_and_raised_on_request() -> None:
    error = {"code": "RESOLVER_NOT_FOUND", "message": "no resolver for user.nope", "feature": "user.nope"}
    [answer] = _through_the_wire(FeatherResult(scalars=None, errors=(error, {"code": 5})))
    result = bulk_result(answer)
    assert len(result) == 0
    assert result.to_arrow().num_rows == 0
    assert result.errors[0] == ChalkServerErrorInfo(
        code=ChalkErrorCode.RESOLVER_NOT_FOUND, message="no resolver for user.nope", feature="user.nope"
    )
    assert result.errors[1].code == "INTERNAL_SERVER_ERROR"  # kept, not lost, though it does not parse
    assert "does not parse" in result.errors[1].message
    with pytest.raises(ChalkResultError, match="RESOLVER_NOT_FOUND"):
        result.raise_for_errors()


def test_a_secret_in_an_error_message_is_replaced() -> None:
    error = {"code": "RESOLVER_FAILED", "message": "failed with s3cret-value inside"}
    [answer] = _through_the_wire(FeatherResult(scalars=None, errors=(error,)))
    assert "s3cret-value" not in bulk_result(answer, ("s3cret-value",)).errors[0].message


def test_pandas_and_polars_views() -> None:
    result = BulkQueryResult(pa.table({"user.id": [1, 2, 3]}))
    pd = pytest.importorskip("pandas")
    assert isinstance(result.to_pandas(), pd.DataFrame)
    assert result.to_pandas()["user.id"].tolist() == [1, 2, 3]
    pl = pytest.importorskip("polars")
    assert isinstance(result.to_polars(), pl.DataFrame)
    assert result.to_polars()["user.id"].to_list() == [1, 2, 3]


def test_a_bulk_query_is_frozen_and_keyword_only() -> None:
    query = BulkQuery(input={"user.id": [1]}, output=["user.name"])
    assert query.include_meta is False
    with pytest.raises(AttributeError):
        query.output = ["x"]  # type: ignore[misc]
    with pytest.raises(TypeError):
        BulkQuery({"user.id": [1]}, ["user.name"])  # type: ignore[misc]
