"""Tables of the audit log and of access grants (migration 0005), on the shared `metadata`.

The audit log is append-only by convention and tamper-evident by construction: each entry carries
the hash of the one before it (docs/audit.md). Dates of grants are ISO `YYYY-MM-DD` text, so they
compare as strings and read the same in every database.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from onebar.store.schema import metadata

Seq = BigInteger().with_variant(Integer(), "sqlite")

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),  # 1, 2, 3 ... with no gaps
    Column("at", Text, nullable=False),  # ISO 8601 UTC with microseconds, e.g. 2025-01-31T09:00:00.000000Z
    Column("actor_person", Text),
    Column("actor_token", Text),  # a token id, never its secret
    Column("actor_org", Text),
    Column("via", Text, nullable=False),  # cli | api | job | webhook | ingest
    Column("action", Text, nullable=False),  # e.g. access.grant.approve
    Column("target", Text, nullable=False),  # e.g. grant:12
    Column("outcome", Text, nullable=False),  # success | refused | failed
    Column("payload", Text),  # canonical JSON (RFC 8785); NULL once redacted, the digest stays
    Column("payload_sha256", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)
Index("ix_audit_entries_at", audit_entries.c.at)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", Seq, primary_key=True, autoincrement=False),  # entries 1..size are covered
    Column("at", Text, nullable=False),
    Column("root", String(64), nullable=False),  # RFC 6962 Merkle tree head, hex
    Column("head", String(64), nullable=False),  # hash of entry `size`
    Column("frontier", Text, nullable=False),  # the tree's perfect subtrees, to extend it without a full read
    Column("key_id", String(8), nullable=False),
    Column("note", Text, nullable=False),  # the signed checkpoint (C2SP signed note), exportable as is
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repository", Text, nullable=False),  # the repository whose charter governs the grant
    Column("person", Text, nullable=False),
    Column("level", Text, nullable=False),  # read | write | admin
    Column("scope_kind", Text, nullable=False),  # repository | component | environment
    Column("scope", Text, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("approver", Text),  # the lead expected to approve (of the organisation owning the scope)
    Column("status", Text, nullable=False),  # pending | approved | refused | revoked | expired
    Column("starts_on", String(10), nullable=False),
    Column("ends_on", String(10), nullable=False),  # inclusive
    Column("requested_by", Text),
    Column("requested_at", BigInteger, nullable=False),
    Column("decided_by", Text),
    Column("decided_at", BigInteger),
    Column("ended_by", Text),
    Column("ended_at", BigInteger),
    Column("end_reason", Text),
    Column("warned_at", BigInteger),  # when the last expiry warning was given
)
Index("ix_grants_person", grants.c.person)
Index("ix_grants_status", grants.c.status)

access_signoffs = Table(
    "access_signoffs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repository", Text, nullable=False),
    Column("org", Text, nullable=False),
    Column("period", Text, nullable=False),  # e.g. 2025-Q1
    Column("signed_by", Text, nullable=False),
    Column("signed_at", BigInteger, nullable=False),
    Column("review_sha256", String(64), nullable=False),  # digest of the organisation's part of the review
    Column("rows", Integer, nullable=False),
    Column("note", Text, nullable=False, default=""),
)
