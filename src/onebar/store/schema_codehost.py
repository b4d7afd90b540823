"""Code-host tables: pull/merge requests, reviews, deployments, issues, hooks and their deliveries.

Everything a code host tells is keyed by the host repository (`codehost_repos`: host + full name,
e.g. github + pallets/flask) rather than by the store's git repository, so an import or a webhook
can arrive before the repository is ingested; `repo_name` names the onebar repository it feeds.
Reviews are keyed by (host repository, pull number, review id), not by a foreign key to the pull
request, so a review that arrives before its pull request is kept and joined later.

People are stored as the host shows them (login, account type) and resolved to the charter's people
and organisations at read time, as git identities are: editing the charter needs no re-import.
Times are integer Unix seconds (UTC).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from onebar.store.schema import deployments, incidents, metadata

codehost_repos = Table(
    "codehost_repos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("host", String(16), nullable=False),  # github, gitlab
    Column("full_name", Text, nullable=False),  # OWNER/REPO or GROUP/PROJECT as the host spells it
    Column("repo_name", Text, nullable=False),  # the onebar repository (repositories.name) it feeds
    Column("api_url", Text),
    UniqueConstraint("host", "full_name", name="uq_codehost_repo"),
)
Index("ix_codehost_repos_name", codehost_repos.c.repo_name)

pull_requests = Table(
    "pull_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codehost_repo_id", Integer, ForeignKey("codehost_repos.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),  # GitHub number, GitLab iid
    Column("title", Text, nullable=False, default=""),
    Column("author", Text, nullable=False, default=""),  # login
    Column("author_type", String(16), nullable=False, default="User"),  # User, Bot (host's account type)
    Column("author_association", String(32)),  # GitHub: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, ...
    Column("state", String(16), nullable=False, default="open"),  # open, closed, merged
    Column("draft", Boolean, nullable=False, default=False),
    Column("opened_at", BigInteger, nullable=False),
    Column("ready_at", BigInteger),  # last time it left draft
    Column("draft_since", BigInteger),  # when it last became a draft, while it is one
    Column("draft_seconds", BigInteger, nullable=False, default=0),  # time spent in draft, when known
    Column("first_commit_at", BigInteger),  # author time of its oldest commit
    Column("first_review_at", BigInteger),  # first review by someone other than the author (any kind)
    Column("approved_at", BigInteger),  # first approval
    Column("merged_at", BigInteger),
    Column("closed_at", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
    Column("merge_sha", String(64)),
    Column("head_sha", String(64)),
    Column("head_ref", Text),
    Column("base_ref", Text),
    Column("additions", Integer),
    Column("deletions", Integer),
    Column("changed_files", Integer),
    Column("commits", Integer),
    Column("labels", Text, nullable=False, default=""),  # newline-separated
    Column("assignees", Text, nullable=False, default=""),  # newline-separated logins
    Column("coauthors", Text, nullable=False, default=""),  # "Name <e-mail>" of Co-authored-by trailers
    Column("body", Text, nullable=False, default=""),  # first 16 KiB, for references and agent markers
    UniqueConstraint("codehost_repo_id", "number", name="uq_pull_request"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codehost_repo_id", Integer, ForeignKey("codehost_repos.id", ondelete="CASCADE"), nullable=False),
    Column("pr_number", Integer, nullable=False),
    Column("external_id", Text, nullable=False),
    Column("reviewer", Text, nullable=False),  # login
    Column("reviewer_type", String(16), nullable=False, default="User"),
    Column("state", String(24), nullable=False),  # approved, changes_requested, commented, dismissed
    Column("submitted_at", BigInteger, nullable=False),
    Column("commit_sha", String(64)),
    UniqueConstraint("codehost_repo_id", "pr_number", "external_id", name="uq_review"),
)
Index("ix_reviews_pr", reviews.c.codehost_repo_id, reviews.c.pr_number)

# References from a change to the shared tracker: "#12", "group/project#12", a Jira-style "PAY-12".
tracker_links = Table(
    "tracker_links",
    metadata,
    Column("codehost_repo_id", Integer, ForeignKey("codehost_repos.id", ondelete="CASCADE"), primary_key=True),
    Column("pr_number", Integer, primary_key=True),
    Column("ref", Text, primary_key=True),  # normalised: "#12", "owner/repo#12", "PAY-12"
    Column("kind", String(16), nullable=False),  # issue (host), key (tracker key)
    Column("closes", Boolean, nullable=False, default=False),  # "Closes #12", "Fixes PAY-12"
)

codehost_deployments = Table(
    "codehost_deployments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codehost_repo_id", Integer, ForeignKey("codehost_repos.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", Text, nullable=False),
    Column("sha", String(64)),
    Column("ref", Text, nullable=False, default=""),
    Column("environment", Text, nullable=False, default="production"),
    Column("creator", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),  # latest state the host reported
    Column("status_at", BigInteger),
    Column("succeeded_at", BigInteger),  # first success
    Column("failed_at", BigInteger),  # first failure or error
    UniqueConstraint("codehost_repo_id", "external_id", name="uq_codehost_deployment"),
)

# Issues of the host's tracker (all of them: the backlog needs to know an issue exists); an
# incident is an issue with the charter's incident label or GitLab's incident type.
tracker_issues = Table(
    "tracker_issues",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codehost_repo_id", Integer, ForeignKey("codehost_repos.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("author", Text, nullable=False, default=""),
    Column("state", String(16), nullable=False, default="open"),
    Column("issue_type", String(16), nullable=False, default="issue"),  # issue, incident (GitLab)
    Column("labels", Text, nullable=False, default=""),  # newline-separated, lower-cased
    Column("created_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
    Column("cause_sha", String(64)),  # "root cause: <sha>" in the body
    Column("cause_pr", Integer),  # "caused by #12" in the body
    Column("resolution", Text),  # "resolution: rollback" in the body, else how it was closed
    UniqueConstraint("codehost_repo_id", "number", name="uq_tracker_issue"),
)

ci_runs = Table(
    "ci_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codehost_repo_id", Integer, ForeignKey("codehost_repos.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", Text, nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("head_sha", String(64)),
    Column("branch", Text),
    Column("status", String(24), nullable=False),  # the host's conclusion or status
    Column("started_at", BigInteger),
    Column("finished_at", BigInteger),
    UniqueConstraint("codehost_repo_id", "external_id", name="uq_ci_run"),
)

releases = Table(
    "releases",
    metadata,
    Column("codehost_repo_id", Integer, ForeignKey("codehost_repos.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", Text, primary_key=True),
    Column("name", Text, nullable=False, default=""),
    Column("published_at", BigInteger),
)

hooks = Table(
    "hooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("host", String(16), nullable=False),  # github, gitlab, ci
    Column("repo_name", Text, nullable=False),
    Column("secret", LargeBinary, nullable=False),  # Fernet token of the secret (ONEBAR_SECRET_KEY)
    Column("created_at", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("rejected", Integer, nullable=False, default=0),  # deliveries refused for a bad signature
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hook_id", Integer, ForeignKey("hooks.id", ondelete="CASCADE"), nullable=False),
    Column("delivery_id", Text, nullable=False),
    Column("event", Text, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),  # the raw body, exactly as signed
    Column("status", String(16), nullable=False, default="pending"),  # pending, processed, ignored, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("processed_at", BigInteger),
    Column("error", Text),
    UniqueConstraint("hook_id", "delivery_id", name="uq_delivery"),
)
Index("ix_deliveries_status", deliveries.c.status, deliveries.c.id)

# Import state per host repository and resource: the high-water mark of the last complete run, the
# page to resume from after an interrupted one, and the ETags of the pages read.
import_state = Table(
    "import_state",
    metadata,
    Column("codehost_repo_id", Integer, ForeignKey("codehost_repos.id", ondelete="CASCADE"), primary_key=True),
    Column("resource", String(32), primary_key=True),
    Column("high_water", BigInteger),
    Column("run_high", BigInteger),
    Column("resume_url", Text),
    Column("finished_at", BigInteger),
)

http_etags = Table(
    "http_etags",
    metadata,
    Column("url", Text, primary_key=True),
    Column("etag", Text, nullable=False),
)

# One deployment may ship several repositories: rows of `deployments` sharing a group key are one.
deployments.append_column(Column("group_key", Text))
deployments.append_column(Column("url", Text))
incidents.append_column(Column("cause_sha", String(64)))
incidents.append_column(Column("cause_change", Text))  # the change (pull request) that caused it, "#12"
incidents.append_column(Column("resolution", Text))
