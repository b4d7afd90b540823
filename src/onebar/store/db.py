"""Opening the store: SQLite (WAL, one writer) by default, PostgreSQL when the URL names one.

`open_store` checks what it opens with one catalog query and one revision query: a store at this
onebar's schema revision is used as is (no Alembic start-up), an older one is migrated under a lock
(several processes may open a new store at once), and a newer, damaged or foreign one is refused
with a message saying which. A store that can only be read (a read-only file, mount, role or
replica) opens for reading; a write to it raises `ReadOnlyStoreError`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

from onebar.errors import OnebarError, ReadOnlyStoreError, StoreBusyError, StoreError, UsageError
from onebar.settings import database_url
from onebar.store.migrate import PG_WRITE_LOCK, bring_up

USABLE = "give a SQLite file path, sqlite:///PATH or postgresql://user@host:5432/db"

# PostgreSQL advisory lock keys: PG_WRITE_LOCK for writers (and migrations), and one space of
# per-repository ingest locks (the two-key form, so it never collides with the one-key writer lock).
_PG_INGEST_LOCKS = 7243

AUTOCHECKPOINT_PAGES = 20_000
BUSY_TIMEOUT_MS = 60_000  # SQLite: how long a writer waits in SQLite's own busy handler, by default
WAIT_STEP = 0.0005  # SQLite, `write(wait=...)`: seconds between two attempts at the write lock


# Hot statements written as the driver's own SQL, formatted once per dialect and list length: through
# SQLAlchemy Core each statement costs ~0.25 ms of Python (cache key, compilation, result set-up) for
# a few microseconds in the database.
_DRIVER_SQL: dict[tuple[str, str, int], str] = {}


def driver_sql(conn: Connection, sql: str, n: int = 0) -> str:
    """`sql` for `conn.exec_driver_sql`: `{p}` becomes the driver's placeholder (`?` for sqlite3, `%s`
    for psycopg) and `{ins}` `n` of them, for an IN list."""
    key = (conn.dialect.name, sql, n)
    out = _DRIVER_SQL.get(key)
    if out is None:
        if len(_DRIVER_SQL) > 4096:  # lists of many lengths: keep the cache bounded
            _DRIVER_SQL.clear()
        p = "?" if key[0] == "sqlite" else "%s"
        out = _DRIVER_SQL[key] = sql.format(p=p, ins=", ".join([p] * n))
    return out


@dataclass
class Store:
    """A handle on one onebar database (many repositories live in one store)."""

    engine: Engine
    url: str = ""  # without its password, for messages
    readonly: bool = False
    lock_file: Path | None = None  # SQLite: beside the database, for per-repository ingest locks
    dialect: str = field(init=False)

    # This thread's spare SQLite connections: the change stamp's (`conn`), the write-lock probe's
    # (`probe`) and the checkpointer's (`ckpt`).
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.dialect = self.engine.dialect.name
        self.url = self.url or _safe(self.engine.url)

    def change_stamp(self) -> int | None:
        """A number that changes whenever anything is committed to the store, by any connection of any
        process, as seen from the calling thread; None where the store has no such cheap stamp
        (PostgreSQL, a SQLite database in memory), and callers then read the store every time.

        SQLite: `PRAGMA data_version` on a read-only connection of this thread that never writes (a
        few microseconds, against hundreds for a query through SQLAlchemy). Values of two threads are
        not comparable."""
        if self.dialect != "sqlite":
            return None
        if not hasattr(self._local, "conn"):
            self._local.conn = self._stamp_connection()
        conn: sqlite3.Connection | None = self._local.conn
        if conn is None:
            return None
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    def write_free(self) -> bool:
        """Whether no connection of any process holds the write lock just now (SQLite; always True
        elsewhere, or where there is no file to probe): one BEGIN IMMEDIATE and ROLLBACK without
        waiting, on a connection of this thread that writes nothing (microseconds, where a failed
        `write(wait=0)` costs a few hundred). A writer waiting for another polls this first."""
        if self.dialect != "sqlite" or self.readonly:
            return True
        if not hasattr(self._local, "probe"):
            file = _database_file(self.engine.url)
            probe = None if file is None else sqlite3.connect(str(file), isolation_level=None, timeout=0)
            self._local.probe = probe
        conn: sqlite3.Connection | None = self._local.probe
        if conn is None:
            return True
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        conn.execute("ROLLBACK")
        return True

    def checkpoint(self) -> int:
        """SQLite in WAL mode: copy what the WAL holds back into the database file, without waiting for
        any reader or writer (PASSIVE), on a spare connection of this thread; how many of the WAL's
        frames are now in the database (all of them, unless a reader still needs older pages). A
        commit that crosses the auto-checkpoint threshold would do this itself, inside the commit
        (80 MB at a time, a tenth of a second here); a store opened with `checkpoints=False` leaves it
        to a thread that calls this. Elsewhere 0."""
        if self.dialect != "sqlite" or self.readonly:
            return 0
        if not hasattr(self._local, "ckpt"):
            file = _database_file(self.engine.url)
            self._local.ckpt = None if file is None else sqlite3.connect(str(file), isolation_level=None, timeout=0)
        conn: sqlite3.Connection | None = self._local.ckpt
        if conn is None:
            return 0
        try:
            row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.OperationalError:  # busy: another checkpoint is running
            return 0
        return int(row[2]) if row and row[2] > 0 else 0

    def _stamp_connection(self) -> sqlite3.Connection | None:
        file = _database_file(self.engine.url)
        if file is None:
            return None
        try:
            conn = sqlite3.connect(f"file:{file.resolve()}?mode=ro", uri=True, isolation_level=None)
            conn.execute("PRAGMA data_version")
        except sqlite3.Error:  # e.g. a WAL database on a read-only mount: no stamp, so no memo
            return None
        return conn

    @contextmanager
    def write(self, *, wait: float | None = None) -> Iterator[Connection]:
        """One write transaction, stored whole or not at all; writers are serialised.

        `wait` (SQLite): try for the write lock every `WAIT_STEP` seconds for up to `wait` seconds
        (0: once), then raise `StoreBusyError`, instead of waiting in SQLite's busy handler, whose
        sleeps grow to 100 ms: a short transaction behind another process's then waits for the
        sleep, not for the other transaction. PostgreSQL waits for its lock whatever `wait` says."""
        if self.readonly:
            raise self.read_only_error()
        with self._errors(), self.engine.connect() as conn:
            # SQLite: BEGIN IMMEDIATE (see _sqlite_engine)
            conn.execution_options(onebar_write=True, onebar_wait=wait)
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(text(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})"))
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._errors(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def ingest_lock(self, repo_id: int) -> Iterator[bool]:
        """Held while one process ingests one repository: a second ingest of it waits, then finds
        nothing left to do. Ingests of other repositories run alongside. Released by the operating
        system or the server if the process dies. Yields whether the lock is exclusive (False when
        no lock file can be made beside a SQLite store: ingests then rely on per-batch checks)."""
        if self.dialect == "postgresql":
            with self._errors(), self.engine.connect() as conn:
                conn.execute(text(f"SELECT pg_advisory_lock({_PG_INGEST_LOCKS}, :id)"), {"id": repo_id})
                conn.commit()
                try:
                    yield True
                finally:
                    try:
                        conn.execute(text(f"SELECT pg_advisory_unlock({_PG_INGEST_LOCKS}, :id)"), {"id": repo_id})
                        conn.commit()
                    except SQLAlchemyError:
                        conn.invalidate()  # closing the session is what releases its lock, never a pooled leftover
        elif self.lock_file is not None:
            with _file_lock(self.lock_file, repo_id) as exclusive:
                yield exclusive
        else:  # an in-memory database lives in one process
            yield True

    def analyze(self, *tables: Table, stale_only: bool = False) -> None:
        """PostgreSQL: refresh the planner's statistics after a bulk load, as its manual advises.

        Without them a table filled by one ingest still looks empty to the planner, which then reads
        every commit of a repository to find a few hundred shas. `stale_only` skips a table whose
        statistics cover at least half its rows. SQLite needs none: its planner prefers unique indexes.
        """
        if self.dialect != "postgresql" or self.readonly:
            return
        with self._errors(), self.engine.connect() as conn:
            for table in tables:
                if stale_only:
                    known, live = conn.execute(
                        text(
                            "SELECT c.reltuples, coalesce(s.n_live_tup, 0) FROM pg_class AS c "
                            "LEFT JOIN pg_stat_user_tables AS s ON s.relid = c.oid WHERE c.oid = to_regclass(:t)"
                        ),
                        {"t": table.name},
                    ).one()
                    if known >= 0.5 * live:
                        continue
                conn.exec_driver_sql(f"ANALYZE {table.name}")
            conn.commit()

    def read_only_error(self) -> ReadOnlyStoreError:
        return ReadOnlyStoreError(
            f"the store {self.url} is read-only: it can be read (report, offboard, overlap) but not written",
            hint="point --db / ONEBAR_DATABASE_URL at a writable store to ingest or record",
        )

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Database failures the user can act on (read-only, locked, full, unreachable) as StoreError."""
        try:
            yield
        except OperationalError as exc:
            if _is_read_only(exc):
                raise self.read_only_error() from None
            if _is_busy(exc):
                raise StoreBusyError(
                    f"the store {self.url} is busy: another writer held it too long ({_reason(exc)})",
                    hint="try again in a moment",
                ) from None
            raise StoreError(f"the store {self.url} failed: {_reason(exc)}") from None
        except DBAPIError as exc:
            if _is_read_only(exc):
                raise self.read_only_error() from None
            raise

    def close(self) -> None:
        self.engine.dispose()
        self.release_thread()  # this thread's spare connections; other threads' close with them

    def release_thread(self) -> None:
        """Close the calling thread's spare SQLite connections (a long-lived thread ending)."""
        for name in ("conn", "probe", "ckpt"):
            conn = getattr(self._local, name, None)
            if conn is not None:
                conn.close()
                delattr(self._local, name)


def open_store(
    url: str | None = None, *, migrate: bool = True, existing: bool = False, checkpoints: bool = True
) -> Store:
    """Open (creating if needed) the store named by `url`, --db, ONEBAR_DATABASE_URL or the default.

    `existing`: a command that only reads (verifying the audit log, listing tokens or jobs) refuses a
    SQLite store that is not there rather than creating an empty one and reporting on nothing.
    `checkpoints=False` (SQLite): no commit of this store's connections copies the WAL back into the
    database; the caller runs `Store.checkpoint()` off its latency-sensitive threads instead.
    """
    full = database_url(url)
    parsed = _parse(full)
    safe = full if parsed.get_backend_name() == "sqlite" else _safe(parsed)  # as typed: no password to hide
    try:
        if parsed.get_backend_name() == "sqlite":
            if existing and _missing_file(parsed):
                raise UsageError(
                    f"no store at {parsed.database}: this command reads a store and creates none",
                    field="db",
                    hint="check --db (or ONEBAR_DATABASE_URL); onebar ingest, onebar serve or onebar demo create one",
                )
            store = _open_sqlite(parsed, safe, checkpoints)
        else:
            engine = create_engine(parsed, pool_pre_ping=True, connect_args=_pg_connect_args(parsed))
            store = Store(engine, safe)
        try:
            store.readonly = bring_up(store.engine, store.url, store.readonly, migrate)
        except BaseException:
            store.close()
            raise
    except OnebarError:
        raise
    except OperationalError as exc:
        if _is_not_a_database(exc):
            raise UsageError(f"{safe} is not a SQLite database", field="db", hint=USABLE) from None
        raise StoreError(f"cannot open the store {safe}: {_reason(exc)}") from None
    except SQLAlchemyError as exc:
        if _is_not_a_database(exc):
            raise UsageError(f"{safe} is not a SQLite database", field="db", hint=USABLE) from None
        raise StoreError(f"cannot open the store {safe}: {_reason(exc)}") from None
    return store


def _parse(url: str) -> URL:
    """The URL, checked: SQLite or PostgreSQL through psycopg 3, with a port that is a port."""
    try:
        parsed = make_url(url)
        port = parsed.port
    except (ArgumentError, ValueError) as exc:
        raise UsageError(f"{_safe(url)} is not a usable database URL ({exc})", field="db", hint=USABLE) from None
    if parsed.drivername not in {"sqlite", "sqlite+pysqlite", "postgresql+psycopg"}:
        raise UsageError(
            f"{_safe(parsed)} is not a usable database URL: onebar stores in SQLite or PostgreSQL "
            f"(through psycopg 3), not {parsed.drivername}",
            field="db",
            hint=USABLE,
        )
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"{_safe(parsed)}: port {port} is not between 1 and 65535", field="db", hint=USABLE)
    return parsed


def _pg_connect_args(url: URL) -> dict[str, Any]:
    # Fail in seconds, not minutes, when the server is unreachable (unless the URL says otherwise).
    return {} if "connect_timeout" in url.query else {"connect_timeout": 10}


def _database_file(url: URL) -> Path | None:
    """The SQLite file `url` names; None for a database in memory or a URI the user spelt out."""
    path = url.database or ""
    return None if not path or path == ":memory:" or path.startswith("file:") else Path(path)


def _missing_file(url: URL) -> bool:
    file = _database_file(url)
    return file is not None and not file.exists()


def _open_sqlite(url: URL, safe: str, checkpoints: bool = True) -> Store:
    path = url.database or ""
    if _database_file(url) is None:
        readonly = url.query.get("mode") == "ro" or url.query.get("immutable") == "1"
        engine = _sqlite_engine(url, readonly=False, pragmas=not readonly, checkpoints=checkpoints)
        return Store(engine, safe, readonly=readonly)
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "backslashreplace").decode()
        raise UsageError(f"{shown}: SQLite needs a store path that is UTF-8", field="db", hint=USABLE) from None
    file = Path(path)
    if file.is_dir():
        raise UsageError(f"{file} is a directory, not a SQLite database", field="db", hint=USABLE)
    if not file.exists():
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"cannot create the store {file}: {exc.strerror} ({exc.filename})", field="db", hint=USABLE
            ) from None
        if not os.access(file.parent, os.W_OK):
            raise UsageError(f"cannot create the store {file}: {file.parent} is read-only", field="db", hint=USABLE)
    writable = not file.exists() or (os.access(file, os.W_OK) and os.access(file.parent, os.W_OK))
    if writable:
        engine = _sqlite_engine(url, readonly=False, checkpoints=checkpoints)
        return Store(engine, safe, lock_file=Path(f"{file}-ingest.lock"))
    store = Store(_sqlite_engine(url, readonly=True), safe, readonly=True)
    try:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    except OperationalError:
        # A WAL database on a read-only mount without its -shm file: read the file as it is. Only
        # a clean close leaves no -wal behind, which is the only case where this is needed.
        store.close()
        store = Store(_sqlite_engine(url, readonly=True, immutable=True), safe, readonly=True)
    return store


def _sqlite_engine(
    url: URL, *, readonly: bool, immutable: bool = False, pragmas: bool = True, checkpoints: bool = True
) -> Engine:
    if readonly:
        mode = "mode=ro&immutable=1" if immutable else "mode=ro"
        url = url.set(database=f"file:{Path(url.database or '').resolve()}?{mode}", query={"uri": "true"})
    engine = create_engine(url, connect_args={"timeout": 60, "isolation_level": None})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # first: the pragmas below may wait for a lock
        if pragmas and not readonly:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint every ~80 MB, not 4: bulk ingest writes less. Or never, for a caller that
            # checkpoints off the threads whose commits must stay short (`open_store(checkpoints=False)`).
            cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES if checkpoints else 0}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA cache_size=-32768")  # 32 MiB: random-order index inserts (shas) stay in memory
        cur.close()

    # pysqlite's own transaction handling is off (isolation_level=None); begin explicitly so a
    # write transaction takes the lock up front instead of failing half-way on SQLITE_BUSY, while
    # reads stay deferred and never block a writer (WAL).
    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        wait = options.get("onebar_wait")
        if not options.get("onebar_write", False):
            conn.exec_driver_sql("BEGIN")
        elif wait is None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            _begin_within(conn, wait)

    return engine


def _begin_within(conn: Connection, wait: float) -> None:
    """BEGIN IMMEDIATE, tried every WAIT_STEP for up to `wait` seconds without the busy handler; the
    last attempt's SQLITE_BUSY goes up as the driver raised it (the store makes it StoreBusyError)."""
    raw: Any = conn.connection.driver_connection
    deadline = time.monotonic() + wait
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    break
            time.sleep(WAIT_STEP)
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # fails again (busy): raised the way SQLAlchemy raises
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


# SQLite ingest locks: one byte per repository id in one lock file beside the database. POSIX
# record locks belong to the process, so threads of one process also queue on a threading lock,
# and the file stays open for the life of the process (closing it would drop every lock held on it).
_LOCK_FILES: dict[Path, int] = {}
_THREAD_LOCKS: dict[tuple[Path, int], threading.Lock] = {}
_REGISTRY = threading.Lock()


@contextmanager
def _file_lock(path: Path, key: int) -> Iterator[bool]:
    try:
        import fcntl
    except ImportError:  # no POSIX record locks (Windows): ingests do not wait, writes stay exact
        yield False
        return

    with _REGISTRY:
        fd = _LOCK_FILES.get(path)
        if fd is None:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError:
                fd = -1  # cannot create it (a read-only directory): ingests do not wait, writes stay exact
            _LOCK_FILES[path] = fd
        inner = _THREAD_LOCKS.setdefault((path, key), threading.Lock())
    with inner:
        if fd < 0:
            yield False
            return
        fcntl.lockf(fd, fcntl.LOCK_EX, 1, key)
        try:
            yield True
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, key)


def _is_read_only(exc: DBAPIError) -> bool:
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == 8)  # SQLITE_READONLY and its extended codes
    return getattr(orig, "sqlstate", None) in {"25006", "42501"}  # read-only transaction, insufficient privilege


def _is_busy(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == 5  # SQLITE_BUSY and its extended codes


def _is_not_a_database(exc: SQLAlchemyError) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlite_errorcode", None) == 26  # SQLITE_NOTADB


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own words (first line), without SQLAlchemy's statement dump."""
    orig = getattr(exc, "orig", None)
    words = str(orig if orig is not None else exc).strip()
    return words.splitlines()[0] if words else type(exc).__name__


def _safe(url: str | URL) -> str:
    """The URL without its password, for messages."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
