"""Who an identity is: charter person, organisation and kind, for the report's loader.

The charter's resolver (onebar.charter.identity) does the matching, so that the report and the
miner always agree on who is who; this adds the report's kind and a label to show.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from onebar.charter.identity import Resolver
from onebar.charter.model import Charter
from onebar.metrics.model import AGENT, BOT, HUMAN, UNKNOWN, UNKNOWN_ORG


@dataclass(frozen=True)
class Who:
    key: str  # charter person id, or the lower-cased e-mail of someone not in the charter
    org: str  # organisation id, or UNKNOWN_ORG
    kind: str  # human, bot, agent, unknown
    label: str  # how to show them


Resolve = Callable[[str, str], Who]


def resolver(charter: Charter) -> Resolve:
    """A cached (name, email) -> Who function for this charter, over the miner's resolver."""
    inner = Resolver(charter)
    cache: dict[tuple[str, str], Who] = {}

    def resolve(name: str, email: str) -> Who:
        hit = cache.get((name, email))
        if hit is not None:
            return hit
        # The match's kind is its organisation's, or bot/agent by pattern (which wins over a domain).
        m = inner.resolve(name, email)
        person, org = m.person, m.org
        kind = BOT if m.kind == "bot" else AGENT if m.kind == "agent" else HUMAN if org is not None else UNKNOWN
        key = person or email.lower() or name
        label = charter.people[person].name if person in charter.people else f"{name} <{email}>"
        who = cache[(name, email)] = Who(key, org or UNKNOWN_ORG, kind, label)
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
