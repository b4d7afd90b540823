"""Alembic environment: migrations run on the connection onebar hands over (see store.migrate.upgrade)."""

from __future__ import annotations

import importlib
import pkgutil

from alembic import context
from sqlalchemy import create_engine

import onebar.store
from onebar.store.schema import metadata

# Each area keeps its tables in its own store/schema_<area>.py on the one metadata; load them all.
for _mod in pkgutil.iter_modules(onebar.store.__path__):
    if _mod.name.startswith("schema_"):
        importlib.import_module(f"onebar.store.{_mod.name}")

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` command line, for authoring migrations
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
