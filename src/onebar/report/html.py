"""The report as one self-contained HTML page: inline CSS and SVG, no script, no network."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from onebar.report import render as r
from onebar.report import svg
from onebar.report.build import Report


def _env() -> Environment:
    env = Environment(loader=PackageLoader("onebar.report", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters.update(num=r.num, pct=r.pct, dur=r.dur, few=r.few, hit=r.hit)
    return env


def charts(report: Report) -> dict[str, Any]:
    d = report.data
    dora = d["dora"]
    # "all" and the six most active organisations: more lines than that is unreadable.
    trends = {"all": dora["trend"]["overall"], **dict(list(dora["trend"]["by_org"].items())[:6])}
    first = dora["trend"]["overall"]["series"]
    labels = [b["since"][5:10] for b in first]
    names = list(trends)

    def series(key: str) -> dict[str, list[float | None]]:
        return {name: [b[key] for b in t["series"]] for name, t in trends.items()}

    def cfr() -> dict[str, list[float | None]]:
        return {n: [None if v is None else 100 * v for v in vs] for n, vs in series("change_failure_rate").items()}

    out: dict[str, Any] = {
        "legend": svg.legend(names),
        "trend_deploys": svg.line_chart("Deployments per week", series("deployment_frequency_per_week"), labels),
        "trend_lead": svg.line_chart("Lead time, median (hours)", series("lead_time_hours"), labels),
        "trend_cfr": svg.line_chart("Change failure rate (%)", cfr(), labels, fmt="{:.0f}"),
    }
    comps = d["knowledge"]["components"]
    if comps:
        weight: dict[str, int] = {}
        for c in comps.values():
            for o, n in c["files_by_org"].items():
                weight[o] = weight.get(o, 0) + n
        orgs = sorted(weight, key=lambda o: (-weight[o], o))[:10]
        rows = list(comps)

        def share(c: str, o: str) -> float:
            files = comps[c]["files"]
            return comps[c]["files_by_org"].get(o, 0) / files if files else 0.0

        def note(c: str, o: str) -> str:
            return f"{c}: {comps[c]['files_by_org'].get(o, 0)} of {comps[c]['files']} files have an author in {o}"

        out["knowledge_map"] = svg.heat_grid("Files with an author in each organisation", rows, orgs, share, note)
    keep = set(r.review_orgs(report, 8))
    matrix = {a: {o: n for o, n in row.items() if o in keep} for a, row in d["review"]["matrix"].items() if a in keep}
    if any(n for row in matrix.values() for n in row.values()):
        out["review_flows"] = svg.flows("Merged changes by author org, reviewed by org", matrix)
    return out


def to_html(report: Report) -> str:
    template = _env().get_template("report.html.j2")
    return template.render(
        d=report.data,
        charts=charts(report),
        more_orgs=r.more(len(report.data["dora"]["by_org"]), r.ROWS, "organisations"),
        offboarding_rows=r.offboarding_rows(report),
        review_orgs=r.review_orgs(report, r.ROWS),
        dora_table=r.dora_table(report),
        trend_note=r.TREND_NOTE,
        already_lost=r.already_lost(report),
        headers=r.DORA_HEADERS,
        notes=r.reasons_of(report),
        key_labels=r.KEY_LABELS,
    )
