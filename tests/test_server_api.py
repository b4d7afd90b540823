"""The API's resources: portfolio across repositories, org filters, people, components, gate runs, pagination."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onebar.server.app import create_app
from onebar.server.settings import ServiceSettings
from onebar.store import open_store
from service_helpers import Tokens, make_tokens, register, two_org_repo

VERDICT = {"schema_version": 1, "status": "fail", "base": "a" * 40, "head": "b" * 40,
           "author": {"person": "dave", "org": "vistula", "name": "Dave Vistula"},
           "rules": [{"id": "tests.with_code", "status": "fail"}, {"id": "size", "status": "pass"}]}  # fmt: skip


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, Tokens]]:
    db = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(db)
    register(store, two_org_repo(tmp_path / "shop").path, tmp_path / "data", name="shop")
    register(store, two_org_repo(tmp_path / "web").path, tmp_path / "data", name="web")
    tokens = make_tokens(store, "shop")
    store.close()
    with TestClient(create_app(ServiceSettings(database_url=db, data_dir=tmp_path / "data", job_workers=0))) as c:
        yield c, tokens


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_portfolio_spans_repositories_per_organisation(api: tuple[TestClient, Tokens]) -> None:
    c, t = api
    full = c.get("/api/v1/portfolio", headers=h(t.admin)).json()
    assert full["reported"] == ["shop", "web"]
    acme = full["organisations"]["acme"]
    assert set(acme["repos"]) == {"shop", "web"}
    assert acme["totals"]["changes"] == sum(r["changes"] for r in acme["repos"].values())
    assert acme["totals"]["deployments"] == sum(r["deployments"] for r in acme["repos"].values())
    member = c.get("/api/v1/portfolio", headers=h(t.member_acme)).json()
    assert set(member["organisations"]) == {"acme"}
    lead = c.get("/api/v1/portfolio", headers=h(t.lead_acme)).json()
    assert set(lead["organisations"]) == {"acme", "vistula"}
    only = c.get("/api/v1/portfolio?org=vistula", headers=h(t.admin)).json()
    assert set(only["organisations"]) == {"vistula"}
    assert c.get("/api/v1/portfolio?org=vistula", headers=h(t.member_acme)).status_code == 403
    etag = c.get("/api/v1/portfolio", headers=h(t.admin)).headers["etag"]
    assert c.get("/api/v1/portfolio", headers={**h(t.admin), "If-None-Match": etag}).status_code == 304


def test_the_report_narrows_to_one_organisation(api: tuple[TestClient, Tokens]) -> None:
    c, t = api
    got = c.get("/api/v1/repos/shop/report?org=vistula", headers=h(t.admin)).json()
    assert set(got["dora"]["by_org"]) == {"vistula"}
    assert set(got["offboarding"]["by_org"]) == {"vistula"}
    missing = c.get("/api/v1/repos/shop/report?org=nobody", headers=h(t.admin))
    assert (missing.status_code, missing.json()["field"]) == (404, "org")
    backwards = c.get("/api/v1/repos/shop/report?since=2024-01-01&until=2023-01-01", headers=h(t.admin))
    assert backwards.status_code == 400
    assert backwards.json()["field"] == "since"


def test_the_report_reads_its_parameters_as_declared_ones_would(api: tuple[TestClient, Tokens]) -> None:
    # The route reads since/until/tiers/org by hand (it is the hottest one): same errors, same doc.
    c, t = api
    for raw in ("abc", "", "1.5"):
        bad = c.get(f"/api/v1/repos/shop/report?tiers={raw}", headers=h(t.admin))
        assert (bad.status_code, bad.headers["content-type"]) == (422, "application/problem+json")
        assert bad.json()["field"] == "tiers" and bad.json()["errors"][0]["field"] == "tiers"
        assert bad.json()["detail"].startswith("tiers: Input should be a valid integer")
    assert c.get("/api/v1/repos/shop/report?tiers=2030", headers=h(t.admin)).json()["field"] == "tiers"
    assert c.get("/api/v1/repos/shop/report?tiers=abc").status_code == 401  # the caller is checked first
    tiers = c.get("/api/v1/repos/shop/report?tiers=2023", headers=h(t.admin))
    assert tiers.status_code == 200 and tiers.json()["tiers"]["year"] == 2023
    ignored = c.get("/api/v1/repos/shop/report?foo=bar", headers=h(t.admin))
    assert ignored.content == c.get("/api/v1/repos/shop/report", headers=h(t.admin)).content
    doc = c.get("/openapi.json").json()["paths"]["/api/v1/repos/{name}/report"]["get"]
    params = {p["name"]: (p["in"], p["schema"]["anyOf"][0]["type"] if p["in"] == "query" else p["schema"]["type"])
              for p in doc["parameters"]}  # fmt: skip
    assert params == {"name": ("path", "string"), "since": ("query", "string"), "until": ("query", "string"),
                      "tiers": ("query", "integer"), "org": ("query", "string")}  # fmt: skip
    assert all(p.get("description") for p in doc["parameters"] if p["in"] == "query")


def test_people_and_components_follow_the_visibility_rules(api: tuple[TestClient, Tokens]) -> None:
    c, t = api
    assert {p["id"] for p in c.get("/api/v1/repos/shop/people", headers=h(t.admin)).json()} == {
        "alice", "bob", "carol", "dave"}  # fmt: skip
    assert {p["id"] for p in c.get("/api/v1/repos/shop/people", headers=h(t.lead_acme)).json()} == {"alice", "carol"}
    assert [p["id"] for p in c.get("/api/v1/repos/shop/people", headers=h(t.member_acme)).json()] == ["carol"]
    comps = {x["id"]: x for x in c.get("/api/v1/repos/shop/components", headers=h(t.member_acme)).json()}
    assert set(comps) == {"core", "api"}  # billing is vistula's alone
    assert comps["api"]["consulted"] == [{"person": "", "org": "vistula"}]
    assert comps["core"]["responsible"] == [{"person": "carol", "org": "acme"}]
    lead = {x["id"]: x for x in c.get("/api/v1/repos/shop/components", headers=h(t.lead_vistula)).json()}
    assert set(lead) == {"core", "api", "billing"}
    assert lead["core"]["accountable"] == {"person": "", "org": "acme"}


def test_gate_runs_by_rule_and_organisation_with_authors_hidden(api: tuple[TestClient, Tokens]) -> None:
    c, t = api
    post = c.post("/api/v1/repos/shop/gate-runs", json=VERDICT, headers={**h(t.ci), "Idempotency-Key": "run-1"})
    assert (post.status_code, post.json()["created"]) == (201, True)
    again = c.post("/api/v1/repos/shop/gate-runs", json=VERDICT, headers={**h(t.ci), "Idempotency-Key": "run-1"})
    assert again.json() == {"id": post.json()["id"], "created": False}
    acme = {
        **VERDICT,
        "status": "pass",
        "author": {"person": "carol", "org": "acme"},
        "rules": [{"id": "size", "status": "pass", "saw": "approved by Bob Vistula <bob@vistula.test>"}],
    }
    assert c.post("/api/v1/repos/shop/gate-runs", json=acme, headers=h(t.ci)).status_code == 201
    by_rule = c.get("/api/v1/gate-runs?rule=tests.with_code", headers=h(t.auditor)).json()
    assert [r["org"] for r in by_rule] == ["vistula"]
    assert by_rule[0]["failed_rules"] == ["tests.with_code"]
    assert len(c.get("/api/v1/gate-runs?rule=size", headers=h(t.auditor)).json()) == 2
    assert [r["org"] for r in c.get("/api/v1/repos/shop/gate-runs?org=acme", headers=h(t.admin)).json()] == ["acme"]
    as_lead = c.get("/api/v1/repos/shop/gate-runs", headers=h(t.lead_acme)).json()
    hidden = next(r for r in as_lead if r["org"] == "vistula")
    assert hidden["person"] is None and "Dave" not in str(hidden)
    assert [r["org"] for r in c.get("/api/v1/gate-runs", headers=h(t.member_acme)).json()] == ["acme"]
    own = next(r for r in as_lead if r["org"] == "acme")  # its findings name a reviewer of vistula
    assert own["verdict"]["rules"][0]["saw"] == "approved by (hidden) <(hidden)>"
    assert "Bob Vistula" in c.get("/api/v1/gate-runs?org=acme", headers=h(t.auditor)).text
    bad = c.post("/api/v1/repos/shop/gate-runs", json={**VERDICT, "status": "maybe"}, headers=h(t.ci))
    assert (bad.status_code, bad.json()["field"]) == (422, "status")


def test_lists_page_with_a_link_header(api: tuple[TestClient, Tokens]) -> None:
    c, t = api
    for i in range(3):
        got = c.post("/api/v1/repos/shop/incidents", json={"title": f"i{i}", "external_id": f"x{i}"}, headers=h(t.ci))
        assert got.status_code == 201
    dup = c.post("/api/v1/repos/shop/incidents", json={"title": "i0", "external_id": "x0"}, headers=h(t.ci))
    assert dup.json()["created"] is False
    seen: list[str] = []
    url: str | None = "/api/v1/repos/shop/incidents?limit=2"
    while url:
        page = c.get(url, headers=h(t.admin))
        seen += [x["title"] for x in page.json()]
        link = page.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else None
    assert seen == ["i2", "i1", "i0"]
    bad = c.post(
        "/api/v1/repos/shop/incidents", json={"started": "2024-05-02", "resolved": "2024-05-01"}, headers=h(t.ci)
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "resolved")
    nope = c.post("/api/v1/repos/shop/deployments", json={"ref": "no-such-tag"}, headers=h(t.ci))
    assert (nope.status_code, nope.json()["field"]) == (400, "ref")
