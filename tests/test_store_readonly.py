"""A store that can only be read still serves report, offboard and overlap; a write says it is read-only.

Read-only for real: a read-only bind mount (of the directory, or of the database file alone) in a
private mount namespace (`unshare -m`, so nothing leaks to the machine), a SQLite read-only URI,
and on PostgreSQL a read-only session and a role that may only SELECT.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from helpers import GitRepo, run_cli
from onebar.errors import ReadOnlyStoreError
from onebar.mining.ingest import ingest_repository
from onebar.store import open_store

SRC = Path(__file__).parent.parent / "src"
CHARTER = (
    '[organisations.acme]\nkind = "internal"\ndomains = ["acme.test"]\n\n'
    '[people.alice]\nname = "Alice Example"\norg = "acme"\nemails = ["alice@acme.test"]\n'
)


def _history(repo: GitRepo) -> None:
    repo.commit("add charter", {"onebar.toml": CHARTER})
    for i in range(6):
        repo.commit(f"change {i}", {f"src/m{i % 3}.py": f"x = {i}\n"})
    repo.tag("v1.0.0", message="release")


def _can_unshare() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-m", "true"]).returncode == 0


def _in_readonly_mount(target: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `onebar ARGS` with `target` (a directory or a file) bind-mounted read-only over itself."""
    script = (
        f'mount --bind "{target}" "{target}" && mount -o remount,ro,bind "{target}" && '
        f'exec "{sys.executable}" -m onebar "$@"'
    )
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "onebar", *args], cwd=SRC, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
@pytest.mark.parametrize("what", ["directory", "file"])
def test_a_read_only_mount_serves_reports_and_refuses_writes(repo: GitRepo, tmp_path: Path, what: str) -> None:
    if not _can_unshare():
        pytest.skip("needs `unshare -m` (root or user namespaces) to make a read-only mount")
    _history(repo)
    folder = tmp_path / "store"
    db = folder / "onebar.db"
    result = run_cli("ingest", str(repo.path), "--db", str(db))
    assert result.exit_code == 0, result.output
    target = folder if what == "directory" else db
    noop = _in_readonly_mount(target, "ingest", str(repo.path), "--db", str(db))  # nothing new, still a write
    assert noop.returncode == 1 and "is read-only" in noop.stderr, noop.stderr
    repo.commit("after the store went read-only", {"src/new.py": "y = 1\n"})

    report = _in_readonly_mount(target, "report", str(repo.path), "--db", str(db), "--since", "all", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["window"]
    assert "read-only" in report.stderr and "without ingesting" in report.stderr
    assert "Traceback" not in report.stderr

    off = _in_readonly_mount(target, "offboard", "alice", str(repo.path), "--db", str(db), "--since", "all")
    assert off.returncode == 0, off.stderr
    assert off.stdout.startswith("If person Alice Example leaves")

    overlap = _in_readonly_mount(target, "overlap", str(repo.path))
    assert overlap.returncode == 0, overlap.stderr

    for args in (
        ["record", "deploy", str(repo.path), "--at", "now", "--ref", "v1.0.0", "--db", str(db)],
        ["ingest", str(repo.path), "--db", str(db)],
    ):
        write = _in_readonly_mount(target, *args)
        assert write.returncode == 1, write.stderr
        assert "is read-only" in write.stderr and "Traceback" not in write.stderr

    store = open_store(f"sqlite:///{db}")
    try:
        assert ingest_repository(repo.path, store).commits_new == 1  # nothing was written while read-only
    finally:
        store.close()


def test_a_read_only_sqlite_uri_is_read_without_ingesting(repo: GitRepo, tmp_path: Path) -> None:
    _history(repo)
    db = tmp_path / "s.db"
    assert run_cli("ingest", str(repo.path), "--db", str(db)).exit_code == 0
    repo.commit("not ingested", {"src/z.py": "z\n"})
    ro = f"sqlite:///file:{db}?mode=ro&uri=true"
    store = open_store(ro)
    try:
        assert store.readonly
        with pytest.raises(ReadOnlyStoreError, match="read-only"):
            ingest_repository(repo.path, store)
        with pytest.raises(ReadOnlyStoreError), store.write():
            pass
    finally:
        store.close()
    result = run_cli("report", str(repo.path), "--db", ro, "--since", "all", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["window"]
    assert "note: the store" in result.stderr and "read-only" in result.stderr
    deploy = run_cli("record", "deploy", str(repo.path), "--at", "now", "--ref", "v1.0.0", "--db", ro)
    assert deploy.exit_code == 1
    assert "is read-only" in deploy.stderr


def test_a_read_only_store_that_needs_a_migration_says_so(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "old.db"
    store = open_store(f"sqlite:///{db}")
    store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
        conn.execute("DROP TABLE repo_identities")
    with pytest.raises(ReadOnlyStoreError, match="read-only and at schema revision 0001"):
        open_store(f"sqlite:///file:{db}?mode=ro&uri=true")


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("how", ["read-only session", "select-only role"])
def test_a_read_only_postgresql_store(repo: GitRepo, store_url: str, how: str) -> None:
    import psycopg

    _history(repo)
    assert run_cli("ingest", str(repo.path), "--db", store_url).exit_code == 0
    schema = store_url.rsplit("%3D", 1)[1]
    role = None
    if how == "read-only session":
        ro_url = store_url + "%20-cdefault_transaction_read_only%3Don"
    else:
        role = f"ro_{uuid.uuid4().hex[:10]}"
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {role} LOGIN")
            conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
        ro_url = store_url.replace("postgres@", f"{role}@")
    try:
        store = open_store(ro_url)
        try:
            assert store.readonly
        finally:
            store.close()
        result = run_cli("report", str(repo.path), "--db", ro_url, "--since", "all", "--format", "json")
        assert result.exit_code == 0, result.output
        assert "read-only" in result.stderr
        deploy = run_cli("record", "deploy", str(repo.path), "--at", "now", "--ref", "v1.0.0", "--db", ro_url)
        assert deploy.exit_code == 1 and "is read-only" in deploy.stderr
    finally:
        if role:
            with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
                conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}")
                conn.execute(f"REVOKE USAGE ON SCHEMA {schema} FROM {role}")
                conn.execute(f"DROP ROLE {role}")
