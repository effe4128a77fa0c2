"""The token cache: one exchange at a time, shared by every thread or task of a client.

Policy:

- FRESH (more than the refresh buffer left): returned at once, with no lock taken.
- STALE (inside the buffer, still valid): exactly one caller refreshes; every other caller gets the
  current token at once. If that refresh fails, callers keep the still-valid token and the next
  attempt waits a jittered exponential backoff (1 s doubling to 30 s).
- EXPIRED (or none yet): callers wait for one shared exchange. If it fails, every caller waiting
  on it gets the same typed error (one POST, N errors); until the backoff passes, callers get
  that error at once instead of another POST.
- The lock guards a few assignments only and is never held during the network call, so a slow
  token server blocks no other caller that has a usable token, and never blocks an event loop.
- An exchange in flight is a :class:`concurrent.futures.Future`: threads wait on it, tasks await
  it through :func:`asyncio.wrap_future` from whichever event loop they run on, so the same client
  works across successive ``asyncio.run`` calls.
- :meth:`TokenCache.invalidate` drops the token only if it is still the one given
  (compare-and-invalidate), so N callers rejected with the same stale token cause one exchange.
- After ``os.fork()`` the child gets a new lock and forgets an exchange in flight in the parent.
- The clock and the random source are injected; tests never sleep.
"""

from __future__ import annotations

import concurrent.futures
import enum
import logging
import random
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from chalk_client._core.errors import ChalkSDKError, ChalkUnavailableError
from chalk_client._core.token import (
    DEFAULT_REFRESH_BUFFER,
    Clock,
    SystemClock,
    Token,
    TokenEntry,
    TokenState,
    backoff_delay,
    classify,
    make_entry,
)
from chalk_client._io.fork import reset_after_fork

if TYPE_CHECKING:
    from chalk_openapi.models.token_response import TokenResponse

__all__ = ["TokenCache"]

logger = logging.getLogger("chalk_client.auth")

# How many times a caller re-plans after the exchange it waited on was abandoned (its leader was
# cancelled or crashed) before giving up; each round normally ends in an exchange of its own.
_MAX_ROUNDS: Final = 8


class _Plan(enum.Enum):
    USE = "use the cached token"
    LEAD = "exchange, and share the result"
    FOLLOW = "wait for the exchange in flight"
    FAIL = "raise the last error (backing off)"


class _AbandonedError(Exception):
    """Set on a flight whose leader stopped without an answer; followers plan again."""


def _plan(state: TokenState, *, in_flight: bool, backing_off: bool) -> _Plan:
    """What a caller does, given the token's state and the exchange machinery's."""
    if state is TokenState.FRESH:
        return _Plan.USE
    if state is TokenState.STALE:
        # Valid for a while yet: never make a caller wait while someone else refreshes or while
        # the last refresh failed recently.
        return _Plan.USE if in_flight or backing_off else _Plan.LEAD
    if in_flight:
        return _Plan.FOLLOW
    return _Plan.FAIL if backing_off else _Plan.LEAD


_Flight = concurrent.futures.Future  # resolves to a TokenEntry, or the shared error


class TokenCache:
    """Caches one client's token and runs its exchanges (see the module docstring for the policy).

    Args:
        refresh_buffer: Refresh this many seconds before expiry (capped at half the lifetime).
        clock: Where time is read; defaults to the system's monotonic and wall clocks.
        rand: Returns a float in [0, 1); jitters refresh points and backoff delays.
    """

    def __init__(
        self,
        *,
        refresh_buffer: float = DEFAULT_REFRESH_BUFFER,
        clock: Clock | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        if not refresh_buffer >= 0:
            raise ValueError(f"refresh_buffer must be a number of seconds >= 0, got {refresh_buffer!r}")
        self._refresh_buffer = float(refresh_buffer)
        self._clock = clock if clock is not None else SystemClock()
        self._monotonic = self._clock.monotonic
        self._rand = rand if rand is not None else random.random
        self._lock = threading.Lock()
        self._entry: TokenEntry | None = None
        self._flight: _Flight[TokenEntry] | None = None
        self._failures = 0
        self._retry_at = float("-inf")
        self._last_error: ChalkSDKError | None = None
        reset_after_fork(self)

    # -- reading -----------------------------------------------------------------------------

    def get(self, exchange: Callable[[], TokenResponse]) -> Token:
        """The current token, exchanging (through `exchange`) only when the policy says so."""
        entry = self._entry
        if entry is not None and self._monotonic() < entry.refresh_at:
            return entry.token
        return self.acquire(exchange)[0]

    def acquire(self, exchange: Callable[[], TokenResponse]) -> tuple[Token, bool]:
        """The current token, and whether it comes from an exchange this call waited for.

        A token that was exchanged for this very call and is then rejected with a 401 will not be
        helped by another exchange: the auth flow uses the flag to stop instead of looping.
        """
        entry = self._entry
        if entry is not None and self._monotonic() < entry.refresh_at:
            return entry.token, False
        for _ in range(_MAX_ROUNDS):
            plan, flight, entry = self._decide()
            if plan is _Plan.USE and entry is not None:
                return entry.token, False
            if plan is _Plan.FOLLOW and flight is not None:
                try:
                    return flight.result().token, True
                except _AbandonedError:
                    continue
                except ChalkSDKError as err:
                    raise err.with_traceback(None) from None
            if plan is _Plan.LEAD and flight is not None:
                started = self._begin()
                try:
                    response = exchange()
                except ChalkSDKError as err:
                    return self._failed(flight, err, entry), False
                except BaseException:
                    self._abandon(flight)
                    raise
                return self._succeeded(flight, response, started, entry), True
            raise self._backing_off_error()
        raise self._abandoned_error()

    async def aget(self, exchange: Callable[[], Awaitable[TokenResponse]]) -> Token:
        """The same as :meth:`get`, for asyncio: waiting never blocks the event loop."""
        entry = self._entry
        if entry is not None and self._monotonic() < entry.refresh_at:
            return entry.token
        return (await self.aacquire(exchange))[0]

    async def aacquire(self, exchange: Callable[[], Awaitable[TokenResponse]]) -> tuple[Token, bool]:
        """The same as :meth:`acquire`, for asyncio."""
        entry = self._entry
        if entry is not None and self._monotonic() < entry.refresh_at:
            return entry.token, False
        for _ in range(_MAX_ROUNDS):
            plan, flight, entry = self._decide()
            if plan is _Plan.USE and entry is not None:
                return entry.token, False
            if plan is _Plan.FOLLOW and flight is not None:
                try:
                    import asyncio  # only async callers need it; `import chalk_client` skips it

                    return (await asyncio.wrap_future(flight)).token, True
                except _AbandonedError:
                    continue
                except ChalkSDKError as err:
                    raise err.with_traceback(None) from None
            if plan is _Plan.LEAD and flight is not None:
                started = self._begin()
                try:
                    response = await exchange()
                except ChalkSDKError as err:
                    return self._failed(flight, err, entry), False
                except BaseException:  # including CancelledError: followers take over
                    self._abandon(flight)
                    raise
                return self._succeeded(flight, response, started, entry), True
            raise self._backing_off_error()
        raise self._abandoned_error()

    def peek(self) -> Token | None:
        """The cached token if it is fresh (outside the refresh buffer), else None; never waits.

        A call reads the token again this way when it has its connection slot: the token it was
        routed with may have been refreshed while it queued.
        """
        entry = self._entry
        if entry is not None and self._monotonic() < entry.refresh_at:
            return entry.token
        return None

    def state(self) -> TokenState:
        """The cached token's state now."""
        return classify(self._entry, self._monotonic())

    # -- invalidation ------------------------------------------------------------------------

    def expired(self, token: Token) -> bool:
        """Whether `token` is past its deadline, or no longer the cached token.

        A 401 for such a token is explained by its age (it may have waited long for a connection
        before it was sent), not by the credentials.
        """
        entry = self._entry
        return entry is None or entry.token is not token or self._monotonic() >= entry.deadline

    def invalidate(self, token: Token | str) -> bool:
        """Drop the cached token if it is still `token` (compare-and-invalidate).

        Returns True if it was dropped. A caller rejected with an old token finds a newer one in
        place and drops nothing, so N rejections of the same token cause one exchange.
        """
        access_token = token.access_token if isinstance(token, Token) else token
        with self._lock:
            entry = self._entry
            if entry is None or entry.token.access_token != access_token:
                return False
            self._entry = None
            # A rejected token says nothing about the token server: no backoff for the next try.
            self._retry_at = float("-inf")
        logger.debug("token invalidated; the next call exchanges credentials")
        return True

    # -- the decision, under the lock ----------------------------------------------------------

    def _decide(self) -> tuple[_Plan, _Flight[TokenEntry] | None, TokenEntry | None]:
        with self._lock:
            now = self._monotonic()
            entry = self._entry
            state = classify(entry, now)
            plan = _plan(state, in_flight=self._flight is not None, backing_off=now < self._retry_at)
            if plan is _Plan.LEAD:
                flight: _Flight[TokenEntry] = concurrent.futures.Future()
                # RUNNING: a waiting task that is cancelled must not cancel the shared exchange.
                flight.set_running_or_notify_cancel()
                self._flight = flight
                if state is TokenState.STALE:
                    logger.debug("token stale; this caller refreshes, others keep using it")
                else:
                    logger.debug("no valid token; exchanging credentials")
                return plan, flight, entry
            return plan, self._flight, entry

    def _begin(self) -> tuple[float, float]:
        # Stamped before the request is sent: the token's age counts from here.
        return self._monotonic(), self._clock.time()

    def _succeeded(
        self,
        flight: _Flight[TokenEntry],
        response: TokenResponse,
        started: tuple[float, float],
        previous: TokenEntry | None,
    ) -> Token:
        try:
            entry = make_entry(
                response,
                started_monotonic=started[0],
                started_wall=started[1],
                refresh_buffer=self._refresh_buffer,
                jitter=self._rand(),
            )
        except ChalkSDKError as err:
            return self._failed(flight, err, previous)
        except BaseException:
            self._abandon(flight)  # a bug here must not leave the followers waiting forever
            raise
        with self._lock:
            self._entry = entry
            self._failures = 0
            self._retry_at = float("-inf")
            self._last_error = None
            if self._flight is flight:
                self._flight = None
        flight.set_result(entry)
        logger.debug(
            "token exchanged; valid for %.0f s, refresh in %.0f s",
            entry.deadline - started[0],
            entry.refresh_at - started[0],
        )
        return entry.token

    def _failed(self, flight: _Flight[TokenEntry], err: ChalkSDKError, previous: TokenEntry | None) -> Token:
        with self._lock:
            self._failures += 1
            delay = backoff_delay(self._failures, self._rand())
            self._retry_at = self._monotonic() + delay
            self._last_error = err
            if self._flight is flight:
                self._flight = None
            still_valid = self._entry if self._entry is not None else previous
            if still_valid is not None and self._monotonic() >= still_valid.deadline:
                still_valid = None
        flight.set_exception(err)
        if still_valid is not None:
            logger.debug(
                "token refresh failed (%s); keeping the current token, next attempt in %.1f s",
                type(err).__name__,
                delay,
            )
            return still_valid.token
        logger.debug("token exchange failed (%s); next attempt in %.1f s", type(err).__name__, delay)
        raise err

    def _abandon(self, flight: _Flight[TokenEntry]) -> None:
        with self._lock:
            if self._flight is flight:
                self._flight = None
        flight.set_exception(_AbandonedError())
        logger.debug("token exchange abandoned by its caller; waiting callers try again")

    def _backing_off_error(self) -> ChalkSDKError:
        with self._lock:
            err = self._last_error
            wait = self._retry_at - self._monotonic()
        logger.debug("token exchange backing off for %.1f s more; raising the last error", max(wait, 0.0))
        if err is None:  # pragma: no cover - FAIL is only planned after a failure
            return ChalkUnavailableError("no token, and the token exchange is backing off")
        return err.with_traceback(None)

    def _abandoned_error(self) -> ChalkSDKError:
        return ChalkUnavailableError(
            f"the token exchange was abandoned {_MAX_ROUNDS} times in a row (its callers were cancelled)"
        )

    def _reset_after_fork(self) -> None:
        # The parent's lock may have been held by a thread that does not exist here, and its
        # exchange in flight will never finish here. The token itself is still good to use.
        self._lock = threading.Lock()
        self._flight = None

    def __repr__(self) -> str:
        return f"<TokenCache state={self.state().value}>"
