"""Mining's own table: the commits git could not read whole when they were mined.

A lost blob or a partial clone without its promisor leaves a commit's line counts unknown; the
commit is stored anyway (NULL counts) and listed here, so every later report can say so even when
the whole history is affected (which NULL counts alone cannot tell from `--no-lines`).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from onebar.store.schema import metadata

unreadable_commits = Table(
    "unreadable_commits",
    metadata,
    Column("repo_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("sha", String(64), primary_key=True),
)
