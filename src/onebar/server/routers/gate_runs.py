"""Gate runs: CI posts the JSON verdict of `onebar gate --format json`; readers see the history per
repository, organisation and rule (authors of other organisations hidden by the visibility policy)."""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select

from onebar.auth import visibility
from onebar.auth.roles import Principal
from onebar.auth.trail import audit
from onebar.metrics.jsonable import iso
from onebar.repos import materialised
from onebar.repos.registry import get_repo
from onebar.server import pagination
from onebar.server.deps import allow, service_of
from onebar.server.service import Service
from onebar.store.schema_service import gate_runs

router = APIRouter(prefix="/api/v1", tags=["gate runs"])


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=100)
    status: str = Field(max_length=32)


class AuthorIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    person: str | None = None
    org: str | None = None


class VerdictIn(BaseModel):
    """The gate's JSON verdict (docs/gate.schema.json); the fields the service files it under are checked."""

    model_config = ConfigDict(extra="allow")
    schema_version: int = 1
    status: Literal["pass", "fail"]
    base: str = Field(max_length=200)
    head: str = Field(max_length=200)
    author: AuthorIn | None = None
    rules: list[RuleIn] = Field(default_factory=list, max_length=200)


@router.post("/repos/{name}/gate-runs", status_code=201, summary="Post a gate verdict from CI")
def add(
    name: str, verdict: VerdictIn, principal: Principal = Depends(allow("gate_runs.add")),
    service: Service = Depends(service_of),
    idempotency_key: str | None = Header(None, max_length=200, description="posting the same key again is a no-op"),
) -> dict[str, Any]:  # fmt: skip
    get_repo(service.store, name)
    author = verdict.author or AuthorIn()
    row = {
        "repo": name,
        "status": verdict.status,
        "base": verdict.base,
        "head": verdict.head,
        "org": author.org,
        "person": author.person,
        "failed_rules": " ".join(r.id for r in verdict.rules if r.status == "fail"),
        "rules": " ".join(r.id for r in verdict.rules),
        "posted_at": int(time.time()),
        "token_id": principal.token_id,
        "verdict": verdict.model_dump_json(),
        "external_id": idempotency_key,
    }
    with service.store.write() as conn:
        if idempotency_key is not None:
            found = conn.execute(
                select(gate_runs.c.id).where(gate_runs.c.repo == name, gate_runs.c.external_id == idempotency_key)
            ).scalar()
            if found is not None:
                return {"id": int(found), "created": False}
        new_id = int(conn.execute(insert(gate_runs).values(**row)).inserted_primary_key[0])  # type: ignore[index]
    audit(service.store, actor=principal, action="gate_run.record", target=f"repo:{name}",
          payload={"id": new_id, "status": verdict.status, "head": verdict.head})  # fmt: skip
    return {"id": new_id, "created": True}


def _search(
    service: Service, principal: Principal, request: Request, response: Response, *, repo: str | None,
    org: str | None, rule: str | None, status: str | None, cursor: str | None, limit: int,
) -> list[dict[str, Any]]:  # fmt: skip
    c = gate_runs.c
    q = select(gate_runs).order_by(c.id.desc()).limit(limit + 1)
    if repo:
        q = q.where(c.repo == repo)
    if org:
        q = q.where(c.org == org)
    if status:
        q = q.where(c.status == status)
    if rule:  # rule ids never hold spaces: match one whole id in the space-separated list
        q = q.where((" " + c.rules + " ").contains(f" {rule} "))
    if not principal.sees_everything:
        q = q.where(c.org.is_not(None))
        if principal.role.value == "member":
            q = q.where(c.org == principal.org)
    after = pagination.decode_int(cursor)
    if after is not None:
        q = q.where(c.id < after)
    with service.store.read() as conn:
        rows = conn.execute(q).all()
    out = []
    hidden: dict[str, list[str]] = {}  # repo -> the names of people this caller may not see
    for r in rows[:limit]:
        run = {
            "id": r.id, "repo": r.repo, "status": r.status, "base": r.base, "head": r.head, "org": r.org,
            "person": r.person, "failed_rules": r.failed_rules.split(), "posted": iso(r.posted_at),
            "verdict": json.loads(r.verdict),
        }  # fmt: skip
        shown = visibility.gate_run_entry(principal, run)
        if shown is None:
            continue
        if not principal.sees_everything:  # findings are free text that can name reviewers
            if r.repo not in hidden:
                found = materialised.read(service.store, r.repo)
                people = found.meta["charter"]["people"] if found is not None else {}
                hidden[r.repo] = visibility.hidden_names(principal, people)
            shown = visibility.scrub(shown, hidden[r.repo])
        out.append(shown)
    pagination.link_next(request, response, rows[limit - 1].id if len(rows) > limit else None)
    return out


STATUS = Query(None, pattern="^(pass|fail)$")
LIMIT = Query(pagination.DEFAULT_LIMIT, ge=1, le=pagination.MAX_LIMIT)


@router.get("/repos/{name}/gate-runs", summary="Gate verdicts of one repository, newest first")
def of_repo(
    name: str, request: Request, response: Response, org: str | None = None, rule: str | None = None,
    status: str | None = STATUS, cursor: str | None = None, limit: int = LIMIT,
    principal: Principal = Depends(allow("gate_runs.list")), service: Service = Depends(service_of),
) -> list[dict[str, Any]]:  # fmt: skip
    get_repo(service.store, name)
    return _search(service, principal, request, response, repo=name, org=org, rule=rule, status=status,
                   cursor=cursor, limit=limit)  # fmt: skip


@router.get("/gate-runs", summary="Gate verdicts across repositories, by organisation, rule or status")
def search(
    request: Request, response: Response, repo: str | None = None, org: str | None = None, rule: str | None = None,
    status: str | None = STATUS, cursor: str | None = None, limit: int = LIMIT,
    principal: Principal = Depends(allow("gate_runs.search")), service: Service = Depends(service_of),
) -> list[dict[str, Any]]:  # fmt: skip
    return _search(service, principal, request, response, repo=repo, org=org, rule=rule, status=status,
                   cursor=cursor, limit=limit)  # fmt: skip
