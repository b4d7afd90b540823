"""Off-boarding: which files and components keep no author when people or a whole organisation leave.

`Authorship` holds each scored file's authors (from the knowledge model) and answers "what if these
people leave?"; `section` runs the simulations the report shows: every organisation, every person
whose contract ends within the window, and everyone already gone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Literal

from onebar.errors import NotFoundError
from onebar.metrics.jsonable import FLATTEN, OMIT_NONE, Jsonable
from onebar.metrics.knowledge import files_lost, sole_owners
from onebar.metrics.model import HUMAN, UNKNOWN_ORG, Contributor

TOP_FILES = 25  # lost files listed per simulation in the report (the counts cover them all)


@dataclass(frozen=True, slots=True)
class ComponentLoss(Jsonable):
    files_lost: int
    files_lost_share: float


@dataclass(frozen=True, slots=True)
class Loss(Jsonable):
    """Files left with no author: how many, their share of the scored files, per component, which."""

    files_lost: int
    files_lost_share: float | None  # None when no file is scored
    components: Mapping[str, ComponentLoss]
    files: tuple[str, ...]  # the first TOP_FILES in the report; all of them for one departure


@dataclass(frozen=True, slots=True)
class OrgLoss(Jsonable):
    people: tuple[str, ...]  # the organisation's people who author a scored file
    loss: Loss = field(metadata=FLATTEN)


@dataclass(frozen=True, slots=True)
class PersonLoss(Jsonable):
    org: str
    contract_end: date
    ended: bool  # before the window's last day
    loss: Loss = field(metadata=FLATTEN)


@dataclass(frozen=True, slots=True)
class AlreadyLost(Jsonable):
    """Not a simulation: the files whose authors' contracts have all ended by the window's end."""

    people: tuple[str, ...]
    loss: Loss = field(metadata=FLATTEN)


@dataclass(frozen=True, slots=True)
class Offboarding(Jsonable):
    by_org: Mapping[str, OrgLoss]
    by_person: Mapping[str, PersonLoss]
    already_lost: AlreadyLost


@dataclass(frozen=True, slots=True)
class Departure(Jsonable):
    """One simulated departure (`onebar offboard`): an organisation or a person, and what it loses."""

    kind: Literal["organisation", "person"]
    name: str
    people: tuple[str, ...] | None = field(metadata=OMIT_NONE)  # an organisation's people
    person: str | None = field(metadata=OMIT_NONE)  # a person's key
    org: str | None = field(metadata=OMIT_NONE)  # a person's organisation
    loss: Loss = field(metadata=FLATTEN)


@dataclass(frozen=True, slots=True)
class Leaver:
    """A person with a contract end date, from the charter."""

    person: str
    org: str
    contract_end: date


@dataclass(frozen=True)
class Authorship:
    """Each scored file's authors and component, and the people they are; answers off-boarding questions."""

    authors: Mapping[str, frozenset[str]]  # file -> person keys
    component: Mapping[str, str]  # file -> component id (files in no component are absent)
    people: Mapping[str, Contributor]  # person key -> who
    aliases: Mapping[str, str] = field(default_factory=dict)  # lower-cased name or e-mail -> person key

    def org_of(self, person: str) -> str:
        who = self.people.get(person)
        return who.org if who else UNKNOWN_ORG

    @cached_property
    def _component_files(self) -> dict[str, int]:
        return _count_by_component(self.authors, self.component)

    def loss(self, lost: Collection[str], *, limit: int | None = TOP_FILES) -> Loss:
        """The summary of losing `lost` (sorted file paths)."""
        total = len(self.authors)
        comp_files = self._component_files
        comps = _count_by_component(lost, self.component)
        listed = list(lost)
        return Loss(
            files_lost=len(lost),
            files_lost_share=round(len(lost) / total, 4) if total else None,
            components={c: ComponentLoss(n, round(n / comp_files[c], 4)) for c, n in sorted(comps.items())},
            files=tuple(listed if limit is None else listed[:limit]),
        )

    def leaving(self, people: set[str], *, limit: int | None = TOP_FILES) -> Loss:
        """What is lost if `people` leave together."""
        return self.loss(files_lost(self.authors, people), limit=limit)

    def departure(self, who: str, by_org: Mapping[str, OrgLoss]) -> Departure:
        """One organisation (by id) or one person (by charter id, e-mail or name) leaving; every file listed."""
        if who in by_org:
            lost = sole_owners(self.authors, self.org_of).get(who, [])
            return Departure("organisation", who, by_org[who].people, None, None, self.loss(lost, limit=None))
        needle = who.strip().lower()
        key = who if who in self.people else self.aliases.get(needle)
        if key is None:
            key = next((k for k, w in self.people.items() if w.label.lower() == needle), None)
        if key is not None:
            w = self.people[key]
            return Departure("person", w.label, None, key, w.org, self.leaving({key}, limit=None))
        known = sorted(by_org) + sorted(k for k, w in self.people.items() if w.kind == HUMAN)
        raise NotFoundError(
            f"{who!r} is neither an organisation nor a person of this repository",
            hint="known: " + ", ".join(known[:12]) + (", ..." if len(known) > 12 else ""),
            field="who",
        )


def section(
    authorship: Authorship, leavers: Iterable[Leaver], until_day: date, committed: Collection[str]
) -> Offboarding:
    """Every organisation that authors a file or committed in the window leaving, and every person
    whose contract ends by `until_day` (the window's last day) leaving, each alone."""
    authors = authorship.authors
    everyone = {p for people in authors.values() for p in people}
    by_org_files = sole_owners(authors, authorship.org_of)
    # A drafted charter can hold hundreds of organisations that touched nothing still alive.
    people_of: dict[str, list[str]] = {}
    for p in sorted(everyone):
        people_of.setdefault(authorship.org_of(p), []).append(p)
    by_org = {
        org: OrgLoss(tuple(people_of.get(org, [])), authorship.loss(by_org_files.get(org, [])))
        for org in sorted(set(people_of) | set(committed))
    }
    by_person_files = sole_owners(authors, lambda p: p)
    by_person: dict[str, PersonLoss] = {}
    for leaver in sorted(leavers, key=lambda x: x.person):
        if leaver.contract_end > until_day:
            continue
        by_person[leaver.person] = PersonLoss(
            leaver.org,
            leaver.contract_end,
            leaver.contract_end < until_day,
            authorship.loss(by_person_files.get(leaver.person, [])),
        )
    departed = sorted(pid for pid, v in by_person.items() if v.ended)
    return Offboarding(by_org, by_person, AlreadyLost(tuple(departed), authorship.leaving(set(departed))))


def _count_by_component(files: Iterable[str], component: Mapping[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in files:
        c = component.get(f)
        if c is not None:
            out[c] = out.get(c, 0) + 1
    return out
