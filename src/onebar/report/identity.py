"""Who an identity is: charter person, organisation and kind, for the report's loader.

Uses the charter's resolver (onebar.charter.identity) when it is available, else a small fallback
that knows the charter's e-mails and domains and recognises common bots and AI agents, so that the
report works on any charter the miner's resolver understands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from onebar.charter.model import Charter
from onebar.metrics.model import AGENT, BOT, HUMAN, UNKNOWN, UNKNOWN_ORG


@dataclass(frozen=True)
class Who:
    key: str  # charter person id, or the lower-cased e-mail of someone not in the charter
    org: str  # organisation id, or UNKNOWN_ORG
    kind: str  # human, bot, agent, unknown
    label: str  # how to show them


Resolve = Callable[[str, str], Who]

_BOT = re.compile(r"\[bot\]|(^|[^a-z])bot([^a-z]|$)|dependabot|renovate|github-actions|noreply@github\.com$", re.I)
_AGENT = re.compile(r"claude|copilot|devin|cursor(agent)?|codex|openai|anthropic|aider|windsurf|amazon ?q\b", re.I)


def resolver(charter: Charter) -> Resolve:
    """A cached (name, email) -> Who function for this charter."""
    try:
        from onebar.charter.identity import Resolver  # the miner's resolver, when present
    except ImportError:
        Resolver = None
    inner = Resolver(charter) if Resolver is not None else None
    emails = {e: pid for pid, p in charter.people.items() for e in p.emails}
    domains = {d: oid for oid, o in charter.organisations.items() for d in o.domains}
    cache: dict[tuple[str, str], Who] = {}

    def org_kind(org: str | None) -> str | None:
        o = charter.organisations.get(org) if org else None
        if o is None:
            return None
        return BOT if o.kind == "bot" else AGENT if o.kind == "agent" else HUMAN

    def resolve(name: str, email: str) -> Who:
        k = (name, email)
        hit = cache.get(k)
        if hit is not None:
            return hit
        email_l = email.lower()
        person: str | None = None
        org: str | None = None
        kind: str | None = None
        if inner is not None:
            m = inner.resolve(name, email)
            person, org = getattr(m, "person", None), getattr(m, "org", None)
            mk = str(getattr(m, "kind", "") or "")
            kind = BOT if mk == "bot" else AGENT if mk in ("agent", "ai") else None
        else:
            person = emails.get(email_l)
            domain = email_l.rsplit("@", 1)[-1]
            org = charter.people[person].org if person is not None else domains.get(domain)
        if person is not None and org is None:
            org = charter.org_of(person)
        kind = kind or org_kind(org)
        if kind is None:
            text = f"{name} {email}"
            kind = AGENT if _AGENT.search(text) else BOT if _BOT.search(text) else UNKNOWN
        if kind == UNKNOWN and org is not None:
            kind = HUMAN
        key = person or email_l or name
        label = charter.people[person].name if person in charter.people else f"{name} <{email}>"
        who = Who(key, org or UNKNOWN_ORG, kind, label)
        cache[k] = who
        return who

    return resolve


_ADDRESS = re.compile(r"^\s*(.*?)\s*<([^>]*)>")


def parse_address(value: str) -> tuple[str, str]:
    """'Name <email>' -> (name, email); a bare value is taken as the name."""
    m = _ADDRESS.match(value)
    if m:
        return m.group(1).strip('"'), m.group(2).strip()
    value = value.strip()
    return (value, value) if "@" in value else (value, "")
