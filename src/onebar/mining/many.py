"""Ingesting many repositories: in this process, on a local Dask cluster, or on a remote scheduler.

Each repository is one task: the worker opens the store by URL, reads the repository's charter and
ingests it (see `ingest.py`). Writers to one store serialise on its write lock, batch by batch.
A remote cluster needs the repository paths to exist on its workers and a store they can all reach
(PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onebar.errors import OnebarError, UsageError
from onebar.mining.ingest import IngestSummary, Progress, ingest_repository


@dataclass
class Outcome:
    path: str
    summary: IngestSummary | None = None
    error: OnebarError | None = None


def ingest_one(
    path: str, db_url: str, lines: bool, progress: Progress | None = None, jobs: int | None = None
) -> IngestSummary:
    """One repository, start to finish; the unit of work a Dask worker runs."""
    from onebar.charter import find_charter, load_charter
    from onebar.git import open_repository
    from onebar.store import open_store

    info = open_repository(Path(path))
    charter_path = None if info.bare else find_charter(info.root)
    charter = load_charter(charter_path) if charter_path else None
    store = open_store(db_url)
    try:
        return ingest_repository(Path(path), store, lines=lines, charter=charter, progress=progress, jobs=jobs)
    finally:
        store.close()


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


def _on_dask(
    paths: list[str],
    db_url: str,
    lines: bool,
    cluster: str,
    jobs: int | None,
    on_done: Callable[[Outcome], None] | None,
) -> list[Outcome]:
    from distributed import Client, LocalCluster, as_completed

    local: Any = None
    try:
        if cluster == "local":
            import os

            workers = max(1, min(len(paths), os.cpu_count() or 1))
            local = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            )
            client = Client(local)
        else:
            client = Client(cluster, timeout="5s")
    except OSError as exc:
        raise UsageError(f"--cluster {cluster}: cannot reach the Dask scheduler ({exc})") from None
    try:
        futures = {
            client.submit(ingest_one, p, db_url, lines, None, jobs, key=f"onebar-ingest-{i}"): p
            for i, p in enumerate(paths)
        }
        by_path: dict[str, Outcome] = {}
        for future in as_completed(futures):
            path = futures[future]
            try:
                outcome = Outcome(path, summary=future.result())
            except OnebarError as exc:
                outcome = Outcome(path, error=exc)
            by_path[path] = outcome
            if on_done:
                on_done(outcome)
        return [by_path[p] for p in paths]
    finally:
        client.close()
        if local is not None:
            local.close()
