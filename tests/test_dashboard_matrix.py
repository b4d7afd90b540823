"""Every role × every dashboard page, from the one matrix (`onebar.auth.roles.PAGES`), and no page naming
another organisation's people.

The pages are called as a browser calls them (`Accept: text/html`): a denied page is a 403 page, an
anonymous visit is sent to the sign-in page; and as an API client: the same 401 and 403 problem
documents as the API. docs/dashboard.md shows the same table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onebar.access import Scope, request_grant
from onebar.audit import Actor
from onebar.auth.roles import PAGES, ROLES, Access, Endpoint, Role
from onebar.charter.load import parse_charter
from onebar.server.app import create_app
from onebar.server.settings import ServiceSettings
from onebar.store import open_store
from service_helpers import CHARTER, Tokens, make_tokens, register, two_org_repo

ROOT = Path(__file__).parents[1]
HTML = {"Accept": "text/html,application/xhtml+xml"}
VERDICT = {
    "schema_version": 1,
    "status": "fail",
    "base": "a" * 40,
    "head": "b" * 40,
    "rules": [{"id": "tests.with_code", "status": "fail"}],
}
# Who each role's token is (service_helpers.make_tokens): the lead and member are of vistula.
PERSON = {Role.ADMIN: None, Role.AUDITOR: None, Role.LEAD: "bob", Role.MEMBER: "dave", Role.CI: None}


@dataclass
class World:
    client: TestClient
    tokens: Tokens
    grants: dict[str, int]  # what each was made for -> grant id


def today() -> Any:
    return datetime.now(UTC).date()


@pytest.fixture
def world(tmp_path: Path, store_url: str) -> Iterator[World]:
    repo = two_org_repo(tmp_path / "shop")
    data = tmp_path / "data"
    store = open_store(store_url)
    register(store, repo.path, data)
    tokens = make_tokens(store)
    charter = parse_charter(CHARTER)
    bob = Actor(person="bob", org="vistula")
    grants = {}
    # Open grants of dave (vistula) on vistula's billing, approved by bob: one to approve, and one for each
    # role that may revoke to revoke.
    for key, level, days in (
        ("approve", "read", 20),
        ("revoke-admin", "write", 30),
        ("revoke-lead", "admin", 40),
        ("revoke-member", "read", 50),
    ):
        scope = Scope("component", "billing") if key != "revoke-member" else Scope("environment", f"e{days}")
        g = request_grant(
            store,
            charter,
            "shop",
            person="dave",
            scope=scope,
            until=today() + timedelta(days=days),
            level=level,
            reason=key,
            actor=bob,
            today=today(),
        )
        grants[key] = g.id
    store.close()
    settings = ServiceSettings(database_url=store_url, data_dir=data, job_workers=0)
    with TestClient(create_app(settings)) as client:
        auth = {"Authorization": f"Bearer {tokens.ci}"}
        for person, org in (("dave", "vistula"), ("carol", "acme")):
            body = {**VERDICT, "author": {"person": person, "org": org}}
            assert client.post("/api/v1/repos/shop/gate-runs", json=body, headers=auth).status_code == 201
        yield World(client, tokens, grants)


def page_call(w: World, e: Endpoint, role: Role | None, *, browser: bool = True) -> Any:
    """Call a page as `role` (None: anonymous), with a body a page of that kind accepts."""
    path = (
        e.path.replace("{name}", "shop")
        .replace("{org}", "vistula")
        .replace("{component}", "billing")
        .replace("{person}", "dave")
    )
    form: dict[str, str] | None = None
    if e.action == "page.jobs.add":
        form = {"kind": "sweep"}
    elif e.action == "page.access.request":
        level = {Role.ADMIN: "read", Role.LEAD: "write", Role.MEMBER: "admin"}.get(role, "read") if role else "read"
        form = {
            "repo": "shop",
            "person": "dave",
            "kind": "environment",
            "scope": f"staging-{role}",
            "level": level,
            "until": str(today() + timedelta(days=10)),
            "reason": "matrix",
        }
    elif e.action == "page.access.approve":
        path = path.replace("{grant}", str(w.grants["approve"]))
        form = {"repo": "shop"}
    elif e.action == "page.access.revoke":
        path = path.replace("{grant}", str(w.grants.get(f"revoke-{role}", w.grants["revoke-admin"])))
        form = {"repo": "shop"}
    headers = dict(HTML) if browser else {}
    if role is not None:
        headers["Authorization"] = f"Bearer {w.tokens.of(role)}"
    return w.client.request(e.method, path, data=form, headers=headers, follow_redirects=False)


@pytest.mark.slow
def test_every_role_on_every_page(world: World) -> None:
    for e in PAGES:
        anonymous = page_call(world, e, None)
        if e.method == "GET":  # a browser is sent to sign in, and comes back here after
            assert anonymous.status_code == 303, e.action
            assert anonymous.headers["location"].startswith("/signin?next=")
        else:
            assert anonymous.status_code == 401, e.action
        api = page_call(world, e, None, browser=False)
        assert api.status_code == 401 and api.headers["content-type"] == "application/problem+json", e.action
        for role in ROLES:
            got = page_call(world, e, role)
            if e.access[role] is Access.DENY:
                assert got.status_code == 403, f"{role} {e.action}: {got.status_code}"
                assert got.headers["content-type"].startswith("text/html")
                assert "403" in got.text and "may not" in got.text
                as_api = page_call(world, e, role, browser=False)
                assert as_api.status_code == 403 and as_api.json()["status"] == 403
            elif e.method == "GET":
                assert got.status_code == 200, f"{role} {e.action}: {got.status_code} {got.text[:300]}"
                assert got.headers["content-type"].startswith("text/html")
            else:  # a form done: back to its page (303), never an error
                assert got.status_code == 303, f"{role} {e.action}: {got.status_code} {got.text[:600]}"


def test_the_docs_show_the_pages_the_service_enforces() -> None:
    text = (ROOT / "docs" / "dashboard.md").read_text()
    block = text.split("<!-- pages:start -->")[1].split("<!-- pages:end -->")[0]
    rows = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    assert rows == {f"{e.method} {e.path}": [e.access[r].value for r in ROLES] for e in PAGES}


def test_a_page_and_its_api_twin_agree_on_every_role() -> None:
    """A page showing what an API endpoint serves is allowed to exactly the same roles."""
    import onebar.server.routers.access
    import onebar.server.routers.briefs  # noqa: F401  (both register their rows when imported)
    from onebar.auth.roles import BY_ACTION

    twins = {
        "page.portfolio": "portfolio.get",
        "page.repo": "report.get",
        "page.component": "components.list",
        "page.person": "people.list",
        "page.gate_runs": "gate_runs.search",
        "page.jobs": "jobs.list",
        "page.jobs.add": "jobs.add",
        "page.org": "portfolio.get",
        "page.access": "grants.list",
        "page.access.request": "grants.add",
        "page.access.approve": "grants.approve",
        "page.access.revoke": "grants.revoke",
        "page.onboard": "onboard.get",
    }
    for page, api in twins.items():
        assert BY_ACTION[page].access == BY_ACTION[api].access, page


VISTULA = ("Bob Vistula", "Dave Vistula", "bob@vistula.test", "dave@vistula.test")
ACME = ("Alice Acme", "Carol Acme", "alice@acme.test", "carol@acme.test")


def _readable_paths(role: Role, own_org: str, own_person: str) -> list[str]:
    out = []
    for e in PAGES:
        if e.method != "GET" or e.access[role] is Access.DENY:
            continue
        if "{component}" in e.path:
            out += [e.path.replace("{name}", "shop").replace("{component}", c) for c in ("core", "billing", "api")]
            continue
        out.append(e.path.replace("{name}", "shop").replace("{org}", own_org).replace("{person}", own_person))
    out += ["/orgs/acme" if own_org == "vistula" else "/orgs/vistula"] if role is Role.LEAD else []
    out += ["/gate-runs?org=acme", "/access?repo=shop"]
    return out


@pytest.mark.slow
def test_no_page_names_another_organisations_people(world: World) -> None:
    store_tokens = world.tokens
    viewers = [  # token, role, own organisation, own person, names it must never see, names it sees
        (store_tokens.lead_vistula, Role.LEAD, "vistula", "bob", ACME, ("Bob Vistula", "Dave Vistula")),
        (store_tokens.lead_acme, Role.LEAD, "acme", "alice", VISTULA, ("Alice Acme", "Carol Acme")),
        (store_tokens.member_acme, Role.MEMBER, "acme", "carol", (*VISTULA, "Alice Acme"), ("Carol Acme",)),
    ]
    for token, role, org, person, foreign, own in viewers:
        seen = ""
        for path in _readable_paths(role, org, person):
            got = world.client.get(path, headers={**HTML, "Authorization": f"Bearer {token}"})
            if got.status_code == 404:  # a component a member's organisation is not on
                assert role is Role.MEMBER and "/components/" in path, path
                continue
            assert got.status_code == 200, f"{path}: {got.status_code}"
            for name in foreign:
                assert name not in got.text, f"{path} shows {name!r} to a {role} of {org}"
            hidden_ids = {"bob", "dave"} if "Bob Vistula" in foreign else {"alice"}
            for pid in hidden_ids:
                assert not re.search(rf"/people/{pid}\b", got.text), f"{path} links to {pid}"
            seen += got.text
        assert all(n in seen for n in own), f"a {role} of {org} sees its own people somewhere"


def test_a_person_of_another_organisation_is_not_found(world: World) -> None:
    lead = {**HTML, "Authorization": f"Bearer {world.tokens.lead_vistula}"}
    for path in ("/repos/shop/people/alice", "/repos/shop/people/alice/onboarding", "/repos/shop/people/nobody"):
        got = world.client.get(path, headers=lead)
        assert got.status_code == 404
        assert "that your role may see" in got.text
    assert world.client.get("/repos/shop/people/dave", headers=lead).status_code == 200
    member = {**HTML, "Authorization": f"Bearer {world.tokens.member_acme}"}
    assert world.client.get("/orgs/vistula", headers=member).status_code == 403  # another organisation's figures
    assert world.client.get("/repos/shop/components/billing", headers=member).status_code == 404  # not acme's
    assert world.client.get("/repos/shop/people/alice", headers=member).status_code == 404  # a colleague, by name
