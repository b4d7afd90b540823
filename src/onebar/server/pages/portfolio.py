"""The portfolio (organisations × DORA keys across repositories) and the organisation page.

Both read the same figures as `GET /api/v1/portfolio` (`onebar.server.portfolio` over the reports as
the caller may see them) and add what a page shows besides: trends, people, components, gate runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from onebar.auth import visibility
from onebar.errors import NotFoundError, PermissionDeniedError
from onebar.report.render import common
from onebar.server.pages import figures
from onebar.server.pages.data import RepoView, digests, reported
from onebar.server.pages.figures import Cell
from onebar.server.pages.web import PageRoute, Viewer, page, render, service_of
from onebar.server.portfolio import portfolio as build_portfolio
from onebar.server.service import Service
from onebar.store.schema_service import gate_runs

router = APIRouter(route_class=PageRoute)
SUBROWS = 5  # an organisation in up to this many repositories shows each one's row under its own
CARDS = 12  # up to this many repositories are cards; more are one compact table
CHARTS = 6  # trend charts on an organisation's page: its most active repositories
LIST = 20  # components listed on an organisation's page, the riskiest first


@dataclass(frozen=True)
class RepoFigures:
    repo: str
    href: str
    cells: list[Cell]
    tier: str | None
    deployments: int
    changes: int


@dataclass(frozen=True)
class OrgRow:
    id: str
    name: str
    kind: str | None
    href: str
    cells: list[Cell]
    tier: str | None
    deployments: int
    changes: int
    repos: list[RepoFigures]


@dataclass(frozen=True)
class RepoCard:
    name: str
    href: str
    label: str
    window: str
    computed: int
    cells: list[Cell]
    tier: str | None
    deployments: int
    changes: int
    orgs: int


@dataclass(frozen=True)
class PersonLink:
    """A person of the organisation, once however many repositories' charters name them."""

    id: str
    name: str
    href: str
    repos: list[str]
    roles: str
    contract_end: str | None


@dataclass(frozen=True)
class ComponentLink:
    repo: str
    id: str
    href: str
    files: int
    truck_factor: int | None
    share: float | None  # of its files with an author in the organisation
    single_org: bool


@dataclass(frozen=True)
class OrgRepo:
    repo: str
    href: str
    cells: list[Cell]
    tier: str | None
    deployments: int
    changes: int
    charts: figures.Charts | None
    review_share: float | None
    unreviewed: int | None
    files_lost: int | None
    files_lost_share: float | None
    hit: str


@dataclass
class OrgPage:
    id: str
    name: str
    kind: str | None
    cells: list[Cell]
    tier: str | None
    repos: list[OrgRepo] = field(default_factory=list)
    people: list[PersonLink] = field(default_factory=list)
    hidden_people: int = 0
    components: list[ComponentLink] = field(default_factory=list)
    more_components: int = 0
    gate_pass: int = 0
    gate_fail: int = 0


class Reported(Protocol):
    """A repository's report as the portfolio reads it: a `RepoView` or a `Digest`."""

    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def computed_at(self) -> int: ...
    @property
    def window(self) -> dict[str, Any]: ...
    def summary(self) -> dict[str, Any]: ...
    def direction(self, org: str | None) -> dict[str, Any]: ...


def _summaries(items: Sequence[Reported]) -> dict[str, dict[str, Any]]:
    """The portfolio's input (the same figures the API's summaries hold), as the caller sees them."""
    return {v.name: v.summary() for v in items}


def portfolio_page(views: Sequence[Reported]) -> tuple[list[OrgRow], list[RepoCard]]:
    """Organisations (most changes first) with their totals and each repository's figures; repository cards."""
    by_name = {v.name: v for v in views}
    data = build_portfolio(_summaries(views), list(by_name))
    rows = []
    for org, entry in data["organisations"].items():
        repos = []
        for repo, fig in entry["repos"].items():
            direction = by_name[repo].direction(org)
            repos.append(
                RepoFigures(
                    repo,
                    f"/repos/{repo}",
                    figures.brief_cells(fig, direction),
                    fig["tier"],
                    fig["deployments"],
                    fig["changes"],
                )
            )
        trends = {k: figures.combine(by_name[r].direction(org).get(k) for r in entry["repos"]) for k, _ in figures.KEYS}
        totals = entry["totals"]
        cells = figures.total_cells(totals, entry["repos"].values(), trends)
        rows.append(
            OrgRow(
                org,
                entry["name"],
                entry["kind"],
                f"/orgs/{org}",
                cells,
                totals["weakest_tier"],
                totals["deployments"],
                totals["changes"],
                repos,
            )
        )
    cards = []
    for v in views:
        summary = v.summary()
        o, w = summary["overall"], v.window
        cards.append(
            RepoCard(
                v.name,
                f"/repos/{v.name}",
                v.label,
                f"{w['since'][:10]} → {w['until'][:10]}",
                v.computed_at,
                figures.report_cells(o, v.direction(None)),
                o.get("tier"),
                o["deployments"],
                o["changes"],
                len(summary["by_org"]),
            )
        )
    return rows, cards


@router.get("/", response_class=HTMLResponse)
def portfolio(viewer: Viewer = Depends(page("page.portfolio")), service: Service = Depends(service_of)) -> HTMLResponse:
    views, waiting = digests(service, viewer.principal)
    key = ("page-portfolio", tuple((v.name, v.etag) for v in views), visibility.key_of(viewer.principal))
    rows, cards = service.views.get(key, lambda: portfolio_page(views))
    return render(
        viewer,
        "portfolio.html.j2",
        title="Portfolio",
        orgs=rows,
        repos=cards,
        waiting=waiting,
        keys=figures.KEYS,
        subrows=SUBROWS,
        cards_up_to=CARDS,
    )


def org_page(viewer: Viewer, org: str, views: list[RepoView]) -> OrgPage:
    mine = [v for v in views if org in v.report["dora"]["by_org"] or org in v.charter.organisations]
    if not mine:
        raise NotFoundError(f"no organisation {org!r} in any repository", field="org")
    first = mine[0]
    kind = first.report["organisations"].get(org, {}).get("kind") or (
        first.charter.organisations[org].kind if org in first.charter.organisations else None
    )
    data = build_portfolio(_summaries(mine), [v.name for v in mine], only=org).get("organisations", {}).get(org)
    trends: dict[str, str | None] = {}
    if data is not None:
        for k, _ in figures.KEYS:
            trends[k] = figures.combine(v.direction(org).get(k) for v in mine if v.name in data["repos"])
        cells = figures.total_cells(data["totals"], data["repos"].values(), trends)
        tier = data["totals"]["weakest_tier"]
    else:
        cells, tier = [Cell("–", None, None) for _ in figures.KEYS], None
    out = OrgPage(org, first.org_name(org), kind, cells, tier)
    mine.sort(key=lambda v: (-(v.report["dora"]["by_org"].get(org) or {}).get("changes", 0), v.name))
    people: dict[str, PersonLink] = {}
    hidden: set[str] = set()
    for i, v in enumerate(mine):
        _org_repo(out, v, org, charts=i < CHARTS)
        _org_people(people, hidden, v, org, viewer)
    out.people = sorted(people.values(), key=lambda x: (x.name.lower(), x.id))
    out.hidden_people = len(hidden)
    out.components.sort(key=lambda c: (c.truck_factor if c.truck_factor is not None else 99, -c.files, c.id, c.repo))
    out.more_components = max(0, len(out.components) - LIST)
    out.components = out.components[:LIST]
    return out


def gate_counts(service: Service, out: OrgPage) -> OrgPage:
    """The organisation's gate runs passed and failed (read on every request: runs arrive at any time)."""
    with service.store.read() as conn:
        counts: dict[str, int] = dict(
            conn.execute(
                select(gate_runs.c.status, func.count()).where(gate_runs.c.org == out.id).group_by(gate_runs.c.status)
            ).all()
        )
    return replace(out, gate_pass=int(counts.get("pass", 0)), gate_fail=int(counts.get("fail", 0)))


def _org_repo(out: OrgPage, v: RepoView, org: str, *, charts: bool) -> None:
    """One repository's part of the organisation page: figures, trend charts (`charts`), components."""
    dora = v.report["dora"]
    fig = dora["by_org"].get(org)
    if fig is not None:
        drawn = (
            figures.trend_charts(
                dora["trend"]["by_org"] | {"all": dora["trend"]["overall"]},
                {org: v.org_name(org), "all": "all organisations"},
            )
            if charts
            else None
        )
        review = v.report["review"]["by_org"].get(org)
        off = v.report["offboarding"]["by_org"].get(org)
        loss = off["files_lost"] if off else None
        share = off["files_lost_share"] if off else None
        hit = ", ".join(
            f"{c} {common.pct(x['files_lost_share'])}"
            for c, x in sorted((off or {}).get("components", {}).items(), key=lambda kv: -kv[1]["files_lost_share"])[:6]
        )
        out.repos.append(
            OrgRepo(
                v.name,
                f"/repos/{v.name}",
                figures.report_cells(fig, v.direction(org)),
                fig.get("tier"),
                fig["deployments"],
                fig["changes"],
                drawn,
                review["cross_org_share"] if review else None,
                review["unreviewed"] if review else None,
                loss,
                share,
                hit or "–",
            )
        )
    comps = v.report["knowledge"]["components"]
    for cid, orgs in sorted(v.scope.components.items()):
        if org in orgs and cid in comps:
            c = comps[cid]
            share_ = c["files_by_org"].get(org, 0) / c["files"] if c["files"] and org in c["files_by_org"] else None
            out.components.append(
                ComponentLink(
                    v.name,
                    cid,
                    f"/repos/{v.name}/components/{cid}",
                    c["files"],
                    c["truck_factor"],
                    share_,
                    bool(c["single_org"]),
                )
            )


def _org_people(people: dict[str, PersonLink], hidden: set[str], v: RepoView, org: str, viewer: Viewer) -> None:
    """The organisation's people in this repository's charter: by name when the caller may see them."""
    for pid, person in sorted(v.charter.people.items()):
        if person.org != org:
            continue
        if not visibility.sees_person(viewer.principal, pid, org):
            hidden.add(pid)
        elif pid in people:
            people[pid].repos.append(v.name)
        else:
            end = person.contract_end.isoformat() if person.contract_end else None
            people[pid] = PersonLink(pid, person.name, f"/repos/{v.name}/people/{pid}", [v.name], _roles(v, pid), end)


def _roles(v: RepoView, pid: str) -> str:
    out = []
    for cid, c in v.charter.components.items():
        if c.accountable == pid:
            out.append(f"{cid} (A)")
        elif pid in c.responsible:
            out.append(f"{cid} (R)")
        elif pid in c.consulted:
            out.append(f"{cid} (C)")
        elif pid in c.informed:
            out.append(f"{cid} (I)")
    return ", ".join(out) or "–"


@router.get("/orgs/{org}", response_class=HTMLResponse)
def organisation(
    org: str, viewer: Viewer = Depends(page("page.org")), service: Service = Depends(service_of)
) -> HTMLResponse:
    if not visibility.sees_org(viewer.principal, org):
        raise PermissionDeniedError(
            f"a {viewer.role} of {viewer.principal.org!r} does not see {org!r}'s figures", field="org"
        )
    views, _ = reported(service, viewer.principal)
    key = ("page-org", org, tuple((v.name, v.etag) for v in views), visibility.key_of(viewer.principal))
    data = gate_counts(service, service.views.get(key, lambda: org_page(viewer, org, views)))
    return render(viewer, "org.html.j2", title=data.name, org=data, keys=figures.KEYS)
