"""Reports and what is read from them: the report JSON contract, people, components, organisations, portfolio.

Every answer comes from a materialised report (no git, no metrics at request time), filtered by the
visibility policy for the caller, serialised once per (report, caller scope) and kept in memory.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from onebar.auth import visibility
from onebar.auth.roles import Principal
from onebar.errors import ConflictError, NotFoundError, OnebarError, PermissionDeniedError
from onebar.repos import materialised
from onebar.repos.registry import get_repo, list_repos
from onebar.server.deps import allow, service_of
from onebar.server.portfolio import portfolio as build_portfolio
from onebar.server.service import Service

router = APIRouter(prefix="/api/v1", tags=["reports"])

SINCE = Query(None, description="start of the window (YYYY-MM-DD or ISO time), or 'all'; default 90 days before until")
UNTIL = Query(None, description="end of the window, inclusive of that day; default the last commit or deployment")
TIERS = Query(None, description="DORA report year of the tiers (2023 or 2024)")
ORG = Query(None, description="narrow per-organisation sections to this organisation")
_INT = TypeAdapter(int)
_may_get_report = allow("report.get")


def _query(name: str, kind: str, description: str | None) -> dict[str, Any]:
    """An optional query parameter as FastAPI would document `name: kind | None = Query(None, ...)`."""
    schema = {"anyOf": [{"type": kind}, {"type": "null"}], "description": description, "title": name.title()}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


# The report route reads its parameters by hand (below), so they are declared for /openapi.json here.
REPORT_OPENAPI: dict[str, Any] = {
    "parameters": [
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "title": "Name"}},
        _query("since", "string", SINCE.description),
        _query("until", "string", UNTIL.description),
        _query("tiers", "integer", TIERS.description),
        _query("org", "string", ORG.description),
    ],
    "responses": {
        "422": {
            "description": "Validation Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
        }
    },
}


def _materialised(service: Service, name: str) -> materialised.Materialised:
    found = materialised.read(service.store, name)
    if found is None:
        get_repo(service.store, name)  # 404 for an unknown repository
        raise ConflictError(f"repository {name!r} has no report yet: its first ingest has not finished",
                            hint="GET /api/v1/jobs shows its progress")  # fmt: skip
    return found


@router.get(
    "/repos/{name}/report",
    summary="The report JSON contract (docs/report.schema.json), as the caller may see it",
    openapi_extra=REPORT_OPENAPI,
)
async def report(request: Request) -> Response:
    # The hottest route takes only the request: FastAPI's resolution of a dependency and four query
    # parameters cost more than the rest of the request. Same order and errors as declared ones:
    # authentication and the matrix first, then the parameters (a bad `tiers` is the same 422).
    principal = await _may_get_report(request)
    name: str = request.path_params["name"]
    since = until = org = None
    tiers: int | None = None
    if request.scope["query_string"]:
        query = request.query_params
        since, until, org = query.get("since"), query.get("until"), query.get("org")
        if (raw := query.get("tiers")) is not None:
            try:
                tiers = _INT.validate_python(raw)
            except ValidationError as exc:
                raise RequestValidationError([{**e, "loc": ("query", "tiers")} for e in exc.errors()]) from None
    service: Service = request.app.state.service
    store = service.store
    if org is not None and not visibility.sees_org(principal, org):
        raise PermissionDeniedError(
            f"a {principal.role} of {principal.org!r} does not see {org!r}'s figures", field="org"
        )

    # The hot path (the default window) is one indexed point query, run inline (a thread hop would
    # cost more than the query) and kept until the store changes. Another window may need computing:
    # that goes to a thread.
    found = service.report_header(name) if since is None and until is None and tiers is None else None
    if found is None:

        def locate() -> materialised.Header:
            return materialised.for_window(store, get_repo(store, name), since, until, tiers)

        found = await run_in_threadpool(locate)
    head: materialised.Header = found
    scope_key = visibility.key_of(principal)
    kept = _kept_answer(request, service, name, head, scope_key, org)
    if kept is not None:
        return kept

    def render() -> bytes:
        row = materialised.read(store, name, head.window_key)
        if row is None or row.header.etag != head.etag:
            raise ConflictError(f"the report of {name!r} changed while it was read; try again")
        data = service.report_body(name, head.window_key, head.etag, lambda: row.body) or {}
        if org is not None:
            if org not in data["dora"]["by_org"] and org not in data["organisations"]:
                raise NotFoundError(f"no organisation {org!r} in the report of {name!r}", field="org")
            data = visibility.only_org(data, org)
        view = visibility.filter_report(data, principal, row.scope)
        return json.dumps(view, separators=(",", ":"), ensure_ascii=False).encode()

    body = await run_in_threadpool(service.views.get, _view_key(name, head, scope_key, org), render)
    return Response(body, media_type="application/json", headers=_view_headers(head, scope_key, org))


def _view_key(name: str, head: materialised.Header, scope_key: str, org: str | None) -> tuple[str | None, ...]:
    return (name, head.window_key, head.etag, scope_key, org)


def _view_headers(head: materialised.Header, scope_key: str, org: str | None) -> dict[str, str]:
    tag = hashlib.sha256(f"{head.etag}|{scope_key}|{org or ''}".encode()).hexdigest()[:32]
    return {"ETag": f'"{tag}"', "Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}


def _kept_answer(
    request: Request, service: Service, name: str, head: materialised.Header, scope_key: str, org: str | None
) -> Response | None:
    """A 304, or the view kept in memory for this report and caller scope; None when it must be made."""
    headers = _view_headers(head, scope_key, org)
    if headers["ETag"] in _etags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    body: bytes | None = service.views.peek(_view_key(name, head, scope_key, org))
    return None if body is None else Response(body, media_type="application/json", headers=headers)


class KeptReports:
    """ASGI: answers `GET /api/v1/repos/{name}/report` (default window, no parameters) from memory.

    The report is the busiest read, and FastAPI's routing, dependency machinery and exception
    middleware cost a warm request more than its own work. This layer sits inside
    `ServiceMiddleware` (request id, metrics) and does only what the route's warm path does, with
    the same functions: the caller's bearer token and the access matrix, the kept report header,
    then a 304 or the kept view. Anything else (no or a refused credential, a session cookie, a
    view not made yet, any query parameter) goes on to the route unchanged, which answers or
    refuses it with its problem document and audit entry."""

    PREFIX, SUFFIX = "/api/v1/repos/", "/report"

    def __init__(self, app: ASGIApp, service: Service):
        self.app = app
        self.service = service
        self.route = next(r for r in router.routes if getattr(r, "endpoint", None) is report)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            path: str = scope["path"]
            if path.startswith(self.PREFIX) and path.endswith(self.SUFFIX) and not scope.get("root_path"):
                answer = await self._answer(scope, path[len(self.PREFIX) : -len(self.SUFFIX)])
                if answer is not None:
                    scope["route"] = self.route  # the metrics' route label
                    await answer(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, name: str) -> Response | None:
        if not name or "/" in name:
            return None
        request = Request(scope)
        if "authorization" not in request.headers:
            return None  # a session cookie is checked in a thread: the route does that
        try:
            principal = await _may_get_report(request)
        except OnebarError:
            return None
        head = self.service.report_header(name)
        if head is None:
            return None
        return _kept_answer(request, self.service, name, head, visibility.key_of(principal), None)


@router.get("/repos/{name}/people", summary="People of the repository's charter, as the caller may see them")
def people(
    name: str, principal: Principal = Depends(allow("people.list")), service: Service = Depends(service_of)
) -> list[dict[str, Any]]:
    charter = _materialised(service, name).meta["charter"]
    rows = [
        {"id": pid, "name": p["name"], "org": p["org"], "timezone": p["timezone"], "hours": p["hours"],
         "contract_start": p.get("contract_start"), "contract_end": p.get("contract_end")}
        for pid, p in sorted(charter["people"].items())
    ]  # fmt: skip
    return visibility.filter_people(rows, principal)


@router.get(
    "/repos/{name}/components", summary="Components: paths, RACI and knowledge risk, as the caller may see them"
)
def components(
    name: str, principal: Principal = Depends(allow("components.list")), service: Service = Depends(service_of)
) -> list[dict[str, Any]]:
    row = _materialised(service, name)
    charter = row.meta["charter"]
    scope = row.scope
    data = service.report_body(name, row.header.window_key, row.header.etag, lambda: row.body) or {}
    know = visibility.filter_report(data, principal, scope)["knowledge"]["components"]
    out = []
    for cid, comp in sorted(charter["components"].items()):
        if not visibility.sees_component(principal, scope.components.get(cid, [])):
            continue

        def entry(pid: str) -> dict[str, Any]:
            org = scope.people.get(pid)
            shown = visibility.sees_person(principal, pid, org)
            return {"person": pid if shown else "", "org": org}

        out.append({
            "id": cid,
            "paths": comp["paths"],
            "architecture": comp.get("architecture", False),
            "orgs": scope.components.get(cid, []),
            "accountable": entry(comp["accountable"]),
            "responsible": [entry(p) for p in comp.get("responsible", [])],
            "consulted": [entry(p) for p in comp.get("consulted", [])],
            "informed": [entry(p) for p in comp.get("informed", [])],
            "knowledge": know.get(cid),
        })  # fmt: skip
    return out


@router.get("/organisations", summary="Organisations across every repository")
def organisations(
    principal: Principal = Depends(allow("orgs.list")), service: Service = Depends(service_of)
) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for repo, (_etag, summary) in sorted(materialised.summaries(service.store).items()):
        for org, info in summary.get("organisations", {}).items():
            entry = seen.setdefault(org, {"id": org, "name": info.get("name"), "kind": info.get("kind"), "repos": []})
            entry["repos"].append(repo)
    return list(seen.values())


@router.get("/portfolio", summary="DORA per organisation across every repository")
async def portfolio(
    request: Request,
    org: str | None = ORG,
    principal: Principal = Depends(allow("portfolio.get")),
    service: Service = Depends(service_of),
) -> Response:
    if org is not None and not visibility.sees_org(principal, org):
        raise PermissionDeniedError(
            f"a {principal.role} of {principal.org!r} does not see {org!r}'s figures", field="org"
        )
    tags = materialised.etags(service.store)  # one small query; summaries are read only on a change
    key = hashlib.sha256(
        ("|".join(f"{r}:{tags[r]}" for r in sorted(tags)) + f"|{visibility.key_of(principal)}|{org or ''}").encode()
    ).hexdigest()[:32]
    etag = f'"{key}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}
    if etag in _etags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)

    def render() -> bytes:
        rows = materialised.summaries(service.store)
        repos = [r.name for r in list_repos(service.store)]
        summaries = {r: visibility.filter_summary(s, principal) for r, (_, s) in rows.items()}
        body = build_portfolio(summaries, repos, only=org)
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    body = service.views.peek(("portfolio", key))
    if body is None:
        body = await run_in_threadpool(service.views.get, ("portfolio", key), render)
    return Response(body, media_type="application/json", headers=headers)


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {t.strip().removeprefix("W/") for t in header.split(",")}
