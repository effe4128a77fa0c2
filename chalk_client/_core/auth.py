"""The 401 rule: when a call rejected with a 401 is sent again with a fresh token.

Every call sends ``Authorization: Bearer <token>`` with the token it read when it got its
connection slot. On a 401:

- the token is dropped from the cache *if it is still the cached one* (compare-and-invalidate, so N
  calls rejected with the same token cause one exchange), and the call is sent again with a fresh
  one, once;
- a 401 for a token that had expired by the time it was sent (it waited that long) is explained by
  its age: such a call is replayed up to :data:`MAX_AGED_REPLAYS` times;
- a 401 for a token that was exchanged for this very call, and was still valid, is final at once: a
  second exchange would most likely be rejected the same way, and the caller gets
  :class:`~chalk_client.ChalkAuthenticationError` (from the error mapping) instead of a loop.

The decision is a pure function of the token cache's answers; both clients' call flows use it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from chalk_client._core.token import Token

__all__ = ["MAX_AGED_REPLAYS", "replay_after_401"]

logger = logging.getLogger("chalk_client.auth")

# Replays after a 401 for a token that had expired by the time it was sent (a long queue for a
# connection under load); a 401 for a token that was still valid is replayed once.
MAX_AGED_REPLAYS: Final = 3


def replay_after_401(
    token: Token,
    *,
    exchanged: bool,
    replays: int,
    expired: Callable[[Token], bool],
    invalidate: Callable[[Token], bool],
    what: str,
) -> bool:
    """Whether to send again a call that `token` got a 401 for (dropping `token` if so).

    Args:
        token: The token the rejected request carried.
        exchanged: Whether that token came from an exchange this call waited for.
        replays: How many times this attempt was already replayed after a 401.
        expired: Whether a token is past its deadline (or no longer the cached one).
        invalidate: Compare-and-invalidate: drop the cached token if it is still the one given.
        what: ``METHOD URL`` for the log line.
    """
    aged = expired(token)
    if (exchanged and not aged) or replays >= (MAX_AGED_REPLAYS if aged else 1):
        logger.debug(
            "%s: 401 after %d replay(s)%s; not retried",
            what,
            replays,
            " for a token exchanged for this call" if exchanged and not aged else "",
        )
        return False
    dropped = invalidate(token)
    logger.debug(
        "%s: 401 for a token that %s; %s, replaying",
        what,
        "had expired by the time it was sent" if aged else "looked valid",
        "dropped it" if dropped else "another call already replaced it",
    )
    return True
