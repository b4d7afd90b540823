"""The charter's typed model: organisations, people, components, done and delivery settings.

The model validates each value on its own (pydantic); `cross_check` then checks references between
tables (a person's organisation exists, a component's Accountable is a known person) so that every
problem of a charter is reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from typing import ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onebar.charter.done import DefinitionOfDone

OrgKind = Literal["internal", "partner", "contractor", "agent", "bot"]
ORG_KINDS: tuple[str, ...] = ("internal", "partner", "contractor", "agent", "bot")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Release-like tags: v1.2, v1.2.3, 1.2.3, release-1.2.3; pre-releases (-rc1, -beta, .dev0) excluded.
DEFAULT_TAG_PATTERN = r"^(v|release-)?\d+\.\d+(\.\d+)?$"
DEFAULT_HOTFIX_PATTERN = r"(?i)hotfix"
DEFAULT_TRACKER_PATTERN = r"[A-Z][A-Z0-9_]+-\d+"  # Jira-style keys of the shared tracker: PAY-123


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Project(_Strict):
    name: str = ""
    default_branch: str | None = None


class Organisation(_Strict):
    kind: OrgKind
    name: str | None = None
    domains: list[str] = Field(default_factory=list)
    lead: str | None = None

    @field_validator("domains")
    @classmethod
    def _lower_domains(cls, v: list[str]) -> list[str]:
        return [d.lower().lstrip("@") for d in v]


class Person(_Strict):
    name: str
    org: str
    emails: list[str] = Field(default_factory=list)
    github: str | None = None
    timezone: str = "UTC"
    hours: str = "09:00-17:00"
    days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    contract_start: date | None = None
    contract_end: date | None = None

    @field_validator("emails")
    @classmethod
    def _lower_emails(cls, v: list[str]) -> list[str]:
        for e in v:
            if "@" not in e:
                raise ValueError(f"{e!r} is not an e-mail address")
        return [e.lower() for e in v]

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not an IANA time zone (e.g. 'Europe/Berlin', 'America/New_York')") from None
        return v

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, v: str) -> str:
        parse_hours(v)
        return v

    @field_validator("days")
    @classmethod
    def _valid_days(cls, v: list[str]) -> list[str]:
        days = [d.lower()[:3] for d in v]
        bad = [d for d in days if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown day {bad[0]!r}; use {', '.join(WEEKDAYS)}")
        return days

    @property
    def working_hours(self) -> tuple[time, time]:
        return parse_hours(self.hours)

    def under_contract(self, day: date) -> bool:
        """True when `day` lies inside the person's contract window (open ends are unbounded)."""
        if self.contract_start and day < self.contract_start:
            return False
        return not (self.contract_end and day > self.contract_end)


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(text: str) -> tuple[time, time]:
    """Parse 'HH:MM-HH:MM' working hours; an end before the start means a shift past midnight."""
    m = _HOURS.match(text)
    if not m:
        raise ValueError(f"{text!r} is not working hours; write 'HH:MM-HH:MM', e.g. '09:00-17:30'")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has an hour or minute out of range")
    end = time(0, 0) if h2 == 24 else time(h2, m2)
    return time(h1, m1), end


class Component(_Strict):
    paths: list[str] = Field(min_length=1)
    accountable: str
    responsible: list[str] = Field(default_factory=list)
    consulted: list[str] = Field(default_factory=list)
    informed: list[str] = Field(default_factory=list)
    architecture: bool = False

    @field_validator("accountable", mode="before")
    @classmethod
    def _one_accountable(cls, v: object) -> object:
        if isinstance(v, list):
            raise ValueError(f"exactly one Accountable person is required, got {len(v)}: name one person id")
        return v


class Delivery(_Strict):
    tag_pattern: str = DEFAULT_TAG_PATTERN
    hotfix_pattern: str = DEFAULT_HOTFIX_PATTERN
    environment: str = "production"
    incident_label: str = "incident"
    tracker_pattern: str = DEFAULT_TRACKER_PATTERN
    tiers: int = 2023

    @field_validator("tag_pattern", "hotfix_pattern", "tracker_pattern")
    @classmethod
    def _valid_regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return v

    @field_validator("tiers")
    @classmethod
    def _known_tiers(cls, v: int) -> int:
        if v not in (2023, 2024):
            raise ValueError("DORA tier year must be 2023 or 2024")
        return v


class RobotEntry(_Strict):
    """A robot of this project, added to the built-in table (docs/charter.md, "Robots")."""

    name: str
    kind: Literal["bot", "agent"] = "bot"
    emails: list[str] = Field(default_factory=list)
    logins: list[str] = Field(default_factory=list)  # GitHub logins, matched through noreply addresses
    names: list[str] = Field(default_factory=list)  # full names no person carries
    evidence: str | None = None

    @field_validator("emails")
    @classmethod
    def _lower_robot_emails(cls, v: list[str]) -> list[str]:
        return [e.lower() for e in v]


class OverlapSettings(_Strict):
    min_hours: float = Field(default=4.0, ge=0, le=24)


class Milestone(_Strict):
    """A deliverable an organisation is paid against, judged by what onebar measures (docs/milestones.md).

    Scope: components, paths or a tracker label (at least one). Criteria: any of the fields after
    `label`; at least one must be set.
    """

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = ""
    organisation: str
    due: date
    start: date | None = None  # changes from this day count; default: 90 days before `due`
    payment: str = ""  # what is paid on acceptance, shown as written
    components: list[str] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    label: str | None = None
    gate_passed: bool = False  # every change in scope passed the gate
    coverage_changed_min: float | None = Field(default=None, ge=0, le=100)  # % of changed lines covered
    change_failure_rate_max: float | None = Field(default=None, ge=0, le=1)  # the organisation's, as a fraction
    internal_knowers_min: int | None = Field(default=None, ge=1)  # internal people who author the scope's files
    adrs_signed: bool = False  # decisions naming the scope are accepted and signed off
    adrs: list[int] = Field(default_factory=list)  # ADR numbers that must be, besides
    no_open_incidents: bool = False  # no open incident caused by a change in scope

    CRITERIA: ClassVar[tuple[str, ...]] = (
        "gate_passed",
        "coverage_changed_min",
        "change_failure_rate_max",
        "internal_knowers_min",
        "adrs_signed",
        "no_open_incidents",
    )

    def criteria(self) -> list[str]:
        """The criteria this milestone sets, in a fixed order."""
        listed = {"adrs_signed": self.adrs_signed or bool(self.adrs)}
        return [c for c in self.CRITERIA if listed.get(c, getattr(self, c)) not in (False, None)]


class Charter(_Strict):
    """The whole of onebar.toml."""

    version: int = 1
    project: Project = Field(default_factory=Project)
    organisations: dict[str, Organisation] = Field(default_factory=dict)
    people: dict[str, Person] = Field(default_factory=dict)
    components: dict[str, Component] = Field(default_factory=dict)
    done: DefinitionOfDone = Field(default_factory=DefinitionOfDone)
    delivery: Delivery = Field(default_factory=Delivery)
    overlap: OverlapSettings = Field(default_factory=OverlapSettings)
    robots: list[RobotEntry] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)

    def org_of(self, person_id: str) -> str | None:
        person = self.people.get(person_id)
        return person.org if person else None

    def lead_of(self, org_id: str) -> str | None:
        org = self.organisations.get(org_id)
        return org.lead if org else None


Loc = tuple[str | int, ...]


def cross_check(charter: Charter) -> list[tuple[Loc, str]]:
    """References between tables; returns (location, message) pairs, empty when consistent."""
    problems: list[tuple[Loc, str]] = []
    orgs, people = charter.organisations, charter.people

    def known_person(pid: str, loc: Loc) -> None:
        if pid not in people:
            problems.append((loc, f"unknown person {pid!r}; known people: {_few(people)}"))

    for oid, org in orgs.items():
        if org.lead is not None:
            known_person(org.lead, ("organisations", oid, "lead"))
            if org.lead in people and people[org.lead].org != oid:
                problems.append(
                    (
                        ("organisations", oid, "lead"),
                        f"lead {org.lead!r} belongs to {people[org.lead].org!r}, not {oid!r}",
                    )
                )
    seen_emails: dict[str, str] = {}
    for pid, person in people.items():
        if person.org not in orgs:
            problems.append((("people", pid, "org"), f"unknown organisation {person.org!r}; known: {_few(orgs)}"))
        for email in person.emails:
            if email in seen_emails and seen_emails[email] != pid:
                problems.append((("people", pid, "emails"), f"{email} is also an e-mail of {seen_emails[email]!r}"))
            seen_emails[email] = pid
        if person.contract_start and person.contract_end and person.contract_end < person.contract_start:
            problems.append((("people", pid, "contract_end"), "contract ends before it starts"))
    for i, robot in enumerate(charter.robots):
        if not (robot.emails or robot.logins or robot.names):
            problems.append((("robots", i), f"robot {robot.name!r} matches nothing: give emails, logins or names"))
    for cid, comp in charter.components.items():
        known_person(comp.accountable, ("components", cid, "accountable"))
        for role in ("responsible", "consulted", "informed"):
            for pid in getattr(comp, role):
                known_person(pid, ("components", cid, role))
    problems += _check_milestones(charter)
    return problems


def _check_milestones(charter: Charter) -> list[tuple[Loc, str]]:
    """Milestones name a known organisation and components, a scope, a criterion, and start before they are due."""
    out: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for i, m in enumerate(charter.milestones):
        if m.id in seen:
            out.append((("milestones", i, "id"), f"another milestone is already called {m.id!r}"))
        seen.add(m.id)
        if m.organisation not in charter.organisations:
            out.append(
                (
                    ("milestones", i, "organisation"),
                    f"unknown organisation {m.organisation!r}; known: {_few(charter.organisations)}",
                )
            )
        for c in m.components:
            if c not in charter.components:
                out.append(
                    (("milestones", i, "components"), f"unknown component {c!r}; known: {_few(charter.components)}")
                )
        if not (m.components or m.paths or m.label):
            out.append((("milestones", i), "no scope: give components, paths or a tracker label"))
        if not m.criteria():
            out.append((("milestones", i), f"no acceptance criterion: set one of {', '.join(Milestone.CRITERIA)}"))
        if m.start is not None and m.start >= m.due:
            out.append(
                (("milestones", i, "start"), f"the milestone starts on {m.start}, not before it is due on {m.due}")
            )
    return out


def _few(names: Mapping[str, object]) -> str:
    keys = sorted(names)
    return ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "") if keys else "(none)"
