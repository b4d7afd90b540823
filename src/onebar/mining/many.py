"""Ingesting many repositories: in this process, on a local Dask cluster, or on a remote scheduler.

Each repository is one task: the worker opens the store by URL, reads the repository's charter and
ingests it (see `ingest.py`). Writers to one store serialise on its write lock, batch by batch.
A remote cluster needs the repository paths to exist on its workers and a store they can all reach
(PostgreSQL). A task never fails in Dask's eyes: it returns its outcome, error included, so that
one repository's failure is one clean message, not a worker's traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onebar.errors import OnebarError, UsageError
from onebar.mining.summary import IngestSummary, Progress

CHARTER_FILE = "onebar.toml"  # onebar.charter.CHARTER_FILE, named here so a no-op ingest loads no charter model
CLUSTER_HINT = "give tcp://HOST:PORT of a running Dask scheduler, 'local' or 'none'"


@dataclass
class Outcome:
    path: str
    summary: IngestSummary | None = None
    error: OnebarError | None = None


def ingest_one(
    path: str, db_url: str, lines: bool, progress: Progress | None = None, jobs: int | None = None
) -> IngestSummary:
    """One repository, start to finish.

    A run with nothing new is told apart first without opening the store (`summary.unchanged`), so
    it loads no database library; the charter is read only if the ingest needs it (see ingest.py).
    """
    from onebar.git import open_repository
    from onebar.mining import summary as noop
    from onebar.settings import database_url

    info = open_repository(Path(path))
    charter_file = None if info.bare else info.root / CHARTER_FILE
    if charter_file is not None and not charter_file.is_file():
        charter_file = None
    url = database_url(db_url)
    quick = noop.unchanged(info, url, charter_file, lines)
    if quick is not None:
        if progress:
            progress(0, 0)
        return quick

    from onebar.mining.ingest import ingest_repository
    from onebar.store import open_store

    store = open_store(url)
    try:
        done = ingest_repository(
            Path(path), store, lines=lines, charter_file=charter_file, progress=progress, jobs=jobs
        )
    finally:
        store.close()
    noop.remember(info, url, charter_file, done)
    return done


def ingest_task(path: str, db_url: str, lines: bool, jobs: int | None = None) -> Outcome:
    """The unit of work a Dask worker runs: one repository, its error returned rather than raised."""
    try:
        return Outcome(path, summary=ingest_one(path, db_url, lines, jobs=jobs))
    except OnebarError as exc:
        return Outcome(path, error=exc)
    except Exception as exc:  # a bug: reported as one error for this repository, the others go on
        return Outcome(path, error=_unexpected(path, exc))


def ingest_many(
    paths: list[str],
    db_url: str,
    *,
    lines: bool = True,
    cluster: str | None = None,
    jobs: int | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Ingest every path; `cluster` is None (in this process), 'local' or a scheduler address."""
    if cluster is None:
        outcomes = []
        for path in paths:
            outcome = _guard(path, lambda p=path: ingest_one(p, db_url, lines, jobs=jobs))  # type: ignore[misc]
            if on_done:
                on_done(outcome)
            outcomes.append(outcome)
        return outcomes
    return _on_dask(paths, db_url, lines, cluster, jobs, on_done)


def _guard(path: str, work: Callable[[], IngestSummary]) -> Outcome:
    try:
        return Outcome(path, summary=work())
    except OnebarError as exc:
        return Outcome(path, error=exc)


def check_scheduler_address(address: str) -> tuple[str, int]:
    """The host and port of a Dask scheduler address (tcp://host:8786, tls://…, or host:8786)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"{address!r} is not a Dask scheduler address ({exc})", field="cluster", hint=CLUSTER_HINT
        ) from None
    if scheme not in {"tcp", "tls"}:
        raise UsageError(
            f"{address!r}: scheme {scheme!r} is not one onebar reaches (tcp or tls)", field="cluster", hint=CLUSTER_HINT
        )
    if not host or not 0 < int(port) < 65536:
        raise UsageError(f"{address!r}: a host and a port (1-65535) are needed", field="cluster", hint=CLUSTER_HINT)
    return host, int(port)


def _connect(cluster: str, n_paths: int) -> tuple[Any, Any]:
    """A Dask client, and the local cluster it owns (None for a remote scheduler)."""
    import logging
    import socket

    from distributed import Client, LocalCluster

    if cluster == "local":
        workers = max(1, min(n_paths, os.cpu_count() or 1))
        local = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,  # a task never raises; anything else reaches us as an error
        )
        return Client(local), local
    host, port = check_scheduler_address(cluster)
    # Reach the port before Dask does: a Client that fails to connect prints tracebacks as it is
    # garbage-collected, long after its exception was handled.
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise UsageError(
            f"{cluster}: cannot reach the Dask scheduler ({exc.strerror or exc})", field="cluster", hint=CLUSTER_HINT
        ) from None
    try:
        return Client(cluster, timeout="10s"), None
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"{cluster}: cannot reach the Dask scheduler ({exc})", field="cluster") from None


def _on_dask(
    paths: list[str],
    db_url: str,
    lines: bool,
    cluster: str,
    jobs: int | None,
    on_done: Callable[[Outcome], None] | None,
) -> list[Outcome]:
    from distributed import as_completed

    client, local = _connect(cluster, len(paths))
    try:
        futures = {
            client.submit(ingest_task, p, db_url, lines, jobs, key=f"onebar-ingest-{i}", pure=False): p
            for i, p in enumerate(paths)
        }
        by_path: dict[str, Outcome] = {}
        for future in as_completed(futures):
            path = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died or the scheduler went away
                error = OnebarError(f"{path}: the Dask task failed ({type(exc).__name__}: {exc})")
                outcome = Outcome(path, error=error)
            by_path[path] = outcome
            if on_done:
                on_done(outcome)
        return [by_path[p] for p in paths]
    finally:
        client.close()
        if local is not None:
            local.close()


def _unexpected(path: str, exc: Exception) -> OnebarError:
    detail = ""
    if os.environ.get("ONEBAR_DEBUG"):
        import traceback

        detail = "\n" + "".join(traceback.format_exception(exc))
    return OnebarError(
        f"{path}: unexpected {type(exc).__name__}: {exc}{detail}",
        hint="a bug in onebar: please report it, with the traceback ONEBAR_DEBUG=1 shows",
    )
