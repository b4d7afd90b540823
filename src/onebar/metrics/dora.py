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
from dataclasses import dataclass, field
from typing import Any

from onebar.metrics import tiers as tiers_mod
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


def figures(
    history: History,
    linked: Linked,
    judged: Judged,
    window: Window,
    *,
    org: str | None = None,
    year: int = tiers_mod.DEFAULT_YEAR,
) -> dict[str, Any]:
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
    out: dict[str, Any] = {"deployments": n, "changes": changes}
    out["deployment_frequency_per_week"] = round(n / window.weeks, 3)
    intervals = [(at[b] - at[a]) / HOUR for a, b in itertools.pairwise(dep_idx)]
    out["median_interval_hours"] = _r(median(intervals))
    if len(intervals) == 0:
        reasons["median_interval_hours"] = "fewer than two deployments in the window"
    out["lead_time_hours"] = {"median": _r(median(lead)), "p90": _r(quantile(lead, 0.9)), "changes": len(lead)}
    if not lead:
        reasons["lead_time_hours"] = "no change reached a deployment in the window"

    if org is None:
        failed = sum(1 for d in dep_idx if judged.dep_failed[d])
        out["failed_deployments"] = failed
        out["change_failure_rate"] = _r(failed / n, 4) if n else None
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
        out["failed_changes"] = failed_changes
        out["change_failure_rate"] = _r(failed_changes / changes, 4) if changes else None
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
    out["time_to_restore_hours"] = {
        "median": _r(median(restore)),
        "restored": len(restore),
        "open": open_failures,
        "source": ttr_source,
    }
    if not restore:
        reasons["time_to_restore_hours"] = (
            "no failure was restored in the window" if open_failures else "no failure in the window to restore from"
        )
    rework = sum(1 for d in dep_idx if judged.dep_rework[d])
    out["rework_deployments"] = rework
    out["deployment_rework_rate"] = _r(rework / n, 4) if n else None
    if not n:
        reasons["deployment_rework_rate"] = "no deployments in the window"
    if not deps:
        out["deployment_frequency_per_week"] = None
        reasons["deployment_frequency_per_week"] = (
            "no deployments found: no tag matches the charter's tag pattern and none was recorded"
        )

    per_key = {
        "deployment_frequency_per_week": tiers_mod.tier_of(
            "deployment_frequency_per_week", out["deployment_frequency_per_week"], year
        ),
        "lead_time_hours": tiers_mod.tier_of("lead_time_hours", out["lead_time_hours"]["median"], year),
        "change_failure_rate": tiers_mod.tier_of("change_failure_rate", out["change_failure_rate"], year),
        "time_to_restore_hours": tiers_mod.tier_of(
            "time_to_restore_hours", out["time_to_restore_hours"]["median"], year
        ),
    }
    out["tiers"] = per_key
    out["tier"] = tiers_mod.overall_tier(per_key) if n else None
    if not n:
        reasons["tier"] = "no deployments in the window"
    out["reasons"] = reasons
    return out


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


TREND_KEYS = {  # key -> +1 when higher is better, -1 when lower is better
    "deployment_frequency_per_week": 1,
    "lead_time_hours": -1,
    "change_failure_rate": -1,
}


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
) -> dict[str, Any]:
    """Per bucket figures plus, per key, whether the window's second half beats its first."""
    series = []
    for b in buckets(window):
        f = figures(history, linked, judged, b, org=org, year=year)
        series.append(
            {
                "since": b.since,
                "until": b.until,
                "deployments": f["deployments"],
                "deployment_frequency_per_week": f["deployment_frequency_per_week"],
                "lead_time_hours": f["lead_time_hours"]["median"],
                "change_failure_rate": f["change_failure_rate"],
            }
        )
    mid = window.since + (window.until - window.since) // 2
    first = figures(history, linked, judged, Window(window.since, mid), org=org, year=year)
    second = figures(history, linked, judged, Window(mid, window.until), org=org, year=year)
    direction = {}
    for key, sign in TREND_KEYS.items():
        before, after = _value(first, key), _value(second, key)
        direction[key] = _direction(before, after, sign)
    return {"series": series, "direction": direction}


def _value(f: dict[str, Any], key: str) -> float | None:
    v = f[key]
    return v["median"] if isinstance(v, dict) else v


def _direction(a: float | None, b: float | None, sign: int) -> str | None:
    """'improving', 'worsening' or 'steady' (within 10%); None when either half has no value."""
    if a is None or b is None:
        return None
    if abs(b - a) <= 0.1 * max(abs(a), abs(b), 1e-9):
        return "steady"
    return "improving" if (b - a) * sign > 0 else "worsening"
