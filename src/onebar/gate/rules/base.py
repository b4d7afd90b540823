"""What a rule is: its declaration (`Rule`, data in the registry) and what its check returns (`Outcome`).

A check is a plain function (change, evidence, charter) -> Outcome; it never names itself: the
registry (`onebar.gate.rules.RULES`) declares each rule's id, title, settings table, the evidence it
needs and whether it reads the author, and `run_rules` stamps id and title on every result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from onebar.charter import Charter
from onebar.charter.done import EvidenceKind
from onebar.gate.model import Authorship, Change, Evidence, Status, Violation


@dataclass(frozen=True)
class Outcome:
    """What a rule's check found: a status, what it saw, what would make it pass, and where."""

    status: Status
    saw: str
    fix: str = ""
    violations: tuple[Violation, ...] = ()


Check = Callable[[Change, Evidence, Charter], Outcome]
AuthorCheck = Callable[[Change, Evidence, Charter, Authorship], Outcome]


@dataclass(frozen=True)
class Rule:
    """One rule of the gate, declared once.

    `check` judges the change without knowing who made it; the one rule that compares reviewers with
    the author declares `check_with_author` instead, and only it is handed the authorship.
    """

    id: str
    title: str
    setting: str  # the [done.<setting>] table that configures it
    check: Check | None = None
    check_with_author: AuthorCheck | None = None
    evidence: EvidenceKind | None = None  # the evidence it needs, for [done] required_evidence

    def __post_init__(self) -> None:
        if (self.check is None) == (self.check_with_author is None):
            raise ValueError(f"rule {self.id}: declare exactly one of check and check_with_author")

    @property
    def reads_author(self) -> bool:
        return self.check_with_author is not None


def examples(items: list[str], n: int = 3) -> str:
    """'a, b, c and 4 more' — enough to act on without flooding a PR comment."""
    uniq = list(dict.fromkeys(items))
    if len(uniq) <= n:
        return ", ".join(uniq)
    return ", ".join(uniq[:n]) + f" and {len(uniq) - n} more"


def not_given(what: str, flag: str) -> Outcome:
    """The outcome of a rule whose evidence was not given: not evaluated, never passed."""
    return Outcome("not_evaluated", f"no {what} was given", f"pass {flag}")
