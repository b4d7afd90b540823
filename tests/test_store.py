from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from onebar.store import open_store
from onebar.store.migrate import MIGRATIONS, current_revision
from onebar.store.schema import SCHEMA_REVISION, identities, repositories


def test_schema_revision_matches_migrations_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_REVISION


def test_open_creates_schema_and_reopen_is_idempotent(store_url: str) -> None:
    store = open_store(store_url)
    assert current_revision(store.engine) == SCHEMA_REVISION
    with store.write() as conn:
        conn.execute(insert(repositories).values(path="/x", name="x", shallow=False))
    store.close()
    again = open_store(store_url)
    with again.read() as conn:
        assert conn.execute(select(repositories.c.name)).scalars().all() == ["x"]
    again.close()


def test_failed_write_transaction_leaves_nothing(store_url: str) -> None:
    store = open_store(store_url)
    try:
        with store.write() as conn:
            conn.execute(insert(identities).values(name="a", email="a@x"))
            raise RuntimeError("interrupted")
    except RuntimeError:
        pass
    with store.read() as conn:
        assert conn.execute(select(identities)).all() == []
    store.close()


def test_default_sqlite_location_is_created(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ONEBAR_DATABASE_URL")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store = open_store()
    assert (tmp_path / "data" / "onebar" / "onebar.db").is_file()
    store.close()


def test_a_reader_does_not_block_a_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    reader, writer = open_store(url), open_store(url)
    with reader.read() as rconn:
        assert rconn.execute(select(identities)).all() == []  # a read transaction is open
        with writer.write() as wconn:  # would wait for the reader if reads took the write lock
            wconn.execute(insert(identities).values(name="a", email="a@x"))
        assert rconn.execute(select(identities)).all() == []  # the reader keeps its snapshot
    with reader.read() as rconn:
        assert len(rconn.execute(select(identities)).all()) == 1
    reader.close()
    writer.close()


def test_a_url_that_is_no_database_is_a_usage_error() -> None:
    from onebar.errors import UsageError

    with pytest.raises(UsageError, match="not a usable database URL") as info:
        open_store("foo://bar")
    assert info.value.exit_code == 2


def _sqlite_exec(db: Path, *statements: str) -> None:
    import sqlite3

    with sqlite3.connect(db) as conn:
        for statement in statements:
            conn.execute(statement)


def test_a_store_from_a_newer_onebar_is_refused_naming_its_revision(store_url: str) -> None:
    import pytest

    from onebar.errors import StoreError

    store = open_store(store_url)
    with store.write() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'")
    store.close()
    with pytest.raises(StoreError, match=r"schema revision 0999, newer than this onebar") as info:
        open_store(store_url)
    assert SCHEMA_REVISION in str(info.value) and "upgrade onebar" in str(info.value)


def test_a_store_missing_a_table_or_a_column_is_refused(tmp_path: Path) -> None:
    import pytest

    from onebar.errors import StoreError

    db = tmp_path / "damaged.db"
    open_store(f"sqlite:///{db}").close()
    _sqlite_exec(db, "DROP TABLE trailers")
    with pytest.raises(StoreError, match="lacks table trailers: it is damaged"):
        open_store(f"sqlite:///{db}")
    _sqlite_exec(db, "CREATE TABLE trailers (commit_id INTEGER, key TEXT)")
    with pytest.raises(StoreError, match=r"lacks column trailers\.value"):
        open_store(f"sqlite:///{db}")


def test_onebar_tables_without_a_revision_are_refused(tmp_path: Path) -> None:
    import pytest

    from onebar.errors import StoreError

    db = tmp_path / "norev.db"
    open_store(f"sqlite:///{db}").close()
    _sqlite_exec(db, "DROP TABLE alembic_version")
    with pytest.raises(StoreError, match="no schema revision"):
        open_store(f"sqlite:///{db}")


def test_a_foreign_sqlite_database_gets_onebar_tables_beside_its_own(tmp_path: Path) -> None:
    db = tmp_path / "foreign.db"
    _sqlite_exec(db, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    store = open_store(f"sqlite:///{db}")
    assert current_revision(store.engine) == SCHEMA_REVISION
    store.close()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("mysql://u@localhost/db", "SQLite or PostgreSQL"),
        ("oracle://scott@db", "SQLite or PostgreSQL"),
        ("postgresql+psycopg2://u@localhost/db", "not postgresql+psycopg2"),
        ("postgresql://u@localhost:notaport/db", "not a usable database URL"),
        ("postgresql://u@localhost:70000/db", "port 70000 is not between 1 and 65535"),
        ("postgresql://u@[::1/db", "not a usable database URL"),
        ("foo://bar", "not a usable database URL"),
    ],
)
def test_database_urls_onebar_cannot_use_are_usage_errors(value: str, words: str) -> None:
    from onebar.errors import UsageError

    with pytest.raises(UsageError, match=re.escape(words)) as info:
        open_store(value)
    assert info.value.field == "db" and info.value.exit_code == 2


def test_a_file_that_is_no_database_or_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    from onebar.errors import UsageError

    text = tmp_path / "notes.txt"
    text.write_text("hello, I am not a database\n" * 100)
    with pytest.raises(UsageError, match="is not a SQLite database"):
        open_store(str(text))
    with pytest.raises(UsageError, match="is a directory"):
        open_store(str(tmp_path))
    with pytest.raises(UsageError, match="cannot create the store"):
        open_store("/proc/onebar-nowhere/store.db")


def test_an_unreachable_postgresql_server_is_a_store_error() -> None:
    from onebar.errors import StoreError

    with pytest.raises(StoreError, match="cannot open the store"):
        open_store("postgresql://nobody@127.0.0.1:9/db")


def test_a_sqlite_write_with_a_deadline_tries_finely_then_raises_store_busy(tmp_path: Path) -> None:
    """`write(wait=...)`: another connection's transaction is waited for in WAIT_STEP tries, not in
    the busy handler's growing sleeps; past the deadline, StoreBusyError; the busy timeout is restored."""
    import sqlite3
    import threading
    import time

    from onebar.errors import StoreBusyError
    from onebar.store.db import BUSY_TIMEOUT_MS

    store = open_store(f"sqlite:///{tmp_path / 'busy.db'}")
    try:
        other = sqlite3.connect(tmp_path / "busy.db", isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        assert not store.write_free()
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="busy"), store.write(wait=0.1):
            pass
        assert 0.1 <= time.monotonic() - started < 5.0  # not SQLite's busy handler: that waits 60 s
        threading.Timer(0.15, lambda: other.execute("COMMIT")).start()
        started = time.monotonic()
        with store.write(wait=2.0) as conn:
            conn.exec_driver_sql("CREATE TABLE t (x)")
        assert 0.1 < time.monotonic() - started < 1.5  # soon after the other commits, not at the 2 s deadline
        assert store.write_free()
        with store.write() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
        other.close()
    finally:
        store.close()


def _wal_autocheckpoint(store: object) -> int:
    with store.read() as conn:  # type: ignore[attr-defined]
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())


def test_a_store_opened_without_checkpoints_leaves_the_wal_to_checkpoint(tmp_path: Path) -> None:
    """`checkpoints=False`: no commit copies the WAL back (it would, inside the commit, past the
    threshold); `Store.checkpoint()` does, once, without waiting for anyone."""
    file = tmp_path / "quiet.db"
    store = open_store(f"sqlite:///{file}", checkpoints=False)
    try:
        assert _wal_autocheckpoint(store) == 0
        with store.write() as conn:
            conn.exec_driver_sql("CREATE TABLE blobs (b BLOB)")
        size = file.stat().st_size
        for _ in range(20):  # 4 MB in twenty commits, all of it in the WAL
            with store.write() as conn:
                conn.exec_driver_sql("INSERT INTO blobs VALUES (randomblob(200000))")
        assert file.stat().st_size == size
        assert store.checkpoint() > 1000  # frames of 4 KiB copied back
        copied = file.stat().st_size
        assert copied > size + 4_000_000
        store.checkpoint()  # nothing new since: nothing to copy
        assert file.stat().st_size == copied
        with store.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM blobs").scalar() == 20
    finally:
        store.close()
    default = open_store(f"sqlite:///{tmp_path / 'default.db'}")
    try:
        assert _wal_autocheckpoint(default) == 20_000  # everyone else checkpoints as SQLite does
    finally:
        default.close()


def test_the_service_checkpoints_its_store_on_a_thread_of_its_own(tmp_path: Path) -> None:
    import time

    from onebar.server.service import Service
    from onebar.server.settings import ServiceSettings

    file = tmp_path / "served.db"
    service = Service(ServiceSettings(database_url=f"sqlite:///{file}", data_dir=tmp_path / "data", job_workers=0))
    service.start()
    try:
        assert _wal_autocheckpoint(service.store) == 0  # a request's commit never copies the WAL back
        with service.store.write() as conn:
            conn.exec_driver_sql("CREATE TABLE blobs (b BLOB)")
            conn.exec_driver_sql("INSERT INTO blobs VALUES (randomblob(2000000))")
        size = file.stat().st_size
        deadline = time.monotonic() + 10
        while file.stat().st_size < size + 2_000_000:  # copied back by the service's checkpointer
            assert time.monotonic() < deadline, "the service never checkpointed its store"
            time.sleep(0.05)
    finally:
        service.stop()
