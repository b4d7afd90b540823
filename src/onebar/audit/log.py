"""Appending to the audit log inside the caller's transaction, and reading it back.

`record` takes the chain's lock, reads the head, and inserts the next entry on the caller's
connection, so the entry commits (or rolls back) with the change it describes. On PostgreSQL the
lock is a transaction-scoped advisory lock, so appends from any number of processes queue up and
form one chain; on SQLite the store's write transaction (BEGIN IMMEDIATE) already serialises
writers. The sequence number is the primary key: even an append that skipped the lock could
never fork the chain, it would fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlalchemy.engine import Row

from onebar.audit.chain import (
    GENESIS,
    Actor,
    Entry,
    canonical_payload,
    entry_bytes,
    format_time,
    leaf_hash,
    sha256_hex,
)
from onebar.errors import UsageError
from onebar.store.schema_access import audit_entries

# pg_advisory_xact_lock key of the chain head: arbitrary, distinct from the store's writer lock (7242).
CHAIN_LOCK = 0x6F6E6562617564
OUTCOMES = ("success", "refused", "failed")
_ACTION = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
_FETCH = 5000


@dataclass(frozen=True)
class Event:
    """What a caller asks to record; the log adds the time, sequence number and hashes."""

    actor: Actor
    action: str
    target: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    outcome: str = "success"
    at: datetime | None = None


def record(
    conn: Connection,
    *,
    actor: Actor,
    action: str,
    target: str,
    payload: Mapping[str, Any] | None = None,
    outcome: str = "success",
    at: datetime | None = None,
) -> Entry:
    """Append one entry in the caller's transaction: every change of state and every refusal calls this."""
    return record_many(conn, [Event(actor, action, target, payload or {}, outcome, at)])[0]


def record_many(conn: Connection, events: Sequence[Event]) -> list[Entry]:
    """Append several entries at once (one lock, one head read, one insert)."""
    if not events:
        return []
    prepared = [_prepare(e) for e in events]
    lock_chain(conn)
    seq, prev = head(conn)
    out: list[Entry] = []
    for at, ev, payload in prepared:
        seq += 1
        digest = sha256_hex(payload.encode("utf-8"))
        h = leaf_hash(entry_bytes(seq, at, ev.actor, ev.action, ev.target, ev.outcome, digest, prev))
        out.append(Entry(seq, at, ev.actor, ev.action, ev.target, ev.outcome, payload, digest, prev, h))
        prev = h
    conn.execute(insert(audit_entries), [_row(e) for e in out])
    return out


def lock_chain(conn: Connection) -> None:
    """Hold the chain head until the caller's transaction ends (PostgreSQL; SQLite writers are already serial)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})


def head(conn: Connection) -> tuple[int, str]:
    """(sequence number, hash) of the last entry; (0, GENESIS) for an empty log."""
    row = conn.execute(
        select(audit_entries.c.seq, audit_entries.c.hash).order_by(audit_entries.c.seq.desc()).limit(1)
    ).first()
    return (int(row.seq), str(row.hash)) if row else (0, GENESIS)


def _prepare(ev: Event) -> tuple[str, Event, str]:
    if not _ACTION.match(ev.action):
        raise UsageError(
            f"{ev.action!r} is not an audit action: dotted lower-case words such as access.grant.approve",
            field="action",
        )
    if not ev.target:
        raise UsageError("an audit entry needs a target (what was acted on, e.g. grant:12)", field="target")
    if ev.outcome not in OUTCOMES:
        raise UsageError(f"outcome must be one of {', '.join(OUTCOMES)}, got {ev.outcome!r}", field="outcome")
    at = format_time(ev.at or datetime.now(UTC))
    return at, ev, canonical_payload(ev.payload)


def _row(e: Entry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": e.at,
        "actor_person": e.actor.person,
        "actor_token": e.actor.token,
        "actor_org": e.actor.org,
        "via": e.actor.via,
        "action": e.action,
        "target": e.target,
        "outcome": e.outcome,
        "payload": e.payload,
        "payload_sha256": e.payload_sha256,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def to_entry(r: Row[Any] | Mapping[str, Any]) -> Entry:
    m = r._mapping if isinstance(r, Row) else r
    return Entry(
        seq=int(m["seq"]),
        at=str(m["at"]),
        actor=Actor(m["actor_person"], m["actor_token"], m["actor_org"], str(m["via"])),
        action=str(m["action"]),
        target=str(m["target"]),
        outcome=str(m["outcome"]),
        payload=m["payload"],
        payload_sha256=str(m["payload_sha256"]),
        prev_hash=str(m["prev_hash"]),
        hash=str(m["hash"]),
    )


def entries(
    conn: Connection,
    *,
    since: datetime | None = None,
    after_seq: int = 0,
    action: str | None = None,
    target: str | None = None,
    limit: int | None = None,
) -> Iterator[Entry]:
    """Entries in sequence order, read in pages so that any length of log streams in flat memory."""
    last = after_seq
    remaining = limit
    while remaining is None or remaining > 0:
        q = select(audit_entries).where(audit_entries.c.seq > last).order_by(audit_entries.c.seq)
        if since is not None:
            q = q.where(audit_entries.c.at >= format_time(since))
        if action is not None:
            q = q.where(audit_entries.c.action.startswith(action))
        if target is not None:
            q = q.where(audit_entries.c.target == target)
        page = conn.execute(q.limit(min(_FETCH, remaining) if remaining is not None else _FETCH)).all()
        if not page:
            return
        for r in page:
            yield to_entry(r)
        last = int(page[-1].seq)
        if remaining is not None:
            remaining -= len(page)


def count(conn: Connection) -> int:
    return head(conn)[0]


def iter_rows(rows: Iterable[Mapping[str, Any]]) -> Iterator[Entry]:
    """Entries from exported JSON objects (`onebar audit export`), for offline verification."""
    from onebar.audit.chain import canonical_payload as canon

    for number, obj in enumerate(rows, 1):
        try:
            actor = obj["actor"]
            payload = obj.get("payload")
            yield Entry(
                seq=int(obj["seq"]),
                at=str(obj["at"]),
                actor=Actor(actor.get("person"), actor.get("token"), actor.get("org"), str(actor.get("via"))),
                action=str(obj["action"]),
                target=str(obj["target"]),
                outcome=str(obj["outcome"]),
                payload=None if payload is None else canon(payload),
                payload_sha256=str(obj["payload_sha256"]),
                prev_hash=str(obj["prev_hash"]),
                hash=str(obj["hash"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"line {number} is not an exported audit entry ({exc!r})", field="from_file") from None
