"""The report as Markdown, fit to paste into a pull request, an issue or a wiki."""

from __future__ import annotations

import html

from onebar.report.model import Report
from onebar.report.render.common import (
    DORA_HEADERS,
    ROWS,
    TREND_NOTE,
    already_lost,
    day,
    dora_table,
    dur,
    few,
    hit,
    more,
    num,
    offboarding_rows,
    pct,
    reasons_of,
    review_line,
    review_orgs,
)


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(out)


def to_markdown(report: Report) -> str:
    w = report.window
    parts = [
        f"## onebar report: {report.repository.name}",
        "",
        f"Window {day(w.since)} → {day(w.until)} · tiers of the {report.tiers.report} · "
        "each change counts for its own author's organisation.",
        "",
        "### Delivery (DORA)",
        "",
        _md_table(DORA_HEADERS, dora_table(report)),
        "",
        TREND_NOTE,
        more(len(report.dora.by_org), ROWS, "organisations"),
    ]
    r = report.review
    parts += ["", "### Cross-organisation review", "", review_line(report) + "."]
    if r.matrix:
        orgs = review_orgs(report)
        rows = [
            [
                a,
                *[str(r.matrix[a].get(o, 0)) for o in orgs],
                str(r.by_org[a].unreviewed),
                str(r.by_org[a].review_unknown),
            ]
            for a in orgs
        ]
        parts += ["", _md_table(["author \\ reviewer", *orgs, "unreviewed", "review unknown"], rows)]
    parts += [f"\n{note}" for note in r.notes.values()]
    k = report.knowledge
    people = ", ".join(f"{p.name} ({p.org})" for p in k.truck_factor_people) or "–"
    parts += [
        "",
        "### Knowledge risk",
        "",
        f"Truck factor **{num(k.truck_factor, 0)}** over {k.files} files: {people}.",
    ]
    if k.components:
        rows = [[n, str(v.files), str(v.truck_factor), few(v.orgs), num(v.single_org)] for n, v in k.components.items()]
        parts += ["", _md_table(["Component", "Files", "Truck factor", "Organisations", "One org only"], rows)]
    rows = [
        [label, str(loss.files_lost), pct(loss.files_lost_share), hit(loss.components)]
        for label, loss in offboarding_rows(report)
    ]
    parts += ["", "### Off-boarding", "", _md_table(["Leaving", "Files lost", "Share", "Components hit"], rows)]
    parts += ["", already_lost(report)]
    for label, loss in offboarding_rows(report, 5):
        if loss.files:
            listed = "".join(f"<li><code>{html.escape(f)}</code></li>" for f in loss.files[:10])
            extra = f"<li>… {loss.files_lost - 10} more</li>" if loss.files_lost > 10 else ""
            summary = f"<summary>{html.escape(label)}: files left with no author</summary>"
            parts += ["", f"<details>{summary}<ul>{listed}{extra}</ul></details>"]
    cs = report.contributors
    parts += [
        "",
        "### Contributors",
        "",
        f"- Not in the charter: {len(cs.unknown)}"
        + (": " + ", ".join(f"{u.identity} ({u.commits})" for u in cs.unknown[:10]) if cs.unknown else ""),
        f"- Commits outside a contract window: {sum(x.commits for x in cs.outside_contract)}",
        f"- Commits by kind: {', '.join(f'{k} {v}' for k, v in cs.by_kind.items()) or '–'}; "
        f"AI co-authored: {cs.ai_coauthored_commits}",
    ]
    ov = report.overlap
    if ov.pairs:
        rows = [
            [
                " ↔ ".join(p.orgs),
                num(p.shared.hours_per_week),
                dur(p.shared.daily_window_hours),
                num(p.shared.meets_minimum),
            ]
            for p in ov.pairs
        ]
        parts += ["", f"### Overlap (minimum {ov.minimum_hours} h a day)", ""]
        parts += [_md_table(["Pair", "Hours/week", "Daily window", "Meets minimum"], rows)]
    notes = reasons_of(report)
    if notes:
        parts += ["", "<details><summary>Not computed</summary>", ""] + [f"- {n}" for n in notes] + ["", "</details>"]
    parts += ["", f"<sub>{report.generated_by} · schema {report.schema_version} · definitions in docs/metrics.md</sub>"]
    parts += [""]
    return "\n".join(parts)
