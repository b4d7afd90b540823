"""The durable job queue, in the store itself: a job is a row, committed before anyone is told it exists.

    queued ──claim──► running ──complete──► done
       ▲                 │
       └──fail (backoff)─┤ attempts left
                         └──fail──► failed (attempts used up)

A claim takes a lease (`lease_until`); a worker renews it while the job runs. A job whose lease ran
out (its worker was killed) is claimed again, so nothing is lost. While a job runs its `lock_key`
holds the repository's name under a unique index, so the database itself refuses a second running
job for the same repository, from any process. On PostgreSQL workers pick candidates with
`FOR UPDATE SKIP LOCKED` and never wait on each other; on SQLite the claim is one `BEGIN IMMEDIATE`
transaction.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from onebar.errors import NotFoundError, UsageError
from onebar.store import Store
from onebar.store.schema_service import jobs

STATUSES = ("queued", "running", "done", "failed")
BACKOFF_BASE = 5  # seconds: 5, 10, 20, 40 ... with jitter
BACKOFF_MAX = 900


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    repo: str | None
    payload: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    run_after: int
    locked_by: str | None
    lease_until: int | None
    created_at: int
    started_at: int | None
    finished_at: int | None
    duration_ms: int | None
    error: str | None
    result: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        from onebar.metrics.jsonable import iso

        return {
            "id": self.id,
            "kind": self.kind,
            "repo": self.repo,
            "status": self.status,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "run_after": iso(self.run_after),
            "worker": self.locked_by,
            "created": iso(self.created_at),
            "started": iso(self.started_at),
            "finished": iso(self.finished_at),
            "duration_ms": self.duration_ms,
            "error": self.error,
            "result": self.result,
        }


def enqueue(
    store: Store,
    kind: str,
    *,
    repo: str | None = None,
    payload: dict[str, Any] | None = None,
    delay: int = 0,
    max_attempts: int = 5,
    coalesce: bool = True,
    conn: Connection | None = None,
    now: int | None = None,
) -> int:
    """Persist a job and return its id; with `coalesce`, a job of the same kind and repository still
    waiting to run is reused instead of queueing a second one. Pass `conn` to enqueue inside the
    caller's transaction (the job then exists exactly when the caller's write does)."""
    if conn is None:
        with store.write() as own:
            return enqueue(store, kind, repo=repo, payload=payload, delay=delay, max_attempts=max_attempts,
                           coalesce=coalesce, conn=own, now=now)  # fmt: skip
    now = int(time.time()) if now is None else now
    body = json.dumps(payload or {}, sort_keys=True)
    if coalesce:
        found = conn.execute(
            select(jobs.c.id).where(
                jobs.c.kind == kind,
                jobs.c.repo.is_(None) if repo is None else jobs.c.repo == repo,
                jobs.c.status == "queued",
                jobs.c.payload == body,
            )
        ).scalar()
        if found is not None:
            return int(found)
    values = {
        "kind": kind,
        "repo": repo,
        "payload": body,
        "status": "queued",
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_after": now + delay,
        "created_at": now,
    }
    return int(conn.execute(insert(jobs).values(**values)).inserted_primary_key[0])  # type: ignore[index]


def claim(
    store: Store, worker: str, *, lease: int = 60, kinds: list[str] | None = None, now: int | None = None
) -> Job | None:
    """Take the oldest runnable job (queued and due, or running with an expired lease), or None."""
    now = int(time.time()) if now is None else now
    runnable = or_(
        and_(jobs.c.status == "queued", jobs.c.run_after <= now),
        and_(jobs.c.status == "running", jobs.c.lease_until < now),
    )
    query = (
        select(jobs.c.id, jobs.c.repo, jobs.c.status).where(runnable).order_by(jobs.c.run_after, jobs.c.id).limit(20)
    )
    if kinds:
        query = query.where(jobs.c.kind.in_(kinds))
    postgres = store.dialect == "postgresql"
    if postgres:
        query = query.with_for_update(skip_locked=True)
    with store.engine.connect() as conn:
        if not postgres:
            conn.execution_options(onebar_write=True)  # SQLite: BEGIN IMMEDIATE, one claimer at a time
        with conn.begin():
            for job_id, repo, status in conn.execute(query).all():
                values = {
                    "status": "running",
                    "lock_key": repo,
                    "locked_by": worker,
                    "lease_until": now + lease,
                    "started_at": now,
                    "attempts": jobs.c.attempts + 1,
                    "error": None,
                }
                try:
                    with conn.begin_nested():
                        done = conn.execute(
                            update(jobs).where(jobs.c.id == job_id, jobs.c.status == status).values(**values)
                        ).rowcount
                except IntegrityError:
                    continue  # another job of this repository is running
                if done:
                    return _job(conn.execute(select(jobs).where(jobs.c.id == job_id)).one())
    return None


def renew(store: Store, job: Job, worker: str, *, lease: int = 60, now: int | None = None) -> bool:
    """Extend the lease of a job this worker runs; False when it lost it (the lease ran out and another took it)."""
    now = int(time.time()) if now is None else now
    with store.engine.begin() as conn:
        n = conn.execute(
            update(jobs)
            .where(jobs.c.id == job.id, jobs.c.locked_by == worker, jobs.c.status == "running")
            .values(lease_until=now + lease)
        ).rowcount
    return bool(n)


def complete(
    store: Store, job: Job, worker: str, result: dict[str, Any] | None = None, *, now: float | None = None
) -> bool:
    now = time.time() if now is None else now
    return _finish(store, job, worker, {
        "status": "done",
        "finished_at": int(now),
        "duration_ms": max(0, int((now - (job.started_at or now)) * 1000)),
        "result": json.dumps(result or {}, sort_keys=True, default=str),
    })  # fmt: skip


def fail(store: Store, job: Job, worker: str, error: str, *, now: float | None = None) -> str:
    """Record a failure: queued again after a backoff while attempts remain, else failed. Returns the new status."""
    now = time.time() if now is None else now
    if job.attempts < job.max_attempts:
        status = "queued"
        extra = {"run_after": int(now) + backoff(job.attempts)}
    else:
        status = "failed"
        extra = {"finished_at": int(now)}
    took = max(0, int((now - (job.started_at or now)) * 1000))
    _finish(store, job, worker, {"status": status, "error": error[-4000:], "duration_ms": took, **extra})
    return status


def backoff(attempts: int) -> int:
    """Seconds before the next attempt: exponential, capped, with jitter so failed jobs do not retry in lockstep."""
    base = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return int(base * random.uniform(0.8, 1.2))


def _finish(store: Store, job: Job, worker: str, values: dict[str, Any]) -> bool:
    with store.engine.begin() as conn:
        n = conn.execute(
            update(jobs)
            .where(jobs.c.id == job.id, jobs.c.locked_by == worker, jobs.c.status == "running")
            .values(lock_key=None, lease_until=None, **values)
        ).rowcount
    return bool(n)


def get_job(store: Store, job_id: int) -> Job:
    with store.read() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        raise NotFoundError(f"no job with id {job_id}", field="id")
    return _job(row)


def list_jobs(
    store: Store, *, status: str | None = None, repo: str | None = None, before: int | None = None, limit: int = 50
) -> list[Job]:
    """Newest first; `before` is a cursor (a job id) for the next page."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"{status!r} is not a job status; use one of {', '.join(STATUSES)}", field="status")
    q = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
    if status:
        q = q.where(jobs.c.status == status)
    if repo:
        q = q.where(jobs.c.repo == repo)
    if before is not None:
        q = q.where(jobs.c.id < before)
    with store.read() as conn:
        return [_job(r) for r in conn.execute(q)]


def depth(store: Store) -> dict[str, int]:
    """How many jobs are in each status."""
    with store.read() as conn:
        counts: dict[str, int] = dict(conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all())
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def _job(row: Any) -> Job:
    m = row._mapping
    return Job(
        id=m["id"],
        kind=m["kind"],
        repo=m["repo"],
        payload=json.loads(m["payload"] or "{}"),
        status=m["status"],
        attempts=m["attempts"],
        max_attempts=m["max_attempts"],
        run_after=m["run_after"],
        locked_by=m["locked_by"],
        lease_until=m["lease_until"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        duration_ms=m["duration_ms"],
        error=m["error"],
        result=json.loads(m["result"]) if m["result"] else None,
    )
