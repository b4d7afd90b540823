"""The durable job queue on SQLite and PostgreSQL: claims, leases, retries, one job per repository."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from onebar.jobs import queue
from onebar.jobs.handlers import HANDLERS, Context, handler
from onebar.jobs.worker import Worker
from onebar.store import Store, open_store
from onebar.store.schema_service import jobs

NOW = 1_800_000_000
SLOW_STARTED = threading.Event()


@handler("test_slow")
def _slow(ctx: Context, job: queue.Job) -> dict[str, object]:
    SLOW_STARTED.set()
    time.sleep(1.0)
    return {"slept": 1}


def test_a_job_is_persisted_and_claimed_once(store: Store) -> None:
    job_id = queue.enqueue(store, "sync", repo="a", now=NOW)
    assert queue.get_job(store, job_id).status == "queued"
    job = queue.claim(store, "w1", now=NOW)
    assert job is not None
    assert (job.id, job.status, job.attempts, job.locked_by) == (job_id, "running", 1, "w1")
    assert queue.claim(store, "w2", now=NOW) is None
    assert queue.complete(store, job, "w1", {"ok": 1}, now=NOW + 2)
    done = queue.get_job(store, job_id)
    assert (done.status, done.result) == ("done", {"ok": 1})


def test_waiting_jobs_of_one_kind_and_repository_coalesce(store: Store) -> None:
    first = queue.enqueue(store, "sync", repo="a", now=NOW)
    assert queue.enqueue(store, "sync", repo="a", now=NOW) == first
    assert queue.enqueue(store, "sync", repo="b", now=NOW) != first
    assert queue.enqueue(store, "refresh", repo="a", now=NOW) != first


def test_never_two_running_jobs_for_one_repository(store: Store) -> None:
    a1 = queue.enqueue(store, "sync", repo="a", now=NOW)
    a2 = queue.enqueue(store, "refresh", repo="a", now=NOW)
    b1 = queue.enqueue(store, "sync", repo="b", now=NOW)
    first = queue.claim(store, "w1", now=NOW)
    second = queue.claim(store, "w2", now=NOW)
    assert first is not None and second is not None
    assert (first.id, second.id) == (a1, b1)  # a2 waits: a1 holds repository a
    assert queue.claim(store, "w3", now=NOW) is None
    queue.complete(store, first, "w1", now=NOW)
    third = queue.claim(store, "w3", now=NOW)
    assert third is not None and third.id == a2


def test_a_failed_job_is_retried_with_backoff_then_fails(store: Store) -> None:
    job_id = queue.enqueue(store, "sync", repo="a", max_attempts=2, now=NOW)
    job = queue.claim(store, "w", now=NOW)
    assert job is not None
    assert queue.fail(store, job, "w", "boom", now=NOW) == "queued"
    again = queue.get_job(store, job_id)
    assert again.error == "boom"
    assert NOW + 3 <= again.run_after <= NOW + 7  # 5 s, with jitter
    assert queue.claim(store, "w", now=NOW + 1) is None  # not due yet
    job = queue.claim(store, "w", now=NOW + 10)
    assert job is not None and job.attempts == 2
    assert queue.fail(store, job, "w", "boom again", now=NOW + 10) == "failed"
    assert queue.get_job(store, job_id).status == "failed"
    assert queue.depth(store)["failed"] == 1


def test_a_job_whose_worker_died_is_claimed_again_after_its_lease(store: Store) -> None:
    job_id = queue.enqueue(store, "sync", repo="a", now=NOW)
    dead = queue.claim(store, "dead", lease=30, now=NOW)
    assert dead is not None
    assert queue.claim(store, "alive", lease=30, now=NOW + 10) is None  # lease still held
    taken = queue.claim(store, "alive", lease=30, now=NOW + 31)
    assert taken is not None and (taken.id, taken.attempts) == (job_id, 2)
    assert not queue.complete(store, dead, "dead", now=NOW + 32)  # the dead worker's late answer is ignored
    assert queue.complete(store, taken, "alive", now=NOW + 33)


def test_concurrent_claimers_never_take_the_same_job(store_url: str) -> None:
    setup = open_store(store_url)
    ids = [queue.enqueue(setup, "sync", repo=f"r{i}", now=NOW) for i in range(40)]
    taken: list[int] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        own = open_store(store_url)
        while True:
            job = queue.claim(own, name, now=NOW)
            if job is None:
                break
            with lock:
                taken.append(job.id)
            queue.complete(own, job, name, now=NOW)
        own.close()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == ids
    with setup.read() as conn:
        assert {r.status for r in conn.execute(select(jobs.c.status))} == {"done"}
    setup.close()


def test_the_worker_runs_jobs_and_records_failures(store: Store, tmp_path: Path) -> None:
    calls: list[str] = []
    if "test_echo" not in HANDLERS:

        @handler("test_echo")
        def echo(ctx: Context, job: queue.Job) -> dict[str, object]:
            if job.payload.get("fail"):
                raise RuntimeError("asked to fail")
            calls.append(job.payload["word"])
            return {"word": job.payload["word"]}

    ok = queue.enqueue(store, "test_echo", payload={"word": "hi"})
    bad = queue.enqueue(store, "test_echo", payload={"fail": True}, max_attempts=1)
    worker = Worker(Context(store, tmp_path), poll=0.05)
    assert worker.run_once() is not None
    assert worker.run_once() is not None
    assert queue.get_job(store, ok).result == {"word": "hi"}
    failed = queue.get_job(store, bad)
    assert failed.status == "failed"
    assert "asked to fail" in (failed.error or "")


def test_unknown_status_filter_names_the_field(store: Store) -> None:
    from onebar.errors import UsageError

    with pytest.raises(UsageError) as info:
        queue.list_jobs(store, status="stuck")
    assert info.value.field == "status"


def test_stopping_a_worker_lets_its_running_job_finish(store: Store, tmp_path: Path) -> None:
    started = SLOW_STARTED
    started.clear()
    job_id = queue.enqueue(store, "test_slow")
    worker = Worker(Context(store, tmp_path), poll=0.05)
    worker.start()
    assert started.wait(30)
    assert worker.stop(timeout=30)  # what the app's lifespan does on SIGTERM
    assert queue.get_job(store, job_id).status == "done"


def test_the_jobs_sweep_forgets_old_finished_jobs_but_keeps_failures(store: Store) -> None:
    from onebar.jobs.handlers import JOBS_KEPT, SWEEPERS

    old = queue.enqueue(store, "sync", repo="a", now=NOW)
    job = queue.claim(store, "w", now=NOW)
    assert job is not None
    queue.complete(store, job, "w", now=NOW)
    bad = queue.enqueue(store, "sync", repo="b", max_attempts=1, now=NOW)
    failing = queue.claim(store, "w", now=NOW)
    assert failing is not None
    queue.fail(store, failing, "w", "boom", now=NOW)
    assert SWEEPERS["jobs"](store, NOW + JOBS_KEPT - 1) == 0
    assert SWEEPERS["jobs"](store, NOW + JOBS_KEPT + 1) == 1
    assert [j.id for j in queue.list_jobs(store)] == [bad]
    assert old != bad
