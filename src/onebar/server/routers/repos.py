"""Repositories the service owns: list, add (path or clone URL), one repository, sync after a push."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from onebar.auth.roles import Principal
from onebar.auth.trail import audit
from onebar.jobs.queue import list_jobs
from onebar.metrics.jsonable import iso
from onebar.repos import materialised
from onebar.repos.registry import add_repo, get_repo, list_repos
from onebar.server.deps import allow, service_of
from onebar.server.service import Service

router = APIRouter(prefix="/api/v1/repos", tags=["repositories"])


class RepoRequest(BaseModel):
    source: str = Field(description="a local path, or a clone URL to mirror")
    name: str | None = Field(None, description="default: the last part of the path or URL")


def describe(service: Service, name: str) -> dict[str, Any]:
    repo = get_repo(service.store, name)
    head = materialised.header(service.store, name)
    out = repo.to_json()
    out["report"] = {"etag": head.etag, "computed": iso(head.computed_at)} if head else None
    return out


@router.get("", summary="Repositories the service owns")
def repos(
    principal: Principal = Depends(allow("repos.list")), service: Service = Depends(service_of)
) -> list[dict[str, Any]]:
    return [r.to_json() for r in list_repos(service.store)]


@router.post(
    "", status_code=201, summary="Add a repository (a local path, or a clone URL mirrored into the data folder)"
)
def add(
    body: RepoRequest, principal: Principal = Depends(allow("repos.add")), service: Service = Depends(service_of)
) -> dict[str, Any]:
    repo = add_repo(service.store, body.source, name=body.name, data_dir=service.settings.data_path)
    job = service.enqueue("sync", repo=repo.name, payload={"fetch": False})
    audit(service.store, actor=principal, action="repo.add", target=f"repo:{repo.name}", payload=repo.to_json())
    return {**repo.to_json(), "job": job}


@router.get("/{name}", summary="One repository, its report state and recent jobs")
def repo(
    name: str, principal: Principal = Depends(allow("repos.get")), service: Service = Depends(service_of)
) -> dict[str, Any]:
    out = describe(service, name)
    out["jobs"] = (
        [j.to_json() for j in list_jobs(service.store, repo=name, limit=5)] if principal.sees_everything else []
    )
    return out


@router.post("/{name}/sync", status_code=202, summary="Fetch (a mirror) and ingest now, e.g. after a push")
def sync(
    name: str, principal: Principal = Depends(allow("repos.sync")), service: Service = Depends(service_of)
) -> dict[str, Any]:
    get_repo(service.store, name)
    job = service.enqueue("sync", repo=name)
    audit(service.store, actor=principal, action="repo.sync", target=f"repo:{name}", payload={"job": job})
    return {"job": job, "status": "queued"}
