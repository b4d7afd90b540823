"""Recording deployment and incident events in the store (`onebar record`, later the API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert

from onebar.errors import UsageError
from onebar.store import Store
from onebar.store.schema import deployments, incidents

FUTURE_SLACK = 3600  # clocks disagree a little; an hour ahead is still "now"
STATUSES = ("success", "failure")


@dataclass(frozen=True)
class Recorded:
    table: str
    id: int
    row: dict[str, Any]


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
        raise UsageError("--ref: name the deployed ref (a tag, branch or commit)")
    if at > now + FUTURE_SLACK:
        raise UsageError("--at: the deployment time is in the future")
    if status not in STATUSES:
        raise UsageError(f"--status: {status!r} is not one of {', '.join(STATUSES)}")
    if not environment.strip():
        raise UsageError("--env: the environment name is empty")
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
    with store.write() as conn:
        new_id = conn.execute(insert(deployments).values(**row)).inserted_primary_key[0]  # type: ignore[index]
    return Recorded("deployments", int(new_id), row)


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
        raise UsageError("--started: the incident start is in the future")
    if resolved is not None:
        if resolved < started:
            raise UsageError("--resolved: the incident is resolved before it started")
        if resolved > now + FUTURE_SLACK:
            raise UsageError("--resolved: the resolution time is in the future")
    row = {
        "repo_id": repo_id,
        "title": title,
        "started_at": started,
        "resolved_at": resolved,
        "deployment_ref": deployment_ref,
        "source": source,
        "external_id": external_id,
    }
    with store.write() as conn:
        new_id = conn.execute(insert(incidents).values(**row)).inserted_primary_key[0]  # type: ignore[index]
    return Recorded("incidents", int(new_id), row)
