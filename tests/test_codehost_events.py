"""Webhook deliveries: verification, idempotency, storage, processing as a job, replay, fuzzing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from helpers import run_cli
from onebar.codehost import events
from onebar.codehost.events import process_pending, replay
from onebar.codehost.hooks import Receiver, SignatureError, add_hook, github_signature, list_hooks
from onebar.errors import OnebarError
from onebar.store import Store
from onebar.store.schema import deployments, incidents, repositories
from onebar.store.schema_codehost import deliveries, hooks, pull_requests, reviews

KEY = "test-key-of-sixteen-chars-or-more"
T0 = "2023-11-15T10:00:00Z"


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEBAR_SECRET_KEY", KEY)


def test_github_signature_matches_the_documented_example() -> None:
    sig = github_signature("It's a Secret to Everybody", b"Hello, World!")
    assert sig == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_hook_add_prints_the_contract_and_stores_the_secret_encrypted(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    res = run_cli("hook", "add", "github", "--repo", "shop", "--db", db, "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["url"] == "/hooks/github" and isinstance(out["id"], int) and len(out["secret"]) >= 32
    given_secret = run_cli(
        "hook", "add", "gitlab", "--repo", "shop", "--secret", "s3cret-value", "--db", db, "--format", "json"
    )
    assert json.loads(given_secret.stdout)["secret"] == "s3cret-value"
    raw = (tmp_path / "s.db").read_bytes()
    assert out["secret"].encode() not in raw and b"s3cret-value" not in raw
    listed = run_cli("hook", "list", "--db", db, "--format", "json")
    assert "secret" not in listed.stdout
    nokey = run_cli("hook", "add", "github", "--repo", "x", "--db", db, env={"ONEBAR_SECRET_KEY": ""})
    assert nokey.exit_code == 2 and "ONEBAR_SECRET_KEY" in nokey.stderr


def gh_headers(secret: str, body: bytes, event: str, delivery: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": github_signature(secret, body),
    }


REPO = {"id": 1, "name": "shop", "full_name": "acme/shop"}


def pr_payload(action: str, number: int = 7, **over: Any) -> dict[str, Any]:
    pr = {
        "number": number,
        "title": "Checkout PAY-12",
        "body": "Fixes #3",
        "state": "open",
        "draft": False,
        "user": {"login": "vendor-dev", "type": "User"},
        "created_at": T0,
        "updated_at": T0,
        "merged_at": None,
        "closed_at": None,
        "head": {"ref": "f", "sha": "a" * 40},
        "base": {"ref": "main", "sha": "b" * 40},
        "additions": 10,
        "deletions": 2,
        "changed_files": 1,
        "commits": 1,
        "labels": [],
        "assignees": [],
    }
    pr.update(over)
    return {"action": action, "number": number, "pull_request": pr, "repository": REPO}


def review_payload(rid: int, state: str, at: str, number: int = 7) -> dict[str, Any]:
    return {
        "action": "submitted",
        "review": {"id": rid, "state": state, "user": {"login": "lead", "type": "User"}, "submitted_at": at},
        "pull_request": {"number": number},
        "repository": REPO,
    }


class Sender:
    def __init__(self, store: Store, secret: str):
        self.receiver = Receiver(store)
        self.secret = secret
        self.n = 0

    def github(self, event: str, payload: dict[str, Any], delivery: str | None = None) -> Any:
        self.n += 1
        body = json.dumps(payload).encode()
        return self.receiver.receive("github", gh_headers(self.secret, body, event, delivery or f"d-{self.n}"), body)


def test_a_delivery_is_stored_once_per_hook_and_delivery_id(store: Store) -> None:
    a = add_hook(store, "github", "shop")
    b = add_hook(store, "github", "shop")  # two hooks on one repository share delivery ids
    body = json.dumps(pr_payload("opened")).encode()
    rx = Receiver(store)
    first = rx.receive("github", gh_headers(a.secret, body, "pull_request", "same-id"), body)
    again = rx.receive("github", gh_headers(a.secret, body, "pull_request", "same-id"), body)
    other = rx.receive("github", gh_headers(b.secret, body, "pull_request", "same-id"), body)
    assert (first.http_status, again.http_status, other.http_status) == (202, 200, 202)
    assert again.delivery == first.delivery and other.hook == b.id
    with store.read() as conn:
        rows = conn.execute(select(deliveries.c.hook_id, deliveries.c.body)).all()
    assert sorted(r.hook_id for r in rows) == [a.id, b.id]
    assert rows[0].body == body  # the raw body, exactly as signed


def test_a_bad_signature_is_refused_counted_audited_and_stores_nothing(store: Store) -> None:
    hk = add_hook(store, "github", "shop")
    seen: list[dict[str, Any]] = []
    rx = Receiver(store, on_reject=seen.append)
    body = json.dumps(pr_payload("opened")).encode()
    for headers in (
        gh_headers("wrong-secret", body, "pull_request", "x1"),
        {k: v for k, v in gh_headers(hk.secret, body, "pull_request", "x2").items() if k != "X-Hub-Signature-256"},
        gh_headers(hk.secret, body + b" ", "pull_request", "x3"),
    ):
        with pytest.raises(SignatureError) as err:
            rx.receive("github", headers, body)
        assert err.value.http_status == 401
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 0
        assert conn.execute(select(hooks.c.rejected)).scalar() == 3
    assert len(seen) == 3 and seen[0]["hooks"] == [hk.id] and "secret" not in json.dumps(seen)


def test_gitlab_token_and_idempotency_key(store: Store) -> None:
    hk = add_hook(store, "gitlab", "api", "gl-secret-1")
    rx = Receiver(store)
    body = json.dumps({"object_kind": "push", "project": {"path_with_namespace": "grp/api"}, "ref": "refs/heads/main"})
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Token": "gl-secret-1",
        "Idempotency-Key": "k-1",
    }
    assert rx.receive("gitlab", headers, body.encode()).http_status == 202
    assert rx.receive("gitlab", headers, body.encode()).http_status == 200
    with pytest.raises(SignatureError):
        rx.receive("gitlab", {**headers, "X-Gitlab-Token": "gl-secret-2"}, body.encode())
    uuid_only = {k: v for k, v in headers.items() if k != "Idempotency-Key"} | {"X-Gitlab-Webhook-UUID": "u-1"}
    assert rx.receive("gitlab", uuid_only, body.encode()).delivery_id == "u-1"
    assert hk.url == "/hooks/gitlab"


def test_out_of_order_review_before_its_pull_request_is_reconciled(store: Store) -> None:
    hk = add_hook(store, "github", "shop")
    s = Sender(store, hk.secret)
    s.github("pull_request_review", review_payload(1, "changes_requested", "2023-11-15T12:00:00Z"))
    s.github("pull_request_review", review_payload(2, "approved", "2023-11-15T14:00:00Z"))
    process_pending(store)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(reviews)).scalar() == 2
        assert conn.execute(select(pull_requests)).first() is None
    s.github("pull_request", pr_payload("opened"))
    result = process_pending(store)
    assert result.processed == 1
    with store.read() as conn:
        pr = conn.execute(select(pull_requests)).one()
    assert pr.first_review_at == 1700049600 and pr.approved_at == 1700056800


def test_draft_time_is_recorded_from_ready_for_review(store: Store) -> None:
    hk = add_hook(store, "github", "shop")
    s = Sender(store, hk.secret)
    s.github("pull_request", pr_payload("opened", draft=True))
    s.github("pull_request", pr_payload("ready_for_review", draft=False, updated_at="2023-11-15T16:00:00Z"))
    process_pending(store)
    with store.read() as conn:
        pr = conn.execute(select(pull_requests)).one()
    assert pr.draft_seconds == 6 * 3600 and pr.ready_at == 1700064000 and not pr.draft


def test_worker_interrupted_mid_batch_loses_and_doubles_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    hk = add_hook(store, "github", "shop")
    s = Sender(store, hk.secret)
    for i in range(10):
        s.github("pull_request", pr_payload("opened", number=i + 1))
    original = events.HANDLERS[("github", "pull_request")]
    calls = {"n": 0}

    def dies_on_the_sixth(ctx: Any, payload: dict[str, Any]) -> Any:
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt  # the worker is killed in the middle of a batch
        return original(ctx, payload)

    monkeypatch.setitem(events.HANDLERS, ("github", "pull_request"), dies_on_the_sixth)
    with pytest.raises(KeyboardInterrupt):
        process_pending(store, batch=4, budget=1.0)  # batches of 4: the first is written, the second dies
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(pull_requests)).scalar() == 4
        assert (
            conn.execute(select(func.count()).select_from(deliveries).where(deliveries.c.status == "pending")).scalar()
            == 6
        )
    monkeypatch.setitem(events.HANDLERS, ("github", "pull_request"), original)
    assert process_pending(store).processed == 6
    with store.read() as conn:
        assert set(conn.execute(select(deliveries.c.status, deliveries.c.attempts)).all()) == {("processed", 1)}
    again = replay(store)
    assert again.processed == 10
    with store.read() as conn:
        assert sorted(conn.execute(select(pull_requests.c.number)).scalars()) == list(range(1, 11))


def test_a_batch_killed_while_writing_rolls_back_whole(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    hk = add_hook(store, "github", "shop")
    s = Sender(store, hk.secret)
    for i in range(6):
        s.github("pull_request", pr_payload("opened", number=i + 1))
    real = events.writer.refresh_summaries

    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # after the pull requests were inserted, before the deliveries were marked

    monkeypatch.setattr(events.writer, "refresh_summaries", killed)
    with pytest.raises(KeyboardInterrupt):
        process_pending(store)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(pull_requests)).scalar() == 0
        assert set(conn.execute(select(deliveries.c.status, deliveries.c.attempts)).all()) == {("pending", 0)}
    monkeypatch.setattr(events.writer, "refresh_summaries", real)
    assert process_pending(store).processed == 6
    with store.read() as conn:
        assert sorted(conn.execute(select(pull_requests.c.number)).scalars()) == list(range(1, 7))
        assert set(conn.execute(select(deliveries.c.status, deliveries.c.attempts)).all()) == {("processed", 1)}


def test_one_bad_delivery_in_a_batch_fails_alone(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A payload that parses but whose write fails: the batch is written again one by one, and only it fails."""
    hk = add_hook(store, "github", "shop")
    s = Sender(store, hk.secret)
    for i in range(8):
        s.github("pull_request", pr_payload("opened", number=i + 1))
    s.github("pull_request_review", review_payload(1, "approved", "2023-11-15T14:00:00Z"))
    real = events.writer.upsert_pulls

    def fails_on_five(conn: Any, rid: int, host: str, full: str, records: list[Any], **kw: Any) -> None:
        if any(r.number == 5 for r in records):
            raise ValueError("pull request 5 cannot be stored")
        real(conn, rid, host, full, records, **kw)

    monkeypatch.setattr(events.writer, "upsert_pulls", fails_on_five)
    result = process_pending(store)
    assert (result.processed, result.failed) == (8, 1)
    assert result.errors[0]["error"] == "ValueError: pull request 5 cannot be stored"
    with store.read() as conn:
        assert sorted(conn.execute(select(pull_requests.c.number)).scalars()) == [1, 2, 3, 4, 6, 7, 8]
        approved = conn.execute(select(pull_requests.c.approved_at).where(pull_requests.c.number == 7)).scalar()
    assert approved == 1700056800  # the review of pull request 7, written one by one too
    with store.read() as conn:
        statuses = sorted(conn.execute(select(deliveries.c.status, deliveries.c.attempts)).all())
    assert statuses == [("failed", 1)] + [("processed", 1)] * 8


def test_a_batch_with_the_same_pull_request_twice_applies_them_in_order(store: Store) -> None:
    """Events of one pull request in one batch: each sees the one before, as when processed one by one."""
    hk = add_hook(store, "github", "shop")
    s = Sender(store, hk.secret)
    s.github("pull_request", pr_payload("opened", draft=True))
    s.github("pull_request_review", review_payload(1, "commented", "2023-11-15T12:00:00Z"))
    s.github("pull_request", pr_payload("ready_for_review", draft=False, updated_at="2023-11-15T16:00:00Z"))
    s.github("pull_request_review", review_payload(2, "approved", "2023-11-15T17:00:00Z"))
    s.github("pull_request", pr_payload("closed", draft=False, updated_at="2023-11-15T18:00:00Z"))
    result = process_pending(store, batch=50, budget=1.0)
    assert result.processed == 5
    with store.read() as conn:
        pr = conn.execute(select(pull_requests)).one()
    assert pr.draft_seconds == 6 * 3600 and pr.ready_at == 1700064000 and not pr.draft
    assert pr.first_review_at == 1700049600 and pr.approved_at == 1700067600


def test_deployment_status_and_incident_issue_feed_the_report_tables(store: Store) -> None:
    with store.write() as conn:
        conn.execute(insert(repositories).values(path="/x/shop.git", name="shop", shallow=False))
    hk = add_hook(store, "github", "shop")
    s = Sender(store, hk.secret)
    dep = {"id": 42, "sha": "c" * 40, "ref": "main", "environment": "production", "created_at": T0, "updated_at": T0}
    s.github("deployment", {"action": "created", "deployment": dep, "repository": REPO})
    s.github(
        "deployment_status",
        {
            "action": "created",
            "deployment": dep,
            "repository": REPO,
            "deployment_status": {"id": 1, "state": "success", "created_at": "2023-11-15T10:10:00Z"},
        },
    )
    s.github(
        "issues",
        {
            "action": "closed",
            "repository": REPO,
            "issue": {
                "number": 9,
                "title": "Checkout down",
                "state": "closed",
                "labels": [{"name": "incident"}],
                "created_at": "2023-11-15T11:00:00Z",
                "updated_at": "2023-11-15T12:00:00Z",
                "closed_at": "2023-11-15T12:00:00Z",
                "user": {"login": "ops"},
                "body": "root cause: cccccccc\nresolution: rollback",
            },
        },
    )
    s.github("star", {"action": "created", "repository": REPO})
    result = process_pending(store)
    assert (result.processed, result.ignored, result.failed) == (3, 1, 0)
    with store.read() as conn:
        d = conn.execute(select(deployments)).one()
        i = conn.execute(select(incidents)).one()
    assert (d.source, d.external_id, d.status, d.deployed_at) == ("github", "42", "success", 1700043000)
    assert (i.started_at, i.resolved_at, i.cause_sha, i.resolution) == (1700046000, 1700049600, "cccccccc", "rollback")


def test_gitlab_merge_request_approval_deployment_and_incident(store: Store) -> None:
    hk = add_hook(store, "gitlab", "api", "gl-secret-1")
    rx = Receiver(store)
    project = {"path_with_namespace": "grp/api", "name": "api"}

    def send(event: str, payload: dict[str, Any], key: str) -> None:
        headers = {
            "Content-Type": "application/json",
            "X-Gitlab-Event": event,
            "X-Gitlab-Token": "gl-secret-1",
            "Idempotency-Key": key,
        }
        rx.receive("gitlab", headers, json.dumps(payload).encode())

    mr = {
        "iid": 3,
        "title": "Refunds",
        "state": "opened",
        "created_at": "2023-11-15 10:00:00 UTC",
        "updated_at": "2023-11-15 10:00:00 UTC",
        "source_branch": "12-refunds",
        "target_branch": "main",
        "description": "",
        "action": "open",
    }
    send(
        "Merge Request Hook",
        {"object_kind": "merge_request", "user": {"username": "vendor"}, "project": project, "object_attributes": mr},
        "k1",
    )
    send(
        "Merge Request Hook",
        {
            "object_kind": "merge_request",
            "user": {"username": "lead"},
            "project": project,
            "object_attributes": {**mr, "action": "approved", "updated_at": "2023-11-15 13:00:00 UTC"},
        },
        "k2",
    )
    send(
        "Deployment Hook",
        {
            "object_kind": "deployment",
            "deployment_id": 15,
            "status": "failed",
            "status_changed_at": "2023-11-15 14:00:00 +0100",
            "environment": "production",
            "sha": "d" * 40,
            "ref": "main",
            "project": project,
        },
        "k3",
    )
    send(
        "Issue Hook",
        {
            "object_kind": "issue",
            "project": project,
            "user": {"username": "ops"},
            "object_attributes": {
                "iid": 5,
                "title": "Refunds broken",
                "state": "opened",
                "type": "Incident",
                "created_at": "2023-11-15 15:00:00 UTC",
                "description": "caused by !3",
            },
        },
        "k4",
    )
    result = process_pending(store)
    assert (result.processed, result.failed) == (4, 0), result.errors
    with store.read() as conn:
        pr = conn.execute(select(pull_requests)).one()
        assert (pr.author, pr.approved_at) == ("vendor", 1700053200)
        from onebar.store.schema_codehost import codehost_deployments, tracker_issues

        assert conn.execute(select(codehost_deployments.c.failed_at)).scalar() == 1700053200
        assert conn.execute(select(tracker_issues.c.cause_pr, tracker_issues.c.issue_type)).one() == (3, "incident")
    assert hk.id == list_hooks(store)[0]["id"]


# ---- fuzzing: every bad request is a 4xx error and stores nothing ----


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(str.encode),
        st.recursive(
            st.none() | st.integers() | st.text(max_size=10),
            lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
            max_leaves=8,
        ).map(lambda v: json.dumps(v).encode()),
    ),
    ctype=st.sampled_from(
        ["application/json", "text/plain", "", "application/x-www-form-urlencoded", "application/xml"]
    ),
    event=st.sampled_from(["pull_request", "", "unknown_event", "issues"]),
    delivery=st.sampled_from(["", "d1", "x" * 300]),
    sign=st.booleans(),
)
def test_fuzzed_deliveries_never_fail_with_a_500_and_store_only_good_ones(
    store: Store, body: bytes, ctype: str, event: str, delivery: str, sign: bool
) -> None:
    if not hasattr(store, "_fuzz_hook"):
        store._fuzz_hook = add_hook(store, "github", "shop", "fuzz-secret")  # type: ignore[attr-defined]
    rx = Receiver(store, max_body=200)
    headers = {"Content-Type": ctype, "X-GitHub-Event": event, "X-GitHub-Delivery": delivery}
    if sign:
        headers["X-Hub-Signature-256"] = github_signature("fuzz-secret", body)
    with store.read() as conn:
        before = conn.execute(select(func.count()).select_from(deliveries)).scalar()
    error: OnebarError | None = None
    try:
        receipt = rx.receive("github", headers, body)
    except OnebarError as exc:
        error = exc
    if error is not None:
        assert 400 <= error.http_status < 500
        with store.read() as conn:
            assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == before
        return
    assert sign and ctype == "application/json" and event and delivery and len(body) <= 200
    assert isinstance(json.loads(body), dict)
    result = process_pending(store)  # processing a verified but odd payload fails cleanly, never raises
    assert receipt.delivery > 0 and result.processed + result.ignored + result.failed >= 0


_REF_PIECES = st.sampled_from(
    [*"ab1_#/.-& \n:()é", "org/repo#", "#12", "x/y/z#3", "&#", "//#4", "a#1b", "#0", "https://h/o/r/issues/5 "]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_REF_PIECES, max_size=40).map("".join))
def test_issue_references_found_near_each_hash_are_the_regex_s_own(text: str) -> None:
    """`refs._issues` tries the pattern only before each "#": it finds exactly what finditer finds."""
    from onebar.codehost import refs

    def spans(found: Any) -> list[tuple[Any, ...]]:
        return [(m.span(), m.group("repo"), m.group("n")) for m in found]

    assert spans(refs._issues(text)) == spans(refs._ISSUE.finditer(text))
