"""The audit log and access grants over the service's API: every role on every endpoint, names scoped by employer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onebar.auth.roles import ROLES, Access
from onebar.server.app import create_app
from onebar.server.routers import access as access_router
from onebar.server.routers import audit as audit_router
from onebar.server.settings import ServiceSettings
from onebar.store import open_store
from service_helpers import ACME_NAMES, Tokens, make_tokens, register, two_org_repo

UNTIL = (datetime.now(UTC).date() + timedelta(days=20)).isoformat()


@pytest.fixture
def world(tmp_path: Path, store_url: str) -> Iterator[tuple[TestClient, Tokens]]:
    repo = two_org_repo(tmp_path / "shop")
    data = tmp_path / "data"
    store = open_store(store_url)
    register(store, repo.path, data)
    tokens = make_tokens(store)
    store.close()
    settings = ServiceSettings(database_url=store_url, data_dir=data, job_workers=0)
    with TestClient(create_app(settings)) as client:
        yield client, tokens


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ask(client: TestClient, token: str, person: str, target: str = "core") -> Any:
    body = {"person": person, "scope": "component", "target": target, "until": UNTIL, "level": "write"}
    return client.post("/api/v1/repos/shop/grants", json=body, headers=h(token))


def test_grants_request_approve_revoke_by_role(world: tuple[TestClient, Tokens]) -> None:
    client, t = world
    # dave (vistula) asks for core, which acme owns: alice, acme's lead, approves it.
    made = ask(client, t.member_vistula, "dave")
    assert made.status_code == 201, made.text
    gid = made.json()["id"]
    assert made.json()["approver"] == "the lead of acme"  # the vendor is told whom to ask, not her name
    assert ask(client, t.member_vistula, "bob").status_code == 403  # a member asks for itself only
    assert ask(client, t.lead_acme, "dave").status_code == 403  # a lead for its own people only
    for role in ("auditor", "ci"):
        assert ask(client, t.of(role), "dave").status_code == 403
    refused = client.post(f"/api/v1/grants/{gid}/approve", headers=h(t.lead_vistula))
    assert refused.status_code == 403 and "only alice" in refused.json()["detail"]
    assert client.post(f"/api/v1/grants/{gid}/approve", headers=h(t.admin)).status_code == 403
    ok = client.post(f"/api/v1/grants/{gid}/approve", headers=h(t.lead_acme))
    assert ok.status_code == 200 and ok.json()["status"] == "approved"

    # Who sees it: everyone who must, nobody else.
    def seen(token: str) -> list[int]:
        got = client.get("/api/v1/repos/shop/grants", headers=h(token))
        assert got.status_code == 200, got.text
        return [g["id"] for g in got.json()]

    assert seen(t.admin) == seen(t.auditor) == seen(t.lead_acme) == seen(t.lead_vistula) == [gid]
    assert seen(t.member_vistula) == [gid] and seen(t.member_acme) == []
    assert client.get("/api/v1/repos/shop/grants", headers=h(t.ci)).status_code == 403
    assert client.post(f"/api/v1/grants/{gid}/revoke", json={}, headers=h(t.member_acme)).status_code == 403
    gone = client.post(f"/api/v1/grants/{gid}/revoke", json={"reason": "done"}, headers=h(t.member_vistula))
    assert gone.status_code == 200 and gone.json()["status"] == "revoked"
    # The audit log, for auditors: the request, the refused approvals, the approval, the revocation.
    log = client.get("/api/v1/audit?action=access.grant", headers=h(t.auditor)).json()
    assert [(e["action"], e["outcome"], e["actor"]["person"]) for e in log] == [
        ("access.grant.request", "success", "dave"),
        ("access.grant.approve", "refused", "bob"),  # the admin's try stops at the matrix, before the library
        ("access.grant.approve", "success", "alice"),
        ("access.grant.revoke", "success", "dave"),
    ]
    assert all(e["actor"]["via"] == "api" and e["actor"]["token"] for e in log)


def test_a_grant_past_the_contract_is_a_422_naming_both_dates(world: tuple[TestClient, Tokens], tmp_path: Path) -> None:
    client, t = world
    body = {"person": "dave", "scope": "environment", "target": "prod uction", "until": UNTIL}
    bad = client.post("/api/v1/repos/shop/grants", json=body, headers=h(t.admin))
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert "environment" in bad.text
    past = {**body, "target": "production", "until": "2001-01-01"}
    assert client.post("/api/v1/repos/shop/grants", json=past, headers=h(t.admin)).status_code == 400


def test_the_access_review_by_role(world: tuple[TestClient, Tokens]) -> None:
    client, t = world
    full = client.get("/api/v1/repos/shop/access-review", headers=h(t.auditor)).json()
    assert {o["org"] for o in full["organisations"]} == {"acme", "vistula"}
    mine = client.get("/api/v1/repos/shop/access-review", headers=h(t.lead_vistula))
    assert [o["org"] for o in mine.json()["organisations"]] == ["vistula"]
    for name in ACME_NAMES:
        assert name not in mine.text
    assert not re.search(r'"(person|approver)":\s*"(alice|carol)"', mine.text)
    for role in ("member", "ci"):
        assert client.get("/api/v1/repos/shop/access-review", headers=h(t.of(role))).status_code == 403
    signed = client.post("/api/v1/repos/shop/access-review/signoff", json={"note": "ok"}, headers=h(t.lead_vistula))
    assert signed.status_code == 201 and signed.json()["org"] == "vistula"
    assert client.post("/api/v1/repos/shop/access-review/signoff", json={}, headers=h(t.admin)).status_code == 403
    after = client.get("/api/v1/repos/shop/access-review", headers=h(t.lead_vistula)).json()
    assert after["organisations"][0]["state"] == "signed off"


def test_the_audit_log_is_for_auditors_and_admins(world: tuple[TestClient, Tokens]) -> None:
    client, t = world
    ask(client, t.member_vistula, "dave")
    ask(client, t.member_vistula, "dave", target="api")
    for e in audit_router.ENDPOINTS:
        assert client.get(e.path).status_code == 401
        for role in ROLES:
            got = client.get(e.path, headers=h(t.of(role)))
            expected = e.access[role]
            assert (got.status_code == 403) == (expected is Access.DENY), f"{role} {e.action}: {got.status_code}"
    verified = client.get("/api/v1/audit/verify", headers=h(t.auditor)).json()
    assert verified["ok"] and verified["entries"] >= 1
    page = client.get("/api/v1/audit?limit=1", headers=h(t.admin))
    assert len(page.json()) == 1 and 'rel="next"' in page.headers.get("link", "")


def test_every_access_endpoint_refuses_anonymous_callers_and_denied_roles(world: tuple[TestClient, Tokens]) -> None:
    client, t = world
    for e in access_router.ENDPOINTS:
        path = e.path.replace("{name}", "shop").replace("{id}", "1")
        assert client.request(e.method, path, json={}).status_code == 401
        for role in ROLES:
            if e.access[role] is Access.DENY:
                got = client.request(e.method, path, json={}, headers=h(t.of(role)))
                assert got.status_code == 403, f"{role} {e.action}: {got.status_code} {got.text}"


def test_the_service_sweep_job_runs_the_grants_sweep(tmp_path: Path, store_url: str) -> None:
    """Importing the router registers the sweeper; the scheduled `sweep` job expires grants of every repository."""
    from access_fixtures import shop_repo
    from helpers import GitRepo
    from onebar import audit
    from onebar.access import Scope, approve_grant, list_grants, request_grant
    from onebar.access.jobs import charter_of
    from onebar.jobs.handlers import SWEEPERS
    from onebar.repos.registry import get_repo

    assert "grants" in SWEEPERS
    today = datetime.now(UTC).date()
    repo = shop_repo(GitRepo.create(tmp_path / "shop"), today)
    store = open_store(store_url)
    register(store, repo.path, tmp_path / "data")
    charter = charter_of(get_repo(store, "shop"))
    assert charter is not None
    end = today + timedelta(days=3)
    g = request_grant(store, charter, "shop", person="cy", scope=Scope("component", "api"), until=end,
                      actor=audit.Actor(person="bo"), today=today)  # fmt: skip
    approve_grant(store, charter, g.id, actor=audit.Actor(person="ana"), today=today)
    later = int((datetime.now(UTC) + timedelta(days=30)).timestamp())  # cy's contract (10 days) is over by then
    assert SWEEPERS["grants"](store, later) == 1
    with store.read() as conn:
        [done] = list_grants(conn, repository="shop")
    assert done.status == "revoked" and "contract ended" in (done.end_reason or "")
    store.close()


def test_onboarding_briefs_and_milestones_by_role(world: tuple[TestClient, Tokens]) -> None:
    client, t = world
    dave = client.get("/api/v1/repos/shop/onboard/dave", headers=h(t.member_vistula))
    assert dave.status_code == 200 and dave.json()["person"]["org"] == "vistula"
    assert {c["id"] for c in dave.json()["components"]} == {"billing"}
    assert client.get("/api/v1/repos/shop/onboard/carol", headers=h(t.member_vistula)).status_code == 403
    assert client.get("/api/v1/repos/shop/onboard/carol", headers=h(t.lead_vistula)).status_code == 403
    assert client.get("/api/v1/repos/shop/onboard/carol", headers=h(t.auditor)).status_code == 200
    assert client.get("/api/v1/repos/shop/onboard/nobody", headers=h(t.admin)).status_code == 404
    assert client.get("/api/v1/repos/shop/onboard/dave", headers=h(t.ci)).status_code == 403
    got = client.get("/api/v1/repos/shop/milestones", headers=h(t.lead_vistula))
    assert got.status_code == 200 and got.json()["milestones"] == []  # the charter declares none
    assert client.get("/api/v1/repos/shop/milestones", headers=h(t.member_vistula)).status_code == 403


def _sign_in(client: TestClient, token: str) -> str:
    """A browser session: the sign-in form, then the session's CSRF value as the pages embed it."""
    page = client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert client.post("/signin", data={"token": token, "csrf": csrf}, follow_redirects=False).status_code == 303
    return csrf


def test_the_access_page_approves_with_the_sessions_csrf_value(world: tuple[TestClient, Tokens]) -> None:
    """The dashboard's access page (onebar.server.pages) decides through the same library and matrix."""
    client, t = world
    gid = ask(client, t.member_vistula, "dave").json()["id"]
    _sign_in(client, t.lead_acme)
    page = client.get("/access", params={"repo": "shop"})
    assert page.status_code == 200 and "<script" not in page.text
    assert f'action="/access/{gid}/approve"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    forged = client.post(f"/access/{gid}/approve", data={"csrf": "guess", "repo": "shop"}, follow_redirects=False)
    assert forged.status_code == 403
    done = client.post(f"/access/{gid}/approve", data={"csrf": csrf, "repo": "shop"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/access")
    assert "approved" in client.get("/access", params={"repo": "shop"}).text
    brief = client.get("/repos/shop/people/carol/onboarding")
    assert brief.status_code == 200 and "Carol Acme" in brief.text
    assert client.get("/repos/shop/people/dave/onboarding").status_code in (403, 404)  # another org's person
