"""The report as one self-contained HTML page: inline CSS and SVG, no script, no network.

The template reads the typed model by attribute and runs with StrictUndefined, so a misspelt or
missing attribute fails the render instead of printing nothing.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from onebar.report.model import Report
from onebar.report.render import common as c
from onebar.report.render import flow, svg


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("onebar.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
    )
    env.filters.update(
        num=c.num, pct=c.pct, dur=c.dur, few=c.few, hit=c.hit, day=c.day, minute=c.minute, handoff=c.handoff
    )
    return env


def charts(report: Report) -> dict[str, Markup | None]:
    dora = report.dora
    # "all" and the six most active organisations: more lines than that is unreadable.
    trends = {"all": dora.trend.overall, **dict(list(dora.trend.by_org.items())[:6])}
    labels = [c.day(b.since)[5:10] for b in dora.trend.overall.series]
    names = list(trends)

    def frequency() -> dict[str, list[float | None]]:
        return {name: [b.deployment_frequency_per_week for b in t.series] for name, t in trends.items()}

    def lead() -> dict[str, list[float | None]]:
        return {name: [b.lead_time_hours for b in t.series] for name, t in trends.items()}

    def cfr() -> dict[str, list[float | None]]:
        return {
            name: [None if b.change_failure_rate is None else 100 * b.change_failure_rate for b in t.series]
            for name, t in trends.items()
        }

    colours = svg.Colours(report.organisations)  # one colour per organisation in every chart
    out: dict[str, Markup | None] = {
        "knowledge_map": None,  # drawn below when there is something to draw; the template tests them
        "review_flows": None,
        "legend": svg.legend(names, colours),
        "trend_deploys": svg.line_chart("Deployments per week", frequency(), labels, colours=colours),
        "trend_lead": svg.line_chart("Lead time, median (hours)", lead(), labels, colours=colours),
        "trend_cfr": svg.line_chart("Change failure rate (%)", cfr(), labels, colours=colours, fmt="{:.0f}"),
    }
    comps = report.knowledge.components
    if comps:
        weight: dict[str, int] = {}
        for comp in comps.values():
            for o, n in comp.files_by_org.items():
                weight[o] = weight.get(o, 0) + n
        orgs = sorted(weight, key=lambda o: (-weight[o], o))[:10]
        rows = list(comps)

        def share(cid: str, o: str) -> float:
            files = comps[cid].files
            return comps[cid].files_by_org.get(o, 0) / files if files else 0.0

        def note(cid: str, o: str) -> str:
            return f"{cid}: {comps[cid].files_by_org.get(o, 0)} of {comps[cid].files} files have an author in {o}"

        out["knowledge_map"] = svg.heat_grid(
            "Files with an author in each organisation", rows, orgs, share, note, colours=colours
        )
    keep = set(c.review_orgs(report, 8))
    matrix = {a: {o: n for o, n in row.items() if o in keep} for a, row in report.review.matrix.items() if a in keep}
    if any(n for row in matrix.values() for n in row.values()):
        out["review_flows"] = svg.flows("Merged changes by author org, reviewed by org", matrix, colours=colours)
    return out


def to_html(report: Report) -> str:
    template = _env().get_template("report.html.j2")
    return template.render(
        r=report,
        charts=charts(report),
        more_orgs=c.more(len(report.dora.by_org), c.ROWS, "organisations"),
        offboarding_rows=c.offboarding_rows(report),
        review_orgs=c.review_orgs(report, c.ROWS),
        dora_table=c.dora_table(report),
        trend_note=c.TREND_NOTE,
        already_lost=c.already_lost(report),
        headers=c.DORA_HEADERS,
        notes=c.reasons_of(report),
        flow_blocks=flow.blocks(report),
    )
