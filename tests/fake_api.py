"""A scriptable fake of the Chalk API on httpx.MockTransport, and its `api` fixture.

`FakeChalkAPI` answers every data-plane endpoint from memory, issues tokens ``tOkEn-...-1``,
``-2``, ..., rejects revoked ones with 401, and lets a test queue answers (a status, a body, or an
httpx exception to raise) per path. The `client` fixture (tests/conftest.py) runs on it by default,
on both clients.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import API_SERVER, TOKEN_PREFIX, FakeClock

ENGINE = "https://engine.chalk.test"
Answer = Callable[[httpx.Request], httpx.Response] | httpx.Response | Exception


class FakeChalkAPI:
    """The Chalk API in memory (see the module docstring)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.exchanges = 0
        self.revoked: set[str] = set()
        self.requests: list[httpx.Request] = []
        self.queued: dict[str, list[Answer]] = defaultdict(list)
        self.rejections = 0
        # When set, rejected requests are held until this many have arrived, then all answered:
        # every concurrent caller has been rejected with the same token before any replays.
        self.hold_rejections: int | None = None
        self._arrivals = 0
        self.token_extra: dict[str, Any] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        # Extra endpoints a test adds: path prefix -> handler; `handlers` after the token check,
        # `public_handlers` before it (signed storage URLs carry no token).
        self.handlers: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.public_handlers: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self._lock = threading.Lock()
        self._sync_release = threading.Event()
        self._async_release: asyncio.Event | None = None

    # -- scripting -------------------------------------------------------------------------------

    def queue(self, path: str, *answers: Answer) -> None:
        """Answer the next calls to `path` with `answers`, in order, then normally again."""
        self.queued[path].extend(answers)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def data_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/v1/oauth/token"]

    # -- transports ------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._sync_handle)

    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._async_handle)

    def _held(self, request: httpx.Request) -> bool:
        if (
            self.hold_rejections is None
            or request.headers.get("authorization", "").removeprefix("Bearer ") not in self.revoked
        ):
            return False
        with self._lock:
            self._arrivals += 1
            if self._arrivals >= self.hold_rejections:
                self._sync_release.set()
                if self._async_release is not None:
                    self._async_release.set()
        return True

    def _sync_handle(self, request: httpx.Request) -> httpx.Response:
        if self._held(request):
            assert self._sync_release.wait(10), "the concurrent calls never all arrived"
        return self._answer(request)

    async def _async_handle(self, request: httpx.Request) -> httpx.Response:
        if self._async_release is None:
            self._async_release = asyncio.Event()
        if self._held(request):
            await asyncio.wait_for(self._async_release.wait(), 10)
        return self._answer(request)

    # -- answers ---------------------------------------------------------------------------------

    def _answer(self, request: httpx.Request) -> httpx.Response:
        # A snapshot: the client may change the same request object's headers for a replay.
        snapshot = httpx.Request(
            request.method,
            request.url,
            headers=request.headers.copy(),
            content=request.content,
            extensions=request.extensions,
        )
        with self._lock:
            self.requests.append(snapshot)
            queued = self.queued.get(request.url.path)
            answer = queued.pop(0) if queued else None
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        if answer is not None:
            return answer(request)
        path = request.url.path
        if path == "/v1/oauth/token":
            return self._token()
        for prefix, handler in self.public_handlers.items():
            if path.startswith(prefix):
                return handler(request)
        auth = request.headers.get("authorization", "")
        if not auth.startswith(f"Bearer {TOKEN_PREFIX}") or auth.removeprefix("Bearer ") in self.revoked:
            return self._reject()
        for prefix, handler in self.handlers.items():
            if path.startswith(prefix):
                return handler(request)
        body = json.loads(request.content) if request.content else {}
        if path == "/v1/query/online":
            return _json(200, self._query(body))
        if path == "/v1/upload_features":
            return _json(200, {"errors": [], "trace_id": "trace-upload"})
        if path == "/v1/who-am-i":
            return _json(
                200,
                {
                    "user": "client-id-for-tests",
                    "environment_id": request.headers.get("x-chalk-env-id"),
                    "team_id": "team-1",
                },
            )
        if path == "/v1/runs/trigger":
            key = body.get("idempotency_key")
            run = self.runs.setdefault(key, {"id": f"run-{len(self.runs) + 1}", "status": "received"})
            return _json(200, run)
        if path.startswith("/v1/runs/"):
            run_id = path.rsplit("/", 1)[1]
            for run in self.runs.values():
                if run["id"] == run_id:
                    return _json(200, {**run, "status": "succeeded"})
            return _json(404, {"detail": f"no run {run_id}", "trace": "trace-404"})
        return _json(404, {"detail": "no such path"})

    def _token(self) -> httpx.Response:
        with self._lock:
            self.exchanges += 1
            n = self.exchanges
        body = {
            "access_token": f"{TOKEN_PREFIX}{n}",
            "token_type": "Bearer",
            "expires_in": 3600,
            "primary_environment": "env-1",
            "engines": {"env-1": ENGINE, "env-2": "engine-2.chalk.test"},
            "environment_id_to_name": {"env-1": "dev", "env-2": "prod"},
            **self.token_extra,
        }
        return _json(200, body)

    def _reject(self) -> httpx.Response:
        with self._lock:
            self.rejections += 1
        return _json(
            401, {"detail": "token rejected", "errors": [{"code": "UNAUTHENTICATED", "message": "no"}]}
        )

    def _query(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = body["inputs"].get("user.id")
        data = []
        for name in body["outputs"]:
            entry: dict[str, Any] = {
                "field": name,
                "value": f"{name}:{user_id}",
                "pkey": user_id,
                "ts": "2026-11-28T12:00:00Z",
            }
            if name == "user.broken":
                entry.update(
                    value=None,
                    error={
                        "code": "RESOLVER_FAILED",
                        "category": "FIELD",
                        "message": "boom",
                        "feature": name,
                    },
                )
            data.append(entry)
        return {"data": data, "errors": None}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """A canned answer to queue."""
    return _json(status, body if body is not None else {"detail": f"status {status}"}, headers)


@pytest.fixture
def api(clock: FakeClock) -> FakeChalkAPI:
    return FakeChalkAPI(clock)


__all__ = ["API_SERVER", "ENGINE", "FakeChalkAPI", "answer"]
