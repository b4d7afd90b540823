"""The onboarding brief: what a new contributor needs in their first week, from the charter and the store.

`build_brief` is pure (charter, knowledge, grants, ADRs and a day in, a `Brief` out); `brief_for`
gathers those from an opened workspace, as every face calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from onebar.access.model import Grant, person_of
from onebar.access.plan import desired
from onebar.adr.records import Adr
from onebar.charter.model import Charter
from onebar.metrics import overlap as ov
from onebar.onboard.done import RuleWords, Who, plain_rules
from onebar.onboard.knowledge import Knowledge

BUDDIES = 3
ADRS = 5


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    org: str
    org_kind: str | None
    timezone: str
    hours: str
    contract_start: date | None
    contract_end: date | None


@dataclass(frozen=True)
class Buddy:
    person: str
    name: str
    org: str
    files: int  # files of the component they author
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"person": self.person, "name": self.name, "org": self.org, "files": self.files, "why": self.why}


@dataclass(frozen=True)
class ComponentBrief:
    id: str
    role: str  # accountable | responsible | consulted | informed | grant
    paths: tuple[str, ...]
    accountable: str
    accountable_name: str
    accountable_org: str
    responsible: tuple[str, ...]
    architecture: bool
    files: int  # files with a known author
    buddies: tuple[Buddy, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "paths": list(self.paths),
            "accountable": {"person": self.accountable, "name": self.accountable_name, "org": self.accountable_org},
            "responsible": list(self.responsible),
            "architecture": self.architecture,
            "files": self.files,
            "buddies": [b.to_dict() for b in self.buddies],
        }


@dataclass(frozen=True)
class AdrBrief:
    ref: str
    title: str
    status: str
    date: date | None
    file: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "title": self.title,
            "status": self.status,
            "date": self.date.isoformat() if self.date else None,
            "file": self.file,
            "why": self.why,
        }


@dataclass(frozen=True)
class OverlapBrief:
    org: str
    hours_per_week: float
    sessions: tuple[str, ...]  # a typical day's shared stretches, in the newcomer's local time

    def to_dict(self) -> dict[str, Any]:
        return {"org": self.org, "hours_per_week": self.hours_per_week, "typical_day_local": list(self.sessions)}


@dataclass(frozen=True)
class AccessBrief:
    level: str | None
    reasons: tuple[str, ...]
    until: date | None
    grants: tuple[Grant, ...]
    note: str | None  # why nothing, when nothing

    def to_dict(self, today: date) -> dict[str, Any]:
        return {
            "level": self.level,
            "reasons": list(self.reasons),
            "until": self.until.isoformat() if self.until else None,
            "grants": [g.to_dict(today) for g in self.grants],
            "note": self.note,
        }


@dataclass
class Brief:
    repository: str
    today: date
    person: Person
    components: list[ComponentBrief] = field(default_factory=list)
    rules: list[RuleWords] = field(default_factory=list)
    adrs: list[AdrBrief] = field(default_factory=list)
    overlap: list[OverlapBrief] = field(default_factory=list)
    access: AccessBrief | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        p = self.person
        return {
            "repository": self.repository,
            "today": self.today.isoformat(),
            "person": {
                "id": p.id,
                "name": p.name,
                "org": p.org,
                "org_kind": p.org_kind,
                "timezone": p.timezone,
                "hours": p.hours,
                "contract_start": p.contract_start.isoformat() if p.contract_start else None,
                "contract_end": p.contract_end.isoformat() if p.contract_end else None,
            },
            "components": [c.to_dict() for c in self.components],
            "definition_of_done": [r.to_dict() for r in self.rules],
            "adrs": [a.to_dict() for a in self.adrs],
            "overlap": [o.to_dict() for o in self.overlap],
            "access": self.access.to_dict(self.today) if self.access else None,
            "notes": self.notes,
        }


def roles_of(charter: Charter, person: str) -> dict[str, str]:
    """component -> the person's RACI role in it (the strongest, A > R > C > I)."""
    out: dict[str, str] = {}
    for cid, c in sorted(charter.components.items()):
        if c.accountable == person:
            out[cid] = "accountable"
        elif person in c.responsible:
            out[cid] = "responsible"
        elif person in c.consulted:
            out[cid] = "consulted"
        elif person in c.informed:
            out[cid] = "informed"
    return out


def buddies_for(charter: Charter, know: Knowledge, component: str, person: str, today: date) -> list[Buddy]:
    """Who knows the component best, among people still under contract, at least one from another organisation."""
    own = charter.people[person].org
    ranked = [
        (p, n)
        for p, n in know.experts(component)
        if p != person and p in charter.people and charter.people[p].under_contract(today)
    ]
    if not ranked:  # no history yet: the component's owners are the people to ask
        comp = charter.components[component]
        owners = [comp.accountable, *comp.responsible]
        ranked = [(p, 0) for p in owners if p != person and p in charter.people]
    picked = ranked[:BUDDIES]
    if picked and all(charter.people[p].org == own for p, _ in picked):
        other = next(((p, n) for p, n in ranked if charter.people[p].org != own), None)
        if other is not None:
            picked = [*picked[: BUDDIES - 1], other]
    out = []
    comp = charter.components[component]
    written = bool(know.files_of(component))
    for p, n in picked:
        org = charter.people[p].org
        if n:
            why = f"authors {n} of its files"
        else:
            why = "owns it; nobody else has written in it yet" if written else "owns it (no history yet)"
        if p == comp.accountable:
            why += ", Accountable"
        if org != own:
            why += f", {org}: can give the cross-organisation review"
        out.append(Buddy(p, charter.people[p].name, org, n, why))
    return out


def overlap_for(charter: Charter, person: str, today: date) -> list[OverlapBrief]:
    """Shared working hours of the person with each organisation (its other people), on this week."""
    me = charter.people[person]
    start, end = me.working_hours
    mine = ov.Schedule(person, me.org, me.timezone, start, end, tuple(me.days))
    schedules = []
    for pid, p in charter.people.items():
        kind = charter.organisations[p.org].kind if p.org in charter.organisations else None
        if pid == person or kind in ("bot", "agent") or not p.under_contract(today):
            continue
        s, e = p.working_hours
        schedules.append(ov.Schedule(pid, p.org, p.timezone, s, e, tuple(p.days)))
    monday = ov.monday_of(today)
    my_time = ov.union(ov.shifts(mine, monday))
    zone = ZoneInfo(me.timezone)
    out = []
    for org, iv in ov.org_time(schedules, monday).items():
        shared = ov.intersect(my_time, iv)
        # A typical day: the first working day of the week with shared time (Wednesday when it has some).
        days: dict[date, list[str]] = {}
        for a, b in shared:
            d = datetime.fromtimestamp(a, zone).date()
            days.setdefault(d, []).append(
                f"{datetime.fromtimestamp(a, zone):%H:%M}-{datetime.fromtimestamp(b, zone):%H:%M}"
            )
        wednesday = monday + timedelta(days=2)
        typical = days.get(wednesday) or (days[min(days)] if days else [])
        out.append(OverlapBrief(org, round(ov.hours(shared), 2), tuple(typical)))
    return sorted(out, key=lambda o: (-o.hours_per_week, o.org))


def adrs_for(adrs: list[Adr], charter: Charter, components: list[str], directory: str) -> list[AdrBrief]:
    """Accepted (or proposed) decisions, those naming the person's components first, newest first."""
    words = {c.lower() for c in components}
    for c in components:
        for path in charter.components[c].paths:
            stem = path.split("*")[0].strip("/").lower()
            if stem:
                words.add(stem)
    chosen = []
    for a in adrs:
        if a.status not in ("accepted", "proposed"):
            continue
        text = f"{a.title}\n{a.body}".lower()
        hits = sorted(w for w in words if w in text)
        why = f"mentions {', '.join(hits)}" if hits else "a decision in force for the whole repository"
        if a.status == "proposed":
            why += " (proposed: still open for comment)"
        chosen.append((0 if hits else 1, -(a.date or date.min).toordinal(), a.number, a, why))
    chosen.sort(key=lambda t: t[:3])
    return [
        AdrBrief(a.ref, a.title, a.status, a.date, f"{directory}/{a.filename}", why) for *_, a, why in chosen[:ADRS]
    ]


def build_brief(
    charter: Charter,
    person: str,
    *,
    repository: str,
    today: date,
    knowledge: Knowledge,
    grants: list[Grant],
    adrs: list[Adr],
) -> Brief:
    """The first-week brief of `person` (a charter id) in `repository`."""
    person_of(charter, person)
    p = charter.people[person]
    org = charter.organisations.get(p.org)
    brief = Brief(
        repository,
        today,
        Person(person, p.name, p.org, org.kind if org else None, p.timezone, p.hours, p.contract_start, p.contract_end),
    )
    roles = roles_of(charter, person)
    mine = [g for g in grants if g.person == person and g.status in ("pending", "approved")]
    for g in mine:
        if g.scope.kind == "component" and g.scope.name in charter.components:
            roles.setdefault(g.scope.name, "grant")
    for cid, role in roles.items():
        c = charter.components[cid]
        acc = charter.people.get(c.accountable)
        brief.components.append(
            ComponentBrief(
                cid,
                role,
                tuple(c.paths),
                c.accountable,
                acc.name if acc else c.accountable,
                acc.org if acc else "",
                tuple(c.responsible),
                c.architecture,
                len(knowledge.files_of(cid)),
                tuple(buddies_for(charter, knowledge, cid, person, today)),
            )
        )
    if not roles:
        brief.notes.append(f"{person} has no role in any component yet: ask {charter.lead_of(p.org) or 'a lead'}")
    brief.rules = plain_rules(charter, Who(person, p.org, tuple(roles)))
    brief.adrs = adrs_for(adrs, charter, list(roles), charter.done.adr.directory)
    brief.overlap = overlap_for(charter, person, today)
    want = desired(charter, [g for g in grants if g.status == "approved"], repository, today)[person]
    brief.access = AccessBrief(want.level, tuple(want.reasons), want.until, tuple(mine), want.blocked)
    if p.contract_end is not None and p.contract_end < today:
        brief.notes.append(f"{person}'s contract ended on {p.contract_end}")
    return brief


def today_utc() -> date:
    return datetime.now(UTC).date()
