"""Values read from the store, kept in memory for as long as nothing has been committed to it since.

The service answers most requests with two indexed point queries (the caller's token, the report's
ETag); through SQLAlchemy each costs about half a millisecond, most of it outside the database.
`Stamped` keeps their answers and drops them all as soon as the store's change stamp moves
(`Store.change_stamp`: any commit, by any process), so a token revoked by `onebar token revoke` in
another process is refused on the very next request. Where the store has no cheap stamp
(PostgreSQL), every lookup reads the store, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from onebar.store.db import Store

V = TypeVar("V")


class Stamped(Generic[V]):
    def __init__(self, store: Store, limit: int = 4096):
        self.store = store
        self.limit = limit
        self._local = threading.local()  # stamps are per connection, so per thread: so is the memo

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        stamp = self.store.change_stamp()
        if stamp is None:
            return load()
        local = self._local
        if getattr(local, "stamp", None) != stamp:
            local.stamp, local.values = stamp, {}
        values: dict[Hashable, V] = local.values
        if key in values:
            return values[key]
        value = load()
        # Kept only when nothing was committed while it was read: then it is the state at `stamp`.
        if self.store.change_stamp() == stamp and len(values) < self.limit:
            values[key] = value
        return value
