"""Processing stored deliveries: each event's handler turns its payload into records, as a job.

A delivery is processed in one transaction that also marks it processed, ignored or failed, so a
worker killed mid-batch loses nothing (the rest stay pending) and doubles nothing. Handlers are
registered once per (host, event) and write through `onebar.codehost.writer`, whose upserts make a
redelivery, a replay or an overlapping import store each thing once; events that arrive out of
order (a review before its pull request) are reconciled there. Other events are stored and ignored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, update

from onebar.codehost import records as rec
from onebar.codehost import writer
from onebar.codehost.deploy_hook import parse_deployment
from onebar.codehost.hooks import WRITE_LOCK, payload_of
from onebar.errors import UsageError
from onebar.store import Store
from onebar.store.schema import deployments, repositories
from onebar.store.schema_codehost import deliveries, hooks


@dataclass(frozen=True)
class Context:
    host: str
    repo_name: str
    delivery_id: str
    received_at: int


Handler = Callable[[Connection, Context, dict[str, Any]], str]  # returns "processed" or "ignored"
HANDLERS: dict[tuple[str, str], Handler] = {}


def handles(host: str, *events: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for e in events:
            HANDLERS[(host, e)] = fn
        return fn

    return register


@dataclass
class ProcessResult:
    processed: int = 0
    ignored: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    pushes: list[dict[str, Any]] = field(default_factory=list)  # for the service: ingest these repositories
    repos: list[str] = field(default_factory=list)  # onebar repositories whose code-host data changed

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def text(self) -> str:
        out = f"{self.processed} processed, {self.ignored} ignored, {self.failed} failed"
        return "\n".join([out, *(f"  delivery {e['delivery']}: {e['error']}" for e in self.errors)])


def process_pending(store: Store, *, limit: int | None = None, batch: int = 200) -> ProcessResult:
    """Process pending deliveries oldest first, one transaction each; returns what happened."""
    result = ProcessResult()
    done = 0
    while limit is None or done < limit:
        with store.read() as conn:
            ids = list(
                conn.execute(
                    select(deliveries.c.id)
                    .where(deliveries.c.status == "pending")
                    .order_by(deliveries.c.id)
                    .limit(batch if limit is None else min(batch, limit - done))
                ).scalars()
            )
        if not ids:
            break
        for did in ids:
            process_one(store, did, result)
            done += 1
            time.sleep(0)  # let the receivers in this process have the interpreter between deliveries
    return result


def process_one(store: Store, delivery: int, result: ProcessResult | None = None) -> str | None:
    """Process one delivery if it is still pending (another worker may have taken it); its new status."""
    result = result if result is not None else ProcessResult()
    d, hk = deliveries, hooks
    with WRITE_LOCK, store.write() as conn:
        row = conn.execute(
            select(
                d.c.id, d.c.delivery_id, d.c.event, d.c.body, d.c.received_at, d.c.attempts, hk.c.host, hk.c.repo_name
            )
            .join(hk, hk.c.id == d.c.hook_id)
            .where(d.c.id == delivery, d.c.status == "pending")
        ).first()
        if row is None:
            return None
        ctx = Context(row.host, row.repo_name, row.delivery_id, row.received_at)
        try:
            with conn.begin_nested():
                status = _dispatch(conn, ctx, row.event, bytes(row.body), result)
            error = None
        except (ValueError, KeyError, TypeError, UsageError) as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            result.errors.append({"delivery": row.id, "event": row.event, "error": error})
        conn.execute(
            update(d)
            .where(d.c.id == row.id)
            .values(status=status, attempts=row.attempts + 1, processed_at=int(time.time()), error=error)
        )
    setattr(result, status, getattr(result, status) + 1)
    if status == "processed" and ctx.repo_name not in result.repos:
        result.repos.append(ctx.repo_name)
    return status


def _dispatch(conn: Connection, ctx: Context, event: str, body: bytes, result: ProcessResult) -> str:
    handler = HANDLERS.get((ctx.host, event))
    if handler is None:
        return "ignored"
    ctype = "application/x-www-form-urlencoded" if body.startswith(b"payload=") else "application/json"
    payload = payload_of(body, ctype)
    status = handler(conn, ctx, payload)
    if event in ("push", "Push Hook") and status == "processed":
        result.pushes.append({"repo": ctx.repo_name, "ref": payload.get("ref"), "after": payload.get("after")})
    return status


def replay(
    store: Store, *, hook_id: int | None = None, event: str | None = None, since: str | None = None
) -> ProcessResult:
    """Mark stored deliveries (all, or those selected) pending again and process them."""
    from onebar.codehost.records import ts

    cond = []
    if hook_id is not None:
        cond.append(deliveries.c.hook_id == hook_id)
    if event:
        cond.append(deliveries.c.event == event)
    if since:
        try:
            at = ts(since if "T" in since else since + "T00:00:00Z")
        except ValueError:
            raise UsageError(f"{since!r} is not a date; use YYYY-MM-DD or an ISO 8601 time", field="since") from None
        cond.append(deliveries.c.received_at >= (at or 0))
    with store.write() as conn:
        conn.execute(update(deliveries).where(*cond).values(status="pending", error=None))
    return process_pending(store)


STATUSES = ("pending", "processed", "ignored", "failed")


def list_deliveries(
    store: Store,
    *,
    limit: int = 100,
    after: int | None = None,
    status: str | None = None,
    hook_id: int | None = None,
    event: str | None = None,
) -> list[dict[str, Any]]:
    """Stored deliveries newest first (for `GET /api/v1/deliveries`), without their bodies; `after` is
    the id the previous page ended at."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"{status!r} is not a delivery status; use one of {', '.join(STATUSES)}", field="status")
    d, hk = deliveries, hooks
    q = (
        select(
            d.c.id,
            d.c.hook_id,
            d.c.delivery_id,
            d.c.event,
            d.c.status,
            d.c.received_at,
            d.c.attempts,
            d.c.error,
            hk.c.host,
            hk.c.repo_name,
        )
        .join(hk, hk.c.id == d.c.hook_id)
        .order_by(d.c.id.desc())
        .limit(limit)
    )
    if after is not None:
        q = q.where(d.c.id < after)
    if status is not None:
        q = q.where(d.c.status == status)
    if hook_id is not None:
        q = q.where(d.c.hook_id == hook_id)
    if event is not None:
        q = q.where(d.c.event == event)
    with store.read() as conn:
        return [
            {
                "id": r.id,
                "hook": r.hook_id,
                "host": r.host,
                "repo": r.repo_name,
                "delivery_id": r.delivery_id,
                "event": r.event,
                "status": r.status,
                "received_at": r.received_at,
                "attempts": r.attempts,
                "error": r.error,
            }
            for r in conn.execute(q)
        ]


# ---- handlers ----


def _repo(conn: Connection, ctx: Context, payload: dict[str, Any]) -> tuple[int, str]:
    """The host repository a payload is about (GitHub `repository.full_name`, GitLab `project.path_with_namespace`)."""
    if ctx.host == "github":
        full = rec.req(payload, "repository", "full_name")
    else:
        full = rec.opt(payload, "project", "path_with_namespace") or rec.req(payload, "repository", "name")
    return writer.codehost_repo(conn, ctx.host, str(full), ctx.repo_name), str(full)


@handles("github", "ping", "push")
def _github_ack(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    if "zen" in payload:  # ping: the hook works
        return "ignored"
    _repo(conn, ctx, payload)
    return "processed"


@handles("github", "pull_request")
def _github_pull(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, full = _repo(conn, ctx, payload)
    pr = rec.github_pull(rec.req(payload, "pull_request"))
    action = payload.get("action")
    if action in ("ready_for_review", "converted_to_draft"):
        pr.transition = ("ready" if action == "ready_for_review" else "draft", pr.updated_at)
    writer.upsert_pulls(conn, rid, "github", full, [pr])
    return "processed"


@handles("github", "pull_request_review")
def _github_review(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, _ = _repo(conn, ctx, payload)
    number = int(rec.req(payload, "pull_request", "number"))
    review = dict(rec.req(payload, "review"))
    if payload.get("action") == "dismissed":
        review["state"] = "dismissed"
    r = rec.github_review(review, number)
    if r is None:
        return "ignored"
    writer.add_reviews(conn, rid, [r])
    return "processed"


@handles("github", "deployment", "deployment_status")
def _github_deployment(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, _ = _repo(conn, ctx, payload)
    dep = rec.github_deployment(rec.req(payload, "deployment"))
    writer.upsert_deployment(conn, rid, dep)
    if "deployment_status" in payload:
        writer.add_status(conn, rid, rec.github_status(payload["deployment_status"], dep.external_id))
    writer.sync_report_tables(conn, rid, deployment_ids=[dep.external_id])
    return "processed"


@handles("github", "workflow_run")
def _github_run(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, _ = _repo(conn, ctx, payload)
    writer.upsert_run(conn, rid, rec.github_run(rec.req(payload, "workflow_run")))
    return "processed"


@handles("github", "issues")
def _github_issue(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, _ = _repo(conn, ctx, payload)
    issue = rec.github_issue(rec.req(payload, "issue"))
    writer.upsert_issues(conn, rid, [issue])
    writer.sync_report_tables(conn, rid, issue_numbers=[issue.number])
    return "processed"


@handles("github", "release")
def _github_release(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, _ = _repo(conn, ctx, payload)
    writer.upsert_release(conn, rid, rec.github_release(rec.req(payload, "release")))
    return "processed"


# GitLab: its webhook payloads differ from its REST objects.


@handles("gitlab", "Push Hook", "Tag Push Hook")
def _gitlab_push(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    _repo(conn, ctx, payload)
    return "processed"


@handles("gitlab", "Merge Request Hook")
def _gitlab_mr(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, full = _repo(conn, ctx, payload)
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
    writer.upsert_pulls(conn, rid, "gitlab", full, [pr])
    if action in ("approved", "approval", "unapproved", "unapproval"):
        state = "approved" if action in ("approved", "approval") else "dismissed"
        writer.add_reviews(
            conn,
            rid,
            [
                rec.ReviewRecord(
                    pr_number=pr.number,
                    external_id=f"hook-{ctx.delivery_id}",
                    reviewer=str(user.get("username") or "ghost"),
                    reviewer_type="Bot" if str(user.get("username", "")).endswith("-bot") else "User",
                    state=state,
                    submitted_at=updated,
                )
            ],
        )
    return "processed"


@handles("gitlab", "Deployment Hook")
def _gitlab_deployment(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, _ = _repo(conn, ctx, payload)
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
    writer.upsert_deployment(conn, rid, dep)
    state = {"success": "success", "failed": "failure", "canceled": "inactive", "running": "in_progress"}.get(
        str(payload.get("status")), str(payload.get("status") or "pending")
    )
    writer.add_status(conn, rid, rec.StatusRecord(did, state, at))
    writer.sync_report_tables(conn, rid, deployment_ids=[did])
    return "processed"


@handles("gitlab", "Pipeline Hook")
def _gitlab_pipeline(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, _ = _repo(conn, ctx, payload)
    a = rec.req(payload, "object_attributes")
    writer.upsert_run(
        conn,
        rid,
        rec.RunRecord(
            external_id=str(rec.req(a, "id")),
            name=str(a.get("name") or a.get("ref") or ""),
            status=str(a.get("status") or "unknown"),
            head_sha=a.get("sha"),
            branch=a.get("ref"),
            started_at=rec.ts(a.get("created_at")),
            finished_at=rec.ts(a.get("finished_at")),
        ),
    )
    return "processed"


@handles("gitlab", "Issue Hook")
def _gitlab_issue(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, _ = _repo(conn, ctx, payload)
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
    writer.upsert_issues(conn, rid, [issue])
    writer.sync_report_tables(conn, rid, issue_numbers=[issue.number])
    return "processed"


@handles("gitlab", "Release Hook")
def _gitlab_release(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    rid, _ = _repo(conn, ctx, payload)
    writer.upsert_release(
        conn,
        rid,
        rec.ReleaseRecord(
            str(rec.req(payload, "tag")), str(payload.get("name") or ""), rec.ts(payload.get("released_at"))
        ),
    )
    return "processed"


# The generic deployment hook (any CI or deploy tool, authenticated by a ci token).


@handles("ci", "deployment")
def _ci_deployment(conn: Connection, ctx: Context, payload: dict[str, Any]) -> str:
    event = parse_deployment(json.dumps(payload).encode())
    rid = writer.codehost_repo(conn, "ci", ctx.repo_name, ctx.repo_name)
    at = event.timestamp(ctx.received_at)
    did = event.id or ctx.delivery_id
    dep = rec.DeploymentRecord(did, at, at, event.sha.lower(), event.ref, event.environment, event.creator)
    writer.upsert_deployment(conn, rid, dep)
    writer.add_status(conn, rid, rec.StatusRecord(did, event.status, at))
    writer.sync_report_tables(conn, rid, deployment_ids=[did])
    if event.group or event.url:
        conn.execute(
            update(deployments)
            .where(
                deployments.c.source == "ci",
                deployments.c.external_id == did,
                deployments.c.repo_id.in_(select(repositories.c.id).where(repositories.c.name == ctx.repo_name)),
            )
            .values(group_key=event.group, url=event.url)
        )
    return "processed"
