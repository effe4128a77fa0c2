"""chalk_client: a typed Python client for the Chalk feature store (httpx types; urllib3 and aiohttp transports).

Quickstart::

    from chalk_client import ChalkClient

    with ChalkClient() as client:  # credentials from arguments, CHALK_* variables or `chalk login`
        result = client.query(input={"user.id": 1}, output=["user.name", "user.credit_score"])
        print(result.get_value("user.name"), result.errors)

``AsyncChalkClient`` is the same with ``await``. Every exception derives from ``ChalkSDKError``.
"""

import typing as _typing

from chalk_client._api.results import (
    Branch,
    ChalkMissingFeatureError,
    FeatureResult,
    OnlineQueryResult,
    QueryMeta,
    ResolverRun,
    UploadResult,
    WhoAmI,
)
from chalk_client._async_client import AsyncChalkClient
from chalk_client._client import ChalkClient
from chalk_client._core.config import ChalkClientConfig, describe_network
from chalk_client._core.defaults import USE_CLIENT_DEFAULT
from chalk_client._core.errors import (
    ChalkAPIStatusError,
    ChalkAuthenticationError,
    ChalkBadRequestError,
    ChalkClientClosedError,
    ChalkConfigError,
    ChalkConflictError,
    ChalkConnectionError,
    ChalkDownloadError,
    ChalkEnvironmentError,
    ChalkInputError,
    ChalkInvalidResponseError,
    ChalkMissingDependencyError,
    ChalkNotFoundError,
    ChalkOfflineQueryError,
    ChalkOfflineQueryTimeoutError,
    ChalkPermissionDeniedError,
    ChalkRateLimitError,
    ChalkResultError,
    ChalkSDKError,
    ChalkServerError,
    ChalkTimeoutError,
    ChalkUnavailableError,
    ChalkUnprocessableEntityError,
    describe_chalk_error,
)
from chalk_client._core.server_errors import (
    ChalkErrorCategory,
    ChalkErrorCode,
    ChalkExceptionInfo,
    ChalkServerErrorInfo,
)
from chalk_client._core.token import Clock, SystemClock, Token, TokenState
from chalk_client._core.urls import DEFAULT_API_SERVER
from chalk_client._version import __version__

if _typing.TYPE_CHECKING:
    from chalk_client._api.bulk_results import BulkQuery, BulkQueryResult
    from chalk_client._api.offline_calls import OfflineQueryStatus
    from chalk_client._async_jobs import AsyncOfflineQuery
    from chalk_client._jobs import OfflineQuery

# Offline and bulk queries load on first use (about a tenth of `import chalk_client`, which most
# services never need): these names resolve here when first asked for.
_LAZY: _typing.Final = {
    "OfflineQuery": "chalk_client._jobs",
    "AsyncOfflineQuery": "chalk_client._async_jobs",
    "OfflineQueryStatus": "chalk_client._api.offline_calls",
    "BulkQuery": "chalk_client._api.bulk_results",
    "BulkQueryResult": "chalk_client._api.bulk_results",
}


def __getattr__(name: str) -> _typing.Any:  # noqa: ANN401 - one of the classes that load on use
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chalk_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_API_SERVER",
    "USE_CLIENT_DEFAULT",
    "AsyncChalkClient",
    "AsyncOfflineQuery",
    "Branch",
    "BulkQuery",
    "BulkQueryResult",
    "ChalkAPIStatusError",
    "ChalkAuthenticationError",
    "ChalkBadRequestError",
    "ChalkClient",
    "ChalkClientClosedError",
    "ChalkClientConfig",
    "ChalkConfigError",
    "ChalkConflictError",
    "ChalkConnectionError",
    "ChalkDownloadError",
    "ChalkEnvironmentError",
    "ChalkErrorCategory",
    "ChalkErrorCode",
    "ChalkExceptionInfo",
    "ChalkInputError",
    "ChalkInvalidResponseError",
    "ChalkMissingDependencyError",
    "ChalkMissingFeatureError",
    "ChalkNotFoundError",
    "ChalkOfflineQueryError",
    "ChalkOfflineQueryTimeoutError",
    "ChalkPermissionDeniedError",
    "ChalkRateLimitError",
    "ChalkResultError",
    "ChalkSDKError",
    "ChalkServerError",
    "ChalkServerErrorInfo",
    "ChalkTimeoutError",
    "ChalkUnavailableError",
    "ChalkUnprocessableEntityError",
    "Clock",
    "FeatureResult",
    "OfflineQuery",
    "OfflineQueryStatus",
    "OnlineQueryResult",
    "QueryMeta",
    "ResolverRun",
    "SystemClock",
    "Token",
    "TokenState",
    "UploadResult",
    "WhoAmI",
    "__version__",
    "describe_chalk_error",
    "describe_network",
]
