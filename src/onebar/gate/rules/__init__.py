"""The gate's rules: the one ordered registry, and the loop that runs it.

`RULES` declares every rule once, as data: id, title, the `[done.<table>]` that configures it, its
check, the evidence it needs and (by `check_with_author`) whether it reads the author. Its order is
the order of every report: the change itself, then evidence, then people, then the bar. Adding a
rule is one check function in a module here, one line below, its settings in charter/done.py, its
tests and its section in docs/gate.md.
"""

from __future__ import annotations

from onebar.charter import Charter
from onebar.gate.model import Authorship, Change, Evidence, RuleResult
from onebar.gate.rules import agent_rules, changes, evidence_rules, people_rules
from onebar.gate.rules.base import Outcome, Rule

__all__ = ["RULES", "Outcome", "Rule", "run_rules"]

RULES: tuple[Rule, ...] = (
    Rule("tests.with_code", "Code changes come with test changes", "tests", changes.code_has_tests),
    Rule("docs.with_interface", "Public-interface changes come with doc changes", "docs", changes.docs_with_interface),
    Rule(
        "coverage.total",
        "Total line coverage at or above the minimum",
        "coverage",
        evidence_rules.coverage_total,
        evidence="coverage",
    ),
    Rule(
        "coverage.changed",
        "Coverage of the changed lines at or above the minimum",
        "coverage",
        evidence_rules.coverage_changed,
        evidence="coverage",
    ),
    Rule(
        "findings",
        "No findings at or above the severity threshold",
        "findings",
        evidence_rules.findings,
        evidence="sarif",
    ),
    Rule("secrets", "No secrets in added lines", "secrets", changes.secrets),
    Rule("licenses", "Dependency licences on the allow-list", "licenses", evidence_rules.licenses, evidence="licenses"),
    Rule("size", "The change is small enough to review", "size", changes.size),
    Rule(
        "reviews.approvals",
        "At least N approvals, no change requested",
        "reviews",
        people_rules.reviews_approvals,
        evidence="reviews",
    ),
    Rule(
        "reviews.cross_org",
        "Approved by someone of another organisation",
        "reviews",
        check_with_author=people_rules.reviews_cross_org,
        evidence="reviews",
    ),
    Rule(
        "agents.human_review",
        "Agent-written changes approved by a human of an accountable organisation",
        "agents",
        check_with_author=agent_rules.agents_human_review,
        evidence="reviews",
    ),
    Rule("owners", "Touched components approved by their owners", "owners", people_rules.owners, evidence="reviews"),
    Rule(
        "adr.architecture",
        "Architecture changes carry an accepted, signed-off ADR",
        "adr",
        people_rules.adr_architecture,
    ),
    Rule(
        "charter.done",
        "Changes to the definition of done are approved by the leads",
        "charter",
        changes.charter_done,
        evidence="reviews",
    ),
)


def run_rules(change: Change, evidence: Evidence, charter: Charter, authorship: Authorship) -> list[RuleResult]:
    """Every rule of RULES, in order, on the same inputs; only a rule declared to read the author is
    handed `authorship`. A disabled rule is reported as such and the next one still runs."""
    done = charter.done
    results: list[RuleResult] = []
    for rule in RULES:
        settings = getattr(done, rule.setting)
        if not settings.enabled:
            results.append(RuleResult(rule.id, rule.title, "disabled", f"[done.{rule.setting}] enabled = false"))
            continue
        outcome = _check(rule, change, evidence, charter, authorship)
        status, saw = outcome.status, outcome.saw
        if status == "not_evaluated" and rule.evidence in done.required_evidence:
            status, saw = "fail", f"{saw} and the charter requires {rule.evidence}"
        results.append(RuleResult(rule.id, rule.title, status, saw, outcome.fix, settings.mode, outcome.violations))
    return results


def _check(rule: Rule, change: Change, evidence: Evidence, charter: Charter, authorship: Authorship) -> Outcome:
    if rule.check_with_author is not None:
        return rule.check_with_author(change, evidence, charter, authorship)
    assert rule.check is not None  # Rule.__post_init__ guarantees one of the two
    return rule.check(change, evidence, charter)
