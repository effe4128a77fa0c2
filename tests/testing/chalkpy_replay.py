"""The ChalkServer that chalkpy's recorded requests are replayed against, and a token on it.

chalkpy was recorded as client ``client-id`` in environment ``dev`` (by name, as it sends it), so
the server knows that client and an environment whose id is its name.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from chalk_client.testing import ChalkServer
from tests.conftest import ServerClock

RECORDED_CLIENT_ID = "client-id"
RECORDED_ENVIRONMENT = "dev"


@pytest.fixture
def server() -> Iterator[ChalkServer]:
    environments = {RECORDED_ENVIRONMENT: RECORDED_ENVIRONMENT}
    with ChalkServer(clock=ServerClock(), client_id=RECORDED_CLIENT_ID, environments=environments) as running:
        yield running


@pytest.fixture
def token(server: ChalkServer) -> str:
    credentials = {
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "grant_type": "client_credentials",
    }
    response = httpx.post(server.url + "/v1/oauth/token", json=credentials)
    assert response.status_code == 200, response.text
    access_token: str = response.json()["access_token"]
    return access_token
