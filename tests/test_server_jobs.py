"""Jobs in the real service: a sync killed by kill -9 is picked up again and finishes exactly; two
serve processes on one PostgreSQL store never run the same job twice; mirrors are fetched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from helpers import GitRepo, fast_import_history, run_cli
from onebar.jobs import queue
from onebar.store import open_store
from onebar.store.schema import commits
from onebar.store.schema_service import jobs, service_repos
from service_helpers import free_port, is_ready, running_server, two_org_repo, wait_until

pytestmark = pytest.mark.slow


def _serve(db: str, data: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "onebar", "serve", "--port", str(port), "--db", db, "--data-dir", str(data),
         "--log-level", "warning"],
        env={**os.environ, "ONEBAR_JOB_POLL": "0.1", "ONEBAR_FETCH_INTERVAL": "0", "ONEBAR_SWEEP_INTERVAL": "0", **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_sync_killed_mid_ingest_is_claimed_again_and_finishes_exactly(tmp_path: Path) -> None:
    repo = fast_import_history(tmp_path / "big", 30_000)
    db = f"sqlite:///{tmp_path / 's.db'}"
    data = tmp_path / "data"
    assert run_cli("repo", "add", str(repo.path), "--name", "big", "--db", db, "--data-dir", str(data)).exit_code == 0
    store = open_store(db)

    def job_running() -> bool:
        with store.read() as conn:
            return conn.execute(select(jobs.c.status).where(jobs.c.kind == "sync")).scalar() == "running"

    def some_commits() -> bool:
        with store.read() as conn:
            return (conn.execute(select(func.count()).select_from(commits)).scalar() or 0) > 0

    proc = _serve(db, data, free_port(), ONEBAR_JOB_LEASE="3")
    try:
        wait_until(job_running, 60, "the sync job to start")
        wait_until(lambda: some_commits() or not job_running(), 120, "the first stored batch")
        os.kill(proc.pid, signal.SIGKILL)  # mid-ingest: whole batches stored, the ref tips not yet
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    with store.read() as conn:
        status = conn.execute(select(jobs.c.status).where(jobs.c.kind == "sync")).scalar()
    assert status == "running", "the job must have been interrupted (make the history larger if not)"
    second = _serve(db, data, free_port(), ONEBAR_JOB_LEASE="3")
    try:
        wait_until(lambda: not job_running(), 180, "the sync job to be claimed again and finish")
    finally:
        second.terminate()
        second.wait(30)
    with store.read() as conn:
        job = conn.execute(select(jobs).where(jobs.c.kind == "sync")).one()
        stored = conn.execute(select(func.count()).select_from(commits)).scalar()
        ingested = conn.execute(select(service_repos.c.ingested_at)).scalar()
    store.close()
    assert (job.status, job.attempts) == ("done", 2)
    assert stored == 30_000 == int(repo.git("rev-list", "--all", "--count"))
    assert ingested is not None


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_serve_processes_on_postgresql_never_run_one_job_twice(tmp_path: Path, store_url: str) -> None:
    # Both processes are ready before the first job exists, and each sync ingests thousands of commits:
    # otherwise whichever process starts first can drain a queue of tiny jobs before the other polls.
    data = tmp_path / "data"
    store = open_store(store_url)
    ports = free_port(), free_port()
    a, b = (_serve(store_url, data, port, ONEBAR_JOB_WORKERS="2") for port in ports)

    def all_done() -> bool:
        counts = queue.depth(store)
        return counts["queued"] == 0 and counts["running"] == 0

    try:
        wait_until(
            lambda: all(is_ready(f"http://127.0.0.1:{port}") for port in ports), 60, "both serve processes to be ready"
        )
        for i in range(6):
            r = fast_import_history(tmp_path / f"r{i}", 3_000)
            added = run_cli("repo", "add", str(r.path), "--name", f"r{i}", "--db", store_url, "--data-dir", str(data))
            assert added.exit_code == 0, added.stderr
            queue.enqueue(store, "refresh", repo=f"r{i}")  # a second kind of job, competing for the repository lock
        wait_until(all_done, 240, "every job to finish")
    finally:
        for p in (a, b):
            p.terminate()
        for p in (a, b):
            p.wait(30)
    with store.read() as conn:
        rows = conn.execute(select(jobs.c.kind, jobs.c.repo, jobs.c.status, jobs.c.attempts, jobs.c.locked_by)).all()
    store.close()
    assert len(rows) == 12
    assert {r.status for r in rows} == {"done"}
    assert {r.attempts for r in rows} == {1}  # claimed once each
    assert len({r.locked_by.rsplit(":", 2)[1] for r in rows}) == 2  # both processes took part


def test_a_mirrored_repository_is_cloned_and_fetched_by_sync(tmp_path: Path) -> None:
    upstream = two_org_repo(tmp_path / "upstream")
    db = f"sqlite:///{tmp_path / 's.db'}"
    data = tmp_path / "data"
    added = run_cli("repo", "add", f"file://{upstream.path}", "--name", "shop", "--db", db, "--data-dir", str(data))
    assert added.exit_code == 0, added.stderr
    assert (data / "mirrors" / "shop.git" / "HEAD").is_file()
    with running_server(db, data) as url:
        store = open_store(db)
        from onebar.auth.tokens import create_token

        admin = {"Authorization": f"Bearer {create_token(store, 'admin').token}"}
        ci = {"Authorization": f"Bearer {create_token(store, 'ci', repo='shop').token}"}
        wait_until(
            lambda: httpx.get(f"{url}/api/v1/repos/shop/report", headers=admin).status_code == 200, 60, "the report"
        )
        before = httpx.get(f"{url}/api/v1/repos/shop/report", headers=admin).json()["repository"]["commits"]
        upstream.commit("one more", {"core/new.py": "x\n"}, author=("Alice Acme", "alice@acme.test"))
        assert httpx.post(f"{url}/api/v1/repos/shop/sync", headers=ci).status_code == 202  # what a push hook does

        def grew() -> bool:
            got = httpx.get(f"{url}/api/v1/repos/shop/report", headers=admin).json()
            return bool(got["repository"]["commits"] == before + 1)

        wait_until(grew, 60, "the new commit in the report")
        store.close()
    assert "[organisations.vistula]" in (data / "charters" / "shop.toml").read_text()  # read from the mirror's HEAD


def test_repo_add_refuses_a_duplicate_name_and_an_unreachable_url(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "r")
    repo.commit("x", {"a": "1"})
    db = f"sqlite:///{tmp_path / 's.db'}"
    data = str(tmp_path / "data")
    assert run_cli("repo", "add", str(repo.path), "--db", db, "--data-dir", data).exit_code == 0
    again = run_cli("repo", "add", str(repo.path), "--db", db, "--data-dir", data)
    assert again.exit_code == 2
    assert "already registered" in again.stderr
    gone = run_cli("repo", "add", f"file://{tmp_path}/missing.git", "--db", db, "--data-dir", data)
    assert gone.exit_code == 2
    assert "cannot mirror" in gone.stderr
    assert not (tmp_path / "data" / "mirrors" / "missing.git").exists()


def test_sync_all_ingests_every_repository_on_a_dask_cluster(tmp_path: Path) -> None:
    from onebar.jobs.handlers import Context
    from onebar.jobs.worker import Worker
    from onebar.repos import materialised

    db = f"sqlite:///{tmp_path / 's.db'}"
    data = tmp_path / "data"
    for name in ("one", "two"):
        r = two_org_repo(tmp_path / name)
        assert run_cli("repo", "add", str(r.path), "--db", db, "--data-dir", str(data)).exit_code == 0
    store = open_store(db)
    with store.write() as conn:  # only the sync_all job: the adds' own syncs are dropped
        conn.execute(jobs.delete())
    job = queue.enqueue(store, "sync_all")
    worker = Worker(Context(store, data, cluster="local", database_url=db))
    assert worker.run_once() is not None
    done = queue.get_job(store, job)
    assert done.status == "done", done.error
    assert done.result is not None and done.result["cluster"] == "local" and done.result["failed"] == []
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(commits)).scalar() == 50  # ingested by Dask
    while worker.run_once() is not None:  # the reports, now that both are ingested
        pass
    assert {h.repo for h in materialised.headers(store)} == {"one", "two"}
    store.close()
