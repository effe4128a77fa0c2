"""The faults in force on one server: :class:`~chalk_client.testing.FaultPlan` and its rules.

A plan holds its rules (:class:`FaultRule`) in the order they were added and, for each routed call,
finds the first rule whose endpoint selector matches, counts the call against it, and hands the
app an :class:`~chalk_client.testing._faults._injection.Injection` to apply. Any thread may change
the rules while the server serves; one lock guards them and the count of faulted calls in flight.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from chalk_client.testing._faults._connections import Connections, protocol_class
from chalk_client.testing._faults._control import CONTROL_PATH, add_control_routes
from chalk_client.testing._faults._endpoints import TOKEN_PATH, selector
from chalk_client.testing._faults._fault import Fault
from chalk_client.testing._faults._injection import Injection
from chalk_client.testing._http import Request, Router

__all__ = ["FaultPlan", "FaultRule"]


class FaultRule:
    """A fault in force in a :class:`FaultPlan`, and what it has done so far.

    Attributes:
        fault: The fault.
        id: A number unique within its plan (what the HTTP control API shows).
    """

    def __init__(self, fault: Fault, rule_id: int) -> None:
        self.fault = fault
        self.id = rule_id
        self._matches = selector(fault.endpoint)
        self._served_by = fault.served_by
        self._remaining = fault.count
        self._skip = fault.skip
        self._hits = 0
        self._active = True

    @property
    def hits(self) -> int:
        """Calls it has affected."""
        return self._hits

    @property
    def remaining(self) -> int | None:
        """Calls it will still affect; None: until removed."""
        return self._remaining

    @property
    def active(self) -> bool:
        """Whether it is still in force (not used up, not removed)."""
        return self._active

    def to_json(self) -> dict[str, Any]:
        """What the HTTP control API shows of it."""
        fault = self.fault
        return {
            "id": self.id,
            "kind": fault.kind.value,
            "endpoint": fault.endpoint,
            "count": fault.count,
            "status_code": fault.status_code,
            "remaining": self._remaining,
            "hits": self._hits,
            "active": self._active,
        }

    def __repr__(self) -> str:
        left = "until removed" if self._remaining is None else f"{self._remaining} left"
        return (
            f"<FaultRule {self.id} {self.fault.kind.value} {self.fault.endpoint}: {self._hits} hits, {left}>"
        )


class FaultPlan:
    """The faults in force on one server: any thread may change them while it serves.

    ``server.faults`` is the server's plan. Checking it costs the app one attribute read per
    request while no fault is in force (:attr:`armed`).

    Args:
        faults: Faults in force from the start.
        revoke: Revokes every token the server issued (what ``revoke_token`` faults call).
    """

    def __init__(self, faults: Iterable[Fault] = (), *, revoke: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._revoke = revoke if revoke is not None else _no_revoke
        self.connections = Connections()
        self.armed = False
        """True while a fault is in force: the app's one check per request."""
        for fault in faults:
            self.add(fault)

    # -- the rules -------------------------------------------------------------------------------

    def add(self, fault: Fault) -> FaultRule:
        """Put `fault` in force (after the faults already there); returns its rule."""
        if not isinstance(fault, Fault):
            raise TypeError(f"expected a Fault, not {type(fault).__name__}")
        with self._lock:
            rule = FaultRule(fault, self._next_id)
            self._next_id += 1
            self._rules.append(rule)
            self.armed = True
        return rule

    def remove(self, rule: FaultRule) -> bool:
        """Take `rule` out of force; False if it was not in force any more."""
        with self._lock:
            if rule not in self._rules:
                return False
            self._drop(rule)
            return True

    def clear(self) -> None:
        """Take every fault out of force."""
        with self._lock:
            for rule in self._rules:
                rule._active = False
            self._rules.clear()
            self.armed = False

    @property
    def rules(self) -> list[FaultRule]:
        """The rules in force, in the order they apply (a copy)."""
        with self._lock:
            return list(self._rules)

    @property
    def in_flight(self) -> int:
        """Faulted calls the server is still handling (a delay sleeping, a handler running, ...)."""
        with self._lock:
            return self._in_flight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no faulted call is in flight; False if some still are after `timeout` seconds.

        A delayed call goes on after its client gave up: wait for it before counting what the
        server did (a token exchange, a stored upload) or before the next test.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def _finish(self) -> None:
        with self._idle:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.notify_all()

    def _drop(self, rule: FaultRule) -> None:  # with the lock held
        rule._active = False
        self._rules.remove(rule)
        self.armed = bool(self._rules)

    # -- shortcuts -------------------------------------------------------------------------------

    def fail_next(
        self,
        endpoint: str,
        count: int | None = 1,
        *,
        status: int = 503,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FaultRule:
        """Answer the next `count` calls to `endpoint` with `status` (None: until removed)."""
        return self.add(Fault.status(endpoint, status, body=body, headers=headers, count=count))

    def rate_limit(
        self, endpoint: str, *, retry_after: float | None = 1.0, count: int | None = 1
    ) -> FaultRule:
        """Answer the next `count` calls to `endpoint` with 429 and ``Retry-After: <retry_after>``."""
        return self.add(Fault.rate_limit(endpoint, retry_after, count=count))

    def delay(self, endpoint: str, seconds: float, *, count: int | None = 1) -> FaultRule:
        """Answer the next `count` calls to `endpoint` normally, `seconds` late."""
        return self.add(Fault.delay(endpoint, seconds, count=count))

    def drop(
        self,
        endpoint: str,
        when: Literal["before", "mid_body", "after_store"] = "before",
        *,
        count: int | None = 1,
    ) -> FaultRule:
        """Close the connection of the next `count` calls to `endpoint` (see :meth:`Fault.drop`)."""
        return self.add(Fault.drop(endpoint, when, count=count))

    def token_endpoint_down(self, status: int = 503) -> FaultRule:
        """Answer every token request with `status` until :meth:`token_endpoint_up`; nothing else changes."""
        return self.add(Fault.status(TOKEN_PATH, status, count=None))

    def token_endpoint_up(self) -> int:
        """Remove every fault aimed at the token endpoint (not ``"*"`` ones); returns how many."""
        with self._lock:
            aimed = [r for r in self._rules if r.fault.endpoint != "*" and r._matches(TOKEN_PATH, False)]
            for rule in aimed:
                self._drop(rule)
        return len(aimed)

    def revoke_current_token(self) -> None:
        """Revoke every token issued so far, now: their next call gets a 401 though the clock says valid."""
        self._revoke()

    # -- the app's side --------------------------------------------------------------------------

    def take(self, request: Request) -> Injection | None:
        """The fault for `request`, if one applies; counts it against its rule and marks the request."""
        path = request.path
        if path.startswith(CONTROL_PATH):
            return None
        templated = bool(request.path_params)
        with self._lock:
            for rule in self._rules:
                if rule._served_by not in (None, request.served_by) or not rule._matches(path, templated):
                    continue
                if rule._skip:
                    rule._skip -= 1
                    continue
                rule._hits += 1
                self._in_flight += 1
                if rule._remaining is not None:
                    rule._remaining -= 1
                    if rule._remaining == 0:
                        self._drop(rule)
                fault = rule.fault
                break
            else:
                return None
        request.fault = fault.kind.value
        return Injection(fault, revoke=self._revoke, connections=self.connections, finish=self._finish)

    def protocol_class(self, http: str) -> type[asyncio.Protocol]:
        """uvicorn's HTTP protocol class for `http` (``"httptools"`` or ``"h11"``), filing each
        connection's transport in :attr:`connections` so drop faults can close it."""
        return protocol_class(http, self.connections)

    # -- the HTTP control API --------------------------------------------------------------------

    def add_control_routes(self, router: Router) -> None:
        """Serve the HTTP control API (:mod:`chalk_client.testing._faults._control`) from `router`."""
        add_control_routes(
            router,
            add=lambda fault: self.add(fault).to_json(),
            rules=lambda: [rule.to_json() for rule in self.rules],
            clear=self.clear,
            revoke=self.revoke_current_token,
        )

    def __repr__(self) -> str:
        return f"<FaultPlan {len(self._rules)} rules>"


def _no_revoke() -> None:
    raise RuntimeError("this FaultPlan has no server to revoke tokens on")
