"""report: commit blocks (per-commit facts as columns) and head facts kept at ingest for a fast report

Revision ID: 0003
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0004"
branch_labels = None
depends_on = None


def _repo() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("repo_id", sa.Integer(), sa.ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True)


def upgrade() -> None:
    # The report reads the commits a force-push left unreachable on every run: an index of just those.
    op.create_index(
        "ix_commits_unreachable",
        "commits",
        ["repo_id"],
        sqlite_where=sa.text("reachable = 0"),
        postgresql_where=sa.text("reachable = false"),
    )
    # Stores mined before this revision get their facts at the next ingest (every report ingests
    # first): report_state starts empty, so every commit is past `facts_until`.
    op.create_table(
        "commit_blocks",
        _repo(),
        sa.Column("first_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("columns", sa.LargeBinary(), nullable=False),
        sa.Column("shas", sa.LargeBinary(), nullable=False),
        sa.Column("sha_width", sa.Integer(), nullable=False),
        sa.Column("sparse", sa.Text(), nullable=False, server_default="{}"),
    )
    op.create_table(
        "report_state",
        _repo(),
        sa.Column("facts_until", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("head_sha", sa.String(64)),
        sa.Column("head_id", sa.BigInteger()),
        sa.Column("head_until", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "head_blocks",
        _repo(),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("commit_ids", sa.LargeBinary(), nullable=False),
        sa.Column("merged_by", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "file_authorship",
        _repo(),
        sa.Column("path", sa.Text(), primary_key=True),
        sa.Column("identity_id", sa.Integer(), sa.ForeignKey("identities.id"), primary_key=True),
        sa.Column("adds", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("mods", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("dels", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    for table in ("file_authorship", "head_blocks", "report_state", "commit_blocks"):
        op.drop_table(table)
    op.drop_index("ix_commits_unreachable", "commits")
