"""Processing webhook deliveries as a job of the service's durable queue (the `deliveries` job kind).

    receiver.after = queue_processing(store)   a `deliveries` job, queued in the transaction that
                                                stores the delivery (coalesced with one still waiting)
    @handler("deliveries")                      processes pending deliveries in batches while they
                                                stream in, then queues a `refresh` (a `sync` after a
                                                push) of every registered repository whose code-host
                                                data changed: one per repository per job

A delivery is stored with its job or not at all. Processing writes a batch of deliveries and marks
them in one transaction, so a worker killed mid-batch rolls the batch back and leaves it pending;
its job's lease runs out and the next worker carries on. Nothing is lost and nothing is processed
twice.

While deliveries keep arriving, one job keeps processing them (it waits for the next one, gathers a
batch for `GATHER`, writes it): a job per handful of deliveries would spend more on claiming and
completing jobs than on the deliveries. It ends after `IDLE` without a delivery, or after `SPAN`,
so other kinds of job get their turn and the reports are refreshed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Connection, func, select

from onebar.codehost.events import ProcessResult, process_pending
from onebar.codehost.hooks import AfterStore, Receipt
from onebar.errors import NotFoundError
from onebar.jobs.handlers import Context, handler
from onebar.jobs.queue import Job, enqueue
from onebar.repos.registry import get_repo
from onebar.store import Store
from onebar.store.schema_codehost import deliveries

KIND = "deliveries"
LIMIT = 1000  # deliveries a pass takes on; more wait for the next pass
SPAN = 10.0  # seconds one job goes on processing a stream of deliveries
IDLE = 0.05  # seconds without a new delivery after which the job ends (a later one queues the next job)
GATHER = 0.02  # seconds a batch gathers once a delivery arrived: batches, not one transaction per delivery
PAUSE = 0.002  # seconds between two batches: receivers waiting for the store (they try every ms) get in

# Set when a delivery is stored in this process: the running job wakes instead of polling.
ARRIVED = threading.Event()

# A processing job still waiting: the usual case while deliveries stream in (one point query).
_WAITING = (
    "SELECT 1 FROM jobs WHERE status = 'queued' AND kind = 'deliveries' AND repo IS NULL AND payload = '{}' LIMIT 1"
)


def queue_processing(store: Store) -> AfterStore:
    """The receiver's `after`: queue (or reuse a waiting) processing job in the delivery's transaction."""

    def after(conn: Connection, receipt: Receipt) -> None:
        if conn.exec_driver_sql(_WAITING).first() is None:
            enqueue(store, KIND, conn=conn)
        ARRIVED.set()  # before the commit: the job then looks again after GATHER, by when it is committed

    return after


def _any_pending(store: Store) -> bool:
    """Whether a delivery waits: what a job in a process without receivers looks at instead of ARRIVED."""
    with store.read() as conn:
        return conn.exec_driver_sql(_ANY_PENDING).first() is not None


_ANY_PENDING = "SELECT 1 FROM deliveries WHERE status = 'pending' LIMIT 1"


@handler(KIND)
def process(ctx: Context, job: Job) -> dict[str, Any]:
    """Process pending deliveries while they stream in; queue the follow-up jobs their data calls for."""
    result = ProcessResult()
    started = time.monotonic()
    while True:
        ARRIVED.clear()
        before = result.processed + result.ignored + result.failed
        process_pending(ctx.store, limit=LIMIT, pause=PAUSE, result=result)
        took = result.processed + result.ignored + result.failed - before
        if time.monotonic() - started > SPAN:
            break
        if took < LIMIT:  # caught up: wait for the next delivery (a job queued with it covers a miss)
            if not took or not (ARRIVED.wait(IDLE) or _any_pending(ctx.store)):
                break
            time.sleep(GATHER)
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
