"""chalk_client: a typed Python client for the Chalk feature store, on httpx.

Quickstart::

    from chalk_client import ChalkClient

    with ChalkClient() as client:  # credentials from arguments, CHALK_* variables or `chalk login`
        token = client.get_token()

``AsyncChalkClient`` is the same with ``await``. Every exception derives from ``ChalkSDKError``.
"""

from chalk_client._client import AsyncChalkClient, ChalkClient
from chalk_client._config import DEFAULT_API_SERVER, ChalkClientConfig
from chalk_client._errors import (
    ChalkAPIStatusError,
    ChalkAuthenticationError,
    ChalkBadRequestError,
    ChalkConfigError,
    ChalkConflictError,
    ChalkConnectionError,
    ChalkInvalidResponseError,
    ChalkNotFoundError,
    ChalkPermissionDeniedError,
    ChalkRateLimitError,
    ChalkSDKError,
    ChalkServerError,
    ChalkTimeoutError,
    ChalkUnavailableError,
    ChalkUnprocessableEntityError,
)
from chalk_client._token import Clock, SystemClock, Token, TokenState
from chalk_client._version import __version__

__all__ = [
    "DEFAULT_API_SERVER",
    "AsyncChalkClient",
    "ChalkAPIStatusError",
    "ChalkAuthenticationError",
    "ChalkBadRequestError",
    "ChalkClient",
    "ChalkClientConfig",
    "ChalkConfigError",
    "ChalkConflictError",
    "ChalkConnectionError",
    "ChalkInvalidResponseError",
    "ChalkNotFoundError",
    "ChalkPermissionDeniedError",
    "ChalkRateLimitError",
    "ChalkSDKError",
    "ChalkServerError",
    "ChalkTimeoutError",
    "ChalkUnavailableError",
    "ChalkUnprocessableEntityError",
    "Clock",
    "SystemClock",
    "Token",
    "TokenState",
    "__version__",
]
