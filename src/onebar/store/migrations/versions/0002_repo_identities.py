"""repo_identities: which identities appear in which repository

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repo_identities",
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["identity_id"], ["identities.id"]),
        sa.ForeignKeyConstraint(["repo_id"], ["repositories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("repo_id", "identity_id"),
    )
    # Stores mined before this revision: fill it from their commits.
    op.execute(
        "INSERT INTO repo_identities (repo_id, identity_id) "
        "SELECT repo_id, author_id FROM commits UNION SELECT repo_id, committer_id FROM commits"
    )


def downgrade() -> None:
    op.drop_table("repo_identities")
