from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select

from onebar.store import open_store
from onebar.store.db import MIGRATIONS, current_revision
from onebar.store.schema import SCHEMA_REVISION, identities, repositories


def test_schema_revision_matches_migrations_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_REVISION


def test_open_creates_schema_and_reopen_is_idempotent(store_url: str) -> None:
    store = open_store(store_url)
    assert current_revision(store) == SCHEMA_REVISION
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
    import pytest

    from onebar.errors import UsageError

    with pytest.raises(UsageError, match="not a usable database URL") as info:
        open_store("foo://bar")
    assert info.value.exit_code == 2
