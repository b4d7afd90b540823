"""Evidence the gate reads: real coverage.py and ruff output, and every kind of bad input (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate_fixtures import CHARTER
from helpers import GitRepo, run_cli
from onebar.charter import parse_charter
from onebar.errors import EvidenceError
from onebar.gate.deps import parse_pip_licenses, parse_sbom
from onebar.gate.evidence import parse_coverage, parse_sarif
from onebar.gate.reviews import parse_reviews

CALC = "def add(a, b):\n    return a + b\n"
CALC_2 = CALC + "\n\ndef _twice(x):\n    if x > 100:\n        return 0\n    return 2 * x\n"
RUNNER = "import sys\nsys.path.insert(0, 'src')\nfrom app.calc import add, _twice\nadd(1, 2)\n_twice(3)\n"


@pytest.fixture
def measured(repo: GitRepo) -> GitRepo:
    """A change adding a function whose one branch is never run, measured by coverage.py for real."""
    repo.commit(
        "start",
        {
            "onebar.toml": CHARTER,
            "src/app/__init__.py": "",
            "src/app/calc.py": CALC,
            "tests/test_calc.py": "def test():\n    pass\n",
        },
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("twice", {"src/app/calc.py": CALC_2, "tests/run_calc.py": RUNNER})
    py = [sys.executable, "-m", "coverage"]
    subprocess.run([*py, "run", "--source=src", "tests/run_calc.py"], cwd=repo.path, check=True, capture_output=True)
    subprocess.run([*py, "xml", "-o", "../cov.xml"], cwd=repo.path, check=True, capture_output=True)
    subprocess.run([*py, "lcov", "-o", "../cov.lcov"], cwd=repo.path, check=True, capture_output=True)
    return repo


def gate_json(repo: GitRepo, *args: str) -> tuple[int, dict]:
    result = run_cli("gate", str(repo.path), "--base", "main", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def rule(data: dict, rid: str) -> dict:
    return next(r for r in data["rules"] if r["id"] == rid)


@pytest.mark.parametrize("report", ["cov.xml", "cov.lcov"])
def test_real_coverage_reports_measure_changed_lines(measured: GitRepo, report: str) -> None:
    cov = parse_coverage(measured.path.parent / report, measured.path)
    assert "src/app/calc.py" in {f.path for f in cov.files}  # made relative to the repository root
    code, data = gate_json(measured, "--coverage", str(measured.path.parent / report))
    changed = rule(data, "coverage.changed")
    # _twice: def, if, return 0 (never run), return 2 * x -> 3 of 4 changed lines covered
    assert changed["status"] == "fail"
    assert "75.0% of 4 changed lines" in changed["saw"]
    assert changed["violations"] == [{"message": "line(s) 7 not covered", "path": "src/app/calc.py", "line": 7}]
    total = rule(data, "coverage.total")
    assert total["status"] == "pass"
    assert code == 1


def test_real_ruff_sarif_on_changed_lines(measured: GitRepo) -> None:
    measured.commit(
        "imports",
        {
            "src/app/extra.py": "import os\nimport sys\n\nprint(sys.argv)\n",
            "tests/test_extra.py": "def test():\n    pass\n",
        },
    )
    sarif = measured.path.parent / "ruff.sarif"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--select",
            "F401",
            "--output-format",
            "sarif",
            "--exit-zero",
            "src",
        ],
        cwd=measured.path,
        capture_output=True,
        check=True,
    )
    sarif.write_bytes(out.stdout)
    findings = parse_sarif(sarif, measured.path)
    assert [(f.tool, f.rule_id, f.path, f.line) for f in findings] == [("ruff", "F401", "src/app/extra.py", 1)]
    code, data = gate_json(measured, "--sarif", str(sarif))
    result = rule(data, "findings")
    assert result["status"] == "fail"
    assert result["violations"][0]["path"] == "src/app/extra.py"
    assert result["violations"][0]["line"] == 1
    assert code == 1


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


COBERTURA = (
    '<?xml version="1.0" ?>\n<coverage version="7" line-rate="1"><sources><source>/r/src</source></sources>'
    '<packages><package name="a"><classes><class filename="a/x.py"><lines><line number="1" hits="1"/>'
    "</lines></class></classes></package></packages></coverage>\n"
)


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("trunc.xml", COBERTURA[: len(COBERTURA) // 2], "malformed"),
        ("empty.xml", "", "empty"),
        ("other.xml", "<html><body/></html>", "unknown coverage XML"),
        ("bad.xml", COBERTURA.replace('hits="1"', 'hits="many"'), "integer"),
        ("bomb.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><coverage>&a;</coverage>', "unsafe"),
        ("bad.lcov", "SF:a.py\nDA:x,1\nend_of_record\n", "integer"),
        ("orphan.lcov", "DA:1,1\n", "outside a record"),
        ("prose.txt", "hello world\n", "not LCOV"),
    ],
)
def test_bad_coverage_names_the_file(tmp_path: Path, name: str, text: str, needle: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(EvidenceError) as err:
        parse_coverage(path, tmp_path)
    assert needle in str(err.value)
    assert name in str(err.value)


def test_truncated_xml_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.xml", COBERTURA.replace("><", ">\n<")[:200])
    with pytest.raises(EvidenceError) as err:
        parse_coverage(path, tmp_path)
    assert err.value.location is not None
    assert err.value.location.line is not None


def test_jacoco_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "jacoco.xml",
        '<?xml version="1.0"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" '
        '"report.dtd"><report name="x"><package name="com/acme"><sourcefile name="Foo.java">'
        '<line nr="3" mi="0" ci="2" mb="0" cb="0"/><line nr="4" mi="1" ci="0" mb="0" cb="0"/>'
        "</sourcefile></package></report>",
    )
    cov = parse_coverage(path, tmp_path)
    assert cov.files[0].path == "com/acme/Foo.java"
    assert cov.files[0].lines == {3: 2, 4: 0}


SARIF_OK = {
    "version": "2.1.0",
    "runs": [
        {
            "tool": {"driver": {"name": "t", "rules": [{"id": "R1", "defaultConfiguration": {"level": "note"}}]}},
            "results": [
                {
                    "ruleIndex": 0,
                    "message": {"text": "m"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "src/a.py", "uriBaseId": "%SRCROOT%"},
                                "region": {"startLine": 4},
                            }
                        }
                    ],
                },
                {
                    "ruleId": "R2",
                    "level": "error",
                    "message": {"text": "suppressed"},
                    "suppressions": [{"kind": "inSource"}],
                },
            ],
        }
    ],
}


def test_sarif_level_falls_back_to_rule_default_and_skips_suppressed(tmp_path: Path) -> None:
    findings = parse_sarif(write(tmp_path, "a.sarif", json.dumps(SARIF_OK)), tmp_path)
    assert [(f.rule_id, f.level, f.path, f.line) for f in findings] == [("R1", "note", "src/a.py", 4)]


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({**SARIF_OK, "version": "2.0.0"}, "version '2.0.0'"),
        ({"version": "2.1.0"}, "runs"),
        ({"version": "2.1.0", "runs": [{"tool": {}}]}, "tool.driver.name"),
        (
            {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [{"level": "fatal"}]}]},
            "unknown level",
        ),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_sarif(tmp_path: Path, doc: object, needle: str) -> None:
    with pytest.raises(EvidenceError) as err:
        parse_sarif(write(tmp_path, "x.sarif", json.dumps(doc)), tmp_path)
    assert needle in str(err.value)
    assert "x.sarif" in str(err.value)


def test_sbom_and_pip_licenses(tmp_path: Path) -> None:
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [
            {"type": "library", "name": "a", "version": "1", "licenses": [{"license": {"id": "MIT"}}]},
            {
                "type": "library",
                "name": "b",
                "licenses": [{"expression": "MIT OR GPL-2.0-only"}],
                "components": [{"name": "c", "licenses": [{"license": {"name": "Custom"}}]}],
            },
        ],
    }
    deps = parse_sbom(write(tmp_path, "bom.json", json.dumps(sbom)))
    assert [(d.name, d.licenses) for d in deps] == [
        ("a", ("MIT",)),
        ("b", ("MIT OR GPL-2.0-only",)),
        ("c", ("Custom",)),
    ]
    pl = [
        {"Name": "x", "Version": "1", "License": "MIT License; Apache Software License"},
        {"Name": "y", "Version": "2", "License": "UNKNOWN"},
    ]
    deps = parse_pip_licenses(write(tmp_path, "pl.json", json.dumps(pl)))
    assert deps[0].licenses == ("MIT License", "Apache Software License")
    assert deps[1].licenses == ()


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}, "no components"),
        ({"bomFormat": "CycloneDX", "specVersion": "1.5"}, "no components"),
        ({"bomFormat": "SPDX"}, "not a CycloneDX"),
    ],
)
def test_bad_sbom(tmp_path: Path, doc: object, needle: str) -> None:
    with pytest.raises(EvidenceError) as err:
        parse_sbom(write(tmp_path, "bom.json", json.dumps(doc)))
    assert needle in str(err.value)


def test_gate_exits_2_on_unusable_evidence(measured: GitRepo, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.sarif", json.dumps({**SARIF_OK, "version": "1.0.0"}))
    result = run_cli("gate", str(measured.path), "--base", "main", "--sarif", str(bad))
    assert result.exit_code == 2
    assert "bad.sarif" in result.stderr
    result = run_cli("gate", str(measured.path), "--base", "main", "--coverage", str(tmp_path / "missing.xml"))
    assert result.exit_code == 2
    assert "missing.xml" in result.stderr
    assert "not found" in result.stderr
    reviews = write(tmp_path, "reviews.json", '{"oops": true}')
    result = run_cli("gate", str(measured.path), "--base", "main", "--reviews", str(reviews))
    assert result.exit_code == 2
    assert "reviews.json" in result.stderr


def test_github_reviews_keep_each_reviewers_latest_decision(tmp_path: Path) -> None:
    charter = parse_charter(CHARTER)
    doc = [
        {"user": {"login": "bob-gh"}, "state": "CHANGES_REQUESTED"},
        {"user": {"login": "bob-gh"}, "state": "COMMENTED"},
        {"user": {"login": "pat-gh"}, "state": "APPROVED"},
        {"user": {"login": "pat-gh"}, "state": "DISMISSED"},
        {"user": {"login": "stranger"}, "state": "APPROVED"},
    ]
    reviews = parse_reviews(write(tmp_path, "r.json", json.dumps(doc)), charter)
    got = {(r.reviewer.person or r.reviewer.login, r.state, r.reviewer.org) for r in reviews}
    assert got == {
        ("bob", "changes_requested", "acme"),
        ("pat", "dismissed", "partner"),
        ("stranger", "approved", None),
    }
    gitlab = {"approved": True, "approved_by": [{"user": {"username": "quinn-gh", "name": "Quinn"}}]}
    reviews = parse_reviews(write(tmp_path, "g.json", json.dumps(gitlab)), charter)
    assert [(r.reviewer.person, r.state) for r in reviews] == [("quinn", "approved")]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_lcov_parser_never_crashes(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("lcov") / "x.info"
    path.write_text(text, encoding="utf-8")
    try:
        cov = parse_coverage(path, path.parent)
    except EvidenceError:
        return
    assert all(isinstance(n, int) for f in cov.files for n in f.lines)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "runs",
                    "tool",
                    "driver",
                    "name",
                    "results",
                    "level",
                    "ruleId",
                    "message",
                    "text",
                    "locations",
                    "physicalLocation",
                    "artifactLocation",
                    "uri",
                    "region",
                    "startLine",
                    "rules",
                    "ruleIndex",
                ]
            ),
            kids,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_sarif_parser_only_raises_evidence_errors(tmp_path_factory: pytest.TempPathFactory, doc: object) -> None:
    if isinstance(doc, dict):
        doc = {**doc, "version": "2.1.0"}
    path = tmp_path_factory.mktemp("sarif") / "x.sarif"
    path.write_text(json.dumps(doc))
    try:
        parse_sarif(path, path.parent)
    except EvidenceError as exc:
        message = str(exc)
    else:
        return
    assert "x.sarif" in message
