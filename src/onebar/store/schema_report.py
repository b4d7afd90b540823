"""Facts the report reads instead of recomputing them from the whole history on every run.

Kept up to date at ingest by `onebar.mining.facts`, and all independent of the charter (identities
stay ids, as git shows them, and are resolved when a report is built, so editing the charter needs
no re-ingest):

- `commit_blocks`: the commits of a repository as columns, a block of consecutive commit ids per
  row: ids, author and committer identity ids, times, parents as commit ids, the key a commit
  shares with its cherry-picks (numpy arrays stored as bytes), the shas, and the sparse facts
  (octopus parents, reverts, Fixes: trailers) as JSON. Loading a million commits is reading a few
  dozen rows. A commit never changes, so a block never does, except the last one of a repository,
  which later commits may fill up.
- `report_state`: per repository, the highest commit id in the blocks and the head commit the head
  facts below describe.
- `head_blocks`: the commits that head reaches, each with the mainline commit (first-parent chain
  from the head) that brought it in, appended as the head moves forward.
- `file_authorship`: per file and git identity, how often those commits added, modified and
  deleted it: all the degree-of-authorship model needs.

A head that moves anywhere but forward along its first parents (a force-push, a branch switch)
rebuilds the head facts. An interrupted ingest leaves whole blocks and head facts describing an
older head; the next ingest continues, and the report sees what is missing and computes it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String, Table, Text

from onebar.store.schema import metadata

# The commits a force-push left unreachable, which the report skips on every run, have a partial
# index of their own, `ix_commits_unreachable` (migration 0003). It is not declared here: a partial
# index names each dialect's `where`, and declaring one imports SQLAlchemy's PostgreSQL dialect,
# some 40 ms, on every run of every command, SQLite or not. Migrations create it.

commit_blocks = Table(
    "commit_blocks",
    metadata,
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("first_id", BigInteger, primary_key=True, autoincrement=False),  # the block's smallest commit id
    Column("last_id", BigInteger, nullable=False),
    Column("size", Integer, nullable=False),  # commits in the block
    Column("missing", Integer, nullable=False, default=0),  # parents named but not stored (a shallow clone)
    Column("columns", LargeBinary, nullable=False),  # one record per commit (onebar.mining.facts.BLOCK)
    Column("shas", LargeBinary, nullable=False),  # the hex shas, `sha_width` bytes each
    Column("sha_width", Integer, nullable=False),  # 40 (SHA-1) or 64 (SHA-256)
    Column("sparse", Text, nullable=False, default="{}"),  # JSON: more parents, reverts, Fixes: names
)

report_state = Table(
    "report_state",
    metadata,
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("facts_until", BigInteger, nullable=False, default=0),  # commit blocks cover ids up to this
    Column("head_sha", String(64)),  # the head `head_blocks` and `file_authorship` describe
    Column("head_id", BigInteger),
    Column("head_until", BigInteger, nullable=False, default=0),  # facts_until when they were last updated
)

head_blocks = Table(
    "head_blocks",
    metadata,
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("commit_ids", LargeBinary, nullable=False),  # int64 commit ids the head reaches
    Column("merged_by", LargeBinary, nullable=False),  # int64: the mainline commit that brought each in
)

file_authorship = Table(
    "file_authorship",
    metadata,
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("identity_id", Integer, ForeignKey("identities.id"), primary_key=True),
    Column("adds", Integer, nullable=False, default=0),
    Column("mods", Integer, nullable=False, default=0),  # modifications and type changes
    Column("dels", Integer, nullable=False, default=0),
)
