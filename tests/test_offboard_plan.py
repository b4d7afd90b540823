"""Off-boarding completed: the grants to revoke and who picks up the knowledge that would be lost."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from access_fixtures import charter_text
from helpers import GitRepo
from onebar import audit
from onebar.access import Scope, approve_grant, list_grants, request_grant
from onebar.onboard.knowledge import from_report
from onebar.onboard.transfer import leaving_of, offboarding_plan, plan_lines
from onebar.report import report_for
from onebar.workspace import Workspace, open_workspace

TODAY = datetime.now(UTC).date()


@pytest.fixture
def ws(repo: GitRepo, store_url: str) -> Workspace:
    repo.write({"onebar.toml": charter_text(TODAY)})
    repo.commit("charter", {"README.md": "shop\n"}, author=("Ana Lead", "ana@acme.test"))
    repo.commit("a", {"api/a.py": "a = 1\n", "api/a2.py": "a = 2\n"}, author=("Bo Dev", "bo@acme.test"))
    repo.commit("b", {"api/b.py": "b = 1\n"}, author=("Cy Contract", "cy@vendor.test"))
    repo.commit("w1", {"web/w1.js": "1\n"}, author=("Cy Contract", "cy@vendor.test"))
    repo.commit("w2", {"web/w2.js": "2\n"}, author=("Vic Vendor", "vic@vendor.test"))
    repo.commit("tool", {"tools/x.sh": "echo\n"}, author=("Cy Contract", "cy@vendor.test"))
    w = open_workspace(repo.path, db=store_url)
    yield w
    w.close()


def _plan(ws: Workspace, kind: str, who: str):  # type: ignore[no-untyped-def]
    know = from_report(report_for(ws, since="all"))
    with ws.store.read() as conn:
        grants = list_grants(conn, repository=ws.repo.name)
    leaving = leaving_of(know, ws.charter, kind, who)
    return offboarding_plan(ws.charter, know, kind=kind, name=who, leaving=leaving, grants=grants, today=TODAY)


def test_a_person_leaving(ws: Workspace) -> None:
    g = request_grant(
        ws.store, ws.charter, ws.repo.name, person="cy", scope=Scope("component", "web"),
        until=TODAY + timedelta(days=5), level="write", actor=audit.Actor(person="cy"), today=TODAY,
    )  # fmt: skip
    approve_grant(ws.store, ws.charter, g.id, actor=audit.Actor(person="vic"), today=TODAY)
    plan = _plan(ws, "person", "cy")
    assert [x.id for x in plan.grants] == [g.id]
    handovers = {h.area: h for h in plan.handovers}
    assert set(handovers) == {"api", "web", "tools/"}
    assert (handovers["api"].files, handovers["api"].successor, handovers["api"].why) == (
        ("api/b.py",),
        "bo",
        "authors 2 other files of api",
    )
    assert handovers["web"].successor == "vic"
    # Nobody else ever touched tools/: the internal organisation's lead picks it up.
    assert (handovers["tools/"].component, handovers["tools/"].successor) == (False, "ana")
    assert "nobody else knows tools/" in handovers["tools/"].why
    text = "\n".join(plan_lines(plan))
    assert f"onebar access revoke {g.id}" in text and "component api: 1 files -> Bo Dev (acme)" in text


def test_an_organisation_leaving(ws: Workspace) -> None:
    plan = _plan(ws, "organisation", "vendor")
    assert set(plan.leaving) >= {"cy", "vic", "old"}
    handovers = {h.area: h for h in plan.handovers}
    assert handovers["web"].files == ("web/w1.js", "web/w2.js")
    # web's Accountable (vic) and Responsible (cy) both leave with vendor: the home lead takes it.
    assert handovers["web"].successor == "ana" and handovers["web"].successor_org == "acme"
    assert handovers["api"].successor == "bo"
    assert plan.handovers[0].area == "web"  # the biggest loss first


def test_nothing_lost(ws: Workspace) -> None:
    plan = _plan(ws, "person", "pat")
    assert plan.handovers == [] and plan.grants == []
    assert plan_lines(plan) == ["Grants to revoke: none", "Knowledge transfer: nothing would lose all its authors"]


def test_onebar_offboard_completes_the_simulation(ws: Workspace, store_url: str) -> None:
    from helpers import run_cli

    path = str(ws.repo.root)
    out = run_cli("offboard", "vendor", path, "--since", "all", "--db", store_url, "--format", "json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["kind"] == "organisation" and data["grants_to_revoke"] == []
    web = next(h for h in data["knowledge_transfer"] if h["area"] == "web")
    assert (web["files"], web["successor"]) == (["web/w1.js", "web/w2.js"], "ana")
    text = run_cli("offboard", "cy", path, "--since", "all", "--db", store_url).stdout
    assert "Knowledge transfer:" in text and "component api: 1 files -> Bo Dev (acme)" in text
