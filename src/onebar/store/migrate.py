"""The store's schema: what a database holds, checked against this onebar's tables, and migrated.

`bring_up` runs whenever a store is opened: a current store is only checked (its revision, then its
tables and columns, so a damaged one is named rather than half-read); an older one is migrated by
Alembic in one transaction under the write lock; a newer one, or onebar tables without a revision,
is refused with what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from onebar.errors import ReadOnlyStoreError, StoreError
from onebar.store.schema import SCHEMA_REVISION, metadata

MIGRATIONS = Path(__file__).parent / "migrations"
PG_WRITE_LOCK = 7242  # PostgreSQL: the advisory lock that serialises writers, migrations included


@dataclass(frozen=True)
class _Probe:
    """What a store holds before onebar touches it: its revision, its tables' columns, whether it can be written."""

    revision: str | None
    columns: dict[str, set[str]]
    readonly: bool


def _probe(conn: Connection) -> _Probe:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p WHERE m.type = 'table'"
        ).all()
        readonly = False
    else:
        rows = conn.exec_driver_sql(
            "SELECT c.relname, a.attname FROM pg_attribute AS a JOIN pg_class AS c ON a.attrelid = c.oid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
            "AND a.attnum > 0 AND NOT a.attisdropped"
        ).all()
        readonly = bool(
            conn.exec_driver_sql(
                "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' "
                "OR (to_regclass('alembic_version') IS NOT NULL "
                "AND NOT has_table_privilege(to_regclass('alembic_version'), 'UPDATE'))"
            ).scalar()
        )
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    revision = None
    if "alembic_version" in columns:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return _Probe(revision, columns, readonly)


def bring_up(engine: Engine, url: str, readonly: bool, migrate: bool) -> bool:
    """Check the schema of the store at `url` and migrate it when it is older than this onebar's;
    whether the store turned out read-only (a replica, a role without UPDATE)."""
    with engine.connect() as conn:
        probe = _probe(conn)
        conn.rollback()
    readonly = readonly or probe.readonly
    if probe.revision == SCHEMA_REVISION:
        _check_shape(url, probe)
        return readonly
    if probe.revision is not None and not _known_revision(probe.revision):
        raise StoreError(
            f"the store {url} has schema revision {probe.revision}, newer than this onebar "
            f"knows (it reads up to revision {SCHEMA_REVISION}): a newer onebar wrote it",
            hint="upgrade onebar to read it: pip install --upgrade onebar",
        )
    ours = sorted(set(probe.columns) & set(metadata.tables))
    if probe.revision is None and ours:
        raise StoreError(
            f"the store {url} holds onebar tables ({', '.join(ours)}) "
            "but no schema revision: it is damaged or was not made by onebar",
            hint="point --db at another database, or restore this one from a backup",
        )
    if not migrate:
        return readonly
    if readonly:
        what = "new" if probe.revision is None else f"at schema revision {probe.revision}"
        raise ReadOnlyStoreError(
            f"the store {url} is read-only and {what}: this onebar needs revision {SCHEMA_REVISION}",
            hint="open it once with write access to upgrade it",
        )
    upgrade(engine)
    return readonly


def _check_shape(url: str, probe: _Probe) -> None:
    missing: list[str] = []
    for name, table in metadata.tables.items():
        have = probe.columns.get(name)
        if have is None:
            missing.append(f"table {name}")
        else:
            missing.extend(f"column {name}.{c.name}" for c in table.columns if c.name not in have)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise StoreError(
            f"the store {url} is at schema revision {SCHEMA_REVISION} but lacks {shown}: it is damaged",
            hint="point --db at another database, or restore this one from a backup",
        )


def _known_revision(revision: str) -> bool:
    """Whether this onebar's migrations include `revision` (read only when a store is not current)."""
    return revision in {script.revision for script in _script().walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _probe(conn).revision


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to `revision` in one transaction that holds the write lock, so
    that processes opening a new store at once migrate it once: the others wait, then find it current."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        conn.execution_options(onebar_write=True)  # SQLite: BEGIN IMMEDIATE
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})"))
            if revision == "head" and _probe(conn).revision == SCHEMA_REVISION:
                return  # another process migrated it while this one waited for the lock
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)


def _script() -> Any:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)
