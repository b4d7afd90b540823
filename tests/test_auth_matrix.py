"""Every role × every endpoint of the access matrix, and no name of another organisation in any answer.

The matrix (onebar.auth.roles.MATRIX) is the one source: docs/service.md shows it, and this test
calls each endpoint with each role's token and expects exactly the status it implies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from helpers import GitRepo
from onebar.auth.roles import MATRIX, ROLES, Access, Endpoint, Role
from onebar.auth.tokens import create_token
from onebar.server.app import create_app
from onebar.server.settings import ServiceSettings
from onebar.store import open_store
from service_helpers import ACME_NAMES, VISTULA_NAMES, Tokens, make_tokens, register, two_org_repo

ROOT = Path(__file__).parents[1]
VERDICT = {
    "schema_version": 1, "status": "fail", "base": "a" * 40, "head": "b" * 40,
    "author": {"login": "dave", "email": "dave@vistula.test", "name": "Dave Vistula", "person": "dave",
               "org": "vistula", "org_kind": "partner"},
    "rules": [{"id": "tests.with_code", "status": "fail"}, {"id": "size", "status": "pass"}],
}  # fmt: skip


@pytest.fixture
def world(tmp_path: Path, store_url: str) -> Iterator[tuple[TestClient, Tokens, Path]]:
    repo = two_org_repo(tmp_path / "shop")
    GitRepo.create(tmp_path / "spare").commit("x", {"a": "1"})
    data = tmp_path / "data"
    store = open_store(store_url)
    register(store, repo.path, data)
    tokens = make_tokens(store)
    store.close()
    settings = ServiceSettings(database_url=store_url, data_dir=data, job_workers=0)
    with TestClient(create_app(settings)) as client:
        # Something of each kind to read: a deployment, an incident, a gate run of each organisation.
        auth = {"Authorization": f"Bearer {tokens.ci}"}
        assert client.post("/api/v1/repos/shop/deployments", json={"ref": "v1.0.0"}, headers=auth).status_code == 201
        assert client.post("/api/v1/repos/shop/incidents", json={"title": "down"}, headers=auth).status_code == 201
        assert client.post("/api/v1/repos/shop/gate-runs", json=VERDICT, headers=auth).status_code == 201
        acme = {**VERDICT, "author": {**VERDICT["author"], "person": "carol", "org": "acme", "name": "Carol Acme",  # type: ignore[dict-item]
                                      "email": "carol@acme.test", "login": "carol"}}  # fmt: skip
        assert client.post("/api/v1/repos/shop/gate-runs", json=acme, headers=auth).status_code == 201
        yield client, tokens, tmp_path


def call(client: TestClient, e: Endpoint, token: str | None, tmp: Path, admin: str) -> Any:
    path = e.path.replace("{name}", "shop")
    if "{job_id}" in path:
        listed = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {admin}"}).json()
        path = path.replace("{job_id}", str(listed[0]["id"]))
    if "{id}" in path:
        store_token = client.post(
            "/api/v1/tokens", json={"role": "auditor"}, headers={"Authorization": f"Bearer {admin}"}
        )
        path = path.replace("{id}", str(store_token.json()["id"]))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(e.method, path, json=call_body(e, tmp), headers=headers)


def call_body(e: Endpoint, tmp: Path) -> Any:
    bodies: dict[str, Any] = {
        "repos.add": {"source": str(tmp / "spare"), "name": f"spare{len(list(tmp.iterdir()))}"},
        "deployments.add": {"ref": "v1.1.0"},
        "incidents.add": {"title": "slow"},
        "gate_runs.add": VERDICT,
        "jobs.add": {"kind": "sweep"},
        "tokens.add": {"role": "auditor"},
        "hooks.deployments": {"repo": "shop", "sha": "c" * 40, "ref": "v1.1.0"},
    }
    return bodies.get(e.action)


@pytest.mark.slow
def test_every_role_on_every_endpoint(world: tuple[TestClient, Tokens, Path]) -> None:
    for endpoint in MATRIX:
        _check_endpoint(world, endpoint)


def _check_endpoint(world: tuple[TestClient, Tokens, Path], endpoint: Endpoint) -> None:
    client, tokens, tmp = world
    anonymous = call(client, endpoint, None, tmp, tokens.admin)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["content-type"] == "application/problem+json"
    for role in ROLES:
        access = endpoint.access[role]
        got = call(client, endpoint, tokens.of(role), tmp, tokens.admin)
        if access is Access.DENY:
            assert got.status_code == 403, f"{role} {endpoint.action}: {got.status_code} {got.text}"
            assert got.json()["status"] == 403
        else:
            assert got.status_code < 300, f"{role} {endpoint.action}: {got.status_code} {got.text}"
        if access is Access.OWN:  # the same call for another repository (in the path, or the body) is refused
            body = {} if "{name}" in endpoint.path else {**call_body(endpoint, tmp), "repo": "elsewhere"}
            other = client.request(endpoint.method, endpoint.path.replace("{name}", "elsewhere"),
                                   headers={"Authorization": f"Bearer {tokens.of(role)}"}, json=body)  # fmt: skip
            assert other.status_code == 403, f"{role} {endpoint.action}: {other.status_code} {other.text}"


def _readable(role: Role) -> list[Endpoint]:
    readable = [e for e in MATRIX if e.method == "GET" and e.access[role] is not Access.DENY]
    return [e for e in readable if "{" not in e.path.replace("{name}", "")]


@pytest.mark.slow
def test_no_endpoint_names_another_organisations_people(world: tuple[TestClient, Tokens, Path]) -> None:
    _, tokens, _ = world
    viewers = [
        (tokens.lead_acme, Role.LEAD, VISTULA_NAMES, ("Alice Acme", "Carol Acme")),
        (tokens.lead_vistula, Role.LEAD, ACME_NAMES, ("Bob Vistula", "Dave Vistula")),
        (tokens.member_acme, Role.MEMBER, (*VISTULA_NAMES, "Alice Acme", "alice@acme.test"), ("Carol Acme",)),
    ]
    for token, role, foreign, own in viewers:
        _check_viewer(world, token, role, foreign, own)


def _check_viewer(
    world: tuple[TestClient, Tokens, Path], token: str, role: Role, foreign: tuple[str, ...], own: tuple[str, ...]
) -> None:
    client, tokens, _ = world
    seen_own = False
    for e in _readable(role):
        got = client.get(e.path.replace("{name}", "shop"), headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 200, f"{e.action}: {got.text}"
        for name in foreign:
            assert name not in got.text, f"{e.action} shows {name!r} to a {role}"
        person_ids = ({"bob", "dave"} if "Bob Vistula" in foreign else set()) | (
            {"alice"} if "Alice Acme" in foreign else set()
        )
        for pid in person_ids:
            assert not re.search(rf'"(person|id)":\s*"{pid}"', got.text), f"{e.action} shows person {pid!r}"
        seen_own = seen_own or all(n in got.text for n in own)
    assert seen_own, "the caller's own people appear somewhere"
    # And the admin sees them all.
    full = client.get("/api/v1/repos/shop/report", headers={"Authorization": f"Bearer {tokens.admin}"}).text
    assert all(n in full for n in ("Bob Vistula", "Alice Acme"))


def test_the_docs_show_the_matrix_the_service_enforces() -> None:
    text = (ROOT / "docs" / "service.md").read_text()
    block = text.split("<!-- matrix:start -->")[1].split("<!-- matrix:end -->")[0]
    rows = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    assert rows == {f"{e.method} {e.path}": [e.access[r].value for r in ROLES] for e in MATRIX}


def test_a_revoked_or_expired_token_is_refused_at_once(world: tuple[TestClient, Tokens, Path], store_url: str) -> None:
    client, tokens, _ = world
    admin = {"Authorization": f"Bearer {tokens.admin}"}
    made = client.post("/api/v1/tokens", json={"role": "auditor"}, headers=admin).json()
    mine = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/v1/repos", headers=mine).status_code == 200
    assert client.delete(f"/api/v1/tokens/{made['id']}", headers=admin).status_code == 204
    refused = client.get("/api/v1/repos", headers=mine)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    store = open_store(store_url)
    old = create_token(store, "auditor", expires=1, now=1_000_000)
    store.close()
    expired = client.get("/api/v1/repos", headers={"Authorization": f"Bearer {old.token}"})
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]
    assert client.get("/api/v1/repos", headers={"Authorization": "Bearer onebar_guess"}).status_code == 401
    assert client.get("/api/v1/repos", headers={"Authorization": "Basic eHg6eXk="}).status_code == 401
