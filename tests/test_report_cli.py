"""The report commands end to end through the real CLI, and the JSON contract against its schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from helpers import GitRepo, run_cli
from test_report_build import ALICE, BOB, CHARTER, day, iso_day, story

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "report.schema.json").read_text())


@pytest.fixture
def project(repo: GitRepo, tmp_path: Path) -> tuple[GitRepo, str]:
    repo.write({"onebar.toml": CHARTER})
    story(repo)
    return repo, f"sqlite:///{tmp_path / 'cli.db'}"


def report(repo: GitRepo, db: str, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("report", str(repo.path), "--db", db, "--since", "all", "--until", iso_day(20), *args)


def test_json_output_matches_the_schema(project: tuple[GitRepo, str]) -> None:
    repo, db = project
    result = report(repo, db, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert data["schema_version"] == "2.0"
    assert data["dora"]["by_org"]["agency"]["change_failure_rate"] == 0.5
    assert data["offboarding"]["by_org"]["agency"]["files_lost_share"] == 0.25  # onebar.toml is a file too


def test_empty_window_json_still_matches_the_schema(project: tuple[GitRepo, str]) -> None:
    repo, db = project
    result = run_cli(
        "report", str(repo.path), "--db", db, "--since", "2001-01-01", "--until", "2001-02-01", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert data["dora"]["overall"]["lead_time_hours"]["median"] is None
    assert data["review"]["cross_org_share"] is None
    assert data["review"]["reasons"]


def test_text_markdown_and_html(project: tuple[GitRepo, str], tmp_path: Path) -> None:
    repo, db = project
    text = report(repo, db)
    assert text.exit_code == 0, text.output
    assert "Delivery (DORA)" in text.stdout
    assert "agency" in text.stdout
    md = report(repo, db, "--format", "md")
    assert md.stdout.startswith("## onebar report")
    assert "| all | 3 |" in md.stdout
    out = tmp_path / "r.html"
    html = report(repo, db, "--format", "html", "-o", str(out))
    assert html.exit_code == 0
    page = out.read_text()
    assert page.count("<svg") >= 4  # three trend charts, review flows, knowledge map
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<script" not in page


def test_second_run_reads_nothing_new_and_gives_the_same_figures(project: tuple[GitRepo, str]) -> None:
    repo, db = project
    first = json.loads(report(repo, db, "--format", "json").stdout)
    second = json.loads(report(repo, db, "--format", "json").stdout)
    assert first == second


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--since", "last tuesday"), "--since"),
        (("--until", "2024-13-45"), "--until"),
        (("--format", "pdf"), "--format"),
        (("--tiers", "2019"), "--tiers"),
    ],
)
def test_bad_input_exits_2_naming_the_flag(project: tuple[GitRepo, str], args: tuple[str, ...], needle: str) -> None:
    repo, db = project
    result = run_cli("report", str(repo.path), "--db", db, *args)
    assert result.exit_code == 2
    assert needle in result.output


def test_not_a_repository_exits_2(tmp_path: Path) -> None:
    result = run_cli("report", str(tmp_path))
    assert result.exit_code == 2


def test_offboard(project: tuple[GitRepo, str]) -> None:
    repo, db = project
    result = run_cli("offboard", "agency", str(repo.path), "--db", db, "--since", "all", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["kind"], data["files"]) == ("organisation", ["src/ui/b.py"])
    text = run_cli("offboard", "Alice Example", str(repo.path), "--db", db, "--since", "all")
    assert "src/core/a.py" in text.stdout
    missing = run_cli("offboard", "mallory", str(repo.path), "--db", db)
    assert missing.exit_code == 2
    assert "mallory" in missing.output


def test_overlap_command(project: tuple[GitRepo, str]) -> None:
    repo, _db = project
    result = run_cli("overlap", str(repo.path), "--date", iso_day(2), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pairs"][0]["daily_window_hours"] == 2.0
    text = run_cli("overlap", str(repo.path), "--date", iso_day(2))
    assert "acme <-> agency" in text.stdout
    bad = run_cli("overlap", str(repo.path), "--date", "soon")
    assert bad.exit_code == 2
    assert "--date" in bad.output


def test_record_deploy_and_incident_feed_the_report(project: tuple[GitRepo, str]) -> None:
    repo, db = project
    at = iso_day(11) + "T12:00:00Z"
    ok = run_cli("record", "deploy", str(repo.path), "--db", db, "--at", at, "--ref", "v1.2")
    assert ok.exit_code == 0, ok.output
    inc = run_cli(
        "record", "incident", str(repo.path), "--db", db, "--started", iso_day(12) + "T00:00:00Z",
        "--resolved", iso_day(12) + "T03:00:00Z", "--deployment", "v1.2", "--title", "outage",
    )  # fmt: skip
    assert inc.exit_code == 0, inc.output
    data = json.loads(report(repo, db, "--format", "json").stdout)
    names = [d["name"] for d in data["dora"]["deployments"]]
    assert names == ["v1.0", "v1.1", "v1.2"]  # the recorded event replaces the tag on the same commit
    assert data["dora"]["deployments"][-1]["source"] == "cli"
    ttr = data["dora"]["overall"]["time_to_restore_hours"]
    assert (ttr["source"], ttr["median"]) == ("incidents", 3.0)
    assert data["dora"]["overall"]["failed_deployments"] == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("deploy", "--at", "2999-01-01", "--ref", "v1.0"), "--at"),
        (("deploy", "--at", "noon", "--ref", "v1.0"), "--at"),
        (("deploy", "--at", "now", "--ref", "no-such-ref"), "--ref"),
        (("incident", "--started", "2024-01-02", "--resolved", "2024-01-01"), "--resolved"),
        (("incident", "--started", "whenever"), "--started"),
    ],
)
def test_record_rejects_bad_input(project: tuple[GitRepo, str], args: tuple[str, ...], needle: str) -> None:
    repo, db = project
    kind, *rest = args
    result = run_cli("record", kind, str(repo.path), "--db", db, *rest)
    assert result.exit_code == 2, result.output
    assert needle in result.output


def test_report_without_a_charter_infers_organisations(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("Add core", {"src/core/a.py": "a\n"}, author=ALICE, at=day(1))
    repo.commit("Add ui", {"src/ui/b.py": "b\n"}, author=BOB, at=day(2))
    # A domain of one occasional committer is no organisation (docs/charter.md): two people each.
    repo.commit("Fix core", {"src/core/a.py": "a2\n"}, author=("Ann Colleague", "ann@" + ALICE[1].split("@")[1]))
    repo.commit("Fix ui", {"src/ui/b.py": "b2\n"}, author=("Ben Colleague", "ben@" + BOB[1].split("@")[1]))
    repo.tag("v1.0", message="release", at=day(3))
    result = run_cli("report", str(repo.path), "--db", f"sqlite:///{tmp_path / 'x.db'}", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert data["dora"]["overall"]["deployments"] == 1
    assert len(data["dora"]["by_org"]) == 2


def test_record_with_the_same_id_twice_is_stored_once(project: tuple[GitRepo, str]) -> None:
    repo, db = project
    args = ("record", "deploy", str(repo.path), "--db", db, "--at", "now", "--ref", "v1.1", "--id", "run-42")
    first, second = run_cli(*args), run_cli(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("recorded deployment #1")
    assert second.stdout.startswith("already recorded deployment #1")


def test_head_is_the_checked_out_branch_not_the_newest_commit(repo: GitRepo, tmp_path: Path) -> None:
    repo.write({"onebar.toml": CHARTER})
    main = repo.commit("Add core", {"src/core/a.py": "a\n"}, author=ALICE, at=day(1))
    repo.git("checkout", "-q", "-b", "spike")
    repo.commit("Spike", {"src/spike.py": "s\n"}, author=BOB, at=day(2))
    repo.git("checkout", "-q", "main")
    result = run_cli("report", str(repo.path), "--db", f"sqlite:///{tmp_path / 'h.db'}", "--format", "json")
    data = json.loads(result.stdout)
    assert data["repository"]["head"] == main
    assert data["knowledge"]["files"] == 2  # onebar.toml and src/core/a.py; not the spike's file


def test_a_failed_deployment_status_fails_that_deployment(project: tuple[GitRepo, str]) -> None:
    """A deployment whose status later turns to failure needed remediation: it counts as failed, for
    every organisation that shipped in it, restored by the next deployment."""
    repo, db = project
    ok = run_cli("record", "deploy", str(repo.path), "--db", db, "--at", iso_day(10) + "T00:00:00Z", "--ref", "v1.2")
    assert ok.exit_code == 0, ok.output
    before = json.loads(report(repo, db, "--format", "json").stdout)
    assert not before["dora"]["deployments"][-1]["failed"]
    bad = run_cli(
        "record", "deploy", str(repo.path), "--db", db, "--at", iso_day(10) + "T02:00:00Z", "--ref", "v1.2",
        "--status", "failure",
    )  # fmt: skip
    assert bad.exit_code == 0, bad.output
    after = json.loads(report(repo, db, "--format", "json").stdout)
    last = after["dora"]["deployments"][-1]
    assert (last["name"], last["failed"], last["restore_hours"]) == ("v1.2", True, None)  # nothing deployed since
    assert after["dora"]["overall"]["failed_deployments"] == before["dora"]["overall"]["failed_deployments"] + 1
    assert after["dora"]["by_org"]["(unknown)"]["failed_deployments"] == 1  # eve shipped in v1.2
