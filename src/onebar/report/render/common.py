"""What the text, Markdown and HTML renderers share: number formats, table rows, notes and legends.

Everything here reads the typed report model (onebar.report.model) by attribute.
"""

from __future__ import annotations

from collections.abc import Mapping

from onebar.metrics.delivery import Figures, Trend
from onebar.metrics.jsonable import iso
from onebar.metrics.offboarding import ComponentLoss, Loss
from onebar.metrics.overlap import Handoff
from onebar.report.model import Report

KEY_LABELS = {
    "deployment_frequency_per_week": "Deployments / week",
    "lead_time_hours": "Lead time (median h)",
    "change_failure_rate": "Change failure rate",
    "time_to_restore_hours": "Time to restore (median h)",
}
ROWS = 15  # organisations shown in tables, most active first; JSON has them all


def num(v: float | int | bool | None, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:,.{digits}f}"


def pct(v: float | None) -> str:
    if v is None:
        return "–"
    return "<1%" if 0 < v < 0.01 else f"{100 * v:.0f}%"


def dur(hours: float | None) -> str:
    if hours is None:
        return "–"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def day(ts: int) -> str:
    """Unix seconds as the UTC date, YYYY-MM-DD."""
    return (iso(ts) or "")[:10]


def minute(ts: int) -> str:
    """Unix seconds as 'YYYY-MM-DD HH:MM' (UTC)."""
    return (iso(ts) or "")[:16].replace("T", " ")


def counted(n: int, noun: str) -> str:
    """ "1 commit", "2 commits": an English count of a regular noun."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def few(names: list[str] | tuple[str, ...], limit: int = 6) -> str:
    """A short list: the first names and how many more."""
    head = ", ".join(names[:limit])
    return head + (f" +{len(names) - limit} more" if len(names) > limit else "") if names else "–"


def hit(components: Mapping[str, ComponentLoss], limit: int = 6) -> str:
    """Components an off-boarding hits, the hardest hit first."""
    ranked = sorted(components.items(), key=lambda kv: (-kv[1].files_lost_share, kv[0]))
    return few([f"{c} {pct(v.files_lost_share)}" for c, v in ranked], limit)


def dora_rows(report: Report, limit: int | None = ROWS) -> list[tuple[str, Figures]]:
    d = report.dora
    return [("all", d.overall), *list(d.by_org.items())[:limit]]


def more(total: int, shown: int, what: str) -> str:
    return f"… and {total - shown} more {what} (--format json lists them all)" if total > shown else ""


def review_orgs(report: Report, limit: int = 10) -> list[str]:
    """The organisations of the review matrix with the most changes."""
    by = report.review.by_org
    return sorted(by, key=lambda o: (-by[o].changes, o))[:limit]


def handoff(h: Handoff, arrow: str = "→") -> str:
    """One follow-the-sun hand-off in words: a wait until the next organisation starts, or the hours
    both are at work, in which the hand-off can happen live."""
    head = f"{h.from_} {arrow} {h.to} at {h.at_utc} UTC"
    if h.gap_hours < 0:
        return f"{head}: they overlap {dur(-h.gap_hours)}, so the hand-off can be live"
    if h.gap_hours == 0:
        return f"{head}: {h.to} starts as {h.from_} ends"
    return f"{head}: {h.to} starts {dur(h.gap_hours)} later, at {h.next_start_utc} UTC"


def review_line(report: Report) -> str:
    """The review section's headline: the share, and over which changes it is taken."""
    r = report.review
    visible = r.changes - r.review_unknown
    line = f"{pct(r.cross_org_share)} of {visible} merged changes whose review git shows"
    if r.review_unknown:
        line += f"; review unknown for {r.review_unknown} more (landed by robots, see below)"
    return line


def already_lost(report: Report) -> str:
    a = report.offboarding.already_lost
    if not a.people:
        return "Already lost: no contract has ended."
    return (
        f"Already lost: {counted(a.loss.files_lost, 'file')} ({pct(a.loss.files_lost_share)}) with no author left "
        f"under contract ({', '.join(a.people)} gone)."
    )


def offboarding_rows(report: Report, limit: int = ROWS) -> list[tuple[str, Loss]]:
    off = report.offboarding
    orgs = sorted(off.by_org.items(), key=lambda kv: (-kv[1].loss.files_lost, kv[0]))[:limit]
    rows = [(f"organisation {o}", v.loss) for o, v in orgs]
    for pid, p in off.by_person.items():
        rows.append((f"{pid} (contract {'ended' if p.ended else 'ends'} {p.contract_end.isoformat()})", p.loss))
    return rows


def dora_cells(f: Figures) -> list[str]:
    return [
        num(f.deployments, 0),
        num(f.deployment_frequency_per_week, 2),
        dur(f.lead_time_hours.median),
        dur(f.lead_time_hours.p90),
        pct(f.change_failure_rate),
        pct(f.failed_change_share),
        dur(f.time_to_restore_hours.median),
        pct(f.deployment_rework_rate),
        f.tier or "–",
    ]


DORA_HEADERS = [
    "Org", "Deploys", "Per week", "Lead time", "p90", "CFR", "Changes failed", "Restore", "Rework", "Tier", "Trend",
]  # fmt: skip
ARROWS = {"improving": "▲", "worsening": "▼", "steady": "=", None: "·"}
TREND_NOTE = (
    "Trend: deployments / lead time / failure rate in the window's second half against its first; "
    "▲ better, ▼ worse, = within 10%, · not enough data."
)


def trend_cell(report: Report, scope: str) -> str:
    t = report.dora.trend
    entry: Trend | None = t.overall if scope == "all" else t.by_org.get(scope)
    if entry is None:
        return "–"
    d = entry.direction
    return "".join(ARROWS[x] for x in (d.deployment_frequency_per_week, d.lead_time_hours, d.change_failure_rate))


def dora_table(report: Report) -> list[list[str]]:
    return [[scope, *dora_cells(f), trend_cell(report, scope)] for scope, f in dora_rows(report)]


def reasons_of(report: Report) -> list[str]:
    """Every null figure's reason, as 'where: reason' lines."""
    out = []
    for scope, f in dora_rows(report, None):
        for k, r in f.reasons.items():
            out.append(f"DORA {scope} {k}: {r}")
    sections: list[tuple[str, Mapping[str, str]]] = [
        ("review", report.review.reasons),
        ("knowledge", report.knowledge.reasons),
        ("overlap", report.overlap.reasons),
    ]
    for section, reasons in sections:
        for k, r in reasons.items():
            out.append(f"{section} {k}: {r}")
    return out
