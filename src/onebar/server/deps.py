"""Request dependencies: the service, the caller (a bearer token or a session cookie), and the matrix check.

    principal = Depends(allow("report.get"))     401 without credentials, 403 when the matrix denies

A browser session authenticates too, but a state-changing request made with it must carry the
session's CSRF value (the `X-CSRF-Token` header or a `csrf` form field); a bearer token needs none,
since a browser never sends it on its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from onebar.auth.roles import Access, Principal, authorize
from onebar.auth.sessions import check_csrf, session_principal
from onebar.auth.tokens import authenticate
from onebar.errors import AuthenticationError
from onebar.server.service import Service

SESSION_COOKIE = "onebar_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def service_of(request: Request) -> Service:
    """The app's service (async: a dependency with no I/O should not cost a thread hop)."""
    service: Service = request.app.state.service
    return service


async def current_principal(request: Request) -> Principal:
    """The caller, from `Authorization: Bearer` or the session cookie; AuthenticationError when neither is valid."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    service: Service = request.app.state.service
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError("use 'Authorization: Bearer TOKEN'", field="Authorization")
        principal = authenticate(service.store, secret.strip(), touch=service.touch, rows=service.token_rows)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise AuthenticationError("authentication required: send 'Authorization: Bearer TOKEN' or sign in")
        principal, csrf = await run_in_threadpool(session_principal, service.store, cookie, touch=service.touch)
        request.state.csrf = csrf
        if request.method not in SAFE_METHODS:
            given = request.headers.get("x-csrf-token")
            if given is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                form = await request.form()
                value = form.get("csrf")
                given = value if isinstance(value, str) else None
            request.state.principal = principal
            check_csrf(csrf, given)
    request.state.principal = principal
    return principal


def allow(action: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that authenticates the caller and checks `action` in the access matrix.

    A `{name}` path parameter is the repository an `own` (ci) access is checked against.
    """

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        access = authorize(principal, action, repo=request.path_params.get("name"))
        request.state.access = access
        return principal

    dependency.__name__ = f"allow_{action.replace('.', '_')}"
    return dependency


def access_of(request: Request) -> Access:
    access: Access = request.state.access
    return access


async def page_principal(request: Request) -> Principal | None:
    """For server-rendered pages: the signed-in caller, or None (the page then redirects to /signin)."""
    try:
        return await current_principal(request)
    except AuthenticationError:
        return None
