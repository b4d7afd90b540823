"""Recording deployment and incident events in the store (`onebar record`, later the API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select

from onebar.errors import UsageError
from onebar.store import Store
from onebar.store.schema import deployments, incidents
from onebar.workspace import Workspace

FUTURE_SLACK = 3600  # clocks disagree a little; an hour ahead is still "now"
STATUSES = ("success", "failure")


@dataclass(frozen=True)
class Recorded:
    table: str
    id: int
    row: dict[str, Any]
    created: bool = True


def record_deployment(
    store: Store,
    repo_id: int,
    *,
    ref: str,
    sha: str | None,
    at: int,
    now: int,
    environment: str = "production",
    status: str = "success",
    source: str = "cli",
    external_id: str | None = None,
) -> Recorded:
    """Store one deployment event in one transaction; times are validated against `now`."""
    if not ref.strip():
        raise UsageError("name the deployed ref (a tag, branch or commit)", field="ref")
    if at > now + FUTURE_SLACK:
        raise UsageError("the deployment time is in the future", field="at")
    if status not in STATUSES:
        raise UsageError(f"{status!r} is not one of {', '.join(STATUSES)}", field="status")
    if not environment.strip():
        raise UsageError("the environment name is empty", field="environment")
    row = {
        "repo_id": repo_id,
        "ref": ref,
        "sha": sha,
        "environment": environment,
        "deployed_at": at,
        "status": status,
        "source": source,
        "external_id": external_id,
    }
    return _insert_once(store, deployments, row)


def record_incident(
    store: Store,
    repo_id: int,
    *,
    started: int,
    resolved: int | None,
    now: int,
    title: str = "",
    deployment_ref: str | None = None,
    source: str = "cli",
    external_id: str | None = None,
) -> Recorded:
    if started > now + FUTURE_SLACK:
        raise UsageError("the incident start is in the future", field="started")
    if resolved is not None:
        if resolved < started:
            raise UsageError("the incident is resolved before it started", field="resolved")
        if resolved > now + FUTURE_SLACK:
            raise UsageError("the resolution time is in the future", field="resolved")
    row = {
        "repo_id": repo_id,
        "title": title,
        "started_at": started,
        "resolved_at": resolved,
        "deployment_ref": deployment_ref,
        "source": source,
        "external_id": external_id,
    }
    return _insert_once(store, incidents, row)


def _insert_once(store: Store, table: Table, row: dict[str, Any]) -> Recorded:
    """Insert in one transaction; an event already recorded with the same source and id is kept as is."""
    with store.write() as conn:
        if row["external_id"] is not None:
            found = conn.execute(
                select(table.c.id).where(
                    table.c.repo_id == row["repo_id"],
                    table.c.source == row["source"],
                    table.c.external_id == row["external_id"],
                )
            ).scalar()
            if found is not None:
                return Recorded(table.name, int(found), row, created=False)
        new_id = conn.execute(insert(table).values(**row)).inserted_primary_key[0]  # type: ignore[index]
    return Recorded(table.name, int(new_id), row)


def event_time(value: str, field: str, now: int) -> int:
    """`now`, or an ISO 8601 date or time (naive means UTC), as Unix seconds; an error names `field`."""
    from onebar.report.build import parse_time

    if value.strip().lower() == "now":
        return now
    return parse_time(value, field)


def record_deploy(
    ws: Workspace,
    *,
    ref: str,
    at: str,
    now: int,
    environment: str | None = None,
    status: str = "success",
    external_id: str | None = None,
    source: str = "cli",
) -> Recorded:
    """Record that `ref` (resolved to its commit) was deployed at `at` to `environment` (default: the charter's)."""
    return record_deployment(
        ws.store,
        ws.repo_id,
        ref=ref,
        sha=ws.rev_parse(ref, "ref"),
        at=event_time(at, "at", now),
        now=now,
        environment=ws.charter.delivery.environment if environment is None else environment,
        status=status,
        source=source,
        external_id=external_id,
    )


def record_outage(
    ws: Workspace,
    *,
    started: str,
    now: int,
    resolved: str | None = None,
    title: str = "",
    deployment_ref: str | None = None,
    external_id: str | None = None,
    source: str = "cli",
) -> Recorded:
    """Record an incident that started at `started` (and was resolved at `resolved`, if it was)."""
    return record_incident(
        ws.store,
        ws.repo_id,
        started=event_time(started, "started", now),
        resolved=event_time(resolved, "resolved", now) if resolved is not None else None,
        now=now,
        title=title,
        deployment_ref=deployment_ref,
        source=source,
        external_id=external_id,
    )
