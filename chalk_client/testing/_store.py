"""The feature values clients wrote to :class:`~chalk_client.testing.ChalkServer`, and what they deleted.

There are two stores, as Chalk has: the online store (what ``/v1/query/online`` and
``/v1/query/feather`` read) and the offline store (what offline queries read). Uploads
(``/v1/upload_features`` and ``/v1/upload_features/multi``) write both. Deletions
(``DELETE /v1/features/rows`` and ``DELETE /v1/features/columns``) write one or both: a deletion
that retains the online values leaves the online store alone, and the same for offline.

Each store keeps, per user id that was uploaded or deleted, an entry of feature name to its value,
or :data:`DELETED` for a feature deleted since its last upload. A feature the entry does not name
answers its seeded value (:func:`~chalk_client.testing.seeded_user`). A dropped column marks the
feature :data:`DELETED` for every user, seeded ones included; a later upload of that feature for a
user brings that user's value back. The primary key ``user.id`` is never deleted.

:func:`lookup` reads an entry the way every query does.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final, Literal

__all__ = ["DELETED", "MISSING", "OFFLINE", "ONLINE", "STORES", "FeatureStore", "StoreName", "lookup"]


class _Marker:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


DELETED: Final[Any] = _Marker("DELETED")
"""An entry's value for a feature deleted since its last upload: it answers null, without error."""

MISSING: Final[Any] = _Marker("MISSING")
"""What :func:`lookup` gives for a feature the store does not hold: its seeded value applies."""

StoreName = Literal["online", "offline"]
ONLINE: Final[StoreName] = "online"
OFFLINE: Final[StoreName] = "offline"
STORES: Final[tuple[StoreName, StoreName]] = (ONLINE, OFFLINE)
"""Both stores, online first."""
_PRIMARY_KEY: Final = "user.id"


def lookup(entry: Mapping[str, Any] | None, name: str) -> Any:  # noqa: ANN401 - a feature value
    """Feature `name` in a store's `entry` (:meth:`FeatureStore.get`): its uploaded value,
    :data:`DELETED`, or :data:`MISSING` (the seeded value applies)."""
    return MISSING if entry is None else entry.get(name, MISSING)


class FeatureStore:
    """The online and offline stores, and how many rows and uploads were stored.

    Entries are replaced, never changed in place, so a reader may keep one after the lock is
    released. Uploads are shared by all environments.

    Args:
        max_entities: At most this many user ids keep an entry per store; the oldest inserted is
            forgotten first (with what it stored or deleted), so a long benchmark does not grow
            memory without bound.
    """

    def __init__(self, *, max_entities: int = 1_000_000) -> None:
        self._lock = threading.Lock()
        self._entries: dict[StoreName, dict[int, Mapping[str, Any]]] = {ONLINE: {}, OFFLINE: {}}
        # Features dropped for every user, and the entry of a user the store holds nothing else of.
        self._dropped: dict[StoreName, frozenset[str]] = {ONLINE: frozenset(), OFFLINE: frozenset()}
        self._dropped_entry: dict[StoreName, Mapping[str, Any] | None] = {ONLINE: None, OFFLINE: None}
        self._max_entities = max_entities
        self.rows_stored = 0
        self.upload_requests = 0

    def get(self, user_id: int, store: StoreName = ONLINE) -> Mapping[str, Any] | None:
        """What `store` holds for `user_id` (read it with :func:`lookup`), or None: nothing."""
        with self._lock:
            entry = self._entries[store].get(user_id)
            return entry if entry is not None else self._dropped_entry[store]

    def store(self, columns: Mapping[str, list[Any]], rows: int) -> None:
        """Store `rows` rows given as columns (one of them ``user.id``) in both stores; later rows
        win. Counts the rows and one upload."""
        ids = columns[_PRIMARY_KEY]
        others = [(name, column) for name, column in columns.items() if name != _PRIMARY_KEY]
        with self._lock:
            online, offline = self._entries[ONLINE], self._entries[OFFLINE]
            same_base = self._dropped[ONLINE] == self._dropped[OFFLINE]
            for row in range(rows):
                user_id: int = ids[row]
                values = {name: column[row] for name, column in others}
                values[_PRIMARY_KEY] = user_id
                current = online.get(user_id)
                merged = self._merged(ONLINE, current, values)
                self._put(ONLINE, user_id, merged)
                previous = offline.get(user_id)
                # The two stores usually agree: then they share one entry.
                shared = previous is current and (current is not None or same_base)
                self._put(OFFLINE, user_id, merged if shared else self._merged(OFFLINE, previous, values))
            self.rows_stored += rows
            self.upload_requests += 1

    def delete(self, user_ids: Iterable[int], names: Collection[str], stores: Iterable[StoreName]) -> None:
        """Mark features `names` of `user_ids` deleted in `stores` (deleting twice changes nothing)."""
        deleted = dict.fromkeys(names, DELETED)
        if not deleted:
            return
        user_ids = list(user_ids)
        with self._lock:
            for store in stores:
                entries = self._entries[store]
                for user_id in user_ids:
                    self._put(store, user_id, self._merged(store, entries.get(user_id), deleted))

    def drop(self, names: Collection[str], stores: Iterable[StoreName]) -> None:
        """Mark features `names` deleted for every user in `stores`, until a user's next upload of them."""
        deleted = dict.fromkeys(names, DELETED)
        if not deleted:
            return
        with self._lock:
            for store in stores:
                dropped = self._dropped[store] | deleted.keys()
                self._dropped[store] = dropped
                self._dropped_entry[store] = MappingProxyType(dict.fromkeys(dropped, DELETED))
                entries = self._entries[store]
                for user_id, entry in entries.items():  # replaces values only: no resize
                    entries[user_id] = {**entry, **deleted}

    def counts(self) -> tuple[int, int]:
        """``(rows_stored, upload_requests)``, read together."""
        with self._lock:
            return self.rows_stored, self.upload_requests

    # -- under the lock -------------------------------------------------------------------------

    def _merged(
        self, store: StoreName, entry: Mapping[str, Any] | None, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        merged = dict(entry) if entry is not None else dict.fromkeys(self._dropped[store], DELETED)
        merged.update(values)
        return merged

    def _put(self, store: StoreName, user_id: int, entry: Mapping[str, Any]) -> None:
        entries = self._entries[store]
        if user_id not in entries and len(entries) >= self._max_entities:
            del entries[next(iter(entries))]
        entries[user_id] = entry
