from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.upload_features_request import UploadFeaturesRequest
from ...models.upload_features_response import UploadFeaturesResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: UploadFeaturesRequest,
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
        "url": "/v1/upload_features",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | UploadFeaturesResponse | None:
    if response.status_code == 200:
        response_200 = UploadFeaturesResponse.from_dict(response.json())

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
) -> Response[ErrorResponse | UploadFeaturesResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: UploadFeaturesRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_query_name: str | Unset = UNSET,
) -> Response[ErrorResponse | UploadFeaturesResponse]:
    """Write feature values

     Column lists of equal length, one per feature. Not idempotent: a retry after the request
    may have reached the server could store the rows twice.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_query_name (str | Unset):
        body (UploadFeaturesRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | UploadFeaturesResponse]
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
    body: UploadFeaturesRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_query_name: str | Unset = UNSET,
) -> ErrorResponse | UploadFeaturesResponse | None:
    """Write feature values

     Column lists of equal length, one per feature. Not idempotent: a retry after the request
    may have reached the server could store the rows twice.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_query_name (str | Unset):
        body (UploadFeaturesRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | UploadFeaturesResponse
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
    body: UploadFeaturesRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_query_name: str | Unset = UNSET,
) -> Response[ErrorResponse | UploadFeaturesResponse]:
    """Write feature values

     Column lists of equal length, one per feature. Not idempotent: a retry after the request
    may have reached the server could store the rows twice.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_query_name (str | Unset):
        body (UploadFeaturesRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | UploadFeaturesResponse]
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
    body: UploadFeaturesRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_query_name: str | Unset = UNSET,
) -> ErrorResponse | UploadFeaturesResponse | None:
    """Write feature values

     Column lists of equal length, one per feature. Not idempotent: a retry after the request
    may have reached the server could store the rows twice.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_query_name (str | Unset):
        body (UploadFeaturesRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | UploadFeaturesResponse
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
