"""Cross-organisation review: who else looked at each merged change before it landed.

Signals from git: Reviewed-by / Acked-by / Tested-by trailers, a committer other than the author (a
patch applied by someone else), and the committer of the merge that brought the change into the
mainline. A bot that commits or merges is no reviewer. Where the code host says which pull request
merged a change (`pulls`), its approvals replace the committer and merge signals: a change approved
by a person of another organisation is reviewed across organisations; bots and agents never review.
Only people of a known organisation and of human kind count for the cross-organisation share; AI
agents and unknown identities show in the matrix but never make a change "reviewed across
organisations".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from onebar.metrics.jsonable import Jsonable
from onebar.metrics.model import BOT, HUMAN, UNKNOWN_ORG, Contributor, History, Window


def mainline(history: History, head: int) -> list[int]:
    """The first-parent chain from `head` back to the root, oldest first."""
    chain = []
    c: int | None = head
    seen: set[int] = set()
    while c is not None and c not in seen:
        seen.add(c)
        chain.append(c)
        ps = history.parents[c]
        c = ps[0] if ps else None
    chain.reverse()
    return chain


def introduced_by(history: History, head: int) -> dict[int, int]:
    """For each commit reachable from `head`, the mainline commit that brought it in (itself if on it).

    Mainline commits are processed oldest first and each commit is visited once, so a commit
    reachable through several merges belongs to the earliest.
    """
    owner: dict[int, int] = {}
    parents = history.parents
    for m in mainline(history, head):
        owner.setdefault(m, m)
        stack = list(parents[m][1:])
        while stack:
            c = stack.pop()
            if c in owner:
                continue
            owner[c] = m
            stack.extend(p for p in parents[c] if p not in owner)
    return owner


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
    pull_request: int = 0  # approvals of the pull request that merged the change (code-host data)


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


def review_matrix(
    history: History, window: Window, head: int | None, pulls: Mapping[int, tuple[Contributor, ...]] | None = None
) -> Review:
    """Matrix author-org -> reviewer-org of merged changes in the window, and the cross-org share.

    `pulls`: the mainline commit that merged a pull request -> the people who approved it.
    """
    owner = introduced_by(history, head) if head is not None else {c: c for c in range(len(history))}
    pulls = pulls or {}
    matrix: dict[str, dict[str, int]] = {}
    counts: dict[str, list[int]] = {}  # org -> [changes, cross-org reviewed, unreviewed]
    trailer = committer = merge = pull_request = 0
    total = crossed = 0
    for c, m in owner.items():
        if history.is_merge(c) or history.committed_at[c] not in window:
            continue
        author, org = history.author[c], history.org[c]
        seen: dict[str, tuple[str, str]] = {}  # reviewer person -> (org, kind)
        for reviewer in history.reviewers.get(c, ()):
            if reviewer.key != author:
                seen.setdefault(reviewer.key, (reviewer.org, reviewer.kind))
                trailer += 1
        approved = pulls.get(m)
        if approved is not None:  # merged through a pull request: its approvals say who reviewed
            for person in approved:
                if person.key != author:
                    seen.setdefault(person.key, (person.org, person.kind))
                    pull_request += 1
        # A bot that applies or merges (GitHub's web-flow, a merge queue) reviewed nothing.
        elif history.committer[c] != author and history.committer_kind[c] != BOT:
            seen.setdefault(history.committer[c], (history.committer_org[c], history.committer_kind[c]))
            committer += 1
        if approved is None and m != c and history.committer[m] != author and history.committer_kind[m] != BOT:
            seen.setdefault(history.committer[m], (history.committer_org[m], history.committer_kind[m]))
            merge += 1
        total += 1
        row = matrix.setdefault(org, {})
        stats = counts.setdefault(org, [0, 0, 0])
        stats[0] += 1
        if not seen:
            stats[2] += 1
        for rorg in {o for o, _ in seen.values()}:
            row[rorg] = row.get(rorg, 0) + 1
        if any(o != org and o != UNKNOWN_ORG and k == HUMAN for o, k in seen.values()):
            crossed += 1
            stats[1] += 1
    return Review(
        changes=total,
        cross_org_reviewed=crossed,
        cross_org_share=round(crossed / total, 4) if total else None,
        matrix={o: dict(sorted(r.items())) for o, r in sorted(matrix.items())},
        by_org={o: ReviewStats(n, x, u, round(x / n, 4)) for o, (n, x, u) in sorted(counts.items())},
        signals=Signals(trailer, committer, merge, pull_request),
        reasons={} if total else {"cross_org_share": "no merged change in the window"},
    )
