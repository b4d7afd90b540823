"""The job queue over the API: what is queued, running, done or failed; admins queue jobs by hand."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from onebar.auth.roles import Principal
from onebar.auth.trail import audit
from onebar.errors import UsageError
from onebar.jobs.handlers import HANDLERS
from onebar.jobs.queue import get_job, list_jobs
from onebar.repos.registry import get_repo
from onebar.server import pagination
from onebar.server.deps import allow, service_of
from onebar.server.service import Service

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


class JobRequest(BaseModel):
    kind: str = Field(description="sync, refresh, sync_all, sweep, or a kind another area registered")
    repo: str | None = None


@router.get("", summary="Jobs, newest first")
def jobs(
    request: Request, response: Response, status: str | None = None, repo: str | None = None,
    cursor: str | None = None, limit: int = Query(pagination.DEFAULT_LIMIT, ge=1, le=pagination.MAX_LIMIT),
    principal: Principal = Depends(allow("jobs.list")), service: Service = Depends(service_of),
) -> list[dict[str, Any]]:  # fmt: skip
    rows = list_jobs(service.store, status=status, repo=repo, before=pagination.decode_int(cursor), limit=limit + 1)
    page = rows[:limit]
    pagination.link_next(request, response, page[-1].id if len(rows) > limit else None)
    return [j.to_json() for j in page]


@router.get("/{job_id}", summary="One job")
def job(
    job_id: int, principal: Principal = Depends(allow("jobs.get")), service: Service = Depends(service_of)
) -> dict[str, Any]:
    return get_job(service.store, job_id).to_json()


@router.post("", status_code=202, summary="Queue a job")
def add(
    body: JobRequest, principal: Principal = Depends(allow("jobs.add")), service: Service = Depends(service_of)
) -> dict[str, Any]:
    if body.kind not in HANDLERS:
        raise UsageError(f"{body.kind!r} is not a job kind; use one of {', '.join(sorted(HANDLERS))}", field="kind")
    if body.kind in ("sync", "refresh"):
        if not body.repo:
            raise UsageError(f"a {body.kind} job names a repository", field="repo")
        get_repo(service.store, body.repo)
    job_id = service.enqueue(body.kind, repo=body.repo)
    audit(service.store, actor=principal, action="job.add", target=f"job:{job_id}", payload=body.model_dump())
    return get_job(service.store, job_id).to_json()
