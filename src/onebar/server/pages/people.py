"""The component page (owners, knowledge risk) and the person page (one's own figures).

A component the caller's role does not see, and a person whose name it may not see, are answered
404 with the same words as one that does not exist: the page never confirms who is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from onebar.access.grants import list_grants
from onebar.access.model import Grant
from onebar.auth import visibility
from onebar.charter.model import Component
from onebar.errors import NotFoundError
from onebar.report.render import common
from onebar.server.pages import figures
from onebar.server.pages.data import RepoView, repo_view
from onebar.server.pages.repo import GateRun, Named, named, person_named, recent_runs
from onebar.server.pages.web import PageRoute, Viewer, page, render, service_of
from onebar.server.service import Service

router = APIRouter(route_class=PageRoute)
RACI = (
    ("accountable", "Accountable"),
    ("responsible", "Responsible"),
    ("consulted", "Consulted"),
    ("informed", "Informed"),
)


@dataclass(frozen=True)
class Role:
    role: str
    who: Named


@dataclass(frozen=True)
class OrgShare:
    org: str
    files: int
    share: float | None


@dataclass
class ComponentPage:
    repo: str
    id: str
    paths: list[str]
    architecture: bool
    raci: list[Role] = field(default_factory=list)
    files: int = 0
    truck_factor: int | None = None
    orphan_files: int = 0
    single_org: bool = False
    truck_people: list[Named] = field(default_factory=list)
    by_org: list[OrgShare] = field(default_factory=list)
    heat: Markup | None = None
    losses: list[OrgShare] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    measured: bool = False


@dataclass(frozen=True)
class MyComponent:
    id: str
    href: str | None
    role: str
    truck: bool  # among the people the component's truck factor counts


@dataclass
class PersonPage:
    repo: str
    id: str
    name: str
    org: str
    org_name: str
    timezone: str
    hours: str
    days: str
    contract: str
    under_contract: bool
    components: list[MyComponent] = field(default_factory=list)
    files: int | None = None
    in_truck_factor: bool = False
    loss: tuple[int, float, str] | None = None
    outside_contract: int = 0
    runs: list[GateRun] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    onboarding: str = ""


def raci_role(comp: Component, pid: str) -> str | None:
    """The person's strongest role in the component (A > R > C > I), or None."""
    if comp.accountable == pid:
        return "Accountable"
    for key, label in RACI[1:]:
        if pid in getattr(comp, key):
            return label
    return None


def _not_found(what: str, name: str, repo: str) -> NotFoundError:
    return NotFoundError(f"no {what} {name!r} in {repo!r} that your role may see", field=what)


def component_page(viewer: Viewer, view: RepoView, cid: str, grants: list[Grant]) -> ComponentPage:
    p = viewer.principal
    comp = view.charter.components.get(cid)
    if comp is None or not visibility.sees_component(p, view.scope.components.get(cid, [])):
        raise _not_found("component", cid, view.name)
    out = ComponentPage(view.name, cid, list(comp.paths), comp.architecture)
    for key, label in RACI:
        value = getattr(comp, key)
        for pid in [value] if isinstance(value, str) else value:
            out.raci.append(Role(label, person_named(viewer, view, pid)))
    know = view.report["knowledge"]["components"].get(cid)
    if know is not None:
        out.measured = True
        out.files, out.truck_factor = know["files"], know["truck_factor"]
        out.orphan_files, out.single_org = know.get("orphan_files", 0), bool(know["single_org"])
        out.truck_people = [named(view, e) for e in know["truck_factor_people"]]
        for org, n in sorted(know["files_by_org"].items(), key=lambda kv: (-kv[1], kv[0])):
            out.by_org.append(OrgShare(view.org_name(org), n, n / know["files"] if know["files"] else None))
        out.heat = figures.knowledge_map(
            {cid: know}, [o for o, _ in sorted(know["files_by_org"].items(), key=lambda kv: (-kv[1], kv[0]))]
        )
    for org, v in view.report["offboarding"]["by_org"].items():
        hit = v["components"].get(cid)
        if hit is not None:
            out.losses.append(OrgShare(view.org_name(org), hit["files_lost"], hit["files_lost_share"]))
    out.losses.sort(key=lambda x: -(x.share or 0))
    out.grants = [
        g for g in grants if g.scope.kind == "component" and g.scope.name == cid and _sees_grant(viewer, view, g)
    ]
    return out


def _sees_grant(viewer: Viewer, view: RepoView, g: Grant) -> bool:
    return visibility.sees_person(viewer.principal, g.person, view.person_org(g.person))


def person_page(viewer: Viewer, view: RepoView, pid: str) -> PersonPage:
    person = view.charter.people.get(pid)
    if person is None or not visibility.sees_person(viewer.principal, pid, person.org):
        raise _not_found("person", pid, view.name)
    today = datetime.now(UTC).date()
    start = person.contract_start.isoformat() if person.contract_start else "open"
    end = person.contract_end.isoformat() if person.contract_end else "open"
    out = PersonPage(
        view.name,
        pid,
        person.name,
        person.org,
        view.org_name(person.org),
        person.timezone,
        person.hours,
        " ".join(person.days),
        "no contract window" if start == end == "open" else f"{start} → {end}",
        person.under_contract(today),
        onboarding=f"/repos/{view.name}/people/{pid}/onboarding",
    )
    know = view.report["knowledge"]
    comps = know["components"]
    for cid, comp in view.charter.components.items():
        role = raci_role(comp, pid)
        if role is None:
            continue
        shown = visibility.sees_component(viewer.principal, view.scope.components.get(cid, []))
        truck = cid in comps and any(e.get("person") == pid for e in comps[cid]["truck_factor_people"])
        out.components.append(MyComponent(cid, f"/repos/{view.name}/components/{cid}" if shown else None, role, truck))
    top = next((e for e in know["top_authors"] if e.get("person") == pid), None)
    out.files = int(top["files"]) if top else None
    out.in_truck_factor = any(e.get("person") == pid for e in know["truck_factor_people"])
    loss = view.report["offboarding"]["by_person"].get(pid)
    if loss is not None:
        ranked = sorted(loss["components"].items(), key=lambda kv: -kv[1]["files_lost_share"])
        hit = common.few([f"{c} {common.pct(v['files_lost_share'])}" for c, v in ranked], 5)
        out.loss = (int(loss["files_lost"]), float(loss["files_lost_share"]), hit)
    out.outside_contract = sum(
        int(x["commits"]) for x in view.report["contributors"]["outside_contract"] if x.get("person") == pid
    )
    return out


@router.get("/repos/{name}/components/{component}", response_class=HTMLResponse)
def component(
    name: str, component: str, viewer: Viewer = Depends(page("page.component")), service: Service = Depends(service_of)
) -> HTMLResponse:
    view = repo_view(service, viewer.principal, name)
    with service.store.read() as conn:
        grants = list_grants(conn, repository=view.name)
    data = component_page(viewer, view, component, grants)
    return render(viewer, "component.html.j2", title=f"{component} · {name}", c=data)


@router.get("/repos/{name}/people/{person}", response_class=HTMLResponse)
def person(
    name: str, person: str, viewer: Viewer = Depends(page("page.person")), service: Service = Depends(service_of)
) -> HTMLResponse:
    view = repo_view(service, viewer.principal, name)
    data = person_page(viewer, view, person)
    data.runs = recent_runs(service, viewer, {name: view}, repo=name, person=person, limit=10)
    with service.store.read() as conn:
        data.grants = list_grants(conn, repository=view.name, person=person)
    today = datetime.now(UTC).date()
    return render(viewer, "person.html.j2", title=data.name, p=data, today=today)
