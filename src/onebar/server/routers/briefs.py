"""Onboarding briefs and milestones over the API (docs/onboarding.md, docs/milestones.md).

GET /api/v1/repos/{name}/onboard/{person}   admin, auditor: anyone; lead: its people; member: itself
GET /api/v1/repos/{name}/milestones         admin, auditor: all with evidence; lead: its organisation's and
                                            those in components it is on, evidence without people's names
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends

from onebar.auth.roles import Access, Endpoint, Principal, Role, register
from onebar.errors import PermissionDeniedError
from onebar.onboard.brief import Brief
from onebar.repos.registry import get_repo, open_repo_workspace
from onebar.server.deps import allow, service_of
from onebar.server.service import Service

router = APIRouter(prefix="/api/v1", tags=["onboarding and milestones"])

F, S, D = Access.FULL, Access.SCOPED, Access.DENY
_ROLES = (Role.ADMIN, Role.AUDITOR, Role.LEAD, Role.MEMBER, Role.CI)
ENDPOINTS = (
    Endpoint("onboard.get", "GET", "/api/v1/repos/{name}/onboard/{person}",
             dict(zip(_ROLES, (F, F, S, S, D), strict=True)), "a newcomer's first-week brief"),
    Endpoint("milestones.list", "GET", "/api/v1/repos/{name}/milestones",
             dict(zip(_ROLES, (F, F, S, D, D), strict=True)), "milestones met, not met or at risk"),
)  # fmt: skip
for _e in ENDPOINTS:
    register(_e)


def brief_of(service: Service, name: str, person: str, principal: Principal) -> Brief:
    """The brief, when this caller may read it: admins and auditors anyone's, a lead its people's, a member its own."""
    from onebar.onboard import brief_for

    with open_repo_workspace(service.store, get_repo(service.store, name), service.settings.data_path,
                             ingest=False) as ws:  # fmt: skip
        if principal.role is Role.MEMBER and person != principal.person:
            raise PermissionDeniedError("a member token reads its own person's brief only", field="person")
        if principal.role is Role.LEAD and ws.charter.org_of(person) != principal.org:
            raise PermissionDeniedError(f"a lead of {principal.org} reads its own people's briefs", field="person")
        return brief_for(ws, person, today=datetime.now(UTC).date())


@router.get("/repos/{name}/onboard/{person}", summary="The first-week brief of a person")
def onboard(
    name: str, person: str, principal: Principal = Depends(allow("onboard.get")), service: Service = Depends(service_of)
) -> dict[str, Any]:
    return brief_of(service, name, person, principal).to_dict()


@router.get("/repos/{name}/milestones", summary="Milestones judged on the evidence onebar holds")
def milestones(
    name: str, principal: Principal = Depends(allow("milestones.list")), service: Service = Depends(service_of)
) -> dict[str, Any]:
    from onebar.milestones import evaluate

    today = datetime.now(UTC).date()
    with open_repo_workspace(service.store, get_repo(service.store, name), service.settings.data_path,
                             ingest=False) as ws:  # fmt: skip
        results = evaluate(ws, today=today)
        charter = ws.charter
    out = []
    for r in results:
        if not principal.sees_everything:
            involved = {
                charter.org_of(p)
                for c in r.scope["components"]
                for p in [charter.components[c].accountable, *charter.components[c].responsible]
            }
            if r.organisation != principal.org and principal.org not in involved:
                continue
        data = r.to_dict(today)
        if not principal.sees_everything:
            for c in data["criteria"]:
                c["details"] = []  # they name people of any organisation
        out.append(data)
    return {"today": today.isoformat(), "milestones": out}
