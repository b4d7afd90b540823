"""The onboarding brief as text, Markdown, HTML (a self-contained page, no script) or JSON."""

from __future__ import annotations

import json

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from onebar.onboard.brief import Brief

FORMATS = ("text", "md", "html", "json")


def render_brief(brief: Brief, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(brief.to_dict(), indent=2)
    if fmt == "html":
        env = Environment(
            loader=PackageLoader("onebar.onboard", "templates"),
            autoescape=select_autoescape(["html", "j2"]),
            undefined=StrictUndefined,
        )
        return env.get_template("brief.html.j2").render(b=brief)
    return _markdown(brief) if fmt == "md" else _text(brief)


def _access_line(b: Brief) -> str:
    a = b.access
    if a is None or a.level is None:
        return "No access from your role" + (f": {a.note}." if a and a.note else ".")
    until = f", until {a.until}" if a.until else ""
    return f"{a.level} access to {b.repository} ({'; '.join(a.reasons)}){until}."


def _markdown(b: Brief) -> str:
    p = b.person
    contract = f", contract until {p.contract_end}" if p.contract_end else ""
    out = [
        f"# Welcome to {b.repository}, {p.name}",
        "",
        f"{p.org} ({p.org_kind or 'unknown kind'}) · {p.timezone}, {p.hours}{contract} · prepared {b.today}",
        "",
    ]
    out += [f"> {n}" for n in b.notes] + ([""] if b.notes else [])
    out += ["## Your components", ""]
    if b.components:
        out += ["| component | your role | paths | accountable | ask for reviews |", "|---|---|---|---|---|"]
        for c in b.components:
            arch = " (architecture)" if c.architecture else ""
            buddies = "; ".join(f"{x.name} ({x.org}): {x.why}" for x in c.buddies) or "nobody yet"
            paths = ", ".join(f"`{x}`" for x in c.paths)
            out.append(
                f"| {c.id}{arch} | {c.role} | {paths} | {c.accountable_name} ({c.accountable_org}) | {buddies} |"
            )
    else:
        out.append("No component yet.")
    out += ["", "## The definition of done: what the gate checks on every change", ""]
    out += ["The same rules for every author. Run `onebar gate` before you push.", ""]
    for i, r in enumerate(b.rules, 1):
        flag = " *(reported, not enforced yet)*" if not r.enforced else ""
        out.append(f"{i}. {r.words} (`{r.id}`){flag}")
    out += ["", "## Decisions to read first", ""]
    out += [f"- **{a.ref}** {a.title} ({a.status}; {a.why}): `{a.file}`" for a in b.adrs] or [
        "No decision records yet."
    ]
    out += ["", "## When you overlap with each organisation", ""]
    if b.overlap:
        out += ["| organisation | shared hours a week | a typical day, your time |", "|---|---|---|"]
        out += [f"| {o.org} | {o.hours_per_week:.1f} | {', '.join(o.sessions) or 'none'} |" for o in b.overlap]
    else:
        out.append("Nobody else in the charter yet.")
    out += ["", "## Your access", "", _access_line(b)]
    if b.access:
        out += [
            f"- grant #{g.id}: {g.level} on {g.scope}, {g.status}, {g.starts_on} to {g.ends_on}"
            for g in b.access.grants
        ]
    return "\n".join(out) + "\n"


def _text(b: Brief) -> str:
    p = b.person
    out = [
        f"{p.name} ({p.id}) joins {b.repository} for {p.org}" + (f", until {p.contract_end}" if p.contract_end else "")
    ]
    out += [f"note: {n}" for n in b.notes]
    out.append("Components:")
    for c in b.components:
        out.append(f"  {c.id} ({c.role}{', architecture' if c.architecture else ''}): accountable {c.accountable_name}")
        out += [f"    review buddy: {x.name} ({x.org}), {x.why}" for x in c.buddies]
    out.append("Definition of done:")
    out += [f"  - {r.words}{'' if r.enforced else ' [not enforced yet]'}" for r in b.rules]
    out.append("Read first:" if b.adrs else "Read first: no decision records yet")
    out += [f"  {a.ref} {a.title} ({a.why})" for a in b.adrs]
    out.append("Overlap (your time):")
    out += [f"  {o.org}: {o.hours_per_week:.1f} h a week, {', '.join(o.sessions) or 'none'}" for o in b.overlap]
    out.append("Access: " + _access_line(b))
    return "\n".join(out) + "\n"
