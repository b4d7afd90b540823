"""The store: SQLite by default, PostgreSQL by URL; one schema, Alembic migrations."""

from onebar.store.db import Store, open_store

__all__ = ["Store", "open_store"]
