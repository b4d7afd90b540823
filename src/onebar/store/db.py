"""Opening the store: SQLite (WAL, one writer) by default, PostgreSQL when the URL names one.

`open_store` brings the schema to the current Alembic revision. It checks the recorded revision
with one query first, so the common case (already current) costs no Alembic start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from onebar.errors import StoreError, UsageError
from onebar.settings import database_url
from onebar.store.schema import SCHEMA_REVISION

MIGRATIONS = Path(__file__).parent / "migrations"


class Store:
    """A handle on one onebar database (many repositories live in one store)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, stored whole or not at all; writers are serialised."""
        with self.engine.connect() as conn:
            conn.execution_options(onebar_write=True)  # SQLite: BEGIN IMMEDIATE (see _sqlite_engine)
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(7242)"))
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: str) -> Engine:
    path = url.removeprefix("sqlite:///")
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60, "isolation_level": None})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA cache_size=-32768")  # 32 MiB: random-order index inserts (shas) stay in memory
        cur.execute("PRAGMA wal_autocheckpoint=20000")  # checkpoint every ~80 MB, not 4: bulk ingest writes less
        cur.close()

    # pysqlite's own transaction handling is off (isolation_level=None); begin explicitly so a
    # write transaction takes the lock up front instead of failing half-way on SQLITE_BUSY, while
    # reads stay deferred and never block a writer (WAL).
    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("onebar_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open (creating if needed) the store named by `url`, --db, ONEBAR_DATABASE_URL or the default."""
    url = database_url(url)
    try:
        engine = _sqlite_engine(url) if url.startswith("sqlite") else create_engine(url, pool_pre_ping=True)
        store = Store(engine)
        if migrate and current_revision(store) != SCHEMA_REVISION:
            upgrade(store)
    except ArgumentError as exc:  # not a URL SQLAlchemy can use: bad input, not an unavailable store
        raise UsageError(
            f"--db / ONEBAR_DATABASE_URL: {_safe(url)} is not a usable database URL ({exc})",
            hint="give a SQLite file path, sqlite:///PATH or postgresql://user@host:5432/db",
        ) from None
    except OperationalError as exc:
        raise StoreError(f"cannot open the store {_safe(url)}: {exc.orig}") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the store {_safe(url)}: {exc}") from None
    return store


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, SQLAlchemyError):
            conn.rollback()
            return None


def upgrade(store: Store, revision: str = "head") -> None:
    """Run the Alembic migrations up to `revision`, in one transaction where the database allows."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
