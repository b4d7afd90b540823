"""The gate's limits at and around their thresholds, and the settings that only bite in corners.

Written against mutation testing (docs/testing.md): each test fails when a comparison flips (`<=` to
`<`), a loop `continue` becomes `break`, or a setting stops being read.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gate_fixtures import change, charter, evidence, fc
from onebar.gate.model import AdrRecord, Coverage, FileChange, FileCoverage
from onebar.gate.rules.changes import code_has_tests, docs_with_interface, secrets, size
from onebar.gate.rules.evidence_rules import coverage_changed, coverage_total
from onebar.gate.rules.people_rules import adr_architecture

C = charter()


def _sized(path: str, added: int, removed: int) -> FileChange:
    return FileChange(path, "M", None, {}, (), added, removed)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=8), st.integers(0, 3), st.data()
)
def test_size_passes_exactly_up_to_its_limits(lines: list[tuple[int, int]], locks: int, data: st.DataObject) -> None:
    total = sum(a + r for a, r in lines)
    # the limits at, just under and around what the change holds
    max_lines = data.draw(st.sampled_from([max(1, total), max(1, total - 1), total + 1]) | st.integers(1, 300))
    max_files = data.draw(st.sampled_from([len(lines), max(1, len(lines) - 1)]) | st.integers(1, 8))
    c = charter(f"\n[done.size]\nmax_lines = {max_lines}\nmax_files = {max_files}\n")
    files = [_sized(f"src/f{i}.py", a, r) for i, (a, r) in enumerate(lines)]
    files += [_sized(f"deps/{i}/poetry.lock", 500, 500) for i in range(locks)]  # excluded: never counted
    result = size(change(*files), evidence(), c)
    expected = "pass" if total <= max_lines and len(lines) <= max_files else "fail"
    assert result.status == expected
    assert result.saw == f"{len(lines)} file(s), {total} line(s) changed (limits {max_files} files, {max_lines} lines)"


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 400), st.data())
def test_coverage_total_threshold_and_the_lines_to_cover(total: int, data: st.DataObject) -> None:
    """Pass exactly when covered/total reaches the minimum; when it does not, covering the hinted number
    of lines more would pass and one fewer would not."""
    covered = data.draw(st.integers(0, total))
    minimum = data.draw(
        st.one_of(
            st.just(round(100 * covered / total, 1)),  # exactly at the minimum as the charter would write it
            st.integers(0, 100).map(float),
            st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 2)),
        )
    )
    c = charter(f"\n[done.coverage]\nmin_total = {minimum}\n")

    def run(n: int) -> tuple[str, str]:
        lines = {i: (1 if i <= n else 0) for i in range(1, total + 1)}
        r = coverage_total(change(), evidence(coverage=Coverage("c.xml", (FileCoverage("src/a.py", lines),))), c)
        return r.status, r.fix

    status, fix = run(covered)
    reaches = 100 * covered / total + 1e-9 >= minimum
    assert status == ("pass" if reaches else "fail")
    if not reaches:
        need = int(fix.removeprefix("cover about ").removesuffix(" more line(s)"))
        assert need >= 1
        assert run(covered + need)[0] == "pass"
        assert run(covered + need - 1)[0] == "fail"


def test_coverage_total_ignores_files_and_fails_an_empty_report() -> None:
    cov = Coverage("c.xml", (FileCoverage("src/a.py", {1: 1}), FileCoverage("gen/b.py", {1: 0, 2: 0})))
    assert coverage_total(change(), evidence(coverage=cov), C).status == "fail"  # 33 %
    ignoring = charter('\n[done.coverage]\nignore = ["gen/**"]\n')
    assert coverage_total(change(), evidence(coverage=cov), ignoring).saw.startswith("100.0% of 1 lines")
    empty = coverage_total(change(), evidence(coverage=Coverage("c.xml", ())), C)
    assert (empty.status, empty.saw) == ("fail", "the coverage report measures no line")


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 60), st.data())
def test_coverage_changed_threshold(measured: int, data: st.DataObject) -> None:
    covered = data.draw(st.integers(0, measured))
    minimum = data.draw(st.one_of(st.just(round(100 * covered / measured, 2)), st.integers(0, 100).map(float)))
    floor = data.draw(st.integers(0, 80))
    c = charter(f"\n[done.coverage]\nmin_changed = {minimum}\nmin_changed_lines = {floor}\n")
    hits = {i: (1 if i <= covered else 0) for i in range(1, measured + 1)}
    hits[measured + 1] = 1  # measured, not changed: never counted
    ch = change(fc("src/a.py", dict.fromkeys(range(1, measured + 1), "x") | {1000: "not measured"}))
    result = coverage_changed(ch, evidence(coverage=Coverage("c.xml", (FileCoverage("src/a.py", hits),))), c)
    if measured < floor:
        assert result.status == "pass"
        assert result.saw == f"{measured} measurable changed line(s), below min_changed_lines={floor}"
        return
    reaches = 100 * covered / measured + 1e-9 >= minimum
    assert result.status == ("pass" if reaches else "fail")
    assert f"of {measured} changed lines covered" in result.saw
    if not reaches:
        assert result.violations[0].path == "src/a.py"
        assert result.violations[0].line == covered + 1


def test_secrets_skips_excluded_paths_and_binary_files() -> None:
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    line = {3: f'AWS_ACCESS_KEY_ID = "{key}"'}
    found = secrets(change(fc("fixtures/keys.py", line)), evidence(), C)
    assert (found.status, found.violations[0].path, found.violations[0].line) == ("fail", "fixtures/keys.py", 3)
    excluded = charter('\n[done.secrets]\nexclude = ["fixtures/**"]\n')
    skipped = secrets(change(fc("fixtures/keys.py", line), fc("src/a.py", {1: "x = 1"})), evidence(), excluded)
    assert (skipped.status, skipped.saw) == ("pass", "no secret in 1 added line(s)")
    binary = FileChange("img/logo.png", "A", None, line, (), 1, 0, binary=True)
    assert secrets(change(binary), evidence(), C).saw == "no secret in 0 added line(s)"


ADR = "docs/adr/0001-x.md"


def _adr(*signed: str, deciders: tuple[str, ...] = ()) -> AdrRecord:
    return AdrRecord(ADR, 1, "x", "accepted", deciders, signed)


# An architecture component only acme people own; the partner and the bots are not involved in it.
ACME_ONLY = """
[components.schema]
paths = ["db/**"]
accountable = "alice"
responsible = ["bob"]
architecture = true
"""


def test_adr_signoff_involved_counts_the_deciders_organisations() -> None:
    c = charter(ACME_ONLY)
    ch = change(fc("db/schema.sql", {1: "x"}), fc(ADR, {1: "---"}, status="A"))
    assert adr_architecture(ch, evidence(adrs=(_adr("alice"),)), c).status == "pass"
    with_partner = adr_architecture(ch, evidence(adrs=(_adr("alice", deciders=("quinn",)),)), c)
    assert with_partner.status == "fail"
    assert [v.message for v in with_partner.violations] == ["no sign-off from pat (lead of partner)"]
    signed = evidence(adrs=(_adr("alice", "pat", deciders=("quinn",)),))
    assert adr_architecture(ch, signed, c).saw.endswith("ADR-0001 accepted and signed by the lead(s) of acme, partner")
    # an agent decider's organisation signs nothing (exempt kind), so it needs no lead
    assert adr_architecture(ch, evidence(adrs=(_adr("alice", deciders=("robo",)),)), c).status == "pass"
    strict = charter(ACME_ONLY + "\n[done.adr]\nexempt_kinds = []\n")
    no_lead = adr_architecture(ch, evidence(adrs=(_adr("alice", deciders=("robo",)),)), strict)
    assert [v.message for v in no_lead.violations] == ["organisation 'bots' has no lead in the charter to sign off"]


def test_adr_signoff_all_needs_every_organisations_lead() -> None:
    c = charter(ACME_ONLY + '\n[done.adr]\nsignoff = "all"\n')
    ch = change(fc("db/schema.sql", {1: "x"}), fc(ADR, {1: "---"}, status="A"))
    only_alice = adr_architecture(ch, evidence(adrs=(_adr("alice"),)), c)
    assert [v.message for v in only_alice.violations] == ["no sign-off from pat (lead of partner)"]
    assert adr_architecture(ch, evidence(adrs=(_adr("alice", "pat"),)), c).status == "pass"


def test_a_rules_places_are_capped_at_fifty() -> None:
    """A PR comment must stay readable and under GitHub's size limit: at most 50 places per rule."""
    code = [fc(f"src/m{i:02}.py", {1: "def run():"}) for i in range(51)]
    assert len(code_has_tests(change(*code), evidence(), C).violations) == 50
    assert len(docs_with_interface(change(*code), evidence(), C).violations) == 50
    assert len(code_has_tests(change(*code[:50]), evidence(), C).violations) == 50
