"""Plain data the gate's rules read and return: the change, the evidence, the verdict.

Rules never see git, files or a clock; `onebar.gate.judge` gathers these values at the edge.
The author sits apart from the change (`Authorship`) so that a rule can only read it when it is
handed it explicitly (the cross-organisation review rule is the only one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["pass", "fail", "not_evaluated", "disabled"]
LEVELS = ("none", "note", "warning", "error")


@dataclass(frozen=True)
class FileChange:
    """One file in the change: its new path, status (A, M, D, R, T), lines added (number → text)."""

    path: str
    status: str = "M"
    old_path: str | None = None
    added: dict[int, str] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    added_count: int = 0
    removed_count: int = 0
    binary: bool = False

    @property
    def deleted(self) -> bool:
        return self.status == "D"


@dataclass(frozen=True)
class Change:
    """What a change does to the tree, and nothing about who made it."""

    base: str
    head: str
    files: tuple[FileChange, ...]
    charter_path: str = "onebar.toml"
    # The [done] table at base and at head (as plain dicts), to see a change to the bar itself.
    done_before: dict[str, object] | None = None
    done_after: dict[str, object] | None = None
    charter_after_error: str | None = None
    charter_at_base: bool = True  # False: the base had no onebar.toml and the drafted defaults applied

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


@dataclass(frozen=True)
class Participant:
    """Someone who took part (author or reviewer), resolved against the charter where possible."""

    login: str | None = None
    email: str | None = None
    name: str | None = None
    person: str | None = None  # charter person id
    org: str | None = None
    org_kind: str | None = None

    @property
    def label(self) -> str:
        return self.person or self.login or self.email or self.name or "unknown"


@dataclass(frozen=True)
class Authorship:
    """Who wrote the change: the pull request's author if known, else the commits' authors; and who
    co-wrote it (Co-authored-by trailers) and how its pull request is labelled (agent work is marked so)."""

    author: Participant
    commit_authors: tuple[Participant, ...] = ()
    coauthors: tuple[Participant, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Review:
    """A reviewer's latest decision on the change."""

    reviewer: Participant
    state: Literal["approved", "changes_requested", "commented", "dismissed"]


@dataclass(frozen=True)
class FileCoverage:
    path: str
    lines: dict[int, int]  # line number → hits


@dataclass(frozen=True)
class Coverage:
    source: str
    files: tuple[FileCoverage, ...]


@dataclass(frozen=True)
class Finding:
    tool: str
    rule_id: str
    level: str  # one of LEVELS
    message: str
    path: str | None
    line: int | None
    source: str = ""


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str | None
    licenses: tuple[str, ...]  # SPDX expressions or free-text names as found; () when none was declared
    source: str = ""


@dataclass(frozen=True)
class AdrRecord:
    """An ADR as the rule needs it: file, number, status, and who signed it off."""

    path: str
    number: int
    title: str
    status: str
    deciders: tuple[str, ...] = ()
    signoffs: tuple[str, ...] = ()  # person ids


@dataclass(frozen=True)
class Evidence:
    """Everything beyond the diff; None means it was not given (the rule is then not evaluated)."""

    coverage: Coverage | None = None
    findings: tuple[Finding, ...] | None = None
    dependencies: tuple[Dependency, ...] | None = None
    reviews: tuple[Review, ...] | None = None
    adrs: tuple[AdrRecord, ...] = ()  # ADRs at head


@dataclass(frozen=True)
class Violation:
    """One thing that is wrong, optionally at a place."""

    message: str
    path: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class RuleResult:
    """A rule's outcome: what it saw, and what would make it pass."""

    id: str
    title: str
    status: Status
    saw: str
    fix: str = ""
    mode: str = "enforce"
    violations: tuple[Violation, ...] = ()

    @property
    def blocking(self) -> bool:
        return self.status == "fail" and self.mode == "enforce"


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one change; rendered by onebar.gate.render."""

    base: str
    head: str
    mode: str
    results: tuple[RuleResult, ...]
    author: Participant | None = None
    charter: str = ""
    files_changed: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    version: str = ""

    @property
    def status(self) -> Literal["pass", "fail"]:
        return "fail" if any(r.status == "fail" for r in self.results) else "pass"

    @property
    def exit_code(self) -> int:
        if self.mode == "evaluate":
            return 0
        return 1 if any(r.blocking for r in self.results) else 0
