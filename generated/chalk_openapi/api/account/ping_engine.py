from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.ping_request import PingRequest
from ...models.ping_response import PingResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: PingRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_server: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_chalk_client_id, Unset):
        headers["X-Chalk-Client-Id"] = x_chalk_client_id

    if not isinstance(x_chalk_env_id, Unset):
        headers["X-Chalk-Env-Id"] = x_chalk_env_id

    if not isinstance(x_chalk_deployment_type, Unset):
        headers["X-Chalk-Deployment-Type"] = x_chalk_deployment_type

    if not isinstance(x_chalk_deployment_tag, Unset):
        headers["X-Chalk-Deployment-Tag"] = x_chalk_deployment_tag

    if not isinstance(x_chalk_server, Unset):
        headers["X-Chalk-Server"] = x_chalk_server

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/ping",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | PingResponse | None:
    if response.status_code == 200:
        response_200 = PingResponse.from_dict(response.json())

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
) -> Response[ErrorResponse | PingResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PingRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_server: str | Unset = UNSET,
) -> Response[ErrorResponse | PingResponse]:
    """Check that the environment's engine answers

     A data-plane call, always to the engine (the query server, else the environment's engine),
    never to a branch. It answers the number it was sent.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_server (str | Unset):
        body (PingRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | PingResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
        x_chalk_server=x_chalk_server,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: PingRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_server: str | Unset = UNSET,
) -> ErrorResponse | PingResponse | None:
    """Check that the environment's engine answers

     A data-plane call, always to the engine (the query server, else the environment's engine),
    never to a branch. It answers the number it was sent.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_server (str | Unset):
        body (PingRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | PingResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
        x_chalk_server=x_chalk_server,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PingRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_server: str | Unset = UNSET,
) -> Response[ErrorResponse | PingResponse]:
    """Check that the environment's engine answers

     A data-plane call, always to the engine (the query server, else the environment's engine),
    never to a branch. It answers the number it was sent.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_server (str | Unset):
        body (PingRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | PingResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        x_chalk_client_id=x_chalk_client_id,
        x_chalk_env_id=x_chalk_env_id,
        x_chalk_deployment_type=x_chalk_deployment_type,
        x_chalk_deployment_tag=x_chalk_deployment_tag,
        x_chalk_server=x_chalk_server,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: PingRequest,
    x_chalk_client_id: str | Unset = UNSET,
    x_chalk_env_id: str | Unset = UNSET,
    x_chalk_deployment_type: str | Unset = UNSET,
    x_chalk_deployment_tag: str | Unset = UNSET,
    x_chalk_server: str | Unset = UNSET,
) -> ErrorResponse | PingResponse | None:
    """Check that the environment's engine answers

     A data-plane call, always to the engine (the query server, else the environment's engine),
    never to a branch. It answers the number it was sent.

    Args:
        x_chalk_client_id (str | Unset):
        x_chalk_env_id (str | Unset):
        x_chalk_deployment_type (str | Unset):
        x_chalk_deployment_tag (str | Unset):
        x_chalk_server (str | Unset):
        body (PingRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | PingResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            x_chalk_client_id=x_chalk_client_id,
            x_chalk_env_id=x_chalk_env_id,
            x_chalk_deployment_type=x_chalk_deployment_type,
            x_chalk_deployment_tag=x_chalk_deployment_tag,
            x_chalk_server=x_chalk_server,
        )
    ).parsed
