"""Dashboard pages for access and onboarding: server-rendered, no script, forms with the session's CSRF value.

GET  /access/{name}                             grants the caller may see, with approve / revoke buttons
POST /access/{name}/grants/{id}/approve|revoke  the same decisions as the API, then back to the page
GET  /onboard/{name}/{person}                   the first-week brief as a page

Each reuses its API action in the access matrix, so a page shows exactly what the API would answer.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from onebar import access
from onebar.auth.roles import Principal, Role
from onebar.server.deps import allow, service_of
from onebar.server.routers.access import _charter, _grant, _grant_json, _sees, actor_of
from onebar.server.routers.briefs import brief_of
from onebar.server.service import Service

router = APIRouter(tags=["dashboard"], include_in_schema=False)

STYLE = """body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#111827}main{max-width:1000px;margin:0 auto;
padding:20px}table{border-collapse:collapse;width:100%}th,td{padding:6px 8px;border-bottom:1px solid #e5e7eb;
text-align:left}th{color:#4b5563;font-size:13px}button{font:inherit;padding:2px 10px}form{display:inline}"""


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; form-action 'self'">
<title>{html.escape(title)} · onebar</title><style>{STYLE}</style></head>
<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""


def _button(name: str, gid: int, verb: str, csrf: str) -> str:
    return (
        f'<form method="post" action="/access/{html.escape(name)}/grants/{gid}/{verb}">'
        f'<input type="hidden" name="csrf" value="{html.escape(csrf)}">'
        f'<button type="submit" aria-label="{verb} grant {gid}">{verb}</button></form>'
    )


@router.get("/access/{name}", response_class=HTMLResponse)
def grants_page(
    request: Request,
    name: str,
    principal: Principal = Depends(allow("grants.list")),
    service: Service = Depends(service_of),
) -> HTMLResponse:
    charter = _charter(service, name)
    today = datetime.now(UTC).date()
    with service.store.read() as conn:
        found = access.list_grants(conn, repository=name, statuses=("pending", "approved"))
    csrf = str(getattr(request.state, "csrf", ""))
    rows = []
    for g in found:
        if not _sees(principal, g, charter):
            continue
        d = _grant_json(principal, charter, g, today)
        actions = []
        if g.status == "pending" and principal.role is Role.LEAD and principal.person == g.approver:
            actions.append(_button(name, g.id, "approve", csrf))
        if principal.role is not Role.AUDITOR:
            actions.append(_button(name, g.id, "revoke", csrf))
        ends = f"{d['ends_on']} ({d['days_left']} days)" if d["days_left"] is not None else d["ends_on"]
        cells = [f"#{g.id}", d["person"], d["level"], f"{g.scope.kind} {g.scope.name}", d["status"], ends,
                 d["approver"] or "", d["reason"]]  # fmt: skip
        rows.append(
            "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + f"<td>{''.join(actions)}</td></tr>"
        )
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("grant", "person", "level", "scope", "status", "until", "approver", "reason", "")
    )
    table = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No open grants.</p>"
    )
    return HTMLResponse(_page(f"Access to {name}", table))


def _back(name: str) -> RedirectResponse:
    return RedirectResponse(f"/access/{name}", status_code=303)


@router.post("/access/{name}/grants/{id}/approve")
def approve_form(
    name: str,
    id: int,
    csrf: str = Form(""),
    principal: Principal = Depends(allow("grants.approve")),
    service: Service = Depends(service_of),
) -> RedirectResponse:
    g = _grant(service, id)
    access.approve_grant(service.store, _charter(service, g.repository), id, actor=actor_of(principal),
                         today=datetime.now(UTC).date())  # fmt: skip
    return _back(name)


@router.post("/access/{name}/grants/{id}/revoke")
def revoke_form(
    name: str,
    id: int,
    csrf: str = Form(""),
    principal: Principal = Depends(allow("grants.revoke")),
    service: Service = Depends(service_of),
) -> RedirectResponse:
    from onebar.errors import PermissionDeniedError

    g = _grant(service, id)
    if not _sees(principal, g, _charter(service, g.repository)):
        raise PermissionDeniedError(f"grant #{id} is not one this session may revoke", field="id")
    access.revoke_grant(service.store, id, actor=actor_of(principal), reason="revoked from the dashboard")
    return _back(name)


@router.get("/onboard/{name}/{person}", response_class=HTMLResponse)
def onboard_page(
    name: str,
    person: str,
    principal: Principal = Depends(allow("onboard.get")),
    service: Service = Depends(service_of),
) -> HTMLResponse:
    from onebar.onboard import render_brief

    return HTMLResponse(render_brief(brief_of(service, name, person, principal), "html"))
