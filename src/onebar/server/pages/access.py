"""Access (issue 12): grants, requests, approvals and revocations; and the onboarding brief.

The pages call `onebar.access` and `onebar.onboard` as the CLI does; the library decides (a grant
never passes its person's contract, only the owning organisation's lead approves, every decision
and refusal is audited), the page only shows what the caller may see:

- a grant is listed to whoever may see its person's name (admin, auditor, the person's lead, the
  person), and to its approver, who sees a person of another organisation as hidden with that
  organisation, like everywhere else;
- a caller requests access for the people it sees by name (a member: for themselves).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from onebar import audit
from onebar.access import Scope, approve_grant, get_grant, list_grants, request_grant, revoke_grant
from onebar.access.jobs import charter_of
from onebar.access.model import LEVELS, OPEN, SCOPE_KINDS, Grant
from onebar.access.sweep import WARN_DAYS
from onebar.auth import visibility
from onebar.auth.roles import Principal
from onebar.charter.model import Charter
from onebar.errors import NotFoundError, OnebarError, UsageError
from onebar.onboard import Brief, brief_for
from onebar.repos.registry import get_repo, list_repos, open_repo_workspace
from onebar.server.pages.data import RepoView, repo_view
from onebar.server.pages.repo import Named, person_named
from onebar.server.pages.web import PageRoute, Viewer, page, redirect, render, service_of
from onebar.server.service import Service

router = APIRouter(route_class=PageRoute)
DONE = {
    "requested": "Access requested: it waits for its approver.",
    "approved": "Grant approved.",
    "revoked": "Grant revoked, or its request refused.",
}


@dataclass(frozen=True)
class GrantRow:
    grant: Grant
    person: Named
    approver: Named | None
    days_left: int | None
    expiring: bool
    can_approve: bool
    can_revoke: bool


@dataclass
class AccessPage:
    repo: str
    repos: list[str]
    today: date
    to_approve: list[GrantRow] = field(default_factory=list)
    pending: list[GrantRow] = field(default_factory=list)
    active: list[GrantRow] = field(default_factory=list)
    ended: list[GrantRow] = field(default_factory=list)
    people: list[tuple[str, str]] = field(default_factory=list)  # who the caller may ask access for
    components: list[str] = field(default_factory=list)
    levels: tuple[str, ...] = LEVELS
    kinds: tuple[str, ...] = SCOPE_KINDS


def today_utc() -> date:
    return datetime.now(UTC).date()


def actor_of(p: Principal) -> audit.Actor:
    """The audit log's actor for a dashboard action: the token's person, id and organisation, via the web."""
    return audit.Actor(person=p.person, token=str(p.token_id), org=p.org, via="web")


def written_charter(service: Service, name: str) -> Charter:
    """The charter the access library decides with: the repository's own onebar.toml, as the API reads it."""
    charter = charter_of(get_repo(service.store, name))
    if charter is None:
        raise NotFoundError(f"repository {name!r} has no valid onebar.toml: grants need its people", field="name")
    return charter


def sees_grant(p: Principal, view: RepoView, g: Grant) -> bool:
    return visibility.sees_person(p, g.person, view.person_org(g.person)) or (
        p.person is not None and g.approver == p.person
    )


def approver_named(viewer: Viewer, view: RepoView, pid: str) -> Named:
    """An approver as the API names them: by name when the caller sees them, else "the lead of acme"
    (a vendor is told whom to ask, not who that is)."""
    shown = person_named(viewer, view, pid)
    if shown.href is None and shown.org and view.charter.lead_of(shown.org) == pid:
        return Named(f"the lead of {shown.org}", shown.org, None)
    return shown


def access_page(viewer: Viewer, view: RepoView, grants: list[Grant], repos: list[str], today: date) -> AccessPage:
    p = viewer.principal
    out = AccessPage(view.name, repos, today)
    for g in grants:
        if not sees_grant(p, view, g):
            continue
        open_ = g.status in OPEN
        mine = g.status == "pending" and p.person is not None and p.person == g.approver
        row = GrantRow(
            g,
            person_named(viewer, view, g.person),
            approver_named(viewer, view, g.approver) if g.approver else None,
            g.days_left(today) if open_ else None,
            open_ and g.status == "approved" and g.days_left(today) <= WARN_DAYS,
            mine and viewer.may("page.access.approve"),
            open_ and viewer.may("page.access.revoke"),
        )
        if row.can_approve:
            out.to_approve.append(row)
        elif g.status == "pending":
            out.pending.append(row)
        elif g.status == "approved":
            out.active.append(row)
        else:
            out.ended.append(row)
    if viewer.may("page.access.request"):
        for pid, person in sorted(view.charter.people.items(), key=lambda kv: kv[1].name.lower()):
            kind = view.charter.organisations[person.org].kind if person.org in view.charter.organisations else None
            if kind not in ("bot", "agent") and visibility.sees_person(p, pid, person.org):
                out.people.append((pid, person.name))
    out.components = sorted(
        cid for cid in view.charter.components if visibility.sees_component(p, view.scope.components.get(cid, []))
    )
    return out


def _page(
    viewer: Viewer,
    service: Service,
    repo: str | None,
    *,
    status: int = 200,
    done: str | None = None,
    error: OnebarError | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    names = [r.name for r in list_repos(service.store)]
    if not names:
        return render(viewer, "access.html.j2", title="Access", a=None, done=None, error=None, form={})
    view = repo_view(service, viewer.principal, repo or names[0])
    with service.store.read() as conn:
        grants = list_grants(conn, repository=view.name)
    data = access_page(viewer, view, grants, names, today_utc())
    return render(
        viewer,
        "access.html.j2",
        title="Access",
        status=status,
        a=data,
        done=DONE.get(done or ""),
        error=error,
        form=form or {},
    )


@router.get("/access", response_class=HTMLResponse)
def access(
    repo: str | None = Query(None, max_length=100),
    done: str | None = Query(None, max_length=20),
    viewer: Viewer = Depends(page("page.access")),
    service: Service = Depends(service_of),
) -> HTMLResponse:
    return _page(viewer, service, repo, done=done)


@router.post("/access/requests")
def request_access(
    repo: str = Form(..., max_length=100),
    person: str = Form(..., max_length=100),
    kind: str = Form("component", max_length=20),
    scope: str = Form("", max_length=200),
    level: str = Form("read", max_length=10),
    until: str = Form(..., max_length=20),
    reason: str = Form("", max_length=500),
    viewer: Viewer = Depends(page("page.access.request")),
    service: Service = Depends(service_of),
) -> Response:
    p = viewer.principal
    view = repo_view(service, p, repo)
    form = {"person": person, "kind": kind, "scope": scope, "level": level, "until": until, "reason": reason}
    try:
        if person not in view.charter.people or not visibility.sees_person(p, person, view.person_org(person)):
            raise NotFoundError(f"no person {person!r} in {repo!r} you may ask access for", field="person")
        try:
            end = date.fromisoformat(until.strip())
        except ValueError:
            raise UsageError(f"{until!r} is not a date (YYYY-MM-DD)", field="until") from None
        name = scope.strip() or (view.name if kind == "repository" else "")
        request_grant(
            service.store,
            written_charter(service, view.name),
            view.name,
            person=person,
            scope=Scope(kind, name),
            until=end,
            level=level,
            reason=reason.strip(),
            actor=actor_of(p),
            today=today_utc(),
        )
    except OnebarError as exc:  # refused (and audited by the library): the form again, with the reason
        return _page(viewer, service, repo, status=exc.http_status, error=exc, form=form)
    return redirect("/access", repo=repo, done="requested")


def _decide(service: Service, viewer: Viewer, grant_id: int, repo: str) -> tuple[RepoView, Grant]:
    view = repo_view(service, viewer.principal, repo)
    with service.store.read() as conn:
        g = get_grant(conn, grant_id)
    if g.repository != view.name or not sees_grant(viewer.principal, view, g):
        raise NotFoundError(f"no grant #{grant_id} in {repo!r} that your role may see", field="grant")
    return view, g


@router.post("/access/{grant}/approve")
def approve(
    grant: int,
    repo: str = Form(..., max_length=100),
    viewer: Viewer = Depends(page("page.access.approve")),
    service: Service = Depends(service_of),
) -> Response:
    view, g = _decide(service, viewer, grant, repo)
    try:
        approve_grant(
            service.store,
            written_charter(service, view.name),
            g.id,
            actor=actor_of(viewer.principal),
            today=today_utc(),
        )
    except OnebarError as exc:
        return _page(viewer, service, repo, status=exc.http_status, error=exc)
    return redirect("/access", repo=repo, done="approved")


@router.post("/access/{grant}/revoke")
def revoke(
    grant: int,
    repo: str = Form(..., max_length=100),
    reason: str = Form("", max_length=500),
    viewer: Viewer = Depends(page("page.access.revoke")),
    service: Service = Depends(service_of),
) -> Response:
    _, g = _decide(service, viewer, grant, repo)
    try:
        default = "refused" if g.status == "pending" else "revoked"
        revoke_grant(service.store, g.id, actor=actor_of(viewer.principal), reason=reason.strip() or default)
    except OnebarError as exc:
        return _page(viewer, service, repo, status=exc.http_status, error=exc)
    return redirect("/access", repo=repo, done="revoked")


@dataclass(frozen=True)
class Buddy:
    who: Named
    why: str


@dataclass(frozen=True)
class BriefComponent:
    id: str
    href: str
    role: str
    paths: tuple[str, ...]
    architecture: bool
    accountable: Named
    buddies: list[Buddy]


def brief(service: Service, view: RepoView, person: str, today: date) -> Brief:
    """`onboard.brief_for` on the repository as the API's brief reads it, once per (report, person, day)."""

    def make() -> Brief:
        repo = get_repo(service.store, view.name)
        with open_repo_workspace(service.store, repo, service.settings.data_path, ingest=False) as ws:
            return brief_for(ws, person, today=today)

    made: Brief = service.views.get(("page-brief", view.name, view.etag, person, today), make)
    return made


class Redact:
    """Names of people the caller may not see, in the brief's sentences, replaced by their organisation.

    The brief's rules and notes are sentences that name owners and leads ("Li Wei (Accountable)");
    a page shows them only with the names this caller's role may see.
    """

    def __init__(self, viewer: Viewer, view: RepoView):
        hidden = [
            (pid, p.name, p.org)
            for pid, p in view.charter.people.items()
            if not visibility.sees_person(viewer.principal, pid, p.org)
        ]
        names = sorted(((name, f"someone of {org}") for _, name, org in hidden if name), key=lambda x: -len(x[0]))
        self.names = [(re.compile(re.escape(name)), say) for name, say in names]
        self.ids = [(re.compile(rf"\b{re.escape(pid)}\b"), f"someone of {org}") for pid, _, org in hidden]

    def __call__(self, text: str, *, ids: bool = False) -> str:
        for pattern, say in self.names + (self.ids if ids else []):
            text = pattern.sub(say, text)
        return text


@router.get("/repos/{name}/people/{person}/onboarding", response_class=HTMLResponse)
def onboarding(
    name: str,
    person: str,
    request: Request,
    viewer: Viewer = Depends(page("page.onboard")),
    service: Service = Depends(service_of),
) -> HTMLResponse:
    view = repo_view(service, viewer.principal, name)
    if person not in view.charter.people or not visibility.sees_person(
        viewer.principal, person, view.person_org(person)
    ):
        raise NotFoundError(f"no person {person!r} in {name!r} that your role may see", field="person")
    b = brief(service, view, person, today_utc())
    redact = Redact(viewer, view)
    comps = []
    for c in b.components:
        buddies = [Buddy(_named(viewer, view, x.person, x.name, x.org), redact(x.why)) for x in c.buddies]
        acc = _named(viewer, view, c.accountable, c.accountable_name, c.accountable_org)
        comps.append(
            BriefComponent(c.id, f"/repos/{name}/components/{c.id}", c.role, c.paths, c.architecture, acc, buddies)
        )
    rules = [(r.id, redact(r.words), r.enforced) for r in b.rules]
    notes = [redact(n, ids=True) for n in b.notes]
    access = b.access
    reasons = "; ".join(redact(x, ids=True) for x in access.reasons) if access else ""
    note = redact(access.note, ids=True) if access and access.note else None
    return render(
        viewer,
        "onboard.html.j2",
        title=f"Welcome, {b.person.name}",
        b=b,
        components=comps,
        repo=name,
        rules=rules,
        notes=notes,
        reasons=reasons,
        access_note=note,
    )


def _named(viewer: Viewer, view: RepoView, pid: str, name: str, org: str) -> Named:
    if visibility.sees_person(viewer.principal, pid, org):
        return Named(name, org, f"/repos/{view.name}/people/{pid}" if pid in view.charter.people else None)
    return Named(visibility.HIDDEN_NAME, org, None)
