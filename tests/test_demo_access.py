"""`onebar demo` gives every access, audit, onboarding and milestone command something real to show."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("demo")
    path, url = str(root / "shop"), f"sqlite:///{root / 'store.db'}"
    built = run_cli("demo", path, "--commits", "1500", "--db", url, "--format", "json")
    assert built.exit_code == 0, built.stderr
    assert len(json.loads(built.stdout)["grants"]) == 3
    return path, url


def _json(*args: str) -> dict:
    result = run_cli(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_milestones_one_met_one_at_risk_one_missed(demo: tuple[str, str]) -> None:
    path, url = demo
    ms = {m["id"]: m["status"] for m in _json("milestones", path, "--db", url)["milestones"]}
    assert ms == {"search-relevance": "met", "billing-batch-3": "not_met", "importer-handover": "at_risk"}


def test_grants_one_expiring_soon_one_of_an_ended_contract(demo: tuple[str, str]) -> None:
    path, url = demo
    grants = {g["person"]: g for g in _json("access", "list", path, "--db", url)}
    assert grants["tom"]["active"] and grants["tom"]["days_left"] == 7
    assert grants["joao"]["status"] == "approved" and not grants["joao"]["active"]
    review = _json("access", "review", path, "--db", url)
    assert [x["person"] for x in review["outside_contract"]] == ["joao"]
    swept = _json("access", "sweep", path, "--db", url)
    assert {g["person"] for g in swept["revoked"]} >= {"joao"}
    assert [g["person"] for g in swept["warnings"]] == ["tom"]
    assert run_cli("audit", "verify", "--db", url).exit_code == 0


def test_onboarding_and_offboarding_the_importer(demo: tuple[str, str]) -> None:
    path, url = demo
    brief = _json("onboard", "erik", path, "--db", url)
    assert [c["id"] for c in brief["components"]] == ["importer"]
    off = _json("offboard", "erik", path, "--db", url, "--since", "all")
    importer = next(h for h in off["knowledge_transfer"] if h["area"] == "importer")
    assert importer["successor"] == "maria" and importer["files_lost"] > 0
