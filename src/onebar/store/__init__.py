"""The store: SQLite by default, PostgreSQL by URL; one schema, Alembic migrations.

`Store` and `open_store` load SQLAlchemy when first used, not when `onebar.store` is imported, so
that `onebar.store.cache` costs a no-op run nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onebar.store.db import Store, open_store

__all__ = ["Store", "open_store"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from onebar.store import db

        return getattr(db, name)
    raise AttributeError(f"module 'onebar.store' has no attribute {name!r}")
