"""Materialised reports: a repository's report computed once, stored, and served many times.

The default window (the last 90 days of the history) is refreshed by a job after every ingest or
recorded event; a request for another window is computed on demand and stored under its own key,
valid while it was computed from the same state (`source`) as the current default report.
Beside the report JSON each row keeps a small DORA summary (for the portfolio) and the charter
facts the visibility policy and the people/components endpoints need, so no request opens git.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from onebar import __version__
from onebar.auth.visibility import Scope
from onebar.charter.model import Charter
from onebar.errors import ConflictError, UsageError
from onebar.git import open_repository
from onebar.report import report_for
from onebar.report.build import parse_time
from onebar.repos.registry import ServiceRepo
from onebar.store import Store
from onebar.store.schema import deployments, incidents, refs
from onebar.store.schema_service import materialised_reports
from onebar.workspace import Workspace

DEFAULT = "default"
CUSTOM_KEEP = 32  # custom-window reports kept per repository (the oldest are dropped)


@dataclass(frozen=True)
class Header:
    """What a request needs to know before reading the body: its ETag and the state it describes."""

    repo: str
    window_key: str
    etag: str
    source: str
    computed_at: int


@dataclass(frozen=True)
class Materialised:
    header: Header
    body: str  # the report JSON contract, serialised
    summary: dict[str, Any]
    meta: dict[str, Any]

    @property
    def scope(self) -> Scope:
        return Scope.from_json(self.meta.get("scope", {}))


def window_key(since: str | None, until: str | None, tiers: int | None) -> str:
    """ "default", or a canonical key for another window (dates normalised, so equal windows share it)."""
    if since is None and until is None and tiers is None:
        return DEFAULT
    parts = []
    if since is not None:
        s = since.strip().lower()
        parts.append("since=" + ("all" if s == "all" else str(instant(since, "since"))))
    if until is not None:
        parts.append(f"until={instant(until, 'until', end_of_day=True)}")
    if tiers is not None:
        if tiers not in (2023, 2024):
            raise UsageError("DORA tier year must be 2023 or 2024", field="tiers")
        parts.append(f"tiers={tiers}")
    return ";".join(parts)


def instant(value: str, name: str, *, end_of_day: bool = False) -> int:
    """A date or ISO time as Unix seconds; a UsageError naming the parameter `name` when it is neither."""
    try:
        return parse_time(value, name, end_of_day=end_of_day)
    except UsageError as exc:
        raise UsageError(exc.message.removeprefix(f"{name}: "), field=name) from None


def source_of(store: Store, repo_id: int, charter: Charter) -> str:
    """A digest of everything a report depends on: ref tips, recorded events, the charter, onebar's version."""
    h = hashlib.sha256(__version__.encode())
    h.update(charter.model_dump_json().encode())
    with store.read() as conn:
        for name, sha in conn.execute(
            select(refs.c.name, refs.c.sha).where(refs.c.repo_id == repo_id).order_by(refs.c.name)
        ):
            h.update(f"{name}\0{sha}\n".encode())
        for table in (deployments, incidents):
            count, top = conn.execute(
                select(func.count(), func.max(table.c.id)).where(table.c.repo_id == repo_id)
            ).one()
            h.update(f"{table.name}:{count}:{top}\n".encode())
    return h.hexdigest()[:32]


def header(store: Store, repo: str, key: str = DEFAULT) -> Header | None:
    m = materialised_reports.c
    with store.read() as conn:
        row = conn.execute(
            select(m.repo, m.window_key, m.etag, m.source, m.computed_at).where(m.repo == repo, m.window_key == key)
        ).first()
    return Header(*row) if row is not None else None


def headers(store: Store, key: str = DEFAULT) -> list[Header]:
    m = materialised_reports.c
    with store.read() as conn:
        rows = conn.execute(
            select(m.repo, m.window_key, m.etag, m.source, m.computed_at).where(m.window_key == key).order_by(m.repo)
        ).all()
    return [Header(*r) for r in rows]


def read(store: Store, repo: str, key: str = DEFAULT) -> Materialised | None:
    m = materialised_reports.c
    with store.read() as conn:
        row = conn.execute(select(materialised_reports).where(m.repo == repo, m.window_key == key)).first()
    if row is None:
        return None
    return Materialised(
        Header(row.repo, row.window_key, row.etag, row.source, row.computed_at),
        row.body,
        json.loads(row.summary),
        json.loads(row.meta),
    )


def etags(store: Store) -> dict[str, str]:
    """Every repository's default-window ETag: enough to know whether a cached portfolio is current."""
    m = materialised_reports.c
    with store.read() as conn:
        return {r.repo: r.etag for r in conn.execute(select(m.repo, m.etag).where(m.window_key == DEFAULT))}


def summaries(store: Store) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every repository's default-window summary: repo -> (etag, summary); one query, no report bodies."""
    m = materialised_reports.c
    with store.read() as conn:
        rows = conn.execute(select(m.repo, m.etag, m.summary).where(m.window_key == DEFAULT)).all()
    return {r.repo: (r.etag, json.loads(r.summary)) for r in rows}


def refresh(store: Store, ws: Workspace, repo: ServiceRepo, *, force: bool = False) -> Header:
    """Recompute the default-window report of `repo` when its state changed (or `force`); store it whole."""
    source = source_of(store, ws.repo_id, ws.charter)
    current = header(store, repo.name)
    if current is not None and current.source == source and not force:
        return current
    return _compute(store, ws, repo.name, DEFAULT, source, None, None, None)


def for_window(store: Store, repo: ServiceRepo, since: str | None, until: str | None, tiers: int | None) -> Header:
    """The report of another window: the stored one when computed from the current state, else computed now."""
    key = window_key(since, until, tiers)
    base = header(store, repo.name)
    if base is None:
        raise ConflictError(
            f"repository {repo.name!r} has no report yet: its first ingest has not finished",
            hint="GET /api/v1/jobs shows its progress",
        )
    if key == DEFAULT:
        return base
    current = header(store, repo.name, key)
    if current is not None and current.source == base.source:
        return current
    full = read(store, repo.name)
    if full is None or repo.repo_id is None:
        raise ConflictError(f"repository {repo.name!r} has not been ingested yet")
    charter = Charter.model_validate(full.meta["charter"])
    ws = Workspace(open_repository(Path(repo.path)), charter, None, store, repo.repo_id)
    try:
        return _compute(store, ws, repo.name, key, full.header.source, since, until, tiers)
    except UsageError as exc:  # the window itself is wrong (e.g. since after until)
        if exc.field is None:
            raise UsageError(exc.message.removeprefix("--"), field="since", hint=exc.hint) from None
        raise


def _compute(
    store: Store,
    ws: Workspace,
    name: str,
    key: str,
    source: str,
    since: str | None,
    until: str | None,
    tiers: int | None,
) -> Header:
    started = time.perf_counter()
    report = report_for(ws, since=since, until=until, tiers=tiers)
    data = report.to_json()
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    summary = {
        "window": data["window"],
        "tiers": data["tiers"],
        "organisations": data["organisations"],
        "overall": data["dora"]["overall"],
        "by_org": data["dora"]["by_org"],
    }
    meta = {
        "scope": Scope.of_charter(ws.charter).to_json(),
        "charter": ws.charter.model_dump(mode="json"),
        "drafted": ws.drafted,
    }
    now = int(time.time())
    row = {
        "etag": etag,
        "body": body,
        "summary": json.dumps(summary, separators=(",", ":")),
        "meta": json.dumps(meta, separators=(",", ":"), default=str),
        "source": source,
        "computed_at": now,
        "compute_ms": int((time.perf_counter() - started) * 1000),
    }
    m = materialised_reports.c
    with store.write() as conn:
        found = conn.execute(select(m.id).where(m.repo == name, m.window_key == key)).scalar()
        if found is None:
            conn.execute(insert(materialised_reports).values(repo=name, window_key=key, **row))
        else:
            conn.execute(update(materialised_reports).where(m.id == found).values(**row))
        if key != DEFAULT:
            keep = (
                select(m.id).where(m.repo == name, m.window_key != DEFAULT).order_by(m.computed_at.desc(), m.id.desc())
            )
            ids = [r[0] for r in conn.execute(keep.offset(CUSTOM_KEEP))]
            if ids:
                conn.execute(delete(materialised_reports).where(m.id.in_(ids)))
    return Header(name, key, etag, source, now)
