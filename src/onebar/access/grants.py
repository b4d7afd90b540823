"""Grants: request, approve, revoke, list. Every decision, and every refusal, is audited.

Each operation runs in one write transaction with its audit entry. A refused operation writes
nothing but its audit entry (the attempt is undone to a savepoint), commits that, and then raises
the refusal, so an auditor sees who tried what and why it was refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Row

from onebar import audit
from onebar.access.model import (
    LEVELS,
    OPEN,
    SCOPE_KINDS,
    Grant,
    Scope,
    approver_of,
    check_window,
    internal_org,
    person_of,
    rank,
)
from onebar.charter.model import Charter
from onebar.errors import NotFoundError, OnebarError, PermissionDeniedError, UsageError
from onebar.store import Store
from onebar.store.schema import repositories
from onebar.store.schema_access import grants

T = TypeVar("T")
_ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SCOPE_FIELD = {"repository": "repo", "component": "component", "environment": "environment"}


def decide(
    store: Store,
    actor: audit.Actor,
    action: str,
    target: str,
    payload: Mapping[str, Any],
    fn: Callable[[Connection], T],
) -> T:
    """Run `fn` in a write transaction; if it refuses (an OnebarError), audit the refusal and re-raise it."""
    refused: OnebarError | None = None
    with store.write() as conn:
        try:
            with conn.begin_nested():
                return fn(conn)
        except OnebarError as exc:
            refused = exc
            audit.record(
                conn,
                actor=actor,
                action=action,
                target=target,
                outcome="refused",
                payload={**payload, "refusal": type(exc).__name__, "message": str(exc)},
            )
    raise refused


def to_grant(r: Row[Any]) -> Grant:
    m = r._mapping
    return Grant(
        id=int(m["id"]),
        repository=m["repository"],
        person=m["person"],
        level=m["level"],
        scope=Scope(m["scope_kind"], m["scope"]),
        reason=m["reason"],
        approver=m["approver"],
        status=m["status"],
        starts_on=date.fromisoformat(m["starts_on"]),
        ends_on=date.fromisoformat(m["ends_on"]),
        requested_by=m["requested_by"],
        requested_at=int(m["requested_at"]),
        decided_by=m["decided_by"],
        decided_at=m["decided_at"],
        ended_by=m["ended_by"],
        ended_at=m["ended_at"],
        end_reason=m["end_reason"],
        warned_at=m["warned_at"],
    )


def get_grant(conn: Connection, grant_id: int) -> Grant:
    r = conn.execute(select(grants).where(grants.c.id == grant_id)).first()
    if r is None:
        raise NotFoundError(f"no grant #{grant_id}", field="grant_id")
    return to_grant(r)


def list_grants(
    conn: Connection,
    *,
    repository: str | None = None,
    person: str | None = None,
    statuses: tuple[str, ...] | None = None,
) -> list[Grant]:
    """Grants, newest first, filtered by repository, person and status."""
    q = select(grants).order_by(grants.c.id.desc())
    if repository is not None:
        q = q.where(grants.c.repository == repository)
    if person is not None:
        q = q.where(grants.c.person == person)
    if statuses is not None:
        q = q.where(grants.c.status.in_(statuses))
    return [to_grant(r) for r in conn.execute(q)]


def check_scope(conn: Connection, charter: Charter, repository: str, scope: Scope) -> None:
    """The scope must exist: a component of the charter, a repository the store knows, a plain environment name."""
    if scope.kind not in SCOPE_KINDS:
        raise UsageError(f"scope must be one of {', '.join(SCOPE_KINDS)}, got {scope.kind!r}", field="scope")
    field = SCOPE_FIELD[scope.kind]
    if scope.kind == "component" and scope.name not in charter.components:
        known = ", ".join(sorted(charter.components)) or "(none)"
        raise NotFoundError(f"no component {scope.name!r} in the charter; known: {known}", field=field)
    if scope.kind == "repository":
        names = set(conn.execute(select(repositories.c.name)).scalars()) | {repository}
        if scope.name not in names:
            raise NotFoundError(f"no repository {scope.name!r}; known: {', '.join(sorted(names))}", field=field)
    if scope.kind == "environment" and not _ENV_NAME.match(scope.name):
        raise UsageError(f"{scope.name!r} is not an environment name (letters, digits, . _ -)", field=field)


def request_grant(
    store: Store,
    charter: Charter,
    repository: str,
    *,
    person: str,
    scope: Scope,
    until: date,
    level: str = "read",
    reason: str = "",
    start: date | None = None,
    actor: audit.Actor,
    today: date,
) -> Grant:
    """Ask for `level` access to `scope` for `person` until `until` (inclusive); pending until approved.

    Refused (exit 2, audited) when the window passes the person's contract, the scope or person
    is unknown, or the owning organisation has no lead to approve it.
    """
    payload = {
        "person": person,
        "level": level,
        "scope": {"kind": scope.kind, "name": scope.name},
        "until": until.isoformat(),
        "reason": reason,
    }

    def run(conn: Connection) -> Grant:
        person_of(charter, person)
        if level not in LEVELS:
            raise UsageError(f"level must be one of {', '.join(LEVELS)}, got {level!r}", field="level")
        check_scope(conn, charter, repository, scope)
        p = charter.people[person]
        begin = start or max(today, p.contract_start or today)
        if until < today:
            raise UsageError(f"the grant would end on {until}, which has passed (today is {today})", field="until")
        check_window(charter, person, begin, until)
        approver, owner = approver_of(charter, scope)
        if approver is None:
            raise UsageError(
                f"{scope} is owned by {owner or 'no organisation'}, which has no lead in the charter to approve grants",
                field=SCOPE_FIELD[scope.kind],
                hint="name the organisation's lead in onebar.toml",
            )
        if approver == person:
            # A lead asking for their own access: the internal organisation's lead approves instead.
            home = internal_org(charter)
            approver = charter.lead_of(home) if home else None
            if approver is None or approver == person:
                raise PermissionDeniedError(f"nobody but {person} could approve {person}'s own access", field="person")
        for g in list_grants(conn, repository=repository, person=person, statuses=OPEN):
            if g.scope == scope and rank(g.level) >= rank(level) and g.ends_on >= until:
                raise UsageError(f"grant #{g.id} ({g.status}) already gives this until {g.ends_on}", field="person")
        now = int(time.time())
        gid = conn.execute(
            insert(grants)
            .values(
                repository=repository,
                person=person,
                level=level,
                scope_kind=scope.kind,
                scope=scope.name,
                reason=reason,
                approver=approver,
                status="pending",
                starts_on=begin.isoformat(),
                ends_on=until.isoformat(),
                requested_by=actor.person,
                requested_at=now,
            )
            .returning(grants.c.id)
        ).scalar_one()
        grant = get_grant(conn, int(gid))
        audit.record(conn, actor=actor, action="access.grant.request", target=f"grant:{gid}", payload=grant.to_dict())
        return grant

    return decide(store, actor, "access.grant.request", f"person:{person}", payload, run)


def approve_grant(store: Store, charter: Charter, grant_id: int, *, actor: audit.Actor, today: date) -> Grant:
    """Approve a pending grant: only the lead of the owning organisation may, never the grantee."""

    def run(conn: Connection) -> Grant:
        g = get_grant(conn, grant_id)
        if g.status != "pending":
            raise UsageError(f"grant #{g.id} is {g.status}, not pending", field="grant_id")
        approver = g.approver
        if actor.person is None or actor.person != approver:
            who = actor.person or "an unidentified actor"
            raise PermissionDeniedError(
                f"only {approver}, who leads the organisation owning {g.scope}, may approve grant #{g.id}, not {who}",
                field="actor",
            )
        if actor.person == g.person:
            raise PermissionDeniedError(f"{g.person} may not approve their own access", field="actor")
        if g.person not in charter.people:
            raise UsageError(f"{g.person} is no longer in the charter", field="grant_id")
        if g.ends_on < today:
            raise UsageError(f"grant #{g.id} would have ended on {g.ends_on}; request it again", field="grant_id")
        check_window(charter, g.person, g.starts_on, g.ends_on)  # the contract may have changed since
        now = int(time.time())
        conn.execute(
            update(grants).where(grants.c.id == g.id).values(status="approved", decided_by=actor.person, decided_at=now)
        )
        done = replace(g, status="approved", decided_by=actor.person, decided_at=now)
        audit.record(conn, actor=actor, action="access.grant.approve", target=f"grant:{g.id}", payload=done.to_dict())
        return done

    return decide(store, actor, "access.grant.approve", f"grant:{grant_id}", {"grant": grant_id}, run)


def revoke_grant(store: Store, grant_id: int, *, actor: audit.Actor, reason: str = "") -> Grant:
    """Revoke a pending or approved grant. Anyone may take access away; the log says who and why."""

    def run(conn: Connection) -> Grant:
        g = get_grant(conn, grant_id)
        if g.status not in OPEN:
            raise UsageError(f"grant #{g.id} is already {g.status}", field="grant_id")
        done = end_grant(conn, g, "revoked", actor, reason or "revoked", action="access.grant.revoke")
        return done

    return decide(store, actor, "access.grant.revoke", f"grant:{grant_id}", {"grant": grant_id}, run)


def end_grant(conn: Connection, g: Grant, status: str, actor: audit.Actor, reason: str, *, action: str) -> Grant:
    """Close a grant (revoked or expired) with its reason, and audit it."""
    now = int(time.time())
    conn.execute(
        update(grants)
        .where(grants.c.id == g.id)
        .values(status=status, ended_by=actor.person, ended_at=now, end_reason=reason)
    )
    done = replace(g, status=status, ended_by=actor.person, ended_at=now, end_reason=reason)
    audit.record(conn, actor=actor, action=action, target=f"grant:{g.id}", payload=done.to_dict())
    return done
