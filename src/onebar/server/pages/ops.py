"""Gate runs, the job queue, and "me" (the caller's token and own pages)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from onebar.auth.tokens import list_tokens
from onebar.auth.trail import audit
from onebar.errors import UsageError
from onebar.jobs.handlers import HANDLERS
from onebar.jobs.queue import STATUSES, Job, depth, list_jobs
from onebar.repos.registry import get_repo, list_repos
from onebar.server.pages.data import reported
from onebar.server.pages.repo import recent_runs
from onebar.server.pages.web import PageRoute, Viewer, page, redirect, render, service_of
from onebar.server.service import Service
from onebar.store.schema_service import gate_runs

router = APIRouter(route_class=PageRoute)
PAGE = 50
QUEUEABLE = ("sync", "refresh", "sync_all", "sweep")


@dataclass(frozen=True)
class Mine:
    repo: str
    href: str
    onboarding: str


@router.get("/gate-runs", response_class=HTMLResponse)
def gate_runs_page(
    repo: str | None = Query(None, max_length=100),
    org: str | None = Query(None, max_length=100),
    rule: str | None = Query(None, max_length=100),
    status: str | None = Query(None, pattern="^(pass|fail)?$"),
    before: int | None = Query(None, ge=1),
    viewer: Viewer = Depends(page("page.gate_runs")),
    service: Service = Depends(service_of),
) -> HTMLResponse:
    views, _ = reported(service, viewer.principal)
    runs = recent_runs(
        service,
        viewer,
        {v.name: v for v in views},
        repo=repo or None,
        org=org or None,
        rule=rule or None,
        status=status or None,
        before=before,
        limit=PAGE + 1,
    )
    more = len(runs) > PAGE
    runs = runs[:PAGE]
    shown = len(runs)
    failed = sum(1 for r in runs if r.status == "fail")
    with service.store.read() as conn:
        orgs = sorted({o for (o,) in conn.execute(select(gate_runs.c.org).distinct()) if o})
    if not viewer.principal.sees_everything and viewer.role == "member":
        orgs = [o for o in orgs if o == viewer.principal.org]
    repos = [r.name for r in list_repos(service.store)]
    query = {"repo": repo or "", "org": org or "", "rule": rule or "", "status": status or ""}
    nxt = None
    if more:  # the next page starts after the last run shown
        nxt = "/gate-runs?" + urlencode({k: v for k, v in {**query, "before": str(runs[-1].id)}.items() if v})
    return render(
        viewer,
        "gate_runs.html.j2",
        title="Gate runs",
        runs=runs,
        shown=shown,
        failed=failed,
        orgs=orgs,
        repos=repos,
        query=query,
        next_page=nxt,
    )


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    status: str | None = Query(None, max_length=20),
    repo: str | None = Query(None, max_length=100),
    done: int | None = Query(None, ge=1),
    viewer: Viewer = Depends(page("page.jobs")),
    service: Service = Depends(service_of),
) -> HTMLResponse:
    if status and status not in STATUSES:
        raise UsageError(f"{status!r} is not a job status; use one of {', '.join(STATUSES)}", field="status")
    jobs: list[Job] = list_jobs(service.store, status=status or None, repo=repo or None, limit=PAGE)
    counts = depth(service.store)
    repos = [r.name for r in list_repos(service.store)]
    kinds = [k for k in QUEUEABLE if k in HANDLERS]
    return render(
        viewer,
        "jobs.html.j2",
        title="Jobs",
        jobs=jobs,
        counts=counts,
        repos=repos,
        kinds=kinds,
        statuses=STATUSES,
        chosen=status or "",
        repo=repo or "",
        done=done,
        now=int(time.time()),
    )


@router.post("/jobs")
def queue_job(
    kind: str = Form(..., max_length=40),
    repo: str = Form("", max_length=100),
    viewer: Viewer = Depends(page("page.jobs.add")),
    service: Service = Depends(service_of),
) -> RedirectResponse:
    if kind not in QUEUEABLE or kind not in HANDLERS:
        raise UsageError(f"{kind!r} is not a job kind; use one of {', '.join(QUEUEABLE)}", field="kind")
    if kind in ("sync", "refresh"):
        if not repo:
            raise UsageError(f"a {kind} job names a repository", field="repo")
        get_repo(service.store, repo)
    job_id = service.enqueue(kind, repo=repo or None)
    audit(
        service.store,
        actor=viewer.principal.actor,
        action="job.add",
        target=f"job:{job_id}",
        payload={"kind": kind, "repo": repo or None, "via": "dashboard"},
    )
    return redirect("/jobs", done=job_id)


@router.get("/me", response_class=HTMLResponse)
def me(viewer: Viewer = Depends(page("page.me")), service: Service = Depends(service_of)) -> HTMLResponse:
    p = viewer.principal
    token = next((t for t in list_tokens(service.store) if t.id == p.token_id), None)
    mine: list[Mine] = []
    if p.person:
        views, _ = reported(service, p)
        for v in views:
            if p.person in v.charter.people:
                base = f"/repos/{v.name}/people/{p.person}"
                mine.append(Mine(v.name, base, f"{base}/onboarding"))
    return render(viewer, "me.html.j2", title="Me", token=token, mine=mine, now=int(time.time()))
