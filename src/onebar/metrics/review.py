"""Cross-organisation review: who else looked at each merged change before it landed.

Signals, all from git: Reviewed-by / Acked-by / Tested-by trailers, a committer other than the
author (a patch applied by someone else), and the committer of the merge that brought the change
into the mainline. A bot that commits or merges is no reviewer. Only people of a known
organisation and of human kind count for the cross-organisation share; AI agents and unknown
identities show in the matrix but never make a change "reviewed across organisations".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from onebar.metrics.jsonable import Jsonable
from onebar.metrics.model import BOT, HUMAN, KINDS, UNKNOWN_ORG, History, Window


def mainline(history: History, head: int) -> list[int]:
    """The first-parent chain from `head` back to the root, oldest first."""
    chain = []
    c: int | None = head
    seen: set[int] = set()
    while c is not None and c not in seen:
        seen.add(c)
        chain.append(c)
        first = int(history.parent1[c])
        c = first if first >= 0 else None
    chain.reverse()
    return chain


def introduced_by(history: History, head: int) -> dict[int, int]:
    """For each commit reachable from `head`, the mainline commit that brought it in (itself if on it).

    Mainline commits are processed oldest first and each commit is visited once, so a commit
    reachable through several merges belongs to the earliest. (The ingest keeps the same for the
    repository's head in `head_commits`, so a report usually reads it instead.)
    """
    owner: dict[int, int] = {}
    for m in mainline(history, head):
        owner.setdefault(m, m)
        stack = list(history.parents(m)[1:])
        while stack:
            c = stack.pop()
            if c in owner:
                continue
            owner[c] = m
            stack.extend(p for p in history.parents(c) if p not in owner)
    return owner


def merged_by(history: History, head: int | None) -> np.ndarray:
    """Per commit, the mainline commit of `head` that brought it in, -1 if `head` does not reach it.

    Without a head every commit is its own merge.
    """
    n = len(history)
    if head is None:
        return np.arange(n, dtype=np.int32)
    if history.merged_by is not None and history.merged_by_head == head:
        return history.merged_by
    out = np.full(n, -1, dtype=np.int32)
    owner = introduced_by(history, head)
    out[list(owner)] = list(owner.values())
    return out


@dataclass(frozen=True, slots=True)
class ReviewStats(Jsonable):
    """One author organisation's merged changes: how many, reviewed across organisations, not reviewed."""

    changes: int
    cross_org_reviewed: int
    unreviewed: int
    cross_org_share: float


@dataclass(frozen=True, slots=True)
class Signals(Jsonable):
    """How often each review signal was seen (a change can show several)."""

    trailer: int
    committer: int
    merge: int


@dataclass(frozen=True, slots=True)
class Review(Jsonable):
    """Cross-organisation review of the merged changes of a window."""

    changes: int
    cross_org_reviewed: int
    cross_org_share: float | None
    matrix: Mapping[str, Mapping[str, int]]  # author org -> reviewer org -> changes
    by_org: Mapping[str, ReviewStats]
    signals: Signals
    reasons: Mapping[str, str]


def review_matrix(history: History, window: Window, head: int | None) -> Review:
    """Matrix author-org -> reviewer-org of merged changes in the window, and the cross-org share."""
    owner = merged_by(history, head)
    at = history.committed_at
    picked = np.flatnonzero((owner >= 0) & ~history.merges & (at >= window.since) & (at < window.until))
    tally = _Tally()
    with_trailers = np.isin(picked, np.fromiter(history.reviewers, dtype=np.int64, count=len(history.reviewers)))
    for c in picked[with_trailers].tolist():
        tally.one(history, c, int(owner[c]))
    tally.many(history, picked[~with_trailers], owner)
    total, crossed = tally.total, sum(x[1] for x in tally.by_org.values())
    return Review(
        changes=total,
        cross_org_reviewed=crossed,
        cross_org_share=round(crossed / total, 4) if total else None,
        matrix={o: dict(sorted(r.items())) for o, r in sorted(tally.matrix.items())},
        by_org={o: ReviewStats(n, x, u, round(x / n, 4)) for o, (n, x, u) in sorted(tally.by_org.items())},
        signals=Signals(tally.trailer, tally.committer, tally.merge),
        reasons={} if total else {"cross_org_share": "no merged change in the window"},
    )


class _Tally:
    """Counts of the review matrix, by organisation name."""

    def __init__(self) -> None:
        self.matrix: dict[str, dict[str, int]] = {}  # author org -> reviewer org -> changes
        self.by_org: dict[str, list[int]] = {}  # author org -> [changes, cross-org reviewed, unreviewed]
        self.total = self.trailer = self.committer = self.merge = 0

    def _count(self, org: str, reviewer_orgs: set[str], crossed: bool, n: int = 1) -> None:
        row = self.matrix.setdefault(org, {})
        stats = self.by_org.setdefault(org, [0, 0, 0])
        stats[0] += n
        stats[1] += n if crossed else 0
        stats[2] += 0 if reviewer_orgs else n
        for rorg in reviewer_orgs:
            row[rorg] = row.get(rorg, 0) + n
        self.total += n

    def one(self, history: History, c: int, m: int) -> None:
        """A change with review trailers, signal by signal."""
        people = history.people
        author = people[int(history.author[c])]
        seen: dict[str, tuple[str, str]] = {}  # reviewer person -> (org, kind)
        for reviewer in history.reviewers.get(c, ()):
            if reviewer.key != author.key:
                seen.setdefault(reviewer.key, (reviewer.org, reviewer.kind))
                self.trailer += 1
        # A bot that applies or merges (GitHub's web-flow, a merge queue) reviewed nothing.
        committer = people[int(history.committer[c])]
        if committer.key != author.key and committer.kind != BOT:
            seen.setdefault(committer.key, (committer.org, committer.kind))
            self.committer += 1
        merger = people[int(history.committer[m])]
        if m != c and merger.key != author.key and merger.kind != BOT:
            seen.setdefault(merger.key, (merger.org, merger.kind))
            self.merge += 1
        crossed = any(o != author.org and o != UNKNOWN_ORG and k == HUMAN for o, k in seen.values())
        self._count(author.org, {o for o, _ in seen.values()}, crossed)

    def many(self, history: History, picked: np.ndarray, owner: np.ndarray) -> None:
        """Changes without review trailers, all at once: the committer and the merge are the signals."""
        if not len(picked):
            return
        key, kind, org_of = history.person_key, history.person_kind, history.person_org
        orgs = history.orgs
        unknown, bot, human = history.org_code(UNKNOWN_ORG), KINDS.index(BOT), KINDS.index(HUMAN)
        author = history.author[picked]
        org = org_of[author]
        committer = history.committer[picked]
        m = owner[picked]
        merger = history.committer[m]
        by_committer = (key[committer] != key[author]) & (kind[committer] != bot)
        by_merge = (m != picked) & (key[merger] != key[author]) & (kind[merger] != bot)
        self.committer += int(by_committer.sum())
        self.merge += int(by_merge.sum())
        # The merger adds a reviewer only when it is not the committer already counted.
        merge_new = by_merge & ~(by_committer & (key[merger] == key[committer]))
        r1, r2 = org_of[committer], org_of[merger]

        def crosses(on: np.ndarray, rorg: np.ndarray, person: np.ndarray) -> np.ndarray:
            out: np.ndarray = on & (rorg != org) & (rorg != unknown) & (kind[person] == human)
            return out

        crossed = crosses(by_committer, r1, committer) | crosses(merge_new, r2, merger)
        unreviewed = ~(by_committer | merge_new)
        k = len(orgs)
        pairs = np.concatenate([org[by_committer] * k + r1[by_committer],
                                (org * k + r2)[merge_new & ~(by_committer & (r1 == r2))]])  # fmt: skip
        cells = np.bincount(pairs, minlength=k * k).reshape(k, k)
        changes = np.bincount(org, minlength=k)
        cross = np.bincount(org[crossed], minlength=k)
        unrev = np.bincount(org[unreviewed], minlength=k)
        for o in np.flatnonzero(changes).tolist():
            row = self.matrix.setdefault(orgs[o], {})
            for r in np.flatnonzero(cells[o]).tolist():
                row[orgs[r]] = row.get(orgs[r], 0) + int(cells[o, r])
            stats = self.by_org.setdefault(orgs[o], [0, 0, 0])
            stats[0] += int(changes[o])
            stats[1] += int(cross[o])
            stats[2] += int(unrev[o])
            self.total += int(changes[o])
