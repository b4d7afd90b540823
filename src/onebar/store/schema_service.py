"""The service's tables: repositories it owns, API tokens, browser sessions, jobs, materialised
reports and gate runs (migration 0004_service).

Times are integer Unix seconds (UTC), as in the rest of the store.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from onebar.store.schema import metadata

# A repository the service owns: a local path, or a clone URL mirrored into the data folder.
service_repos = Table(
    "service_repos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("source", Text, nullable=False),  # the path or URL it was added from
    Column("kind", String(8), nullable=False),  # "path" or "mirror"
    Column("path", Text, nullable=False),  # what the miner reads: the path, or the mirror's git dir
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="SET NULL")),  # once ingested
    Column("added_at", BigInteger, nullable=False),
    Column("fetched_at", BigInteger),
    Column("ingested_at", BigInteger),
)

# API tokens: only a SHA-256 of the secret is kept; `prefix` lets people tell their tokens apart.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("role", String(16), nullable=False),
    Column("org", Text),
    Column("repo", Text),
    Column("person", Text),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text, nullable=False, default=""),
    Column("expires_at", BigInteger),
    Column("revoked_at", BigInteger),
    Column("last_used_at", BigInteger),
)

# Browser sessions: a token exchanged for a cookie; the cookie's secret is kept hashed too.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("token_id", Integer, ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger),
)

# The durable job queue. `lock_key` holds the repository name while a job runs: the unique index
# makes "never two jobs at once for one repository" the database's guarantee, across processes.
jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("repo", Text),
    Column("payload", Text, nullable=False, default="{}"),
    Column("status", String(12), nullable=False),  # queued, running, done, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=5),
    Column("run_after", BigInteger, nullable=False),
    Column("lock_key", Text, unique=True),
    Column("locked_by", Text),
    Column("lease_until", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("started_at", BigInteger),
    Column("finished_at", BigInteger),
    Column("duration_ms", Integer),
    Column("error", Text),
    Column("result", Text),
)
Index("ix_jobs_status_run_after", jobs.c.status, jobs.c.run_after)

# A report computed once and served many times: per repository and window ("default" is the last
# 90 days of the history, refreshed by a job after each ingest; other windows are cached on demand).
materialised_reports = Table(
    "materialised_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repo", Text, nullable=False),
    Column("window_key", Text, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("body", Text, nullable=False),  # the report JSON contract
    Column("summary", Text, nullable=False),  # DORA overall and per organisation, for the portfolio
    Column("meta", Text, nullable=False),  # charter facts the visibility policy needs
    Column("source", String(64), nullable=False),  # what the report was computed from (ingest state)
    Column("computed_at", BigInteger, nullable=False),
    Column("compute_ms", Integer, nullable=False, default=0),
    UniqueConstraint("repo", "window_key", name="uq_materialised_window"),
)

# Gate verdicts posted by CI (docs/gate.schema.json), kept whole with the fields queries filter on.
gate_runs = Table(
    "gate_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repo", Text, nullable=False),
    Column("status", String(8), nullable=False),  # pass or fail
    Column("base", Text, nullable=False),
    Column("head", Text, nullable=False),
    Column("org", Text),
    Column("person", Text),
    Column("failed_rules", Text, nullable=False, default=""),  # space-separated rule ids
    Column("rules", Text, nullable=False, default=""),  # every rule id evaluated, space-separated
    Column("posted_at", BigInteger, nullable=False),
    Column("token_id", Integer),
    Column("verdict", Text, nullable=False),
    Column("external_id", Text),
    UniqueConstraint("repo", "external_id", name="uq_gate_run_external"),
)
Index("ix_gate_runs_repo", gate_runs.c.repo, gate_runs.c.id)
Index("ix_gate_runs_org", gate_runs.c.org, gate_runs.c.id)

SERVICE_TABLES = (service_repos, api_tokens, web_sessions, jobs, materialised_reports, gate_runs)
