"""`access review`: the periodic access review an auditor asks for (SOC 2 CC6.2/CC6.3, ISO 27001 A.5.18).

Every person with access to the repository, why (their role in the charter, or a grant's reason),
since when, until when, their last activity in the history, and who approved it; grouped by the
person's organisation, whose lead signs that part off. A sign-off records a digest of the rows it
approved, so a later change to them shows; the sign-off itself is audited.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select

from onebar import audit
from onebar.access.grants import decide, list_grants
from onebar.access.model import OPEN, Scope, approver_of, internal_org
from onebar.access.plan import desired
from onebar.charter.identity import Resolver
from onebar.charter.model import Charter
from onebar.errors import NotFoundError, PermissionDeniedError, UsageError
from onebar.store import Store
from onebar.store.schema import commits, identities
from onebar.store.schema_access import access_signoffs

UNUSED_DAYS = 90
SOON_DAYS = 14


@dataclass(frozen=True)
class Activity:
    """A person's commits in the repository: the last one, how many, how many outside their contract."""

    last: date | None
    commits: int
    outside_contract: int = 0


@dataclass(frozen=True)
class Row:
    """One person's access, one line of the review."""

    person: str
    name: str
    org: str
    level: str
    scope: str
    why: str
    since: date | None
    until: date | None
    last_activity: date | None
    approver: str | None
    source: str  # charter | grant
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "name": self.name,
            "org": self.org,
            "level": self.level,
            "scope": self.scope,
            "why": self.why,
            "since": _iso(self.since),
            "until": _iso(self.until),
            "last_activity": _iso(self.last_activity),
            "approver": self.approver,
            "source": self.source,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class SignOff:
    org: str
    period: str
    signed_by: str
    signed_at: int
    review_sha256: str
    rows: int
    note: str

    def to_dict(self) -> dict[str, Any]:
        at = datetime.fromtimestamp(self.signed_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"signed_by": self.signed_by, "signed_at": at, "review_sha256": self.review_sha256, "note": self.note}


@dataclass
class OrgReview:
    org: str
    lead: str | None
    rows: list[Row] = field(default_factory=list)
    signoff: SignOff | None = None

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the rows (without last activity, which moves daily)."""
        doc = [{k: v for k, v in r.to_dict().items() if k != "last_activity"} for r in self.rows]
        return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    @property
    def state(self) -> str:
        if self.signoff is None:
            return "awaiting sign-off"
        return "signed off" if self.signoff.review_sha256 == self.digest else "changed since sign-off"

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "lead": self.lead,
            "state": self.state,
            "review_sha256": self.digest,
            "signoff": self.signoff.to_dict() if self.signoff else None,
            "rows": [r.to_dict() for r in self.rows],
        }


@dataclass(frozen=True)
class Outside:
    """Someone who committed outside their contract window (with or without access now)."""

    person: str
    name: str
    org: str
    contract_start: date | None
    contract_end: date | None
    commits: int
    last_activity: date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "name": self.name,
            "org": self.org,
            "contract_start": _iso(self.contract_start),
            "contract_end": _iso(self.contract_end),
            "commits_outside": self.commits,
            "last_activity": _iso(self.last_activity),
        }


@dataclass
class Review:
    repository: str
    period: str
    today: date
    orgs: list[OrgReview]
    outside_contract: list[Outside] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "period": self.period,
            "today": self.today.isoformat(),
            "people": sum(len(o.rows) for o in self.orgs),
            "organisations": [o.to_dict() for o in self.orgs],
            "outside_contract": [x.to_dict() for x in self.outside_contract],
        }


def quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def activity_from_store(conn: Connection, repo_id: int, charter: Charter) -> dict[str, Activity]:
    """person -> Activity, from the commits stored for `repo_id` (authors resolved through the charter)."""
    q = (
        select(identities.c.id, identities.c.name, identities.c.email, func.max(commits.c.authored_at), func.count())
        .join(commits, commits.c.author_id == identities.c.id)
        .where(commits.c.repo_id == repo_id, commits.c.reachable.is_(True))
        .group_by(identities.c.id, identities.c.name, identities.c.email)
    )
    resolver = Resolver(charter)
    last: dict[str, int] = {}
    count: dict[str, int] = {}
    ids: dict[str, list[int]] = {}
    for iid, name, email, newest, n in conn.execute(q):
        pid = resolver.resolve(name, email).person
        if pid is None:
            continue
        last[pid] = max(last.get(pid, 0), int(newest))
        count[pid] = count.get(pid, 0) + int(n)
        ids.setdefault(pid, []).append(int(iid))
    out: dict[str, Activity] = {}
    for pid, newest in last.items():
        p = charter.people[pid]
        outside = 0
        if p.contract_start or p.contract_end:
            bounds = []
            if p.contract_start:
                bounds.append(commits.c.authored_at < _ts(p.contract_start))
            if p.contract_end:
                bounds.append(commits.c.authored_at >= _ts(p.contract_end) + 86400)
            outside = int(
                conn.execute(
                    select(func.count()).where(
                        and_(commits.c.repo_id == repo_id, commits.c.author_id.in_(ids[pid]), or_(*bounds))
                    )
                ).scalar_one()
            )
        out[pid] = Activity(datetime.fromtimestamp(newest, UTC).date(), count[pid], outside)
    return out


def build_review(
    conn: Connection,
    charter: Charter,
    repository: str,
    *,
    today: date,
    activity: Mapping[str, Activity],
    period: str | None = None,
) -> Review:
    """The review of `repository` today: one row per person and basis of access, grouped by organisation."""
    period = period or quarter(today)
    all_grants = list_grants(conn, repository=repository)
    wants = desired(charter, [g for g in all_grants if g.status == "approved"], repository, today)
    by_org: dict[str, OrgReview] = {
        oid: OrgReview(oid, org.lead) for oid, org in sorted(charter.organisations.items()) if org.kind != "bot"
    }
    home = internal_org(charter)
    for pid, w in sorted(wants.items()):
        p = charter.people[pid]
        act = activity.get(pid)
        roles = [r for r in w.reasons if not r.startswith("grant #")]
        if w.level is not None and roles:
            comp_approver = _role_approver(charter, pid, home)
            by_org[p.org].rows.append(
                Row(
                    person=pid,
                    name=p.name,
                    org=p.org,
                    level=w.level,
                    scope=f"repository {repository}",
                    why="; ".join(roles),
                    since=p.contract_start,
                    until=p.contract_end,
                    last_activity=act.last if act else None,
                    approver=comp_approver,
                    source="charter",
                    flags=_flags(today, p.contract_end, act),
                )
            )
    for g in sorted(all_grants, key=lambda g: g.id):
        if g.status not in OPEN or g.person not in charter.people:
            continue
        p = charter.people[g.person]
        act = activity.get(g.person)
        flags = list(_flags(today, g.ends_on, act))
        if p.contract_end is not None and p.contract_end < today:
            flags.insert(0, f"contract ended on {p.contract_end}: revoke")
        if g.status == "pending":
            flags.insert(0, "pending approval")
        elif not g.active(today):
            flags.insert(0, "not yet started" if g.starts_on > today else "ended")
        by_org[p.org].rows.append(
            Row(
                person=g.person,
                name=p.name,
                org=p.org,
                level=g.level,
                scope=str(g.scope),
                why=f"grant #{g.id}: {g.reason or '(no reason given)'}",
                since=g.starts_on,
                until=g.ends_on,
                last_activity=act.last if act else None,
                approver=g.decided_by or g.approver,
                source="grant",
                flags=tuple(flags),
            )
        )
    if act_outside := {pid: a for pid, a in activity.items() if a.outside_contract}:
        for o in by_org.values():
            o.rows = [
                _with_flag(r, f"{act_outside[r.person].outside_contract} commits outside the contract window")
                if r.person in act_outside
                else r
                for r in o.rows
            ]
    for o in by_org.values():
        o.signoff = _signoff(conn, repository, o.org, period)
    outside = [
        Outside(pid, charter.people[pid].name, charter.people[pid].org, charter.people[pid].contract_start,
                charter.people[pid].contract_end, a.outside_contract, a.last)
        for pid, a in sorted(activity.items())
        if a.outside_contract and pid in charter.people
    ]  # fmt: skip
    return Review(repository, period, today, [o for o in by_org.values() if o.rows or o.signoff], outside)


def sign_review(
    store: Store,
    charter: Charter,
    repository: str,
    org: str,
    *,
    actor: audit.Actor,
    today: date,
    activity: Mapping[str, Activity],
    period: str | None = None,
    note: str = "",
) -> SignOff:
    """The lead of `org` signs off their organisation's part of the review (audited; refusals too)."""
    period = period or quarter(today)

    def run(conn: Connection) -> SignOff:
        if org not in charter.organisations:
            raise NotFoundError(f"no organisation {org!r} in the charter", field="sign")
        lead = charter.lead_of(org)
        if lead is None:
            raise UsageError(f"{org} has no lead in the charter to sign its review", field="sign")
        if actor.person != lead:
            raise PermissionDeniedError(
                f"only {lead}, lead of {org}, may sign off its access review, not {actor.person or 'an unknown actor'}",
                field="actor",
            )
        review = build_review(conn, charter, repository, today=today, activity=activity, period=period)
        part = next((o for o in review.orgs if o.org == org), None)
        rows = part.rows if part else []
        digest = part.digest if part else OrgReview(org, lead).digest
        s = SignOff(org, period, lead, int(time.time()), digest, len(rows), note)
        conn.execute(
            insert(access_signoffs).values(
                repository=repository, org=org, period=period, signed_by=lead, signed_at=s.signed_at,
                review_sha256=digest, rows=len(rows), note=note,
            )
        )  # fmt: skip
        audit.record(
            conn,
            actor=actor,
            action="access.review.signoff",
            target=f"review:{repository}:{org}:{period}",
            payload={"org": org, "period": period, "review_sha256": digest, "rows": len(rows), "note": note},
        )
        return s

    return decide(store, actor, "access.review.signoff", f"review:{repository}:{org}:{period}", {"org": org}, run)


def _signoff(conn: Connection, repository: str, org: str, period: str) -> SignOff | None:
    r = conn.execute(
        select(access_signoffs)
        .where(
            access_signoffs.c.repository == repository,
            access_signoffs.c.org == org,
            access_signoffs.c.period == period,
        )
        .order_by(access_signoffs.c.id.desc())
        .limit(1)
    ).first()
    if r is None:
        return None
    return SignOff(r.org, r.period, r.signed_by, int(r.signed_at), r.review_sha256, int(r.rows), r.note)


def _role_approver(charter: Charter, person: str, home: str | None) -> str | None:
    """For access by role: the lead of the organisation owning the first component that gives it."""
    for cid, comp in sorted(charter.components.items()):
        if person == comp.accountable or person in comp.responsible or person in comp.consulted:
            return approver_of(charter, Scope("component", cid))[0]
    return charter.lead_of(home) if home else None


def _flags(today: date, until: date | None, act: Activity | None) -> tuple[str, ...]:
    out: list[str] = []
    if until is not None and 0 <= (until - today).days <= SOON_DAYS:
        out.append(f"ends in {(until - today).days} days")
    if act is None or act.last is None:
        out.append("no activity")
    elif (today - act.last).days > UNUSED_DAYS:
        out.append(f"unused for {(today - act.last).days} days")
    return tuple(out)


def _with_flag(r: Row, flag: str) -> Row:
    return replace(r, flags=(*r.flags, flag))


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _ts(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
