"""DORA's keys over any window, overall and per organisation, each change counting for its own author's organisation.

`figures` gives the keys of one window, `trend` the keys per week, month or quarter and whether
they improve, `section` the report's whole delivery section. All of them read the `Shipped` table
of `onebar.metrics.dora`, built once per report, so a window costs a slice of it.
docs/metrics.md states every definition and edge case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from onebar.metrics import tiers as tiers_mod
from onebar.metrics.dora import HOUR, Judged, Linked, Shipped
from onebar.metrics.jsonable import TIME, Jsonable
from onebar.metrics.model import History, Window, median, quantile


@dataclass(frozen=True, slots=True)
class LeadTime(Jsonable):
    median: float | None
    p90: float | None
    changes: int


@dataclass(frozen=True, slots=True)
class Restore(Jsonable):
    """Time to restore: the median over restored failures, and how many are still open."""

    median: float | None
    restored: int
    open: int
    source: str  # "incidents" or "git"


@dataclass(frozen=True, slots=True)
class KeyTiers(Jsonable):
    """Each key's DORA tier (None when the key could not be measured)."""

    deployment_frequency_per_week: str | None
    lead_time_hours: str | None
    change_failure_rate: str | None
    time_to_restore_hours: str | None

    def values(self) -> list[str | None]:
        """The four tiers, best key first as DORA lists them."""
        return [
            self.deployment_frequency_per_week,
            self.lead_time_hours,
            self.change_failure_rate,
            self.time_to_restore_hours,
        ]


@dataclass(frozen=True, slots=True)
class Figures(Jsonable):
    """DORA's keys over one window, for everyone or for one organisation's changes.

    One definition in every row: the change failure rate is failed deployments over deployments,
    where for an organisation both count only the deployments that shipped its changes, and a
    failure only when one of its changes caused it (or when nothing names the cause). The share of
    changes later reverted or fixed is a second figure with its own name.
    """

    deployments: int
    changes: int
    deployment_frequency_per_week: float | None
    median_interval_hours: float | None
    lead_time_hours: LeadTime
    failed_deployments: int
    change_failure_rate: float | None
    time_to_restore_hours: Restore
    failed_changes: int  # changes later reverted or fixed
    failed_change_share: float | None  # failed_changes / changes
    rework_deployments: int
    deployment_rework_rate: float | None
    tiers: KeyTiers
    tier: str | None
    reasons: Mapping[str, str]


def figures(
    history: History,
    linked: Linked,
    judged: Judged,
    window: Window,
    *,
    org: str | None = None,
    year: int = tiers_mod.DEFAULT_YEAR,
) -> Figures:
    """The keys over `window`, overall (org=None) or for one organisation's changes."""
    return _figures(Shipped(history, linked, judged), window, org, year)


def _figures(shipped: Shipped, window: Window, org: str | None, year: int) -> Figures:
    linked, judged = shipped.linked, shipped.judged
    at = linked.at
    lo, hi = (int(x) for x in np.searchsorted(at, [window.since, window.until]))
    reasons: dict[str, str] = {}
    if org is None:
        pos: slice | np.ndarray = shipped.span(lo, hi)
        dep_idx: np.ndarray = np.arange(lo, hi)  # every deployment counts, even one that shipped nothing new
        hit, hours = shipped.dep_failed[lo:hi], shipped.dep_restore[lo:hi]
    else:
        code = shipped.history.org_code(org)
        pos = shipped.org_span(code, lo, hi)
        dep_idx = _distinct(shipped.deployment[pos])  # those that shipped one of its changes
        failed_for, restore_for = shipped.failed_for_org(code)
        hit, hours = failed_for[dep_idx], restore_for[dep_idx]
    failed = int(hit.sum())
    hit_hours = hours[hit]
    known = ~np.isnan(hit_hours)
    restore: list[float] = hit_hours[known].tolist()
    open_failures = int(len(hit_hours) - known.sum())
    leads = shipped.lead[pos]
    changes = len(leads)
    failed_changes = int(shipped.failed[pos].sum())
    lead = leads[leads >= 0]  # a negative lead time is clock skew; it is left out, as Four Keys does
    n = len(dep_idx)
    frequency: float | None = round(n / window.weeks, 3)
    intervals = np.diff(at[dep_idx]) / HOUR
    if len(intervals) == 0:
        reasons["median_interval_hours"] = "fewer than two deployments in the window"
    lead_time = LeadTime(_r(quantile(lead, 0.5)), _r(quantile(lead, 0.9)), len(lead))
    if not len(lead):
        reasons["lead_time_hours"] = "no change reached a deployment in the window"
    cfr = _r(failed / n, 4) if n else None
    if not n:
        reasons["change_failure_rate"] = (
            "no deployments in the window" if org is None else f"no change by {org} reached a deployment in the window"
        )

    ttr_source = "git"
    if judged.incidents:
        ttr_source = "incidents"
        restore, open_failures = [], 0
        wanted = set(dep_idx.tolist())
        for inc, d in judged.incidents:
            if inc.started_at not in window or (org is not None and d not in wanted):
                continue
            if inc.resolved_at is None or inc.resolved_at > judged.as_of:
                open_failures += 1
            else:
                restore.append(max(inc.resolved_at - inc.started_at, 0) / HOUR)
    ttr = Restore(_r(median(restore)), len(restore), open_failures, ttr_source)
    if not restore:
        reasons["time_to_restore_hours"] = (
            "no failure was restored in the window" if open_failures else "no failure in the window to restore from"
        )
    share = _r(failed_changes / changes, 4) if changes else None
    if not changes:
        reasons["failed_change_share"] = "no change reached a deployment in the window"
    rework = int(shipped.dep_rework[dep_idx].sum())
    rework_rate = _r(rework / n, 4) if n else None
    if not n:
        reasons["deployment_rework_rate"] = "no deployments in the window"
    if not linked.deployments:
        frequency = None
        reasons["deployment_frequency_per_week"] = (
            "no deployments found: no tag matches the charter's tag pattern and none was recorded"
        )
    key_tiers = KeyTiers(
        tiers_mod.tier_of("deployment_frequency_per_week", frequency, year),
        tiers_mod.tier_of("lead_time_hours", lead_time.median, year),
        tiers_mod.tier_of("change_failure_rate", cfr, year),
        tiers_mod.tier_of("time_to_restore_hours", ttr.median, year),
    )
    tier = tiers_mod.overall_tier(key_tiers.values()) if n else None
    if not n:
        reasons["tier"] = "no deployments in the window"
    return Figures(
        deployments=n,
        changes=changes,
        deployment_frequency_per_week=frequency,
        median_interval_hours=_r(median(intervals)),
        lead_time_hours=lead_time,
        failed_deployments=failed,
        change_failure_rate=cfr,
        time_to_restore_hours=ttr,
        failed_changes=failed_changes,
        failed_change_share=share,
        rework_deployments=rework,
        deployment_rework_rate=rework_rate,
        tiers=key_tiers,
        tier=tier,
        reasons=reasons,
    )


def _distinct(ascending: np.ndarray) -> np.ndarray:
    """The distinct values of an ascending array (np.unique without its sort)."""
    if not len(ascending):
        return ascending
    keep = np.empty(len(ascending), dtype=bool)
    keep[0] = True
    np.not_equal(ascending[1:], ascending[:-1], out=keep[1:])
    out: np.ndarray = ascending[keep]
    return out


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


TREND_KEYS = {  # key -> +1 when higher is better, -1 when lower is better
    "deployment_frequency_per_week": 1,
    "lead_time_hours": -1,
    "change_failure_rate": -1,
}


@dataclass(frozen=True, slots=True)
class TrendPoint(Jsonable):
    """The keys over one bucket of the window (a week, a month or a quarter)."""

    since: int = field(metadata=TIME)
    until: int = field(metadata=TIME)
    deployments: int
    deployment_frequency_per_week: float | None
    lead_time_hours: float | None  # median
    change_failure_rate: float | None


@dataclass(frozen=True, slots=True)
class Direction(Jsonable):
    """Per key, the window's second half against its first: improving, worsening, steady or None."""

    deployment_frequency_per_week: str | None
    lead_time_hours: str | None
    change_failure_rate: str | None


@dataclass(frozen=True, slots=True)
class Trend(Jsonable):
    series: tuple[TrendPoint, ...]
    direction: Direction


def buckets(window: Window) -> list[Window]:
    """Split the window into weeks (up to 4 months), months (up to 3 years) or quarters."""
    days = (window.until - window.since) / 86400
    step = (7 if days <= 120 else 30 if days <= 1100 else 91) * 86400
    out = []
    t = window.since
    while t < window.until:
        out.append(Window(t, min(t + step, window.until)))
        t += step
    return out


def trend(
    history: History,
    linked: Linked,
    judged: Judged,
    window: Window,
    org: str | None = None,
    year: int = tiers_mod.DEFAULT_YEAR,
) -> Trend:
    """Per bucket figures plus, per key, whether the window's second half beats its first."""
    return _trend(Shipped(history, linked, judged), window, org, year)


def _trend(shipped: Shipped, window: Window, org: str | None, year: int) -> Trend:
    series = []
    for b in buckets(window):
        f = _figures(shipped, b, org, year)
        series.append(
            TrendPoint(
                b.since,
                b.until,
                f.deployments,
                f.deployment_frequency_per_week,
                f.lead_time_hours.median,
                f.change_failure_rate,
            )
        )
    mid = window.since + (window.until - window.since) // 2
    first = _figures(shipped, Window(window.since, mid), org, year)
    second = _figures(shipped, Window(mid, window.until), org, year)
    sign = TREND_KEYS
    return Trend(
        tuple(series),
        Direction(
            _direction(
                first.deployment_frequency_per_week,
                second.deployment_frequency_per_week,
                sign["deployment_frequency_per_week"],
            ),
            _direction(first.lead_time_hours.median, second.lead_time_hours.median, sign["lead_time_hours"]),
            _direction(first.change_failure_rate, second.change_failure_rate, sign["change_failure_rate"]),
        ),
    )


def _direction(a: float | None, b: float | None, sign: int) -> str | None:
    """'improving', 'worsening' or 'steady' (within 10%); None when either half has no value."""
    if a is None or b is None:
        return None
    if abs(b - a) <= 0.1 * max(abs(a), abs(b), 1e-9):
        return "steady"
    return "improving" if (b - a) * sign > 0 else "worsening"


@dataclass(frozen=True, slots=True)
class DeploymentOutcome(Jsonable):
    """One deployment in the window: what it shipped first, and whether it failed or was rework."""

    name: str
    sha: str | None
    at: int = field(metadata=TIME)
    source: str
    changes: int
    changes_by_org: Mapping[str, int]
    failed: bool
    rework: bool
    restore_hours: float | None


@dataclass(frozen=True, slots=True)
class Trends(Jsonable):
    overall: Trend
    by_org: Mapping[str, Trend]


@dataclass(frozen=True, slots=True)
class Dora(Jsonable):
    """The delivery section: the keys overall and per organisation, their trends, the deployments."""

    overall: Figures
    by_org: Mapping[str, Figures]
    trend: Trends
    deployments: tuple[DeploymentOutcome, ...]
    time_to_restore_source: str
    attribution: str


ATTRIBUTION = "per change: each commit counts for its own author's organisation"


def section(
    history: History,
    linked: Linked,
    judged: Judged,
    window: Window,
    orgs: list[str],
    *,
    trend_orgs: int,
    incidents_recorded: bool,
    year: int = tiers_mod.DEFAULT_YEAR,
) -> Dora:
    """The delivery section over `window` for `orgs` (most active first); trends for the first `trend_orgs`.

    `incidents_recorded` says whether the repository has any incident at all, which makes incidents
    the source of time to restore.
    """
    shipped = Shipped(history, linked, judged)
    overall = _figures(shipped, window, None, year)
    by_org = {o: _figures(shipped, window, o, year) for o in orgs}
    trends = Trends(
        _trend(shipped, window, None, year),
        {o: _trend(shipped, window, o, year) for o in orgs[:trend_orgs]},
    )
    deployments = []
    lo, hi = (int(x) for x in np.searchsorted(linked.at, [window.since, window.until]))
    by_org_of = shipped.orgs_by_deployment(lo, hi)
    for d in range(lo, hi):
        dep = linked.deployments[d]
        deployments.append(
            DeploymentOutcome(
                name=dep.name,
                sha=history.sha[dep.commit] if dep.commit >= 0 else None,
                at=dep.at,
                source=dep.source,
                changes=len(linked.shipped[d]),
                changes_by_org=by_org_of[d - lo],
                failed=judged.dep_failed[d],
                rework=judged.dep_rework[d],
                restore_hours=judged.dep_restore_hours[d],
            )
        )
    return Dora(
        overall,
        by_org,
        trends,
        tuple(deployments),
        "incidents" if incidents_recorded else "git",
        ATTRIBUTION,
    )
