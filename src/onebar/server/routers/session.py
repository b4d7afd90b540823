"""Browser sign-in: a token exchanged for a session cookie (HttpOnly, SameSite=Lax, Secure over TLS).

The sign-in form itself is protected from login CSRF by a double-submit value: a random cookie that
the form must echo. After sign-in every form carries the session's own CSRF value (`csrf_token`).
"""

from __future__ import annotations

import html
import secrets
import time
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onebar.auth.sessions import check_csrf, end_session, start_session
from onebar.auth.trail import audit
from onebar.errors import AuthenticationError
from onebar.server.deps import SESSION_COOKIE, current_principal, service_of
from onebar.server.service import Service

router = APIRouter(tags=["session"])
PRE_CSRF_COOKIE = "onebar_signin"


def csrf_token(request: Request) -> str:
    """The CSRF value a form of this session must send back (after `current_principal` ran)."""
    return str(getattr(request.state, "csrf", ""))


def secure(request: Request, service: Service) -> bool:
    forced = service.settings.secure_cookies
    return forced if forced is not None else request.url.scheme == "https"


def _page(csrf: str, message: str = "", target: str | None = None) -> str:
    note = f'<p role="alert">{html.escape(message)}</p>' if message else ""
    action = "/signin" + (f"?{urlencode({'next': target})}" if target and _local(target) else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · onebar</title><link rel="stylesheet" href="/static/onebar.css"></head>
<body class="signin"><main><h1>Sign in to onebar</h1>{note}
<form method="post" action="{html.escape(action)}">
<input type="hidden" name="csrf" value="{html.escape(csrf)}">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Sign in</button>
</form></main></body></html>"""


@router.get("/signin", response_class=HTMLResponse, summary="The sign-in page")
def signin_page(request: Request, service: Service = Depends(service_of)) -> HTMLResponse:
    value = secrets.token_urlsafe(24)
    response = HTMLResponse(_page(value, target=request.query_params.get("next")))
    response.set_cookie(
        PRE_CSRF_COOKIE, value, httponly=True, samesite="strict", secure=secure(request, service), max_age=3600
    )
    return response


@router.post("/signin", summary="Exchange a token for a session cookie")
async def signin(
    request: Request, token: str = Form(...), csrf: str = Form(""), service: Service = Depends(service_of)
) -> Response:
    check_csrf(request.cookies.get(PRE_CSRF_COOKIE), csrf)
    try:
        session = await run_in_threadpool(start_session, service.store, token.strip(), ttl=service.settings.session_ttl)
    except AuthenticationError as exc:
        audit(service.store, actor="anonymous", action="session.start", target="/signin", outcome="refused",
              payload={"reason": exc.message})  # fmt: skip
        value = secrets.token_urlsafe(24)
        page = HTMLResponse(
            _page(value, "That token is not valid (unknown, revoked or expired).", request.query_params.get("next")),
            status_code=401,
        )
        page.set_cookie(PRE_CSRF_COOKIE, value, httponly=True, samesite="strict", secure=secure(request, service))
        return page
    audit(service.store, actor=session.principal, action="session.start", target="/signin")
    target = request.query_params.get("next")
    response = RedirectResponse(target if target and _local(target) else "/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session.cookie, httponly=True, samesite="lax", secure=secure(request, service),
        max_age=max(1, session.expires_at - int(time.time())), path="/",
    )  # fmt: skip
    response.delete_cookie(PRE_CSRF_COOKIE)
    return response


@router.post("/signout", summary="End the session (needs the session's CSRF value)")
async def signout(request: Request, service: Service = Depends(service_of)) -> Response:
    principal = await current_principal(request)  # checks the CSRF value of a session
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await run_in_threadpool(end_session, service.store, cookie)
    audit(service.store, actor=principal, action="session.end", target="/signout")
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _local(target: str) -> bool:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    return target.startswith("/") and not target.startswith(("//", "/\\"))
