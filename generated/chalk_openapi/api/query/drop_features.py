from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.feature_deletion_response import FeatureDeletionResponse
from ...models.feature_drop_request import FeatureDropRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: FeatureDropRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
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

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/v1/features/columns",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | FeatureDeletionResponse | None:
    if response.status_code == 200:
        response_200 = FeatureDeletionResponse.from_dict(response.json())

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
) -> Response[ErrorResponse | FeatureDeletionResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: FeatureDropRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
) -> Response[ErrorResponse | FeatureDeletionResponse]:
    """Delete features' stored values for every entity

     Sent to the API server. Idempotent.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        body (FeatureDropRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | FeatureDeletionResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_branch_id=x_chalk_branch_id,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: FeatureDropRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
) -> ErrorResponse | FeatureDeletionResponse | None:
    """Delete features' stored values for every entity

     Sent to the API server. Idempotent.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        body (FeatureDropRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | FeatureDeletionResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_branch_id=x_chalk_branch_id,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: FeatureDropRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
) -> Response[ErrorResponse | FeatureDeletionResponse]:
    """Delete features' stored values for every entity

     Sent to the API server. Idempotent.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        body (FeatureDropRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | FeatureDeletionResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_branch_id=x_chalk_branch_id,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: FeatureDropRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
) -> ErrorResponse | FeatureDeletionResponse | None:
    """Delete features' stored values for every entity

     Sent to the API server. Idempotent.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        body (FeatureDropRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | FeatureDeletionResponse
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
        )
    ).parsed
