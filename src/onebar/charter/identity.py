"""Resolving git identities (name, e-mail) to the charter's people and organisations.

Order: an e-mail listed for a person; a GitHub noreply address whose login a person declares; for
an identity without an e-mail address, a person of exactly that name; then robots (the charter's
`[[robots]]`, the built-in table in robots.toml, and GitHub Apps' `[bot]` accounts); then an
organisation's e-mail domain. Anything else is unknown, and reported, never silently dropped.
Only strong signals make a bot or an agent: never a first name or an employer's domain.
"""

from __future__ import annotations

from dataclasses import dataclass

from onebar.charter.model import Charter
from onebar.charter.robots import Robot, RobotTable, builtin_robots, github_login, kind_of


def kind_by_pattern(name: str, email: str) -> str | None:
    """'bot' or 'agent' for a robot of the built-in table or a `[bot]` account, else None."""
    return kind_of(name, email)


@dataclass(frozen=True)
class Match:
    person: str | None  # person id in the charter
    org: str | None  # organisation id in the charter
    kind: str  # the organisation's kind, or 'bot'/'agent' for a robot, or 'unknown'

    @property
    def known(self) -> bool:
        """Resolved to someone: a person, an organisation, or a robot of the table."""
        return self.person is not None or self.org is not None or self.kind in ("bot", "agent")


UNKNOWN = Match(None, None, "unknown")


def fold_name(name: str) -> str:
    """A name compared case- and space-insensitively."""
    return " ".join(name.split()).casefold()


class Resolver:
    """Maps identities to people and organisations of one charter; cheap to call repeatedly."""

    def __init__(self, charter: Charter):
        self.charter = charter
        self._by_email: dict[str, str] = {}
        self._by_login: dict[str, str] = {}
        self._by_domain: dict[str, str] = {}
        self._by_name: dict[str, str | None] = {}  # None: two people share the name
        self._orgs_of_kind: dict[str, str] = {}
        for pid, person in charter.people.items():
            for email in person.emails:
                self._by_email[email] = pid
            if person.github:
                self._by_login[person.github.lower()] = pid
            key = fold_name(person.name)
            self._by_name[key] = pid if key not in self._by_name else None
        for oid, org in charter.organisations.items():
            for domain in org.domains:
                self._by_domain[domain] = oid
            self._orgs_of_kind.setdefault(org.kind, oid)
        own = [
            Robot(
                id=f"charter:{r.name}",
                kind=r.kind,
                emails=tuple(r.emails),
                logins=tuple(r.logins),
                names=tuple(r.names),
                evidence=r.evidence or "",
            )
            for r in charter.robots
        ]
        self.robots = RobotTable([*own, *builtin_robots()])
        self._cache: dict[tuple[str, str], Match] = {}

    def person_by_login(self, login: str) -> str | None:
        """The person whose declared GitHub login this is."""
        return self._by_login.get(login.lower())

    def resolve(self, name: str, email: str) -> Match:
        key = (name, email.strip().lower())
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
            login = github_login(email)
            if login is not None:
                pid = self._by_login.get(login.lower())
        if pid is None and "@" not in email:
            # Committed with an empty (or address-less) e-mail: only the exact name can say who.
            pid = self._by_name.get(fold_name(name))
        if pid is not None:
            return self._person(pid)
        robot_kind = self.robots.kind(name, email)
        if robot_kind is not None:
            # A robot not listed as a person belongs to the charter's organisation of its kind, if any.
            return Match(None, self._orgs_of_kind.get(robot_kind), robot_kind)
        domain = email.rpartition("@")[2]
        while domain:
            oid = self._by_domain.get(domain)
            if oid is not None:
                return Match(None, oid, self.charter.organisations[oid].kind)
            domain = domain.partition(".")[2]  # sub.acme.com falls back to acme.com
        return UNKNOWN
