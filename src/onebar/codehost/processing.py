"""Processing deliveries as a job of the service's durable queue (`onebar.jobs`).

    receiver.after = queue_processing(store)   a `deliveries` job, queued in the transaction that
                                                stores the delivery (coalesced with one still waiting)
    @handler("deliveries")                      processes pending deliveries oldest first, then queues a
                                                `refresh` (a `sync` after a push) of every registered
                                                repository whose code-host data changed

A delivery is stored with its job or not at all, and processed in one transaction that also marks
it, so a worker killed mid-batch leaves the rest pending; its job's lease runs out and the next
worker carries on. Nothing is lost and nothing is processed twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from onebar.codehost.events import process_pending
from onebar.codehost.hooks import AfterStore, Receipt
from onebar.errors import NotFoundError
from onebar.jobs.handlers import Context, handler
from onebar.jobs.queue import Job, enqueue
from onebar.repos.registry import get_repo
from onebar.store import Store
from onebar.store.schema_codehost import deliveries

KIND = "deliveries"
BATCH = 1000  # deliveries per job; the rest go to the next job, so other kinds get their turn


# A processing job still waiting: the usual case while deliveries stream in (one point query).
_WAITING = (
    "SELECT 1 FROM jobs WHERE status = 'queued' AND kind = 'deliveries' AND repo IS NULL AND payload = '{}' LIMIT 1"
)


def queue_processing(store: Store) -> AfterStore:
    """The receiver's `after`: queue (or reuse a waiting) processing job in the delivery's transaction."""

    def after(conn: Connection, receipt: Receipt) -> None:
        if conn.exec_driver_sql(_WAITING).first() is None:
            enqueue(store, KIND, conn=conn)

    return after


@handler(KIND)
def process(ctx: Context, job: Job) -> dict[str, Any]:
    """Process pending deliveries; queue the follow-up jobs their data calls for."""
    result = process_pending(ctx.store, limit=BATCH)
    with ctx.store.read() as conn:
        left = int(
            conn.execute(
                select(func.count()).select_from(deliveries).where(deliveries.c.status == "pending")
            ).scalar_one()
        )
    if left:
        enqueue(ctx.store, KIND)
    pushed = {p["repo"] for p in result.pushes}
    followups: dict[str, str] = {}
    for name in result.repos:
        try:
            get_repo(ctx.store, name)
        except NotFoundError:
            continue  # data for a repository this service does not own (yet): the report reads it once it does
        kind = "sync" if name in pushed else "refresh"
        enqueue(ctx.store, kind, repo=name)
        followups[name] = kind
    return {
        "processed": result.processed,
        "ignored": result.ignored,
        "failed": result.failed,
        "pending": left,
        "followups": followups,
    }
