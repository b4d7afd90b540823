"""The report, an off-boarding simulation and the overlap as plain terminal text (rich tables)."""

from __future__ import annotations

import io
import shutil

from rich.console import Console
from rich.table import Table

from onebar.metrics.offboarding import Departure
from onebar.metrics.overlap import Overlap, PairOverlap
from onebar.report.model import Report
from onebar.report.render import flow
from onebar.report.render.common import (
    DORA_HEADERS,
    ROWS,
    TREND_NOTE,
    already_lost,
    counted,
    day,
    dora_table,
    dur,
    few,
    handoff,
    hit,
    more,
    num,
    offboarding_rows,
    pct,
    reasons_of,
    review_line,
    review_orgs,
)


def to_text(report: Report, width: int | None = None) -> str:
    # The terminal's width when there is one; 120 columns in a pipe or a file.
    width = width or max(100, shutil.get_terminal_size((120, 40)).columns)
    buf = io.StringIO()
    con = Console(
        file=buf, width=width, force_terminal=False, color_system=None, markup=False
    )  # names are text, never markup
    w = report.window
    con.print(f"onebar report — {report.repository.name}  {day(w.since)} → {day(w.until)}")
    con.print(f"Tiers: {report.tiers.report}. Each change counts for its own author's organisation.\n")

    t = Table(title="Delivery (DORA)", title_justify="left")
    for h in DORA_HEADERS:
        t.add_column(h, justify="left" if h == "Org" else "right")
    for row in dora_table(report):
        t.add_row(*(c for c in row))
    con.print(t)
    con.print(TREND_NOTE)
    con.print(more(len(report.dora.by_org), ROWS, "organisations"))

    r = report.review
    con.print(f"\nCross-organisation review: {review_line(report)}")
    orgs = review_orgs(report)
    if r.matrix:
        m = Table(title="Changes by author org (rows) reviewed by org (columns)", title_justify="left")
        m.add_column("author \\ reviewer")
        for o in orgs:
            m.add_column(o, justify="right")
        m.add_column("unreviewed", justify="right")
        m.add_column("review unknown", justify="right")
        for a in orgs:
            counts, s = r.matrix[a], r.by_org[a]
            m.add_row(a, *[num(counts.get(o, 0), 0) for o in orgs], num(s.unreviewed, 0), num(s.review_unknown, 0))
        con.print(m)
    for note in r.notes.values():
        con.print(note)

    k = report.knowledge
    people = ", ".join(f"{p.name} ({p.org})" for p in k.truck_factor_people) or "–"
    con.print(f"\nKnowledge: truck factor {num(k.truck_factor, 0)} over {counted(k.files, 'file')}: {people}")
    if k.components:
        c = Table(title="Components", title_justify="left")
        for h in ("Component", "Files", "Truck factor", "Organisations", "One org only"):
            c.add_column(h)
        for name, v in k.components.items():
            c.add_row(name, str(v.files), str(v.truck_factor), few(v.orgs), num(v.single_org))
        con.print(c)

    ot = Table(title="Off-boarding: files left with no author", title_justify="left")
    for h in ("Leaving", "Files lost", "Share", "Components hit"):
        ot.add_column(h)
    for label, loss in offboarding_rows(report):
        ot.add_row(label, str(loss.files_lost), pct(loss.files_lost_share), hit(loss.components))
    con.print(ot)
    con.print(already_lost(report))

    cs = report.contributors
    con.print(
        f"\nContributors: {len(cs.unknown)} not in the charter, "
        f"{counted(sum(x.commits for x in cs.outside_contract), 'commit')} outside a contract window; "
        f"commits by kind: {', '.join(f'{k} {v}' for k, v in cs.by_kind.items()) or '–'}; "
        f"AI co-authored: {cs.ai_coauthored_commits}"
    )
    for u in cs.unknown[:10]:
        con.print(f"  unknown: {u.identity} — {counted(u.commits, 'commit')}")
    for x in cs.outside_contract[:10]:
        con.print(f"  outside contract: {x.person} ({x.org}) — {counted(x.commits, 'commit')}")

    ov = report.overlap
    if ov.pairs:
        p = Table(
            title=f"Overlap (week of {ov.week_of.isoformat()}, minimum {ov.minimum_hours} h)", title_justify="left"
        )
        for h in ("Pair", "Hours/week", "Daily window", "Over the year", "Meets minimum"):
            p.add_column(h)
        for pair in ov.pairs:
            lo, hi = pair.daily_window_range_hours
            p.add_row(
                " ↔ ".join(pair.orgs),
                num(pair.shared.hours_per_week),
                dur(pair.shared.daily_window_hours),
                f"{num(lo)}–{num(hi)} h",
                num(pair.shared.meets_minimum),
            )
        con.print(p)
        if ov.team:
            con.print(f"Whole team: {num(ov.team.hours_per_week)} h/week shared")
        for hnd in ov.handoffs:
            con.print(f"  hand-off {handoff(hnd)}")
    for block in flow.blocks(report):  # the code hosts' pull requests, reviews and deployments
        con.print(f"\n{block.title}")
        for line in block.lines:
            con.print(f"  {line}")
        for table in block.tables:
            ft = Table(title=table.title, title_justify="left")
            for i, h in enumerate(table.headers):
                ft.add_column(h, justify="left" if i == 0 else "right")
            for row in table.rows:
                ft.add_row(*row)
            con.print(ft)
    notes = reasons_of(report)
    if notes:
        con.print("\nNot computed")
        for n in notes:
            con.print(f"  {n}")
    return buf.getvalue()


def departure_text(departure: Departure, files: int, *, limit: int = 25) -> str:
    """`onebar offboard`'s text: what one organisation or person leaving loses, of `files` scored files."""
    loss = departure.loss
    lines = [
        f"If {departure.kind} {departure.name} leaves: {loss.files_lost} of {files} files "
        f"({pct(loss.files_lost_share)}) keep no author."
    ]
    for comp, v in loss.components.items():
        lines.append(f"  component {comp}: {counted(v.files_lost, 'file')} ({pct(v.files_lost_share)})")
    lines += [f"  {f}" for f in loss.files[:limit]]
    if loss.files_lost > limit:
        lines.append(f"  ... and {loss.files_lost - limit} more (--format json lists them all)")
    return "\n".join(lines) + "\n"


SHOWN_PAIRS = 20  # pairs below the minimum listed by default


def overlap_text(ov: Overlap, *, every_pair: bool = False) -> str:
    """`onebar overlap`'s text: a summary, the pairs below the minimum first (all pairs with
    `every_pair`), the whole team, the hand-offs."""
    low = sorted((p for p in ov.pairs if not p.shared.meets_minimum), key=_by_window)
    ok = sorted((p for p in ov.pairs if p.shared.meets_minimum), key=_by_window)
    lines = [
        f"Week of {ov.week_of.isoformat()}, minimum {num(ov.minimum_hours)} h a day: "
        f"{len(ov.organisations)} organisations, {len(ov.pairs)} pairs, {len(low)} below the minimum"
    ]
    shown = [*low, *ok] if every_pair else low[:SHOWN_PAIRS]
    for p in shown:
        s = p.shared
        mark = "ok " if s.meets_minimum else "LOW"
        lo, hi = p.daily_window_range_hours
        lines.append(
            f"  {mark} {' <-> '.join(p.orgs)}: {dur(s.daily_window_hours)} a day, "
            f"{num(s.hours_per_week)} h a week (over the year {num(lo)}-{num(hi)} h)"
        )
    hidden = len(ov.pairs) - len(shown)
    if hidden:
        lines.append(f"  ... {hidden} more pairs ({len(low) - min(len(low), len(shown))} below the minimum); "
                     "--all lists every pair, --format json gives them all")  # fmt: skip
    if ov.team:
        lines.append(f"  whole team: {num(ov.team.hours_per_week)} h a week")
    for h in ov.handoffs:
        lines.append(f"  hand-off {handoff(h, '->')}")
    lines += [f"  {r}" for r in ov.reasons.values()]
    return "\n".join(lines) + "\n"


def _by_window(p: PairOverlap) -> tuple[float, tuple[str, str]]:
    return (p.shared.daily_window_hours, p.orgs)
