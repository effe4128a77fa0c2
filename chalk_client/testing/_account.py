"""The engine ping and the branches of :class:`~chalk_client.testing.ChalkServer`.

``POST /ping`` (on the engine address and on the API address) answers ``{"num": n}`` for a body
``{"num": n}``: the number sent (a 64-bit integer), 0 for null or absent. Another body is a 400
``VALIDATION_FAILED`` (``PARSE_FAILED`` when it is not JSON).

``GET /v1/branches`` (API address) answers every branch the server knows, in the order it came to
know them: the ones it was given (``ChalkServer(branches=...)``, ``("main",)`` by default), then
each branch an authenticated request named with ``X-Chalk-Branch-Id`` (unless its
``X-Chalk-Deployment-Type`` was ``engine``, which ignores the header), as ChalkServer accepts any
branch name. Each branch has one deployment, made when the server came to know it:
``{"name", "latest_deployment": "branch-deployment-<k>", "latest_deployment_time": <RFC 3339>,
"deployments": [{"deployment_id", "created_at"}]}``, ``k`` counting from 1 in that order. At most
10,000 branches are kept: past that, the oldest one learned from a request is forgotten.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, Final, NamedTuple

from chalk_client.testing._auth import TokenService, rfc3339
from chalk_client.testing._data import INT64_MAX, INT64_MIN
from chalk_client.testing._http import ApiError, Request, Response, json_response

__all__ = ["DEFAULT_BRANCHES", "AccountService", "BranchBook"]

DEFAULT_BRANCHES: Final = ("main",)
_MAX_BRANCHES: Final = 10_000


class _Branch(NamedTuple):
    deployment_id: str
    created_at: float
    given: bool  # given to the constructor, so never forgotten


class BranchBook:
    """The branches the server knows: the ones it was given, then the ones requests named.

    Args:
        branches: The branches known from the start (non-empty strings).
        clock: The server's time source (Unix seconds), for each branch's deployment time.
        max_branches: At most this many branches learned from requests are kept.
    """

    def __init__(
        self, branches: Iterable[str], clock: Callable[[], float], *, max_branches: int = _MAX_BRANCHES
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._max_branches = max_branches
        self._deployments = 0
        self._learned = 0
        self._branches: dict[str, _Branch] = {}
        if isinstance(branches, str):
            raise TypeError("branches must be an iterable of branch names, not a string")
        for name in branches:
            if not isinstance(name, str) or not name:
                raise ValueError(f"a branch name must be a non-empty string, not {name!r}")
            self._add(name, given=True)

    def saw(self, name: str) -> None:
        """Know branch `name` from now on (nothing changes if it is known already)."""
        if name in self._branches:  # a dict read: no lock needed for the common case
            return
        with self._lock:
            if name in self._branches:
                return
            if self._learned >= self._max_branches:
                oldest = next(known for known, branch in self._branches.items() if not branch.given)
                del self._branches[oldest]
                self._learned -= 1
            self._add(name, given=False)
            self._learned += 1

    def names(self) -> list[str]:
        """Every known branch's name, in the order it came to be known."""
        with self._lock:
            return list(self._branches)

    def answer(self) -> list[dict[str, Any]]:
        """The ``branches`` of ``GET /v1/branches``."""
        with self._lock:
            known = list(self._branches.items())
        answers = []
        for name, branch in known:
            created_at = rfc3339(branch.created_at)
            answers.append(
                {
                    "name": name,
                    "latest_deployment": branch.deployment_id,
                    "latest_deployment_time": created_at,
                    "deployments": [{"deployment_id": branch.deployment_id, "created_at": created_at}],
                }
            )
        return answers

    def _add(self, name: str, *, given: bool) -> None:
        self._deployments += 1
        self._branches[name] = _Branch(f"branch-deployment-{self._deployments}", self._clock(), given)


class AccountService:
    """The handlers of ``POST /ping`` and ``GET /v1/branches``.

    Args:
        auth: Checks tokens and routing headers.
        branches: The branches the server knows.
    """

    def __init__(self, *, auth: TokenService, branches: BranchBook) -> None:
        self._auth = auth
        self._branches = branches

    async def ping(self, request: Request) -> Response:
        """``POST /ping``: the number sent, 0 for none."""
        self._auth.authenticate(request)
        data = request.json()
        if not isinstance(data, dict):
            raise ApiError(400, "VALIDATION_FAILED", "the request body must be a JSON object")
        num = data.get("num")
        if num is None:
            num = 0
        elif isinstance(num, bool) or not isinstance(num, int) or not INT64_MIN <= num <= INT64_MAX:
            raise ApiError(400, "VALIDATION_FAILED", "'num' must be a 64-bit integer or null")
        return json_response({"num": num})

    async def branches(self, request: Request) -> Response:
        """``GET /v1/branches``: every branch the server knows, with its deployment."""
        self._auth.authenticate(request)
        return json_response({"branches": self._branches.answer()})
