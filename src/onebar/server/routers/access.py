"""Access grants and the access review over the API (docs/access.md), scoped by employer.

GET  /api/v1/repos/{name}/grants                 admin, auditor: all; lead: its people's and its approvals
POST /api/v1/repos/{name}/grants                 request: admin for anyone, a lead for its people, a member for itself
POST /api/v1/grants/{id}/approve                 the lead of the organisation that owns the scope, only
POST /api/v1/grants/{id}/revoke                  admin; a lead for its people; a member its own
GET  /api/v1/repos/{name}/access-review          admin, auditor: every organisation; lead: its own part
POST /api/v1/repos/{name}/access-review/signoff  a lead signs its organisation's part

Every decision and every refusal is written to the audit log by the access library itself.
Importing this module also registers the grants' expiry sweep with the job registry.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from onebar import access, audit
from onebar.access import jobs as _access_jobs  # noqa: F401  (registers the grants sweeper)
from onebar.access.jobs import charter_of
from onebar.access.model import Grant
from onebar.auth.roles import Access, Endpoint, Principal, Role, register
from onebar.charter.model import Charter
from onebar.errors import NotFoundError, PermissionDeniedError
from onebar.repos.registry import get_repo
from onebar.server.deps import allow, service_of
from onebar.server.service import Service

router = APIRouter(prefix="/api/v1", tags=["access"])

F, S, D = Access.FULL, Access.SCOPED, Access.DENY


def _row(action: str, method: str, path: str, summary: str, *access_by_role: Access) -> Endpoint:
    return Endpoint(action, method, path, dict(zip((Role.ADMIN, Role.AUDITOR, Role.LEAD, Role.MEMBER, Role.CI),
                                                   access_by_role, strict=True)), summary)  # fmt: skip


ENDPOINTS = (
    _row("grants.list", "GET", "/api/v1/repos/{name}/grants", "access grants", F, F, S, S, D),
    _row("grants.add", "POST", "/api/v1/repos/{name}/grants", "request access until a date", F, D, S, S, D),
    _row("grants.approve", "POST", "/api/v1/grants/{id}/approve", "approve a request (owning lead)", D, D, S, D, D),
    _row("grants.revoke", "POST", "/api/v1/grants/{id}/revoke", "revoke a grant", F, D, S, S, D),
    _row("access_review.get", "GET", "/api/v1/repos/{name}/access-review", "the access review", F, F, S, D, D),
    _row("access_review.sign", "POST", "/api/v1/repos/{name}/access-review/signoff", "sign off", D, D, S, D, D),
)
for _e in ENDPOINTS:
    register(_e)


class GrantRequest(BaseModel):
    person: str = Field(min_length=1, max_length=200)
    scope: Literal["repository", "component", "environment"]
    target: str = Field(min_length=1, max_length=200, description="the repository, component or environment")
    until: date = Field(description="last day of access; never past the person's contract_end")
    level: Literal["read", "write", "admin"] = "read"
    reason: str = Field("", max_length=2000)
    start: date | None = None


class Revocation(BaseModel):
    reason: str = Field("", max_length=2000)


class SignOff(BaseModel):
    period: str | None = Field(None, max_length=20)
    note: str = Field("", max_length=2000)


def actor_of(p: Principal) -> audit.Actor:
    return audit.Actor(person=p.person, token=str(p.token_id), org=p.org, via="web" if p.via == "session" else "api")


def _today() -> date:
    return datetime.now(UTC).date()


def _charter(service: Service, name: str) -> Charter:
    charter = charter_of(get_repo(service.store, name))
    if charter is None:
        raise NotFoundError(f"repository {name!r} has no valid onebar.toml: grants need its people", field="name")
    return charter


def _sees(p: Principal, g: Grant, charter: Charter) -> bool:
    """Admins and auditors see every grant; a lead its people's and those it approves; a member its own."""
    if p.sees_everything:
        return True
    if p.role is Role.LEAD:
        return charter.org_of(g.person) == p.org or (p.person is not None and g.approver == p.person)
    return p.person is not None and g.person == p.person


def _shown(p: Principal, charter: Charter, who: str | None) -> str | None:
    """A person as this caller may see them: another organisation's people are never named (its lead is
    shown by role: "the lead of acme", so a vendor knows whom to ask)."""
    if who is None or p.sees_everything:
        return who
    org = charter.org_of(who)
    if org is None or org == p.org:
        return who
    return f"the lead of {org}" if charter.lead_of(org) == who else "(hidden)"


def _grant_json(p: Principal, charter: Charter, g: Grant, today: date) -> dict[str, Any]:
    out = g.to_dict(today)
    for key in ("approver", "requested_by", "decided_by", "ended_by"):
        out[key] = _shown(p, charter, out.get(key))
    return out


@router.get("/repos/{name}/grants", summary="Access grants of a repository, as the caller may see them")
def grants(
    name: str,
    status: list[str] | None = Query(None, description="pending, approved, refused, revoked, expired"),
    principal: Principal = Depends(allow("grants.list")),
    service: Service = Depends(service_of),
) -> list[dict[str, Any]]:
    charter = _charter(service, name)
    with service.store.read() as conn:
        found = access.list_grants(conn, repository=name, statuses=tuple(status) if status else None)
    today = _today()
    return [_grant_json(principal, charter, g, today) for g in found if _sees(principal, g, charter)]


@router.post("/repos/{name}/grants", status_code=201, summary="Request access; the owning lead approves it")
def request(
    name: str,
    body: GrantRequest,
    principal: Principal = Depends(allow("grants.add")),
    service: Service = Depends(service_of),
) -> dict[str, Any]:
    charter = _charter(service, name)
    if principal.role is Role.MEMBER and body.person != principal.person:
        raise PermissionDeniedError("a member token requests access for its own person only", field="person")
    if principal.role is Role.LEAD and charter.org_of(body.person) != principal.org:
        raise PermissionDeniedError(f"a lead of {principal.org} requests access for its own people", field="person")
    g = access.request_grant(
        service.store, charter, name, person=body.person, scope=access.Scope(body.scope, body.target),
        until=body.until, level=body.level, reason=body.reason, start=body.start, actor=actor_of(principal),
        today=_today(),
    )  # fmt: skip
    return _grant_json(principal, charter, g, _today())


def _grant(service: Service, grant_id: int) -> Grant:
    with service.store.read() as conn:
        return access.get_grant(conn, grant_id)


@router.post("/grants/{id}/approve", summary="Approve a pending grant (the lead of the owning organisation)")
def approve(
    id: int, principal: Principal = Depends(allow("grants.approve")), service: Service = Depends(service_of)
) -> dict[str, Any]:
    g = _grant(service, id)
    charter = _charter(service, g.repository)
    done = access.approve_grant(service.store, charter, id, actor=actor_of(principal), today=_today())
    return _grant_json(principal, charter, done, _today())


@router.post("/grants/{id}/revoke", summary="Revoke a grant")
def revoke(
    id: int,
    body: Revocation | None = None,
    principal: Principal = Depends(allow("grants.revoke")),
    service: Service = Depends(service_of),
) -> dict[str, Any]:
    g = _grant(service, id)
    charter = _charter(service, g.repository)
    if not _sees(principal, g, charter):
        raise PermissionDeniedError(f"grant #{id} is not one this token may revoke", field="id")
    done = access.revoke_grant(service.store, id, actor=actor_of(principal), reason=body.reason if body else "")
    return _grant_json(principal, charter, done, _today())


def _review(service: Service, name: str, period: str | None) -> tuple[Charter, access.Review, int]:
    repo = get_repo(service.store, name)
    if repo.repo_id is None:
        raise NotFoundError(f"repository {name!r} has not been ingested yet", field="name")
    charter = _charter(service, name)
    with service.store.read() as conn:
        activity = access.activity_from_store(conn, repo.repo_id, charter)
        review = access.build_review(conn, charter, name, today=_today(), activity=activity, period=period)
    return charter, review, repo.repo_id


@router.get("/repos/{name}/access-review", summary="The periodic access review (a lead sees its organisation's part)")
def review(
    name: str,
    period: str | None = Query(None, max_length=20, description="e.g. 2025-Q1 [default: this quarter]"),
    principal: Principal = Depends(allow("access_review.get")),
    service: Service = Depends(service_of),
) -> dict[str, Any]:
    charter, result, _ = _review(service, name, period)
    if principal.sees_everything:
        return result.to_dict()
    result.orgs = [o for o in result.orgs if o.org == principal.org]
    result.outside_contract = [x for x in result.outside_contract if x.org == principal.org]
    out = result.to_dict()
    for org in out["organisations"]:
        for row in org["rows"]:
            row["approver"] = _shown(principal, charter, row["approver"])
    return out


@router.post("/repos/{name}/access-review/signoff", status_code=201, summary="A lead signs off its part")
def sign(
    name: str,
    body: SignOff,
    principal: Principal = Depends(allow("access_review.sign")),
    service: Service = Depends(service_of),
) -> dict[str, Any]:
    repo = get_repo(service.store, name)
    charter = _charter(service, name)
    if principal.org is None or repo.repo_id is None:
        raise PermissionDeniedError("only a lead token of an organisation signs its access review", field="org")
    with service.store.read() as conn:
        activity = access.activity_from_store(conn, repo.repo_id, charter)
    s = access.sign_review(
        service.store, charter, name, principal.org, actor=actor_of(principal), today=_today(), activity=activity,
        period=body.period, note=body.note,
    )  # fmt: skip
    return {"org": s.org, "period": s.period, **s.to_dict(), "rows": s.rows}
