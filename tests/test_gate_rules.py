"""Each rule as a pure function over plain data: what passes, what fails, what is not evaluated."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gate_fixtures import change, charter, evidence, fc, review
from onebar.gate.model import (
    AdrRecord,
    Authorship,
    Coverage,
    Dependency,
    FileCoverage,
    Finding,
    Participant,
)
from onebar.gate.rules import run_rules
from onebar.gate.rules.changes import charter_done, code_has_tests, docs_with_interface, secrets, size
from onebar.gate.rules.evidence_rules import coverage_changed, coverage_total, findings, licenses
from onebar.gate.rules.people_rules import adr_architecture, owners, reviews_approvals, reviews_cross_org

C = charter()
NOBODY = Authorship(Participant(name="x"))


def test_code_has_tests_fails_without_a_test_and_passes_with_one() -> None:
    code = fc("src/app/x.py", {1: "x = 1"})
    failed = code_has_tests(change(code), evidence(), C)
    assert failed.status == "fail"
    assert "src/app/x.py" in failed.saw
    assert "tests/**" in failed.fix
    assert code_has_tests(change(code, fc("tests/test_x.py", {1: "..."})), evidence(), C).status == "pass"
    # deleting code needs no test; changing only docs needs none
    assert code_has_tests(change(fc("src/app/x.py", status="D")), evidence(), C).status == "pass"
    assert code_has_tests(change(fc("README.md", {1: "hi"})), evidence(), C).status == "pass"


def test_docs_rule_sees_public_definitions_not_private_ones() -> None:
    public = fc("src/app/api.py", {10: "def fetch(url):"})
    private = fc("src/app/api.py", {10: "def _fetch(url):", 11: "    def inner():"})
    assert docs_with_interface(change(private), evidence(), C).status == "pass"
    failed = docs_with_interface(change(public), evidence(), C)
    assert failed.status == "fail"
    assert failed.violations[0].line == 10
    assert docs_with_interface(change(public, fc("docs/api.md", {1: "fetch"})), evidence(), C).status == "pass"
    removed = fc("src/app/api.py", removed=("class Client:",))
    assert docs_with_interface(change(removed), evidence(), C).status == "fail"


def test_docs_rule_interface_paths_count_any_change() -> None:
    c = charter('\n[done.docs]\ninterface = ["openapi.yaml"]\n')
    assert docs_with_interface(change(fc("openapi.yaml", {3: "  x: 1"})), evidence(), c).status == "fail"


def test_size_limits_and_exclusions() -> None:
    big = fc("src/a.py", dict.fromkeys(range(1, 402), "x"))
    assert size(change(big), evidence(), C).status == "fail"
    lock = fc("poetry.lock", dict.fromkeys(range(1, 5000), "x"))
    assert size(change(lock), evidence(), C).status == "pass"
    many = [fc(f"f{i}.txt", {1: "x"}) for i in range(51)]
    assert size(change(*many), evidence(), C).status == "fail"


def test_secrets_found_in_added_lines_without_echoing_them() -> None:
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    result = secrets(change(fc("src/conf.py", {7: f'AWS_ACCESS_KEY_ID = "{key}"'})), evidence(), C)
    assert result.status == "fail"
    assert result.violations[0].path == "src/conf.py"
    assert result.violations[0].line == 7
    assert key not in repr(result)
    assert secrets(change(fc("src/conf.py", {7: "timeout = 30"})), evidence(), C).status == "pass"


def test_coverage_total_and_changed_lines() -> None:
    cov = Coverage("c.xml", (FileCoverage("src/app/x.py", {1: 1, 2: 0, 3: 1, 4: 1, 5: 1}),))
    assert coverage_total(change(), evidence(coverage=cov), C).status == "pass"  # 80.0 % is at the minimum
    assert "80.0%" in coverage_total(change(), evidence(coverage=cov), C).saw
    ch = change(fc("src/app/x.py", {2: "a", 3: "b"}))
    result = coverage_changed(ch, evidence(coverage=cov), C)
    assert result.status == "fail"
    assert "50.0%" in result.saw
    assert result.violations[0].line == 2
    assert coverage_changed(change(fc("src/app/x.py", {3: "b"})), evidence(coverage=cov), C).status == "pass"


def test_coverage_matches_report_paths_by_suffix() -> None:
    cov = Coverage("jacoco.xml", (FileCoverage("com/acme/Foo.java", {5: 0}),))
    ch = change(fc("src/main/java/com/acme/Foo.java", {5: "x();"}))
    assert coverage_changed(ch, evidence(coverage=cov), C).status == "fail"


def test_findings_scope_and_level() -> None:
    f_changed = Finding("ruff", "F401", "error", "unused", "src/a.py", 3)
    f_old = Finding("ruff", "F401", "error", "unused", "src/a.py", 30)
    f_note = Finding("ruff", "X1", "note", "style", "src/a.py", 3)
    ch = change(fc("src/a.py", {3: "import os"}))
    r = findings(ch, evidence(findings=(f_changed, f_old, f_note)), C)
    assert r.status == "fail"
    assert len(r.violations) == 1
    assert r.violations[0].line == 3
    assert findings(ch, evidence(findings=(f_old, f_note)), C).status == "pass"
    anywhere = charter('\n[done.findings]\nscope = "anywhere"\n')
    assert findings(ch, evidence(findings=(f_old,)), anywhere).status == "fail"


def test_licences_allow_list_with_and_or() -> None:
    def deps(*lic: str) -> object:
        return evidence(dependencies=(Dependency("pkg", "1.0", lic),))

    assert licenses(change(), deps("MIT"), C).status == "pass"
    assert licenses(change(), deps("MIT OR GPL-3.0-only"), C).status == "pass"
    assert licenses(change(), deps("MIT AND GPL-3.0-only"), C).status == "fail"
    assert licenses(change(), deps("GNU General Public License v3 (GPLv3)"), C).status == "fail"
    assert licenses(change(), deps("LGPL-2.1-or-later"), C).status == "fail"
    assert licenses(change(), deps("AGPL-3.0-only"), C).status == "fail"
    assert licenses(change(), deps("SSPL-1.0"), C).status == "fail"
    assert licenses(change(), deps("Apache Software License", "BSD License"), C).status == "pass"
    unknown = licenses(change(), deps("Some Custom Licence"), C)
    assert unknown.status == "fail"
    assert "unknown" in unknown.violations[0].message
    assert licenses(change(), deps(), C).status == "fail"  # nothing declared is unknown
    concluded = charter('\n[done.licenses]\npackages = { pkg = "MIT" }\n')
    assert licenses(change(), deps("Some Custom Licence"), concluded).status == "pass"


def test_adr_rule_needs_an_accepted_adr_signed_by_the_involved_leads() -> None:
    arch = fc("src/app/storage/db.py", {1: "x"})
    adr_path = "docs/adr/0001-use-postgres.md"
    ch = change(arch, fc(adr_path, {1: "---"}, status="A"))
    assert adr_architecture(change(fc("src/app/ui.py", {1: "x"})), evidence(), C).status == "pass"
    assert adr_architecture(change(arch), evidence(), C).status == "fail"
    proposed = AdrRecord(adr_path, 1, "Use Postgres", "proposed", (), ())
    assert "proposed" in adr_architecture(ch, evidence(adrs=(proposed,)), C).saw
    # storage involves bob (acme) and pat (partner): both leads, alice and pat, must sign
    half = AdrRecord(adr_path, 1, "Use Postgres", "accepted", (), ("alice",))
    r = adr_architecture(ch, evidence(adrs=(half,)), C)
    assert r.status == "fail"
    assert "pat" in r.violations[0].message
    both = AdrRecord(adr_path, 1, "Use Postgres", "accepted", (), ("alice", "pat"))
    assert adr_architecture(ch, evidence(adrs=(both,)), C).status == "pass"
    # an ADR not in the change does not count
    assert adr_architecture(change(arch), evidence(adrs=(both,)), C).status == "fail"


def test_approvals_and_change_requests() -> None:
    assert reviews_approvals(change(), evidence(), C).status == "not_evaluated"
    assert reviews_approvals(change(), evidence(reviews=()), C).status == "fail"
    assert reviews_approvals(change(), evidence(reviews=(review(C, "bob"),)), C).status == "pass"
    blocked = (review(C, "bob"), review(C, "pat", "changes_requested"))
    assert reviews_approvals(change(), evidence(reviews=blocked), C).status == "fail"


def test_cross_org_compares_reviewer_with_author() -> None:
    alice = Authorship(Participant(person="alice", org="acme"), (Participant(person="alice", org="acme"),))
    same = evidence(reviews=(review(C, "bob"),))
    other = evidence(reviews=(review(C, "pat"),))
    assert reviews_cross_org(change(), same, C, alice).status == "fail"
    assert reviews_cross_org(change(), other, C, alice).status == "pass"
    # a co-author from another organisation cannot provide the cross-organisation approval
    mixed = Authorship(Participant(person="alice", org="acme"), (Participant(person="pat", org="partner"),))
    assert reviews_cross_org(change(), other, C, mixed).status == "fail"
    stranger = Authorship(Participant(email="x@else.test"))
    assert "not in the charter" in reviews_cross_org(change(), other, C, stranger).saw


def test_owners_last_matching_pattern_wins() -> None:
    storage = change(fc("src/app/storage/db.py", {1: "x"}))
    # src/** belongs to core (alice, quinn) but the later src/app/storage/** to storage (bob, pat)
    assert owners(storage, evidence(reviews=(review(C, "alice"),)), C).status == "fail"
    assert owners(storage, evidence(reviews=(review(C, "pat"),)), C).status == "pass"
    assert owners(change(fc("src/app/x.py", {1: "x"})), evidence(reviews=(review(C, "quinn"),)), C).status == "pass"
    assert owners(change(fc("README.md", {1: "x"})), evidence(), C).status == "pass"
    assert owners(storage, evidence(), C).status == "not_evaluated"


def test_charter_change_needs_the_leads() -> None:
    before = C.done.model_dump(mode="json")
    after = charter("\n[done.coverage]\nmin_total = 10\n").done.model_dump(mode="json")
    from onebar.gate.model import Change

    ch = Change("b", "h", (fc("onebar.toml", {1: "x"}),), "onebar.toml", before, after)
    assert charter_done(change(), evidence(), C).status == "pass"
    assert charter_done(ch, evidence(), C).status == "not_evaluated"
    assert charter_done(ch, evidence(reviews=(review(C, "alice"),)), C).status == "fail"
    assert charter_done(ch, evidence(reviews=(review(C, "alice"), review(C, "pat"))), C).status == "pass"
    # when reviews are required evidence, a changed definition of done without them fails
    strict = charter('\n[done]\nrequired_evidence = ["reviews"]\n')
    results = {r.id: r for r in run_rules(ch, evidence(), strict, NOBODY)}
    assert results["charter.done"].status == "fail"
    unchanged = {r.id: r for r in run_rules(change(), evidence(), strict, NOBODY)}
    assert unchanged["charter.done"].status == "pass"


def test_disabled_evaluate_and_required_evidence() -> None:
    c = charter(
        '\nrequired_evidence = ["coverage"]\n[done.size]\nenabled = false\n[done.tests]\nmode = "evaluate"\n'.replace(
            "\nrequired_evidence", "\n[done]\nrequired_evidence"
        )
    )
    results = {r.id: r for r in run_rules(change(fc("src/a.py", {1: "x"})), evidence(), c, NOBODY)}
    assert results["size"].status == "disabled"
    assert results["tests.with_code"].status == "fail"
    assert not results["tests.with_code"].blocking
    assert results["coverage.total"].status == "fail"  # required evidence missing fails instead of not evaluated
    assert results["findings"].status == "not_evaluated"


SECRET_LINES = [
    'PASSWORD = "correct-horse-battery"',
    "token: 'ghp_" + "a" * 36 + "'",
    "-----BEGIN RSA " + "PRIVATE KEY-----",
    'blob = "' + "Zm9vYmFyYmF6cXV4eHl6enlYV1ZVVFNSUVBPTk1MS0pJSEdGRUQ=" + '"',
    'sig = "' + "8f3a9c0d4e5b6a7f8e9d0c1b2a3f4e5d" + '"',
    "url = 'https://user:" + "hunter2@example.com/x'",
    "x = compute(value)  # nothing here",
    "label = 'item-1-2'",
    "notify XOXB-1234567890-abcdefghij",  # only the Slack pattern, case-insensitive, can fire on it
    'blob = "cHJbNpnrgeBaFQfkIjOqKGmMotLDdiSTACPlERsh"',  # high entropy, far less once lower-cased
]


def test_secret_prechecks_never_hide_a_finding() -> None:
    """The pre-check only skips files detect-secrets itself would find nothing in."""
    from detect_secrets.core.scan import scan_diff
    from detect_secrets.settings import default_settings, get_filters

    from onebar.gate.rules.secretscan import _as_diff, scan_added

    files = [fc(f"src/m{i}.py", dict(enumerate(SECRET_LINES[i::3], 1))) for i in range(3)]
    files += [fc(f"cfg/{i}.yaml", {1: SECRET_LINES[i]}) for i in range(len(SECRET_LINES))]
    with default_settings() as s:
        s.disable_filters("detect_secrets.filters.common.is_invalid_file")
        get_filters.cache_clear()
        full = sorted({(x.filename, int(x.line_number), x.type) for x in scan_diff(_as_diff(files))})
    assert len(full) >= 5
    assert scan_added(files) == full


def test_charter_refuses_a_non_spdx_allow_list() -> None:
    import pytest

    from onebar.errors import CharterError

    with pytest.raises(CharterError, match=r"done\.licenses\.allow"):
        charter('\n[done.licenses]\nallow = ["MIT", "Beerware-ish"]\n')
    c = charter('\n[done.licenses]\nallow = ["MIT", "GPL-2.0-only WITH Classpath-exception-2.0"]\n')
    dep = Dependency("jdk-ish", "1", ("GPL-2.0-only WITH Classpath-exception-2.0",))
    assert licenses(change(), evidence(dependencies=(dep,)), c).status == "pass"
    plain_gpl = Dependency("gpl", "1", ("GPL-2.0-only",))
    assert licenses(change(), evidence(dependencies=(plain_gpl,)), c).status == "fail"
    # an exception only adds permissions: allowed when the licence itself is
    llvm = Dependency("llvm", "1", ("Apache-2.0 WITH LLVM-exception",))
    assert licenses(change(), evidence(dependencies=(llvm,)), C).status == "pass"


def _full_scan(files: list) -> list[tuple[str, int, str]]:
    from detect_secrets.core.scan import scan_diff
    from detect_secrets.settings import default_settings, get_filters

    from onebar.gate.rules.secretscan import _as_diff

    with default_settings() as s:
        s.disable_filters("detect_secrets.filters.common.is_invalid_file")
        get_filters.cache_clear()
        return sorted({(x.filename, int(x.line_number), x.type) for x in scan_diff(_as_diff(files))})


_piece = st.sampled_from([*SECRET_LINES, "x = 1", "Api_Key: 'Q9zLx2Vb7Kp1Wm4Rt8Yn'", "  ", "\t# comment"])
_line = st.tuples(_piece, st.sampled_from(["", " ", "\r", "  \r"]), st.booleans()).map(
    lambda t: (t[0].upper() if t[2] else t[0]) + t[1]
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(_line, min_size=1, max_size=4), min_size=1, max_size=4),
    st.sampled_from(["py", "yaml", "js", "env", "txt"]),
)
def test_secret_prechecks_are_sound_on_random_text(contents: list[list[str]], ext: str) -> None:
    from onebar.gate.rules.secretscan import scan_added

    files = [fc(f"d/f{i}.{ext}", dict(enumerate(lines, 1))) for i, lines in enumerate(contents)]
    assert scan_added(files) == _full_scan(files)


def test_a_typo_in_the_definition_of_done_is_a_charter_error() -> None:
    import pytest

    from onebar.errors import CharterError

    with pytest.raises(CharterError) as err:
        charter('\n[done.tests]\ncod = ["lib/**"]\n')
    assert "done.tests.cod" in str(err.value)
    assert "unknown field" in str(err.value)
    with pytest.raises(CharterError, match=r"done\.findings\.level"):
        charter('\n[done.findings]\nlevel = "critical"\n')


def test_a_secrets_plugin_the_precheck_does_not_know_makes_every_file_a_suspect() -> None:
    from onebar.gate.rules.secretscan import _suspects

    files = [fc("a.txt", {1: "x"}), fc("b.txt", {1: "y"})]
    assert _suspects(files, [object()]) == files
