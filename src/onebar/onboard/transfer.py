"""Off-boarding, completed: the grants to revoke and a knowledge-transfer plan for a departure.

Over the report's off-boarding simulation (who leaves: one person, or every author of an
organisation), this lists each component, and each top-level folder outside components, whose
files would keep no author, and who should pick each up: the remaining person who authors most of
its other files, else its Accountable or a Responsible person, else the internal organisation's
lead. Ties go to the internal organisation, so that knowledge comes home rather than moving from
one vendor to another.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from onebar.access.model import OPEN, Grant, internal_org
from onebar.charter.model import Charter
from onebar.metrics.knowledge import files_lost
from onebar.metrics.offboarding import Departure
from onebar.onboard.knowledge import Knowledge, from_report
from onebar.report.model import Report
from onebar.workspace import Workspace

NO_COMPONENT = "(no component)"
SHOWN_FILES = 10


@dataclass(frozen=True)
class Handover:
    """One piece of knowledge to hand over: the files of a component (or folder) left without author."""

    area: str  # a component id, or "folder/" outside every component
    component: bool
    files: tuple[str, ...]
    successor: str | None
    successor_name: str | None
    successor_org: str | None
    why: str
    backups: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "component": self.component,
            "files_lost": len(self.files),
            "files": list(self.files),
            "successor": self.successor,
            "successor_name": self.successor_name,
            "successor_org": self.successor_org,
            "why": self.why,
            "backups": list(self.backups),
        }


@dataclass
class OffboardPlan:
    """What to do when `name` leaves: grants to revoke, knowledge to hand over."""

    kind: str  # person | organisation
    name: str
    leaving: tuple[str, ...]
    today: date
    grants: list[Grant] = field(default_factory=list)
    handovers: list[Handover] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "grants_to_revoke": [g.to_dict(self.today) for g in self.grants],
            "knowledge_transfer": [h.to_dict() for h in self.handovers],
        }


def _area(path: str, component: str | None) -> tuple[str, bool]:
    if component is not None:
        return component, True
    top = path.split("/", 1)[0]
    return (f"{top}/" if "/" in path else NO_COMPONENT), False


def _candidates(
    charter: Charter, know: Knowledge, files: Iterable[str], leaving: Collection[str], today: date
) -> list[tuple[str, int]]:
    """Remaining charter people under contract, by how many of `files` they author."""
    count: dict[str, int] = {}
    for f in files:
        for p in know.authors.get(f, ()):
            if p in leaving or p not in charter.people or not charter.people[p].under_contract(today):
                continue
            if know.kind.get(p, "human") != "human":
                continue
            count[p] = count.get(p, 0) + 1
    home = internal_org(charter)
    return sorted(count.items(), key=lambda kv: (-kv[1], charter.people[kv[0]].org != home, kv[0]))


def offboarding_plan(
    charter: Charter,
    know: Knowledge,
    *,
    kind: str,
    name: str,
    leaving: Collection[str],
    grants: list[Grant],
    today: date,
) -> OffboardPlan:
    """Grants of the leavers still open, and a successor for every area whose files lose all authors."""
    gone = set(leaving)
    plan = OffboardPlan(kind, name, tuple(sorted(gone)), today)
    plan.grants = sorted((g for g in grants if g.person in gone and g.status in OPEN), key=lambda g: g.id)
    lost = files_lost(dict(know.authors), gone)
    areas: dict[tuple[str, bool], list[str]] = {}
    for f in lost:
        areas.setdefault(_area(f, know.component.get(f)), []).append(f)
    home = internal_org(charter)
    for (area, is_comp), files in sorted(areas.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if is_comp:
            context = know.files_of(area)
        else:
            prefix = "" if area == NO_COMPONENT else area
            context = [f for f in know.authors if f.startswith(prefix) and f not in know.component]
        ranked = _candidates(charter, know, context, gone, today)
        why_of = {p: f"authors {n} other files of {area}" for p, n in ranked}
        if is_comp:
            comp = charter.components[area]
            for role, people in (("Accountable", [comp.accountable]), ("Responsible", comp.responsible)):
                for p in people:
                    ok = p not in gone and p in charter.people and charter.people[p].under_contract(today)
                    if ok and p not in why_of:
                        ranked.append((p, 0))
                        why_of[p] = f"{role} for {area}"
        lead = charter.lead_of(home) if home else None
        if not ranked and lead is not None and lead not in gone:
            ranked.append((lead, 0))
            why_of[lead] = f"lead of {home}: nobody else knows {area}"
        first = ranked[0][0] if ranked else None
        person = charter.people.get(first) if first else None
        plan.handovers.append(
            Handover(
                area=area,
                component=is_comp,
                files=tuple(files),
                successor=first,
                successor_name=person.name if person else None,
                successor_org=person.org if person else None,
                why=why_of[first] if first else "nobody left to pick it up: name a successor",
                backups=tuple(p for p, _ in ranked[1:3]),
            )
        )
    return plan


def plan_for_departure(ws: Workspace, report: Report, departure: Departure, *, today: date) -> OffboardPlan:
    """The plan completing the report's simulated departure (`report.offboard(who)`) in an opened workspace."""
    from onebar.access.grants import list_grants

    know = from_report(report)
    who = departure.person if departure.kind == "person" and departure.person else departure.name
    leaving = leaving_of(know, ws.charter, departure.kind, who)
    with ws.store.read() as conn:
        grants = list_grants(conn, repository=ws.repo.name)
    return offboarding_plan(
        ws.charter, know, kind=departure.kind, name=departure.name, leaving=leaving, grants=grants, today=today
    )


def leaving_of(know: Knowledge, charter: Charter, kind: str, who: str) -> set[str]:
    """The people who leave: one person's key, or every author (and charter person) of an organisation."""
    if kind == "person":
        return {who}
    return {p for p, o in know.org.items() if o == who} | {p for p, x in charter.people.items() if x.org == who}


def plan_lines(plan: OffboardPlan) -> list[str]:
    """The plan as lines of text, for the off-boarding report of the command line."""
    out = []
    if plan.grants:
        out.append(f"Grants to revoke ({len(plan.grants)}):")
        out += [f"  #{g.id} {g.person}: {g.level} on {g.scope}, until {g.ends_on} (onebar access revoke {g.id})"
                for g in plan.grants]  # fmt: skip
    else:
        out.append("Grants to revoke: none")
    if plan.handovers:
        out.append("Knowledge transfer:")
        for h in plan.handovers:
            who = f"{h.successor_name} ({h.successor_org})" if h.successor else "NOBODY"
            kind = "component" if h.component else "folder"
            out.append(f"  {kind} {h.area}: {len(h.files)} files -> {who}: {h.why}")
            shown = ", ".join(h.files[:SHOWN_FILES]) + (" ..." if len(h.files) > SHOWN_FILES else "")
            out.append(f"    {shown}")
    else:
        out.append("Knowledge transfer: nothing would lose all its authors")
    return out
