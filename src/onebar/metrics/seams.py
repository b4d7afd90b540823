"""Seam metrics about contributors: unknown to the charter, outside their contract, bots and agents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from onebar.metrics.jsonable import TIME, Jsonable
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


@dataclass(frozen=True, slots=True)
class UnknownContributor(Jsonable):
    """An identity the charter does not know, with its commits in the window."""

    identity: str
    commits: int
    first: int = field(metadata=TIME)
    last: int = field(metadata=TIME)


@dataclass(frozen=True, slots=True)
class OutsideContract(Jsonable):
    """A person's commits in the window made outside their contract."""

    person: str
    org: str
    contract_start: date | None
    contract_end: date | None
    commits: int
    first: int = field(metadata=TIME)
    last: int = field(metadata=TIME)


@dataclass(frozen=True, slots=True)
class Contributors(Jsonable):
    """Who committed in the window, as the charter sees them."""

    unknown: tuple[UnknownContributor, ...]
    outside_contract: tuple[OutsideContract, ...]
    by_kind: Mapping[str, int]  # commits per kind of author
    bots: tuple[str, ...]
    agents: tuple[str, ...]
    ai_coauthored_commits: int


def contributors(
    history: History,
    window: Window,
    *,
    contracts: Mapping[str, Contract] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Contributors:
    """Unknown contributors, commits outside contract windows, and commits per kind, in the window."""
    contracts = contracts or {}
    labels = labels or {}
    unknown: dict[str, _Tally] = {}
    outside: dict[str, _Tally] = {}
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
        if any(w.kind == AGENT for w in co):
            ai_coauthored += 1
            names[AGENT].update(labels.get(w.key, w.key) for w in co if w.kind == AGENT)
        if history.org[c] == UNKNOWN_ORG and kind not in (BOT, AGENT):
            unknown.setdefault(person, _Tally(org=history.org[c])).add(at)
        contract = contracts.get(person)
        if contract is not None:
            day = local_date(at, history.author_tz[c] if history.author_tz else 0)
            if not contract.covers(day):
                outside.setdefault(person, _Tally(org=history.org[c])).add(at)
    unknown_rows = [UnknownContributor(labels.get(p, p), t.commits, t.first, t.last) for p, t in unknown.items()]
    outside_rows = [
        OutsideContract(p, t.org, contracts[p].start, contracts[p].end, t.commits, t.first, t.last)
        for p, t in outside.items()
    ]
    return Contributors(
        unknown=tuple(sorted(unknown_rows, key=lambda r: (-r.commits, r.identity))),
        outside_contract=tuple(sorted(outside_rows, key=lambda r: (-r.commits, r.person))),
        by_kind=dict(sorted(by_kind.items())),
        bots=tuple(sorted(names[BOT])),
        agents=tuple(sorted(names[AGENT])),
        ai_coauthored_commits=ai_coauthored,
    )


@dataclass
class _Tally:
    """Commits of one contributor and the first and last of them (the org of their first commit)."""

    org: str
    commits: int = 0
    first: int = 2**62
    last: int = -(2**62)

    def add(self, at: int) -> None:
        self.commits += 1
        self.first = min(self.first, at)
        self.last = max(self.last, at)
