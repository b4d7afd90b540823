"""The rule registry is the one declaration of every rule: pinned here, stamped on every result.

Ids, titles, order, settings tables, evidence kinds and who reads the author are part of the gate's
contract (JSON, SARIF rule ids, JUnit test names, docs): changing any of them must be deliberate.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate_fixtures import change, charter, evidence, fc, review
from onebar.gate.model import AdrRecord, Authorship, Coverage, FileCoverage, Finding, Participant
from onebar.gate.rules import RULES, Rule, run_rules

C = charter()
AUTHOR = Authorship(Participant(person="alice", org="acme"))

# id, title, [done.<table>], evidence needed, reads the author
PINNED = [
    ("tests.with_code", "Code changes come with test changes", "tests", None, False),
    ("docs.with_interface", "Public-interface changes come with doc changes", "docs", None, False),
    ("coverage.total", "Total line coverage at or above the minimum", "coverage", "coverage", False),
    ("coverage.changed", "Coverage of the changed lines at or above the minimum", "coverage", "coverage", False),
    ("findings", "No findings at or above the severity threshold", "findings", "sarif", False),
    ("secrets", "No secrets in added lines", "secrets", None, False),
    ("licenses", "Dependency licences on the allow-list", "licenses", "licenses", False),
    ("size", "The change is small enough to review", "size", None, False),
    ("reviews.approvals", "At least N approvals, no change requested", "reviews", "reviews", False),
    ("reviews.cross_org", "Approved by someone of another organisation", "reviews", "reviews", True),
    (
        "agents.human_review",
        "Agent-written changes approved by a human of an accountable organisation",
        "agents",
        "reviews",
        True,
    ),
    ("owners", "Touched components approved by their owners", "owners", "reviews", False),
    ("adr.architecture", "Architecture changes carry an accepted, signed-off ADR", "adr", None, False),
    ("charter.done", "Changes to the definition of done are approved by the leads", "charter", "reviews", False),
]


def test_the_registry_is_pinned() -> None:
    assert [(r.id, r.title, r.setting, r.evidence, r.reads_author) for r in RULES] == PINNED


def test_only_the_rules_that_declare_it_are_handed_the_author() -> None:
    assert [r.id for r in RULES if r.reads_author] == ["reviews.cross_org", "agents.human_review"]
    assert all((r.check is None) == r.reads_author for r in RULES)


def test_a_rule_declares_exactly_one_check() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Rule("x", "X", "size")
    with pytest.raises(ValueError, match="exactly one"):
        Rule("x", "X", "size", RULES[0].check, check_with_author=RULES[9].check_with_author)


# Inputs that drive the rules down different branches: pass, fail, not evaluated, disabled.
CHANGES = [
    change(),
    change(fc("src/app/x.py", {1: "def public():"})),
    change(fc("src/app/storage/db.py", {1: "x = 1"}), fc("tests/test_db.py", {1: "x"}), fc("docs/a.md", {1: "x"})),
    change(fc("cfg/k.py", {1: 'PASSWORD = "correct-horse-battery"'})),
]
EVIDENCE = [
    evidence(),
    evidence(
        coverage=Coverage("c.xml", (FileCoverage("src/app/x.py", {1: 0}),)),
        findings=(Finding("ruff", "E1", "error", "bad", "src/app/x.py", 1),),
        dependencies=(),
        reviews=(review(C, "pat"), review(C, "bob", "changes_requested")),
        adrs=(AdrRecord("docs/adr/0001-x.md", 1, "x", "proposed"),),
    ),
]
CHARTERS = [C, charter("\n[done.reviews]\ncross_org = false\n[done.size]\nmax_lines = 1\n")]


@pytest.mark.parametrize(("ch", "ev", "charter_"), list(itertools.product(CHANGES, EVIDENCE, CHARTERS)))
def test_every_result_carries_its_registered_id_and_title(ch: object, ev: object, charter_: object) -> None:
    results = run_rules(ch, ev, charter_, AUTHOR)  # type: ignore[arg-type]
    assert [(r.id, r.title) for r in results] == [(p[0], p[1]) for p in PINNED]


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from([p[2] for p in PINNED])))
def test_disabling_rules_never_hides_another(disabled: set[str]) -> None:
    """However many tables are switched off, every rule is reported, in registry order, and only the
    rules of the disabled tables say `disabled` because of it."""
    text = "".join(f"\n[done.{table}]\nenabled = false\n" for table in sorted(disabled))
    results = run_rules(change(fc("src/app/x.py", {1: "x = 1"})), evidence(), charter(text), AUTHOR)
    assert [(r.id, r.title) for r in results] == [(p[0], p[1]) for p in PINNED]
    for r, (_, _, table, _, _) in zip(results, PINNED, strict=True):
        if table in disabled:
            assert (r.status, r.saw) == ("disabled", f"[done.{table}] enabled = false")
        else:
            assert r.status != "disabled"
