"""The store's tables (SQLAlchemy Core). Alembic migrations under store/migrations create them.

Times are integer Unix seconds (UTC) with the author's UTC offset in minutes beside them: cheap to
store, to compare and to bucket, and exact.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# The Alembic revision this code expects; a test keeps it equal to the migrations' head.
SCHEMA_REVISION = "0003"

metadata = MetaData()

# 64-bit ids; on SQLite an INTEGER PRIMARY KEY is the rowid itself, which keeps bulk inserts fast.
Id64 = BigInteger().with_variant(Integer(), "sqlite")

repositories = Table(
    "repositories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("shallow", Boolean, nullable=False, default=False),
    Column("ingested_at", BigInteger),
)

# The ref tips seen at the end of the last complete ingest: the next run reads only what they lack.
refs = Table(
    "refs",
    metadata,
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("sha", String(64), nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    UniqueConstraint("name", "email", name="uq_identity"),
)

# Which identities appear (as author or committer) in which repository: keeps per-repository
# people counts constant-time instead of a scan of every commit.
repo_identities = Table(
    "repo_identities",
    metadata,
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("identity_id", Integer, ForeignKey("identities.id"), primary_key=True),
)

commits = Table(
    "commits",
    metadata,
    Column("id", Id64, primary_key=True, autoincrement=False),
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("sha", String(64), nullable=False),
    Column("parents", Text, nullable=False, default=""),  # space-separated shas, first parent first
    Column("author_id", Integer, ForeignKey("identities.id"), nullable=False),
    Column("authored_at", BigInteger, nullable=False),
    Column("author_tz", Integer, nullable=False),  # minutes east of UTC
    Column("committer_id", Integer, ForeignKey("identities.id"), nullable=False),
    Column("committed_at", BigInteger, nullable=False),
    Column("committer_tz", Integer, nullable=False),
    Column("subject", Text, nullable=False, default=""),
    Column("revert_of", String(64)),  # sha (possibly abbreviated) named by "This reverts commit ..."
    Column("files", Integer, nullable=False, default=0),
    Column("added", Integer),  # NULL when line counts were not mined
    Column("deleted", Integer),
    Column("reachable", Boolean, nullable=False, default=True),  # False once a force-push dropped it
    UniqueConstraint("repo_id", "sha", name="uq_commit_sha"),
)
Index("ix_commits_repo_time", commits.c.repo_id, commits.c.committed_at)

trailers = Table(
    "trailers",
    metadata,
    Column("commit_id", Id64, ForeignKey("commits.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),  # lower-cased, e.g. "reviewed-by"
    Column("value", Text, nullable=False),
)
Index("ix_trailers_commit", trailers.c.commit_id)

file_changes = Table(
    "file_changes",
    metadata,
    Column("commit_id", Id64, ForeignKey("commits.id", ondelete="CASCADE"), nullable=False),
    Column("path", Text, nullable=False),
    Column("status", String(1), nullable=False),  # A added, M modified, D deleted, T type change
    Column("added", Integer),  # NULL for binary files or when line counts were not mined
    Column("deleted", Integer),
    Column("binary", Boolean, nullable=False, default=False),
)
Index("ix_file_changes_commit", file_changes.c.commit_id)

tags = Table(
    "tags",
    metadata,
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("sha", String(64), nullable=False),  # the commit the tag points at (peeled)
    Column("tagged_at", BigInteger, nullable=False),  # tagger date, or the commit date if lightweight
    Column("annotated", Boolean, nullable=False, default=False),
)

# Deployments recorded as events (CLI, API, webhook); tag deployments are derived from `tags`.
deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("ref", Text, nullable=False),
    Column("sha", String(64)),
    Column("environment", Text, nullable=False, default="production"),
    Column("deployed_at", BigInteger, nullable=False),
    Column("status", Text, nullable=False, default="success"),
    Column("source", Text, nullable=False, default="cli"),
    Column("external_id", Text),
    UniqueConstraint("repo_id", "source", "external_id", name="uq_deployment_external"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("started_at", BigInteger, nullable=False),
    Column("resolved_at", BigInteger),
    Column("deployment_ref", Text),  # the deployment (tag or sha) it is attributed to, if known
    Column("source", Text, nullable=False, default="cli"),
    Column("external_id", Text),
    UniqueConstraint("repo_id", "source", "external_id", name="uq_incident_external"),
)
