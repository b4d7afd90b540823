"""The webhook routes of the real service app: receive, refuse, audit, count, process as a job, list."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from onebar.codehost.hooks import add_hook, github_signature, payload_of
from onebar.jobs import queue
from onebar.jobs.handlers import Context
from onebar.jobs.worker import Worker
from onebar.server.app import create_app
from onebar.server.routers import hooks as hooks_router
from onebar.server.settings import ServiceSettings
from onebar.store import Store, open_store
from onebar.store.schema import deployments
from onebar.store.schema_access import audit_entries
from onebar.store.schema_codehost import deliveries, hooks, pull_requests
from onebar.store.schema_service import jobs
from service_helpers import Tokens, make_tokens, register, two_org_repo

KEY = "test-key-of-sixteen-chars-or-more"
SQLITE_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the rest run on both stores
T0 = "2023-11-15T10:00:00Z"


@dataclass
class World:
    client: TestClient
    store: Store
    tokens: Tokens
    github_secret: str
    gitlab_secret: str
    data: Path

    def run_jobs(self) -> list[queue.Job]:
        """Run every due job, as the service's worker would."""
        worker = Worker(Context(self.store, self.data), name="test-worker")
        ran = []
        while (job := worker.run_once()) is not None:
            ran.append(job)
        return ran

    def count(self, table: Any, *where: Any) -> int:
        with self.store.read() as conn:
            return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


@pytest.fixture
def world(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("ONEBAR_SECRET_KEY", KEY)
    data = tmp_path / "data"
    store = open_store(store_url)
    register(store, two_org_repo(tmp_path / "shop").path, data)
    tokens = make_tokens(store, "shop")
    gh = add_hook(store, "github", "shop")
    gl = add_hook(store, "gitlab", "shop", "gitlab-secret-1")
    settings_ = ServiceSettings(database_url=store_url, data_dir=data, job_workers=0, max_hook_body_bytes=4096)
    with TestClient(create_app(settings_)) as client:
        yield World(client, store, tokens, gh.secret, gl.secret, data)
    store.close()


def pull(number: int = 7, action: str = "opened", **over: Any) -> dict[str, Any]:
    return {
        "action": action,
        "number": number,
        "repository": {"name": "shop", "full_name": "acme/shop"},
        "pull_request": {
            "number": number, "title": "Checkout PAY-12", "body": "Fixes #3", "state": "open", "draft": False,
            "user": {"login": "bob-gh", "type": "User"}, "created_at": T0, "updated_at": T0,
            "head": {"ref": "f", "sha": "a" * 40}, "base": {"ref": "main", "sha": "b" * 40}, **over,
        },
    }  # fmt: skip


def signed(secret: str, payload: dict[str, Any], event: str, delivery: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": github_signature(secret, body),
    }


def test_a_github_delivery_is_acknowledged_stored_once_and_processed_by_a_job(world: World) -> None:
    body, headers = signed(world.github_secret, pull(), "pull_request", "d-1")
    first = world.client.post("/hooks/github", content=body, headers=headers)
    assert first.status_code == 202, first.text
    assert first.json()["duplicate"] is False and first.json()["delivery_id"] == "d-1"
    again = world.client.post("/hooks/github", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["delivery"] == first.json()["delivery"]
    assert world.count(deliveries) == 1
    # The processing job was queued with the delivery, and nothing was processed on the request's path.
    assert world.count(jobs, jobs.c.kind == "deliveries", jobs.c.status == "queued") == 1
    assert world.count(pull_requests) == 0
    ran = world.run_jobs()
    assert [j.kind for j in ran] == ["deliveries", "refresh"]  # the report of the registered repository follows
    assert world.count(pull_requests) == 1
    assert world.count(deliveries, deliveries.c.status == "processed") == 1
    # The refreshed report of the registered repository now has its code-host section.
    report = world.client.get("/api/v1/repos/shop/report", headers={"Authorization": f"Bearer {world.tokens.admin}"})
    assert report.json()["flow"]["available"] is True and report.json()["flow"]["sources"] == ["github:acme/shop"]


def test_a_bad_or_missing_signature_is_401_stores_nothing_and_is_counted_and_audited(world: World) -> None:
    body, headers = signed("not-the-secret", pull(), "pull_request", "d-bad")
    refused = world.client.post("/hooks/github", content=body, headers=headers)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == "X-Hub-Signature-256" and "secret" not in refused.text.lower()
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert world.client.post("/hooks/github", content=body, headers=unsigned).status_code == 401
    gl = {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong"}
    assert world.client.post("/hooks/gitlab", content=b'{"project": {"name": "shop"}}', headers=gl).status_code == 401
    assert world.count(deliveries) == 0 and world.count(jobs, jobs.c.kind == "deliveries") == 0
    with world.store.read() as conn:
        rejected = dict(conn.execute(select(hooks.c.host, hooks.c.rejected)).all())
        entries = conn.execute(
            select(audit_entries.c.action, audit_entries.c.outcome, audit_entries.c.payload).order_by(
                audit_entries.c.seq
            )
        ).all()
    assert rejected == {"github": 2, "gitlab": 1}
    refusals = [e for e in entries if e.action == "hook.delivery.reject"]
    assert len(refusals) == 3 and {e.outcome for e in refusals} == {"refused"}
    assert json.loads(refusals[0].payload)["request_id"] == refused.headers["x-request-id"]
    scraped = world.client.get("/metrics", headers={"Authorization": f"Bearer {world.tokens.admin}"}).text
    assert 'onebar_webhook_deliveries_total{host="github",outcome="rejected"} 2.0' in scraped
    assert 'onebar_webhook_deliveries_total{host="gitlab",outcome="rejected"} 1.0' in scraped


@SQLITE_ONLY
def test_gitlab_delivery_with_its_token_and_idempotency_key(world: World) -> None:
    payload = {
        "object_kind": "merge_request", "user": {"username": "alice-gl"},
        "project": {"name": "shop", "path_with_namespace": "acme/shop"},
        "object_attributes": {"iid": 3, "title": "Refunds", "state": "opened", "action": "open",
                              "created_at": "2023-11-15 10:00:00 UTC", "updated_at": "2023-11-15 10:00:00 UTC"},
    }  # fmt: skip
    headers = {"Content-Type": "application/json", "X-Gitlab-Event": "Merge Request Hook",
               "X-Gitlab-Token": world.gitlab_secret, "Idempotency-Key": "gl-1"}  # fmt: skip
    body = json.dumps(payload).encode()
    assert world.client.post("/hooks/gitlab", content=body, headers=headers).status_code == 202
    assert world.client.post("/hooks/gitlab", content=body, headers=headers).status_code == 200
    world.run_jobs()
    with world.store.read() as conn:
        assert conn.execute(select(pull_requests.c.number, pull_requests.c.author)).all() == [(3, "alice-gl")]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"Content-Type": "text/plain"}, 415, "content-type"),
        ({"X-GitHub-Event": None}, 400, "X-GitHub-Event"),
        ({"X-GitHub-Delivery": None}, 400, "X-GitHub-Delivery"),
    ],
)
def test_malformed_deliveries_get_a_problem_document_and_store_nothing(
    world: World, change: dict[str, str | None], status: int, field: str
) -> None:
    body, headers = signed(world.github_secret, pull(), "pull_request", "d-x")
    for k, v in change.items():
        headers.pop(k)
        if v is not None:
            headers[k] = v
    got = world.client.post("/hooks/github", content=body, headers=headers)
    assert got.status_code == status and got.json()["field"] == field, got.text
    assert got.headers["content-type"] == "application/problem+json"
    assert world.count(deliveries) == 0


@SQLITE_ONLY
def test_an_oversized_body_is_413_before_anything_is_read(world: World) -> None:
    payload = pull(body="x" * 5000)
    body, headers = signed(world.github_secret, payload, "pull_request", "d-big")
    got = world.client.post("/hooks/github", content=body, headers=headers)
    assert got.status_code == 413 and got.json()["status"] == 413
    assert world.count(deliveries) == 0


@SQLITE_ONLY
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(str.encode)),
    event=st.one_of(st.none(), st.text(max_size=30)),
    ctype=st.sampled_from([None, "application/json", "text/xml", "application/x-www-form-urlencoded"]),
    sign=st.booleans(),
)
def test_fuzzed_deliveries_never_500_and_only_verified_json_objects_are_stored(
    world: World, body: bytes, event: str | None, ctype: str | None, sign: bool
) -> None:
    headers = {"X-GitHub-Delivery": "fuzz"}
    if ctype:
        headers["Content-Type"] = ctype
    if event is not None and event.isprintable() and event.isascii():
        headers["X-GitHub-Event"] = event
    if sign:
        headers["X-Hub-Signature-256"] = github_signature(world.github_secret, body)
    got = world.client.post("/hooks/github", content=body, headers=headers)
    assert 200 <= got.status_code < 500, got.text
    if got.status_code >= 400:
        assert got.headers["content-type"] == "application/problem+json"
    stored = world.count(deliveries)
    assert stored <= 1
    if stored:
        with world.store.read() as conn:
            raw = conn.execute(select(deliveries.c.body)).scalar_one()
        assert isinstance(payload_of(bytes(raw), ctype or ""), dict)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_ci_token_reports_a_deployment_that_feeds_the_report_tables(world: World) -> None:
    body = {"sha": "c" * 40, "ref": "v2.0.0", "status": "success", "at": "2023-11-16T09:00:00Z",
            "id": "deploy-9", "url": "https://ci.example/9", "group": "train-4"}  # fmt: skip
    got = world.client.post("/hooks/deployments", json=body, headers=_bearer(world.tokens.ci))
    assert got.status_code == 202, got.text
    assert got.json()["repo"] == "shop"
    again = world.client.post("/hooks/deployments", json=body, headers=_bearer(world.tokens.ci))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    world.run_jobs()
    with world.store.read() as conn:
        rows = conn.execute(
            select(deployments.c.source, deployments.c.sha, deployments.c.status, deployments.c.group_key).where(
                deployments.c.source == "ci"
            )
        ).all()
        reported = conn.execute(
            select(func.count()).select_from(audit_entries).where(audit_entries.c.action == "deployment.report")
        ).scalar()
    assert rows == [("ci", "c" * 40, "success", "train-4")]
    assert reported == 1


@SQLITE_ONLY
def test_the_deployment_hook_refuses_other_repositories_bad_fields_and_readers(world: World) -> None:
    ci = _bearer(world.tokens.ci)
    other = world.client.post("/hooks/deployments", json={"sha": "c" * 40, "repo": "web"}, headers=ci)
    assert other.status_code == 403
    bad = world.client.post("/hooks/deployments", json={"sha": "not-a-sha"}, headers=ci)
    assert bad.status_code == 400 and bad.json()["field"] == "sha"
    unknown = world.client.post("/hooks/deployments", json={"sha": "c" * 40, "colour": "red"}, headers=ci)
    assert unknown.status_code == 400 and unknown.json()["field"] == "colour"
    state = world.client.post("/hooks/deployments", json={"sha": "c" * 40, "status": "great"}, headers=ci)
    assert state.status_code == 400 and state.json()["field"] == "status"
    nameless = world.client.post("/hooks/deployments", json={"sha": "c" * 40}, headers=_bearer(world.tokens.admin))
    assert nameless.status_code == 400 and nameless.json()["field"] == "repo"
    missing = world.client.post(
        "/hooks/deployments", json={"sha": "c" * 40, "repo": "nowhere"}, headers=_bearer(world.tokens.admin)
    )
    assert missing.status_code == 404
    lead = world.client.post("/hooks/deployments", json={"sha": "c" * 40}, headers=_bearer(world.tokens.lead_acme))
    assert lead.status_code == 403
    assert world.count(deliveries) == 0


@SQLITE_ONLY
def test_deliveries_are_listed_for_admins_newest_first_with_pages(world: World) -> None:
    for i in range(3):
        body, headers = signed(world.github_secret, pull(number=i + 1), "pull_request", f"d-{i}")
        assert world.client.post("/hooks/github", content=body, headers=headers).status_code == 202
    admin = _bearer(world.tokens.admin)
    page = world.client.get("/api/v1/deliveries?limit=2", headers=admin)
    assert page.status_code == 200
    assert [d["delivery_id"] for d in page.json()] == ["d-2", "d-1"]
    assert {d["status"] for d in page.json()} == {"pending"} and "body" not in page.json()[0]
    rest = world.client.get(f"/api/v1/deliveries?limit=2&cursor={page.headers['x-next-cursor']}", headers=admin)
    assert [d["delivery_id"] for d in rest.json()] == ["d-0"]
    world.run_jobs()
    done = world.client.get("/api/v1/deliveries?status=processed", headers=admin).json()
    assert len(done) == 3 and done[0]["hook"] == done[0]["hook"] and done[0]["event"] == "pull_request"
    assert world.client.get("/api/v1/deliveries?status=lost", headers=admin).status_code == 400
    assert world.client.get("/api/v1/deliveries", headers=_bearer(world.tokens.member_acme)).status_code == 403


def test_a_processing_job_whose_worker_died_is_claimed_again_and_processes_each_delivery_once(world: World) -> None:
    for i in range(5):
        body, headers = signed(world.github_secret, pull(number=i + 1), "pull_request", f"k-{i}")
        world.client.post("/hooks/github", content=body, headers=headers)
    dead = queue.claim(world.store, "dead-worker", lease=60)
    assert dead is not None and dead.kind == "deliveries"
    # The dead worker processed two deliveries before it was killed; its lease then ran out.
    from onebar.codehost.events import process_pending

    process_pending(world.store, limit=2)
    with world.store.write() as conn:
        conn.execute(update(jobs).where(jobs.c.id == dead.id).values(lease_until=0))
    world.run_jobs()
    with world.store.read() as conn:
        attempts = conn.execute(select(deliveries.c.status, deliveries.c.attempts)).all()
        job = conn.execute(select(jobs.c.status, jobs.c.attempts).where(jobs.c.id == dead.id)).one()
    assert sorted(attempts) == [("processed", 1)] * 5
    assert world.count(pull_requests) == 5
    assert tuple(job) == ("done", 2)


def _hold_write_lock(db: str, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the SQLite write lock for `seconds` (as a worker process's batch does)."""
    code = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE'); print('held', flush=True)\n"
        "time.sleep(float(sys.argv[2])); c.execute('COMMIT')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, db, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@SQLITE_ONLY
def test_a_receiver_waits_for_another_process_holding_the_store_then_stores(world: World) -> None:
    proc = _hold_write_lock(str(world.store.engine.url.database), 0.3)
    body, headers = signed(world.github_secret, pull(), "pull_request", "held-1")
    started = time.monotonic()
    r = world.client.post("/hooks/github", content=body, headers=headers)
    waited = time.monotonic() - started
    assert proc.wait(10) == 0
    assert r.status_code == 202, r.text
    assert 0.2 < waited < 2.0  # it waited for the other writer, and not in 100 ms sleeps of the busy handler
    assert world.count(deliveries, deliveries.c.delivery_id == "held-1") == 1


@SQLITE_ONLY
def test_a_receiver_gives_up_after_its_deadline_with_a_503_problem_and_stores_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hooks_router, "STORE_WAIT", 0.2)
    proc = _hold_write_lock(str(world.store.engine.url.database), 3.0)
    body, headers = signed(world.github_secret, pull(), "pull_request", "held-2")
    started = time.monotonic()
    r = world.client.post("/hooks/github", content=body, headers=headers)
    assert time.monotonic() - started < 2.5  # gave up at its deadline, not when the other writer let go
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == "1"
    assert r.json()["error"] == "StoreBusyError" and "other writers held the store" in r.json()["detail"]
    assert proc.wait(10) == 0
    assert world.count(deliveries, deliveries.c.delivery_id == "held-2") == 0
    again = world.client.post("/hooks/github", content=body, headers=headers)  # the redelivery is stored
    assert again.status_code == 202, again.text


@SQLITE_ONLY
def test_receivers_queued_behind_another_writer_are_all_stored_once(world: World) -> None:
    proc = _hold_write_lock(str(world.store.engine.url.database), 0.3)
    sent = [signed(world.github_secret, pull(n), "pull_request", f"q-{n}") for n in range(1, 9)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda bh: world.client.post("/hooks/github", content=bh[0], headers=bh[1]), sent))
    assert proc.wait(10) == 0
    assert [a.status_code for a in answers] == [202] * 8
    assert world.count(deliveries, deliveries.c.delivery_id.like("q-%")) == 8
