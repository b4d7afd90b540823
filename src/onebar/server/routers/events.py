"""Deployments and incidents: any CI records them (a ci token of the repository), readers list them.

Recording goes through `onebar.report.record` as `onebar record` does; the repository's report is
refreshed by a job queued in the same request (coalesced with any refresh already waiting).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from onebar.auth.roles import Principal
from onebar.auth.trail import audit
from onebar.errors import ConflictError, GitError, UsageError
from onebar.git import git
from onebar.metrics.jsonable import iso
from onebar.report.record import STATUSES, record_deployment, record_incident
from onebar.repos.materialised import instant
from onebar.repos.registry import ServiceRepo, get_repo
from onebar.server import pagination
from onebar.server.deps import allow, service_of
from onebar.server.service import Service
from onebar.store.schema import deployments, incidents

router = APIRouter(prefix="/api/v1/repos/{name}", tags=["events"])
SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")


class DeploymentIn(BaseModel):
    ref: str = Field(description="the deployed tag, branch or commit")
    sha: str | None = Field(None, description="the deployed commit; default: REF resolved in the repository")
    environment: str | None = Field(None, description="default: the charter's delivery environment")
    at: str | None = Field(None, description="ISO 8601 time; default now")
    status: str = Field("success", description="success or failure")
    external_id: str | None = Field(None, description="the deploying system's id: recording it again is a no-op")


class IncidentIn(BaseModel):
    title: str = ""
    started: str | None = Field(None, description="ISO 8601 time; default now")
    resolved: str | None = None
    deployment: str | None = Field(None, description="the deployment (tag or ref) it is attributed to")
    external_id: str | None = None


def _ingested(repo: ServiceRepo) -> int:
    if repo.repo_id is None:
        raise ConflictError(f"repository {repo.name!r} has not been ingested yet; record events after its first sync")
    return repo.repo_id


def _when(value: str | None, field: str, now: int) -> int:
    if value is None or value.strip().lower() == "now":
        return now
    return instant(value, field)


def _resolve(repo: ServiceRepo, ref: str, sha: str | None) -> str:
    if sha is not None:
        if not SHA.match(sha):
            raise UsageError(f"{sha!r} is not a commit sha", field="sha")
        return sha.lower()
    try:
        out = (
            git(Path(repo.path), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).decode().strip()
        )
    except GitError:
        out = ""
    if not out:
        raise UsageError(f"{ref!r} is not a commit, tag or branch of {repo.name}; send its sha", field="ref")
    return out


@router.post("/deployments", status_code=201, summary="Record a deployment")
def add_deployment(
    name: str, body: DeploymentIn, principal: Principal = Depends(allow("deployments.add")),
    service: Service = Depends(service_of),
) -> dict[str, Any]:  # fmt: skip
    repo = get_repo(service.store, name)
    repo_id = _ingested(repo)
    now = int(time.time())
    if not body.ref.strip():
        raise UsageError("name the deployed ref (a tag, branch or commit)", field="ref")
    if body.status not in STATUSES:
        raise UsageError(f"{body.status!r} is not one of {', '.join(STATUSES)}", field="status")
    at = _when(body.at, "at", now)
    if at > now + 3600:
        raise UsageError("the deployment time is in the future", field="at")
    env = body.environment if body.environment is not None else _environment(service, name)
    if not env.strip():
        raise UsageError("the environment name is empty", field="environment")
    done = record_deployment(
        service.store, repo_id, ref=body.ref, sha=_resolve(repo, body.ref, body.sha), at=at, now=now,
        environment=env, status=body.status, source="api", external_id=body.external_id,
    )  # fmt: skip
    job = service.enqueue("refresh", repo=name) if done.created else None
    audit(service.store, actor=principal, action="deployment.record", target=f"repo:{name}",
          outcome="ok" if done.created else "duplicate", payload=done.row)  # fmt: skip
    return {"id": done.id, "created": done.created, "job": job, **_deployment_json(done.row)}


@router.get("/deployments", summary="Recorded deployments, newest first")
def list_deployments(
    name: str, request: Request, response: Response, cursor: str | None = None,
    limit: int = Query(pagination.DEFAULT_LIMIT, ge=1, le=pagination.MAX_LIMIT),
    principal: Principal = Depends(allow("deployments.list")), service: Service = Depends(service_of),
) -> list[dict[str, Any]]:  # fmt: skip
    repo = get_repo(service.store, name)
    if repo.repo_id is None:
        return []
    q = (
        select(deployments)
        .where(deployments.c.repo_id == repo.repo_id)
        .order_by(deployments.c.id.desc())
        .limit(limit + 1)
    )
    after = pagination.decode_int(cursor)
    if after is not None:
        q = q.where(deployments.c.id < after)
    with service.store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    page = rows[:limit]
    pagination.link_next(request, response, page[-1]["id"] if len(rows) > limit else None)
    return [{"id": r["id"], **_deployment_json(r)} for r in page]


@router.post("/incidents", status_code=201, summary="Record an incident")
def add_incident(
    name: str, body: IncidentIn, principal: Principal = Depends(allow("incidents.add")),
    service: Service = Depends(service_of),
) -> dict[str, Any]:  # fmt: skip
    repo = get_repo(service.store, name)
    repo_id = _ingested(repo)
    now = int(time.time())
    started = _when(body.started, "started", now)
    resolved = instant(body.resolved, "resolved") if body.resolved else None
    if started > now + 3600:
        raise UsageError("the incident start is in the future", field="started")
    if resolved is not None and resolved < started:
        raise UsageError("the incident is resolved before it started", field="resolved")
    if resolved is not None and resolved > now + 3600:
        raise UsageError("the resolution time is in the future", field="resolved")
    done = record_incident(
        service.store, repo_id, started=started, resolved=resolved, now=now, title=body.title,
        deployment_ref=body.deployment, source="api", external_id=body.external_id,
    )  # fmt: skip
    job = service.enqueue("refresh", repo=name) if done.created else None
    audit(service.store, actor=principal, action="incident.record", target=f"repo:{name}",
          outcome="ok" if done.created else "duplicate", payload=done.row)  # fmt: skip
    return {"id": done.id, "created": done.created, "job": job, **_incident_json(done.row)}


@router.get("/incidents", summary="Recorded incidents, newest first")
def list_incidents(
    name: str, request: Request, response: Response, cursor: str | None = None,
    limit: int = Query(pagination.DEFAULT_LIMIT, ge=1, le=pagination.MAX_LIMIT),
    principal: Principal = Depends(allow("incidents.list")), service: Service = Depends(service_of),
) -> list[dict[str, Any]]:  # fmt: skip
    repo = get_repo(service.store, name)
    if repo.repo_id is None:
        return []
    q = select(incidents).where(incidents.c.repo_id == repo.repo_id).order_by(incidents.c.id.desc()).limit(limit + 1)
    after = pagination.decode_int(cursor)
    if after is not None:
        q = q.where(incidents.c.id < after)
    with service.store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    page = rows[:limit]
    pagination.link_next(request, response, page[-1]["id"] if len(rows) > limit else None)
    return [{"id": r["id"], **_incident_json(r)} for r in page]


def _environment(service: Service, name: str) -> str:
    from onebar.repos import materialised

    row = materialised.read(service.store, name)
    if row is None:
        return "production"
    return str(row.meta["charter"].get("delivery", {}).get("environment", "production"))


def _deployment_json(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "ref": r["ref"], "sha": r["sha"], "environment": r["environment"], "at": iso(r["deployed_at"]),
        "status": r["status"], "source": r["source"], "external_id": r["external_id"],
    }  # fmt: skip


def _incident_json(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": r["title"], "started": iso(r["started_at"]), "resolved": iso(r["resolved_at"]),
        "deployment": r["deployment_ref"], "source": r["source"], "external_id": r["external_id"],
    }  # fmt: skip
