"""Rendering access results as text, Markdown or JSON (the faces pick one; the service uses JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from onebar.access.model import Grant
from onebar.access.plan import Plan, Step
from onebar.access.review import Review
from onebar.access.sweep import SweepResult


def _md_cell(value: object) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return out


def _left(g: Grant, today: date) -> str:
    if g.status not in ("pending", "approved"):
        return g.end_reason or g.status
    days = g.days_left(today)
    return f"ends {g.ends_on} ({days} days)" if days >= 0 else f"ended {g.ends_on}"


def render_grants(grants: Sequence[Grant], today: date, fmt: str) -> str:
    if fmt == "json":
        return json.dumps([g.to_dict(today) for g in grants], indent=2)
    rows = [
        (f"#{g.id}", g.person, g.level, str(g.scope), g.status, _left(g, today), g.decided_by or g.approver, g.reason)
        for g in grants
    ]
    headers = ("grant", "person", "level", "scope", "status", "until", "approver", "reason")
    if fmt == "md":
        return "\n".join(_table(headers, rows)) + "\n"
    if not grants:
        return "no grants\n"
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [headers, *rows]]
    return "\n".join(lines) + "\n"


def _step_line(s: Step) -> str:
    who = f"{s.login or '(no login)'}" + (f" ({s.person})" if s.person and s.person != s.login else "")
    change = {
        "add": f"add {s.target}",
        "raise": f"raise {s.current} -> {s.target}",
        "lower": f"lower {s.current} -> {s.target}",
        "revoke": f"revoke {s.current}",
        "keep": f"keep {s.current}",
    }[s.action]
    until = f", until {s.until}" if s.until else ""
    return f"  {change:<22} {who}: {s.reason}{until}"


def render_plan(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(plan.to_dict(), indent=2)
    adds, revokes = plan.of("add", "raise"), plan.of("revoke", "lower")
    if fmt == "md":
        out = [f"# Access plan for {plan.repository} ({plan.today})", "", f"Compared with {plan.source}.", ""]
        for title, steps in (("Add", adds), ("Revoke", revokes), ("Expiring soon", plan.expiring)):
            out += [f"## {title} ({len(steps)})", ""]
            rows = [(s.login or "", s.person or "", s.current or "-", s.target or "-", s.reason, s.until or "")
                    for s in steps]  # fmt: skip
            out += (
                [*_table(("login", "person", "has", "should have", "why", "until"), rows), ""]
                if steps
                else [
                    "None.",
                    "",
                ]
            )
        if plan.no_login:
            out += ["## Cannot be added: no login in the charter", ""]
            out += [f"- {s.person}: {s.target} ({s.reason})" for s in plan.no_login] + [""]
        return "\n".join(out)
    out = [f"Access plan for {plan.repository} on {plan.today}, against {plan.source}:"]
    out.append(f"add ({len(adds)}):" if adds else "add: nothing")
    out += [_step_line(s) for s in adds]
    out.append(f"revoke ({len(revokes)}):" if revokes else "revoke: nothing")
    out += [_step_line(s) for s in revokes]
    out.append(f"expiring soon ({len(plan.expiring)}):" if plan.expiring else "expiring soon: nothing")
    out += [f"  {s.until} {s.login or s.person}: {s.target or s.current}" for s in plan.expiring]
    if plan.no_login:
        out.append(f"should have access but declare no login in the charter ({len(plan.no_login)}):")
        out += [f"  {s.person}: {s.target} ({s.reason})" for s in plan.no_login]
    keep = plan.of("keep")
    out.append(f"unchanged: {len(keep)}")
    return "\n".join(out) + "\n"


def render_review(review: Review, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(review.to_dict(), indent=2)
    headers = ("person", "level", "scope", "why", "since", "until", "last activity", "approver", "flags")
    if fmt == "md":
        out = [f"# Access review: {review.repository}, {review.period}", "", f"As of {review.today}.", ""]
        for o in review.orgs:
            signed = (
                f"signed off by {o.signoff.signed_by} ({o.signoff.to_dict()['signed_at']})"
                if o.signoff
                else f"awaiting {o.lead or 'a lead'}"
            )
            out += [f"## {o.org}: {o.state}", "", f"{signed}. Review digest `{o.digest[:16]}`.", ""]
            rows = [(f"{r.name} ({r.person})", r.level, r.scope, r.why, r.since or "", r.until or "",
                     r.last_activity or "never", r.approver or "", ", ".join(r.flags)) for r in o.rows]  # fmt: skip
            out += [*_table(headers, rows), ""]
        if review.outside_contract:
            out += ["## Commits outside the contract window", ""]
            out += [f"- {x.name} ({x.org}): {x.commits} commits outside {x.contract_start or '…'} to "
                    f"{x.contract_end or '…'}, last {x.last_activity}" for x in review.outside_contract]  # fmt: skip
            out.append("")
        return "\n".join(out)
    out = [f"Access review of {review.repository} for {review.period} (as of {review.today})"]
    for o in review.orgs:
        who = f"signed off by {o.signoff.signed_by}" if o.signoff else f"awaiting {o.lead or 'a lead (none named)'}"
        out.append(f"{o.org}: {len(o.rows)} with access, {o.state} ({who})")
        for r in o.rows:
            flags = f"  [{', '.join(r.flags)}]" if r.flags else ""
            out.append(
                f"  {r.person:<12} {r.level:<5} {r.why}; since {r.since or '-'}, until {r.until or '-'}, "
                f"last active {r.last_activity or 'never'}, approved by {r.approver or '-'}{flags}"
            )
    if review.outside_contract:
        out.append("Commits outside the contract window:")
        out += [f"  {x.person:<12} {x.org}: {x.commits} commits outside {x.contract_start or '...'} to "
                f"{x.contract_end or '...'}, last {x.last_activity}" for x in review.outside_contract]  # fmt: skip
    return "\n".join(out) + "\n"


def render_sweep(result: SweepResult, today: date, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(today), indent=2)
    out = []
    out += [f"revoked #{g.id} {g.person} {g.scope}: {g.end_reason}" for g in result.revoked]
    out += [f"expired #{g.id} {g.person} {g.scope}: {g.end_reason}" for g in result.expired]
    out += [f"shortened #{g.id} {g.person} {g.scope}: {old} -> {g.ends_on} (contract)" for g, old in result.curtailed]
    out += [f"warning: #{g.id} {g.person} {g.scope} ends on {g.ends_on}" for g in result.warnings]
    return "\n".join(out or ["nothing to do"]) + "\n"
