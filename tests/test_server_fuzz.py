"""Whatever a client sends to the write endpoints, the answer is a 2xx or a 4xx problem document: never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onebar.auth.tokens import create_token
from onebar.server.app import create_app
from onebar.server.settings import ServiceSettings
from onebar.store import open_store
from service_helpers import register, two_org_repo

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
fields = st.sampled_from(["ref", "sha", "at", "status", "environment", "external_id", "title", "started",
                          "resolved", "deployment", "base", "head", "rules", "author", "role", "org", "repo",
                          "expires", "kind", "source", "name", "schema_version"])  # fmt: skip
bodies = st.dictionaries(fields, json_values, max_size=6) | json_values
# Not POST /api/v1/repos: a random "source" could read as a clone URL of some host, and tests stay on loopback.
paths = st.sampled_from(["/api/v1/repos/shop/deployments", "/api/v1/repos/shop/incidents",
                         "/api/v1/repos/shop/gate-runs", "/api/v1/tokens", "/api/v1/jobs"])  # fmt: skip


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    db = f"sqlite:///{tmp / 's.db'}"
    store = open_store(db)
    register(store, two_org_repo(tmp / "shop").path, tmp / "data")
    admin = create_token(store, "admin").token
    store.close()
    with TestClient(create_app(ServiceSettings(database_url=db, data_dir=tmp / "data", job_workers=0))) as c:
        yield c, admin


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=paths, body=bodies)
def test_write_endpoints_never_fail_with_a_500(client: tuple[TestClient, str], path: str, body: object) -> None:
    c, admin = client
    got = c.post(path, json=body, headers={"Authorization": f"Bearer {admin}"})
    assert got.status_code < 500, (path, body, got.text)
    if got.status_code >= 400:
        assert got.headers["content-type"] == "application/problem+json"
        assert got.json()["status"] == got.status_code


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"[1,2", b"null", b'{"ref": ' + b"9" * 5000 + b"}"])
def test_malformed_bodies_are_problems_naming_the_body(client: tuple[TestClient, str], raw: bytes) -> None:
    c, admin = client
    got = c.post("/api/v1/repos/shop/deployments", content=raw,
                 headers={"Authorization": f"Bearer {admin}", "content-type": "application/json"})  # fmt: skip
    assert 400 <= got.status_code < 500, got.text
    assert got.headers["content-type"] == "application/problem+json"
    assert json.loads(got.text)["field"] is not None or got.status_code == 422
