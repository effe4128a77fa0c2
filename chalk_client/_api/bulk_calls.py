"""Bulk queries as a :class:`~chalk_client._api.calls.Call`: ``query_bulk`` and ``multi_query``.

Both send ``POST /v1/query/feather`` (the generated ``query_bulk`` endpoint): one ``chal1`` block per
query, each its JSON header and its input as an Arrow table (:mod:`chalk_client._api.feather`).
Every argument is checked before anything is sent. Like an online query, a bulk query reads, so it
is retried as a safe call, and it is routed on the data plane (query server, engine, or the API
server with a branch). The host, environment, branch and timeout belong to the request, so a
multi-query sets them once for all its queries; everything else is per query (:class:`BulkQuery`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from chalk_client._api.arguments import _bool, _header_string, _string, _string_map, _strings
from chalk_client._api.bulk_input import bulk_input_table, bulk_now
from chalk_client._api.bulk_results import BulkQuery, BulkQueryResult, bulk_result
from chalk_client._api.calls import BINARY, Call, generated_call
from chalk_client._api.feather import BYTE_MODEL_MAGIC, decode_response, encode_request
from chalk_client._core.answers import Answer, invalid_response
from chalk_client._core.errors import ChalkInputError
from chalk_client._core.retry import Idempotency
from chalk_client._core.routing import Plane

__all__ = ["bulk_call", "parse_bulk"]


def bulk_call(
    queries: Sequence[BulkQuery],
    *,
    environment: str | None,
    branch: str | None,
    default_branch: str | None,
    what: str,
) -> Call:
    """The request for `queries` (one for ``query_bulk``, any number for ``multi_query``).

    `branch` is the call's own; `default_branch` the client's, used when the call names none (each
    header carries it as ``branch_id``). A single query's ``query_name`` is sent as
    ``X-Chalk-Query-Name`` too; a multi-query's names stay in their headers.

    Raises:
        ChalkInputError: no query, something that is not a :class:`BulkQuery`, or an argument of
            one that is invalid (the message names the query when there are several).
        ChalkMissingDependencyError: pyarrow is not installed (``chalk-client[arrow]``).
    """
    given: object = queries
    if isinstance(given, str | bytes | BulkQuery) or not isinstance(given, Sequence):
        raise ChalkInputError(f"queries must be a list of BulkQuery, got {type(given).__name__}")
    if not queries:
        raise ChalkInputError("queries is empty: give at least one BulkQuery")
    branch = _header_string(branch, "branch") or default_branch
    blocks = []
    features: list[str] = []
    rows = 0
    for position, query in enumerate(queries):
        if not isinstance(query, BulkQuery):
            raise ChalkInputError(f"queries[{position}] must be a BulkQuery, got {type(query).__name__}")
        try:
            header, table = _block(query, branch)
        except ChalkInputError as err:
            if len(queries) == 1:
                raise
            raise ChalkInputError(f"queries[{position}]: {err}") from None
        blocks.append((header, table))
        features.extend(name for name in header["outputs"] if name not in features)
        rows += table.num_rows
    from chalk_openapi.api.query import query_bulk

    single = queries[0] if len(queries) == 1 else None
    return generated_call(
        query_bulk,
        None,
        encode_request(blocks),
        plane=Plane.DATA,
        idempotency=Idempotency.SAFE,  # a query reads: sending it twice changes nothing
        what=what,
        query_name=_header_string(single.query_name, "query_name") if single is not None else None,
        environment=_header_string(environment, "environment"),
        branch=branch,
        rows=rows,
        features=tuple(features),
        queries=len(blocks),
        accept=BINARY,
    )


def _block(query: BulkQuery, branch: str | None) -> tuple[dict[str, Any], Any]:
    """One query's header and input table, or :class:`ChalkInputError`."""
    outputs = _strings(query.output, "output")
    if not outputs:
        raise ChalkInputError("output is empty: name at least one feature, e.g. ['user.name']")
    table = bulk_input_table(query.input)
    header: dict[str, Any] = {"outputs": outputs}
    now = bulk_now(query.now, table.num_rows)
    if now is not None:
        header["now"] = now
    if query.staleness is not None:
        header["staleness"] = _string_map(query.staleness, "staleness")
    if query.tags is not None:
        header["context"] = {"tags": _strings(query.tags, "tags")}
    header["include_meta"] = _bool(query.include_meta, "include_meta")
    for name, value in (
        ("query_name", query.query_name),
        ("correlation_id", query.correlation_id),
        ("branch_id", branch),
    ):
        if value is not None:
            header[name] = _string(value, name)
    return header, table


def parse_bulk(call: Call, response: Answer, secrets: Iterable[str | None]) -> list[BulkQueryResult]:
    """One result per query of a 200 bulk answer, in request order; errors in it are returned.

    Raises:
        ChalkInvalidResponseError: the body is not a bulk answer (another content type, a byte model
            that does not parse), or it holds a different number of results than queries sent.
    """
    body = response.content
    if not body.startswith(BYTE_MODEL_MAGIC):
        kind = response.headers.get("content-type") or "no content type"
        if kind.split(";", 1)[0].strip().lower() != BINARY:
            raise invalid_response(response, f"expected a bulk answer ({BINARY}), got {kind}")
    answers = decode_response(body, what=call.path, answer=response)
    if len(answers) != call.queries:
        raise invalid_response(
            response, f"the answer holds {len(answers)} result(s) for {call.queries} query(s)"
        )
    shown = tuple(secrets)
    return [bulk_result(answer, shown) for answer in answers]
