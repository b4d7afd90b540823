"""The definition of done: the charter's `[done]` table, read by the gate.

Each rule of the gate has one sub-table here with `enabled` and `mode` plus its own settings; the gate
package owns what the rules mean (docs/gate.md). Defaults are the bar a new project gets without
writing anything: every rule on, coverage 80 % (SonarQube's "clean as you code"), no copyleft.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onebar.charter.spdx import expression_problems

Mode = Literal["enforce", "evaluate"]
Level = Literal["note", "warning", "error"]
EvidenceKind = Literal["coverage", "sarif", "licenses", "reviews"]

# Permissive licences commonly accepted by companies; copyleft (GPL, LGPL, AGPL, SSPL, MPL…) is left out
# on purpose so that it fails closed until someone adds it to the charter.
DEFAULT_ALLOWED_LICENSES: tuple[str, ...] = (
    "MIT",
    "MIT-0",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "0BSD",
    "PSF-2.0",
    "Python-2.0",
    "Zlib",
    "Unlicense",
    "CC0-1.0",
    "BlueOak-1.0.0",
    "BSL-1.0",
    "UPL-1.0",
    "HPND",
)

DEFAULT_CODE = ("src/**",)
DEFAULT_TESTS = ("tests/**", "test/**", "**/test_*.py", "**/*_test.py", "**/*_test.go", "**/*.test.*", "**/*.spec.*")
DEFAULT_DOCS = ("docs/**", "*.md", "**/*.md", "*.rst", "**/*.rst", "CHANGELOG*")
# A public interface changes when a changed line defines or removes an exported name.
DEFAULT_INTERFACE_PATTERNS = (
    r"^(async\s+)?def\s+[A-Za-z]\w*\s*\(",  # Python: top-level public function
    r"^class\s+[A-Za-z]\w*",  # Python: top-level public class
    r"^export\s",  # JavaScript / TypeScript
    r"^func\s+(\([^)]*\)\s*)?[A-Z]",  # Go: exported function or method
    r"^pub\s",  # Rust
    r"^\s*public\s",  # Java, Kotlin, C#
)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    mode: Mode = Field(default="enforce", description="`evaluate` reports a failure without failing the gate")


class TestsRule(_Rule):
    """tests.with_code: a change to code paths comes with a change to test paths."""

    code: list[str] = Field(default_factory=lambda: list(DEFAULT_CODE))
    tests: list[str] = Field(default_factory=lambda: list(DEFAULT_TESTS))
    ignore: list[str] = Field(default_factory=list)


class DocsRule(_Rule):
    """docs.with_interface: a change to a public interface comes with a change to doc paths."""

    interface: list[str] = Field(default_factory=list, description="paths whose every change is an interface change")
    patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_INTERFACE_PATTERNS))
    docs: list[str] = Field(default_factory=lambda: list(DEFAULT_DOCS))

    @field_validator("patterns")
    @classmethod
    def _valid_patterns(cls, v: list[str]) -> list[str]:
        import re

        for p in v:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"{p!r} is not a valid regular expression: {exc}") from None
        return v


class CoverageRule(_Rule):
    """coverage.total and coverage.changed: line coverage at or above a minimum."""

    min_total: float = Field(default=80.0, ge=0, le=100)
    min_changed: float = Field(default=80.0, ge=0, le=100)
    # SonarQube skips coverage below 20 new lines by default; onebar shows the threshold and defaults it to 0.
    min_changed_lines: int = Field(default=0, ge=0)
    ignore: list[str] = Field(default_factory=list)


class FindingsRule(_Rule):
    """findings: no SARIF result at or above `level` on the changed lines (or anywhere)."""

    level: Level = "warning"
    scope: Literal["changed_lines", "changed_files", "anywhere"] = "changed_lines"
    ignore: list[str] = Field(default_factory=list)


class AdrRule(_Rule):
    """adr.architecture: a change under architecture paths carries an accepted, signed-off ADR."""

    paths: list[str] = Field(default_factory=list, description="added to the paths of architecture components")
    directory: str = "docs/adr"
    signoff: Literal["involved", "all"] = "involved"
    # Organisations of these kinds have no one who signs (an AI agent, a bot).
    exempt_kinds: list[str] = Field(default_factory=lambda: ["agent", "bot"])


class ReviewsRule(_Rule):
    """reviews: at least `min_approvals` approvals, at least one from another organisation than the author's."""

    min_approvals: int = Field(default=1, ge=0)
    cross_org: bool = True


class AgentsRule(_Rule):
    """agents.human_review: a change written by an AI agent is approved by a human of an accountable organisation."""

    accountable: list[str] = Field(
        default_factory=list,
        description="organisation ids whose people may approve agent work; empty means every organisation of the "
        "charter that is not an agent or a bot",
    )


class OwnersRule(_Rule):
    """owners: each touched component approved by its Accountable or a Responsible person."""


class SizeRule(_Rule):
    """size: the change's lines and files under a limit (generated files excluded)."""

    max_lines: int = Field(default=400, ge=1)
    max_files: int = Field(default=50, ge=1)
    exclude: list[str] = Field(
        default_factory=lambda: ["**/*.lock", "**/package-lock.json", "**/pnpm-lock.yaml", "**/go.sum"]
    )


class LicensesRule(_Rule):
    """licenses: every dependency's licence satisfies the allow-list (SPDX; AND/OR honoured; unknown fails)."""

    allow: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOWED_LICENSES))
    # Licences concluded by hand, per package name: {"somepkg" = "MIT"}.
    packages: dict[str, str] = Field(default_factory=dict)
    ignore_packages: list[str] = Field(default_factory=list)

    @field_validator("allow")
    @classmethod
    def _spdx_allow(cls, v: list[str]) -> list[str]:
        problems = expression_problems(v)
        if problems:
            raise ValueError(f"not SPDX: {problems[0]} (ids as in https://spdx.org/licenses/)")
        return v

    @field_validator("packages")
    @classmethod
    def _spdx_packages(cls, v: dict[str, str]) -> dict[str, str]:
        for name, expression in v.items():
            problems = expression_problems([expression])
            if problems:
                raise ValueError(f"licence of {name!r} is not an SPDX expression: {problems[0]}")
        return v


class SecretsRule(_Rule):
    """secrets: no secret in added lines (detect-secrets' plugins and filters)."""

    exclude: list[str] = Field(default_factory=list)


class CharterChangeRule(_Rule):
    """charter.done: a change to [done] itself is approved by the leads the charter names."""

    approvers: list[str] = Field(default_factory=list, description="person ids; empty means every organisation lead")
    min_approvals: int | None = Field(default=None, ge=1, description="how many of them; empty means all")


class DefinitionOfDone(BaseModel):
    """Settings of the gate's rules (docs/gate.md), read from the charter at the base of a change."""

    model_config = ConfigDict(extra="forbid")

    required_evidence: list[EvidenceKind] = Field(
        default_factory=list, description="evidence whose absence fails its rules instead of leaving them unevaluated"
    )
    tests: TestsRule = Field(default_factory=TestsRule)
    docs: DocsRule = Field(default_factory=DocsRule)
    coverage: CoverageRule = Field(default_factory=CoverageRule)
    findings: FindingsRule = Field(default_factory=FindingsRule)
    adr: AdrRule = Field(default_factory=AdrRule)
    reviews: ReviewsRule = Field(default_factory=ReviewsRule)
    agents: AgentsRule = Field(default_factory=AgentsRule)
    owners: OwnersRule = Field(default_factory=OwnersRule)
    size: SizeRule = Field(default_factory=SizeRule)
    licenses: LicensesRule = Field(default_factory=LicensesRule)
    secrets: SecretsRule = Field(default_factory=SecretsRule)
    charter: CharterChangeRule = Field(default_factory=CharterChangeRule)
