"""Tokens over the API (admin), and `whoami` for any caller."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from onebar.auth.roles import Principal
from onebar.auth.tokens import create_token, list_tokens, revoke_token
from onebar.auth.trail import audit
from onebar.server.deps import allow, service_of
from onebar.server.service import Service

router = APIRouter(prefix="/api/v1", tags=["tokens"])


class TokenRequest(BaseModel):
    role: str = Field(description="admin, auditor, lead, member or ci")
    org: str | None = Field(None, description="the organisation of a lead or member")
    repo: str | None = Field(None, description="the repository of a ci token")
    person: str | None = Field(None, description="the charter person a member token speaks for")
    expires: str | int | None = Field(None, description="days until it expires (default 90), or 'never'")
    note: str = ""


@router.get("/whoami", summary="The caller's role and scope")
async def whoami(principal: Principal = Depends(allow("whoami"))) -> dict[str, Any]:
    return {
        "token_id": principal.token_id,
        "role": principal.role.value,
        "org": principal.org,
        "repo": principal.repo,
        "person": principal.person,
        "via": principal.via,
    }


@router.get("/tokens", summary="API tokens (never their secrets)")
def tokens(
    principal: Principal = Depends(allow("tokens.list")), service: Service = Depends(service_of)
) -> list[dict[str, Any]]:
    return [t.to_json() for t in list_tokens(service.store)]


@router.post("/tokens", status_code=201, summary="Create a token; its secret is in this answer only")
def create(
    body: TokenRequest, principal: Principal = Depends(allow("tokens.add")), service: Service = Depends(service_of)
) -> dict[str, Any]:
    new = create_token(
        service.store, body.role, org=body.org, repo=body.repo, person=body.person, expires=body.expires,
        note=body.note, created_by=principal.actor,
    )  # fmt: skip
    audit(service.store, actor=principal, action="token.create", target=f"token:{new.info.id}",
          payload=new.info.to_json())  # fmt: skip
    return {"token": new.token, **new.info.to_json(), "expires": new.info.to_json()["expires"]}


@router.delete("/tokens/{token_id}", summary="Revoke a token at once")
def revoke(
    token_id: int, principal: Principal = Depends(allow("tokens.revoke")), service: Service = Depends(service_of)
) -> Response:
    revoke_token(service.store, token_id)
    audit(service.store, actor=principal, action="token.revoke", target=f"token:{token_id}")
    return Response(status_code=204)
