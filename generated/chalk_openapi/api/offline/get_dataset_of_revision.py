from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.dataset_response import DatasetResponse
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    revision_id: str,
    *,
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
        "method": "get",
        "url": "/v4/offline_query/{revision_id}".format(
            revision_id=quote(str(revision_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DatasetResponse | ErrorResponse | None:
    if response.status_code == 200:
        response_200 = DatasetResponse.from_dict(response.json())

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
) -> Response[DatasetResponse | ErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    revision_id: str,
    *,
    client: AuthenticatedClient | Client,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
) -> Response[DatasetResponse | ErrorResponse]:
    """The dataset a revision (a job) belongs to

     Sent to the API server, without a branch. The revision id is the job id.

    Args:
        revision_id (str):
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DatasetResponse | ErrorResponse]
    """

    kwargs = _get_kwargs(
        revision_id=revision_id,
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
    revision_id: str,
    *,
    client: AuthenticatedClient | Client,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
) -> DatasetResponse | ErrorResponse | None:
    """The dataset a revision (a job) belongs to

     Sent to the API server, without a branch. The revision id is the job id.

    Args:
        revision_id (str):
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DatasetResponse | ErrorResponse
    """

    return sync_detailed(
        revision_id=revision_id,
        client=client,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_branch_id=x_chalk_branch_id,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
    ).parsed


async def asyncio_detailed(
    revision_id: str,
    *,
    client: AuthenticatedClient | Client,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
) -> Response[DatasetResponse | ErrorResponse]:
    """The dataset a revision (a job) belongs to

     Sent to the API server, without a branch. The revision id is the job id.

    Args:
        revision_id (str):
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DatasetResponse | ErrorResponse]
    """

    kwargs = _get_kwargs(
        revision_id=revision_id,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_branch_id=x_chalk_branch_id,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    revision_id: str,
    *,
    client: AuthenticatedClient | Client,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_branch_id: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
) -> DatasetResponse | ErrorResponse | None:
    """The dataset a revision (a job) belongs to

     Sent to the API server, without a branch. The revision id is the job id.

    Args:
        revision_id (str):
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_branch_id (str | Unset):
        x_chalk_deployment_tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DatasetResponse | ErrorResponse
    """

    return (
        await asyncio_detailed(
            revision_id=revision_id,
            client=client,
            x_chalk_client_id=x_chalk_client_id,
            x_chalk_env_id=x_chalk_env_id,
            x_chalk_deployment_type=x_chalk_deployment_type,
            x_chalk_branch_id=x_chalk_branch_id,
            x_chalk_deployment_tag=x_chalk_deployment_tag,
        )
    ).parsed
