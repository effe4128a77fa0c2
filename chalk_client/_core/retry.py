"""When to send a request again, and after how long: pure rules shared by both clients.

- Safe calls (reads, online queries, and triggers that carry an idempotency key) are retried on
  any transport failure and on 408, 429, 500, 502, 503 and 504.
- Unsafe calls (uploads) are retried only when the request provably never reached the server: the
  connection could not be opened, or no pooled connection came free. Anything later (a dropped
  connection, a read timeout, a 5xx) may mean the server stored the rows, so a retry could write
  them twice.
- ``max_retries`` retries at most (2 by default), so a call is sent at most ``max_retries + 1`` times.
- The delay starts at 0.5 s and doubles up to 8 s, cut by up to a quarter at random so clients that
  failed together do not come back together. A ``Retry-After`` header (seconds or an HTTP date)
  replaces it; one longer than 60 s is not waited for: the error is raised at once.

Nothing here sleeps or reads a clock of its own; the clients pass the attempt number, the outcome,
the wall-clock time and a random number, and act on the returned delay.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Final

import attrs
import httpx

from chalk_client._core.answers import Answer, parse_retry_after

__all__ = ["DEFAULT_MAX_RETRIES", "Idempotency", "RetryDecision", "decide_retry"]

# Two retries: a blip (a restarted pod, a dropped keep-alive) heals in one; more mostly delays
# the error a caller needs to see.
DEFAULT_MAX_RETRIES: Final = 2
# The first wait, and the cap of the doubling: long enough to let a restarting server come up,
# short enough that three attempts stay within a request's usual patience.
INITIAL_DELAY: Final = 0.5
MAX_DELAY: Final = 8.0
# Each delay is cut by up to this fraction at random.
JITTER: Final = 0.25
# A Retry-After longer than this is not waited for: the caller gets the error (with retry_after).
MAX_RETRY_AFTER: Final = 60.0

# 408 request timeout, 429 too many requests: the server did not process the request.
# 500/502/503/504: a failing or overloaded server or proxy; safe calls may try again.
RETRY_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})

# Transport failures that happen before a single byte of the request left this machine.
_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Idempotency(enum.Enum):
    """Whether a request may be sent twice."""

    SAFE = "safe"  # reads, queries, and writes with an idempotency key
    UNSAFE = "unsafe"  # uploads: retried only when never sent


@attrs.frozen
class RetryDecision:
    """What to do after a failed attempt: wait `delay` seconds and retry, or stop (`delay` is None)."""

    delay: float | None
    reason: str

    @property
    def retry(self) -> bool:
        """Whether to send the request again."""
        return self.delay is not None


def never_sent(error: httpx.TransportError) -> bool:
    """Whether `error` proves the request never reached the server."""
    return isinstance(error, _NEVER_SENT)


def jittered_backoff(failures: int, *, initial: float, cap: float, jitter: float, rand: float) -> float:
    """`initial` doubling per failure (1-based) up to `cap`, cut by up to `jitter` (a fraction) at random.

    The one backoff formula of the SDK: API-call retries and token exchanges both use it.
    """
    nominal = min(cap, initial * 2.0 ** min(max(failures, 1) - 1, 16))
    return nominal * (1.0 - jitter * rand)


def backoff(attempt: int, rand: float) -> float:
    """The delay after failed attempt number `attempt` (1-based): 0.5 s doubling to 8 s, jittered."""
    return jittered_backoff(attempt, initial=INITIAL_DELAY, cap=MAX_DELAY, jitter=JITTER, rand=rand)


def decide_retry(
    *,
    idempotency: Idempotency,
    attempt: int,
    max_retries: int,
    outcome: Answer | httpx.TransportError,
    rand: Callable[[], float],
    wall_clock: Callable[[], float] | None = None,
) -> RetryDecision:
    """Whether to retry after attempt number `attempt` ended with `outcome` (a non-2xx answer or a
    transport failure), and after how long."""
    if isinstance(outcome, httpx.TransportError):
        from chalk_client._core.network import certificate_failure  # failures only: keeps the import lean

        if certificate_failure(outcome) is not None:
            return RetryDecision(
                None, "the server's TLS certificate failed verification, which a retry will not fix"
            )
        if idempotency is Idempotency.UNSAFE and not never_sent(outcome):
            return RetryDecision(None, "it may have reached the server, and sending it again could repeat it")
        what = type(outcome).__name__
        retry_after = None
    else:
        status = outcome.status_code
        if status not in RETRY_STATUSES:
            return RetryDecision(None, f"status {status} is final")
        if idempotency is Idempotency.UNSAFE:
            return RetryDecision(None, "it reached the server, and sending it again could repeat it")
        what = f"status {status}"
        retry_after = parse_retry_after(outcome.headers.get("retry-after"), wall_clock=wall_clock)
    if attempt > max_retries:
        return RetryDecision(None, f"{what}; no retries left ({max_retries} allowed)")
    if retry_after is not None:
        if retry_after > MAX_RETRY_AFTER:
            return RetryDecision(
                None, f"{what}; Retry-After {retry_after:.0f} s is over {MAX_RETRY_AFTER:.0f} s"
            )
        return RetryDecision(retry_after, f"{what}; Retry-After asked for {retry_after:.1f} s")
    return RetryDecision(backoff(attempt, rand()), f"{what}; backing off")
