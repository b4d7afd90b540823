"""The report on `onebar demo`'s sample repository: every section has something true to say."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from helpers import run_cli
from onebar import demo

pytestmark = pytest.mark.slow  # builds and reports a 1,500-commit demo

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "report.schema.json").read_text())


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("demo")
    demo.build_demo(root / "repo", 1500, 0)
    result = run_cli(
        "report", str(root / "repo"), "--db", f"sqlite:///{root / 'r.db'}", "--since", "all", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    data: dict = json.loads(result.stdout)
    return data


def test_demo_report_matches_the_schema(demo_report: dict) -> None:
    jsonschema.validate(demo_report, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_demo_delivery(demo_report: dict) -> None:
    dora = demo_report["dora"]
    assert dora["overall"]["deployments"] >= 3  # weekly release tags; release candidates excluded
    assert not any("-rc" in d["name"] for d in dora["deployments"])
    assert dora["overall"]["lead_time_hours"]["median"] > 0
    assert dora["overall"]["change_failure_rate"] > 0  # reverts and Fixes: trailers
    assert len(dora["by_org"]) >= 4
    hotfix = [d for d in dora["deployments"] if d["rework"]]
    assert hotfix, "the hotfix release is rework"


def test_demo_seams_knowledge_overlap(demo_report: dict) -> None:
    assert demo_report["review"]["cross_org_share"] > 0
    assert demo_report["knowledge"]["truck_factor"] >= 1
    assert demo_report["knowledge"]["components"]
    assert demo_report["offboarding"]["by_person"], "a contractor whose contract ended"
    contributors = demo_report["contributors"]
    assert contributors["agents"] or contributors["ai_coauthored_commits"]
    assert contributors["by_kind"].get("bot", 0) > 0
    assert demo_report["overlap"]["pairs"]
