"""Renderers: the report model as terminal tables (rich), JSON, Markdown; HTML lives in html.py."""

from __future__ import annotations

import html
import io
import json
import shutil
from typing import Any

from onebar.report.build import Report

FORMATS = ("text", "json", "md", "html")
KEY_LABELS = {
    "deployment_frequency_per_week": "Deployments / week",
    "lead_time_hours": "Lead time (median h)",
    "change_failure_rate": "Change failure rate",
    "time_to_restore_hours": "Time to restore (median h)",
}


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return to_json(report)
    if fmt == "md":
        return to_markdown(report)
    if fmt == "html":
        from onebar.report.html import to_html

        return to_html(report)
    return to_text(report)


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


# Formatting helpers shared by the text, Markdown and HTML renderers.


def num(v: Any, digits: int = 1) -> str:
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


ROWS = 15  # organisations shown in tables, most active first; JSON has them all


def few(names: list[str], limit: int = 6) -> str:
    """A short list: the first names and how many more."""
    head = ", ".join(names[:limit])
    return head + (f" +{len(names) - limit} more" if len(names) > limit else "") if names else "–"


def hit(components: dict[str, Any], limit: int = 6) -> str:
    """Components an off-boarding hits, the hardest hit first."""
    ranked = sorted(components.items(), key=lambda kv: (-kv[1]["files_lost_share"], kv[0]))
    return few([f"{c} {pct(v['files_lost_share'])}" for c, v in ranked], limit)


def dora_rows(report: Report, limit: int | None = ROWS) -> list[tuple[str, dict[str, Any]]]:
    d = report.data["dora"]
    return [("all", d["overall"]), *list(d["by_org"].items())[:limit]]


def more(total: int, shown: int, what: str) -> str:
    return f"… and {total - shown} more {what} (--format json lists them all)" if total > shown else ""


def review_orgs(report: Report, limit: int = 10) -> list[str]:
    """The organisations of the review matrix with the most changes."""
    by = report.data["review"]["by_org"]
    return sorted(by, key=lambda o: (-by[o]["changes"], o))[:limit]


def already_lost(report: Report) -> str:
    a = report.data["offboarding"]["already_lost"]
    if not a["people"]:
        return "Already lost: no contract has ended."
    return (
        f"Already lost: {a['files_lost']} files ({pct(a['files_lost_share'])}) have no author left under contract "
        f"({', '.join(a['people'])} gone)."
    )


def offboarding_rows(report: Report, limit: int = ROWS) -> list[tuple[str, dict[str, Any]]]:
    off = report.data["offboarding"]
    orgs = sorted(off["by_org"].items(), key=lambda kv: (-kv[1]["files_lost"], kv[0]))[:limit]
    rows = [(f"organisation {o}", v) for o, v in orgs]
    for pid, v in off["by_person"].items():
        rows.append((f"{pid} (contract {'ended' if v['ended'] else 'ends'} {v['contract_end']})", v))
    return rows


def dora_cells(f: dict[str, Any]) -> list[str]:
    return [
        num(f["deployments"], 0),
        num(f["deployment_frequency_per_week"], 2),
        dur(f["lead_time_hours"]["median"]),
        dur(f["lead_time_hours"]["p90"]),
        pct(f["change_failure_rate"]),
        dur(f["time_to_restore_hours"]["median"]),
        pct(f["deployment_rework_rate"]),
        f["tier"] or "–",
    ]


DORA_HEADERS = ["Org", "Deploys", "Per week", "Lead time", "p90", "CFR", "Restore", "Rework", "Tier", "Trend"]
ARROWS = {"improving": "▲", "worsening": "▼", "steady": "=", None: "·"}
TREND_NOTE = (
    "Trend: deployments / lead time / failure rate in the window's second half against its first; "
    "▲ better, ▼ worse, = within 10%, · not enough data."
)


def trend_cell(report: Report, scope: str) -> str:
    t = report.data["dora"]["trend"]
    entry = t["overall"] if scope == "all" else t["by_org"].get(scope)
    if entry is None:
        return "–"
    d = entry["direction"]
    return "".join(ARROWS[d[k]] for k in ("deployment_frequency_per_week", "lead_time_hours", "change_failure_rate"))


def dora_table(report: Report) -> list[list[str]]:
    return [[scope, *dora_cells(f), trend_cell(report, scope)] for scope, f in dora_rows(report)]


def reasons_of(report: Report) -> list[str]:
    """Every null figure's reason, as 'where: reason' lines."""
    out = []
    d = report.data
    for scope, f in dora_rows(report, None):
        for k, r in f["reasons"].items():
            out.append(f"DORA {scope} {k}: {r}")
    for section in ("review", "knowledge", "overlap"):
        for k, r in d[section].get("reasons", {}).items():
            out.append(f"{section} {k}: {r}")
    return out


def to_text(report: Report, width: int | None = None) -> str:
    from rich.console import Console
    from rich.table import Table

    d = report.data
    # The terminal's width when there is one; 120 columns in a pipe or a file.
    width = width or max(100, shutil.get_terminal_size((120, 40)).columns)
    buf = io.StringIO()
    con = Console(file=buf, width=width, force_terminal=False, color_system=None, markup=False)  # names are text
    w = d["window"]
    con.print(f"onebar report — {d['repository']['name']}  {w['since'][:10]} → {w['until'][:10]}")
    con.print(f"Tiers: {d['tiers']['report']}. Each change counts for its own author's organisation.\n")

    t = Table(title="Delivery (DORA)", title_justify="left")
    for h in DORA_HEADERS:
        t.add_column(h, justify="left" if h == "Org" else "right")
    for row in dora_table(report):
        t.add_row(*row)
    con.print(t)
    con.print(TREND_NOTE)
    con.print(more(len(d["dora"]["by_org"]), ROWS, "organisations"))

    r = d["review"]
    con.print(f"\nCross-organisation review: {pct(r['cross_org_share'])} of {r['changes']} merged changes")
    orgs = review_orgs(report)
    if r["matrix"]:
        m = Table(title="Changes by author org (rows) reviewed by org (columns)", title_justify="left")
        m.add_column("author \\ reviewer")
        for o in orgs:
            m.add_column(o, justify="right")
        m.add_column("unreviewed", justify="right")
        for a in orgs:
            row = r["matrix"][a]
            m.add_row(a, *[num(row.get(o, 0), 0) for o in orgs], num(r["by_org"][a]["unreviewed"], 0))
        con.print(m)

    k = d["knowledge"]
    people = ", ".join(f"{p['name']} ({p['org']})" for p in k["truck_factor_people"]) or "–"
    con.print(f"\nKnowledge: truck factor {num(k['truck_factor'], 0)} over {k['files']} files: {people}")
    if k["components"]:
        c = Table(title="Components", title_justify="left")
        for h in ("Component", "Files", "Truck factor", "Organisations", "One org only"):
            c.add_column(h)
        for name, v in k["components"].items():
            c.add_row(name, str(v["files"]), str(v["truck_factor"]), few(v["orgs"]), num(v["single_org"]))
        con.print(c)

    ot = Table(title="Off-boarding: files left with no author", title_justify="left")
    for h in ("Leaving", "Files lost", "Share", "Components hit"):
        ot.add_column(h)
    for label, v in offboarding_rows(report):
        ot.add_row(label, str(v["files_lost"]), pct(v["files_lost_share"]), hit(v["components"]))
    con.print(ot)
    con.print(already_lost(report))

    cs = d["contributors"]
    con.print(
        f"\nContributors: {len(cs['unknown'])} not in the charter, "
        f"{sum(x['commits'] for x in cs['outside_contract'])} commits outside a contract window; "
        f"commits by kind: {', '.join(f'{k} {v}' for k, v in cs['by_kind'].items()) or '–'}; "
        f"AI co-authored: {cs['ai_coauthored_commits']}"
    )
    for u in cs["unknown"][:10]:
        con.print(f"  unknown: {u['identity']} — {u['commits']} commits")
    for u in cs["outside_contract"][:10]:
        con.print(f"  outside contract: {u['person']} ({u['org']}) — {u['commits']} commits")

    ov = d["overlap"]
    if ov["pairs"]:
        p = Table(title=f"Overlap (week of {ov['week_of']}, minimum {ov['minimum_hours']} h)", title_justify="left")
        for h in ("Pair", "Hours/week", "Daily window", "Over the year", "Meets minimum"):
            p.add_column(h)
        for row in ov["pairs"]:
            lo, hi = row["daily_window_range_hours"]
            p.add_row(
                " ↔ ".join(row["orgs"]),
                num(row["hours_per_week"]),
                dur(row["daily_window_hours"]),
                f"{num(lo)}–{num(hi)} h",
                num(row["meets_minimum"]),
            )
        con.print(p)
        if ov["team"]:
            con.print(f"Whole team: {num(ov['team']['hours_per_week'])} h/week shared")
        for hnd in ov["handoffs"]:
            con.print(f"  hand-off {hnd['from']} → {hnd['to']} at {hnd['at_utc']} UTC (gap {num(hnd['gap_hours'])} h)")
    notes = reasons_of(report)
    if notes:
        con.print("\nNot computed")
        for n in notes:
            con.print(f"  {n}")
    return buf.getvalue()


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(out)


def to_markdown(report: Report) -> str:
    d = report.data
    w = d["window"]
    parts = [
        f"## onebar report: {d['repository']['name']}",
        "",
        f"Window {w['since'][:10]} → {w['until'][:10]} · tiers of the {d['tiers']['report']} · "
        "each change counts for its own author's organisation.",
        "",
        "### Delivery (DORA)",
        "",
        _md_table(DORA_HEADERS, dora_table(report)),
        "",
        TREND_NOTE,
        more(len(d["dora"]["by_org"]), ROWS, "organisations"),
    ]
    r = d["review"]
    parts += ["", "### Cross-organisation review", "", f"{pct(r['cross_org_share'])} of {r['changes']} merged changes."]
    if r["matrix"]:
        orgs = review_orgs(report)
        rows = [[a, *[str(r["matrix"][a].get(o, 0)) for o in orgs]] for a in orgs]
        parts += ["", _md_table(["author \\ reviewer", *orgs], rows)]
    k = d["knowledge"]
    people = ", ".join(f"{p['name']} ({p['org']})" for p in k["truck_factor_people"]) or "–"
    parts += [
        "",
        "### Knowledge risk",
        "",
        f"Truck factor **{num(k['truck_factor'], 0)}** over {k['files']} files: {people}.",
    ]
    if k["components"]:
        rows = [
            [n, str(v["files"]), str(v["truck_factor"]), few(v["orgs"]), num(v["single_org"])]
            for n, v in k["components"].items()
        ]
        parts += ["", _md_table(["Component", "Files", "Truck factor", "Organisations", "One org only"], rows)]
    rows = [
        [label, str(v["files_lost"]), pct(v["files_lost_share"]), hit(v["components"])]
        for label, v in offboarding_rows(report)
    ]
    parts += ["", "### Off-boarding", "", _md_table(["Leaving", "Files lost", "Share", "Components hit"], rows)]
    parts += ["", already_lost(report)]
    for label, v in offboarding_rows(report, 5):
        if v["files"]:
            listed = "".join(f"<li><code>{html.escape(f)}</code></li>" for f in v["files"][:10])
            extra = f"<li>… {v['files_lost'] - 10} more</li>" if v["files_lost"] > 10 else ""
            summary = f"<summary>{html.escape(label)}: files left with no author</summary>"
            parts += ["", f"<details>{summary}<ul>{listed}{extra}</ul></details>"]
    cs = d["contributors"]
    parts += [
        "",
        "### Contributors",
        "",
        f"- Not in the charter: {len(cs['unknown'])}"
        + (": " + ", ".join(f"{u['identity']} ({u['commits']})" for u in cs["unknown"][:10]) if cs["unknown"] else ""),
        f"- Commits outside a contract window: {sum(x['commits'] for x in cs['outside_contract'])}",
        f"- Commits by kind: {', '.join(f'{k} {v}' for k, v in cs['by_kind'].items()) or '–'}; "
        f"AI co-authored: {cs['ai_coauthored_commits']}",
    ]
    ov = d["overlap"]
    if ov["pairs"]:
        rows = [
            [" ↔ ".join(p["orgs"]), num(p["hours_per_week"]), dur(p["daily_window_hours"]), num(p["meets_minimum"])]
            for p in ov["pairs"]
        ]
        parts += ["", f"### Overlap (minimum {ov['minimum_hours']} h a day)", ""]
        parts += [_md_table(["Pair", "Hours/week", "Daily window", "Meets minimum"], rows)]
    notes = reasons_of(report)
    if notes:
        parts += ["", "<details><summary>Not computed</summary>", ""] + [f"- {n}" for n in notes] + ["", "</details>"]
    parts += ["", f"<sub>{d['generated_by']} · schema {d['schema_version']} · definitions in docs/metrics.md</sub>", ""]
    return "\n".join(parts)
