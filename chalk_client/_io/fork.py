"""After ``os.fork()``: the child resets what it must not share with its parent.

Objects register here once; in a forked child each one's ``_reset_after_fork()`` runs before any
other code. Locks may have been held by threads that do not exist in the child, an exchange in
flight will never finish there, and pooled sockets still belong to the parent.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

__all__ = ["keep_inherited", "reset_after_fork"]


class _ForkAware(Protocol):
    def _reset_after_fork(self) -> None: ...


_live: weakref.WeakSet[_ForkAware] = weakref.WeakSet()
# What the child inherited and must neither close (the parent still uses those sockets) nor let be
# garbage-collected (that would close them, and warn): kept referenced for the child's lifetime.
_inherited: list[object] = []


def reset_after_fork(owner: _ForkAware) -> None:
    """Call ``owner._reset_after_fork()`` in every forked child while `owner` is alive."""
    _live.add(owner)


def keep_inherited(obj: object) -> None:
    """Keep an object inherited from the parent referenced, untouched, in the child."""
    _inherited.append(obj)


def _after_fork_in_child() -> None:
    for owner in list(_live):
        owner._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
