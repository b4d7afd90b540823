"""Resolving git identities (name, e-mail) to the charter's people and organisations.

Order: an e-mail listed for a person; a GitHub noreply address whose login a person declares; then
bots and AI agents by well-known patterns; then an organisation's e-mail domain. Anything else is
unknown, and reported, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from onebar.charter.model import Charter

# Service accounts that commit: GitHub Apps end in [bot]; the rest are common CI/tooling identities.
_BOT = re.compile(
    r"\[bot\]|^(dependabot|renovate|github-actions|pre-commit-ci|greenkeeper|snyk-bot|mergify|allcontributors"
    r"|semantic-release-bot|web-flow)\b",
    re.IGNORECASE,
)
_BOT_EMAIL = re.compile(r"\[bot\]@|^(noreply@github\.com|bot@|.*-bot@)", re.IGNORECASE)
# AI coding agents, as they appear in Co-authored-by trailers or as authors.
_AGENT = re.compile(
    r"^(claude|copilot|github copilot|cursor ?agent|cursor|devin|codex|openai codex|aider|gemini|jules|amazon q|"
    r"sweep|codegen|tabnine|windsurf|cline)\b",
    re.IGNORECASE,
)
_AGENT_EMAIL = re.compile(
    r"@(anthropic\.com|openai\.com|cursor\.(sh|com)|cognition\.ai|devin\.ai|aider\.chat)$|copilot|cursoragent",
    re.IGNORECASE,
)
_NOREPLY = re.compile(r"^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)


@lru_cache(maxsize=4096)
def kind_by_pattern(name: str, email: str) -> str | None:
    """'bot' or 'agent' for identities that look like one, else None."""
    if _BOT.search(name) or _BOT_EMAIL.search(email):
        return "bot"
    if _AGENT.search(name) or _AGENT_EMAIL.search(email):
        return "agent"
    return None


@dataclass(frozen=True)
class Match:
    person: str | None  # person id in the charter
    org: str | None  # organisation id in the charter
    kind: str  # the organisation's kind, or 'bot'/'agent' by pattern, or 'unknown'

    @property
    def known(self) -> bool:
        return self.person is not None or self.org is not None


UNKNOWN = Match(None, None, "unknown")


class Resolver:
    """Maps identities to people and organisations of one charter; cheap to call repeatedly."""

    def __init__(self, charter: Charter):
        self.charter = charter
        self._by_email: dict[str, str] = {}
        self._by_login: dict[str, str] = {}
        self._by_domain: dict[str, str] = {}
        self._orgs_of_kind: dict[str, str] = {}
        for pid, person in charter.people.items():
            for email in person.emails:
                self._by_email[email] = pid
            if person.github:
                self._by_login[person.github.lower()] = pid
        for oid, org in charter.organisations.items():
            for domain in org.domains:
                self._by_domain[domain] = oid
            self._orgs_of_kind.setdefault(org.kind, oid)
        self._cache: dict[tuple[str, str], Match] = {}

    def person_by_login(self, login: str) -> str | None:
        """The person whose declared GitHub login this is."""
        return self._by_login.get(login.lower())

    def resolve(self, name: str, email: str) -> Match:
        key = (name, email.lower())
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._resolve(*key)
        return hit

    def _person(self, pid: str) -> Match:
        org = self.charter.people[pid].org
        return Match(pid, org, self.charter.organisations[org].kind if org in self.charter.organisations else "unknown")

    def _resolve(self, name: str, email: str) -> Match:
        pid = self._by_email.get(email)
        if pid is None:
            m = _NOREPLY.match(email)
            if m:
                pid = self._by_login.get(m.group(1).lower())
        if pid is not None:
            return self._person(pid)
        pattern_kind = kind_by_pattern(name, email)
        if pattern_kind is not None:
            # A bot or agent not listed by name belongs to the charter's organisation of that kind, if any.
            return Match(None, self._orgs_of_kind.get(pattern_kind), pattern_kind)
        domain = email.rpartition("@")[2]
        while domain:
            oid = self._by_domain.get(domain)
            if oid is not None:
                return Match(None, oid, self.charter.organisations[oid].kind)
            domain = domain.partition(".")[2]  # sub.acme.com falls back to acme.com
        return UNKNOWN
