"""Cross-organisation review: who else looked at each merged change before it landed.

Signals, all from git: review trailers (Reviewed-by, Acked-by, Tested-by, and Gerrit's
Code-Review footers), a committer other than the author (a patch applied by someone else), and who
merged the change into the mainline (the merge's committer, or its author when a robot such as
GitHub's web-flow committed it: the person who pressed the button). A robot that commits or merges
is no reviewer. Only people of a known organisation and of human kind count for the
cross-organisation share; AI agents and unknown identities show in the matrix but never make a
change "reviewed across organisations".

When robots landed a change (a merge queue, Gerrit, a squash by the code host) and git shows no
reviewer, who approved it is not in git: the change's review is *unknown*, neither reviewed nor
unreviewed, and the shares are computed over the changes whose review git shows.

Where the code host says which pull request merged a change (`pulls`, from `onebar import` or its
webhooks), the pull request's approvals replace the committer and merge signals: a change approved
by a person of another organisation is reviewed across organisations, one merged with no human
approval is unreviewed (never unknown), and bots and agents never review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from onebar.metrics.jsonable import Jsonable
from onebar.metrics.model import BOT, HUMAN, KINDS, UNKNOWN_ORG, Contributor, History, Window


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
    """One author organisation's merged changes: how many, whose review git cannot show, reviewed
    across organisations, not reviewed; the share is over the changes whose review git shows."""

    changes: int
    review_unknown: int
    cross_org_reviewed: int
    unreviewed: int
    cross_org_share: float | None


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
    review_unknown: int  # landed by robots with no reviewer in git: neither reviewed nor unreviewed
    cross_org_reviewed: int
    cross_org_share: float | None  # over the changes whose review git shows
    matrix: Mapping[str, Mapping[str, int]]  # author org -> reviewer org -> changes
    by_org: Mapping[str, ReviewStats]
    signals: Signals
    reasons: Mapping[str, str]  # why a figure is null
    notes: Mapping[str, str]  # what a reader must know about a figure that is there


def review_matrix(
    history: History, window: Window, head: int | None, pulls: Mapping[int, tuple[Contributor, ...]] | None = None
) -> Review:
    """Matrix author-org -> reviewer-org of merged changes in the window, and the cross-org share.

    Each change's reviewers are, in the order they are seen: its review trailers' people, its
    committer, whoever merged it into the mainline; each person counts once (as first seen), the
    author never, a robot never. A change with no reviewer is unreviewed, unless robots landed it
    or a code-review system links it (`Reviewed-on:`): then who reviewed it is unknown to git.
    `pulls`: the mainline commit that merged a pull request -> the people who approved it; their
    approvals stand for the committer and the merger of every change that pull request brought in.
    """
    pulls = pulls or {}
    owner = merged_by(history, head)
    at = history.committed_at
    picked = np.flatnonzero((owner >= 0) & ~history.merges & (at >= window.since) & (at < window.until))
    people = history.people
    orgs = sorted(
        {
            *history.orgs,
            *(w.org for ws in history.reviewers.values() for w in ws),
            *(w.org for ws in pulls.values() for w in ws),
        }
    )
    org_code = {o: i for i, o in enumerate(orgs)}
    key_code: dict[str, int] = {}
    # int32 throughout: a million changes make millions of rows below.
    person_key = np.array([key_code.setdefault(w.key, len(key_code)) for w in people], dtype=np.int32)
    person_org = np.array([org_code[w.org] for w in people], dtype=np.int32)
    kind = history.person_kind.astype(np.int32)
    bot, human = KINDS.index(BOT), KINDS.index(HUMAN)
    unknown = org_code.get(UNKNOWN_ORG, -1)

    author = history.author[picked]
    author_key, author_org = person_key[author], person_org[author]
    committer = history.committer[picked]
    m = owner[picked]
    # Who merged: the merge's committer, or its author when a robot committed it (a web merge).
    merge_committer, merge_author = history.committer[m], history.author[m]
    merger = np.where(kind[merge_committer] != bot, merge_committer, merge_author)
    robot_merge = (m != picked) & (kind[merger] == bot)
    by_committer = (person_key[committer] != author_key) & (kind[committer] != bot)
    by_merge = (m != picked) & ~robot_merge & (person_key[merger] != author_key)
    # Landed by a robot: merged by one, or put on the mainline by one for someone else (a squash
    # by the code host, Gerrit's cherry-pick).
    robot_landed = robot_merge | ((m == picked) & (kind[committer] == bot) & (person_key[committer] != author_key))
    pulled = np.isin(m, np.fromiter(pulls, dtype=np.int64, count=len(pulls)))  # merged by a pull request
    by_committer &= ~pulled
    by_merge &= ~pulled
    robot_landed &= ~pulled

    # One row per reviewer seen: (change position, order seen, person key, organisation, kind).
    # The trailers' reviewers of the picked changes, each distinct person object described once.
    position = np.full(len(history), -1, dtype=np.int32)
    position[picked] = np.arange(len(picked), dtype=np.int32)
    given = history.reviewers
    counts = np.fromiter(map(len, given.values()), dtype=np.int64, count=len(given))
    change_of = np.repeat(position[np.fromiter(given, dtype=np.int64, count=len(given))], counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    order_of = np.arange(len(change_of), dtype=np.int64) - starts
    distinct: dict[int, int] = {}  # id() of a Contributor (all alive in `history`) -> index in `described`
    described: list[tuple[int, int, int, bool]] = []  # (person key code, organisation, kind, robot)
    seen_who: list[int] = []
    for reviewers in given.values():
        for w in reviewers:
            k = distinct.get(id(w))
            if k is None:
                k = distinct[id(w)] = len(described)
                code = key_code.setdefault(w.key, len(key_code))
                described.append((code, org_code[w.org], KINDS.index(w.kind), w.kind == BOT))
            seen_who.append(k)
    facts = np.array(described, dtype=np.int32).reshape(-1, 4)[np.array(seen_who, dtype=np.int32)]
    del seen_who
    inside = change_of >= 0
    change_of, order_of, facts = change_of[inside], order_of[inside], facts[inside]
    keep = (facts[:, 0] != author_key[change_of]) & (facts[:, 3] == 0)
    columns = [change_of.astype(np.int32), order_of.astype(np.int32), facts[:, 0], facts[:, 1], facts[:, 2]]
    trailer_table = np.stack(columns, 1)[keep]
    del position, starts, change_of, order_of, facts, columns, keep  # a million changes: free as we go
    rows: list[tuple[int, int, int, int, int]] = []
    trailer_rows = len(trailer_table)
    for i in np.flatnonzero(pulled).tolist():
        for w in pulls[int(m[i])]:
            code = key_code.setdefault(w.key, len(key_code))
            if code != author_key[i] and w.kind != BOT:
                rows.append((i, 1 << 29, code, org_code[w.org], KINDS.index(w.kind)))
    pull_rows = len(rows)
    n = len(picked)
    parts = [trailer_table, np.array(rows, dtype=np.int32).reshape(-1, 5)]
    late = 1 << 30  # the committer and the merger come after any trailer
    for on, who, seq in ((by_committer, committer, late), (by_merge, merger, late + 1)):
        idx = np.flatnonzero(on).astype(np.int32)
        seen = who[idx]
        parts.append(
            np.stack([idx, np.full(len(idx), seq, dtype=np.int32), person_key[seen], person_org[seen], kind[seen]], 1)
        )
    table = np.concatenate(parts)
    del parts, trailer_table
    # Each person once per change, as first seen.
    table = table[np.lexsort((table[:, 1], table[:, 2], table[:, 0]))]
    first = np.ones(len(table), dtype=bool)
    first[1:] = (table[1:, 0] != table[:-1, 0]) | (table[1:, 2] != table[:-1, 2])
    table = table[first]
    change, rorg, rkind = table[:, 0], table[:, 3], table[:, 4]
    k = len(orgs)
    crossing = (rorg != author_org[change]) & (rorg != unknown) & (rkind == human)
    crossed = np.zeros(n, dtype=bool)
    crossed[change[crossing]] = True
    reviewed = np.zeros(n, dtype=bool)
    reviewed[change] = True
    linked = np.isin(picked, np.fromiter(history.review_links, dtype=np.int64, count=len(history.review_links)))
    hidden = ~reviewed & (robot_landed | linked)
    pairs = np.unique(change.astype(np.int64) * k + rorg)  # each reviewing organisation once per change
    cells = np.bincount(author_org[pairs // k] * k + pairs % k, minlength=k * k).reshape(k, k)

    def per_org(mask: np.ndarray) -> list[int]:
        out: list[int] = np.bincount(author_org[mask], minlength=k).tolist()
        return out

    changes, cross, hid = per_org(np.ones(n, dtype=bool)), per_org(crossed), per_org(hidden)
    unrev = per_org(~reviewed & ~hidden)
    active = [o for o in range(k) if changes[o]]
    total, crossed_total, unknown_total = n, int(crossed.sum()), int(hidden.sum())
    visible = total - unknown_total
    reasons: dict[str, str] = {}
    notes: dict[str, str] = {}
    if not total:
        reasons["cross_org_share"] = "no merged change in the window"
    elif not visible:
        reasons["cross_org_share"] = "git shows the review of no merged change in the window (see review_unknown)"
    if unknown_total:
        notes["review_unknown"] = (
            f"git does not show who reviewed {unknown_total} of {total} merged changes: robots (a merge queue, "
            "Gerrit, the code host's merge button) landed them without a review trailer. They count neither as "
            "reviewed nor as unreviewed; the cross-organisation share is over the other "
            f"{visible}. The code host knows who approved them: onebar import github|gitlab (docs/codehost.md)."
        )
    return Review(
        changes=total,
        review_unknown=unknown_total,
        cross_org_reviewed=crossed_total,
        cross_org_share=round(crossed_total / visible, 4) if visible else None,
        matrix={orgs[o]: {orgs[r]: int(cells[o, r]) for r in np.flatnonzero(cells[o]).tolist()} for o in active},
        by_org={
            orgs[o]: ReviewStats(
                changes[o],
                hid[o],
                cross[o],
                unrev[o],
                round(cross[o] / (changes[o] - hid[o]), 4) if changes[o] > hid[o] else None,
            )
            for o in active
        },
        signals=Signals(trailer_rows, int(by_committer.sum()), int(by_merge.sum()), pull_rows),
        reasons=reasons,
        notes=notes,
    )
