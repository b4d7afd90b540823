"""`access plan`: the access each person should have, derived from the charter, against what the code host grants.

Should have (docs/access.md): Accountable or Responsible for a component gives write, Consulted
gives read; the lead of an internal organisation gets admin; people outside the internal
organisation never get more than write; an approved, active grant over this repository or one of
its components gives its level until it ends. Nobody outside their contract window gets anything.

Has: the code host's collaborators with their permissions, read from a file exported from
GitHub (`GET /repos/{owner}/{repo}/collaborators`) or GitLab (`GET /projects/:id/members/all`),
or through a code host client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from onebar.access.model import Grant, internal_org, rank
from onebar.charter.model import Charter
from onebar.errors import UsageError

SOON_DAYS = 14
# GitLab access levels: guest, reporter, developer, maintainer, owner.
GITLAB_LEVELS = {10: "read", 20: "read", 30: "write", 40: "write", 50: "admin"}
GITHUB_ROLES = {"read": "read", "triage": "read", "pull": "read", "write": "write", "push": "write"}
GITHUB_ROLES |= {"maintain": "write", "admin": "admin"}


@dataclass(frozen=True)
class Holding:
    """One account's access on the code host, as the host reports it."""

    login: str
    level: str
    email: str | None = None


@dataclass
class Want:
    """The access a person should have, why, and until when."""

    person: str
    level: str | None = None
    reasons: list[str] = field(default_factory=list)
    until: date | None = None
    blocked: str | None = None  # why they should have nothing (contract ended, not started)

    def give(self, level: str, reason: str, until: date | None = None) -> None:
        if rank(level) > rank(self.level):
            self.level = level
        self.reasons.append(reason)
        if until is not None and (self.until is None or until < self.until):
            self.until = until


@dataclass(frozen=True)
class Step:
    """One line of the plan."""

    action: str  # add | raise | lower | revoke | keep
    login: str | None
    person: str | None
    current: str | None
    target: str | None
    reason: str
    until: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "login": self.login,
            "person": self.person,
            "current": self.current,
            "target": self.target,
            "reason": self.reason,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass
class Plan:
    """What to add, change and revoke on the code host, and what expires soon."""

    repository: str
    today: date
    source: str
    steps: list[Step] = field(default_factory=list)
    expiring: list[Step] = field(default_factory=list)
    no_login: list[Step] = field(default_factory=list)  # should have access but declare no login to give it to

    def of(self, *actions: str) -> list[Step]:
        return [s for s in self.steps if s.action in actions]

    @property
    def changes(self) -> list[Step]:
        return [s for s in self.steps if s.action != "keep"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "today": self.today.isoformat(),
            "source": self.source,
            "add": [s.to_dict() for s in self.of("add", "raise")],
            "revoke": [s.to_dict() for s in self.of("revoke", "lower")],
            "keep": [s.to_dict() for s in self.of("keep")],
            "expiring_soon": [s.to_dict() for s in self.expiring],
            "no_login": [s.to_dict() for s in self.no_login],
        }


def desired(charter: Charter, grants: list[Grant], repository: str, today: date) -> dict[str, Want]:
    """person -> the access the charter and active grants give them in `repository` today."""
    wants: dict[str, Want] = {pid: Want(pid) for pid in charter.people}
    for cid, comp in sorted(charter.components.items()):
        for pid in [comp.accountable, *comp.responsible]:
            role = "accountable" if pid == comp.accountable else "responsible"
            if pid in wants:
                wants[pid].give("write", f"{role} for {cid}")
        for pid in comp.consulted:
            if pid in wants:
                wants[pid].give("read", f"consulted on {cid}")
    for oid, org in charter.organisations.items():
        if org.kind == "internal" and org.lead in wants:
            wants[org.lead].give("admin", f"lead of {oid}")
    for g in grants:
        in_scope = g.scope.kind == "component" or (g.scope.kind == "repository" and g.scope.name == repository)
        if g.repository == repository and in_scope and g.active(today) and g.person in wants:
            wants[g.person].give(g.level, f"grant #{g.id} ({g.scope})", g.ends_on)
    home = internal_org(charter)
    for pid, w in wants.items():
        p = charter.people[pid]
        if p.contract_end is not None and p.contract_end < today:
            w.level, w.blocked = None, f"contract ended on {p.contract_end}"
            continue
        if p.contract_start is not None and p.contract_start > today:
            w.level, w.blocked = None, f"contract starts on {p.contract_start}"
            continue
        if w.level == "admin" and p.org != home:
            w.level = "write"  # outside the home organisation, never admin
        if p.contract_end is not None and w.level is not None and (w.until is None or p.contract_end < w.until):
            w.until = p.contract_end
    return wants


def plan_access(
    charter: Charter,
    holdings: list[Holding],
    grants: list[Grant],
    *,
    repository: str,
    today: date,
    source: str,
    soon_days: int = SOON_DAYS,
) -> Plan:
    """Compare what each person should have with what the code host grants."""
    wants = desired(charter, grants, repository, today)
    by_login = {p.github.lower(): pid for pid, p in charter.people.items() if p.github}
    by_email = {e: pid for pid, p in charter.people.items() for e in p.emails}
    plan = Plan(repository, today, source)
    held: set[str] = set()
    for h in sorted(holdings, key=lambda h: h.login.lower()):
        pid = by_login.get(h.login.lower()) or (by_email.get(h.email.lower()) if h.email else None)
        if pid is None:
            plan.steps.append(
                Step("revoke", h.login, None, h.level, None, f"unknown person: {h.login} is not in the charter")
            )
            continue
        held.add(pid)
        w = wants[pid]
        if w.level is None:
            why = w.blocked or "no role in any component"
            plan.steps.append(Step("revoke", h.login, pid, h.level, None, why))
        elif rank(w.level) > rank(h.level):
            plan.steps.append(Step("raise", h.login, pid, h.level, w.level, "; ".join(w.reasons), w.until))
        elif rank(w.level) < rank(h.level):
            why = f"more than needed ({'; '.join(w.reasons)})"
            plan.steps.append(Step("lower", h.login, pid, h.level, w.level, why, w.until))
        else:
            plan.steps.append(Step("keep", h.login, pid, h.level, w.level, "; ".join(w.reasons), w.until))
    for pid, w in sorted(wants.items()):
        if w.level is None or pid in held:
            continue
        login = charter.people[pid].github
        step = Step("add", login, pid, None, w.level, "; ".join(w.reasons), w.until)
        (plan.steps if login else plan.no_login).append(step)
    for s in plan.steps:
        if s.action != "revoke" and s.until is not None and (s.until - today).days <= soon_days:
            plan.expiring.append(s)
    plan.expiring.sort(key=lambda s: (s.until or today, s.person or ""))
    return plan


def read_holdings(path: Path) -> list[Holding]:
    """Collaborators from an exported JSON file: GitHub's collaborators list or GitLab's members list.

    Accepts a JSON array of GitHub collaborator objects (`login` with `role_name` or `permissions`),
    of GitLab member objects (`username`, `access_level`), or an object holding one under
    "collaborators" or "members".
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", field="from_file") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not JSON ({exc.msg})", field="from_file") from None
    if isinstance(data, dict):
        data = data.get("collaborators", data.get("members"))
    if not isinstance(data, list):
        raise UsageError(f"{path}: expected a list of collaborators or members", field="from_file")
    return [holding(item, f"{path}[{i}]") for i, item in enumerate(data)]


def holding(item: Any, where: str) -> Holding:
    """One GitHub collaborator or GitLab member object as a Holding."""
    if not isinstance(item, dict):
        raise UsageError(f"{where}: not an object", field="from_file")
    email = item.get("email") or item.get("public_email")
    if "login" in item:
        role = item.get("role_name")
        if role is None and isinstance(item.get("permissions"), dict):
            perms = item["permissions"]
            role = next((r for r in ("admin", "maintain", "push", "triage", "pull") if perms.get(r)), None)
        level = GITHUB_ROLES.get(str(role))
        if level is None:
            raise UsageError(f"{where}: unknown GitHub role {role!r}", field="from_file")
        return Holding(str(item["login"]), level, email)
    if "username" in item:
        level = GITLAB_LEVELS.get(item.get("access_level", -1))
        if level is None:
            raise UsageError(f"{where}: unknown GitLab access_level {item.get('access_level')!r}", field="from_file")
        return Holding(str(item["username"]), level, email)
    raise UsageError(
        f"{where}: neither a GitHub collaborator (login) nor a GitLab member (username)", field="from_file"
    )
