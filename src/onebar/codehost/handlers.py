"""What each code-host event means: a handler per (host, event) turns a delivery's payload into the
records to write (`Work`), or None when the event is stored and ignored.

Handlers parse and build records; they never touch the store themselves (a `Work.write` runs in the
batch's transaction, given the host repository's id), so a batch is parsed outside any transaction
and written in one (`onebar.codehost.events`). Adding an event: one handler here, registered with
`@handles(host, event)`, and its test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, update

from onebar.codehost import records as rec
from onebar.codehost import writer
from onebar.codehost.deploy_hook import parse_deployment
from onebar.store.schema import deployments, repositories


@dataclass(frozen=True)
class Context:
    host: str
    repo_name: str
    delivery_id: str
    received_at: int


@dataclass
class Work:
    """What one delivery writes to one host repository (`repo`: host, full name). Pull requests and
    reviews are gathered across a batch and written together; `write` does anything else, given the
    host repository's id, in the batch's transaction."""

    repo: tuple[str, str]
    pulls: list[rec.PullRecord] = field(default_factory=list)
    reviews: list[rec.ReviewRecord] = field(default_factory=list)
    write: Callable[[Connection, int], None] | None = None


Handler = Callable[[Context, dict[str, Any]], Work | None]  # None: the delivery is ignored
HANDLERS: dict[tuple[str, str], Handler] = {}


def handles(host: str, *events: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for e in events:
            HANDLERS[(host, e)] = fn
        return fn

    return register


def _repo(ctx: Context, payload: dict[str, Any]) -> tuple[str, str]:
    """The host repository a payload is about (GitHub `repository.full_name`, GitLab `project.path_with_namespace`)."""
    if ctx.host == "github":
        full = rec.req(payload, "repository", "full_name")
    else:
        full = rec.opt(payload, "project", "path_with_namespace") or rec.req(payload, "repository", "name")
    return ctx.host, str(full)


@handles("github", "ping", "push")
def _github_ack(ctx: Context, payload: dict[str, Any]) -> Work | None:
    if "zen" in payload:  # ping: the hook works
        return None
    return Work(_repo(ctx, payload))


@handles("github", "pull_request")
def _github_pull(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    pr = rec.github_pull(rec.req(payload, "pull_request"))
    action = payload.get("action")
    if action in ("ready_for_review", "converted_to_draft"):
        pr.transition = ("ready" if action == "ready_for_review" else "draft", pr.updated_at)
    return Work(repo, pulls=[pr])


@handles("github", "pull_request_review")
def _github_review(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    number = int(rec.req(payload, "pull_request", "number"))
    review = dict(rec.req(payload, "review"))
    if payload.get("action") == "dismissed":
        review["state"] = "dismissed"
    r = rec.github_review(review, number)
    return None if r is None else Work(repo, reviews=[r])


def _deployment(repo: tuple[str, str], dep: rec.DeploymentRecord, status: rec.StatusRecord | None) -> Work:
    def write(conn: Connection, rid: int) -> None:
        writer.upsert_deployment(conn, rid, dep)
        if status is not None:
            writer.add_status(conn, rid, status)
        writer.sync_report_tables(conn, rid, deployment_ids=[dep.external_id])

    return Work(repo, write=write)


@handles("github", "deployment", "deployment_status")
def _github_deployment(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    dep = rec.github_deployment(rec.req(payload, "deployment"))
    status = (
        rec.github_status(payload["deployment_status"], dep.external_id) if "deployment_status" in payload else None
    )
    return _deployment(repo, dep, status)


@handles("github", "workflow_run")
def _github_run(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    run = rec.github_run(rec.req(payload, "workflow_run"))
    return Work(repo, write=lambda conn, rid: writer.upsert_run(conn, rid, run))


def _issue(repo: tuple[str, str], issue: rec.IssueRecord) -> Work:
    def write(conn: Connection, rid: int) -> None:
        writer.upsert_issues(conn, rid, [issue])
        writer.sync_report_tables(conn, rid, issue_numbers=[issue.number])

    return Work(repo, write=write)


@handles("github", "issues")
def _github_issue(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    return _issue(repo, rec.github_issue(rec.req(payload, "issue")))


@handles("github", "release")
def _github_release(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    release = rec.github_release(rec.req(payload, "release"))
    return Work(repo, write=lambda conn, rid: writer.upsert_release(conn, rid, release))


# GitLab: its webhook payloads differ from its REST objects.


@handles("gitlab", "Push Hook", "Tag Push Hook")
def _gitlab_push(ctx: Context, payload: dict[str, Any]) -> Work | None:
    return Work(_repo(ctx, payload))


@handles("gitlab", "Merge Request Hook")
def _gitlab_mr(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    a = rec.req(payload, "object_attributes")
    action = a.get("action")
    user = payload.get("user") or {}
    updated = rec.ts(a.get("updated_at")) or ctx.received_at
    state = rec.GITLAB_STATES.get(str(a.get("state")), "open")
    merged_at = rec.ts(a.get("merged_at")) or (updated if state == "merged" else None)
    pr = rec.PullRecord(
        number=int(rec.req(a, "iid")),
        opened_at=rec.ts(rec.req(a, "created_at")) or 0,
        updated_at=updated,
        title=str(a.get("title") or ""),
        author=str(user.get("username") or "") if action == "open" else "",
        state=state,
        draft=bool(a.get("draft") or a.get("work_in_progress")),
        merged_at=merged_at,
        closed_at=rec.ts(a.get("closed_at")) or (updated if state == "closed" else None),
        merge_sha=a.get("merge_commit_sha"),
        head_sha=rec.opt(a, "last_commit", "id"),
        head_ref=a.get("source_branch"),
        base_ref=a.get("target_branch"),
        labels=[str(lb.get("title")) for lb in payload.get("labels") or [] if isinstance(lb, dict)],
        assignees=[str(x.get("username")) for x in payload.get("assignees") or [] if isinstance(x, dict)],
        body=str(a.get("description") or "")[: rec.BODY_LIMIT],
    )
    changes = payload.get("changes") or {}
    draft_change = changes.get("draft") or changes.get("work_in_progress")
    if isinstance(draft_change, dict) and "current" in draft_change:
        pr.transition = ("draft" if draft_change["current"] else "ready", updated)
    work = Work(repo, pulls=[pr])
    if action in ("approved", "approval", "unapproved", "unapproval"):
        state = "approved" if action in ("approved", "approval") else "dismissed"
        work.reviews.append(
            rec.ReviewRecord(
                pr_number=pr.number,
                external_id=f"hook-{ctx.delivery_id}",
                reviewer=str(user.get("username") or "ghost"),
                reviewer_type="Bot" if str(user.get("username", "")).endswith("-bot") else "User",
                state=state,
                submitted_at=updated,
            )
        )
    return work


@handles("gitlab", "Deployment Hook")
def _gitlab_deployment(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    at = rec.ts(payload.get("status_changed_at")) or ctx.received_at
    did = str(rec.req(payload, "deployment_id"))
    user = payload.get("user") or {}
    dep = rec.DeploymentRecord(
        external_id=did,
        created_at=at,
        updated_at=at,
        sha=payload.get("short_sha") if not payload.get("sha") else payload.get("sha"),
        ref=str(payload.get("ref") or ""),
        environment=str(payload.get("environment") or "production"),
        creator=user.get("username"),
    )
    state = {"success": "success", "failed": "failure", "canceled": "inactive", "running": "in_progress"}.get(
        str(payload.get("status")), str(payload.get("status") or "pending")
    )
    return _deployment(repo, dep, rec.StatusRecord(did, state, at))


@handles("gitlab", "Pipeline Hook")
def _gitlab_pipeline(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    a = rec.req(payload, "object_attributes")
    run = rec.RunRecord(
        external_id=str(rec.req(a, "id")),
        name=str(a.get("name") or a.get("ref") or ""),
        status=str(a.get("status") or "unknown"),
        head_sha=a.get("sha"),
        branch=a.get("ref"),
        started_at=rec.ts(a.get("created_at")),
        finished_at=rec.ts(a.get("finished_at")),
    )
    return Work(repo, write=lambda conn, rid: writer.upsert_run(conn, rid, run))


@handles("gitlab", "Issue Hook")
def _gitlab_issue(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    a = rec.req(payload, "object_attributes")
    created = rec.ts(rec.req(a, "created_at")) or 0
    issue = rec.IssueRecord(
        number=int(rec.req(a, "iid")),
        created_at=created,
        updated_at=rec.ts(a.get("updated_at")) or created,
        title=str(a.get("title") or ""),
        author=str((payload.get("user") or {}).get("username") or ""),
        state="closed" if a.get("state") == "closed" else "open",
        issue_type=str(a.get("type") or a.get("issue_type") or "issue").lower(),
        labels=tuple(str(lb.get("title", "")).lower() for lb in payload.get("labels") or [] if isinstance(lb, dict)),
        closed_at=rec.ts(a.get("closed_at")),
        body=str(a.get("description") or "")[: rec.BODY_LIMIT],
    )
    return _issue(repo, issue)


@handles("gitlab", "Release Hook")
def _gitlab_release(ctx: Context, payload: dict[str, Any]) -> Work | None:
    repo = _repo(ctx, payload)
    release = rec.ReleaseRecord(
        str(rec.req(payload, "tag")), str(payload.get("name") or ""), rec.ts(payload.get("released_at"))
    )
    return Work(repo, write=lambda conn, rid: writer.upsert_release(conn, rid, release))


# The generic deployment hook (any CI or deploy tool, authenticated by a ci token).


@handles("ci", "deployment")
def _ci_deployment(ctx: Context, payload: dict[str, Any]) -> Work | None:
    event = parse_deployment(json.dumps(payload).encode())
    at = event.timestamp(ctx.received_at)
    did = event.id or ctx.delivery_id
    dep = rec.DeploymentRecord(did, at, at, event.sha.lower(), event.ref, event.environment, event.creator)
    work = _deployment(("ci", ctx.repo_name), dep, rec.StatusRecord(did, event.status, at))
    if not (event.group or event.url):
        return work
    deploy = work.write
    assert deploy is not None

    def write(conn: Connection, rid: int) -> None:
        deploy(conn, rid)
        conn.execute(
            update(deployments)
            .where(
                deployments.c.source == "ci",
                deployments.c.external_id == did,
                deployments.c.repo_id.in_(select(repositories.c.id).where(repositories.c.name == ctx.repo_name)),
            )
            .values(group_key=event.group, url=event.url)
        )

    work.write = write
    return work
