"""Seeding the demo's access grants (onebar.demo.charter.GRANTS) into a store, through the library.

Each grant is requested by its holder and approved by the lead of the organisation that owns its
scope, on the day it would have been, so the audit log tells the same story: a grant ending at a
point of the history was approved inside it (and by now has ended, or outlived its holder's
contract: `onebar access sweep` revokes it); a grant without an end runs out a week after the demo
is built (expiring soon in `onebar access list` and `review`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from onebar import audit
from onebar.access.grants import approve_grant, list_grants, request_grant
from onebar.access.model import Grant, Scope, approver_of
from onebar.charter.model import Charter
from onebar.store import Store

SOON = 7  # days


def seed_grants(
    store: Store,
    charter: Charter,
    repository: str,
    grants: Sequence[tuple[str, str, str, float | None]],
    *,
    first: date,
    last: date,
    today: date,
) -> list[Grant]:
    """Request and approve each grant of the demo; nothing when the repository already has grants."""
    with store.read() as conn:
        if list_grants(conn, repository=repository):
            return []
    out = []
    span = (last - first).days
    for person, level, scope_text, end in grants:
        kind, _, name = scope_text.partition(":")
        scope = Scope(kind, name)
        p = charter.people[person]
        if end is None:
            start, until, day = today - timedelta(days=21), today + timedelta(days=SOON), today
        else:
            until = first + timedelta(days=int(span * end))
            if p.contract_end is not None:
                until = min(until, p.contract_end)  # the history's dates round; the contract bounds them
            start = max(first, p.contract_start or first)
            day = start
        approver = approver_of(charter, scope)[0]
        g = request_grant(
            store, charter, repository, person=person, scope=scope, until=until, level=level,
            reason="demo: " + ("on-call rotation" if end is None else "feature work"), start=start,
            actor=audit.Actor(person=person, org=p.org, via="demo"), today=day,
        )  # fmt: skip
        lead_org = charter.org_of(approver) if approver else None
        by = audit.Actor(person=approver, org=lead_org, via="demo")
        out.append(approve_grant(store, charter, g.id, actor=by, today=day))
    return out
