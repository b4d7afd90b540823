"""The dashboard's pages through the app: sign-in and sessions, forms with CSRF, access requests and
approvals audited, the onboarding brief without hidden names, errors as pages, headers, static files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onebar.jobs.queue import list_jobs
from onebar.server.app import create_app
from onebar.server.settings import ServiceSettings
from onebar.store import open_store
from onebar.store.schema_access import audit_entries, grants
from service_helpers import Tokens, make_tokens, register, two_org_repo

HTML = {"Accept": "text/html"}


@dataclass
class App:
    client: TestClient
    tokens: Tokens
    url: str

    def as_(self, token: str) -> dict[str, str]:
        return {**HTML, "Authorization": f"Bearer {token}"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    repo = two_org_repo(tmp_path / "shop-src")  # a directory named otherwise than the service names it
    data = tmp_path / "data"
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    register(store, repo.path, data)
    tokens = make_tokens(store)
    store.close()
    with TestClient(create_app(ServiceSettings(database_url=url, data_dir=data, job_workers=0))) as client:
        yield App(client, tokens, url)


def sign_in(client: TestClient, token: str, next_: str = "/") -> str:
    """Sign in through the form as a browser does; the session's CSRF value, read from a page's form."""
    form = client.get(f"/signin?next={next_}", headers=HTML)
    assert 'action="/signin?next=' in form.text  # the form remembers where the visitor was going
    pre = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert pre is not None
    done = client.post(f"/signin?next={next_}", data={"token": token, "csrf": pre.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == next_
    cookie = done.headers["set-cookie"]
    assert "onebar_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get("/me", headers=HTML)
    value = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert value is not None
    return value.group(1)


def test_a_visitor_signs_in_and_comes_back_to_the_page_asked_for(app: App) -> None:
    c = app.client
    first = c.get("/orgs/vistula", headers=HTML, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/signin?next=%2Forgs%2Fvistula"
    sign_in(c, app.tokens.lead_vistula, "/orgs/vistula")
    page = c.get("/orgs/vistula", headers=HTML)
    assert page.status_code == 200 and "Bob Vistula" in page.text
    assert "lead · vistula · bob" in page.text  # who is signed in, in the header
    # An off-site `next` is never followed.
    form = c.get("/signin", headers=HTML)
    pre = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert pre is not None
    away = c.post(
        "/signin?next=//evil.example/", data={"token": app.tokens.admin, "csrf": pre.group(1)}, follow_redirects=False
    )
    assert away.headers["location"] == "/"


def test_every_form_needs_the_sessions_csrf_value(app: App) -> None:
    c = app.client
    csrf = sign_in(c, app.tokens.admin)
    refused = c.post("/jobs", data={"kind": "sweep"}, headers=HTML, follow_redirects=False)
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = c.post("/jobs", data={"kind": "sweep", "csrf": "x" * 32}, headers=HTML, follow_redirects=False)
    assert wrong.status_code == 403
    done = c.post("/jobs", data={"kind": "sweep", "csrf": csrf}, headers=HTML, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/jobs?done=")
    store = open_store(app.url)
    assert [j.kind for j in list_jobs(store)] == ["sweep"]
    store.close()
    signed_out = c.post("/signout", data={"csrf": csrf}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert c.get("/", headers=HTML, follow_redirects=False).headers["location"].startswith("/signin")


def test_a_revoked_token_ends_the_pages_at_once(app: App) -> None:
    c = app.client
    sign_in(c, app.tokens.auditor)
    assert c.get("/jobs", headers=HTML).status_code == 200
    admin = {"Authorization": f"Bearer {app.tokens.admin}"}
    mine = next(t for t in c.get("/api/v1/tokens", headers=admin).json() if t["role"] == "auditor")
    assert c.delete(f"/api/v1/tokens/{mine['id']}", headers=admin).status_code == 204
    assert c.get("/jobs", headers=HTML, follow_redirects=False).status_code == 303  # back to sign-in


def test_access_is_requested_approved_and_revoked_from_the_pages_and_audited(app: App) -> None:
    c = app.client
    lead = app.as_(app.tokens.lead_vistula)  # bob, vistula's lead: billing's approver
    until = datetime.now(UTC).date() + timedelta(days=30)
    asked = c.post(
        "/access/requests",
        data={
            "repo": "shop",
            "person": "dave",
            "kind": "component",
            "scope": "billing",
            "level": "write",
            "until": str(until),
            "reason": "invoices",
        },
        headers=lead,
        follow_redirects=False,
    )
    assert asked.status_code == 303 and asked.headers["location"] == "/access?repo=shop&done=requested"
    page = c.get("/access?repo=shop&done=requested", headers=lead)
    assert "Access requested" in page.text
    gid = int(re.search(r'action="/access/(\d+)/approve"', page.text).group(1))  # type: ignore[union-attr]
    # dave (a member) sees his own pending grant but cannot approve it.
    member = app.as_(app.tokens.member_vistula)
    assert "invoices" in c.get("/access", headers=member).text
    assert c.post(f"/access/{gid}/approve", data={"repo": "shop"}, headers=member).status_code == 403
    approved = c.post(f"/access/{gid}/approve", data={"repo": "shop"}, headers=lead, follow_redirects=False)
    assert approved.status_code == 303
    # The API and the page hold the same grants (grants name a repository by the service's name).
    for token in (app.tokens.admin, app.tokens.lead_vistula, app.tokens.member_vistula, app.tokens.lead_acme):
        api = c.get("/api/v1/repos/shop/grants", headers={"Authorization": f"Bearer {token}"}).json()
        page = c.get("/access?repo=shop", headers=app.as_(token)).text
        assert [g["id"] for g in api] == [int(x) for x in re.findall(r'<td class="n">(\d+)</td>', page)]
    revoked = c.post(
        f"/access/{gid}/revoke", data={"repo": "shop", "reason": "done early"}, headers=member, follow_redirects=False
    )
    assert revoked.status_code == 303
    store = open_store(app.url)
    with store.read() as conn:
        row = conn.execute(select(grants).where(grants.c.id == gid)).one()
        trail = conn.execute(
            select(audit_entries.c.action, audit_entries.c.actor_person, audit_entries.c.via).where(
                audit_entries.c.target == f"grant:{gid}"
            )
        ).all()
    store.close()
    assert (row.status, row.decided_by, row.ended_by, row.end_reason) == ("revoked", "bob", "dave", "done early")
    assert [tuple(t) for t in trail] == [
        ("access.grant.request", "bob", "web"),
        ("access.grant.approve", "bob", "web"),
        ("access.grant.revoke", "dave", "web"),
    ]


def test_a_refused_request_shows_the_form_again_with_the_reason(app: App) -> None:
    c = app.client
    lead = app.as_(app.tokens.lead_vistula)
    past = str(datetime.now(UTC).date() - timedelta(days=1))
    got = c.post(
        "/access/requests",
        data={
            "repo": "shop",
            "person": "dave",
            "kind": "component",
            "scope": "billing",
            "until": past,
            "reason": "late",
        },
        headers=lead,
    )
    assert got.status_code == 400
    assert "Refused:" in got.text and "has passed" in got.text and 'value="late"' in got.text
    # Someone the lead does not see by name cannot be asked for, and the answer does not say whether they exist.
    hidden = c.post(
        "/access/requests",
        data={
            "repo": "shop",
            "person": "alice",
            "kind": "component",
            "scope": "core",
            "until": str(datetime.now(UTC).date()),
        },
        headers=lead,
    )
    assert hidden.status_code == 404 and "Alice Acme" not in hidden.text
    bad_date = c.post("/access/requests", data={"repo": "shop", "person": "dave", "until": "soon"}, headers=lead)
    assert bad_date.status_code == 400 and "is not a date" in bad_date.text


def test_the_onboarding_brief_names_only_people_the_caller_may_see(app: App) -> None:
    c = app.client
    mine = c.get("/repos/shop/people/dave/onboarding", headers=app.as_(app.tokens.member_vistula))
    assert mine.status_code == 200 and "Welcome, Dave Vistula" in mine.text
    for name in ("Alice Acme", "Carol Acme", "Bob Vistula"):  # a member sees only themselves by name
        assert name not in mine.text
    assert "someone of vistula" in mine.text or "hidden · vistula" in mine.text
    full = c.get("/repos/shop/people/dave/onboarding", headers=app.as_(app.tokens.admin))
    assert "Bob Vistula" in full.text  # billing's Accountable, for an admin


def test_errors_are_pages_for_a_browser_and_problem_documents_otherwise(app: App) -> None:
    c = app.client
    admin = app.as_(app.tokens.admin)
    page = c.get("/repos/nowhere", headers=admin)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "no repository named &#39;nowhere&#39;" in page.text and "Field: <code>name</code>" in page.text
    api = c.get("/repos/nowhere", headers={"Authorization": f"Bearer {app.tokens.admin}"})
    assert api.status_code == 404 and api.json()["field"] == "name"
    bad = c.get("/jobs?status=stuck", headers=admin)
    assert bad.status_code == 400 and "not a job status" in bad.text
    invalid = c.get("/gate-runs?before=zero", headers=admin)
    assert invalid.status_code == 400 and "before" in invalid.text
    hidden = c.get("/orgs/acme", headers=app.as_(app.tokens.member_vistula))
    assert hidden.status_code == 403 and "does not see" in hidden.text


def test_pages_carry_the_security_headers_and_fetch_nothing_from_elsewhere(app: App) -> None:
    c = app.client
    admin = app.as_(app.tokens.admin)
    for path in (
        "/",
        "/orgs/vistula",
        "/repos/shop",
        "/repos/shop/components/core",
        "/repos/shop/people/dave",
        "/gate-runs",
        "/jobs",
        "/access",
        "/me",
    ):
        got = c.get(path, headers=admin)
        assert got.status_code == 200, path
        assert got.headers["content-security-policy"].startswith("default-src 'none'")
        assert got.headers["cache-control"] == "private, no-store"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in got.text
        assert not re.search(r'(src|href)="(https?:)?//', got.text), path  # only this site's own paths
        assert got.text.count('<link rel="stylesheet"') == 1


def test_the_stylesheet_is_small_and_cached(app: App) -> None:
    c = app.client
    css = c.get("/static/onebar.css")  # anonymous: the sign-in page uses it
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert len(css.content) < 16_000
    assert c.get("/static/onebar.css", headers={"If-None-Match": css.headers["etag"]}).status_code == 304
    assert c.get("/favicon.ico").headers["content-type"] == "image/svg+xml"
    assert c.get("/static/../pyproject.toml").status_code == 404


def test_the_portfolio_adds_up_as_the_api_does(app: App) -> None:
    c = app.client
    api = c.get("/api/v1/portfolio", headers={"Authorization": f"Bearer {app.tokens.admin}"}).json()
    page = c.get("/", headers=app.as_(app.tokens.admin)).text
    for org, entry in api["organisations"].items():
        row = page.split(f'href="/orgs/{org}"')[1].split("</tr>")[0]
        cells = re.findall(r'<td class="n">([^<]*)</td>', row)
        assert cells[:2] == [f"{entry['totals']['changes']:,}", f"{entry['totals']['deployments']:,}"], org
        tier = entry["totals"]["weakest_tier"]
        assert (f"tier-{tier}" in row) if tier else True


def test_gate_runs_page_by_page_without_losing_one(app: App) -> None:
    c = app.client
    ci = {"Authorization": f"Bearer {app.tokens.ci}"}
    for i in range(53):
        body = {
            "status": "pass" if i % 3 else "fail",
            "base": "a" * 40,
            "head": f"{i:02d}" + "c" * 38,
            "author": {"person": "dave", "org": "vistula"},
            "rules": [{"id": "size", "status": "pass"}],
        }
        assert c.post("/api/v1/repos/shop/gate-runs", json=body, headers=ci).status_code == 201
    lead = app.as_(app.tokens.lead_vistula)
    first = c.get("/gate-runs", headers=lead).text
    heads = re.findall(r"<code>(\d\dc{8})</code>", first)
    assert len(heads) == 50 and "50 runs shown" in first
    older = re.search(r'href="(/gate-runs\?[^"]+)">Older runs', first)
    assert older is not None
    second = c.get(older.group(1).replace("&amp;", "&"), headers=lead).text
    rest = re.findall(r"<code>(\d\dc{8})</code>", second)
    assert len(rest) == 3 and not set(rest) & set(heads) and "Older runs" not in second
    failing = c.get("/gate-runs?status=fail", headers=lead).text
    assert '18 runs shown: <span class="status-fail">18 failed' in failing


def test_many_repositories_keep_the_pages_short(app: App) -> None:
    """With 14 repositories the portfolio lists them in one table and an organisation charts its six busiest."""
    from sqlalchemy import insert

    from onebar.store.schema_service import materialised_reports, service_repos

    store = open_store(app.url)
    with store.write() as conn:
        base = dict(conn.execute(select(materialised_reports)).one()._mapping)
        src = dict(conn.execute(select(service_repos)).one()._mapping)
        base.pop("id")
        src.pop("id")
        for i in range(1, 14):
            conn.execute(insert(service_repos).values(**{**src, "name": f"copy{i:02d}"}))
            conn.execute(insert(materialised_reports).values(**{**base, "repo": f"copy{i:02d}", "etag": f"e{i:031d}"}))
    store.close()
    admin = app.as_(app.tokens.admin)
    portfolio = app.client.get("/", headers=admin).text
    assert '<tr class="sub">' not in portfolio and "in 14 repositories" in portfolio
    assert 'class="card"' not in portfolio and portfolio.count('href="/repos/copy') == 13
    org = app.client.get("/orgs/vistula", headers=admin).text
    assert org.count("<figure>") == 6 * 3 and "In 8 more repositories" in org
    assert org.count('/people/bob"') == 1 and "14 repositories" in org  # one row per person


def test_the_session_cookie_is_secure_over_tls(app: App, tmp_path: Path) -> None:
    settings = ServiceSettings(database_url=app.url, data_dir=tmp_path / "data", job_workers=0)
    with TestClient(create_app(settings), base_url="https://dashboard.test") as tls:
        form = tls.get("/signin", headers=HTML)
        pre = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert pre is not None and "Secure" in form.headers["set-cookie"]
        done = tls.post("/signin", data={"token": app.tokens.admin, "csrf": pre.group(1)}, follow_redirects=False)
        cookie = done.headers["set-cookie"]
        assert "onebar_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
        assert tls.get("/", headers=HTML).status_code == 200


def test_a_bug_is_a_plain_500_page_with_the_request_id(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from onebar.server.pages import ops

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ops, "list_jobs", broken)  # a fault injected into one page
    client = TestClient(app.client.app, raise_server_exceptions=False)
    got = client.get("/jobs", headers={**app.as_(app.tokens.admin), "X-Request-ID": "req-42"})
    assert got.status_code == 500 and got.headers["content-type"].startswith("text/html")
    assert "req-42" in got.text and "secret internals" not in got.text and "Traceback" not in got.text
    api = client.get("/jobs", headers={"Authorization": f"Bearer {app.tokens.admin}"})
    assert api.status_code == 500 and api.json()["request_id"]
