"""Every way the token exchange can fail maps to one documented SDK error, on both clients."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import chalk_client
from chalk_client import (
    ChalkAPIStatusError,
    ChalkAuthenticationError,
    ChalkBadRequestError,
    ChalkConnectionError,
    ChalkInvalidResponseError,
    ChalkSDKError,
    ChalkServerError,
    ChalkTimeoutError,
    ChalkUnavailableError,
)
from tests.conftest import SECRET, ClientUnderTest, FakeClock, client_kwargs, json_response, raw_response

TOKEN_URL = "https://api.chalk.test/v1/oauth/token"
HTML_502 = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def get_token_with(
    make_client: Callable[..., ClientUnderTest], handler: Callable[[httpx.Request], Any], **extra: Any
) -> Any:
    """Run one get_token() on the client under test against `handler`."""
    return make_client(handler=handler, **extra)("get_token")


@pytest.fixture
def client_options(clock: FakeClock) -> dict[str, Any]:
    """The clients here run on httpx.MockTransport: each test passes ``handler=``."""
    return {"clock": clock}


ERROR_BODY = {
    "detail": "bad things",
    "trace": "trace-123",
    "errors": [
        {"code": "UNAUTHENTICATED", "category": "REQUEST", "message": "no"},
        {"code": "A_CODE_FROM_THE_FUTURE", "category": "SOMETHING_NEW", "message": "still parses"},
        {"not": "a chalk error"},
    ],
}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ChalkBadRequestError),
        (401, ChalkAuthenticationError),
        (403, ChalkAuthenticationError),  # on the token exchange, 403 also means "credentials rejected"
        (500, ChalkServerError),
        (503, ChalkServerError),
    ],
)
def test_status_mapping(
    make_client: Callable[..., ClientUnderTest], status: int, cls: type[ChalkAPIStatusError]
) -> None:
    with pytest.raises(cls) as info:
        get_token_with(make_client, json_response(status, ERROR_BODY))
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.detail == "bad things"
    assert err.trace == "trace-123"
    assert err.method == "POST"
    assert err.url == TOKEN_URL
    codes = [getattr(e.code, "value", e.code) for e in err.errors]
    assert codes == ["UNAUTHENTICATED", "A_CODE_FROM_THE_FUTURE"]  # the malformed one is skipped
    assert "trace-123" in str(err)
    assert str(status) in str(err)


def test_retry_later_is_distinguishable_from_fix_your_credentials(
    make_client: Callable[..., ClientUnderTest],
) -> None:
    with pytest.raises(ChalkUnavailableError):
        get_token_with(make_client, json_response(500, ERROR_BODY))
    with pytest.raises(ChalkAuthenticationError) as info:
        get_token_with(make_client, json_response(401, ERROR_BODY))
    assert not isinstance(info.value, ChalkUnavailableError)


def test_502_html_page(make_client: Callable[..., ClientUnderTest]) -> None:
    with pytest.raises(ChalkServerError) as info:
        get_token_with(make_client, raw_response(502, HTML_502, "text/html"))
    assert info.value.status_code == 502
    assert "502 Bad Gateway" in str(info.value)
    assert "<body>" not in str(info.value)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (raw_response(200, b"{not json", "application/json"), "not JSON"),
        (raw_response(200, HTML_502, "text/html"), "HTML page"),
        (raw_response(200, b"", "application/json"), "not JSON"),
        (json_response(200, ["a", "list"]), "expected a JSON object"),
        (json_response(200, {"token_type": "Bearer", "expires_in": 60}), "'access_token' is missing"),
        (json_response(200, {"access_token": 12345}), "'access_token' is missing"),
        (json_response(200, {"access_token": ""}), "'access_token' is missing"),
    ],
)
def test_answers_that_do_not_parse(
    make_client: Callable[..., ClientUnderTest], answer: Any, reason: str
) -> None:
    with pytest.raises(ChalkInvalidResponseError) as info:
        get_token_with(make_client, answer)
    err = info.value
    assert reason in str(err)
    assert err.status_code == 200
    assert err.url == TOKEN_URL
    assert "POST https://api.chalk.test/v1/oauth/token" in str(err)
    assert err.__cause__ is None  # no raw JSONDecodeError or KeyError chained in


def test_redirect_is_not_followed(make_client: Callable[..., ClientUnderTest]) -> None:
    with pytest.raises(ChalkAPIStatusError) as info:
        get_token_with(make_client, lambda r: httpx.Response(307, headers={"location": "https://evil.test/"}))
    assert info.value.status_code == 307
    assert "https://evil.test/" in str(info.value)
    assert "not followed" in str(info.value)


def test_timeout(make_client: Callable[..., ClientUnderTest]) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ChalkTimeoutError) as info:
        get_token_with(make_client, slow)
    assert isinstance(info.value, ChalkUnavailableError)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert TOKEN_URL in str(info.value)


def test_connection_refused(make_client: Callable[..., ClientUnderTest], clock: FakeClock) -> None:
    with socket.socket() as s:  # a port that was free a moment ago and has no listener now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kwargs = client_kwargs(clock, api_server=f"http://127.0.0.1:{port}")
    with pytest.raises(ChalkConnectionError) as info:
        make_client(**kwargs)("get_token")
    assert not isinstance(info.value, ChalkTimeoutError)
    assert "could not connect" in str(info.value)
    assert f"127.0.0.1:{port}" in str(info.value)


def test_server_text_is_redacted_of_the_secret(make_client: Callable[..., ClientUnderTest]) -> None:
    body = {"detail": f"client_secret {SECRET} is wrong", "trace": "t"}
    with pytest.raises(ChalkAuthenticationError) as info:
        get_token_with(make_client, json_response(401, body))
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
    assert "[REDACTED]" in str(info.value)


def test_plain_text_error_body(make_client: Callable[..., ClientUnderTest]) -> None:
    with pytest.raises(ChalkServerError) as info:
        get_token_with(make_client, raw_response(500, b"upstream connect error"))
    assert info.value.detail == "upstream connect error"


def test_rate_limited_exchange_carries_retry_after(make_client: Callable[..., ClientUnderTest]) -> None:
    answer = json_response(429, {"detail": "slow down"}, headers={"Retry-After": "7"})
    with pytest.raises(chalk_client.ChalkRateLimitError) as info:
        get_token_with(make_client, answer)
    assert info.value.retry_after == 7.0


def test_every_error_class_derives_from_the_root() -> None:
    for name in chalk_client.__all__:
        obj = getattr(chalk_client, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, ChalkSDKError), name


# ---------------------------------------------------------------------------------------------------
# Rejected credentials: which client id, from where, and where to look


@pytest.mark.parametrize("status", [400, 401, 403])
def test_rejected_credentials_name_the_client_id_and_its_source(
    make_client: Callable[..., ClientUnderTest], status: int
) -> None:
    config = chalk_client.ChalkClientConfig.resolve(
        api_server="https://api.chalk.test",
        environ={"CHALK_CLIENT_ID": "abc", "_CHALK_CLIENT_SECRET": SECRET},
    )
    with pytest.raises(ChalkAPIStatusError) as info:
        get_token_with(
            make_client,
            json_response(status, ERROR_BODY),
            config=config,
            client_id=None,
            client_secret=None,
            api_server=None,
        )
    message = str(info.value)
    assert "client id 'abc' (from CHALK_CLIENT_ID)" in message
    assert "the client secret from _CHALK_CLIENT_SECRET" in message
    assert "https://api.chalk.test (from the api_server= argument)" in message
    assert "`chalk-client config`" in message
    assert info.value.hint is not None
    assert info.value.hint in message
    assert SECRET not in message
    assert "bad things" in message  # the server's own words are still there, first


def test_a_server_error_on_the_exchange_gets_no_credentials_hint(
    make_client: Callable[..., ClientUnderTest],
) -> None:
    with pytest.raises(ChalkServerError) as info:
        get_token_with(make_client, json_response(500, ERROR_BODY))
    assert info.value.hint is None
    assert "client id" not in str(info.value)


def test_the_hint_never_shows_a_secret_that_the_client_id_contains(
    client_factory: Callable[..., ClientUnderTest], clock: FakeClock
) -> None:
    client = client_factory(
        "sync", handler=json_response(401, ERROR_BODY), clock=clock, client_id=f"id-{SECRET}"
    )
    with pytest.raises(ChalkAuthenticationError) as info:
        client("get_token")
    assert SECRET not in str(info.value)
    assert "client id 'id-********'" in str(info.value)
