"""Who a git identity is, for the report: the charter's person, organisation and kind, and a label.

The charter's resolver (onebar.charter.identity) does the matching, so that the report and the
miner always agree on who is who; this adds the report's kind and a label to show. Resolution
happens when a report is built, never at ingest, so editing the charter needs no re-ingest.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from onebar.charter.identity import Resolver
from onebar.charter.model import Charter
from onebar.metrics.model import AGENT, BOT, HUMAN, UNKNOWN, UNKNOWN_ORG, Contributor

Resolve = Callable[[str, str], Contributor]


def resolver(charter: Charter) -> Resolve:
    """A cached (name, email) -> Contributor function for this charter, over the miner's resolver."""
    inner = Resolver(charter)
    cache: dict[tuple[str, str], Contributor] = {}

    def resolve(name: str, email: str) -> Contributor:
        hit = cache.get((name, email))
        if hit is not None:
            return hit
        # The match's kind is its organisation's, or bot/agent by pattern (which wins over a domain).
        m = inner.resolve(name, email)
        person, org = m.person, m.org
        kind = BOT if m.kind == "bot" else AGENT if m.kind == "agent" else HUMAN if org is not None else UNKNOWN
        key = person or email.lower() or name
        label = charter.people[person].name if person in charter.people else f"{name} <{email}>"
        who = cache[(name, email)] = Contributor(key, org or UNKNOWN_ORG, kind, label)
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
