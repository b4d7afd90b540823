"""Milestones: charter validation with located errors, and met / not met / at risk from real evidence."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from access_fixtures import charter_text
from helpers import GitRepo, run_cli
from onebar.store import open_store
from onebar.store.schema_service import gate_runs

TODAY = datetime.now(UTC).date()
NOW = int(time.time())
DAY = 86400

MILESTONES = f"""
[[milestones]]
id = "api-hardening"
title = "Harden the api"
organisation = "acme"
due = {TODAY + timedelta(days=30)}
components = ["api"]
internal_knowers_min = 1
adrs_signed = true

[[milestones]]
id = "web-v2"
organisation = "vendor"
due = {TODAY + timedelta(days=20)}
payment = "EUR 40,000"
components = ["web"]
gate_passed = true
coverage_changed_min = 80

[[milestones]]
id = "web-v1"
organisation = "vendor"
due = {TODAY - timedelta(days=2)}
start = {TODAY - timedelta(days=40)}
components = ["web"]
no_open_incidents = true
"""

ADR = """---
status: accepted
date: 2024-03-01
sign-off:
  - person: ana
    organisation: acme
    date: 2024-03-02
---
# Idempotency keys on the api
"""


def verdict(status: str, base: str, head: str, pct: float, lines: int) -> str:
    saw = f"{pct:.1f}% of {lines} changed lines covered (minimum 80%)"
    rule = {"id": "coverage.changed", "status": "pass" if pct >= 80 else "fail", "saw": saw}
    return json.dumps({"status": status, "base": base, "head": head, "rules": [rule]})


@pytest.fixture
def shop(repo: GitRepo) -> dict[str, str]:
    repo.write({"onebar.toml": charter_text(TODAY) + MILESTONES})
    shas = {"charter": repo.commit("charter", {"README.md": "x\n"}, author=("Ana Lead", "ana@acme.test"),
                                   at=NOW - 60 * DAY)}  # fmt: skip
    shas["api"] = repo.commit("api", {"api/a.py": "1\n"}, author=("Bo Dev", "bo@acme.test"), at=NOW - 50 * DAY)
    shas["web1"] = repo.commit(
        "web 1", {"web/a.js": "1\n"}, author=("Cy Contract", "cy@vendor.test"), at=NOW - 30 * DAY
    )
    repo.tag("v1.0.0", at=NOW - 29 * DAY, message="v1.0.0")
    shas["web2"] = repo.commit(
        "web 2", {"web/b.js": "1\n"}, author=("Cy Contract", "cy@vendor.test"), at=NOW - 10 * DAY
    )
    shas["web3"] = repo.commit("web 3", {"web/c.js": "1\n"}, author=("Vic Vendor", "vic@vendor.test"), at=NOW - 5 * DAY)
    repo.commit("adr", {"docs/adr/0001-api-keys.md": ADR}, author=("Ana Lead", "ana@acme.test"), at=NOW - 4 * DAY)
    shas["path"] = str(repo.path)
    return shas


def _milestones(shop: dict[str, str], store_url: str) -> dict[str, dict]:
    result = run_cli("milestones", shop["path"], "--format", "json", "--db", store_url)
    assert result.exit_code == 0, result.stderr
    return {m["id"]: m for m in json.loads(result.stdout)["milestones"]}


def _criteria(m: dict) -> dict[str, dict]:
    return {c["id"]: c for c in m["criteria"]}


def test_without_gate_runs_the_evidence_is_missing(shop: dict[str, str], store_url: str) -> None:
    ms = _milestones(shop, store_url)
    web = _criteria(ms["web-v2"])
    assert web["gate_passed"]["status"] == "no_evidence"
    assert "no gate runs stored for repo" in web["gate_passed"]["saw"]
    assert ms["web-v2"]["status"] == "at_risk" and ms["web-v2"]["changes_in_scope"] == 3


def test_met_at_risk_and_not_met(shop: dict[str, str], store_url: str) -> None:
    store = open_store(store_url)
    with store.write() as conn:
        rows = [
            ("pass", shop["web1"], shop["web2"], 90.0, 40),  # covers web2
            ("fail", shop["web2"], shop["web3"], 50.0, 20),  # web3 only failed
        ]
        for status, base, head, pct, lines in rows:
            conn.execute(insert(gate_runs).values(
                repo="repo", status=status, base=base, head=head, org="vendor", posted_at=NOW,
                verdict=verdict(status, base, head, pct, lines),
            ))  # fmt: skip
        # An open incident on the release that shipped web1.
        from onebar.store.schema import incidents, repositories

        store_repo = conn.execute(repositories.select()).first()
        assert store_repo is None  # not ingested yet: the command ingests first
    store.close()
    _milestones(shop, store_url)  # ingests the repository
    store = open_store(store_url)
    with store.write() as conn:
        rid = conn.execute(repositories.select()).first().id
        conn.execute(insert(incidents).values(repo_id=rid, title="checkout down", started_at=NOW - 20 * DAY,
                                              deployment_ref="v1.0.0", source="cli"))  # fmt: skip
    store.close()
    ms = _milestones(shop, store_url)
    api = _criteria(ms["api-hardening"])
    assert ms["api-hardening"]["status"] == "met"
    assert api["internal_knowers_min"]["details"] == ["bo: 1 files"]
    assert api["adrs_signed"]["status"] == "met" and "1 decisions concern the scope" in api["adrs_signed"]["saw"]
    web = _criteria(ms["web-v2"])
    assert ms["web-v2"]["status"] == "at_risk" and ms["web-v2"]["payment"] == "EUR 40,000"
    assert web["gate_passed"]["status"] == "not_met"
    assert web["gate_passed"]["saw"] == "1 of 3 changes passed, 1 only failed, 1 have no gate run"
    assert web["coverage_changed_min"]["saw"].startswith("76.7 % of 60 changed lines covered")  # (90*40+50*20)/60
    old = _criteria(ms["web-v1"])
    assert ms["web-v1"]["status"] == "not_met" and ms["web-v1"]["days_left"] == -2
    assert old["no_open_incidents"]["status"] == "not_met"
    assert "checkout down (deployment v1.0.0)" in old["no_open_incidents"]["details"][0]
    md = run_cli("milestones", shop["path"], "--format", "md", "--db", store_url).stdout
    assert "| web-v2 | vendor |" in md and "**at risk**" in md and "## web-v1: not met" in md
    text = run_cli("milestones", shop["path"], "--db", store_url).stdout
    assert "web-v1 [vendor] NOT MET" in text and "api-hardening [acme] MET" in text


def test_check_names_file_line_and_field(tmp_path: Path) -> None:
    bad = MILESTONES.replace('organisation = "vendor"\ndue', 'organisation = "vendr"\ndue', 1)
    (tmp_path / "onebar.toml").write_text(charter_text(TODAY) + bad)
    result = run_cli("check", str(tmp_path))
    assert result.exit_code == 2
    text = (tmp_path / "onebar.toml").read_text().splitlines()
    org_line = next(i for i, line in enumerate(text, 1) if 'organisation = "vendr"' in line)
    assert f"onebar.toml:{org_line}: milestones.1.organisation: unknown organisation 'vendr'" in result.stderr
    (tmp_path / "onebar.toml").write_text(
        charter_text(TODAY) + MILESTONES.replace("coverage_changed_min = 80", "coverage_changed_min = 180")
    )
    result = run_cli("check", str(tmp_path), "--format", "json")
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["field"] == "milestones.1.coverage_changed_min" and "less than or equal to 100" in problem["message"]
    text = (tmp_path / "onebar.toml").read_text().splitlines()
    assert "coverage_changed_min = 180" in text[problem["line"] - 1]


def test_a_milestone_needs_a_scope_and_a_criterion(tmp_path: Path) -> None:
    (tmp_path / "onebar.toml").write_text(
        charter_text(TODAY) + f'\n[[milestones]]\nid = "x"\norganisation = "acme"\ndue = {TODAY}\n'
    )
    err = run_cli("check", str(tmp_path)).stderr
    assert "milestones.0: no scope: give components, paths or a tracker label" in err
    assert "milestones.0: no acceptance criterion" in err


def test_no_milestones(repo: GitRepo, store_url: str) -> None:
    repo.write({"onebar.toml": charter_text(TODAY)})
    repo.commit("c", {"a": "1"})
    out = run_cli("milestones", str(repo.path), "--db", store_url)
    assert out.exit_code == 0 and "no milestones in the charter" in out.stdout
