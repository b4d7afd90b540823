"""`onebar import github|gitlab` against a real HTTP server on loopback speaking the hosts' REST shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from fakehost import (
    FakeHost,
    HostData,
    gh_commit,
    gh_deployment,
    gh_issue,
    gh_pull,
    gh_review,
    gh_status,
    github_repo,
    iso,
)
from helpers import run_cli
from onebar.codehost.backfill import import_repository
from onebar.codehost.github import GitHubAPI
from onebar.codehost.gitlab import GitLabAPI
from onebar.errors import RemoteError, UsageError
from onebar.store import Store
from onebar.store.schema_codehost import codehost_deployments, import_state, pull_requests, reviews, tracker_links

T0 = 1_700_000_000
H = 3600


def sample(data: HostData, n: int = 5) -> None:
    pulls = [
        gh_pull(i, "vendor-dev", created=T0 + i * H, merged=T0 + i * H + 5 * H, body=f"Closes #{100 + i}")
        for i in range(1, n + 1)
    ]
    revs = {
        i: [
            gh_review(10 * i, "inhouse-lead", "changes_requested", T0 + i * H + H),
            gh_review(10 * i + 1, "inhouse-lead", "approved", T0 + i * H + 3 * H),
        ]
        for i in range(1, n + 1)
    }
    commits = {
        i: [gh_commit(f"{i:040x}", T0 + i * H - 2 * H, "work\n\nCo-authored-by: Claude <noreply@anthropic.com>")]
        for i in range(1, n + 1)
    }
    github_repo(data, "acme/shop", pulls, revs, commits)
    data.lists["/repos/acme/shop/deployments"] = [gh_deployment(77, "f" * 40, T0 + 20 * H)]
    data.lists["/repos/acme/shop/deployments/77/statuses"] = [
        gh_status(2, "success", T0 + 20 * H + 600),
        gh_status(1, "in_progress", T0 + 20 * H + 60),
    ]
    data.lists["/repos/acme/shop/issues"] = [
        gh_issue(
            9,
            created=T0 + 30 * H,
            closed=T0 + 32 * H,
            labels=("incident",),
            body="root cause: abcdef1234\ncaused by #3",
        ),
        {**gh_issue(10, created=T0), "pull_request": {"url": "x"}},
    ]


def api(host: FakeHost, **kw: Any) -> GitHubAPI:
    kw.setdefault("sleep", lambda s: None)
    return GitHubAPI.connect("test-token", host.url, **kw)


def test_backfill_stores_pulls_reviews_links_deployments_and_incidents(store: Store) -> None:
    data = HostData()
    sample(data)
    with FakeHost(data) as host:
        summary = import_repository(store, api(host), "acme/shop")
    assert (summary.pulls, summary.reviews, summary.deployments, summary.issues) == (5, 10, 1, 1)
    with store.read() as conn:
        pr = conn.execute(select(pull_requests).where(pull_requests.c.number == 3)).one()
        assert pr.author == "vendor-dev" and pr.state == "merged"
        assert pr.first_commit_at == T0 + 3 * H - 2 * H
        assert pr.first_review_at == T0 + 4 * H and pr.approved_at == T0 + 6 * H
        assert "Claude <noreply@anthropic.com>" in pr.coauthors
        links = conn.execute(
            select(tracker_links.c.ref, tracker_links.c.closes).where(tracker_links.c.pr_number == 3)
        ).all()
        assert links == [("#103", True)]
        dep = conn.execute(select(codehost_deployments)).one()
        assert dep.status == "success" and dep.succeeded_at == T0 + 20 * H + 600
        assert conn.execute(select(reviews)).all().__len__() == 10


def test_rerun_with_nothing_new_makes_only_304s(store: Store) -> None:
    data = HostData()
    sample(data, 250)  # three pages of pull requests
    with FakeHost(data) as host:
        import_repository(store, api(host), "acme/shop")
        data.log.clear()
        again = import_repository(store, api(host), "acme/shop")
        assert again.pulls == 0
        assert data.statuses() == {304: 4}, data.log  # pulls, issues, deployments, releases: page 1 each


def test_incremental_run_reads_only_what_changed(store: Store) -> None:
    data = HostData()
    sample(data, 150)
    with FakeHost(data) as host:
        import_repository(store, api(host), "acme/shop")
        pulls = data.lists["/repos/acme/shop/pulls"]
        pulls[10] = {**pulls[10], "title": "Renamed", "updated_at": iso(T0 + 900 * H)}
        data.lists["/repos/acme/shop/pulls/11/reviews"].append(gh_review(9999, "qa", "approved", T0 + 899 * H))
        data.log.clear()
        again = import_repository(store, api(host), "acme/shop")
    assert again.pulls == 2  # the changed one, and the newest of the last run (the high-water mark is inclusive)
    with store.read() as conn:
        assert conn.execute(select(pull_requests.c.title).where(pull_requests.c.number == 11)).scalar() == "Renamed"
    fetched = {p.split("?")[0] for p, _ in data.log}
    assert "/repos/acme/shop/pulls/12/reviews" not in fetched


def test_interrupted_backfill_resumes_from_the_stored_cursor(store: Store) -> None:
    data = HostData()
    sample(data, 250)
    pages: list[int] = []

    def stop_after_first(resource: str, n: int) -> None:
        pages.append(n)
        if resource == "pulls" and len(pages) == 1:
            raise KeyboardInterrupt

    with FakeHost(data) as host:
        with pytest.raises(KeyboardInterrupt):
            import_repository(store, api(host), "acme/shop", on_page=stop_after_first)
        with store.read() as conn:
            assert conn.execute(select(import_state.c.resume_url)).scalar().endswith("page=2")
            assert len(conn.execute(select(pull_requests.c.id)).all()) == 100
        data.log.clear()
        summary = import_repository(store, api(host), "acme/shop")
    assert summary.resumed == ["pulls"] and summary.pulls == 150
    assert not any(p.startswith("/repos/acme/shop/pulls?") and "page=" not in p for p, _ in data.log)
    with store.read() as conn:
        assert len(conn.execute(select(pull_requests.c.id)).all()) == 250


@pytest.mark.parametrize("fault", ["500", "timeout", "drop", "retry-after:2", "secondary", "primary"])
def test_faults_are_retried_or_waited_out(store: Store, fault: str) -> None:
    data = HostData(timeout_sleep=0.6)
    sample(data, 3)
    data.faults["/repos/acme/shop/pulls"] = [fault, fault]
    slept: list[float] = []
    with FakeHost(data) as host:
        summary = import_repository(store, api(host, timeout=0.3, sleep=slept.append), "acme/shop")
    assert summary.pulls == 3
    assert len(slept) >= 2
    if fault == "retry-after:2":
        assert slept[:2] == [2.0, 2.0]
    if fault == "secondary":
        assert slept[:2] == [1.0, 1.0]
    if fault == "primary":
        assert all(0 < s <= 3 for s in slept[:2])


def test_persistent_5xx_is_a_remote_error_and_stores_nothing_half(store: Store) -> None:
    data = HostData()
    sample(data, 3)
    data.faults["/repos/acme/shop/pulls/2/reviews"] = ["500"] * 10
    with FakeHost(data) as host, pytest.raises(RemoteError, match="500"):
        import_repository(store, api(host, retries=2), "acme/shop")
    with store.read() as conn:
        assert conn.execute(select(pull_requests.c.id)).all() == []


def test_bad_token_is_a_usage_error_naming_the_token(store: Store) -> None:
    data = HostData()
    sample(data, 1)
    with FakeHost(data) as host, pytest.raises(UsageError) as err:
        import_repository(store, GitHubAPI.connect("wrong", host.url), "acme/shop")
    assert err.value.field == "token"


def test_import_cli_reads_the_token_from_the_environment(tmp_path) -> None:
    data = HostData()
    sample(data, 2)
    db = f"sqlite:///{tmp_path / 's.db'}"
    with FakeHost(data) as host:
        res = run_cli(
            "import",
            "github",
            "acme/shop",
            "--repo",
            "shop",
            "--api-url",
            host.url,
            "--db",
            db,
            "--format",
            "json",
            env={"GITHUB_TOKEN": "test-token"},
        )
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        assert out["pulls"] == 2 and out["repo_name"] == "shop"
        bad = run_cli(
            "import", "github", "not-a-repo", "--api-url", host.url, "--db", db, env={"GITHUB_TOKEN": "test-token"}
        )
        assert bad.exit_code == 2 and "OWNER/REPO" in bad.stderr
        anon = run_cli("import", "github", "acme/shop", "--api-url", host.url, "--db", db, env={"GITHUB_TOKEN": ""})
        assert anon.exit_code == 2 and "GITHUB_TOKEN" in anon.stderr


# ---- GitLab ----


def gl_user(name: str) -> dict[str, Any]:
    return {"id": abs(hash(name)) % 10**6, "username": name, "name": name.title(), "state": "active"}


def test_gitlab_merge_requests_with_approvals_from_notes(store: Store) -> None:
    data = HostData()
    base = "/api/v4/projects/grp/sub/proj"
    data.lists[f"{base}/merge_requests"] = [
        {
            "id": 500,
            "iid": 4,
            "title": "PAY-12 checkout",
            "description": "Closes #7",
            "state": "merged",
            "author": gl_user("vendor"),
            "created_at": "2023-11-15T10:00:00.000+01:00",
            "updated_at": "2023-11-16T10:00:00.000Z",
            "merged_at": "2023-11-16T09:00:00.000Z",
            "closed_at": None,
            "merge_commit_sha": "c" * 40,
            "sha": "d" * 40,
            "source_branch": "7-checkout",
            "target_branch": "main",
            "draft": False,
            "labels": ["backend"],
        }
    ]
    data.lists[f"{base}/merge_requests/4/notes"] = [
        {
            "id": 1,
            "body": "looks fine",
            "system": False,
            "author": gl_user("lead"),
            "created_at": "2023-11-15T12:00:00Z",
        },
        {
            "id": 2,
            "body": "approved this merge request",
            "system": True,
            "author": gl_user("lead"),
            "created_at": "2023-11-15T13:00:00Z",
        },
    ]
    data.lists[f"{base}/merge_requests/4/commits"] = [
        {"id": "e" * 40, "message": "x", "authored_date": "2023-11-15T08:00:00Z"}
    ]
    data.lists[f"{base}/deployments"] = [
        {
            "id": 3,
            "iid": 1,
            "sha": "c" * 40,
            "ref": "main",
            "status": "success",
            "environment": {"name": "production"},
            "created_at": "2023-11-16T10:00:00Z",
            "updated_at": "2023-11-16T10:05:00Z",
            "finished_at": "2023-11-16T10:05:00Z",
            "user": gl_user("ci"),
        }
    ]
    data.lists[f"{base}/issues"] = [
        {
            "id": 9,
            "iid": 8,
            "title": "Checkout down",
            "state": "closed",
            "issue_type": "incident",
            "labels": [],
            "author": gl_user("ops"),
            "created_at": "2023-11-17T10:00:00Z",
            "updated_at": "2023-11-17T11:00:00Z",
            "closed_at": "2023-11-17T11:00:00Z",
            "description": "caused by !4",
        }
    ]
    data.lists[f"{base}/releases"] = []
    with FakeHost(data, prefix="/api/v4") as host:
        summary = import_repository(
            store, GitLabAPI.connect("test-token", host.url, sleep=lambda s: None), "grp/sub/proj"
        )
    assert (summary.pulls, summary.reviews, summary.deployments, summary.issues) == (1, 2, 1, 1)
    with store.read() as conn:
        mr = conn.execute(select(pull_requests)).one()
        assert mr.opened_at == 1700038800 and mr.approved_at == 1700053200 and mr.first_review_at == 1700049600
        refs = sorted(conn.execute(select(tracker_links.c.ref)).scalars())
        assert refs == ["#7", "PAY-12"]
        assert conn.execute(select(codehost_deployments.c.succeeded_at)).scalar() == 1700129100
