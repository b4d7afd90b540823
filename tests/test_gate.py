"""`onebar gate` end to end on real git repositories: refs, the base charter, staged changes, formats."""

from __future__ import annotations

import json
from pathlib import Path

import defusedxml.ElementTree as SafeET
import jsonschema
import pytest

from gate_fixtures import ALICE, CHARTER, PAT, github_reviews
from helpers import GitRepo, run_cli

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "gate.schema.json").read_text())


@pytest.fixture
def project(repo: GitRepo) -> GitRepo:
    """main: a charter, a package and its tests; the working branch `feature` starts there."""
    repo.commit(
        "start",
        {
            "onebar.toml": CHARTER,
            "src/app/__init__.py": "",
            "src/app/calc.py": "def add(a, b):\n    return a + b\n",
            "tests/test_calc.py": "from app.calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n",
            "docs/index.md": "# Demo\n",
        },
    )
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def gate(repo: GitRepo, *args: str) -> tuple[int, dict]:
    result = run_cli("gate", str(repo.path), "--base", "main", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.stderr or result.stdout
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA)
    return result.exit_code, data


def rule(data: dict, rid: str) -> dict:
    return next(r for r in data["rules"] if r["id"] == rid)


def test_code_without_tests_fails_and_with_tests_passes(project: GitRepo) -> None:
    project.commit(
        "mul", {"src/app/calc.py": "def add(a, b):\n    return a + b\n\n\ndef _mul(a, b):\n    return a * b\n"}
    )
    code, data = gate(project)
    assert code == 1
    assert data["status"] == "fail"
    assert data["exit_code"] == 1
    assert rule(data, "tests.with_code")["status"] == "fail"
    assert data["author"]["person"] == "alice"
    assert data["author"]["org"] == "acme"
    assert rule(data, "coverage.total")["status"] == "not_evaluated"  # never reported as passed
    project.commit(
        "test mul", {"tests/test_mul.py": "from app.calc import _mul\n\ndef test_mul():\n    assert _mul(2, 3) == 6\n"}
    )
    code, data = gate(project)
    assert code == 0
    assert data["summary"]["fail"] == 0
    assert data["change"]["files"] == 2


def test_rules_come_from_the_base_charter_not_the_change(project: GitRepo) -> None:
    loosened = CHARTER + "\n[done.tests]\nenabled = false\n"
    project.commit("sneaky", {"onebar.toml": loosened, "src/app/calc.py": "def add(a, b):\n    return b + a\n"})
    code, data = gate(project)
    assert code == 1
    assert rule(data, "tests.with_code")["status"] == "fail"  # still judged by the bar at base
    assert rule(data, "charter.done")["status"] == "not_evaluated"  # needs --reviews to see the leads' approval
    reviews = github_reviews(project.path.parent / "r.json", "alice-gh")
    code, data = gate(project, "--reviews", str(reviews))
    assert rule(data, "charter.done")["status"] == "fail"  # pat, the partner's lead, has not approved
    both = github_reviews(project.path.parent / "r2.json", "alice-gh", "pat-gh")
    code, data = gate(project, "--reviews", str(both))
    assert rule(data, "charter.done")["status"] == "pass"
    assert data["charter"].startswith("onebar.toml@")


def test_invalid_charter_at_head_fails_the_charter_rule(project: GitRepo) -> None:
    project.commit("break", {"onebar.toml": CHARTER + "\n[done.size]\nmax_lines = -1\n"})
    code, data = gate(project)
    assert code == 1
    assert "invalid" in rule(data, "charter.done")["saw"]


def test_invalid_charter_at_base_is_unusable_input(repo: GitRepo) -> None:
    repo.commit("bad", {"onebar.toml": CHARTER + "\n[done.coverage]\nmin_total = 180\n"})
    repo.commit("next", {"x.txt": "x"})
    result = run_cli("gate", str(repo.path), "--base", "HEAD~1")
    assert result.exit_code == 2
    assert "onebar.toml@" in result.stderr
    assert "done.coverage.min_total" in result.stderr


def test_missing_ref_and_not_a_repository(project: GitRepo, tmp_path: Path) -> None:
    result = run_cli("gate", str(project.path), "--base", "no-such-branch")
    assert result.exit_code == 2
    assert "no-such-branch" in result.stderr
    result = run_cli("gate", str(project.path), "--base", "main", "--head", "deadbeef")
    assert result.exit_code == 2
    assert "deadbeef" in result.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    result = run_cli("gate", str(plain))
    assert result.exit_code == 2
    assert "not a git repository" in result.stderr


def test_repository_with_one_commit(repo: GitRepo) -> None:
    repo.commit("only", {"src/app/x.py": "x = 1\n"})
    result = run_cli("gate", str(repo.path), "--format", "json")  # merge base with main is HEAD itself
    assert result.exit_code == 0
    assert json.loads(result.stdout)["change"]["files"] == 0
    assert "drafted" in json.loads(result.stdout)["charter"]
    result = run_cli("gate", str(repo.path), "--base", "HEAD~1")
    assert result.exit_code == 2
    assert "HEAD~1" in result.stderr


def test_no_default_branch_asks_for_a_base(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "r", branch="trunk")
    repo.commit("one", {"a.txt": "a"})
    result = run_cli("gate", str(repo.path))
    assert result.exit_code == 2
    assert "--base" in result.stderr


def test_staged_changes_for_pre_commit(project: GitRepo) -> None:
    project.write({"src/app/calc.py": "def add(a, b):\n    return a + b  # staged\n"})
    project.git("add", "src/app/calc.py")
    result = run_cli("gate", str(project.path), "--staged", "--format", "json")
    assert result.exit_code == 1
    assert rule(json.loads(result.stdout), "tests.with_code")["status"] == "fail"
    project.write({"tests/test_more.py": "def test_more():\n    assert True\n"})
    project.git("add", "tests/test_more.py")
    result = run_cli("gate", str(project.path), "--staged", "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["head"] == ":"


def test_staged_in_a_repository_without_commits(repo: GitRepo) -> None:
    repo.write({"README.md": "# new\n"})
    repo.git("add", "README.md")
    result = run_cli("gate", str(repo.path), "--staged")
    assert result.exit_code == 0, result.stdout + result.stderr


def test_evaluate_mode_reports_without_failing(project: GitRepo) -> None:
    project.commit("untested", {"src/app/calc.py": "def add(a, b):\n    return a + b + 0\n"})
    result = run_cli("gate", str(project.path), "--base", "main", "--mode", "evaluate")
    assert result.exit_code == 0
    assert "FAIL" in result.stdout or "WARN" in result.stdout
    assert "evaluate mode" in result.stdout


def test_cross_org_review_with_pr_event(project: GitRepo, tmp_path: Path) -> None:
    project.commit(
        "feat",
        {"src/app/calc.py": "def add(a, b):\n    return a + b\n# x\n", "tests/test_x.py": "def test_x():\n    pass\n"},
        author=PAT,
    )
    head = project.head()
    base = project.git("rev-parse", "main")
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "action": "opened",
                "pull_request": {
                    "number": 7,
                    "user": {"login": "pat-gh"},
                    "base": {"sha": base},
                    "head": {"sha": head},
                },
            }
        )
    )
    same_org = github_reviews(tmp_path / "same.json", "quinn-gh")
    result = run_cli(
        "gate", str(project.path), "--pr-event", str(event), "--reviews", str(same_org), "--format", "json"
    )
    data = json.loads(result.stdout)
    assert data["author"]["person"] == "pat"
    assert data["base"] == base
    assert rule(data, "reviews.cross_org")["status"] == "fail"
    assert rule(data, "owners")["status"] == "pass"  # quinn is Responsible for core
    other_org = github_reviews(tmp_path / "other.json", "bob-gh")
    result = run_cli(
        "gate", str(project.path), "--pr-event", str(event), "--reviews", str(other_org), "--format", "json"
    )
    data = json.loads(result.stdout)
    assert rule(data, "reviews.cross_org")["status"] == "pass"
    assert rule(data, "owners")["status"] == "fail"  # bob owns storage, not core


def test_every_format_renders(project: GitRepo, tmp_path: Path) -> None:
    project.commit("untested", {"src/app/calc.py": "def add(a, b):\n    return a - b\n"})
    md, sarif, junit = tmp_path / "out.md", tmp_path / "out.sarif", tmp_path / "out.xml"
    result = run_cli(
        "gate",
        str(project.path),
        "--base",
        "main",
        "--write",
        f"md:{md}",
        "--write",
        f"sarif:{sarif}",
        "--write",
        f"junit:{junit}",
    )
    assert result.exit_code == 1
    assert "tests.with_code" in result.stdout
    assert "verdict: FAIL" in result.stdout
    text = md.read_text()
    assert text.startswith("<!-- onebar-gate -->")
    assert "| ❌ | `tests.with_code` |" in text
    log = json.loads(sarif.read_text())
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["tests.with_code"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/app/calc.py"
    rule_ids = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    assert rule_ids[results[0]["ruleIndex"]] == "tests.with_code"
    suite = SafeET.fromstring(junit.read_text()).find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["tests.with_code"]
    assert int(suite.get("skipped") or 0) >= 4  # evidence-less rules are skipped, not passed


def test_bad_write_target_spec_is_a_usage_error(project: GitRepo) -> None:
    result = run_cli("gate", str(project.path), "--base", "main", "--write", "pdf:x.pdf")
    assert result.exit_code == 2
    assert "FORMAT:FILE" in result.stderr


def test_author_only_recorded_for_agent_commits(project: GitRepo) -> None:
    project.commit("bot", {"docs/more.md": "more\n"}, author=("Robo Agent", "robo@agent.test"))
    code, data = gate(project)
    assert code == 0
    assert data["author"]["org_kind"] == "agent"


def test_alice_default_author(project: GitRepo) -> None:
    project.commit("docs", {"docs/x.md": "x\n"}, author=ALICE)
    code, data = gate(project, "--head", "feature")
    assert code == 0
    assert data["author"]["email"] == "alice@acme.test"


def test_our_sarif_reads_back_as_sarif(project: GitRepo, tmp_path: Path) -> None:
    """The SARIF the gate writes is SARIF the gate (and so code scanning) can read: ids, paths and lines."""
    from onebar.gate.evidence import parse_sarif

    project.commit(
        "untested", {"src/app/calc.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"}
    )
    out = tmp_path / "gate.sarif"
    run_cli("gate", str(project.path), "--base", "main", "--write", f"sarif:{out}")
    found = parse_sarif(out, project.path)
    assert {(f.tool, f.rule_id, f.path, f.level) for f in found} == {
        ("onebar", "tests.with_code", "src/app/calc.py", "error"),
        ("onebar", "docs.with_interface", "src/app/calc.py", "error"),
    }
    assert next(f.line for f in found if f.rule_id == "docs.with_interface") == 5


def test_non_utf8_charter_at_base_is_unusable(repo: GitRepo) -> None:
    repo.commit("bad", {"onebar.toml": b"\xff\xfe[done]\n"})
    repo.commit("next", {"a.txt": "a\n"})
    result = run_cli("gate", str(repo.path), "--base", "HEAD~1")
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


def test_bad_pr_event_and_sbom_exit_2(project: GitRepo, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "push", "ref": "refs/heads/x"}))
    result = run_cli("gate", str(project.path), "--pr-event", str(event))
    assert result.exit_code == 2
    assert "event.json" in result.stderr
    assert "pull_request" in result.stderr
    sbom = tmp_path / "bom.json"
    sbom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}))
    result = run_cli("gate", str(project.path), "--base", "main", "--sbom", str(sbom))
    assert result.exit_code == 2
    assert "bom.json: components: SBOM lists no components" in result.stderr


def test_introducing_the_charter_is_judged_by_the_drafted_bar(repo: GitRepo) -> None:
    repo.commit("start", {"src/app/x.py": "x = 1\n", "tests/test_x.py": "def test():\n    pass\n"})
    repo.git("checkout", "-q", "-b", "adopt")
    repo.commit("adopt onebar", {"onebar.toml": CHARTER, "src/app/x.py": "x = 2\n"})
    result = run_cli("gate", str(repo.path), "--base", "main", "--format", "json")
    data = json.loads(result.stdout)
    assert "drafted" in data["charter"]
    assert rule(data, "charter.done")["status"] == "pass"
    assert "introduces the charter" in rule(data, "charter.done")["saw"]
    assert rule(data, "tests.with_code")["status"] == "fail"  # the drafted bar still applies to this change
    assert result.exit_code == 1
