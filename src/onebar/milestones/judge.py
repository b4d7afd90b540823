"""Judging a milestone's criteria: pure functions from evidence to met / not met / no evidence.

Each criterion says what it saw, so that a payment can be approved (or refused) from the page. A
criterion whose evidence onebar does not have is `no_evidence`, never quietly met.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

MET, NOT_MET, NO_EVIDENCE = "met", "not_met", "no_evidence"
AT_RISK, MISSED = "at_risk", "not_met"


@dataclass(frozen=True)
class Criterion:
    id: str
    status: str  # met | not_met | no_evidence
    expected: str
    saw: str
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "expected": self.expected,
            "saw": self.saw,
            "details": list(self.details),
        }


@dataclass(frozen=True)
class GateRun:
    """A gate verdict posted by CI, and the commits its range base..head holds."""

    status: str  # pass | fail
    head: str
    posted_at: int
    commits: frozenset[str]
    coverage_changed: tuple[float, int] | None = None  # (% covered, changed lines measured)


@dataclass(frozen=True)
class Change:
    sha: str
    author: str
    at: int
    files: tuple[str, ...]


@dataclass(frozen=True)
class Incident:
    title: str
    started_at: int
    deployment_ref: str | None
    caused_by: tuple[str, ...] = ()  # scope changes the deployment shipped


@dataclass
class Result:
    """One milestone judged: its status and the evidence per criterion."""

    id: str
    title: str
    organisation: str
    due: date
    start: date
    payment: str
    scope: dict[str, Any]
    status: str = AT_RISK
    criteria: list[Criterion] = field(default_factory=list)
    changes: int = 0

    def to_dict(self, today: date) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "organisation": self.organisation,
            "due": self.due.isoformat(),
            "start": self.start.isoformat(),
            "days_left": (self.due - today).days,
            "payment": self.payment,
            "scope": self.scope,
            "status": self.status,
            "changes_in_scope": self.changes,
            "criteria": [c.to_dict() for c in self.criteria],
        }


def overall(criteria: Sequence[Criterion], due: date, today: date) -> str:
    """met when every criterion is; past the due date anything else is not met; before it, at risk."""
    if criteria and all(c.status == MET for c in criteria):
        return MET
    return MISSED if today > due else AT_RISK


def gate_passed(changes: Sequence[Change], runs: Sequence[GateRun] | None, repo: str) -> Criterion:
    expected = "every change in scope passed the gate"
    if runs is None:
        return Criterion(
            "gate_passed",
            NO_EVIDENCE,
            expected,
            f"no gate runs stored for {repo}: CI posts its verdicts to the service "
            f"(POST /api/v1/repos/{repo}/gate-runs)",
        )
    if not changes:
        return Criterion("gate_passed", NO_EVIDENCE, expected, "no change in scope in the window yet")
    passed, failed, ungated = [], [], []
    for c in changes:
        covering = [r for r in runs if c.sha in r.commits]
        if any(r.status == "pass" for r in covering):
            passed.append(c)
        elif covering:
            failed.append(c)
        else:
            ungated.append(c)
    saw = f"{len(passed)} of {len(changes)} changes passed"
    if failed:
        saw += f", {len(failed)} only failed"
    if ungated:
        saw += f", {len(ungated)} have no gate run"
    details = tuple(f"{c.sha[:12]} by {c.author}: failed the gate" for c in failed) + tuple(
        f"{c.sha[:12]} by {c.author}: no gate run" for c in ungated
    )
    return Criterion("gate_passed", MET if not failed and not ungated else NOT_MET, expected, saw, details[:20])


def coverage_changed(minimum: float, changes: Sequence[Change], runs: Sequence[GateRun] | None) -> Criterion:
    expected = f"at least {minimum:g} % of changed lines covered"
    if runs is None:
        return Criterion("coverage_changed_min", NO_EVIDENCE, expected, "no gate runs stored for the repository")
    shas = {c.sha for c in changes}
    measured = [r.coverage_changed for r in runs if r.coverage_changed and r.commits & shas]
    if not measured:
        return Criterion(
            "coverage_changed_min",
            NO_EVIDENCE,
            expected,
            "no gate run over a change in scope measured changed-line coverage (post it with --coverage)",
        )
    lines = sum(n for _, n in measured if n)
    pct = sum(p * n for p, n in measured) / lines if lines else 100.0
    saw = f"{pct:.1f} % of {lines} changed lines covered, over {len(measured)} gate runs"
    return Criterion("coverage_changed_min", MET if pct >= minimum else NOT_MET, expected, saw)


def change_failure_rate(maximum: float, org: str, rate: float | None, deployments: int) -> Criterion:
    expected = f"{org}'s change failure rate at most {maximum:.0%}"
    if rate is None:
        saw = f"no deployment shipped {org}'s changes in the window"
        return Criterion("change_failure_rate_max", NO_EVIDENCE, expected, saw)
    saw = f"{rate:.0%} over {deployments} deployments that shipped {org}'s changes"
    return Criterion("change_failure_rate_max", MET if rate <= maximum else NOT_MET, expected, saw)


def internal_knowers(minimum: int, home: str | None, knowers: Mapping[str, int], scope_files: int) -> Criterion:
    expected = f"at least {minimum} people of {home or 'the internal organisation'} author the scope's files"
    if not scope_files:
        return Criterion("internal_knowers_min", NO_EVIDENCE, expected, "no file of the scope has a known author yet")
    ranked = sorted(knowers.items(), key=lambda kv: (-kv[1], kv[0]))
    saw = f"{len(ranked)} of {home} author some of the {scope_files} files"
    details = tuple(f"{p}: {n} files" for p, n in ranked)
    return Criterion("internal_knowers_min", MET if len(ranked) >= minimum else NOT_MET, expected, saw, details)


def adrs_signed(
    found: Sequence[tuple[str, str, list[str]]], missing: Sequence[int], signers: Sequence[str]
) -> Criterion:
    """`found`: (ref, status, who signed) of the decisions that concern the scope."""
    expected = f"decisions about the scope accepted and signed off by {', '.join(signers) or 'the leads'}"
    problems = [f"ADR-{n:04d} does not exist" for n in missing]
    for ref, status, signed in found:
        if status != "accepted":
            problems.append(f"{ref} is {status}")
        lacking = [s for s in signers if s not in signed]
        if lacking:
            problems.append(f"{ref} lacks the sign-off of {', '.join(lacking)}")
    if not found and not missing:
        return Criterion("adrs_signed", MET, expected, "no decision record concerns the scope")
    saw = f"{len(found)} decisions concern the scope" + (f", {len(problems)} problems" if problems else ", all signed")
    return Criterion("adrs_signed", NOT_MET if problems else MET, expected, saw, tuple(problems))


def no_open_incidents(open_incidents: Sequence[Incident], unattributed: int) -> Criterion:
    expected = "no open incident caused by a change in scope"
    caused = [i for i in open_incidents if i.caused_by]
    saw = f"{len(caused)} open incidents caused by changes in scope"
    if unattributed:
        saw += f" ({unattributed} open incidents name no deployment and could not be attributed)"
    details = tuple(
        f"{i.title or 'untitled'} (deployment {i.deployment_ref}): {', '.join(i.caused_by[:3])}" for i in caused
    )
    return Criterion("no_open_incidents", NOT_MET if caused else MET, expected, saw, details)
