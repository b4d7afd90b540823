"""Which changes each deployment shipped, and which deployments failed: the ground under DORA's keys.

The pipeline is `link` (each change to the earliest deployment containing it), `judge` (which
changes and deployments failed, which were rework, when service was restored) and `Shipped` (every
shipped change with its lead time, in deployment order), over which `onebar.metrics.delivery`
computes the keys of any window. `link` and `judge` run once per report. A change is a non-merge
commit together with its cherry-picks. docs/metrics.md states every definition and edge case.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from onebar.metrics.model import Deployment, History, Incident

HOUR = 3600


@dataclass
class Linked:
    """Changes linked to deployments."""

    deployments: list[Deployment]  # sorted by time, then name
    at: np.ndarray  # deployments' times (int64), for bisecting
    deployment_of: np.ndarray  # commit -> index of the earliest deployment containing it, -1 if none yet
    change_of: np.ndarray  # commit -> representative commit of its change (patch group); -1 for merges
    change_deployment: np.ndarray  # representative commit -> earliest deployment of any of its copies, or -1
    shipped: list[np.ndarray]  # deployment -> the changes (representatives) it ships first, ascending

    @cached_property
    def owner_list(self) -> list[int]:
        """`deployment_of` as a Python list, for walks."""
        out: list[int] = self.deployment_of.tolist()
        return out


def link(history: History, deployments: list[Deployment]) -> Linked:
    """Walk deployments in time order and mark the commits each one newly reaches (each commit once)."""
    deps = sorted(deployments, key=lambda d: (d.at, d.name))
    n = len(history)
    owner = [-1] * n
    (p1, p2), more = history.parent_lists, history.more_parents
    for d, dep in enumerate(deps):
        if dep.commit < 0 or owner[dep.commit] != -1:
            continue
        stack = [dep.commit]
        while stack:
            c = stack.pop()
            if owner[c] != -1:
                continue
            owner[c] = d
            a = p1[c]
            if a >= 0:
                if owner[a] == -1:
                    stack.append(a)
                b = p2[c]
                if b >= 0:
                    if owner[b] == -1:
                        stack.append(b)
                    if more:
                        stack.extend(x for x in more.get(c, ()) if owner[x] == -1)
    deployment_of = np.array(owner, dtype=np.int32)
    # Cherry-picks and back-ports share a patch key: the change ships with the earliest copy, and its
    # first copy in history order stands for it.
    changes = np.flatnonzero(~history.merges)
    _keys, first, group = np.unique(history.patch[changes], return_index=True, return_inverse=True)
    reps = changes[first]
    none = np.iinfo(np.int32).max
    earliest = np.full(len(reps), none, dtype=np.int64)
    shipped_at = deployment_of[changes].astype(np.int64)
    np.minimum.at(earliest, group, np.where(shipped_at < 0, none, shipped_at))
    rep_dep = np.where(earliest == none, -1, earliest).astype(np.int32)
    change_of = np.full(n, -1, dtype=np.int32)
    change_of[changes] = reps[group]
    change_deployment = np.full(n, -1, dtype=np.int32)
    change_deployment[reps] = rep_dep
    by_commit = np.argsort(reps)
    reps, rep_dep = reps[by_commit], rep_dep[by_commit]
    order = np.argsort(rep_dep, kind="stable")
    bounds = np.searchsorted(rep_dep[order], np.arange(len(deps) + 1))
    shipped = [reps[order[bounds[d] : bounds[d + 1]]] for d in range(len(deps))]
    at = np.array([d.at for d in deps], dtype=np.int64)
    return Linked(deps, at, deployment_of, change_of, change_deployment, shipped)


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
    # Why each deployment failed. A reverted or fixed change names its cause: per organisation code,
    # the restore hours of the failures its changes caused there. A hotfix deployment or an incident
    # names none: `unnamed` holds the hotfix's restore hours, `by_incident` an incident.
    caused_by: list[dict[int, list[float | None]]] = field(default_factory=list)
    unnamed: list[list[float | None]] = field(default_factory=list)
    by_incident: list[bool] = field(default_factory=list)

    def failed_for(self, d: int, org: int) -> tuple[bool, float | None]:
        """Whether deployment `d` failed because of a change of organisation `org`, or of no named change
        (then any organisation that shipped in it may have caused it), and when that was restored."""
        mine = self.caused_by[d].get(org, []) if self.caused_by else []
        if not mine and not self.unnamed[d] and not self.by_incident[d]:
            return False, None
        known = [h for h in (*mine, *self.unnamed[d]) if h is not None]
        return True, (min(known) if known else None)


def judge(
    history: History,
    linked: Linked,
    incidents: list[Incident],
    as_of: int,
    hotfixes: Collection[int] = (),
) -> Judged:
    """Failures and rework known at `as_of`; `hotfixes` are the commits whose subject says hotfix."""
    deps, at = linked.deployments, linked.at.tolist()
    change_of, change_dep, shipped_by = linked.change_of, linked.change_deployment, linked.deployment_of
    # Which changes were reverted or fixed by a commit that existed at as_of.
    fixers: dict[int, list[int]] = {}
    rework: set[int] = set()
    hotfix_deps: set[int] = set()  # deployments shipping a commit (merges too) whose subject says hotfix
    hot = set(hotfixes)
    brought_in = _merged_changes_of(history, linked)
    for f in sorted(set(history.fixes) | set(history.reverts) | hot):
        if history.committed_at[f] >= as_of:
            continue
        targets = list(history.fixes.get(f, ()))
        if history.reverts.get(f, -1) >= 0:
            targets.append(history.reverts[f])
        own = int(change_of[f])
        expanded: list[int] = []
        for t in targets:
            # Reverting a merge (GitHub's "Revert" on a merged pull request) reverts its branch.
            expanded.extend(brought_in(t) if history.is_merge(t) else (t,))
        for t in expanded:
            rep = int(change_of[t])
            if rep == -1 or rep == own:
                continue
            shipped_with = int(shipped_by[f])
            if shipped_with != -1 and shipped_with == change_dep[rep]:
                continue  # reverted or fixed before it ever shipped: no failure reached production
            fixers.setdefault(rep, []).append(f)
            if own != -1:
                rework.add(own)
        if f in hot:
            if own != -1:
                rework.add(own)
            # A hotfix commit marks the deployment that first shipped it. A merge of a hotfix
            # branch marks the deployment that first shipped the branch's tip, which is usually a
            # tag on that branch before the merge back into the mainline.
            tips = history.parents(f)[1:] if own == -1 else (f,)
            hotfix_deps.update(d for d in (int(shipped_by[c]) for c in tips) if d != -1)

    nd = len(deps)
    live = [d.at < as_of for d in deps]
    hotfix_dep = [live[d] and (deps[d].hotfix or d in hotfix_deps) for d in range(nd)]
    # An unplanned deployment: a hotfix, or one that ships nothing but reverts and fixes.
    is_rework = np.zeros(len(history), dtype=bool)
    is_rework[list(rework)] = True
    dep_rework = [
        hotfix_dep[d] or (live[d] and len(linked.shipped[d]) > 0 and bool(is_rework[linked.shipped[d]].all()))
        for d in range(nd)
    ]

    change_restore: dict[int, float | None] = {}
    for rep, fs in fixers.items():
        d = int(change_dep[rep])
        if d == -1:
            continue
        fixed_at = [at[e] for e in (int(shipped_by[f]) for f in fs) if e != -1 and live[e] and e >= d]
        change_restore[rep] = (min(fixed_at) - at[d]) / HOUR if fixed_at else None

    caused_by: list[dict[int, list[float | None]]] = [{} for _ in range(nd)]
    for rep, hours in change_restore.items():
        caused_by[int(change_dep[rep])].setdefault(int(history.org[rep]), []).append(hours)
    # A hotfix that names what it fixes (revert or `Fixes:`) charges that change's organisation above;
    # only a hotfix naming nothing leaves the failure of the deployment before it unattributed.
    naming = {int(shipped_by[f]) for fs in fixers.values() for f in fs}
    unnamed: list[list[float | None]] = [[] for _ in range(nd)]
    dep_failed = [False] * nd
    restore: list[float | None] = [None] * nd
    for d in range(nd):
        if not live[d]:
            caused_by[d] = {}
            continue
        nxt = _next_live(deps, d, live)
        if nxt is not None and hotfix_dep[nxt] and nxt not in naming:
            unnamed[d].append((at[nxt] - at[d]) / HOUR)
        failed_at = deps[d].failed_at
        if failed_at is not None and failed_at < as_of:  # its deployment status turned to failure
            unnamed[d].append((at[nxt] - at[d]) / HOUR if nxt is not None else None)
        candidates = [h for hours in caused_by[d].values() for h in hours] + unnamed[d]
        if candidates:
            dep_failed[d] = True
            known = [c for c in candidates if c is not None]
            restore[d] = min(known) if known else None

    attributed: list[tuple[Incident, int]] = []
    by_incident = [False] * nd
    for inc in incidents:
        if inc.started_at >= as_of:
            continue
        d = _incident_deployment(inc, deps, at)
        attributed.append((inc, d))
        if d >= 0 and live[d]:
            dep_failed[d] = by_incident[d] = True
    return Judged(
        as_of,
        fixers,
        dep_failed,
        dep_rework,
        restore,
        change_restore,
        rework,
        attributed,
        caused_by,
        unnamed,
        by_incident,
    )


def _merged_changes_of(history: History, linked: Linked) -> Callable[[int], list[int]]:
    """`merged_changes` for the merges reverted in this history, reading the head facts when they say.

    A merge on the mainline of the head the history's `merged_by` describes brought in exactly the
    commits whose `merged_by` it is: those reachable from its other parents and not from its first
    (the earlier mainline). Within its deployment that is what `merged_changes` walks to find.
    """
    merged_by = history.merged_by
    targets = sorted({t for t in history.reverts.values() if t >= 0 and history.is_merge(t)})
    groups: dict[int, list[int]] = {}
    if merged_by is not None and targets:
        mainline = [t for t in targets if merged_by[t] == t]
        hits = np.flatnonzero(np.isin(merged_by, mainline))
        for c, m in zip(hits.tolist(), merged_by[hits].tolist(), strict=True):
            if c != m and linked.deployment_of[c] == linked.deployment_of[m]:
                groups.setdefault(m, []).append(c)
        for m in mainline:
            groups.setdefault(m, [])

    def changes(merge: int) -> list[int]:
        if merge in groups and linked.deployment_of[merge] != -1:
            return groups[merge]
        return merged_changes(history, linked, merge)

    return changes


def merged_changes(history: History, linked: Linked, merge: int) -> list[int]:
    """The commits a merge brought in that ship with it: reachable from its other parents, not its first.

    Both walks stay inside the merge's own deployment, so each costs at most that deployment's size.
    """
    d = int(linked.deployment_of[merge])
    if d == -1:
        return []
    owner = linked.owner_list
    (p1, p2), more = history.parent_lists, history.more_parents

    def reach(starts: tuple[int, ...]) -> set[int]:
        seen: set[int] = set()
        stack = [c for c in starts if owner[c] == d]
        while stack:
            c = stack.pop()
            if c in seen:
                continue
            seen.add(c)
            a = p1[c]
            if a >= 0:
                for p in (a, p2[c], *more.get(c, ())) if p2[c] >= 0 else (a,):
                    if p not in seen and owner[p] == d:
                        stack.append(p)
        return seen

    parents = history.parents(merge)
    return sorted(reach(parents[1:]) - reach(parents[:1]))


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


class Shipped:
    """Every shipped change, ordered by the deployment that first shipped it, with its lead time.

    The keys of any window are slices of these arrays: deployments in a window are a range of
    deployment indexes, and their changes a contiguous run here. Per organisation the same arrays
    are kept split by the author's organisation.
    """

    def __init__(self, history: History, linked: Linked, judged: Judged):
        self.history, self.linked, self.judged = history, linked, judged
        reps = np.concatenate([*linked.shipped, np.empty(0, dtype=np.int64)]).astype(np.int64)
        dep = np.repeat(np.arange(len(linked.shipped), dtype=np.int64), [len(s) for s in linked.shipped])
        self.change = reps
        self.deployment = dep
        # Lead time per change in hours: deployment time minus the commit's author time.
        self.lead = (linked.at[dep] - history.authored_at[reps]) / HOUR if len(reps) else np.empty(0)
        self.org = history.org[reps] if len(reps) else np.empty(0, dtype=np.int32)
        self.failed = np.isin(reps, np.fromiter(judged.fixers, dtype=np.int64, count=len(judged.fixers)))

    def span(self, lo: int, hi: int) -> slice:
        """The changes shipped by deployments lo..hi-1."""
        a, b = np.searchsorted(self.deployment, [lo, hi])
        return slice(int(a), int(b))

    @cached_property
    def by_org(self) -> dict[int, np.ndarray]:
        """Organisation code -> positions of its changes (in deployment order)."""
        if not len(self.org):
            return {}
        order = np.argsort(self.org, kind="stable")
        codes, starts = np.unique(self.org[order], return_index=True)
        ends = [*starts[1:].tolist(), len(order)]
        return {int(c): order[s:e] for c, s, e in zip(codes.tolist(), starts.tolist(), ends, strict=True)}

    def org_span(self, org: int, lo: int, hi: int) -> np.ndarray:
        """Positions of the organisation's changes shipped by deployments lo..hi-1."""
        mine = self.by_org.get(org)
        if mine is None:
            return np.empty(0, dtype=np.int64)
        deps = self._org_deployments.get(org)
        if deps is None:
            deps = self._org_deployments[org] = self.deployment[mine]
        a, b = np.searchsorted(deps, [lo, hi])
        return mine[a:b]

    @cached_property
    def _org_deployments(self) -> dict[int, np.ndarray]:
        """Organisation code -> the deployment of each of its changes (ascending), as wanted."""
        return {}

    def orgs_of(self, d: int) -> dict[str, int]:
        """Changes deployment `d` shipped first, per author organisation (sorted by organisation)."""
        return self.orgs_by_deployment(d, d + 1)[0]

    def orgs_by_deployment(self, lo: int, hi: int) -> list[dict[str, int]]:
        """`orgs_of` for each deployment lo..hi-1, counted at once."""
        k = len(self.history.orgs)
        s = self.span(lo, hi)
        cells = (self.deployment[s] - lo) * k + self.org[s]
        counts = np.bincount(cells, minlength=(hi - lo) * k).reshape(hi - lo, k) if hi > lo else np.empty((0, k))
        names = self.history.orgs
        out: list[dict[str, int]] = [{} for _ in range(hi - lo)]
        rows, cols = np.nonzero(counts)
        for r, c, n in zip(rows.tolist(), cols.tolist(), counts[rows, cols].tolist(), strict=True):
            out[r][names[c]] = int(n)
        return out

    @cached_property
    def dep_failed(self) -> np.ndarray:
        """Per deployment, whether it failed (bool)."""
        return np.array(self.judged.dep_failed, dtype=bool)

    @cached_property
    def dep_rework(self) -> np.ndarray:
        """Per deployment, whether it was rework (bool)."""
        return np.array(self.judged.dep_rework, dtype=bool)

    @cached_property
    def dep_restore(self) -> np.ndarray:
        """Per deployment, the hours to restore it (NaN while not restored, or when it did not fail)."""
        return np.array([np.nan if r is None else r for r in self.judged.dep_restore_hours], dtype=np.float64)

    def failed_for_org(self, org: int) -> tuple[np.ndarray, np.ndarray]:
        """`Judged.failed_for` of every deployment for organisation `org`: (failed, restore hours or NaN)."""
        found = self._failed_for.get(org)
        if found is None:
            judged = self.judged
            nd = len(self.linked.deployments)
            failed = np.zeros(nd, dtype=bool)
            restore = np.full(nd, np.nan)
            for d in self._blamed:
                hit, r = judged.failed_for(d, org)
                if hit:
                    failed[d] = True
                    restore[d] = np.nan if r is None else r
            found = self._failed_for[org] = (failed, restore)
        return found

    @cached_property
    def _failed_for(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        return {}

    @cached_property
    def _blamed(self) -> list[int]:
        """The deployments that failed for somebody: a named cause, a hotfix or an incident."""
        j = self.judged
        return [
            d
            for d in range(len(self.linked.deployments))
            if (j.caused_by and j.caused_by[d]) or j.unnamed[d] or j.by_incident[d]
        ]
