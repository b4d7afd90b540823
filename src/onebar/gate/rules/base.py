"""The rule registry: each rule is a pure function (change, evidence, charter) -> RuleResult."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from onebar.charter import Charter
from onebar.gate.model import Authorship, Change, Evidence, RuleResult

RuleFn = Callable[[Change, Evidence, Charter], RuleResult]
AuthorRuleFn = Callable[[Change, Evidence, Charter, Authorship], RuleResult]


@dataclass(frozen=True)
class RuleSpec:
    id: str
    title: str
    setting: str  # the [done.<setting>] table that configures it
    fn: RuleFn | None = None
    author_fn: AuthorRuleFn | None = None  # only the cross-organisation review rule reads the author
    evidence: str | None = None  # the evidence kind it needs, for `required_evidence`


RULES: list[RuleSpec] = []


def rule(rule_id: str, title: str, setting: str, evidence: str | None = None) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        RULES.append(RuleSpec(rule_id, title, setting, fn=fn, evidence=evidence))
        return fn

    return register


def author_rule(
    rule_id: str, title: str, setting: str, evidence: str | None = None
) -> Callable[[AuthorRuleFn], AuthorRuleFn]:
    def register(fn: AuthorRuleFn) -> AuthorRuleFn:
        RULES.append(RuleSpec(rule_id, title, setting, author_fn=fn, evidence=evidence))
        return fn

    return register


def examples(items: list[str], n: int = 3) -> str:
    """'a, b, c and 4 more' — enough to act on without flooding a PR comment."""
    uniq = list(dict.fromkeys(items))
    if len(uniq) <= n:
        return ", ".join(uniq)
    return ", ".join(uniq[:n]) + f" and {len(uniq) - n} more"


def not_given(rule_id: str, title: str, what: str, flag: str) -> RuleResult:
    return RuleResult(rule_id, title, "not_evaluated", f"no {what} was given", f"pass {flag}")
