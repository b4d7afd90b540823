"""Several processes on one store at once: first-use migrations, and ingests of one repository.

Real processes against a real SQLite file and a real PostgreSQL schema; a start flag makes them
begin together so that they do race.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import fast_import_history
from onebar.mining.ingest import ingest_repository
from onebar.store import Store, open_store
from onebar.store.schema import SCHEMA_REVISION, commits, file_changes, refs, repo_identities

SRC = Path(__file__).parent.parent / "src"

# Waits for the start flag, then runs the given onebar code; prints one JSON line.
_RUNNER = """
import json, os, sys, time
flag = sys.argv[1]
while not os.path.exists(flag):
    time.sleep(0.005)
{body}
"""
_OPEN = _RUNNER.format(
    body="from onebar.store import open_store; from onebar.store.migrate import current_revision\n"
    "s = open_store(sys.argv[2]); print(json.dumps({'revision': current_revision(s.engine)})); s.close()"
)
_INGEST = _RUNNER.format(
    body="from onebar.cli import main\nsys.argv = ['onebar', 'ingest', sys.argv[3], '--db', sys.argv[2], "
    "'--format', 'json', '-j', '1']\nmain()"
)


def _race(code: str, n: int, tmp_path: Path, *args: str) -> list[tuple[int, str, str]]:
    flag = tmp_path / f"go-{time.monotonic_ns()}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(flag), *args],
            cwd=SRC,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    time.sleep(0.5)  # let every interpreter start and wait on the flag
    flag.touch()
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        out.append((p.returncode, stdout, stderr))
    return out


def _count(store: Store, table, *where) -> int:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _assert_exact(store: Store, n: int, authors: int) -> None:
    with store.read() as conn:
        assert conn.execute(select(func.count(func.distinct(commits.c.sha)))).scalar() == n
    assert _count(store, commits) == n
    assert _count(store, file_changes) == n
    assert _count(store, repo_identities) == authors
    assert _count(store, refs) == 2  # refs/heads/main and HEAD


@pytest.mark.slow
def test_first_use_migrations_are_safe_when_processes_start_at_once(store_url: str, tmp_path: Path) -> None:
    results = _race(_OPEN, 4, tmp_path, store_url)
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert json.loads(stdout) == {"revision": SCHEMA_REVISION}
        assert "Traceback" not in stderr


@pytest.mark.slow
def test_two_ingests_of_one_repository_at_once_both_succeed(store_url: str, tmp_path: Path) -> None:
    src = fast_import_history(tmp_path / "repo", 1500)
    results = _race(_INGEST, 3, tmp_path, store_url, str(src.path))
    summaries = []
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert "Traceback" not in stderr
        summaries.append(json.loads(stdout))
    # One ingest stored everything; the others waited for it and found nothing left to do.
    assert sorted(s["commits_new"] for s in summaries) == [0, 0, 1500]
    assert all(s["commits_total"] == 1500 for s in summaries)
    store = open_store(store_url)
    try:
        _assert_exact(store, 1500, authors=5)
    finally:
        store.close()


@pytest.mark.slow
def test_concurrent_incremental_ingests_store_the_new_commits_once(store_url: str, tmp_path: Path) -> None:
    src = fast_import_history(tmp_path / "repo", 300)
    store = open_store(store_url)
    try:
        ingest_repository(src.path, store)
        more = fast_import_history(tmp_path / "more", 900)  # the same first 300 commits, then 600 more
        src.git("fetch", "-q", "--update-head-ok", str(more.path), "main:main")
        results = _race(_INGEST, 2, tmp_path, store_url, str(src.path))
        assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
        assert sorted(json.loads(out)["commits_new"] for _, out, _ in results) == [0, 600]
        _assert_exact(store, 900, authors=5)
    finally:
        store.close()


@pytest.mark.slow
def test_a_second_ingest_waits_for_the_first(store_url: str, tmp_path: Path) -> None:
    src = fast_import_history(tmp_path / "repo", 200)
    store = open_store(store_url)
    try:
        repo_id = ingest_repository(src.path, store).repo_id
        more = fast_import_history(tmp_path / "more", 260)
        src.git("fetch", "-q", "--update-head-ok", str(more.path), "main:main")
        with store.ingest_lock(repo_id):  # as an ingest running in another process would hold it
            [proc] = [
                subprocess.Popen(
                    [sys.executable, "-m", "onebar", "ingest", str(src.path), "--db", store_url, "--format", "json"],
                    cwd=SRC,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            ]
            time.sleep(2.0)
            assert proc.poll() is None, "the second ingest did not wait"
            assert _count(store, commits) == 200
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        assert json.loads(stdout)["commits_new"] == 60
        _assert_exact(store, 260, authors=5)
    finally:
        store.close()


def test_without_the_repository_lock_concurrent_ingests_still_store_exactly(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no lock can be had (a lock file that cannot be created), every batch is still checked
    against the store under the write lock, so two ingests mining the same commits store them once."""
    from onebar.mining import ingest as ingest_mod

    src = fast_import_history(tmp_path / "repo", 1200)
    monkeypatch.setattr(Store, "ingest_lock", lambda self, repo_id: nullcontext())
    monkeypatch.setattr(ingest_mod, "BATCH", 100)
    open_store(store_url).close()
    errors: list[BaseException] = []
    new: list[int] = []

    def run() -> None:
        store = open_store(store_url)
        try:
            new.append(ingest_repository(src.path, store, jobs=1).commits_new)
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sum(new) == 1200
    store = open_store(store_url)
    try:
        _assert_exact(store, 1200, authors=5)
    finally:
        store.close()
