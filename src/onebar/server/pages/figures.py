"""DORA figures as page cells (value, tier, trend) and the report's SVG charts drawn from its JSON.

The formats (`onebar.report.render.common`) and the charts (`onebar.report.render.svg`) are the
report's own; this module only feeds them the JSON a caller may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from onebar.report.render import common, svg
from onebar.server.portfolio import TIER_ORDER

KEYS: tuple[tuple[str, str], ...] = (
    ("deployment_frequency_per_week", "Deploys / week"),
    ("lead_time_hours", "Lead time"),
    ("change_failure_rate", "Failure rate"),
    ("time_to_restore_hours", "Time to restore"),
)
TREND_WORDS = {"improving": "improving", "worsening": "worsening", "steady": "steady", "mixed": "mixed"}
TRENDED = ("deployment_frequency_per_week", "lead_time_hours", "change_failure_rate")  # the report's trend keys


@dataclass(frozen=True)
class Cell:
    """One DORA key of one row: its value as text, its tier, and where it is heading."""

    text: str
    tier: str | None
    trend: str | None  # improving | worsening | steady | mixed | None (no data)


@dataclass(frozen=True)
class Charts:
    legend: Markup
    charts: list[Markup]
    table: list[list[str]]  # the charts' data as rows (a text alternative)
    headers: list[str]


def text_of(key: str, value: float | None) -> str:
    if key == "deployment_frequency_per_week":
        return common.num(value, 2)
    if key == "change_failure_rate":
        return common.pct(value)
    return common.dur(value)


def report_cells(fig: Mapping[str, Any], direction: Mapping[str, Any] | None) -> list[Cell]:
    """Cells of a report's figures (`dora.overall` or `dora.by_org[o]`) and its trend direction."""
    tiers = fig.get("tiers") or {}
    out = []
    for key, _ in KEYS:
        value = fig.get(key)
        if isinstance(value, dict):
            value = value.get("median")
        trend = (direction or {}).get(key) if key in TRENDED else None
        out.append(Cell(text_of(key, value), tiers.get(key), trend))
    return out


def brief_cells(fig: Mapping[str, Any], trends: Mapping[str, str | None]) -> list[Cell]:
    """Cells of a portfolio entry (`onebar.server.portfolio`: medians already flattened)."""
    tiers = fig.get("tiers") or {}
    return [Cell(text_of(k, fig.get(k)), tiers.get(k), trends.get(k)) for k, _ in KEYS]


def total_cells(
    totals: Mapping[str, Any], repos: Iterable[Mapping[str, Any]], trends: Mapping[str, str | None]
) -> list[Cell]:
    """Cells of an organisation's totals across repositories: each key's weakest tier among them."""
    rows = list(repos)
    values = {
        "deployment_frequency_per_week": totals.get("deployment_frequency_per_week"),
        "lead_time_hours": totals.get("lead_time_hours_median_of_repos"),
        "change_failure_rate": totals.get("change_failure_rate"),
        "time_to_restore_hours": totals.get("time_to_restore_hours_median_of_repos"),
    }
    out = []
    for key, _ in KEYS:
        tiers = [t for r in rows if (t := (r.get("tiers") or {}).get(key)) in TIER_ORDER]
        weakest = min(tiers, key=TIER_ORDER.index) if tiers else None
        out.append(Cell(text_of(key, values[key]), weakest, trends.get(key)))
    return out


def combine(directions: Iterable[str | None]) -> str | None:
    """One direction for several repositories: theirs when they agree, `mixed` when some improve and some worsen."""
    seen = {d for d in directions if d is not None}
    if not seen:
        return None
    if "improving" in seen and "worsening" in seen:
        return "mixed"
    for d in ("improving", "worsening"):
        if d in seen:
            return d
    return "steady"


def trend_charts(trend: Mapping[str, Any], names: Mapping[str, str], *, limit: int = 6) -> Charts | None:
    """The report's three trend charts (deployments, lead time, failure rate) over `trend` series.

    `names` maps each series' key (e.g. "all", an organisation id) to its label, in drawing order.
    """
    series = {label: trend[key]["series"] for key, label in list(names.items())[:limit] if key in trend}
    if not series:
        return None
    first = next(iter(series.values()))
    labels = [str(b["since"])[5:10] for b in first]

    def of(key: str, scale: float = 1.0) -> dict[str, list[float | None]]:
        return {n: [None if b.get(key) is None else scale * b[key] for b in s] for n, s in series.items()}

    charts = [
        svg.line_chart("Deployments per week", of("deployment_frequency_per_week"), labels),
        svg.line_chart("Lead time, median (hours)", of("lead_time_hours"), labels),
        svg.line_chart("Change failure rate (%)", of("change_failure_rate", 100.0), labels, fmt="{:.0f}"),
    ]
    table = []
    for name, s in series.items():
        for b in s:
            table.append(
                [
                    name,
                    str(b["since"])[:10],
                    common.num(b.get("deployment_frequency_per_week"), 2),
                    common.dur(b.get("lead_time_hours")),
                    common.pct(b.get("change_failure_rate")),
                ]
            )
    headers = ["Series", "Week of", "Deploys / week", "Lead time", "Failure rate"]
    return Charts(svg.legend(list(series)), charts, table, headers)


def knowledge_map(components: Mapping[str, Any], orgs: list[str]) -> Markup | None:
    """The report's heat grid: files of each component with an author in each organisation."""
    if not components or not orgs:
        return None

    def share(cid: str, o: str) -> float:
        files = components[cid]["files"]
        return components[cid]["files_by_org"].get(o, 0) / files if files else 0.0

    def note(cid: str, o: str) -> str:
        c = components[cid]
        return f"{cid}: {c['files_by_org'].get(o, 0)} of {c['files']} files have an author in {o}"

    return svg.heat_grid("Files with an author in each organisation", list(components), orgs, share, note)


def review_flows(matrix: Mapping[str, Mapping[str, int]], keep: list[str]) -> Markup | None:
    shown = {a: {o: n for o, n in row.items() if o in keep} for a, row in matrix.items() if a in keep}
    if not any(n for row in shown.values() for n in row.values()):
        return None
    return svg.flows("Merged changes by author org, reviewed by org", shown)


def weakest(tiers: Iterable[str | None]) -> str | None:
    found = [t for t in tiers if t in TIER_ORDER]
    return min(found, key=TIER_ORDER.index) if found else None
