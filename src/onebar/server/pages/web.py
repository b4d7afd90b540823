"""The pages' plumbing: who is looking (`Viewer`), the templates, security headers, and errors as pages.

Every page is checked like an API call: the caller comes from the session cookie (or a bearer
token), its row of the access matrix (`onebar.auth.roles.PAGES`) must allow it, and what the page
shows passes through `onebar.auth.visibility`. A browser (which asks for `text/html`) gets errors as
pages and is sent to `/signin` when not signed in; any other client gets the API's problem documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from onebar.auth.roles import BY_ACTION, Access, Principal, authorize
from onebar.errors import AuthenticationError, OnebarError, UsageError
from onebar.report.render import common
from onebar.server import problems
from onebar.server.deps import current_principal
from onebar.server.routers.session import csrf_token
from onebar.server.service import Service

# No script, no frame, nothing fetched but this site's stylesheet; inline SVG needs no source. The
# charts' legend colours are style attributes, the only inline style allowed.
CSP = (
    "default-src 'none'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",  # pages hold what this caller may see, nobody else
    "Vary": "Cookie, Authorization",
}


@dataclass(frozen=True)
class Problem:
    """The API's problem document (RFC 9457), as an error page shows it."""

    status: int
    title: str
    detail: str
    field: str | None
    hint: str | None
    request_id: str | None


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    current: bool


@dataclass(frozen=True)
class Viewer:
    """The signed-in caller as a page sees it: their principal, the CSRF value for forms, the menu."""

    principal: Principal
    csrf: str
    path: str

    @property
    def role(self) -> str:
        return self.principal.role.value

    @property
    def who(self) -> str:
        """How the header names the caller: role, and organisation or person."""
        p = self.principal
        scope = " · ".join(x for x in (p.org, p.person, p.repo) if x)
        return f"{p.role.value}" + (f" · {scope}" if scope else "")

    def may(self, action: str) -> bool:
        """Whether the matrix lets this caller use `action` at all (for showing links and buttons)."""
        return BY_ACTION[action].access[self.principal.role] is not Access.DENY

    @property
    def nav(self) -> list[NavItem]:
        items = [
            ("/", "Portfolio", "page.portfolio"),
            ("/gate-runs", "Gate runs", "page.gate_runs"),
            ("/access", "Access", "page.access"),
            ("/jobs", "Jobs", "page.jobs"),
            ("/me", "Me", "page.me"),
        ]
        out = []
        for href, label, action in items:
            if self.may(action):
                here = self.path == href if href == "/" else self.path.startswith(href)
                out.append(NavItem(href, label, here))
        return out


def page(action: str) -> Callable[[Request], Coroutine[Any, Any, Viewer]]:
    """A dependency: the caller, checked against the matrix row `action` (a `{name}` is the repository)."""

    async def dependency(request: Request) -> Viewer:
        principal = await current_principal(request)
        authorize(principal, action, repo=request.path_params.get("name"))
        return Viewer(principal, csrf_token(request), request.url.path)

    dependency.__name__ = f"page_{action.replace('.', '_')}"
    return dependency


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


@cache
def env() -> Environment:
    """The templates' environment: autoescaped, and StrictUndefined, so a missing attribute fails the page."""
    e = Environment(
        loader=PackageLoader("onebar.server", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.filters.update(num=common.num, pct=common.pct, dur=common.dur, minute=common.minute, day=common.day)
    e.filters["q"] = lambda v: quote(str(v), safe="")
    return e


def render(viewer: Viewer | None, template: str, *, title: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page of `template` in the layout, with the security headers every page carries."""
    html = env().get_template(template).render(viewer=viewer, title=title, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def redirect(path: str, **query: str | int) -> RedirectResponse:
    """After a form: back to a page (303, so a reload does not post again), with a message key."""
    target = path + (f"?{urlencode(query)}" if query else "")
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def error_page(request: Request, exc: OnebarError) -> Response:
    """The problem document the API would answer (audited the same way), as a page for a browser."""
    answer = await problems.onebar_error(request, exc)
    if isinstance(exc, AuthenticationError) and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?{urlencode({'next': target})}", status_code=303)
    return problem_page(request, answer)


def problem_page(request: Request, answer: JSONResponse) -> HTMLResponse:
    """A problem document (`onebar.server.problems`) rendered as a page."""
    doc = json.loads(bytes(answer.body))
    problem = Problem(
        doc["status"], doc["title"], doc["detail"], doc.get("field"), doc.get("hint"), doc.get("request_id")
    )
    principal = getattr(request.state, "principal", None)
    viewer = Viewer(principal, csrf_token(request), request.url.path) if principal is not None else None
    return render(viewer, "error.html.j2", title=problem.title, status=answer.status_code, problem=problem)


class PageRoute(APIRoute):
    """A route whose errors become pages for a browser and stay problem documents for anyone else."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except OnebarError as exc:
                if not wants_html(request):
                    raise
                return await error_page(request, exc)
            except RequestValidationError as exc:
                if not wants_html(request):
                    raise
                first = exc.errors()[0] if exc.errors() else {}
                field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
                return await error_page(request, UsageError(str(first.get("msg", "invalid request")), field=field))
            except StarletteHTTPException:
                raise
            except Exception as exc:  # a bug: logged with the request id; the page says only that
                if not wants_html(request):
                    raise
                return problem_page(request, await problems.unexpected(request, exc))

        return run
