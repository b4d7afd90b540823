"""codehost: pull requests, reviews, deployments, issues, hooks and deliveries from GitHub and GitLab

Revision ID: 0006
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG = sa.BigInteger()


def _repo_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "codehost_repo_id", sa.Integer(), sa.ForeignKey("codehost_repos.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "codehost_repos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("host", sa.String(16), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("repo_name", sa.Text(), nullable=False),
        sa.Column("api_url", sa.Text()),
        sa.UniqueConstraint("host", "full_name", name="uq_codehost_repo"),
    )
    op.create_index("ix_codehost_repos_name", "codehost_repos", ["repo_name"])
    op.create_table(
        "pull_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        _repo_fk(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("author_type", sa.String(16), nullable=False),
        sa.Column("author_association", sa.String(32)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("draft", sa.Boolean(), nullable=False),
        sa.Column("opened_at", BIG, nullable=False),
        sa.Column("ready_at", BIG),
        sa.Column("draft_since", BIG),
        sa.Column("draft_seconds", BIG, nullable=False),
        sa.Column("first_commit_at", BIG),
        sa.Column("first_review_at", BIG),
        sa.Column("approved_at", BIG),
        sa.Column("merged_at", BIG),
        sa.Column("closed_at", BIG),
        sa.Column("updated_at", BIG, nullable=False),
        sa.Column("merge_sha", sa.String(64)),
        sa.Column("head_sha", sa.String(64)),
        sa.Column("head_ref", sa.Text()),
        sa.Column("base_ref", sa.Text()),
        sa.Column("additions", sa.Integer()),
        sa.Column("deletions", sa.Integer()),
        sa.Column("changed_files", sa.Integer()),
        sa.Column("commits", sa.Integer()),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("assignees", sa.Text(), nullable=False),
        sa.Column("coauthors", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.UniqueConstraint("codehost_repo_id", "number", name="uq_pull_request"),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        _repo_fk(),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("reviewer_type", sa.String(16), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("submitted_at", BIG, nullable=False),
        sa.Column("commit_sha", sa.String(64)),
        sa.UniqueConstraint("codehost_repo_id", "pr_number", "external_id", name="uq_review"),
    )
    op.create_index("ix_reviews_pr", "reviews", ["codehost_repo_id", "pr_number"])
    op.create_table(
        "tracker_links",
        sa.Column(
            "codehost_repo_id", sa.Integer(), sa.ForeignKey("codehost_repos.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("pr_number", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.Text(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("closes", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "codehost_deployments",
        sa.Column("id", sa.Integer(), primary_key=True),
        _repo_fk(),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("sha", sa.String(64)),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=False),
        sa.Column("creator", sa.Text()),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("updated_at", BIG, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", BIG),
        sa.Column("succeeded_at", BIG),
        sa.Column("failed_at", BIG),
        sa.UniqueConstraint("codehost_repo_id", "external_id", name="uq_codehost_deployment"),
    )
    op.create_table(
        "tracker_issues",
        sa.Column("id", sa.Integer(), primary_key=True),
        _repo_fk(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("issue_type", sa.String(16), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("closed_at", BIG),
        sa.Column("updated_at", BIG, nullable=False),
        sa.Column("cause_sha", sa.String(64)),
        sa.Column("cause_pr", sa.Integer()),
        sa.Column("resolution", sa.Text()),
        sa.UniqueConstraint("codehost_repo_id", "number", name="uq_tracker_issue"),
    )
    op.create_table(
        "ci_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _repo_fk(),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("head_sha", sa.String(64)),
        sa.Column("branch", sa.Text()),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("started_at", BIG),
        sa.Column("finished_at", BIG),
        sa.UniqueConstraint("codehost_repo_id", "external_id", name="uq_ci_run"),
    )
    op.create_table(
        "releases",
        sa.Column(
            "codehost_repo_id", sa.Integer(), sa.ForeignKey("codehost_repos.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("tag", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("published_at", BIG),
    )
    op.create_table(
        "hooks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("host", sa.String(16), nullable=False),
        sa.Column("repo_name", sa.Text(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("hook_id", sa.Integer(), sa.ForeignKey("hooks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("delivery_id", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("received_at", BIG, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", BIG),
        sa.Column("error", sa.Text()),
        sa.UniqueConstraint("hook_id", "delivery_id", name="uq_delivery"),
    )
    op.create_index("ix_deliveries_status", "deliveries", ["status", "id"])
    op.create_table(
        "import_state",
        sa.Column(
            "codehost_repo_id", sa.Integer(), sa.ForeignKey("codehost_repos.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("resource", sa.String(32), primary_key=True),
        sa.Column("high_water", BIG),
        sa.Column("run_high", BIG),
        sa.Column("resume_url", sa.Text()),
        sa.Column("finished_at", BIG),
    )
    op.create_table(
        "http_etags",
        sa.Column("url", sa.Text(), primary_key=True),
        sa.Column("etag", sa.Text(), nullable=False),
    )
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("group_key", sa.Text()))
        batch.add_column(sa.Column("url", sa.Text()))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("cause_sha", sa.String(64)))
        batch.add_column(sa.Column("cause_change", sa.Text()))
        batch.add_column(sa.Column("resolution", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("resolution")
        batch.drop_column("cause_change")
        batch.drop_column("cause_sha")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("url")
        batch.drop_column("group_key")
    for name in (
        "http_etags",
        "import_state",
        "deliveries",
        "hooks",
        "releases",
        "ci_runs",
        "tracker_issues",
        "codehost_deployments",
        "tracker_links",
        "reviews",
        "pull_requests",
        "codehost_repos",
    ):
        op.drop_table(name)
