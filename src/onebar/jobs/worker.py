"""Workers that run the queue's jobs (in `onebar worker`, or as threads of the server), and their schedule.

A worker claims a job, renews its lease from a second thread while it runs, and records the outcome
(done, or failed with a backoff). `stop()` stops claiming and waits for the running job to finish,
so a graceful shutdown loses nothing; a killed process leaves a lease that runs out, and the job is
claimed again by whichever worker looks next.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from onebar.errors import OnebarError
from onebar.jobs import queue
from onebar.jobs.handlers import Context, run

log = logging.getLogger("onebar.jobs")


@dataclass(frozen=True)
class Schedule:
    kind: str
    every: int  # seconds; 0 disables


class Worker:
    """One thread running jobs one at a time; several may share a queue, in one process or many."""

    def __init__(
        self,
        ctx: Context,
        *,
        name: str | None = None,
        lease: int = 60,
        poll: float = 1.0,
        schedules: tuple[Schedule, ...] = (),
        on_outcome: Callable[[queue.Job, str], None] | None = None,
    ):
        self.ctx = ctx
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self) & 0xFFFF:x}"
        self.lease = lease
        self.poll = poll
        self.schedules = schedules
        self.on_outcome = on_outcome
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._next: dict[str, float] = {s.kind: time.monotonic() for s in schedules if s.every > 0}
        self.current: queue.Job | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"onebar-worker-{self.name}", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the queue now (a job was just queued) instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop claiming; wait up to `timeout` for the running job. True when the worker has stopped."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def run_once(self) -> queue.Job | None:
        """Claim and run one job if any is due; the job as claimed, or None."""
        job = queue.claim(self.ctx.store, self.name, lease=self.lease)
        if job is None:
            return None
        self.current = job
        done = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(job, done), daemon=True)
        keeper.start()
        try:
            result = run(self.ctx, job)
        except Exception as exc:  # a job's failure is recorded, never the worker's end
            message = str(exc) if isinstance(exc, OnebarError) else "".join(traceback.format_exception(exc))
            status = queue.fail(self.ctx.store, job, self.name, message)
            log.warning("job %s (%s %s) failed, now %s: %s", job.id, job.kind, job.repo or "", status, exc)
        else:
            status = "done" if queue.complete(self.ctx.store, job, self.name, result) else "lost"
            log.info("job %s (%s %s) %s", job.id, job.kind, job.repo or "", status)
        finally:
            done.set()
            keeper.join()
            self.current = None
        if self.on_outcome is not None:
            self.on_outcome(job, status)
        return job

    def _keep_lease(self, job: queue.Job, done: threading.Event) -> None:
        while not done.wait(max(1.0, self.lease / 3)):
            try:
                queue.renew(self.ctx.store, job, self.name, lease=self.lease)
            except Exception as exc:  # the store blinked: the next renewal may succeed
                log.warning("could not renew the lease of job %s: %s", job.id, exc)

    def _schedule(self) -> None:
        now = time.monotonic()
        for s in self.schedules:
            if s.every > 0 and now >= self._next[s.kind]:
                self._next[s.kind] = now + s.every
                queue.enqueue(self.ctx.store, s.kind)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._schedule()
                ran = self.run_once()
            except Exception as exc:  # the store is unreachable: wait and try again
                log.warning("job worker %s: %s", self.name, exc)
                ran = None
            if ran is None and not self._stop.is_set():
                self._wake.wait(self.poll)
                self._wake.clear()


def run_workers(
    ctx: Context,
    *,
    threads: int,
    lease: int,
    poll: float,
    schedules: tuple[Schedule, ...],
    on_outcome: Callable[[str, str], None] | None = None,
) -> list[Worker]:
    """Start `threads` workers on one queue; the first keeps the schedules. The serving process (its
    threads mode) and `onebar worker` both start theirs here."""
    workers = []
    for i in range(threads):
        w = Worker(
            ctx,
            lease=lease,
            poll=poll,
            schedules=schedules if i == 0 else (),
            on_outcome=(lambda job, outcome: on_outcome(job.kind, outcome)) if on_outcome else None,
        )
        w.start()
        workers.append(w)
    return workers
