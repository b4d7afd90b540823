"""The repository page: its report as the caller may see it, with the report's own charts.

Reads the materialised report filtered by `onebar.auth.visibility` (a lead sees other
organisations' aggregates but not their people; a member their own organisation and shared
components) and lays it out: DORA per organisation, trends, review, knowledge risk, off-boarding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy import select

from onebar.auth import visibility
from onebar.report.render import common
from onebar.server.pages import figures
from onebar.server.pages.data import RepoView, repo_view
from onebar.server.pages.figures import Cell
from onebar.server.pages.web import PageRoute, Viewer, page, render, service_of
from onebar.server.service import Service
from onebar.store.schema_service import gate_runs

router = APIRouter(route_class=PageRoute)
ROWS = common.ROWS  # organisations in the table, most active first


@dataclass(frozen=True)
class Named:
    """A person as a page may show them: their name and link, or hidden with only their organisation."""

    name: str
    org: str
    href: str | None


@dataclass(frozen=True)
class OrgFigures:
    id: str
    name: str
    kind: str | None
    href: str
    cells: list[Cell]
    tier: str | None
    deployments: int
    changes: int


@dataclass(frozen=True)
class ComponentRow:
    id: str
    href: str
    files: int
    truck_factor: int | None
    orphan_files: int
    orgs: str
    single_org: bool


@dataclass(frozen=True)
class LossRow:
    label: str
    files_lost: int
    share: float | None
    hit: str


@dataclass(frozen=True)
class ReviewRow:
    org: str
    changes: int
    share: float | None
    unreviewed: int
    unknown: int  # landed by a robot or the code host with no reviewer git shows


@dataclass(frozen=True)
class GateRun:
    id: int
    repo: str
    posted: int
    status: str
    head: str
    org: str | None
    person: Named | None
    failed_rules: str


@dataclass
class RepoPage:
    name: str
    label: str
    window: str
    days: float
    tiers_report: str
    computed: int
    cells: list[Cell]
    tier: str | None
    deployments: int
    changes: int
    rework: float | None
    orgs: list[OrgFigures] = field(default_factory=list)
    more_orgs: int = 0
    charts: figures.Charts | None = None
    review_share: float | None = None
    review_changes: int = 0
    review_rows: list[ReviewRow] = field(default_factory=list)
    review_unknown: int = 0
    review_notes: list[str] = field(default_factory=list)
    flows: Markup | None = None
    truck_factor: int | None = None
    files: int = 0
    orphan_files: int = 0
    truck_people: list[Named] = field(default_factory=list)
    knowledge_map: Markup | None = None
    components: list[ComponentRow] = field(default_factory=list)
    losses: list[LossRow] = field(default_factory=list)
    already_lost: str = ""
    deployments_list: list[list[str]] = field(default_factory=list)
    people: list[Named] = field(default_factory=list)
    hidden_people: int = 0
    outside_contract: list[tuple[Named, int]] = field(default_factory=list)
    unknown: int = 0
    overlap: list[tuple[str, float, bool]] = field(default_factory=list)
    gate_runs: list[GateRun] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    filtered: bool = False


def named(view: RepoView, entry: dict[str, Any]) -> Named:
    """A report's person entry ({"person", "name", "org"}), hidden ones kept hidden."""
    pid = entry.get("person") or ""
    name = str(entry.get("name") or pid)
    org = str(entry.get("org") or "")
    if not pid or name == visibility.HIDDEN_NAME:
        return Named(visibility.HIDDEN_NAME, org, None)
    return Named(name, org, f"/repos/{view.name}/people/{pid}" if pid in view.charter.people else None)


def person_named(viewer: Viewer, view: RepoView, pid: str) -> Named:
    """A charter person as this caller may see them."""
    org = view.person_org(pid) or ""
    if not visibility.sees_person(viewer.principal, pid, org):
        return Named(visibility.HIDDEN_NAME, org, None)
    return Named(view.person_name(pid), org, f"/repos/{view.name}/people/{pid}")


def _hit(components: dict[str, Any], limit: int = 5) -> str:
    ranked = sorted(components.items(), key=lambda kv: (-kv[1]["files_lost_share"], kv[0]))
    return common.few([f"{c} {common.pct(v['files_lost_share'])}" for c, v in ranked], limit)


def repo_page(viewer: Viewer, view: RepoView, runs: list[GateRun]) -> RepoPage:
    r = view.report
    dora, w = r["dora"], r["window"]
    o = dora["overall"]
    out = RepoPage(
        view.name,
        view.label,
        f"{w['since'][:10]} → {w['until'][:10]}",
        w["days"],
        r["tiers"]["report"],
        view.computed_at,
        figures.report_cells(o, dora["trend"]["overall"]["direction"]),
        o.get("tier"),
        o["deployments"],
        o["changes"],
        o.get("deployment_rework_rate"),
        filtered="visibility" in r,
        warnings=[str(x) for x in r.get("warnings", [])],
        gate_runs=runs,
    )
    by_org = dora["by_org"]
    for org, fig in list(by_org.items())[:ROWS]:
        trend = dora["trend"]["by_org"].get(org)
        kind = r["organisations"].get(org, {}).get("kind")
        out.orgs.append(
            OrgFigures(
                org,
                view.org_name(org),
                kind,
                f"/orgs/{org}",
                figures.report_cells(fig, trend["direction"] if trend else None),
                fig.get("tier"),
                fig["deployments"],
                fig["changes"],
            )
        )
    out.more_orgs = max(0, len(by_org) - ROWS)
    names = {"all": "all organisations", **{org: view.org_name(org) for org in dora["trend"]["by_org"]}}
    trend = {"all": dora["trend"]["overall"], **dora["trend"]["by_org"]}
    out.charts = figures.trend_charts(trend, names, limit=7)

    review = r["review"]
    out.review_share, out.review_changes = review["cross_org_share"], review["changes"]
    out.review_unknown = int(review.get("review_unknown", 0))
    out.review_notes = [str(n) for n in (review.get("notes") or {}).values()]
    ranked = sorted(review["by_org"], key=lambda x: (-review["by_org"][x]["changes"], x))
    for org in ranked[:ROWS]:
        s = review["by_org"][org]
        row = ReviewRow(
            view.org_name(org), s["changes"], s["cross_org_share"], s["unreviewed"], s.get("review_unknown", 0)
        )
        out.review_rows.append(row)
    out.flows = figures.review_flows(review["matrix"], ranked[:8])

    know = r["knowledge"]
    out.truck_factor, out.files, out.orphan_files = know["truck_factor"], know["files"], know["orphan_files"]
    out.truck_people = [named(view, e) for e in know["truck_factor_people"]]
    comps = know["components"]
    weight: dict[str, int] = {}
    for c in comps.values():
        for org, n in c["files_by_org"].items():
            weight[org] = weight.get(org, 0) + n
    out.knowledge_map = figures.knowledge_map(comps, sorted(weight, key=lambda x: (-weight[x], x))[:10])
    for cid, c in comps.items():
        out.components.append(
            ComponentRow(
                cid,
                f"/repos/{view.name}/components/{cid}",
                c["files"],
                c["truck_factor"],
                c.get("orphan_files", 0),
                common.few(c["orgs"]),
                bool(c["single_org"]),
            )
        )

    off = r["offboarding"]
    for org, v in sorted(off["by_org"].items(), key=lambda kv: (-kv[1]["files_lost"], kv[0]))[:ROWS]:
        out.losses.append(
            LossRow(f"{view.org_name(org)} leaves", v["files_lost"], v["files_lost_share"], _hit(v["components"]))
        )
    for pid, v in off["by_person"].items():
        who = person_named(viewer, view, pid).name
        when = f"contract {'ended' if v['ended'] else 'ends'} {v['contract_end']}"
        out.losses.append(LossRow(f"{who} ({when})", v["files_lost"], v["files_lost_share"], _hit(v["components"])))
    lost = off["already_lost"]
    out.already_lost = (
        f"{lost['files_lost']} files ({common.pct(lost['files_lost_share'])}) already have no author under contract."
        if lost["files_lost"]
        else "No file has lost all its authors to an ended contract."
    )

    for d in reversed(dora["deployments"]):
        by = ", ".join(f"{view.org_name(k)} {n}" for k, n in d["changes_by_org"].items()) or "–"
        out.deployments_list.append(
            [
                d["name"],
                d["at"][:16].replace("T", " "),
                d["source"],
                str(d["changes"]),
                by,
                "failed" if d["failed"] else "ok",
                common.dur(d.get("restore_hours")),
            ]
        )

    for pid in sorted(view.charter.people, key=lambda x: view.person_name(x).lower()):
        shown = person_named(viewer, view, pid)
        if shown.href is None:
            out.hidden_people += 1
        else:
            out.people.append(shown)
    contrib = r["contributors"]
    out.unknown = len(contrib["unknown"])
    out.outside_contract = [(named(view, x), int(x["commits"])) for x in contrib["outside_contract"]]
    overlap = r.get("overlap") or {}
    for pair in overlap.get("pairs", []):
        a, b = pair["orgs"]
        out.overlap.append(
            (f"{view.org_name(a)} ↔ {view.org_name(b)}", pair["daily_window_hours"] or 0.0, bool(pair["meets_minimum"]))
        )
    return out


def recent_runs(
    service: Service,
    viewer: Viewer,
    views: Mapping[str, RepoView],
    *,
    repo: str | None = None,
    org: str | None = None,
    rule: str | None = None,
    status: str | None = None,
    person: str | None = None,
    before: int | None = None,
    limit: int = 10,
) -> list[GateRun]:
    """Gate runs, newest first, each as `visibility.gate_run_entry` lets this caller see it (`views` name people)."""
    c = gate_runs.c
    q = select(c.id, c.repo, c.posted_at, c.status, c.head, c.org, c.person, c.failed_rules).order_by(c.id.desc())
    for col, value in ((c.repo, repo), (c.org, org), (c.status, status), (c.person, person)):
        if value:
            q = q.where(col == value)
    if rule:  # rule ids hold no spaces: match one whole id in the space-separated list
        q = q.where((" " + c.rules + " ").contains(f" {rule} "))
    if before is not None:
        q = q.where(c.id < before)
    p = viewer.principal
    if not p.sees_everything:
        q = q.where(c.org.is_not(None))
        if p.role.value == "member":
            q = q.where(c.org == p.org)
    out: list[GateRun] = []
    with service.store.read() as conn:
        for row in conn.execute(q.limit(limit)):
            shown = visibility.gate_run_entry(p, {"org": row.org, "person": row.person})
            if shown is None:
                continue
            who = None
            if shown["person"]:
                name = views[row.repo].person_name(row.person) if row.repo in views else row.person
                who = Named(name, row.org or "", f"/repos/{row.repo}/people/{row.person}")
            elif row.person:
                who = Named(visibility.HIDDEN_NAME, row.org or "", None)
            out.append(
                GateRun(
                    row.id, row.repo, row.posted_at, row.status, row.head[:10], row.org, who, row.failed_rules or ""
                )
            )
    return out


@router.get("/repos/{name}", response_class=HTMLResponse)
def repository(
    name: str, viewer: Viewer = Depends(page("page.repo")), service: Service = Depends(service_of)
) -> HTMLResponse:
    view = repo_view(service, viewer.principal, name)
    key = ("page-repo", name, view.etag, visibility.key_of(viewer.principal))
    built: RepoPage = service.views.get(key, lambda: repo_page(viewer, view, []))
    data = replace(built, gate_runs=recent_runs(service, viewer, {name: view}, repo=name, limit=8))
    return render(viewer, "repo.html.j2", title=name, r=data, keys=figures.KEYS)
