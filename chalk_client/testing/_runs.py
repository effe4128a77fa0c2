"""Resolver runs of :class:`~chalk_client.testing.ChalkServer`: ``/v1/runs/trigger`` and ``/v1/runs/{id}``.

A run is only a record: it answers ``received`` when triggered, and ``succeeded`` once ``run_duration``
seconds of the server's clock have passed since (at once with the default of 0). Triggers that share
an ``idempotency_key`` start one run; the later ones answer it as it is now, whatever their other
fields say.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from chalk_client.testing._auth import TokenService
from chalk_client.testing._data import FEATURE_RESOLVERS, parse_rfc3339
from chalk_client.testing._http import ApiError, Request, Response, json_response

__all__ = ["RunRecord", "RunService"]

_TIMESTAMPING_MODES: Final = ("feature_time", "online_store_write_time")
_PERSISTENCE_FIELDS: Final = ("persist_online_storage", "persist_offline_storage")
_KNOWN_RESOLVERS: Final = tuple(FEATURE_RESOLVERS.values())


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A resolver run as the server recorded it.

    Attributes:
        id: The run id, ``run-1``, ``run-2``, ... in trigger order.
        resolver_fqn: The resolver it runs.
        lower_bound: The trigger's ``lower_bound``, parsed (aware), or None.
        upper_bound: The trigger's ``upper_bound``, parsed (aware), or None.
        idempotency_key: The trigger's ``idempotency_key``, or None.
        environment_id: The environment the trigger was sent for.
        created: When it was triggered, in Unix seconds of the server's clock.
    """

    id: str
    resolver_fqn: str
    lower_bound: datetime | None
    upper_bound: datetime | None
    idempotency_key: str | None
    environment_id: str
    created: float


def check_run_duration(value: object) -> float:
    """`value` as a run duration: a finite number of seconds, zero or more."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"run_duration must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"run_duration must be a finite number of seconds, zero or more, not {value!r}")
    return float(value)


def _invalid(message: str, code: str = "VALIDATION_FAILED") -> ApiError:
    return ApiError(400, code, message, detail=f"invalid run trigger: {message}")


def _bound(data: Mapping[str, Any], field: str) -> datetime | None:
    value = data.get(field)
    if value is None:
        return None
    parsed = parse_rfc3339(value)
    if parsed is None:
        raise _invalid(f"'{field}' must be an RFC 3339 date-time with an offset", "PARSE_FAILED")
    return parsed


def _check_optional_fields(data: Mapping[str, Any]) -> None:
    mode = data.get("timestamping_mode")
    if mode is not None and mode not in _TIMESTAMPING_MODES:
        raise _invalid("'timestamping_mode' must be 'feature_time' or 'online_store_write_time'")
    settings = data.get("persistence_settings")
    if settings is not None and (
        not isinstance(settings, dict)
        or not all(
            settings.get(field) is None or isinstance(settings[field], bool) for field in _PERSISTENCE_FIELDS
        )
    ):
        raise _invalid("'persistence_settings' must be an object of booleans")
    key = data.get("idempotency_key")
    if key is not None and not isinstance(key, str):
        raise _invalid("'idempotency_key' must be a string")


class RunService:
    """The runs the server was asked for, and the two run endpoints.

    Args:
        auth: Checks tokens and routing headers.
        clock: The server's time source (Unix seconds).
        run_duration: Seconds from a trigger until its run reports ``succeeded``.
        max_runs: At most this many runs are kept; the oldest is forgotten first (and its
            idempotency key with it).
    """

    def __init__(
        self,
        *,
        auth: TokenService,
        clock: Callable[[], float],
        run_duration: float = 0.0,
        max_runs: int = 100_000,
    ) -> None:
        self._auth = auth
        self._clock = clock
        self._run_duration = check_run_duration(run_duration)
        self._max_runs = max_runs
        self._lock = threading.Lock()
        self._runs: dict[str, RunRecord] = {}
        self._by_key: dict[str, str] = {}
        self._ids = itertools.count(1)

    @property
    def run_duration(self) -> float:
        """Seconds from a trigger until its run reports ``succeeded``; applies to existing runs too."""
        return self._run_duration

    @run_duration.setter
    def run_duration(self, value: float) -> None:
        self._run_duration = check_run_duration(value)

    def runs(self) -> list[RunRecord]:
        """Every run kept, oldest first."""
        with self._lock:
            return list(self._runs.values())

    def _status(self, run: RunRecord) -> str:
        return "succeeded" if self._clock() - run.created >= self._run_duration else "received"

    async def trigger(self, request: Request) -> Response:
        """``POST /v1/runs/trigger``: record a run (or find the one with the same idempotency key)."""
        caller = self._auth.authenticate(request)
        data = request.json()
        if not isinstance(data, dict):
            raise _invalid("the request body must be a JSON object")
        resolver_fqn = data.get("resolver_fqn")
        if not isinstance(resolver_fqn, str):
            raise _invalid("'resolver_fqn' is required, and must be a string")
        if resolver_fqn not in _KNOWN_RESOLVERS:
            raise ApiError(
                404,
                "RESOLVER_NOT_FOUND",
                f"no resolver named {resolver_fqn[:200]!r}; known: {', '.join(_KNOWN_RESOLVERS)}",
            )
        lower_bound = _bound(data, "lower_bound")
        upper_bound = _bound(data, "upper_bound")
        if lower_bound is not None and upper_bound is not None and lower_bound >= upper_bound:
            raise _invalid("'lower_bound' must be before 'upper_bound'")
        _check_optional_fields(data)
        key: str | None = data.get("idempotency_key")
        with self._lock:
            existing_id = self._by_key.get(key) if key is not None else None
            if existing_id is not None:
                existing = self._runs[existing_id]
                return json_response({"id": existing.id, "status": self._status(existing)})
            run = RunRecord(
                id=f"run-{next(self._ids)}",
                resolver_fqn=resolver_fqn,
                lower_bound=lower_bound,
                upper_bound=upper_bound,
                idempotency_key=key,
                environment_id=caller.environment_id,
                created=self._clock(),
            )
            if len(self._runs) >= self._max_runs:
                oldest = self._runs.pop(next(iter(self._runs)))
                if oldest.idempotency_key is not None:
                    self._by_key.pop(oldest.idempotency_key, None)
            self._runs[run.id] = run
            if key is not None:
                self._by_key[key] = run.id
        return json_response({"id": run.id, "status": "received"})

    async def status(self, request: Request) -> Response:
        """``GET /v1/runs/{run_id}``: the run's status by the server's clock."""
        self._auth.authenticate(request)
        run_id = request.path_params["run_id"]
        with self._lock:
            run = self._runs.get(run_id)
        if run is None:
            raise ApiError(404, "VALIDATION_FAILED", f"no run with id {run_id[:200]!r}")
        return json_response({"id": run.id, "status": self._status(run)})
