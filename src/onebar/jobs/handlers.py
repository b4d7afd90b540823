"""What each kind of job does. A registry: other areas add a kind with `@handler("kind")`.

sync       fetch a mirror (if it is one), ingest what is new, refresh the materialised report
refresh    recompute the materialised report (after a recorded deployment or incident)
sync_all   every repository: one `sync` each, or one Dask run over all when a cluster is set
sweep      expiry sweeps: ended sessions, and whatever other areas register with `sweeper`
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_

from onebar.jobs.queue import Job, enqueue
from onebar.repos import materialised
from onebar.repos.registry import fetch, get_repo, list_repos, open_repo_workspace
from onebar.store import Store
from onebar.store.schema_service import jobs, web_sessions


@dataclass(frozen=True)
class Context:
    """What a handler may use: the store, the service's data folder, and the Dask cluster if any."""

    store: Store
    data_dir: Path
    cluster: str | None = None
    database_url: str | None = None
    observe: Callable[[str, str, float], None] | None = None  # (metric, repo, seconds), for /metrics


Handler = Callable[[Context, Job], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
JOBS_KEPT = 30 * 86400  # seconds a finished job stays listed
SWEEPERS: dict[str, Callable[[Store, int], int]] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if kind in HANDLERS:
            raise ValueError(f"job kind {kind!r} is already registered")
        HANDLERS[kind] = fn
        return fn

    return register


def sweeper(name: str) -> Callable[[Callable[[Store, int], int]], Callable[[Store, int], int]]:
    """Register an expiry sweep (store, now) -> how many things it expired; the `sweep` job runs them all."""

    def register(fn: Callable[[Store, int], int]) -> Callable[[Store, int], int]:
        SWEEPERS[name] = fn
        return fn

    return register


def run(ctx: Context, job: Job) -> dict[str, Any]:
    fn = HANDLERS.get(job.kind)
    if fn is None:
        raise LookupError(f"no handler for job kind {job.kind!r}")
    return fn(ctx, job)


@handler("sync")
def sync(ctx: Context, job: Job) -> dict[str, Any]:
    assert job.repo is not None
    repo = get_repo(ctx.store, job.repo)
    out: dict[str, Any] = {}
    if repo.mirror and job.payload.get("fetch", True):
        t = time.perf_counter()
        out["fetched"] = fetch(ctx.store, repo)
        _observe(ctx, "fetch", repo.name, time.perf_counter() - t)
    t = time.perf_counter()
    with open_repo_workspace(ctx.store, repo, ctx.data_dir) as ws:
        _observe(ctx, "ingest", repo.name, time.perf_counter() - t)
        if ws.ingest is not None:
            out["commits_new"] = ws.ingest.commits_new
            out["commits_total"] = ws.ingest.commits_total
        t = time.perf_counter()
        head = materialised.refresh(ctx.store, ws, get_repo(ctx.store, repo.name))
        _observe(ctx, "refresh", repo.name, time.perf_counter() - t)
    out["report_etag"] = head.etag
    return out


@handler("refresh")
def refresh(ctx: Context, job: Job) -> dict[str, Any]:
    assert job.repo is not None
    repo = get_repo(ctx.store, job.repo)
    t = time.perf_counter()
    with open_repo_workspace(ctx.store, repo, ctx.data_dir, ingest=repo.repo_id is None) as ws:
        head = materialised.refresh(ctx.store, ws, get_repo(ctx.store, repo.name), force=bool(job.payload.get("force")))
    _observe(ctx, "refresh", repo.name, time.perf_counter() - t)
    return {"report_etag": head.etag}


@handler("sync_all")
def sync_all(ctx: Context, job: Job) -> dict[str, Any]:
    repos = list_repos(ctx.store)
    if ctx.cluster and ctx.database_url and repos:
        from onebar.mining.many import ingest_many

        for r in repos:
            if r.mirror:
                fetch(ctx.store, r)
        outcomes = ingest_many([r.path for r in repos], ctx.database_url, cluster=ctx.cluster)
        failed = [o.path for o in outcomes if o.error is not None]
        for r in repos:  # the reports, now that every repository is ingested (fast: nothing new to mine)
            enqueue(ctx.store, "sync", repo=r.name, payload={"fetch": False})
        return {"repos": len(repos), "cluster": ctx.cluster, "failed": failed}
    ids = [enqueue(ctx.store, "sync", repo=r.name) for r in repos]
    return {"repos": len(repos), "jobs": ids}


@handler("sweep")
def sweep(ctx: Context, job: Job) -> dict[str, Any]:
    now = int(time.time())
    return {name: fn(ctx.store, now) for name, fn in sorted(SWEEPERS.items())}


@sweeper("sessions")
def _ended_sessions(store: Store, now: int) -> int:
    """Delete sessions that ended or expired more than a day ago."""
    with store.write() as conn:
        c = web_sessions.c
        return int(
            conn.execute(delete(web_sessions).where(or_(c.expires_at < now - 86400, c.ended_at < now - 86400))).rowcount
        )


@sweeper("jobs")
def _old_jobs(store: Store, now: int) -> int:
    """Forget finished jobs after 30 days (failed ones stay until someone looks: they need a person)."""
    with store.write() as conn:
        c = jobs.c
        return int(conn.execute(delete(jobs).where(c.status == "done", c.finished_at < now - JOBS_KEPT)).rowcount)


def _observe(ctx: Context, what: str, repo: str, seconds: float) -> None:
    if ctx.observe is not None:
        ctx.observe(what, repo, seconds)
