"""`onebar serve` runs its job workers in a child process (`onebar worker`), which it wakes through a
pipe, restarts when it dies and takes down with it; `onebar worker` also runs alone beside a serve
that runs no jobs. Real processes, a real store, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from helpers import fast_import_history, run_cli
from onebar.auth.tokens import create_token
from onebar.jobs import queue
from onebar.store import open_store
from onebar.store.schema_service import jobs
from service_helpers import free_port, is_ready, two_org_repo, wait_until

pytestmark = pytest.mark.slow

SLOW_POLL = "30"  # seconds: a job done sooner than this was woken, not polled for


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    """Live children of `pid`, whichever of its threads started them."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue  # the thread ended meanwhile
    return sorted(p for p in found if _alive(p))


@contextmanager
def _serve(db: str, data: Path, *flags: str, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "onebar", "serve", "--port", str(port), "--db", db, "--data-dir", str(data),
         "--log-level", "warning", *flags],
        env={**os.environ, "ONEBAR_JOB_POLL": SLOW_POLL, "ONEBAR_FETCH_INTERVAL": "0", "ONEBAR_SWEEP_INTERVAL": "0",
             **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: is_ready(url), 30, "onebar serve to be ready")
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _store_with_repo(tmp_path: Path) -> tuple[str, Path]:
    db = f"sqlite:///{tmp_path / 's.db'}"
    data = tmp_path / "data"
    repo = two_org_repo(tmp_path / "shop")
    assert run_cli("repo", "add", str(repo.path), "--name", "shop", "--db", db, "--data-dir", str(data)).exit_code == 0
    return db, data


def _job(db: str, job_id: int) -> queue.Job:
    store = open_store(db)
    try:
        return queue.get_job(store, job_id)
    finally:
        store.close()


def _sync(url: str, admin: str) -> int:
    r = httpx.post(f"{url}/api/v1/repos/shop/sync", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 202, r.text
    return int(r.json()["job"])


def _admin(db: str) -> str:
    store = open_store(db)
    try:
        return create_token(store, "admin").token
    finally:
        store.close()


def test_jobs_run_in_a_child_process_woken_at_once_and_counted_by_the_parent(tmp_path: Path) -> None:
    db, data = _store_with_repo(tmp_path)
    admin = _admin(db)
    with _serve(db, data) as (proc, url):
        wait_until(lambda: len(_children(proc.pid)) == 1, 10, "the worker process")
        (child,) = _children(proc.pid)
        wait_until(lambda: _job(db, 1).status == "done", 60, "the first sync")  # queued by `repo add`
        started = time.monotonic()
        job_id = _sync(url, admin)
        wait_until(lambda: _job(db, job_id).status == "done", 60, "the sync queued through the API")
        assert time.monotonic() - started < float(SLOW_POLL) / 2  # woken through the pipe, not polled for
        job = _job(db, job_id)

        def metrics() -> str:
            return httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {admin}"}).text

        # What the child did reaches the parent's /metrics just after the job's row says done.
        done = 'onebar_jobs_finished_total{kind="sync",outcome="done"} 2.0'
        wait_until(lambda: done in metrics(), 10, "both syncs counted in the server's /metrics")
        steps = metrics()
    assert job.locked_by is not None and job.locked_by.split(":")[1] == str(child) != str(proc.pid)
    # The steps' durations come before the outcome, on the same pipe.
    assert 'onebar_job_step_duration_seconds_count{repo="shop",step="ingest"} 2.0' in steps


def test_with_job_threads_the_serving_process_runs_the_jobs_itself(tmp_path: Path) -> None:
    db, data = _store_with_repo(tmp_path)
    with _serve(db, data, "--job-threads") as (proc, _url):
        wait_until(lambda: _job(db, 1).status == "done", 60, "the first sync")
        assert _children(proc.pid) == []
    assert (_job(db, 1).locked_by or "").split(":")[1] == str(proc.pid)


def test_the_worker_process_dies_with_a_killed_server_and_is_replaced_when_it_dies_alone(tmp_path: Path) -> None:
    db, data = _store_with_repo(tmp_path)
    admin = _admin(db)
    with _serve(db, data, ONEBAR_JOB_LEASE="3") as (proc, url):
        wait_until(lambda: len(_children(proc.pid)) == 1, 10, "the worker process")
        (first,) = _children(proc.pid)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: _children(proc.pid) not in ([], [first]), 15, "a new worker process")
        (second,) = _children(proc.pid)
        job_id = _sync(url, admin)
        wait_until(lambda: _job(db, job_id).status == "done", 60, "a sync run by the new worker process")
        assert (_job(db, job_id).locked_by or "").split(":")[1] == str(second)
        proc.kill()  # no shutdown at all: the child must not outlive it, running jobs unsupervised
        proc.wait()
        wait_until(lambda: not _alive(second), 10, "the worker process to die with the server")


def test_a_graceful_stop_lets_the_worker_process_finish_its_job_then_stops_it(tmp_path: Path) -> None:
    db, data = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "data"
    big = fast_import_history(tmp_path / "big", 20_000)
    assert run_cli("repo", "add", str(big.path), "--name", "big", "--db", db, "--data-dir", str(data)).exit_code == 0
    with _serve(db, data) as (proc, _url):
        wait_until(lambda: _job(db, 1).status == "running", 30, "the sync to start")
        (child,) = _children(proc.pid)
        stopped_at = time.time()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
    job = _job(db, 1)
    assert (job.status, job.attempts) == ("done", 1)  # finished by the child, not cut off and claimed again
    assert job.finished_at is not None and job.finished_at >= int(stopped_at)  # it was still running then
    assert not _alive(child)


def test_onebar_worker_alone_runs_the_jobs_of_a_server_that_runs_none(tmp_path: Path) -> None:
    db, data = _store_with_repo(tmp_path)
    admin = _admin(db)
    with _serve(db, data, "--job-workers", "0") as (proc, url):
        assert _children(proc.pid) == []
        worker = subprocess.Popen(
            [sys.executable, "-m", "onebar", "worker", "--db", db, "--data-dir", str(data), "--threads", "2"],
            env={**os.environ, "ONEBAR_JOB_POLL": "0.1", "ONEBAR_FETCH_INTERVAL": "0", "ONEBAR_SWEEP_INTERVAL": "0"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            job_id = _sync(url, admin)
            wait_until(lambda: _job(db, job_id).status == "done", 60, "the standalone worker to run the sync")
            worker.send_signal(signal.SIGTERM)
            out, _err = worker.communicate(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
    assert worker.returncode == 0
    assert out == b""  # events go to a parent only; alone, the worker's stdout stays quiet
    store = open_store(db)
    try:
        with store.read() as conn:
            lockers = {str(r).split(":")[1] for r in conn.execute(select(jobs.c.locked_by)).scalars()}
    finally:
        store.close()
    assert lockers == {str(worker.pid)}
