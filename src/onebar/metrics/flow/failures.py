"""Change failure rate and time to restore from host deployment statuses and the incidents linked to
the deployment (or the change) that caused them, per organisation of the causing change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from onebar.metrics.flow.changes import (
    HOUR,
    Change,
    rounded,
)
from onebar.metrics.jsonable import Jsonable
from onebar.metrics.model import UNKNOWN_ORG, Window, median


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
            time_to_restore_hours=Restore(rounded(median(ttr)), len(ttr), sum(open_count.get(d, 0) for d in failed)),
        )

    return Failures(
        source="deployment statuses and incidents",
        overall=figures(None),
        by_org={o: figures(o) for o in sorted({c.author.org for c in changes})},
        attribution="a failure counts for the organisation of the change named as its cause, "
        "else for every organisation with a change in the failed deployment",
    )
