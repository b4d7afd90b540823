"""The expiry sweep, run by the service as a scheduled job (and by `onebar access sweep`).

No grant outlives a contract: the sweep compares every open grant with the charter as it is
now, so a contract end moved earlier after the grant was approved shortens the grant, or
revokes it once that day has passed. Grants past their end expire; grants about to end are
warned about once. Every change is audited, with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import update

from onebar import audit
from onebar.access.grants import end_grant, list_grants
from onebar.access.model import OPEN, Grant
from onebar.charter.model import Charter
from onebar.store import Store
from onebar.store.schema_access import grants

WARN_DAYS = 14
_REVOKE = "access.grant.revoke"


@dataclass
class SweepResult:
    """What one sweep changed; `warnings` are the grants ending within the warning window."""

    expired: list[Grant] = field(default_factory=list)
    revoked: list[Grant] = field(default_factory=list)
    curtailed: list[tuple[Grant, date]] = field(default_factory=list)  # (grant as now, its former end)
    warnings: list[Grant] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return len(self.expired) + len(self.revoked) + len(self.curtailed)

    def to_dict(self, today: date) -> dict[str, Any]:
        return {
            "expired": [g.to_dict(today) for g in self.expired],
            "revoked": [g.to_dict(today) for g in self.revoked],
            "curtailed": [{**g.to_dict(today), "former_end": old.isoformat()} for g, old in self.curtailed],
            "warnings": [g.to_dict(today) for g in self.warnings],
        }


def sweep(
    store: Store,
    charter: Charter,
    repository: str,
    *,
    today: date,
    warn_days: int = WARN_DAYS,
    actor: audit.Actor | None = None,
) -> SweepResult:
    """Expire, revoke, shorten and warn, in one transaction for `repository`'s grants."""
    who = actor or audit.Actor.system("job")
    out = SweepResult()
    with store.write() as conn:
        for g in sorted(list_grants(conn, repository=repository, statuses=OPEN), key=lambda g: g.id):
            person = charter.people.get(g.person)
            end = person.contract_end if person else None
            if person is None:
                out.revoked.append(
                    end_grant(conn, g, "revoked", who, f"{g.person} is no longer in the charter", action=_REVOKE)
                )
            elif end is not None and end < today:
                out.revoked.append(
                    end_grant(conn, g, "revoked", who, f"{g.person}'s contract ended on {end}", action=_REVOKE)
                )
            elif g.ends_on < today:
                why = f"ended on {g.ends_on}" if g.status == "approved" else f"request lapsed on {g.ends_on}"
                out.expired.append(end_grant(conn, g, "expired", who, why, action="access.grant.expire"))
            else:
                if end is not None and end < g.ends_on:
                    conn.execute(update(grants).where(grants.c.id == g.id).values(ends_on=end.isoformat()))
                    shorter = replace(g, ends_on=end)
                    audit.record(
                        conn,
                        actor=who,
                        action="access.grant.curtail",
                        target=f"grant:{g.id}",
                        payload={
                            **shorter.to_dict(),
                            "former_end": g.ends_on.isoformat(),
                            "why": f"{g.person}'s contract now ends on {end}",
                        },
                    )
                    out.curtailed.append((shorter, g.ends_on))
                    g = shorter
                if g.status == "approved" and g.days_left(today) <= warn_days and g.warned_at is None:
                    now = int(time.time())
                    conn.execute(update(grants).where(grants.c.id == g.id).values(warned_at=now))
                    audit.record(
                        conn,
                        actor=who,
                        action="access.grant.warn",
                        target=f"grant:{g.id}",
                        payload={"person": g.person, "ends_on": g.ends_on.isoformat(), "days_left": g.days_left(today)},
                    )
                    out.warnings.append(replace(g, warned_at=now))
    return out


def expiring(store: Store, repository: str, *, today: date, within: int = WARN_DAYS) -> list[Grant]:
    """Approved grants that end within `within` days (warned about or not), soonest first."""
    with store.read() as conn:
        found = [
            g
            for g in list_grants(conn, repository=repository, statuses=("approved",))
            if 0 <= g.days_left(today) <= within
        ]
    return sorted(found, key=lambda g: g.ends_on)
