"""Lead time by stage: coding (first commit to opened), pickup (to the first human review), review
(to approval or merge) and deploy (merge to the first production deployment containing it), time in
draft excluded; per organisation of the author."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from onebar.metrics.flow.changes import (
    HOUR,
    NONE_MERGED,
    Change,
    human_reviews,
    merged_in,
    rounded,
)
from onebar.metrics.jsonable import Jsonable
from onebar.metrics.model import Window, median, quantile


@dataclass(frozen=True, slots=True)
class Hours(Jsonable):
    """A duration over changes: median and 90th percentile in hours, and how many changes it covers."""

    median: float | None
    p90: float | None
    changes: int

    @classmethod
    def of(cls, values: list[float]) -> Hours:
        return cls(rounded(median(values)), rounded(quantile(values, 0.9)), len(values))


@dataclass(frozen=True, slots=True)
class Stages(Jsonable):
    """Lead time of a group of merged changes, stage by stage and in total (draft time excluded)."""

    changes: int
    coding: Hours
    pickup: Hours
    review: Hours
    deploy: Hours
    total: Hours
    unreviewed: int  # no human review by anyone but the author
    undeployed: int  # not in a production deployment yet


@dataclass(frozen=True, slots=True)
class LeadTime(Jsonable):
    overall: Stages
    by_org: Mapping[str, Stages]  # organisation of the change's author
    reasons: Mapping[str, str]


STAGES = ("coding", "pickup", "review", "deploy")


def stages(c: Change) -> dict[str, float | None]:
    """The four stages of one merged change, in hours; None where a stage has no end or no start.

    coding: first commit -> opened; pickup: ready for review (opened, or left draft) -> first human
    review; review: first human review -> merge; deploy: merge -> first production deployment.
    Time in draft is in none of them.
    """
    ready = max(c.ready_at or c.opened_at, c.opened_at)
    first = next(iter(human_reviews(c)), None)
    out: dict[str, float | None] = dict.fromkeys(STAGES)
    if c.first_commit_at is not None:
        out["coding"] = max(c.opened_at - c.first_commit_at, 0) / HOUR
    if first is not None:
        out["pickup"] = max(first.at - ready, 0) / HOUR
        if c.merged_at is not None:
            out["review"] = max(c.merged_at - max(first.at, ready), 0) / HOUR
    if c.merged_at is not None and c.deployed_at is not None:
        out["deploy"] = max(c.deployed_at - c.merged_at, 0) / HOUR
    return out


def _stages_of(group: list[Change]) -> Stages:
    per: dict[str, list[float]] = {s: [] for s in STAGES}
    total = []
    for c in group:
        for s, v in stages(c).items():
            if v is not None:
                per[s].append(v)
        if c.deployed_at is not None:
            start = c.first_commit_at if c.first_commit_at is not None else c.opened_at
            total.append(max(c.deployed_at - start - c.draft_seconds, 0) / HOUR)
    return Stages(
        changes=len(group),
        coding=Hours.of(per["coding"]),
        pickup=Hours.of(per["pickup"]),
        review=Hours.of(per["review"]),
        deploy=Hours.of(per["deploy"]),
        total=Hours.of(total),
        unreviewed=sum(1 for c in group if not human_reviews(c)),
        undeployed=sum(1 for c in group if c.deployed_at is None),
    )


def lead_time(changes: list[Change], window: Window) -> LeadTime:
    """Lead time by stage, overall and per organisation of the author, over changes merged in the window."""
    merged = merged_in(changes, window)
    by_org: dict[str, list[Change]] = {}
    for c in merged:
        by_org.setdefault(c.author.org, []).append(c)
    return LeadTime(
        overall=_stages_of(merged),
        by_org={o: _stages_of(g) for o, g in sorted(by_org.items())},
        reasons={} if merged else {"lead_time": NONE_MERGED},
    )
