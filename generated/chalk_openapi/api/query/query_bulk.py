from http import HTTPStatus
from io import BytesIO
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: File,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_query_name: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_chalk_client_id, Unset):
        headers["X-Chalk-Client-Id"] = x_chalk_client_id

    if not isinstance(x_chalk_env_id, Unset):
        headers["X-Chalk-Env-Id"] = x_chalk_env_id

    if not isinstance(x_chalk_deployment_type, Unset):
        headers["X-Chalk-Deployment-Type"] = x_chalk_deployment_type

    if not isinstance(x_chalk_branch_id, Unset):
        headers["X-Chalk-Branch-Id"] = x_chalk_branch_id

    if not isinstance(x_chalk_deployment_tag, Unset):
        headers["X-Chalk-Deployment-Tag"] = x_chalk_deployment_tag

    if not isinstance(x_chalk_query_name, Unset):
        headers["X-Chalk-Query-Name"] = x_chalk_query_name

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/query/feather",
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | File | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

        return response_200

    if 400 <= response.status_code <= 499:
        response_4xx = ErrorResponse.from_dict(response.json())

        return response_4xx

    if 500 <= response.status_code <= 599:
        response_5xx = ErrorResponse.from_dict(response.json())

        return response_5xx

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorResponse | File]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: File,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_query_name: str | Unset = UNSET,
) -> Response[ErrorResponse | File]:
    """Compute feature values for many rows, or several queries, in one call (Arrow)

     A bulk online query, routed like `query_online` (query server, else the environment's
    engine, else the API server; with a branch, the API server). The body and the answer are
    binary; their byte format is the contract, tested both ways (`chalk_client._api.feather`
    writes and reads it, `chalk_client.testing._feather` is the server's half):

    - request: the ASCII bytes `chal1`, then for each query (one for `query_bulk`, several for
      `multi_query`) an unsigned 64-bit big-endian header length, the header (a UTF-8 JSON
      object: every field of an online query but the inputs, e.g. `outputs`, `now` as a list
      of ISO 8601 strings, `staleness`, `context`, `include_meta`, `query_name`,
      `correlation_id`, `branch_id`, `response_compression_scheme`), a u64 body length and the
      body (an Arrow IPC file or stream of the input table, one column per feature). Nothing
      follows the last query. Official clients label this body `application/json`; the server
      must accept either label.
    - answer: a "byte model": `CHALK_BYTE_TRANSMISSION`, then four sections, each a u64
      length and a JSON object: plain attributes, pydantic attributes, a map of item byte
      lengths followed by the items, and the same for nested models. `query_results_bytes`
      nests one model per query, keyed `"0"`..`"n-1"`, each with `has_data`, `errors`
      (JSON-encoded ChalkError strings), `meta`, the item `scalar_data` (Arrow IPC, LZ4 by
      default) and the nested `groups_data` (`{has_many_fqn: Arrow IPC}`).

    Errors for single queries come back inside the 200 answer; a request that does not parse
    is a 400 with the JSON error body.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_query_name (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | File]
    """

    kwargs = _get_kwargs(
        body=body,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_branch_id=x_chalk_branch_id,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
        x_chalk_query_name=x_chalk_query_name,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: File,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_query_name: str | Unset = UNSET,
) -> ErrorResponse | File | None:
    """Compute feature values for many rows, or several queries, in one call (Arrow)

     A bulk online query, routed like `query_online` (query server, else the environment's
    engine, else the API server; with a branch, the API server). The body and the answer are
    binary; their byte format is the contract, tested both ways (`chalk_client._api.feather`
    writes and reads it, `chalk_client.testing._feather` is the server's half):

    - request: the ASCII bytes `chal1`, then for each query (one for `query_bulk`, several for
      `multi_query`) an unsigned 64-bit big-endian header length, the header (a UTF-8 JSON
      object: every field of an online query but the inputs, e.g. `outputs`, `now` as a list
      of ISO 8601 strings, `staleness`, `context`, `include_meta`, `query_name`,
      `correlation_id`, `branch_id`, `response_compression_scheme`), a u64 body length and the
      body (an Arrow IPC file or stream of the input table, one column per feature). Nothing
      follows the last query. Official clients label this body `application/json`; the server
      must accept either label.
    - answer: a "byte model": `CHALK_BYTE_TRANSMISSION`, then four sections, each a u64
      length and a JSON object: plain attributes, pydantic attributes, a map of item byte
      lengths followed by the items, and the same for nested models. `query_results_bytes`
      nests one model per query, keyed `"0"`..`"n-1"`, each with `has_data`, `errors`
      (JSON-encoded ChalkError strings), `meta`, the item `scalar_data` (Arrow IPC, LZ4 by
      default) and the nested `groups_data` (`{has_many_fqn: Arrow IPC}`).

    Errors for single queries come back inside the 200 answer; a request that does not parse
    is a 400 with the JSON error body.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_query_name (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | File
    """

    return sync_detailed(
        client=client,
        body=body,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_branch_id=x_chalk_branch_id,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
        x_chalk_query_name=x_chalk_query_name,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: File,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_query_name: str | Unset = UNSET,
) -> Response[ErrorResponse | File]:
    """Compute feature values for many rows, or several queries, in one call (Arrow)

     A bulk online query, routed like `query_online` (query server, else the environment's
    engine, else the API server; with a branch, the API server). The body and the answer are
    binary; their byte format is the contract, tested both ways (`chalk_client._api.feather`
    writes and reads it, `chalk_client.testing._feather` is the server's half):

    - request: the ASCII bytes `chal1`, then for each query (one for `query_bulk`, several for
      `multi_query`) an unsigned 64-bit big-endian header length, the header (a UTF-8 JSON
      object: every field of an online query but the inputs, e.g. `outputs`, `now` as a list
      of ISO 8601 strings, `staleness`, `context`, `include_meta`, `query_name`,
      `correlation_id`, `branch_id`, `response_compression_scheme`), a u64 body length and the
      body (an Arrow IPC file or stream of the input table, one column per feature). Nothing
      follows the last query. Official clients label this body `application/json`; the server
      must accept either label.
    - answer: a "byte model": `CHALK_BYTE_TRANSMISSION`, then four sections, each a u64
      length and a JSON object: plain attributes, pydantic attributes, a map of item byte
      lengths followed by the items, and the same for nested models. `query_results_bytes`
      nests one model per query, keyed `"0"`..`"n-1"`, each with `has_data`, `errors`
      (JSON-encoded ChalkError strings), `meta`, the item `scalar_data` (Arrow IPC, LZ4 by
      default) and the nested `groups_data` (`{has_many_fqn: Arrow IPC}`).

    Errors for single queries come back inside the 200 answer; a request that does not parse
    is a 400 with the JSON error body.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_query_name (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | File]
    """

    kwargs = _get_kwargs(
        body=body,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_branch_id=x_chalk_branch_id,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
        x_chalk_query_name=x_chalk_query_name,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: File,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_query_name: str | Unset = UNSET,
) -> ErrorResponse | File | None:
    """Compute feature values for many rows, or several queries, in one call (Arrow)

     A bulk online query, routed like `query_online` (query server, else the environment's
    engine, else the API server; with a branch, the API server). The body and the answer are
    binary; their byte format is the contract, tested both ways (`chalk_client._api.feather`
    writes and reads it, `chalk_client.testing._feather` is the server's half):

    - request: the ASCII bytes `chal1`, then for each query (one for `query_bulk`, several for
      `multi_query`) an unsigned 64-bit big-endian header length, the header (a UTF-8 JSON
      object: every field of an online query but the inputs, e.g. `outputs`, `now` as a list
      of ISO 8601 strings, `staleness`, `context`, `include_meta`, `query_name`,
      `correlation_id`, `branch_id`, `response_compression_scheme`), a u64 body length and the
      body (an Arrow IPC file or stream of the input table, one column per feature). Nothing
      follows the last query. Official clients label this body `application/json`; the server
      must accept either label.
    - answer: a "byte model": `CHALK_BYTE_TRANSMISSION`, then four sections, each a u64
      length and a JSON object: plain attributes, pydantic attributes, a map of item byte
      lengths followed by the items, and the same for nested models. `query_results_bytes`
      nests one model per query, keyed `"0"`..`"n-1"`, each with `has_data`, `errors`
      (JSON-encoded ChalkError strings), `meta`, the item `scalar_data` (Arrow IPC, LZ4 by
      default) and the nested `groups_data` (`{has_many_fqn: Arrow IPC}`).

    Errors for single queries come back inside the 200 answer; a request that does not parse
    is a 400 with the JSON error body.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_query_name (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | File
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            x_chalk_client_id=x_chalk_client_id,
            x_chalk_env_id=x_chalk_env_id,
            x_chalk_deployment_type=x_chalk_deployment_type,
            x_chalk_branch_id=x_chalk_branch_id,
            x_chalk_deployment_tag=x_chalk_deployment_tag,
            x_chalk_query_name=x_chalk_query_name,
        )
    ).parsed
