"""DORA's keys, overall and per organisation, attributing each change to its own author's organisation.

The pipeline is `link` (each change to the earliest deployment containing it), `judge` (which
changes and deployments failed, which were rework, when service was restored) and `figures` (the
keys over any window). `link` and `judge` run once; `figures` is cheap, so trends call it per bucket.
docs/metrics.md states every definition and edge case.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field

from onebar.metrics import tiers as tiers_mod
from onebar.metrics.jsonable import OMIT_NONE, TIME, Jsonable
from onebar.metrics.model import Deployment, History, Incident, Window, median, quantile

HOUR = 3600


@dataclass
class Linked:
    """Changes linked to deployments. A change is a non-merge commit together with its cherry-picks."""

    deployments: list[Deployment]  # sorted by time, then name
    at: list[int]  # deployments' times, for bisecting
    deployment_of: list[int]  # commit -> index of the earliest deployment containing it, -1 if none yet
    change_of: dict[int, int]  # non-merge commit -> representative commit of its change (patch group)
    change_deployment: dict[int, int]  # representative -> earliest deployment of any of its copies
    shipped: list[list[int]]  # deployment -> the changes it ships first
    shipped_by_org: list[dict[str, list[int]]]  # deployment -> organisation -> its changes shipped there


def link(history: History, deployments: list[Deployment]) -> Linked:
    """Walk deployments in time order and mark the commits each one newly reaches (each commit once)."""
    deps = sorted(deployments, key=lambda d: (d.at, d.name))
    n = len(history)
    owner = [-1] * n
    parents = history.parents
    for d, dep in enumerate(deps):
        if dep.commit < 0 or owner[dep.commit] != -1:
            continue
        stack = [dep.commit]
        while stack:
            c = stack.pop()
            if owner[c] != -1:
                continue
            owner[c] = d
            stack.extend(p for p in parents[c] if owner[p] == -1)
    # Cherry-picks and back-ports share a patch id: the change ships with the earliest copy.
    change_of: dict[int, int] = {}
    rep_of_patch: dict[int, int] = {}
    change_dep: dict[int, int] = {}
    pid = history.patch_id
    for c in range(n):
        if len(parents[c]) > 1:
            continue
        rep = rep_of_patch.setdefault(pid[c], c)
        change_of[c] = rep
        d = owner[c]
        if d != -1 and (change_dep.get(rep, -1) == -1 or d < change_dep[rep]):
            change_dep[rep] = d
        else:
            change_dep.setdefault(rep, -1)
    shipped: list[list[int]] = [[] for _ in deps]
    by_org: list[dict[str, list[int]]] = [{} for _ in deps]
    org = history.org
    for rep, d in change_dep.items():
        if d != -1:
            shipped[d].append(rep)
            by_org[d].setdefault(org[rep], []).append(rep)
    return Linked(deps, [d.at for d in deps], owner, change_of, change_dep, shipped, by_org)


@dataclass
class Judged:
    """Failures, rework and restoration, as known at `as_of`."""

    as_of: int
    fixers: dict[int, list[int]]  # failed change -> commits that revert or fix it (before as_of)
    dep_failed: list[bool]
    dep_rework: list[bool]
    dep_restore_hours: list[float | None]  # per failed deployment, None while not restored
    change_restore_hours: dict[int, float | None]  # per failed change
    rework_changes: set[int]
    incidents: list[tuple[Incident, int]] = field(default_factory=list)  # (incident, deployment or -1)


def judge(
    history: History,
    linked: Linked,
    incidents: list[Incident],
    as_of: int,
    hotfix: re.Pattern[str] | None = None,
) -> Judged:
    deps, at = linked.deployments, linked.at
    change_of, change_dep = linked.change_of, linked.change_deployment
    # Which changes were reverted or fixed by a commit that existed at as_of.
    fixers: dict[int, list[int]] = {}
    rework: set[int] = set()
    hotfix_deps: set[int] = set()  # deployments shipping a commit (merges too) whose subject says hotfix
    for f in range(len(history)):
        if history.committed_at[f] >= as_of:
            continue
        targets = list(history.fixes.get(f, ()))
        if history.reverts[f] >= 0:
            targets.append(history.reverts[f])
        own = change_of.get(f)
        expanded: list[int] = []
        for t in targets:
            # Reverting a merge (GitHub's "Revert" on a merged pull request) reverts its branch.
            expanded.extend(merged_changes(history, linked, t) if len(history.parents[t]) > 1 else (t,))
        for t in expanded:
            rep = change_of.get(t)
            if rep is None or rep == own:
                continue
            shipped_with = linked.deployment_of[f]
            if shipped_with != -1 and shipped_with == change_dep.get(rep, -1):
                continue  # reverted or fixed before it ever shipped: no failure reached production
            fixers.setdefault(rep, []).append(f)
            if own is not None:
                rework.add(own)
        if hotfix is not None and hotfix.search(history.subject[f]):
            if own is not None:
                rework.add(own)
            # A hotfix commit marks the deployment that first shipped it. A merge of a hotfix
            # branch marks the deployment that first shipped the branch's tip, which is usually a
            # tag on that branch before the merge back into the mainline.
            shipped_by = history.parents[f][1:] if own is None else (f,)
            hotfix_deps.update(d for d in (linked.deployment_of[c] for c in shipped_by) if d != -1)

    nd = len(deps)
    live = [d.at < as_of for d in deps]
    hotfix_dep = [live[d] and (deps[d].hotfix or d in hotfix_deps) for d in range(nd)]
    # An unplanned deployment: a hotfix, or one that ships nothing but reverts and fixes.
    dep_rework = [hotfix_dep[d] or (live[d] and _all_rework(linked, d, rework)) for d in range(nd)]

    change_restore: dict[int, float | None] = {}
    for rep, fs in fixers.items():
        d = change_dep.get(rep, -1)
        if d == -1:
            continue
        shipped_at = [at[e] for e in (linked.deployment_of[f] for f in fs) if e != -1 and live[e] and e >= d]
        change_restore[rep] = (min(shipped_at) - at[d]) / HOUR if shipped_at else None

    dep_failed = [False] * nd
    restore: list[float | None] = [None] * nd
    for d in range(nd):
        if not live[d]:
            continue
        candidates: list[float | None] = [change_restore[c] for c in linked.shipped[d] if c in change_restore]
        nxt = _next_live(deps, d, live)
        if nxt is not None and hotfix_dep[nxt]:
            candidates.append((at[nxt] - at[d]) / HOUR)
        if candidates:
            dep_failed[d] = True
            known = [c for c in candidates if c is not None]
            restore[d] = min(known) if known else None

    attributed: list[tuple[Incident, int]] = []
    for inc in incidents:
        if inc.started_at >= as_of:
            continue
        d = _incident_deployment(inc, deps, at)
        attributed.append((inc, d))
        if d >= 0 and live[d]:
            dep_failed[d] = True
    return Judged(as_of, fixers, dep_failed, dep_rework, restore, change_restore, rework, attributed)


def merged_changes(history: History, linked: Linked, merge: int) -> list[int]:
    """The commits a merge brought in that ship with it: reachable from its other parents, not its first.

    Both walks stay inside the merge's own deployment, so each costs at most that deployment's size.
    """
    d = linked.deployment_of[merge]
    if d == -1:
        return []
    owner, parents = linked.deployment_of, history.parents

    def reach(starts: tuple[int, ...]) -> set[int]:
        seen: set[int] = set()
        stack = [c for c in starts if owner[c] == d]
        while stack:
            c = stack.pop()
            if c in seen:
                continue
            seen.add(c)
            stack.extend(p for p in parents[c] if owner[p] == d and p not in seen)
        return seen

    first = parents[merge][:1]
    return sorted(reach(parents[merge][1:]) - reach(first))


def _all_rework(linked: Linked, d: int, rework: set[int]) -> bool:
    changes = linked.shipped[d]
    return bool(changes) and all(c in rework for c in changes)


def _next_live(deps: list[Deployment], d: int, live: list[bool]) -> int | None:
    env = deps[d].environment
    for e in range(d + 1, len(deps)):
        if live[e] and deps[e].environment == env:
            return e
    return None


def _incident_deployment(inc: Incident, deps: list[Deployment], at: list[int]) -> int:
    """The named deployment, else the latest one before the incident started (DevLake's rule)."""
    if inc.deployment_ref:
        ref = inc.deployment_ref
        for d in range(len(deps) - 1, -1, -1):
            if deps[d].name == ref:
                return d
    i = bisect_left(at, inc.started_at + 1) - 1
    return i if i >= 0 else -1


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
    """DORA's keys over one window, for everyone or for one organisation's changes."""

    deployments: int
    changes: int
    deployment_frequency_per_week: float | None
    median_interval_hours: float | None
    lead_time_hours: LeadTime
    failed_deployments: int | None = field(metadata=OMIT_NONE)  # overall only
    failed_changes: int | None = field(metadata=OMIT_NONE)  # per organisation only
    change_failure_rate: float | None
    time_to_restore_hours: Restore
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
    deps, at = linked.deployments, linked.at
    lo, hi = bisect_left(at, window.since), bisect_left(at, window.until)
    reasons: dict[str, str] = {}
    dep_idx: list[int] = []
    lead: list[float] = []
    changes = failed_changes = 0
    restore: list[float] = []
    open_failures = 0
    for d in range(lo, hi):
        mine = linked.shipped[d] if org is None else linked.shipped_by_org[d].get(org)
        if mine is None:
            continue
        dep_idx.append(d)
        for c in mine:
            changes += 1
            hours = (at[d] - history.authored_at[c]) / HOUR
            if hours >= 0:  # a negative lead time is clock skew; it is left out, as Four Keys does
                lead.append(hours)
            if org is not None and c in judged.fixers:
                failed_changes += 1
                r = judged.change_restore_hours.get(c)
                if r is None:
                    open_failures += 1
                else:
                    restore.append(r)
    n = len(dep_idx)
    frequency: float | None = round(n / window.weeks, 3)
    intervals = [(at[b] - at[a]) / HOUR for a, b in itertools.pairwise(dep_idx)]
    if len(intervals) == 0:
        reasons["median_interval_hours"] = "fewer than two deployments in the window"
    lead_time = LeadTime(_r(median(lead)), _r(quantile(lead, 0.9)), len(lead))
    if not lead:
        reasons["lead_time_hours"] = "no change reached a deployment in the window"

    failed_deployments: int | None = None
    if org is None:
        failed_deployments = sum(1 for d in dep_idx if judged.dep_failed[d])
        cfr = _r(failed_deployments / n, 4) if n else None
        if not n:
            reasons["change_failure_rate"] = "no deployments in the window"
        for d in dep_idx:
            if judged.dep_failed[d]:
                r = judged.dep_restore_hours[d]
                if r is None:
                    open_failures += 1
                else:
                    restore.append(r)
    else:
        cfr = _r(failed_changes / changes, 4) if changes else None
        if not changes:
            reasons["change_failure_rate"] = f"no change by {org} reached a deployment in the window"

    ttr_source = "git"
    if judged.incidents:
        ttr_source = "incidents"
        restore, open_failures = [], 0
        wanted = set(dep_idx)
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
    rework = sum(1 for d in dep_idx if judged.dep_rework[d])
    rework_rate = _r(rework / n, 4) if n else None
    if not n:
        reasons["deployment_rework_rate"] = "no deployments in the window"
    if not deps:
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
        failed_deployments=failed_deployments,
        failed_changes=failed_changes if org is not None else None,
        change_failure_rate=cfr,
        time_to_restore_hours=ttr,
        rework_deployments=rework,
        deployment_rework_rate=rework_rate,
        tiers=key_tiers,
        tier=tier,
        reasons=reasons,
    )


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
    series = []
    for b in buckets(window):
        f = figures(history, linked, judged, b, org=org, year=year)
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
    first = figures(history, linked, judged, Window(window.since, mid), org=org, year=year)
    second = figures(history, linked, judged, Window(mid, window.until), org=org, year=year)
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
    overall = figures(history, linked, judged, window, year=year)
    by_org = {o: figures(history, linked, judged, window, org=o, year=year) for o in orgs}
    trends = Trends(
        trend(history, linked, judged, window, year=year),
        {o: trend(history, linked, judged, window, org=o, year=year) for o in orgs[:trend_orgs]},
    )
    deployments = []
    for d, dep in enumerate(linked.deployments):
        if dep.at not in window:
            continue
        changes = linked.shipped[d]
        per_org: dict[str, int] = {}
        for c in changes:
            per_org[history.org[c]] = per_org.get(history.org[c], 0) + 1
        deployments.append(
            DeploymentOutcome(
                name=dep.name,
                sha=history.sha[dep.commit] if dep.commit >= 0 else None,
                at=dep.at,
                source=dep.source,
                changes=len(changes),
                changes_by_org=dict(sorted(per_org.items())),
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
