"""Seam metrics about contributors: unknown to the charter, outside their contract, bots and agents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from onebar.metrics.model import AGENT, BOT, UNKNOWN_ORG, History, Window


@dataclass(frozen=True)
class Contract:
    start: date | None
    end: date | None

    def covers(self, day: date) -> bool:
        return not ((self.start and day < self.start) or (self.end and day > self.end))


def local_date(ts: int, tz_minutes: int) -> date:
    """The calendar day of `ts` where the author was (their commit's UTC offset)."""
    return (datetime.fromtimestamp(ts, UTC) + timedelta(minutes=tz_minutes)).date()


def contributors(
    history: History,
    window: Window,
    *,
    contracts: dict[str, Contract] | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Unknown contributors, commits outside contract windows, and commits per kind, in the window."""
    contracts = contracts or {}
    labels = labels or {}
    unknown: dict[str, dict[str, Any]] = {}
    outside: dict[str, dict[str, Any]] = {}
    by_kind: dict[str, int] = {}
    names: dict[str, set[str]] = {BOT: set(), AGENT: set()}
    ai_coauthored = 0
    for c in range(len(history)):
        at = history.authored_at[c]
        if at not in window:
            continue
        person, kind = history.author[c], history.kind[c]
        by_kind[kind] = by_kind.get(kind, 0) + 1
        if kind in names:
            names[kind].add(labels.get(person, person))
        co = history.coauthors.get(c, ())
        if any(k == AGENT for _, _, k in co):
            ai_coauthored += 1
            names[AGENT].update(labels.get(p, p) for p, _, k in co if k == AGENT)
        if history.org[c] == UNKNOWN_ORG and kind not in (BOT, AGENT):
            _count(unknown, person, at, {"identity": labels.get(person, person)})
        contract = contracts.get(person)
        if contract is not None:
            day = local_date(at, history.author_tz[c] if history.author_tz else 0)
            if not contract.covers(day):
                _count(
                    outside,
                    person,
                    at,
                    {
                        "person": person,
                        "org": history.org[c],
                        "contract_start": contract.start.isoformat() if contract.start else None,
                        "contract_end": contract.end.isoformat() if contract.end else None,
                    },
                )
    return {
        "unknown": sorted(unknown.values(), key=lambda r: (-r["commits"], r["identity"])),
        "outside_contract": sorted(outside.values(), key=lambda r: (-r["commits"], r["person"])),
        "by_kind": dict(sorted(by_kind.items())),
        "bots": sorted(names[BOT]),
        "agents": sorted(names[AGENT]),
        "ai_coauthored_commits": ai_coauthored,
    }


def _count(table: dict[str, dict[str, Any]], key: str, at: int, base: dict[str, Any]) -> None:
    row = table.get(key)
    if row is None:
        row = table[key] = {**base, "commits": 0, "first": at, "last": at}
    row["commits"] += 1
    row["first"] = min(row["first"], at)
    row["last"] = max(row["last"], at)
