"""Processing stored deliveries: each event's handler turns its payload into records, as a job.

Deliveries are processed in batches, oldest first. A batch is parsed outside any transaction (the
handlers turn payloads into records: most of the CPU), then written in one transaction that also
marks each delivery processed, ignored or failed: pull requests and reviews of one host repository
in a few set-wise statements, whatever else one delivery at a time. A worker killed mid-batch rolls
the whole batch back (its deliveries stay pending and are processed by the next worker), so nothing
is lost and nothing is processed twice. A batch is sized to hold the store's write lock for a few
milliseconds, so a receiver's one-row insert never waits long behind it. A delivery whose payload
does not parse is marked failed without holding up the others; when a batch's writes fail, its
deliveries are written again one by one, so only the bad one is marked failed.

Handlers are registered once per (host, event) and return the records to write; the writer's
upserts (`onebar.codehost.writer`) make a redelivery, a replay or an overlapping import store each
thing once, and events that arrive out of order (a review before its pull request) are reconciled
there. Other events are stored and ignored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, select, update

from onebar.codehost import records as rec
from onebar.codehost import writer
from onebar.codehost.deploy_hook import parse_deployment
from onebar.codehost.hooks import WRITE_LOCK, payload_of
from onebar.errors import UsageError
from onebar.store import Store
from onebar.store.db import driver_sql
from onebar.store.schema import deployments, repositories
from onebar.store.schema_codehost import deliveries, hooks

# What a bad payload raises while it is parsed or written: the delivery is marked failed.
PAYLOAD_ERRORS = (ValueError, KeyError, TypeError, UsageError)
READ = 200  # pending deliveries read at a time
MIN_BATCH = 8  # a transaction costs ~3 ms whatever it holds: fewer per batch and the fixed cost dominates
MAX_BATCH = 200  # deliveries written in one transaction, at most
LOCK_BUDGET = 0.010  # seconds a batch should hold the write lock: about the longest a receiver waits


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


@dataclass
class _Parsed:
    """One pending delivery after its handler ran: its work, or why it is ignored or failed."""

    id: int
    event: str
    ctx: Context
    status: str  # processed, ignored, failed
    work: Work | None = None
    error: str | None = None
    push: dict[str, Any] | None = None


_PENDING = (
    "SELECT d.id, d.delivery_id, d.event, d.body, d.received_at, h.host, h.repo_name "
    "FROM deliveries AS d JOIN hooks AS h ON h.id = d.hook_id WHERE d.status = 'pending' ORDER BY d.id LIMIT {p}"
)
_STILL_PENDING = "SELECT id FROM deliveries WHERE id BETWEEN {p} AND {p} AND status = 'pending'"
_MARK = (
    "UPDATE deliveries SET status = {p}, attempts = attempts + 1, processed_at = {p}, error = {p} "
    "WHERE id = {p} AND status = 'pending'"
)


def process_pending(
    store: Store,
    *,
    limit: int | None = None,
    batch: int = MAX_BATCH,
    budget: float = LOCK_BUDGET,
    pause: float = 0.0,
    result: ProcessResult | None = None,
) -> ProcessResult:
    """Process pending deliveries oldest first, in batches of at most `batch` that each hold the
    write lock for about `budget` seconds; returns what happened (added to `result` if given).

    `pause`: seconds between two batches without the lock (the service's job: receivers waiting for
    the store get in between batches, instead of finding the next batch holding it again)."""
    result = result if result is not None else ProcessResult()
    done, size = 0, min(batch, 2 * MIN_BATCH)  # the first batch measures what a delivery costs
    while limit is None or done < limit:
        with store.read() as conn:
            n = READ if limit is None else min(READ, limit - done)
            rows = conn.exec_driver_sql(driver_sql(conn, _PENDING), (n,)).all()
        if not rows:
            break
        i = 0
        while i < len(rows):
            chunk, i = rows[i : i + size], i + size
            if done and pause:
                time.sleep(pause)
            parsed = [_parse(row) for row in chunk]  # outside the write lock: CPU the receivers need not wait for
            held = _write_batch(store, parsed, result)
            # Converges on the size that holds the lock for `budget` (fixed cost + per delivery).
            size = max(min(batch, MIN_BATCH), min(batch, int(len(chunk) * budget / max(held, 1e-6))))
            done += len(chunk)
            time.sleep(0)  # let the receivers in this process have the interpreter between batches
        if len(rows) < n:  # all that was pending is done: what arrived since waits for the caller's next call,
            break  # not for a run of small batches, each paying a transaction's fixed cost, back to back
    return result


def _parse(row: Any) -> _Parsed:
    ctx = Context(row.host, row.repo_name, row.delivery_id, row.received_at)
    out = _Parsed(row.id, row.event, ctx, "ignored")
    handler = HANDLERS.get((ctx.host, row.event))
    if handler is None:
        return out
    body = bytes(row.body)
    try:
        ctype = "application/x-www-form-urlencoded" if body.startswith(b"payload=") else "application/json"
        payload = payload_of(body, ctype)
        out.work = handler(ctx, payload)
    except PAYLOAD_ERRORS as exc:
        out.status, out.error = "failed", f"{type(exc).__name__}: {exc}"
        return out
    if out.work is not None:
        out.status = "processed"
        for pr in out.work.pulls:  # here, not in the write transaction: a regex scan of the description
            writer.pull_refs(pr, *out.work.repo)
        if row.event in ("push", "Push Hook"):
            out.push = {"repo": ctx.repo_name, "ref": payload.get("ref"), "after": payload.get("after")}
    return out


def _write_batch(store: Store, batch: list[_Parsed], result: ProcessResult) -> float:
    """Write a parsed batch and mark its deliveries, in one transaction; the seconds it held the lock
    (not counting the wait for it)."""
    with WRITE_LOCK, store.write() as conn:
        locked = time.perf_counter()
        # Still pending? Another worker may have processed some since they were read (writers are
        # serialised, so what this transaction sees pending is this transaction's to process).
        ids = (min(p.id for p in batch), max(p.id for p in batch))
        pending = {r[0] for r in conn.exec_driver_sql(driver_sql(conn, _STILL_PENDING), ids)}
        batch = [p for p in batch if p.id in pending]
        todo = [p for p in batch if p.work is not None]
        try:
            with conn.begin_nested():
                _write(conn, todo)
        except Exception:  # one bad delivery (or a surprise): write them one by one to find it
            for p in todo:
                try:
                    with conn.begin_nested():
                        _write(conn, [p])
                except PAYLOAD_ERRORS as exc:
                    p.status, p.error = "failed", f"{type(exc).__name__}: {exc}"
        now = int(time.time())
        conn.exec_driver_sql(driver_sql(conn, _MARK), [(p.status, now, p.error, p.id) for p in batch])
    held = time.perf_counter() - locked  # the commit included
    for p in batch:
        setattr(result, p.status, getattr(result, p.status) + 1)
        if p.status == "failed":
            result.errors.append({"delivery": p.id, "event": p.event, "error": p.error})
        elif p.status == "processed":
            if p.ctx.repo_name not in result.repos:
                result.repos.append(p.ctx.repo_name)
            if p.push is not None:
                result.pushes.append(p.push)
    return held


def _write(conn: Connection, batch: list[_Parsed]) -> None:
    """The records of several deliveries, with the effect of writing them one after another."""
    names: dict[tuple[str, str], str] = {}
    for p in batch:
        assert p.work is not None
        names[p.work.repo] = p.ctx.repo_name  # the last delivery's onebar name wins, as one by one
    rids = {key: writer.codehost_repo(conn, key[0], key[1], name) for key, name in names.items()}
    pulls: dict[tuple[str, str], list[rec.PullRecord]] = {}
    reviews: dict[tuple[str, str], list[rec.ReviewRecord]] = {}
    touched: dict[int, set[int]] = {}
    for p in batch:
        assert p.work is not None
        w = p.work
        pulls.setdefault(w.repo, []).extend(w.pulls)
        reviews.setdefault(w.repo, []).extend(w.reviews)
        touched.setdefault(rids[w.repo], set()).update([r.number for r in w.pulls], [r.pr_number for r in w.reviews])
    for key, records in pulls.items():
        # A pull request twice in a batch (opened, then edited): the second upsert sees the first.
        for part in _distinct(records, lambda r: r.number):
            writer.upsert_pulls(conn, rids[key], key[0], key[1], part, summaries=False)
    for key, found in reviews.items():
        for given in _distinct(found, lambda r: (r.pr_number, r.external_id)):
            writer.add_reviews(conn, rids[key], given, summaries=False)
    for p in batch:
        assert p.work is not None
        if p.work.write is not None:
            p.work.write(conn, rids[p.work.repo])
    for rid, numbers in touched.items():  # first review and approval from all that is stored now
        writer.refresh_summaries(conn, rid, sorted(numbers))


T = TypeVar("T")


def _distinct(items: list[T], key: Callable[[T], Any]) -> Iterator[list[T]]:
    """`items` in order, cut into runs in which no key repeats."""
    run: list[T] = []
    seen: set[Any] = set()
    for item in items:
        k = key(item)
        if k in seen:
            yield run
            run, seen = [], set()
        run.append(item)
        seen.add(k)
    if run:
        yield run


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


# ---- handlers: payload -> Work (or None: ignored); they parse, the batch writes ----


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
