"""The report with code-host data: `onebar report` shows the flow sections and its review figures use
the pull requests' approvals; without code-host data it says so plainly."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from helpers import GitRepo, run_cli
from onebar.codehost import writer
from onebar.codehost.records import DeploymentRecord, PullRecord, ReviewRecord, StatusRecord
from onebar.store import open_store

ROOT = Path(__file__).parents[1]
CHARTER = """\
version = 1
[organisations.acme]
kind = "internal"
domains = ["acme.test"]
[organisations.vendor]
kind = "partner"
domains = ["vendor.test"]
[people.ines]
name = "Ines Acme"
org = "acme"
emails = ["ines@acme.test"]
github = "ines-gh"
[people.vera]
name = "Vera Vendor"
org = "vendor"
emails = ["vera@vendor.test"]
github = "vera-gh"
[people.victor]
name = "Victor Vendor"
org = "vendor"
emails = ["victor@vendor.test"]
github = "victor-gh"
[delivery]
tracker_pattern = "PAY-\\\\d+"
"""
INES, VERA = ("Ines Acme", "ines@acme.test"), ("Vera Vendor", "vera@vendor.test")


def _history(tmp_path: Path) -> tuple[GitRepo, dict[str, str]]:
    """Two vendor branches merged by ines (acme), each a pull request; a release after each."""
    repo = GitRepo.create(tmp_path / "shop")
    repo.commit("charter", {"onebar.toml": CHARTER}, author=INES, at=1_700_000_000)
    merges = {}
    for n in (1, 2):
        repo.git("checkout", "-q", "-b", f"feature-{n}")
        repo.commit(f"work {n}", {f"src/f{n}.py": f"x = {n}\n"}, author=VERA)
        repo.git("checkout", "-q", "main")
        merges[f"pr{n}"] = repo.merge(f"feature-{n}", f"Merge pull request #{n}", author=INES)
        repo.tag(f"v1.{n}.0", message=f"release {n}")
    return repo, merges


def _import(db: str, merges: dict[str, str], start: int) -> None:
    """What `onebar import github acme/shop` would store: #1 approved by ines (acme), #2 only by victor
    (vendor, the author's own organisation), a failed deployment of #2's merge and its fix."""
    store = open_store(db)
    with store.write() as conn:
        rid = writer.codehost_repo(conn, "github", "acme/shop", "shop")
        merged = {n: start + n * 7200 for n in (1, 2)}  # the merge commits' times
        pulls = [
            PullRecord(number=n, opened_at=merged[n] - 5400, updated_at=merged[n], title=title, author="vera-gh",
                       state="merged", merged_at=merged[n], merge_sha=merges[f"pr{n}"])
            for n, title in ((1, "PAY-1 refunds"), (2, "tidy"))
        ]  # fmt: skip
        writer.upsert_pulls(conn, rid, "github", "acme/shop", pulls)
        writer.add_reviews(
            conn,
            rid,
            [
                ReviewRecord(1, "r1", "ines-gh", "approved", merged[1] - 600),
                ReviewRecord(1, "r2", "dependabot[bot]", "approved", merged[1] - 5000, "Bot"),
                ReviewRecord(2, "r3", "victor-gh", "approved", merged[2] - 600),
            ],
        )
        writer.upsert_deployment(conn, rid, DeploymentRecord("9", merged[2], merged[2], merges["pr2"], "main"))
        writer.add_status(conn, rid, StatusRecord("9", "failure", merged[2]))
    store.close()


def test_the_report_shows_code_host_sections_and_reviews_from_pull_requests(tmp_path: Path) -> None:
    repo, merges = _history(tmp_path)
    db = f"sqlite:///{tmp_path / 's.db'}"
    before = json.loads(run_cli("report", str(repo.path), "--db", db, "--format", "json", "--since", "all").stdout)
    assert before["flow"]["available"] is False and "onebar import github" in before["flow"]["reason"]
    # git alone: ines merged both vendor branches, so both count as reviewed across organisations
    assert before["review"]["by_org"]["vendor"]["cross_org_reviewed"] == 2

    _import(db, merges, 1_700_000_000)
    result = run_cli("report", str(repo.path), "--db", db, "--format", "json", "--since", "all")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, json.loads((ROOT / "docs" / "report.schema.json").read_text()))
    flow = data["flow"]
    assert flow["available"] is True and flow["sources"] == ["github:acme/shop"]
    # The pull requests' approvals decide: #2 was approved only inside the vendor.
    review = data["review"]
    assert review["by_org"]["vendor"]["cross_org_reviewed"] == 1
    assert review["signals"]["pull_request"] == 2 and review["signals"]["merge"] == 0
    assert flow["reviews"]["matrix"] == {"vendor": {"acme": 1, "vendor": 1}}
    assert flow["reviews"]["by_org"]["vendor"]["approved_by_other_org_share"] == 0.5
    # Deploy time comes from the history's own linking: each merge shipped with its release tag.
    assert flow["lead_time_stages"]["overall"]["undeployed"] == 0
    # Pickup: opened -> first human review, 80 minutes each (the bot's earlier approval is no review).
    assert flow["lead_time_stages"]["by_org"]["vendor"]["pickup"]["median"] == pytest.approx(1.33, abs=0.01)
    assert flow["failures"]["by_org"]["vendor"]["failed_deployments"] == 1
    assert [u["number"] for u in flow["backlog"]["untraced"]] == [2]
    for fmt, marker in (("text", "Lead time by stage"), ("md", "### One backlog"), ("html", 'id="codehost"')):
        out = run_cli("report", str(repo.path), "--db", db, "--format", fmt, "--since", "all")
        assert out.exit_code == 0 and marker in out.stdout, out.output


def test_without_code_host_data_every_format_says_so(tmp_path: Path) -> None:
    repo, _ = _history(tmp_path)
    db = f"sqlite:///{tmp_path / 's.db'}"
    for fmt in ("text", "md", "html"):
        out = run_cli("report", str(repo.path), "--db", db, "--format", fmt, "--since", "all")
        assert "No code-host data" in out.stdout and "onebar import github" in out.stdout


def test_leads_and_members_see_the_flow_section_as_every_other(tmp_path: Path) -> None:
    from onebar.auth.roles import Principal, Role
    from onebar.auth.visibility import Scope, filter_report
    from onebar.charter import parse_charter

    repo, merges = _history(tmp_path)
    db = f"sqlite:///{tmp_path / 's.db'}"
    run_cli("ingest", str(repo.path), "--db", db)
    _import(db, merges, 1_700_000_000)
    data = json.loads(run_cli("report", str(repo.path), "--db", db, "--format", "json", "--since", "all").stdout)
    scope = Scope.of_charter(parse_charter(CHARTER, "onebar.toml"))
    lead = filter_report(data, Principal(1, Role.LEAD, org="acme", person="ines"), scope)["flow"]
    assert [u["author"] for u in lead["backlog"]["untraced"]] == ["(hidden)"]  # vera's change, not vera
    assert set(lead["failures"]["by_org"]) == {"vendor"}  # aggregates of every organisation stay
    member = filter_report(data, Principal(2, Role.MEMBER, org="acme", person="ines"), scope)["flow"]
    assert member["failures"]["by_org"] == {} and member["backlog"]["untraced"] == []
    assert member["reviews"]["matrix"] == {"vendor": {"acme": 1}}
    assert '"vera"' not in json.dumps(lead) and '"vera"' not in json.dumps(member)
