"""Reviews from real pull/merge request reviews: who approved whose changes by organisation pair,
review latency per pair, the share of each organisation's changes approved by another, rework cycles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from onebar.metrics.flow.changes import (
    HOUR,
    NONE_MERGED,
    Change,
    approvers,
    human_reviews,
    merged_in,
    rounded,
)
from onebar.metrics.jsonable import Jsonable
from onebar.metrics.model import UNKNOWN_ORG, Window, median, quantile


@dataclass(frozen=True, slots=True)
class PairLatency(Jsonable):
    """Hours from ready for review to the first review by the reviewing organisation, per pair."""

    author_org: str
    reviewer_org: str
    reviews: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True, slots=True)
class OrgReviews(Jsonable):
    """One author organisation's merged changes: approved, approved by another organisation, reworked."""

    changes: int
    approved: int
    approved_by_other_org: int
    reworked: int  # changes with at least one rework cycle
    rework_cycles: int
    approved_by_other_org_share: float
    rework_cycles_per_change: float


@dataclass(frozen=True, slots=True)
class PullReviews(Jsonable):
    """The review matrix from the code host's reviews of the changes merged in the window."""

    source: str
    changes: int
    approved_by_other_org_share: float | None
    matrix: Mapping[str, Mapping[str, int]]  # author org -> approving org -> changes
    latency: tuple[PairLatency, ...]
    by_org: Mapping[str, OrgReviews]
    reasons: Mapping[str, str]


def review_matrix(changes: list[Change], window: Window) -> PullReviews:
    """Who approved whose changes by organisation pair, latency per pair, cross-organisation share, rework."""
    merged = merged_in(changes, window)
    matrix: dict[str, dict[str, int]] = {}
    latency: dict[tuple[str, str], list[float]] = {}
    counts: dict[str, list[int]] = {}  # org -> [changes, approved, by other org, reworked, cycles]
    for c in merged:
        a_org = c.author.org
        stats = counts.setdefault(a_org, [0, 0, 0, 0, 0])
        stats[0] += 1
        apps = approvers(c)
        stats[1] += 1 if apps else 0
        row = matrix.setdefault(a_org, {})
        for o in sorted({w.org for w in apps}):
            row[o] = row.get(o, 0) + 1
        stats[2] += 1 if any(w.org not in (a_org, UNKNOWN_ORG) for w in apps) else 0
        ready = max(c.ready_at or c.opened_at, c.opened_at)
        first_by_org: dict[str, int] = {}
        for r in human_reviews(c):
            first_by_org.setdefault(r.by.org, r.at)
        for o, at in first_by_org.items():
            latency.setdefault((a_org, o), []).append(max(at - ready, 0) / HOUR)
        cycles = rework_cycles(c)
        stats[3] += 1 if cycles else 0
        stats[4] += cycles
    total = len(merged)
    crossed = sum(s[2] for s in counts.values())
    return PullReviews(
        source="code host reviews",
        changes=total,
        approved_by_other_org_share=round(crossed / total, 4) if total else None,
        matrix={o: dict(sorted(r.items())) for o, r in sorted(matrix.items())},
        latency=tuple(
            PairLatency(a, o, len(v), rounded(median(v)), rounded(quantile(v, 0.9)))
            for (a, o), v in sorted(latency.items())
        ),
        by_org={
            o: OrgReviews(n, ap, x, rw, cy, round(x / n, 4), round(cy / n, 3))
            for o, (n, ap, x, rw, cy) in sorted(counts.items())
        },
        reasons={} if total else {"matrix": NONE_MERGED},
    )


def rework_cycles(c: Change) -> int:
    """Blocking reviews (changes requested) that the author answered: a later human review followed."""
    revs = human_reviews(c)
    return sum(1 for i, r in enumerate(revs) if r.state == "changes_requested" and i + 1 < len(revs))
