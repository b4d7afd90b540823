"""Flow metrics from code-host data: lead time by stage, reviews, failures, one backlog, agents.

Pure functions over `Change` records (a pull/merge request with its reviews, resolved to people,
organisations and kinds, and the time its merge first reached production), returning typed
results (`to_json()` is the report's `flow` section). The report's loader (`onebar.report.flow`)
builds the records from the store; docs/metrics.md ("Code-host metrics") states each definition
and where it comes from. Bots and AI agents never count as reviewers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from onebar.metrics.jsonable import OMIT_NONE, Jsonable
from onebar.metrics.model import AGENT, HUMAN, UNKNOWN_ORG, Window, median, quantile

HOUR = 3600.0
NONE_MERGED = "no pull/merge request merged in the window"


@dataclass(frozen=True)
class Who:
    key: str  # charter person id, or the host login when the charter does not know it
    org: str
    kind: str  # human, bot, agent, unknown


@dataclass(frozen=True)
class Review:
    by: Who
    state: str  # approved, changes_requested, commented, dismissed
    at: int


@dataclass
class Change:
    """One pull/merge request, resolved."""

    number: int
    title: str
    author: Who
    opened_at: int
    first_commit_at: int | None = None
    ready_at: int | None = None  # when it last left draft (None: never a draft)
    draft_seconds: int = 0
    merged_at: int | None = None
    closed_at: int | None = None
    deployed_at: int | None = None  # first production deployment containing its merge
    reviews: list[Review] = field(default_factory=list)
    refs: list[tuple[str, str]] = field(default_factory=list)  # (ref, kind): ("#12", "issue"), ("PAY-1", "key")
    labels: list[str] = field(default_factory=list)
    assignees: list[Who] = field(default_factory=list)
    coauthors: list[Who] = field(default_factory=list)
    merge_sha: str | None = None  # the commit that brought it into the base branch (merge or squash)


def human_reviews(c: Change) -> list[Review]:
    """Reviews by humans other than the author, in time order (bots and agents never review)."""
    return sorted((r for r in c.reviews if r.by.kind == HUMAN and r.by.key != c.author.key), key=lambda r: r.at)


def approvers(c: Change) -> list[Who]:
    """Humans whose latest review state is an approval (a dismissal or a later change request cancels it)."""
    last: dict[str, Review] = {}
    for r in human_reviews(c):
        if r.state in ("approved", "changes_requested", "dismissed"):
            last[r.by.key] = r
    return [r.by for r in last.values() if r.state == "approved"]


def merged_in(changes: list[Change], window: Window) -> list[Change]:
    return [c for c in changes if c.merged_at is not None and c.merged_at in window]


def _r(x: float | None, d: int = 2) -> float | None:
    return None if x is None else round(x, d)


# ---- lead time by stage ----


@dataclass(frozen=True, slots=True)
class Hours(Jsonable):
    """A duration over changes: median and 90th percentile in hours, and how many changes it covers."""

    median: float | None
    p90: float | None
    changes: int

    @classmethod
    def of(cls, values: list[float]) -> Hours:
        return cls(_r(median(values)), _r(quantile(values, 0.9)), len(values))


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


# ---- reviews ----


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
            PairLatency(a, o, len(v), _r(median(v)), _r(quantile(v, 0.9))) for (a, o), v in sorted(latency.items())
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


# ---- failures ----


@dataclass(frozen=True)
class HostDeployment:
    """A deployment as the host reported it, with the changes it first shipped (or tried to)."""

    name: str
    at: int
    failed: bool  # a failed or error deployment status
    changes: tuple[int, ...]  # numbers of the changes it ships first
    environment: str = "production"


@dataclass(frozen=True)
class HostIncident:
    number: int
    started_at: int
    resolved_at: int | None
    cause_change: int | None = None  # the change named as its cause
    cause_deployment: int = -1  # index of the deployment it is attributed to, -1 if none


@dataclass(frozen=True, slots=True)
class Restore(Jsonable):
    median: float | None  # hours
    restored: int
    open: int


@dataclass(frozen=True, slots=True)
class FailureFigures(Jsonable):
    deployments: int
    failed_deployments: int
    change_failure_rate: float | None
    time_to_restore_hours: Restore


@dataclass(frozen=True, slots=True)
class Failures(Jsonable):
    """Change failure rate and time to restore from deployment statuses and linked incidents."""

    source: str
    overall: FailureFigures
    by_org: Mapping[str, FailureFigures]  # organisation of the causing change
    attribution: str


def failures(
    changes: list[Change], deployments: list[HostDeployment], incidents: list[HostIncident], window: Window
) -> Failures:
    """Change failure rate and time to restore per organisation of the change that caused the failure.

    A deployment failed when its status failed or an incident is attributed to it. The causing
    organisations: the named cause's author's, else every organisation with a change in it. Time to
    restore: incident resolved - started; for a failed status with no incident, until the next
    successful deployment of the environment.
    """
    org_of = {c.number: c.author.org for c in changes}
    deps = sorted(range(len(deployments)), key=lambda d: deployments[d].at)
    cause_orgs: dict[int, set[str]] = {}
    restore: dict[int, list[float]] = {}
    open_count: dict[int, int] = {}
    for inc in incidents:
        d = inc.cause_deployment
        if d < 0:
            continue
        named = org_of.get(inc.cause_change) if inc.cause_change is not None else None
        orgs = {named} if named else {org_of.get(n, UNKNOWN_ORG) for n in deployments[d].changes}
        cause_orgs.setdefault(d, set()).update(orgs or {UNKNOWN_ORG})
        if inc.started_at in window:
            if inc.resolved_at is None:
                open_count[d] = open_count.get(d, 0) + 1
            else:
                restore.setdefault(d, []).append(max(inc.resolved_at - inc.started_at, 0) / HOUR)
    for pos, d in enumerate(deps):
        dep = deployments[d]
        if not dep.failed or d in cause_orgs:
            continue
        cause_orgs[d] = {org_of.get(n, UNKNOWN_ORG) for n in dep.changes} or {UNKNOWN_ORG}
        nxt = next(
            (
                deployments[e]
                for e in deps[pos + 1 :]
                if not deployments[e].failed and deployments[e].environment == dep.environment
            ),
            None,
        )
        if dep.at in window:
            if nxt is None:
                open_count[d] = open_count.get(d, 0) + 1
            else:
                restore.setdefault(d, []).append((nxt.at - dep.at) / HOUR)
    in_window = [d for d in deps if deployments[d].at in window]

    def figures(org: str | None) -> FailureFigures:
        mine = [d for d in in_window if org is None or any(org_of.get(n) == org for n in deployments[d].changes)]
        failed = [d for d in mine if d in cause_orgs and (org is None or org in cause_orgs[d])]
        ttr = [h for d in failed for h in restore.get(d, [])]
        return FailureFigures(
            deployments=len(mine),
            failed_deployments=len(failed),
            change_failure_rate=round(len(failed) / len(mine), 4) if mine else None,
            time_to_restore_hours=Restore(_r(median(ttr)), len(ttr), sum(open_count.get(d, 0) for d in failed)),
        )

    return Failures(
        source="deployment statuses and incidents",
        overall=figures(None),
        by_org={o: figures(o) for o in sorted({c.author.org for c in changes})},
        attribution="a failure counts for the organisation of the change named as its cause, "
        "else for every organisation with a change in the failed deployment",
    )


# ---- one backlog ----


@dataclass(frozen=True, slots=True)
class OrgTrace(Jsonable):
    changes: int
    traced: int
    traced_share: float


@dataclass(frozen=True, slots=True)
class Untraced(Jsonable):
    number: int
    title: str
    author: str  # person id, or the host login
    org: str


@dataclass(frozen=True, slots=True)
class Backlog(Jsonable):
    """How much of each organisation's merged work is traced to the shared tracker."""

    changes: int
    traced_share: float | None
    by_org: Mapping[str, OrgTrace]
    untraced: tuple[Untraced, ...]
    key_pattern: str
    reasons: Mapping[str, str]


def backlog(changes: list[Change], window: Window, key_pattern: str, pulls: set[int] | None = None) -> Backlog:
    """One backlog: the share of each organisation's merged changes traced to an issue of the shared tracker.

    Traced: a host issue reference that is not another pull/merge request, or a tracker key that
    matches the charter's pattern. The untraced changes are listed.
    """
    key_re = re.compile(key_pattern)
    pulls = pulls or set()
    merged = merged_in(changes, window)
    counts: dict[str, list[int]] = {}
    untraced: list[Untraced] = []
    for c in merged:
        traced = any(
            (kind == "issue" and not (ref.startswith("#") and int(ref[1:]) in pulls))
            or (kind == "key" and key_re.fullmatch(ref))
            for ref, kind in c.refs
        )
        s = counts.setdefault(c.author.org, [0, 0])
        s[0] += 1
        if traced:
            s[1] += 1
        else:
            untraced.append(Untraced(c.number, c.title, c.author.key, c.author.org))
    total = len(merged)
    traced_total = sum(s[1] for s in counts.values())
    return Backlog(
        changes=total,
        traced_share=round(traced_total / total, 4) if total else None,
        by_org={o: OrgTrace(n, t, round(t / n, 4)) for o, (n, t) in sorted(counts.items())},
        untraced=tuple(sorted(untraced, key=lambda u: u.number)),
        key_pattern=key_pattern,
        reasons={} if total else {"traced_share": NONE_MERGED},
    )


# ---- agents ----

AGENT_LABEL = re.compile(r"(?i)\b(ai|agent|copilot|claude|codex|devin|cursor|ai-generated)\b")


@dataclass(frozen=True)
class AgentChange(Jsonable):
    """An agent-authored change: the agent, the human who started it, who is accountable, who reviewed."""

    number: int
    title: str
    agent: str
    signal: str  # author, coauthor, label
    started_by: Who | None
    accountable_org: str
    human_reviewers: tuple[Who, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "agent": self.agent,
            "signal": self.signal,
            "started_by": self.started_by.key if self.started_by else None,
            "accountable_org": self.accountable_org,
            "human_reviewers": [w.key for w in self.human_reviewers],
            "human_reviewed": bool(self.human_reviewers),
        }


def agent_change(c: Change) -> AgentChange | None:
    """The agent, the human who started it and the accountable organisation of an agent-authored change."""
    if c.author.kind == AGENT:
        agent, signal = c.author.key, "author"
        starter = next((w for w in c.assignees if w.kind == HUMAN), None)
    elif any(w.kind == AGENT for w in c.coauthors):
        agent, signal = next(w.key for w in c.coauthors if w.kind == AGENT), "coauthor"
        starter = c.author if c.author.kind == HUMAN else None
    elif any(AGENT_LABEL.search(lb) for lb in c.labels):
        agent, signal = next(lb for lb in c.labels if AGENT_LABEL.search(lb)), "label"
        starter = c.author if c.author.kind == HUMAN else next((w for w in c.assignees if w.kind == HUMAN), None)
    else:
        return None
    accountable = starter.org if starter is not None else UNKNOWN_ORG
    reviewers = tuple(w for w in approvers(c) if starter is None or w.key != starter.key)
    return AgentChange(c.number, c.title, agent, signal, starter, accountable, reviewers)


@dataclass(frozen=True, slots=True)
class OrgAgents(Jsonable):
    changes: int
    human_reviewed: int


@dataclass(frozen=True, slots=True)
class Agents(Jsonable):
    """Agent-authored changes merged in the window, per accountable organisation, and each of them."""

    changes: int
    human_reviewed: int
    by_org: Mapping[str, OrgAgents]
    list: tuple[AgentChange, ...]


def agents(changes: list[Change], window: Window) -> Agents:
    """Agent-authored changes merged in the window, with who is accountable and who reviewed them."""
    found = [a for c in merged_in(changes, window) if (a := agent_change(c)) is not None]
    counts: dict[str, list[int]] = {}
    for a in found:
        s = counts.setdefault(a.accountable_org, [0, 0])
        s[0] += 1
        s[1] += 1 if a.human_reviewers else 0
    return Agents(
        changes=len(found),
        human_reviewed=sum(1 for a in found if a.human_reviewers),
        by_org={o: OrgAgents(n, r) for o, (n, r) in sorted(counts.items())},
        list=tuple(found),
    )


# ---- the section ----


@dataclass(frozen=True, slots=True)
class Flow(Jsonable):
    """The report's code-host section: every part when the store has code-host data for the
    repository, else `available: false` and the reason."""

    available: bool
    reason: str | None = field(default=None, metadata=OMIT_NONE)
    sources: tuple[str, ...] = ()  # host repositories that fed it ("github:acme/shop")
    lead_time_stages: LeadTime | None = field(default=None, metadata=OMIT_NONE)
    reviews: PullReviews | None = field(default=None, metadata=OMIT_NONE)
    failures: Failures | None = field(default=None, metadata=OMIT_NONE)
    backlog: Backlog | None = field(default=None, metadata=OMIT_NONE)
    agents: Agents | None = field(default=None, metadata=OMIT_NONE)


def section(
    sources: list[str],
    changes: list[Change],
    deployments: list[HostDeployment],
    incidents: list[HostIncident],
    window: Window,
    key_pattern: str,
) -> Flow:
    """Every flow figure of a window from resolved code-host records."""
    return Flow(
        available=True,
        sources=tuple(sources),
        lead_time_stages=lead_time(changes, window),
        reviews=review_matrix(changes, window),
        failures=failures(changes, deployments, incidents, window),
        backlog=backlog(changes, window, key_pattern, {c.number for c in changes}),
        agents=agents(changes, window),
    )
