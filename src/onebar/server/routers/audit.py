"""The audit log over the API: auditors and admins only (docs/audit.md).

GET /api/v1/audit                 entries, oldest first, paged by sequence number (`since`, `action`, `target`)
GET /api/v1/audit/verify          the chain and checkpoints verified now, with the service's verifier key
GET /api/v1/audit/checkpoints     the signed checkpoints, to keep outside the service
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from onebar import audit
from onebar.audit.chain import parse_instant
from onebar.auth.roles import Access, Endpoint, Principal, Role, register
from onebar.server import pagination
from onebar.server.deps import allow, service_of
from onebar.server.service import Service

router = APIRouter(prefix="/api/v1", tags=["audit"])

_AUDITORS = {Role.ADMIN: Access.FULL, Role.AUDITOR: Access.FULL, Role.LEAD: Access.DENY, Role.MEMBER: Access.DENY}
_AUDITORS[Role.CI] = Access.DENY
ENDPOINTS = (
    Endpoint("audit.list", "GET", "/api/v1/audit", dict(_AUDITORS), "the audit log, oldest first"),
    Endpoint("audit.verify", "GET", "/api/v1/audit/verify", dict(_AUDITORS), "verify the audit log now"),
    Endpoint("audit.checkpoints", "GET", "/api/v1/audit/checkpoints", dict(_AUDITORS), "signed audit checkpoints"),
)
for _e in ENDPOINTS:
    register(_e)


@router.get("/audit", summary="The audit log, oldest first (auditor, admin)")
def entries(
    request: Request,
    response: Response,
    since: str | None = Query(None, description="only entries at or after this date or time (ISO 8601)"),
    action: str | None = Query(None, max_length=200, description="only actions starting with this, e.g. access.grant"),
    target: str | None = Query(None, max_length=500, description="only entries about this target, e.g. grant:12"),
    cursor: str | None = None,
    limit: int = Query(pagination.DEFAULT_LIMIT, ge=1, le=pagination.MAX_LIMIT),
    principal: Principal = Depends(allow("audit.list")),
    service: Service = Depends(service_of),
) -> list[dict[str, Any]]:
    after = pagination.decode_int(cursor) or 0
    with service.store.read() as conn:
        rows = list(
            audit.entries(conn, since=parse_instant(since, "since"), after_seq=after, action=action, target=target,
                          limit=limit + 1)
        )  # fmt: skip
    pagination.link_next(request, response, rows[limit - 1].seq if len(rows) > limit else None)
    return [e.to_dict() for e in rows[:limit]]


@router.get("/audit/verify", summary="Verify the chain and the signed checkpoints now (auditor, admin)")
def verify(
    principal: Principal = Depends(allow("audit.verify")), service: Service = Depends(service_of)
) -> dict[str, Any]:
    key = audit.load_verifier()
    with service.store.read() as conn:
        result = audit.verify(conn, key)
    return result.to_dict()


@router.get("/audit/checkpoints", summary="The signed checkpoints, as C2SP notes (auditor, admin)")
def checkpoints(
    principal: Principal = Depends(allow("audit.checkpoints")), service: Service = Depends(service_of)
) -> list[dict[str, Any]]:
    from onebar.audit.checkpoint import parse_checkpoint

    with service.store.read() as conn:
        notes = audit.checkpoints(conn)
    return [parse_checkpoint(n)[0].to_dict() for n in notes]
