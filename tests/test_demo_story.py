"""The demo tells a story: its organisations differ in the report, at a glance (docs/demo.md)."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest

from helpers import run_cli
from onebar.charter import load_charter
from onebar.demo import build_demo

TIERS = ("elite", "high", "medium", "low")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("story")
    build_demo(root / "repo", 2000, seed=1)
    result = run_cli(
        "report", str(root / "repo"), "--db", f"sqlite:///{root / 'r.db'}", "--since", "all", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    return root / "repo", json.loads(result.stdout)


def test_the_vendor_ships_big_late_failing_batches_and_the_internal_team_is_near_elite(
    story: tuple[Path, dict],
) -> None:
    by_org = story[1]["dora"]["by_org"]
    acme, vendor = by_org["acme"], by_org["vistula"]
    assert acme["tier"] in ("elite", "high")
    assert TIERS.index(vendor["tier"]) > TIERS.index(acme["tier"])
    assert vendor["lead_time_hours"]["median"] > 10 * acme["lead_time_hours"]["median"]
    assert vendor["deployment_frequency_per_week"] * 5 < acme["deployment_frequency_per_week"]
    assert vendor["change_failure_rate"] > 3 * acme["change_failure_rate"]


def test_reviews_the_vendor_rarely_gets_and_agents_always_get(story: tuple[Path, dict]) -> None:
    review = story[1]["review"]["by_org"]
    assert review["agents"]["cross_org_share"] == 1.0  # humans of acme review every agent change
    assert review["vistula"]["cross_org_share"] == 0.0
    assert review["acme"]["cross_org_share"] > 0


def test_the_contractor_alone_knows_the_importer_and_leaves_soon(story: tuple[Path, dict]) -> None:
    repo, report = story
    importer = report["knowledge"]["components"]["importer"]
    assert importer["truck_factor"] == 1 and importer["single_org"]
    assert report["offboarding"]["by_org"]["freelance"]["components"]["importer"]["files_lost_share"] == 1.0
    erik = load_charter(repo).people["erik"]
    last = subprocess.run(
        ["git", "log", "-1", "--format=%cs"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert erik.contract_end is not None
    assert 0 < (erik.contract_end - date.fromisoformat(last)).days <= 30
