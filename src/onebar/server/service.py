"""The running service's state: settings, the store, the job workers, metrics and response caches.

Built by `create_app` without touching anything; `start()` (the app's lifespan) opens the store and
starts the workers, `stop()` lets the running jobs finish and closes the store. The workers run in a
child process (`onebar.jobs.process`) unless `job_process` is off; then they are threads of this one.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from onebar.auth.tokens import record_uses
from onebar.jobs import queue
from onebar.jobs.handlers import Context
from onebar.jobs.process import ChildWorkers
from onebar.jobs.worker import Schedule, Worker, run_workers
from onebar.repos import materialised
from onebar.repos.materialised import Header
from onebar.server.metrics import Metrics
from onebar.server.settings import ServiceSettings
from onebar.store import Store, open_store
from onebar.store.stamped import Stamped

log = logging.getLogger("onebar.server")
USES_FLUSH_SECONDS = 10.0
CHECKPOINT_SECONDS = 1.0  # SQLite: how often the WAL is copied back, off the event loop (see start)


class LRU:
    """A small thread-safe least-recently-used cache (materialised report bodies, filtered views)."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: Any) -> Any:
        """The cached value, or None (no computing)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = make()
        if value is None:
            return None
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value


class Service:
    def __init__(self, settings: ServiceSettings):
        self.settings = settings
        self._store: Store | None = None
        self.metrics = Metrics(lambda: self._store)
        self.workers: list[Worker] = []  # threads of this process (job_process off)
        self.child: ChildWorkers | None = None  # or the worker process
        self.bodies = LRU(64)  # (repo, window key, etag) -> parsed report JSON
        self.views = LRU(256)  # (repo, window key, etag, visibility key) -> serialised bytes
        self.summaries = LRU(512)  # etag -> parsed summary
        self._token_rows: Stamped[dict[str, Any] | None] | None = None
        self._headers: Stamped[Header | None] | None = None
        self._uses: dict[int, int] = {}  # token id -> last use, written by the flusher
        self._uses_lock = threading.Lock()
        self._flusher: threading.Timer | None = None
        self._stopping = threading.Event()
        self._checkpointer: threading.Thread | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            # No checkpoint inside a commit of this process: a request's commit that crossed the
            # threshold copied 80 MB back on the event loop (a 130 ms stall for every request in
            # flight: the p99 of webhook deliveries). `_checkpoints` does it on its own thread.
            self._store = open_store(self.settings.store_url, checkpoints=False)
        return self._store

    @property
    def token_rows(self) -> Stamped[dict[str, Any] | None]:
        """Token rows by secret hash, kept until the next commit to the store (`onebar.store.stamped`)."""
        if self._token_rows is None:
            self._token_rows = Stamped(self.store)
        return self._token_rows

    def report_header(self, repo: str) -> Header | None:
        """The default window's materialised report header, kept until the next commit to the store."""
        if self._headers is None:
            self._headers = Stamped(self.store)
        return self._headers.get(repo, lambda: materialised.header(self.store, repo))

    @property
    def started(self) -> bool:
        return self._store is not None

    def start(self) -> None:
        s = self.settings
        _ = self.store
        s.data_path.mkdir(parents=True, exist_ok=True)
        if s.job_workers and s.job_process:
            self.child = ChildWorkers(
                [sys.executable, "-m", "onebar", "worker", "--parent", str(os.getpid())],
                worker_env(s),
                on_outcome=self.metrics.job_outcome,
                on_step=self.metrics.observe_step,
            )
            self.child.start()
        elif s.job_workers:
            self.workers = run_workers(
                Context(self.store, s.data_path, s.cluster, s.store_url, self.metrics.observe_step),
                threads=s.job_workers,
                lease=s.job_lease,
                poll=s.job_poll,
                schedules=schedules(s),
                on_outcome=self.metrics.job_outcome,
            )
        self._flush_every(USES_FLUSH_SECONDS)
        if self.store.dialect == "sqlite":
            self._stopping.clear()
            self._checkpointer = threading.Thread(target=self._checkpoints, name="onebar-checkpoint", daemon=True)
            self._checkpointer.start()

    def _checkpoints(self) -> None:
        """Copy the WAL back every `CHECKPOINT_SECONDS`, never waiting for a reader or a writer; SQLite
        lets go of the GIL while it copies, so requests go on meanwhile."""
        store = self.store
        try:
            while not self._stopping.wait(CHECKPOINT_SECONDS):
                try:
                    store.checkpoint()
                except Exception as exc:  # a full disk, say: the next round may succeed
                    log.warning("could not checkpoint the store: %s", exc)
        finally:
            store.release_thread()

    def touch(self, token_id: int, when: int) -> None:
        """Remember a token's use; written every few seconds, so a request never waits on a write lock."""
        with self._uses_lock:
            self._uses[token_id] = max(when, self._uses.get(token_id, 0))

    def flush_uses(self) -> None:
        with self._uses_lock:
            uses, self._uses = self._uses, {}
        if uses and self._store is not None:
            try:
                record_uses(self._store, uses)
            except Exception as exc:  # the store is busy or away: keep them for the next flush
                log.warning("could not record token uses: %s", exc)
                with self._uses_lock:
                    for k, v in uses.items():
                        self._uses[k] = max(v, self._uses.get(k, 0))

    def _flush_every(self, seconds: float) -> None:
        self.flush_uses()
        self._flusher = threading.Timer(seconds, self._flush_every, args=(seconds,))
        self._flusher.daemon = True
        self._flusher.start()

    def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        self._stopping.set()
        if self._checkpointer is not None:
            self._checkpointer.join(10)
            self._checkpointer = None
        self.flush_uses()
        for w in self.workers:
            if not w.stop(self.settings.shutdown_timeout):
                log.warning("job worker %s did not finish in time; its job will be claimed again", w.name)
        self.workers = []
        if self.child is not None and not self.child.stop(self.settings.shutdown_timeout):
            log.warning("the job worker process did not finish in time; its jobs will be claimed again")
        self.child = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def enqueue(self, kind: str, **kwargs: Any) -> int:
        """Queue a job (persisted before this returns) and wake a local worker."""
        job_id = queue.enqueue(self.store, kind, **kwargs)
        self.wake_workers()
        return job_id

    def wake_workers(self) -> None:
        """A job or a delivery was just stored: the workers look at the queue now, not at their next poll."""
        for w in self.workers:
            w.wake()
        if self.child is not None:
            self.child.wake()

    def report_body(self, repo: str, key: str, etag: str, load: Callable[[], str | None]) -> dict[str, Any] | None:
        def parse() -> dict[str, Any] | None:
            text = load()
            return json.loads(text) if text is not None else None

        body: dict[str, Any] | None = self.bodies.get((repo, key, etag), parse)
        return body

    def summary(self, etag: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = self.summaries.get(etag, make)
        return out


def schedules(s: ServiceSettings) -> tuple[Schedule, ...]:
    return (Schedule("sync_all", s.fetch_interval), Schedule("sweep", s.sweep_interval))


WORKER_SETTINGS = (
    "job_workers", "job_lease", "job_poll", "fetch_interval", "sweep_interval", "cluster", "shutdown_timeout",
    "log_level",
)  # fmt: skip


def worker_env(s: ServiceSettings) -> dict[str, str]:
    """The environment of the worker process: this one's, with every setting a worker reads as resolved
    here (flags included), so both processes run on the same settings."""
    env = dict(os.environ)
    values: dict[str, object] = {name: getattr(s, name) for name in WORKER_SETTINGS}
    values |= {"database_url": s.store_url, "data_dir": s.data_path}
    for name, value in values.items():
        key = f"ONEBAR_{name.upper()}"
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env
