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

Handlers (`onebar.codehost.handlers`) are registered once per (host, event) and return the records
to write; the writer's upserts (`onebar.codehost.writer`) make a redelivery, a replay or an
overlapping import store each thing once, and events that arrive out of order (a review before its
pull request) are reconciled there. Other events are stored and ignored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, select, update

from onebar.codehost import records as rec
from onebar.codehost import writer
from onebar.codehost.handlers import HANDLERS, Context, Work
from onebar.codehost.hooks import WRITE_LOCK, payload_of
from onebar.errors import UsageError
from onebar.store import Store
from onebar.store.db import driver_sql
from onebar.store.schema_codehost import deliveries, hooks

# What a bad payload raises while it is parsed or written: the delivery is marked failed.
PAYLOAD_ERRORS = (ValueError, KeyError, TypeError, UsageError)
READ = 200  # pending deliveries read at a time
MIN_BATCH = 8  # a transaction costs ~3 ms whatever it holds: fewer per batch and the fixed cost dominates
MAX_BATCH = 200  # deliveries written in one transaction, at most
LOCK_BUDGET = 0.010  # seconds a batch should hold the write lock: about the longest a receiver waits


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
