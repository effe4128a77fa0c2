"""The public surface: what chalk_client exports, and that each name is documented."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import chalk_client
import chalk_client.testing

EXPECTED = {
    "DEFAULT_API_SERVER",
    "AsyncChalkClient",
    "Branch",
    "BulkQuery",
    "BulkQueryResult",
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
    "describe_chalk_error",
    "ChalkErrorCategory",
    "ChalkErrorCode",
    "ChalkExceptionInfo",
    "ChalkServerErrorInfo",
    "describe_network",
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
                function = member.__func__ if isinstance(member, classmethod | staticmethod) else member
                if not attr.startswith("_") and inspect.isfunction(function):
                    assert function.__doc__, f"{name}.{attr}"
        elif inspect.isfunction(obj):
            assert obj.__doc__, name
            assert "return" in obj.__annotations__, name


def test_describe_network_names_the_proxy_masked_and_the_ca_source(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    environ = {"HTTPS_PROXY": "http://someone:hunter2@proxy.internal:3128", "SSL_CERT_FILE": str(ca)}
    assert chalk_client.describe_network(environ=environ) == {
        "proxy": "http://****:****@proxy.internal:3128 (from HTTPS_PROXY)",
        "ca": f"SSL_CERT_FILE={ca}",
    }
    assert chalk_client.describe_network("https://api.chalk.ai", environ={}) == {
        "proxy": "none",
        "ca": "certifi's bundle (the default)",
    }
    with pytest.raises(chalk_client.ChalkConfigError, match="SSL_CERT_FILE"):
        chalk_client.describe_network(environ={"SSL_CERT_FILE": str(tmp_path / "absent.pem")})


def test_describe_chalk_error_is_one_line_naming_only_what_the_error_has() -> None:
    full = chalk_client.ChalkServerErrorInfo(
        code=chalk_client.ChalkErrorCode.RESOLVER_FAILED,
        message="boom",
        feature="user.credit_score",
        resolver="get_credit_score",
        primary_key="3",
    )
    assert chalk_client.describe_chalk_error(full) == (
        "RESOLVER_FAILED (user.credit_score, get_credit_score, key 3): boom"
    )
    assert (
        chalk_client.describe_chalk_error(chalk_client.ChalkServerErrorInfo(code="X", message="m")) == "X: m"
    )


def test_a_server_error_is_the_sdks_frozen_type_with_a_repr_of_what_is_set() -> None:
    from chalk_openapi.models import ChalkError, ChalkException, ErrorCategory, ErrorCode

    from chalk_client._core.server_errors import from_generated

    parsed = from_generated(
        ChalkError(
            code=ErrorCode.RESOLVER_FAILED,
            message="boom",
            category=ErrorCategory.FIELD,
            feature="user.credit_score",
            exception=ChalkException(kind="ZeroDivisionError", message="division by zero"),
        )
    )
    assert type(parsed) is chalk_client.ChalkServerErrorInfo
    assert parsed.code is chalk_client.ChalkErrorCode.RESOLVER_FAILED
    assert parsed.code == "RESOLVER_FAILED"
    assert parsed.category is chalk_client.ChalkErrorCategory.FIELD
    assert parsed.resolver is None
    assert parsed.primary_key is None
    assert parsed.exception == chalk_client.ChalkExceptionInfo("ZeroDivisionError", "division by zero")
    assert repr(parsed) == (
        "ChalkServerErrorInfo(code='RESOLVER_FAILED', message='boom', category='FIELD', "
        "feature='user.credit_score', exception=ChalkExceptionInfo(kind='ZeroDivisionError', "
        "message='division by zero'))"
    )
    assert "Unset" not in repr(parsed)
    assert "chalk_openapi" not in repr(parsed)
    with pytest.raises(AttributeError):
        parsed.message = "changed"  # type: ignore[misc]
    assert parsed.to_dict() == {
        "code": "RESOLVER_FAILED",
        "message": "boom",
        "category": "FIELD",
        "feature": "user.credit_score",
        "exception": {"kind": "ZeroDivisionError", "message": "division by zero"},
    }


def test_a_code_the_spec_does_not_name_stays_the_servers_string() -> None:
    from chalk_openapi.models import ChalkError

    from chalk_client._core.server_errors import from_generated

    parsed = from_generated(
        ChalkError.from_dict({"code": "BRAND_NEW", "message": "m", "category": "ELSEWHERE"})
    )
    assert parsed.code == "BRAND_NEW"
    assert type(parsed.code) is str
    assert parsed.category == "ELSEWHERE"
    assert type(parsed.category) is str


def test_the_sdk_error_enums_name_exactly_the_specs_values() -> None:
    from chalk_openapi.models import ErrorCategory, ErrorCode

    assert {m.value for m in chalk_client.ChalkErrorCode} == {m.value for m in ErrorCode}
    assert {m.value for m in chalk_client.ChalkErrorCategory} == {m.value for m in ErrorCategory}


def test_the_public_helpers_keep_import_chalk_client_lean() -> None:
    # describe_network loads the proxy/TLS module (attrs classes) only when it is called.
    code = (
        "import sys, chalk_client\n"
        "assert 'chalk_client._core.network' not in sys.modules\n"
        "chalk_client.describe_network(environ={})\n"
        "assert 'chalk_client._core.network' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_version_is_in_the_user_agent() -> None:
    from chalk_client._core.defaults import USER_AGENT

    assert f"chalk-client-python/{chalk_client.__version__}" == USER_AGENT
