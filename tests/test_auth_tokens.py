"""Tokens (shown once, stored hashed, scoped, expiring, revocable) and browser sessions with CSRF."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helpers import run_cli
from onebar.auth import visibility
from onebar.auth.roles import Principal, Role
from onebar.auth.tokens import authenticate, create_token, list_tokens, revoke_token
from onebar.errors import AuthenticationError, NotFoundError, UsageError
from onebar.server.app import create_app
from onebar.server.settings import ServiceSettings, load_settings
from onebar.store import Store
from onebar.store.schema_service import api_tokens


def test_a_token_is_stored_only_as_its_hash(store: Store) -> None:
    new = create_token(store, "auditor", now=1_000)
    with store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(api_tokens))]
    assert len(rows) == 1
    assert new.token not in json.dumps(rows)
    assert rows[0]["prefix"] == new.token[:13]
    principal = authenticate(store, new.token, now=2_000)
    assert (principal.role, principal.token_id) == (Role.AUDITOR, new.info.id)
    assert list_tokens(store)[0].last_used_at == 2_000


@pytest.mark.parametrize(
    ("role", "scope", "field"),
    [
        ("lead", {}, "org"),
        ("member", {}, "org"),
        ("ci", {}, "repo"),
        ("admin", {"org": "acme"}, "org"),
        ("lead", {"org": "acme", "repo": "shop"}, "repo"),
        ("owner", {}, "role"),
    ],
)
def test_a_token_needs_the_scope_of_its_role(store: Store, role: str, scope: dict[str, str], field: str) -> None:
    with pytest.raises(UsageError) as info:
        create_token(store, role, **scope)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_ci_token_names_a_registered_repository(store: Store) -> None:
    with pytest.raises(NotFoundError) as info:
        create_token(store, "ci", repo="nowhere")
    assert info.value.field == "repo"


@pytest.mark.parametrize("expires", ["0d", "abc", "99999", "-3"])
def test_a_bad_expiry_names_the_field(store: Store, expires: str) -> None:
    with pytest.raises(UsageError) as info:
        create_token(store, "admin", expires=expires)
    assert info.value.field == "expires"


def test_revoked_expired_and_unknown_tokens_are_refused(store: Store) -> None:
    new = create_token(store, "admin", expires="1d", now=1_000)
    assert authenticate(store, new.token, now=1_000 + 86_399).role is Role.ADMIN
    with pytest.raises(AuthenticationError, match="expired"):
        authenticate(store, new.token, now=1_000 + 86_400)
    other = create_token(store, "admin", expires="never")
    revoke_token(store, other.info.id)
    with pytest.raises(AuthenticationError, match="revoked"):
        authenticate(store, other.token)
    with pytest.raises(AuthenticationError):
        authenticate(store, other.token[:-1] + ("A" if other.token[-1] != "A" else "B"))
    with pytest.raises(NotFoundError):
        revoke_token(store, 999)


def test_token_create_prints_the_contract_json(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    out = run_cli(
        "token", "create", "--role", "lead", "--org", "acme", "--expires", "30", "--db", db, "--format", "json"
    )
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"token", "id", "role", "expires"} <= set(data)
    assert data["role"] == "lead" and data["token"].startswith("onebar_")
    listed = run_cli("token", "list", "--db", db, "--format", "json")
    assert data["token"] not in listed.stdout
    assert json.loads(listed.stdout)[0]["state"] == "active"
    assert run_cli("token", "revoke", str(data["id"]), "--db", db).exit_code == 0
    assert json.loads(run_cli("token", "list", "--db", db, "--format", "json").stdout)[0]["state"] == "revoked"
    bad = run_cli("token", "create", "--role", "lead", "--db", db)
    assert bad.exit_code == 2
    assert "--org" in bad.stderr


@pytest.fixture
def client(store_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = ServiceSettings(database_url=store_url, data_dir=tmp_path / "data", job_workers=0)
    with TestClient(create_app(settings)) as c:
        yield c


def _signin(client: TestClient, token: str) -> None:
    page = client.get("/signin")
    assert page.status_code == 200
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    done = client.post("/signin", data={"token": token, "csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303, done.text
    cookie = done.headers["set-cookie"]
    assert "onebar_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


def test_a_browser_session_needs_csrf_for_writes_and_ends_with_its_token(client: TestClient, store_url: str) -> None:
    from onebar.store import open_store

    store = open_store(store_url)
    admin = create_token(store, "admin")
    store.close()
    _signin(client, admin.token)
    assert client.get("/api/v1/whoami").json()["via"] == "session"
    refused = client.post("/api/v1/jobs", json={"kind": "sweep"})
    assert refused.status_code == 403
    assert refused.json()["field"] == "csrf"
    # The CSRF value of the session, as a page would embed it.
    from onebar.auth.sessions import session_principal

    store = open_store(store_url)
    _, csrf = session_principal(store, client.cookies["onebar_session"])
    accepted = client.post("/api/v1/jobs", json={"kind": "sweep"}, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 202, accepted.text
    revoke_token(store, admin.info.id)
    store.close()
    assert client.get("/api/v1/whoami").status_code == 401


def test_sign_in_refuses_a_bad_token_and_a_missing_csrf_value(client: TestClient, store_url: str) -> None:
    page = client.get("/signin")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    bad = client.post("/signin", data={"token": "onebar_nope", "csrf": csrf}, follow_redirects=False)
    assert bad.status_code == 401
    assert "onebar_session" not in bad.headers.get("set-cookie", "")
    no_csrf = client.post("/signin", data={"token": "onebar_nope"}, follow_redirects=False)
    assert no_csrf.status_code == 403


def test_an_anonymous_caller_sees_only_health_and_sign_in(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/signin").status_code == 200
    for path in ("/api/v1/repos", "/api/v1/portfolio", "/api/v1/jobs", "/metrics", "/api/v1/whoami"):
        got = client.get(path)
        assert got.status_code == 401, path
        assert got.json()["status"] == 401


def test_bad_input_is_a_problem_naming_the_field(client: TestClient, store_url: str) -> None:
    from onebar.store import open_store

    store = open_store(store_url)
    admin = {"Authorization": f"Bearer {create_token(store, 'admin').token}"}
    store.close()
    cases = [
        ("GET", "/api/v1/jobs?limit=0", None, "limit"),
        ("GET", "/api/v1/jobs?cursor=%%%", None, "cursor"),
        ("GET", "/api/v1/jobs?status=stuck", None, "status"),
        ("POST", "/api/v1/jobs", {"kind": "nap"}, "kind"),
        ("POST", "/api/v1/tokens", {"role": "lead"}, "org"),
        ("POST", "/api/v1/tokens", {}, "role"),
        ("POST", "/api/v1/repos", {"source": "/nonexistent/repo"}, "source"),
        ("GET", "/api/v1/repos/nope/report", None, "name"),
    ]
    for method, path, body, field in cases:
        got = client.request(method, path, json=body, headers=admin)
        assert 400 <= got.status_code < 500, (path, got.status_code, got.text)
        assert got.headers["content-type"] == "application/problem+json"
        assert got.json()["field"] == field, (path, got.json())
    big = client.post("/api/v1/jobs", content=b"x" * 2_000_000, headers={**admin, "content-type": "application/json"})
    assert big.status_code == 413


def test_settings_come_from_flags_then_environment_then_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "onebar-service.toml"
    config.write_text('port = 9100\njob_lease = 120\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("ONEBAR_CONFIG", str(config))
    monkeypatch.setenv("ONEBAR_JOB_LEASE", "90")
    s = load_settings(host="127.0.0.2")
    assert (s.host, s.port, s.job_lease) == ("127.0.0.2", 9100, 90)
    with pytest.raises(UsageError) as info:
        load_settings(port=70000)
    assert info.value.field == "port"
    config.write_text("bogus = 1\n")
    with pytest.raises(UsageError):
        load_settings()


def test_visibility_of_a_member_keeps_only_their_own_person() -> None:
    me = Principal(1, Role.MEMBER, org="acme", person="carol")
    assert visibility.sees_person(me, "carol", "acme")
    assert not visibility.sees_person(me, "alice", "acme")
    assert visibility.sees_org(me, "acme") and not visibility.sees_org(me, "vistula")
    lead = Principal(2, Role.LEAD, org="acme")
    assert visibility.sees_person(lead, "alice", "acme") and not visibility.sees_person(lead, "bob", "vistula")
    assert visibility.sees_org(lead, "vistula")
    hidden = visibility.person_entry(lead, {"person": "bob", "name": "Bob", "org": "vistula"})
    assert hidden == {"person": "", "name": "(hidden)", "org": "vistula"}


def test_every_answer_and_log_line_carries_the_request_id(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="onebar.access"):
        mine = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
        theirs = client.get("/api/v1/repos")
    assert mine.headers["x-request-id"] == "trace-42"
    assert theirs.headers["x-request-id"] == theirs.json()["request_id"]
    ids = {getattr(r, "request_id", None) for r in caplog.records}
    assert {"trace-42", theirs.headers["x-request-id"]} <= ids
    odd = client.get("/healthz", headers={"X-Request-ID": "no spaces allowed\t"})
    assert odd.headers["x-request-id"] != "no spaces allowed\t"


def test_refusals_and_changes_land_in_the_tamper_evident_audit_log(client: TestClient, store_url: str) -> None:
    from onebar import audit
    from onebar.store import open_store

    store = open_store(store_url)
    admin = create_token(store, "admin")
    store.close()
    assert client.get("/api/v1/repos").status_code == 401
    made = client.post("/api/v1/tokens", json={"role": "auditor"}, headers={"Authorization": f"Bearer {admin.token}"})
    assert made.status_code == 201
    who = {"Authorization": f"Bearer {made.json()['token']}"}
    assert client.post("/api/v1/tokens", json={"role": "admin"}, headers=who).status_code == 403
    store = open_store(store_url)
    with store.read() as conn:
        rows = [(e.action, e.target, e.outcome, e.actor.token) for e in audit.entries(conn)]
    assert ("http.get", "/api/v1/repos", "refused", None) in rows
    assert ("token.create", f"token:{made.json()['id']}", "success", str(admin.info.id)) in rows
    assert ("http.post", "/api/v1/tokens", "refused", str(made.json()["id"])) in rows
    with store.read() as conn:
        assert made.json()["token"] not in str([e.payload for e in audit.entries(conn)])  # never a secret
    store.close()
    verified = run_cli("audit", "verify", "--db", store_url)
    assert verified.exit_code == 0, verified.stdout + verified.stderr


def test_the_service_records_last_use_without_a_write_per_request(client: TestClient, store_url: str) -> None:
    from onebar.store import open_store

    store = open_store(store_url)
    made = create_token(store, "auditor")
    store.close()
    assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {made.token}"}).status_code == 200
    service = client.app.state.service  # type: ignore[attr-defined]
    assert made.info.id in service._uses  # buffered, not yet written
    service.flush_uses()
    store = open_store(store_url)
    (info,) = [t for t in list_tokens(store) if t.id == made.info.id]
    store.close()
    assert info.last_used_at is not None


def test_sign_in_returns_to_the_page_asked_for_and_never_elsewhere(client: TestClient, store_url: str) -> None:
    from onebar.store import open_store

    store = open_store(store_url)
    token = create_token(store, "auditor").token
    store.close()
    for asked, landed in [("/portfolio", "/portfolio"), ("//evil.example/x", "/"), ("https://evil.example", "/")]:
        page = client.get("/signin", params={"next": asked})
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        done = client.post(
            "/signin", params={"next": asked}, data={"token": token, "csrf": csrf}, follow_redirects=False
        )
        assert done.status_code == 303
        assert done.headers["location"] == landed
