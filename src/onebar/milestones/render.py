"""Milestones as text, Markdown or JSON: status per milestone and the evidence behind each criterion."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from onebar.milestones.judge import MET, NO_EVIDENCE, Result

STATUS_WORDS = {"met": "met", "not_met": "not met", "at_risk": "at risk"}
MARK = {MET: "ok", "not_met": "NO", NO_EVIDENCE: "??"}


def render_milestones(results: Sequence[Result], today: date, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"today": today.isoformat(), "milestones": [r.to_dict(today) for r in results]}, indent=2)
    if not results:
        return "no milestones in the charter ([[milestones]], docs/milestones.md)\n"
    return _markdown(results, today) if fmt == "md" else _text(results, today)


def _when(r: Result, today: date) -> str:
    days = (r.due - today).days
    return f"due {r.due} ({days} days left)" if days >= 0 else f"was due {r.due} ({-days} days ago)"


def _text(results: Sequence[Result], today: date) -> str:
    out = []
    for r in results:
        pay = f", payment {r.payment}" if r.payment else ""
        out.append(
            f"{r.id} [{r.organisation}] {STATUS_WORDS[r.status].upper()}: {r.title or r.id}, {_when(r, today)}{pay}"
        )
        out.append(f"  {r.changes} changes in scope since {r.start}")
        for c in r.criteria:
            out.append(f"  {MARK[c.status]} {c.id}: {c.saw} (expected: {c.expected})")
            out += [f"       {d}" for d in c.details[:5]]
    return "\n".join(out) + "\n"


def _markdown(results: Sequence[Result], today: date) -> str:
    out = [
        f"# Milestones ({today})",
        "",
        "| milestone | organisation | due | status | payment |",
        "|---|---|---|---|---|",
    ]
    out += [f"| {r.id} | {r.organisation} | {r.due} | **{STATUS_WORDS[r.status]}** | {r.payment} |" for r in results]
    for r in results:
        out += ["", f"## {r.id}: {STATUS_WORDS[r.status]}", "", f"{r.title or r.id}, {_when(r, today)}. "
                f"{r.changes} changes in scope since {r.start}.", ""]  # fmt: skip
        out += ["| criterion | result | expected | evidence |", "|---|---|---|---|"]
        for c in r.criteria:
            saw = c.saw + ("; " + "; ".join(c.details[:5]) if c.details else "")
            result = {"met": "met", "not_met": "not met", "no_evidence": "no evidence"}[c.status]
            out.append(f"| {c.id} | {result} | {c.expected} | {saw.replace('|', '/')} |")
    return "\n".join(out) + "\n"
