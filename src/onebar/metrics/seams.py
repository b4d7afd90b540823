"""Seam metrics about contributors: unknown to the charter, outside their contract, bots and agents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from onebar.metrics.jsonable import TIME, Jsonable
from onebar.metrics.model import AGENT, BOT, DAY, KINDS, UNKNOWN_ORG, History, Window


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
    """Unknown contributors, commits outside contract windows, and commits per kind, in the window.

    `contracts` and `labels` are keyed by person key; a contributor without a label shows as its key.
    """
    contracts = contracts or {}
    labels = labels or {}
    at = history.authored_at
    picked = np.flatnonzero((at >= window.since) & (at < window.until))
    people = history.people
    author = history.author[picked]
    kind = history.person_kind[author]
    by_kind = {KINDS[k]: int(n) for k, n in enumerate(np.bincount(kind, minlength=len(KINDS))) if n}
    names: dict[str, set[str]] = {BOT: set(), AGENT: set()}
    for p in np.unique(author[(kind == KINDS.index(BOT)) | (kind == KINDS.index(AGENT))]).tolist():
        names[people[p].kind].add(labels.get(people[p].key, people[p].key))
    ai_coauthored = 0
    in_window = np.zeros(len(history), dtype=bool)
    in_window[picked] = True
    coauthored = np.sort(np.fromiter(history.coauthors, dtype=np.int64, count=len(history.coauthors)))
    for c in coauthored[in_window[coauthored]].tolist():
        co = history.coauthors[c]
        if any(w.kind == AGENT for w in co):
            ai_coauthored += 1
            names[AGENT].update(labels.get(w.key, w.key) for w in co if w.kind == AGENT)

    unknown_org = history.org_code(UNKNOWN_ORG)
    machine = (kind == KINDS.index(BOT)) | (kind == KINDS.index(AGENT))
    strangers = (history.person_org[author] == unknown_org) & ~machine
    unknown = [
        UnknownContributor(labels.get(key, key), n, first, last)
        for key, (n, first, last, _org) in _tallies(history, picked[strangers]).items()
    ]
    outside: list[OutsideContract] = []
    if contracts:
        days = (at[picked] + history.author_tz[picked].astype(np.int64) * 60) // DAY
        keys = [people[p].key for p in range(len(people))]
        out_of_contract = np.zeros(len(picked), dtype=bool)
        for p, key in enumerate(keys):
            contract = contracts.get(key)
            if contract is None:
                continue
            mine = author == p
            if contract.start:
                out_of_contract |= mine & (days < contract.start.toordinal() - EPOCH)
            if contract.end:
                out_of_contract |= mine & (days > contract.end.toordinal() - EPOCH)
        for key, (n, first, last, org) in _tallies(history, picked[out_of_contract]).items():
            contract = contracts[key]
            outside.append(OutsideContract(key, org, contract.start, contract.end, n, first, last))
    return Contributors(
        unknown=tuple(sorted(unknown, key=lambda r: (-r.commits, r.identity))),
        outside_contract=tuple(sorted(outside, key=lambda r: (-r.commits, r.person))),
        by_kind=dict(sorted(by_kind.items())),
        bots=tuple(sorted(names[BOT])),
        agents=tuple(sorted(names[AGENT])),
        ai_coauthored_commits=ai_coauthored,
    )


EPOCH = date(1970, 1, 1).toordinal()


def _tallies(history: History, commits: np.ndarray) -> dict[str, tuple[int, int, int, str]]:
    """Per author key: commits, first and last author time, and the organisation of the first in history order."""
    out: dict[str, tuple[int, int, int, str]] = {}
    people = history.people
    for p, t in zip(history.author[commits].tolist(), history.authored_at[commits].tolist(), strict=True):
        who = people[p]
        hit = out.get(who.key)
        out[who.key] = (1, t, t, who.org) if hit is None else (hit[0] + 1, min(hit[1], t), max(hit[2], t), hit[3])
    return out
