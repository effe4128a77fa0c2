"""The public surface: what chalk_client exports, and that each name is documented."""

from __future__ import annotations

import inspect

import chalk_client
import chalk_client.testing

EXPECTED = {
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
    "ChalkEnvironmentError",
    "ChalkInputError",
    "ChalkResultError",
    "ChalkMissingFeatureError",
    "FeatureResult",
    "OnlineQueryResult",
    "QueryMeta",
    "ResolverRun",
    "UploadResult",
    "WhoAmI",
    "USE_CLIENT_DEFAULT",
    "AsyncOfflineQuery",
    "OfflineQuery",
    "OfflineQueryStatus",
    "ChalkOfflineQueryError",
    "ChalkOfflineQueryTimeoutError",
    "ChalkDownloadError",
    "ChalkMissingDependencyError",
    "ChalkClientClosedError",
}


def test_exported_members() -> None:
    assert set(chalk_client.__all__) == EXPECTED
    # "@py_builtins"/"@pytest_ar": pytest rewrites the asserts of a plugin's package, and the plugin
    # module itself (chalk_client.pytest_plugin) is an attribute once pytest has loaded it.
    public = {name for name in dir(chalk_client) if not name.startswith(("_", "@"))}
    assert public <= EXPECTED | {"testing", "pytest_plugin"}, public - EXPECTED
    assert "ChalkServer" in chalk_client.testing.__all__
    for name in chalk_client.testing.__all__:
        assert getattr(chalk_client.testing, name) is not None, name


def test_public_classes_and_their_methods_are_documented() -> None:
    for name in chalk_client.__all__:
        obj = getattr(chalk_client, name)
        if inspect.isclass(obj):
            assert obj.__doc__, name
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and inspect.isfunction(member):
                    assert member.__doc__, f"{name}.{attr}"


def test_version_is_in_the_user_agent() -> None:
    from chalk_client._io.pools import USER_AGENT

    assert f"chalk-client-python/{chalk_client.__version__}" == USER_AGENT
