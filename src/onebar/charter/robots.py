"""The robot table: identities of CI, merge, dependency, translation and release bots and AI agents.

The built-in table is data (`robots.toml`, each entry with its evidence); a charter adds its own
entries with `[[robots]]`. Matching is exact (an address, a GitHub login through its noreply
address, a full name no person carries, or a pattern of generated addresses) plus one documented
rule: a name or GitHub login ending in "[bot]" is a GitHub App's bot account. A first name or an
employer's domain is never a signal.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

BOT, AGENT = "bot", "agent"
_NOREPLY = re.compile(r"^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)


@dataclass(frozen=True)
class Robot:
    """One row of the table: who the robot is, how it is recognised and where that is documented."""

    id: str
    kind: str  # bot or agent
    role: str = ""
    emails: tuple[str, ...] = ()
    logins: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    email_patterns: tuple[str, ...] = ()
    evidence: str = ""


def github_login(email: str) -> str | None:
    """The GitHub login of a noreply address (`123+login@users.noreply.github.com`), else None."""
    m = _NOREPLY.match(email)
    return m.group(1) if m else None


@cache
def builtin_robots() -> tuple[Robot, ...]:
    """The table shipped with onebar (src/onebar/charter/robots.toml)."""
    data = tomllib.loads(files("onebar.charter").joinpath("robots.toml").read_text("utf-8"))
    return tuple(
        Robot(
            id=row["id"],
            kind=row["kind"],
            role=row.get("role", ""),
            emails=tuple(row.get("emails", ())),
            logins=tuple(row.get("logins", ())),
            names=tuple(row.get("names", ())),
            email_patterns=tuple(row.get("email_patterns", ())),
            evidence=row.get("evidence", ""),
        )
        for row in data["robot"]
    )


class RobotTable:
    """Looks identities up in a list of robots; the first matching row wins."""

    def __init__(self, robots: Iterable[Robot]) -> None:
        self.robots = tuple(robots)
        self._email: dict[str, Robot] = {}
        self._login: dict[str, Robot] = {}
        self._name: dict[str, Robot] = {}
        patterns: list[tuple[re.Pattern[str], Robot]] = []
        for r in self.robots:
            for e in r.emails:
                self._email.setdefault(e.lower(), r)
            for login in r.logins:
                self._login.setdefault(login.lower(), r)
            for n in r.names:
                self._name.setdefault(_fold(n), r)
            patterns += [(re.compile(p, re.IGNORECASE), r) for p in r.email_patterns]
        self._patterns = tuple(patterns)

    def robot(self, name: str, email: str) -> Robot | None:
        """The robot this identity is, or None."""
        email = email.strip().lower()
        hit = self._email.get(email)
        if hit is not None:
            return hit
        login = github_login(email)
        if login is not None and (hit := self._login.get(login.lower())) is not None:
            return hit
        if (hit := self._name.get(_fold(name))) is not None:
            return hit
        for pattern, r in self._patterns:
            if pattern.fullmatch(email):
                return r
        return None

    def kind(self, name: str, email: str) -> str | None:
        """'bot' or 'agent' for a robot of the table or a GitHub App's `[bot]` account, else None."""
        hit = self.robot(name, email)
        if hit is not None:
            return hit.kind
        return BOT if is_app_bot(name, email) else None


def is_app_bot(name: str, email: str) -> bool:
    """A GitHub App's account: its login (and usually its name) ends in "[bot]"."""
    login = github_login(email.strip())
    return name.strip().lower().endswith("[bot]") or (login is not None and login.lower().endswith("[bot]"))


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


@cache
def builtin_table() -> RobotTable:
    return RobotTable(builtin_robots())


def kind_of(name: str, email: str) -> str | None:
    """'bot' or 'agent' by the built-in table and the `[bot]` rule; None for anyone else."""
    return builtin_table().kind(name, email)
