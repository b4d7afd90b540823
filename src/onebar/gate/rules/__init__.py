"""The gate's rules, in the order they are reported; each configured by one [done.<table>]."""

from __future__ import annotations

from dataclasses import replace

from onebar.charter import Charter
from onebar.gate.model import Authorship, Change, Evidence, RuleResult
from onebar.gate.rules import changes, evidence_rules, people_rules  # noqa: F401  (registration)
from onebar.gate.rules.base import RULES, RuleSpec

__all__ = ["ORDER", "RULES", "RuleSpec", "run_rules"]

# The order of the report: the change itself, then evidence, then people, then the bar.
ORDER = (
    "tests.with_code",
    "docs.with_interface",
    "coverage.total",
    "coverage.changed",
    "findings",
    "secrets",
    "licenses",
    "size",
    "reviews.approvals",
    "reviews.cross_org",
    "owners",
    "adr.architecture",
    "charter.done",
)
RULES.sort(key=lambda spec: ORDER.index(spec.id))


def run_rules(change: Change, evidence: Evidence, charter: Charter, authorship: Authorship) -> list[RuleResult]:
    """Every rule on the same inputs; only the author-reading rule is handed `authorship`."""
    done = charter.done
    results: list[RuleResult] = []
    for spec in RULES:
        settings = getattr(done, spec.setting)
        if not settings.enabled:
            results.append(RuleResult(spec.id, spec.title, "disabled", f"[done.{spec.setting}] enabled = false"))
            continue
        if spec.author_fn is not None:
            result = spec.author_fn(change, evidence, charter, authorship)
        else:
            assert spec.fn is not None
            result = spec.fn(change, evidence, charter)
        if result.status == "not_evaluated" and spec.evidence in done.required_evidence:
            result = replace(result, status="fail", saw=result.saw + f" and the charter requires {spec.evidence}")
        results.append(replace(result, mode=settings.mode))
    return results
