"""Messages that say what went wrong and how to fix it: a missing feature, ChalkServer without pyarrow."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from chalk_client import ChalkMissingFeatureError, ChalkServerError
from chalk_client._api.results import OnlineQueryResult
from chalk_client.testing import ChalkServer
from tests.conftest import ClientUnderTest

_SUBPROCESS_TIMEOUT = 60


@pytest.fixture
def server() -> Iterator[ChalkServer]:
    with ChalkServer(offline_duration=0) as server:
        yield server


@pytest.fixture
def client_kind() -> str:
    """These messages do not depend on the client: checked on the sync one."""
    return "sync"


@pytest.fixture
def client_options(server: ChalkServer) -> dict[str, Any]:
    return {"server": server}


# ---------------------------------------------------------------------------------------------------
# A feature the answer does not hold


def test_a_misspelled_output_says_the_server_found_no_resolver(client: ClientUnderTest) -> None:
    result = client("query", {"user.id": 1}, ["user.nmae", "user.name"])
    with pytest.raises(ChalkMissingFeatureError) as caught:
        result.get_value("user.nmae")
    message = str(caught.value)
    assert "RESOLVER_NOT_FOUND" in message
    assert "no resolver computes the feature 'user.nmae'" in message  # the server's own words
    assert "Did you mean 'user.name'?" in message
    assert caught.value.feature == "user.nmae"
    assert caught.value.error is not None
    assert getattr(caught.value.error.code, "value", None) == "RESOLVER_NOT_FOUND"
    assert caught.value.suggestions[0] == "user.name"
    assert isinstance(caught.value, KeyError)
    with pytest.raises(ChalkMissingFeatureError, match="RESOLVER_NOT_FOUND"):
        result.get("user.nmae")


def test_a_misspelled_read_suggests_the_outputs_it_resembles(client: ClientUnderTest) -> None:
    result = client("query", {"user.id": 1}, ["user.name", "user.credit_score"])
    with pytest.raises(ChalkMissingFeatureError) as caught:
        result.get_value("user.credit_scroe")
    message = str(caught.value)
    assert "the query did not ask for it" in message
    assert "Did you mean 'user.credit_score'?" in message
    assert "RESOLVER_NOT_FOUND" not in message
    assert result.get_value("user.credit_scroe", None) is None  # a default still wins


def test_suggestions_come_from_the_query_outputs_when_the_answer_left_one_out() -> None:
    # The server answered without user.name (and said nothing about it): the outputs still know it.
    result = OnlineQueryResult([{"field": "user.age", "value": 3}], outputs=("user.name", "user.age"))
    with pytest.raises(ChalkMissingFeatureError) as caught:
        result.get_value("user.nam")
    assert caught.value.suggestions == ["user.name"]
    assert str(caught.value).endswith("Did you mean 'user.name'? The answer has: user.age.")


def test_nothing_close_suggests_nothing() -> None:
    result = OnlineQueryResult([{"field": "user.age", "value": 3}], outputs=("user.age",))
    with pytest.raises(ChalkMissingFeatureError) as caught:
        result.get_value("account.balance")
    assert caught.value.suggestions == []
    assert "Did you mean" not in str(caught.value)
    assert str(caught.value) == (
        "the answer has no feature 'account.balance': the query did not ask for it. The answer has: user.age."
    )


# ---------------------------------------------------------------------------------------------------
# ChalkServer with uvicorn, without pyarrow


def test_an_offline_query_without_pyarrow_fails_at_submit_naming_the_extra(
    server: ChalkServer, client: ClientUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import pyarrow` fail, in the server's thread too.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ChalkServerError) as caught:
        client("offline_query", {"user.id": [1, 2]}, ["user.name"])
    message = str(caught.value)
    assert caught.value.status_code == 501
    assert "pip install 'chalk-client[testing]'" in message
    assert "pyarrow" in message
    assert caught.value.attempts == 1  # refused at once, not retried, not a timeout later
    assert server.offline_jobs == []  # no job that could never finish


def test_importing_chalk_client_testing_without_uvicorn_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['uvicorn'] = None\n"
        "try:\n"
        "    import chalk_client.testing\n"
        "except ImportError as err:\n"
        "    print(type(err).__name__, err.name, '|', err)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=_SUBPROCESS_TIMEOUT,
        env={**os.environ, "PYTHONWARNINGS": ""},
    )
    assert done.returncode == 0, done.stderr
    kind, name, _, message = done.stdout.split(" ", 3)
    assert (kind, name) == ("ChalkMissingDependencyError", "uvicorn")
    assert "the testing extra" in message
    assert "pip install 'chalk-client[testing]'" in message
    assert "pip install uvicorn" not in message
