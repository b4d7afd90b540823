# ruff: noqa: E501  (the expected wording is kept on one line per scenario, as a person reads it)
"""Every branch of every rule, with the exact outcome a person reads: status, what it saw, what would
pass and where. Wording is part of the verdict (PR comments, SARIF, JUnit), so it is pinned here; a
change of wording is a deliberate edit of this table.
"""

from __future__ import annotations

import pytest

from gate_fixtures import change, charter, evidence, fc, review
from onebar.gate.model import (
    AdrRecord,
    Authorship,
    Change,
    Coverage,
    Dependency,
    FileChange,
    FileCoverage,
    Finding,
    Participant,
    Review,
)
from onebar.gate.rules import changes as ch
from onebar.gate.rules import evidence_rules as ev
from onebar.gate.rules import people_rules as pr
from onebar.gate.rules.base import Outcome

C = charter()
ALICE = Authorship(Participant(person="alice", org="acme"), (Participant(person="alice", org="acme"),))
KEY = "AKIA" + "IOSFODNN7EXAMPLE"
COV = Coverage(
    "c.xml", (FileCoverage("src/app/x.py", {1: 1, 2: 0, 3: 0, 4: 1, 6: 0}), FileCoverage("src/app/y.py", {1: 1}))
)
BEFORE = C.done.model_dump(mode="json")
AFTER = charter("\n[done.coverage]\nmin_total = 10\n").done.model_dump(mode="json")
DONE_CHANGE = Change("b" * 40, "h" * 40, (fc("onebar.toml", {1: "x"}),), "onebar.toml", BEFORE, AFTER)
ADR = "docs/adr/0001-db.md"
ARCH = change(fc("src/app/storage/db.py", {1: "x"}), fc(ADR, {1: "---"}, status="A"))


def adr(status: str, *signed: str) -> AdrRecord:
    return AdrRecord(ADR, 1, "DB", status, (), signed)


def dep(name: str, *lic: str) -> Dependency:
    return Dependency(name, "1.0", lic)


SCENARIOS = {
    "tests: no code": (ch.code_has_tests, change(fc("README.md", {1: "x"})), evidence(), C),
    "tests: code and tests": (
        ch.code_has_tests,
        change(fc("src/a.py", {1: "x"}), fc("tests/test_a.py", {1: "x"})),
        evidence(),
        C,
    ),
    "tests: code alone": (ch.code_has_tests, change(*[fc(f"src/m{i}.py", {1: "x"}) for i in range(5)]), evidence(), C),
    "tests: ignored code": (
        ch.code_has_tests,
        change(fc("src/gen/a.py", {1: "x"})),
        evidence(),
        charter('\n[done.tests]\nignore = ["src/gen/**"]\n'),
    ),
    "docs: none": (ch.docs_with_interface, change(fc("src/a.py", {1: "x = 1"})), evidence(), C),
    "docs: public def": (
        ch.docs_with_interface,
        change(fc("src/a.py", {3: "x = 1", 4: "def run(x):   "})),
        evidence(),
        C,
    ),
    "docs: public def with docs": (
        ch.docs_with_interface,
        change(fc("src/a.py", {4: "class A:"}), fc("docs/a.md", {1: "x"})),
        evidence(),
        C,
    ),
    "docs: removed def": (ch.docs_with_interface, change(fc("src/a.py", removed=("def gone():",))), evidence(), C),
    "docs: def in tests": (
        ch.docs_with_interface,
        change(fc("src/tests/test_a.py", {1: "def test_a():"})),
        evidence(),
        C,
    ),
    "docs: interface path": (
        ch.docs_with_interface,
        change(fc("api/openapi.yaml", {2: "x"})),
        evidence(),
        charter('\n[done.docs]\ninterface = ["api/**"]\n'),
    ),
    "docs: no patterns": (
        ch.docs_with_interface,
        change(fc("src/a.py", {1: "def run():"})),
        evidence(),
        charter("\n[done.docs]\npatterns = []\n"),
    ),
    "size: pass": (ch.size, change(fc("src/a.py", {1: "x", 2: "y"}, removed=("z",))), evidence(), C),
    "size: fail": (
        ch.size,
        change(fc("src/a.py", {1: "x", 2: "y"})),
        evidence(),
        charter("\n[done.size]\nmax_lines = 1\n"),
    ),
    "secrets: none": (ch.secrets, change(fc("src/a.py", {1: "x = 1", 2: "y = 2"})), evidence(), C),
    "secrets: found": (ch.secrets, change(fc("src/a.py", {1: "x = 1", 9: f'KEY = "{KEY}"'})), evidence(), C),
    "charter: unchanged": (ch.charter_done, change(), evidence(), C),
    "charter: invalid at head": (
        ch.charter_done,
        Change("b", "h", (), "onebar.toml", BEFORE, None, "onebar.toml:3: bad"),
        evidence(),
        C,
    ),
    "charter: introduced": (
        ch.charter_done,
        Change("b", "h", (), "onebar.toml", BEFORE, AFTER, None, False),
        evidence(),
        C,
    ),
    "charter: no reviews": (ch.charter_done, DONE_CHANGE, evidence(), C),
    "charter: one lead of two": (
        ch.charter_done,
        DONE_CHANGE,
        evidence(reviews=(review(C, "alice"), review(C, "bob"))),
        C,
    ),
    "charter: both leads": (ch.charter_done, DONE_CHANGE, evidence(reviews=(review(C, "alice"), review(C, "pat"))), C),
    "charter: named approvers, one needed": (
        ch.charter_done,
        DONE_CHANGE,
        evidence(reviews=(review(C, "quinn"),)),
        charter('\n[done.charter]\napprovers = ["bob", "quinn"]\nmin_approvals = 1\n'),
    ),
    "charter: no leads": (
        ch.charter_done,
        DONE_CHANGE,
        evidence(),
        charter().model_copy(
            update={"organisations": {k: v.model_copy(update={"lead": None}) for k, v in C.organisations.items()}}
        ),
    ),
    "coverage.total: not given": (ev.coverage_total, change(), evidence(), C),
    "coverage.total: below": (ev.coverage_total, change(), evidence(coverage=COV), C),
    "coverage.total: at": (
        ev.coverage_total,
        change(),
        evidence(coverage=COV),
        charter("\n[done.coverage]\nmin_total = 50\n"),
    ),
    "coverage.changed: not given": (ev.coverage_changed, change(), evidence(), C),
    "coverage.changed: nothing measured": (
        ev.coverage_changed,
        change(fc("src/app/z.py", {1: "x"}), fc("docs/a.md", {1: "x"})),
        evidence(coverage=COV),
        C,
    ),
    "coverage.changed: below": (
        ev.coverage_changed,
        change(
            fc("src/app/x.py", {1: "a", 2: "b", 3: "c", 5: "not measured", 6: "d"}),
            fc("src/app/z.py", {1: "x"}),
            fc("src/app/gone.py", status="D"),
        ),
        evidence(coverage=COV),
        C,
    ),
    "coverage.changed: above": (
        ev.coverage_changed,
        change(fc("src/app/x.py", {1: "a", 4: "b"}), fc("src/app/y.py", {1: "x"})),
        evidence(coverage=COV),
        C,
    ),
    "coverage.changed: too few lines": (
        ev.coverage_changed,
        change(fc("src/app/x.py", {2: "a"})),
        evidence(coverage=COV),
        charter("\n[done.coverage]\nmin_changed_lines = 2\n"),
    ),
    "coverage.changed: suffix match": (
        ev.coverage_changed,
        change(fc("repo/src/app/x.py", {2: "a"})),
        evidence(coverage=COV),
        C,
    ),
    "findings: not given": (ev.findings, change(), evidence(), C),
    "findings: on changed lines": (
        ev.findings,
        change(fc("src/a.py", {3: "x"})),
        evidence(
            findings=(
                Finding("ruff", "F401", "error", "unused import", "src/a.py", 3),
                Finding("ruff", "E1", "note", "style", "src/a.py", 3),
                Finding("ruff", "F401", "warning", "old", "src/a.py", 30),
                Finding("ruff", "F1", "error", "elsewhere", "src/b.py", 3),
            )
        ),
        C,
    ),
    "findings: none on changed lines": (
        ev.findings,
        change(fc("src/a.py", {3: "x"})),
        evidence(findings=(Finding("ruff", "F401", "warning", "old", "src/a.py", 30),)),
        C,
    ),
    "findings: changed files": (
        ev.findings,
        change(fc("src/a.py", {3: "x"})),
        evidence(
            findings=(
                Finding("ruff", "F401", "warning", "old", "src/a.py", 30),
                Finding("ruff", "F1", "error", "whole file", "src/a.py", None),
            )
        ),
        charter('\n[done.findings]\nscope = "changed_files"\n'),
    ),
    "findings: anywhere, ignored, error level": (
        ev.findings,
        change(),
        evidence(
            findings=(
                Finding("ruff", "F1", "error", "gen", "gen/x.py", 1),
                Finding("ruff", "F2", "warning", "warn", "src/b.py", 1),
                Finding("bandit", "B1", "error", "repo-wide", None, None),
            )
        ),
        charter('\n[done.findings]\nscope = "anywhere"\nlevel = "error"\nignore = ["gen/**"]\n'),
    ),
    "licenses: not given": (ev.licenses, change(), evidence(), C),
    "licenses: all allowed": (
        ev.licenses,
        change(),
        evidence(dependencies=(dep("a", "MIT"), dep("b", "Apache-2.0 OR GPL-3.0-only"))),
        C,
    ),
    "licenses: some not": (
        ev.licenses,
        change(),
        evidence(
            dependencies=(
                dep("a", "MIT"),
                dep("b", "GPL-3.0-only"),
                dep("c"),
                dep("d", "Custom"),
                dep("e", "AGPL-3.0-only"),
                dep("Ignored", "GPL-3.0-only"),
                dep("Concluded", "Custom"),
            )
        ),
        charter('\n[done.licenses]\nignore_packages = ["ignored"]\npackages = { concluded = "MIT" }\n'),
    ),
    "adr: no architecture paths": (
        pr.adr_architecture,
        change(fc("src/app/storage/db.py", {1: "x"})),
        evidence(),
        charter().model_copy(update={"components": {}}),
    ),
    "adr: not touched": (pr.adr_architecture, change(fc("src/app/ui.py", {1: "x"})), evidence(), C),
    "adr: no adr": (
        pr.adr_architecture,
        change(fc("src/app/storage/db.py", {1: "x"})),
        evidence(adrs=(adr("accepted", "alice", "pat"),)),
        C,
    ),
    "adr: renamed out": (
        pr.adr_architecture,
        change(FileChange("src/app/db.py", "R", "src/app/storage/db.py")),
        evidence(),
        C,
    ),
    "adr: proposed": (pr.adr_architecture, ARCH, evidence(adrs=(adr("proposed"),)), C),
    "adr: half signed": (pr.adr_architecture, ARCH, evidence(adrs=(adr("accepted", "alice"),)), C),
    "adr: signed": (pr.adr_architecture, ARCH, evidence(adrs=(adr("accepted", "pat", "alice"),)), C),
    "approvals: not given": (pr.reviews_approvals, change(), evidence(), C),
    "approvals: enough": (
        pr.reviews_approvals,
        change(),
        evidence(reviews=(review(C, "bob"), review(C, "quinn", "commented"))),
        C,
    ),
    "approvals: short": (
        pr.reviews_approvals,
        change(),
        evidence(reviews=(review(C, "bob"),)),
        charter("\n[done.reviews]\nmin_approvals = 3\n"),
    ),
    "approvals: blocked": (
        pr.reviews_approvals,
        change(),
        evidence(reviews=(review(C, "bob"), review(C, "pat", "changes_requested"))),
        C,
    ),
    "owners: none touched": (pr.owners, change(fc("README.md", {1: "x"})), evidence(), C),
    "owners: not given": (pr.owners, change(fc("src/app/x.py", {1: "x"})), evidence(), C),
    "owners: approved": (pr.owners, change(fc("src/app/x.py", {1: "x"})), evidence(reviews=(review(C, "quinn"),)), C),
    "owners: missing": (
        pr.owners,
        change(fc("src/app/x.py", {1: "x"}), FileChange("src/app/y.py", "R", "src/app/storage/y.py")),
        evidence(reviews=(review(C, "pat", "changes_requested"),)),
        C,
    ),
    "docs: a doc file listed first": (
        ch.docs_with_interface,
        change(fc("docs/a.md", {1: "x"}), fc("src/a.py", {4: "def run():"})),
        evidence(),
        C,
    ),
    "docs: a non-code file listed first": (
        ch.docs_with_interface,
        change(fc("README.txt", {1: "def x():"}), fc("src/a.py", {4: "def run():"})),
        evidence(),
        C,
    ),
    "coverage.total: empty report": (ev.coverage_total, change(), evidence(coverage=Coverage("c.xml", ())), C),
    "coverage.changed: report names a longer path": (
        ev.coverage_changed,
        change(fc("src/app/x.py", {2: "a"})),
        evidence(coverage=Coverage("c.xml", (FileCoverage("home/ci/src/app/x.py", {2: 0}),))),
        C,
    ),
    "coverage.changed: ignored and removed-only files": (
        ev.coverage_changed,
        change(
            fc("src/gen/g.py", {1: "a", 2: "b"}), fc("src/app/old.py", removed=("x",)), fc("src/app/y.py", {1: "a"})
        ),
        evidence(
            coverage=Coverage(
                "c.xml", (FileCoverage("src/gen/g.py", {1: 0, 2: 0}), FileCoverage("src/app/y.py", {1: 1}))
            )
        ),
        charter('\n[done.coverage]\nignore = ["src/gen/**"]\n'),
    ),
    "findings: skipped ones listed first": (
        ev.findings,
        change(fc("src/a.py", {3: "x"}), fc("gen/b.py", {3: "x"})),
        evidence(
            findings=(
                Finding("ruff", "E1", "note", "style", "src/a.py", 3),
                Finding("ruff", "F2", "error", "gen", "gen/b.py", 3),
                Finding("ruff", "F3", "error", "unchanged file", "src/other.py", 3),
                Finding("ruff", "F4", "error", "unchanged line", "src/a.py", 30),
                Finding("ruff", "F401", "error", "unused import", "src/a.py", 3),
            )
        ),
        charter('\n[done.findings]\nignore = ["gen/**"]\n'),
    ),
    "approvals: two reviewers the charter does not know": (
        pr.reviews_approvals,
        change(),
        evidence(
            reviews=(Review(Participant(login="ext-1"), "approved"), Review(Participant(login="ext-2"), "approved"))
        ),
        charter("\n[done.reviews]\nmin_approvals = 2\n"),
    ),
    "secrets: lines with gaps keep their numbers": (
        ch.secrets,
        change(
            fc("cfg/a.py", {1: "x = 1", 2: "y = 2", 4: f'KEY = "{KEY}"'}),
            fc("cfg/b.py", {1: "x = 1", 3: f'KEY = "{KEY}"'}),
        ),
        evidence(),
        C,
    ),
}

AUTHOR_SCENARIOS = {
    "cross_org: off": (change(), evidence(reviews=()), charter("\n[done.reviews]\ncross_org = false\n"), ALICE),
    "cross_org: not given": (change(), evidence(), C, ALICE),
    "cross_org: unknown author": (
        change(),
        evidence(reviews=(review(C, "pat"),)),
        C,
        Authorship(Participant(email="x@else.test")),
    ),
    "cross_org: same org": (change(), evidence(reviews=(review(C, "bob"),)), C, ALICE),
    "cross_org: other org": (change(), evidence(reviews=(review(C, "pat"), review(C, "quinn"))), C, ALICE),
    "cross_org: co-author approves": (
        change(),
        evidence(reviews=(review(C, "pat"),)),
        C,
        Authorship(ALICE.author, (Participant(person="pat", org="partner"),)),
    ),
    "cross_org: a co-author the charter does not know approves": (
        change(),
        evidence(reviews=(Review(Participant(login="ext-dev", org="partner"), "approved"),)),
        C,
        Authorship(ALICE.author, (Participant(login="ext-dev", org="partner"),)),
    ),
}

# scenario -> (status, saw, fix, [(message, path, line), ...])
EXPECTED = {
    "tests: no code": ("pass", "no code file changed (code paths: src/**)", "", []),
    "tests: code and tests": ("pass", "1 code file(s) and 1 test file(s) changed", "", []),
    "tests: code alone": (
        "fail",
        "5 code file(s) changed (src/m0.py, src/m1.py, src/m2.py and 2 more) and no test file",
        "add or update a test under tests/**, test/**, **/test_*.py",
        [
            ("code changed without a test change", "src/m0.py", None),
            ("code changed without a test change", "src/m1.py", None),
            ("code changed without a test change", "src/m2.py", None),
            ("code changed without a test change", "src/m3.py", None),
            ("code changed without a test change", "src/m4.py", None),
        ],
    ),
    "tests: ignored code": ("pass", "no code file changed (code paths: src/**)", "", []),
    "docs: none": ("pass", "no public interface changed", "", []),
    "docs: public def": (
        "fail",
        "public interface changed in src/a.py and no doc file changed",
        "document the change under docs/**, *.md, **/*.md",
        [("public definition added or changed: def run(x):", "src/a.py", 4)],
    ),
    "docs: public def with docs": ("pass", "1 interface change(s) with 1 doc file(s)", "", []),
    "docs: removed def": (
        "fail",
        "public interface changed in src/a.py and no doc file changed",
        "document the change under docs/**, *.md, **/*.md",
        [("public definition removed or changed", "src/a.py", None)],
    ),
    "docs: def in tests": ("pass", "no public interface changed", "", []),
    "docs: interface path": (
        "fail",
        "public interface changed in api/openapi.yaml and no doc file changed",
        "document the change under docs/**, *.md, **/*.md",
        [("interface path changed", "api/openapi.yaml", None)],
    ),
    "docs: no patterns": ("pass", "no public interface changed", "", []),
    "size: pass": ("pass", "1 file(s), 3 line(s) changed (limits 50 files, 400 lines)", "", []),
    "size: fail": (
        "fail",
        "1 file(s), 2 line(s) changed (limits 50 files, 1 lines)",
        "split the change into smaller ones that each keep the tree working",
        [],
    ),
    "secrets: none": ("pass", "no secret in 2 added line(s)", "", []),
    "secrets: found": (
        "fail",
        "1 possible secret(s) in added lines",
        "remove the secret, rotate it, and read it from the environment or a secret store",
        [("possible secret: AWS Access Key", "src/a.py", 9)],
    ),
    "charter: unchanged": ("pass", "the definition of done is unchanged", "", []),
    "charter: invalid at head": (
        "fail",
        "the charter at head is invalid: onebar.toml:3: bad",
        "fix onebar.toml so that `onebar check` passes",
        [],
    ),
    "charter: introduced": ("pass", "this change introduces the charter; its [done] applies from now on", "", []),
    "charter: no reviews": (
        "not_evaluated",
        "the definition of done changed; no reviews were given",
        "pass --reviews FILE",
        [],
    ),
    "charter: one lead of two": (
        "fail",
        "the definition of done changed; approved by 1 of 2 lead(s) (2 needed)",
        "an approval from pat",
        [("[done] changed without the leads' approval", "onebar.toml", None)],
    ),
    "charter: both leads": ("pass", "the definition of done changed; approved by 2 of 2 lead(s) (2 needed)", "", []),
    "charter: named approvers, one needed": (
        "pass",
        "the definition of done changed; approved by 1 of 2 lead(s) (1 needed)",
        "",
        [],
    ),
    "charter: no leads": (
        "fail",
        "the definition of done changed and the charter names no lead",
        "name a lead for each organisation (or [done.charter] approvers) at the base",
        [],
    ),
    "coverage.total: not given": ("not_evaluated", "no coverage report was given", "pass --coverage FILE", []),
    "coverage.total: below": ("fail", "50.0% of 6 lines covered (minimum 80%)", "cover about 2 more line(s)", []),
    "coverage.total: at": ("pass", "50.0% of 6 lines covered (minimum 50%)", "", []),
    "coverage.changed: not given": ("not_evaluated", "no coverage report was given", "pass --coverage FILE", []),
    "coverage.changed: nothing measured": (
        "pass",
        "no changed line is measured by the report; 1 changed code file(s) not in the report (src/app/z.py)",
        "",
        [],
    ),
    "coverage.changed: below": (
        "fail",
        "25.0% of 4 changed lines covered (minimum 80%); 1 changed code file(s) not in the report (src/app/z.py)",
        "add tests that run the uncovered changed lines",
        [("line(s) 2-3, 6 not covered", "src/app/x.py", 2)],
    ),
    "coverage.changed: above": ("pass", "100.0% of 3 changed lines covered (minimum 80%)", "", []),
    "coverage.changed: too few lines": ("pass", "1 measurable changed line(s), below min_changed_lines=2", "", []),
    "coverage.changed: suffix match": (
        "fail",
        "0.0% of 1 changed lines covered (minimum 80%)",
        "add tests that run the uncovered changed lines",
        [("line(s) 2 not covered", "repo/src/app/x.py", 2)],
    ),
    "findings: not given": ("not_evaluated", "no SARIF file was given", "pass --sarif FILE", []),
    "findings: on changed lines": (
        "fail",
        "4 finding(s) in total; 1 at level warning or above on changed lines",
        "fix the findings listed (or correct the tool's configuration)",
        [("ruff F401 (error): unused import", "src/a.py", 3)],
    ),
    "findings: none on changed lines": (
        "pass",
        "1 finding(s) in total; 0 at level warning or above on changed lines",
        "",
        [],
    ),
    "findings: changed files": (
        "fail",
        "2 finding(s) in total; 2 at level warning or above in changed files",
        "fix the findings listed (or correct the tool's configuration)",
        [("ruff F401 (warning): old", "src/a.py", 30), ("ruff F1 (error): whole file", "src/a.py", None)],
    ),
    "findings: anywhere, ignored, error level": (
        "fail",
        "3 finding(s) in total; 1 at level error or above anywhere",
        "fix the findings listed (or correct the tool's configuration)",
        [("bandit B1 (error): repo-wide", None, None)],
    ),
    "licenses: not given": (
        "not_evaluated",
        "no SBOM or pip-licenses file was given",
        "pass --sbom FILE or --licenses FILE",
        [],
    ),
    "licenses: all allowed": ("pass", "2 dependencies checked against 16 allowed licence(s)", "", []),
    "licenses: some not": (
        "fail",
        "6 dependencies checked against 16 allowed licence(s); 4 not allowed (b 1.0, c 1.0, d 1.0 and 1 more)",
        "replace the dependency, or conclude its licence in [done.licenses] packages after a legal review",
        [
            ("b 1.0: GPL-3.0-only is not on the allow-list", None, None),
            ("c 1.0: no licence declared (unknown)", None, None),
            ("d 1.0: unknown licence 'Custom'", None, None),
            ("e 1.0: AGPL-3.0-only is not on the allow-list", None, None),
        ],
    ),
    "adr: no architecture paths": ("pass", "the charter names no architecture paths", "", []),
    "adr: not touched": ("pass", "no change under architecture paths", "", []),
    "adr: no adr": (
        "fail",
        "1 architecture file(s) changed (src/app/storage/db.py); no ADR under docs/adr in the change",
        "add one with `onebar adr new`, accept it and have the leads sign it",
        [("architecture change without an ADR", "src/app/storage/db.py", None)],
    ),
    "adr: renamed out": (
        "fail",
        "1 architecture file(s) changed (src/app/db.py); no ADR under docs/adr in the change",
        "add one with `onebar adr new`, accept it and have the leads sign it",
        [("architecture change without an ADR", "src/app/db.py", None)],
    ),
    "adr: proposed": (
        "fail",
        "1 architecture file(s) changed (src/app/storage/db.py); ADR-0001 is proposed",
        "accept the ADR: `onebar adr accept N`",
        [("ADR status is proposed", "docs/adr/0001-db.md", None)],
    ),
    "adr: half signed": (
        "fail",
        "1 architecture file(s) changed (src/app/storage/db.py); the ADR lacks sign-offs",
        "have each lead sign: `onebar adr sign N --person LEAD`",
        [("no sign-off from pat (lead of partner)", "docs/adr/0001-db.md", None)],
    ),
    "adr: signed": (
        "pass",
        "1 architecture file(s) changed (src/app/storage/db.py); ADR-0001 accepted and signed by the lead(s) of acme, partner",
        "",
        [],
    ),
    "approvals: not given": ("not_evaluated", "no reviews file was given", "pass --reviews FILE", []),
    "approvals: enough": ("pass", "1 approval(s) (1 needed)", "", []),
    "approvals: short": ("fail", "1 approval(s) (3 needed)", "get 2 more approval(s)", []),
    "approvals: blocked": (
        "fail",
        "1 approval(s) (1 needed); changes requested by pat",
        "resolve the requested changes",
        [],
    ),
    "owners: none touched": ("pass", "no component's paths changed", "", []),
    "owners: not given": ("not_evaluated", "no reviews file was given", "pass --reviews FILE", []),
    "owners: approved": ("pass", "1 component(s) touched (core), each approved by an owner", "", []),
    "owners: missing": (
        "fail",
        "2 component(s) touched (core, storage); 2 without an owner's approval",
        "ask the component's Accountable or Responsible person to approve",
        [
            ("component core needs an approval from alice, quinn", "src/app/x.py", None),
            ("component storage needs an approval from bob, pat", "src/app/storage/y.py", None),
        ],
    ),
    "cross_org: off": ("disabled", "cross_org = false in [done.reviews]", "", []),
    "cross_org: not given": ("not_evaluated", "no reviews file was given", "pass --reviews FILE", []),
    "cross_org: unknown author": (
        "fail",
        "the author x@else.test is not in the charter",
        "add the author to [people] so their organisation is known",
        [],
    ),
    "cross_org: same org": (
        "fail",
        "no approval from a person of another organisation than the author's",
        "ask a reviewer from another organisation in the charter to approve",
        [],
    ),
    "cross_org: other org": ("pass", "approved by pat, quinn of another organisation", "", []),
    "cross_org: co-author approves": (
        "fail",
        "no approval from a person of another organisation than the author's",
        "ask a reviewer from another organisation in the charter to approve",
        [],
    ),
    "docs: a doc file listed first": ("pass", "1 interface change(s) with 1 doc file(s)", "", []),
    "docs: a non-code file listed first": (
        "fail",
        "public interface changed in src/a.py and no doc file changed",
        "document the change under docs/**, *.md, **/*.md",
        [("public definition added or changed: def run():", "src/a.py", 4)],
    ),
    "coverage.total: empty report": (
        "fail",
        "the coverage report measures no line",
        "run the tests under coverage and pass the report it writes",
        [],
    ),
    "coverage.changed: report names a longer path": (
        "fail",
        "0.0% of 1 changed lines covered (minimum 80%)",
        "add tests that run the uncovered changed lines",
        [("line(s) 2 not covered", "src/app/x.py", 2)],
    ),
    "coverage.changed: ignored and removed-only files": (
        "pass",
        "100.0% of 1 changed lines covered (minimum 80%)",
        "",
        [],
    ),
    "findings: skipped ones listed first": (
        "fail",
        "5 finding(s) in total; 1 at level warning or above on changed lines",
        "fix the findings listed (or correct the tool's configuration)",
        [("ruff F401 (error): unused import", "src/a.py", 3)],
    ),
    "approvals: two reviewers the charter does not know": ("pass", "2 approval(s) (2 needed)", "", []),
    "secrets: lines with gaps keep their numbers": (
        "fail",
        "2 possible secret(s) in added lines",
        "remove the secret, rotate it, and read it from the environment or a secret store",
        [("possible secret: AWS Access Key", "cfg/a.py", 4), ("possible secret: AWS Access Key", "cfg/b.py", 3)],
    ),
    "cross_org: a co-author the charter does not know approves": (
        "fail",
        "no approval from a person of another organisation than the author's",
        "ask a reviewer from another organisation in the charter to approve",
        [],
    ),
}


def _shape(o: Outcome) -> tuple[object, ...]:
    return (o.status, o.saw, o.fix, [(v.message, v.path, v.line) for v in o.violations])


def test_every_scenario_has_an_expectation() -> None:
    assert set(EXPECTED) == set(SCENARIOS) | set(AUTHOR_SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_outcome(name: str) -> None:
    check, change_, evidence_, charter_ = SCENARIOS[name]
    assert _shape(check(change_, evidence_, charter_)) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(AUTHOR_SCENARIOS))
def test_cross_org_outcome(name: str) -> None:
    change_, evidence_, charter_, authorship = AUTHOR_SCENARIOS[name]
    assert _shape(pr.reviews_cross_org(change_, evidence_, charter_, authorship)) == EXPECTED[name]
