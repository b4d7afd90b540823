"""Access as data: levels, scopes, grants, and the charter's rules for who owns and who approves.

Pure: no store, no clock. The rules (docs/access.md):
- a component is owned by the organisation of its Accountable person; a repository or an
  environment by the internal organisation;
- the approver of a grant is the lead of the owning organisation, never the grantee;
- a grant never ends after the grantee's `contract_end`, nor starts before `contract_start`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from onebar.charter.model import Charter
from onebar.errors import NotFoundError, UsageError

Level = Literal["read", "write", "admin"]
LEVELS: tuple[str, ...] = ("read", "write", "admin")
ScopeKind = Literal["repository", "component", "environment"]
SCOPE_KINDS: tuple[str, ...] = ("repository", "component", "environment")
STATUSES: tuple[str, ...] = ("pending", "approved", "refused", "revoked", "expired")
OPEN = ("pending", "approved")  # statuses a grant can still leave


def rank(level: str | None) -> int:
    """none < read < write < admin, for comparing levels."""
    return 0 if level is None else LEVELS.index(level) + 1


@dataclass(frozen=True)
class Scope:
    """What a grant opens: a repository, a component (of the charter) or an environment."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Grant:
    """One grant as stored; `ends_on` is inclusive."""

    id: int
    repository: str
    person: str
    level: str
    scope: Scope
    reason: str
    approver: str | None
    status: str
    starts_on: date
    ends_on: date
    requested_by: str | None
    requested_at: int
    decided_by: str | None = None
    decided_at: int | None = None
    ended_by: str | None = None
    ended_at: int | None = None
    end_reason: str | None = None
    warned_at: int | None = None

    def active(self, today: date) -> bool:
        """Approved and inside its window today."""
        return self.status == "approved" and self.starts_on <= today <= self.ends_on

    def days_left(self, today: date) -> int:
        return (self.ends_on - today).days

    def to_dict(self, today: date | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "repository": self.repository,
            "person": self.person,
            "level": self.level,
            "scope": {"kind": self.scope.kind, "name": self.scope.name},
            "reason": self.reason,
            "approver": self.approver,
            "status": self.status,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "requested_by": self.requested_by,
            "decided_by": self.decided_by,
            "ended_by": self.ended_by,
            "end_reason": self.end_reason,
        }
        if today is not None:
            out["active"] = self.active(today)
            out["days_left"] = self.days_left(today) if self.status in OPEN else None
        return out


def internal_org(charter: Charter) -> str | None:
    """The home organisation: the internal one with a lead (the first by id), else the first internal one."""
    internal = sorted(oid for oid, org in charter.organisations.items() if org.kind == "internal")
    with_lead = [oid for oid in internal if charter.organisations[oid].lead]
    found = with_lead or internal
    return found[0] if found else None


def owner_of(charter: Charter, scope: Scope) -> str | None:
    """The organisation that owns `scope`: the Accountable's for a component, else the internal one."""
    if scope.kind == "component":
        comp = charter.components.get(scope.name)
        if comp is None:
            known = ", ".join(sorted(charter.components)) or "(none)"
            raise NotFoundError(f"no component {scope.name!r} in the charter; known: {known}", field="component")
        return charter.org_of(comp.accountable)
    return internal_org(charter)


def approver_of(charter: Charter, scope: Scope) -> tuple[str | None, str | None]:
    """(approver person, owning organisation) for a grant over `scope`."""
    org = owner_of(charter, scope)
    return (charter.lead_of(org) if org else None), org


def check_window(charter: Charter, person: str, start: date, end: date) -> None:
    """Refuse a window the person's contract does not cover, naming both dates."""
    p = charter.people[person]
    if end < start:
        raise UsageError(f"the grant would end on {end} before it starts on {start}", field="until")
    if p.contract_end is not None and end > p.contract_end:
        raise UsageError(
            f"the grant would end on {end}, after {person}'s contract ends on {p.contract_end}",
            field="until",
            hint=f"ask for --until {p.contract_end} or earlier, or extend the contract in the charter",
        )
    if p.contract_start is not None and start < p.contract_start:
        raise UsageError(
            f"the grant would start on {start}, before {person}'s contract starts on {p.contract_start}",
            field="start",
        )


def person_of(charter: Charter, person: str) -> str:
    """The person's id, or a NotFoundError naming the field."""
    if person not in charter.people:
        known = ", ".join(sorted(charter.people)[:10]) or "(none)"
        raise NotFoundError(f"no person {person!r} in the charter; known: {known}", field="person")
    return person
