"""Signed checkpoints: the log's size, its RFC 6962 tree head and chain head, signed with Ed25519.

The body is a C2SP checkpoint (https://c2sp.org/tlog-checkpoint): origin, size, base64 root,
then extension lines: the hash of entry `size`, the time, and the digest of the previous
checkpoint's note, so checkpoints chain as CloudTrail's digest files do. Anyone holding only the
verifier key and a copy of the notes kept away from the database can prove that the log was not
rewritten, truncated or reordered up to the last checkpoint.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select

from onebar.audit.chain import GENESIS, Frontier, format_time, hash_of, sha256_hex
from onebar.audit.keys import SignerKey, VerifierKey, open_note, sign_note
from onebar.audit.log import entries, head, lock_chain
from onebar.errors import OnebarError
from onebar.store.schema_access import audit_checkpoints

ORIGIN = "onebar-audit"


class AuditIntegrityError(OnebarError):
    """The log is already broken where a checkpoint would be signed: signing would launder it."""

    http_status = 409


@dataclass(frozen=True)
class Checkpoint:
    """One signed checkpoint as its note states it (the stored columns are only an index)."""

    size: int
    root: str  # hex
    head: str  # hash of entry `size`
    at: str
    prev: str  # sha256 of the previous checkpoint's note, or "none"
    note: str

    @property
    def digest(self) -> str:
        return sha256_hex(self.note.encode("utf-8"))

    def to_dict(self) -> dict[str, object]:
        return {"size": self.size, "root": self.root, "head": self.head, "at": self.at, "note": self.note}


def parse_checkpoint(note: str, key: VerifierKey | None = None) -> tuple[Checkpoint, bool, str]:
    """(checkpoint, signed by key, why not); ValueError when the note is not a checkpoint at all."""
    check = open_note(note, key)
    lines = check.body.split("\n")[:-1]
    if len(lines) < 6:
        raise ValueError("a checkpoint note has origin, size, root, chain, time and prev lines")
    ext = dict(line.split(" ", 1) for line in lines[3:] if " " in line)
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True).hex()
    except (ValueError, binascii.Error):
        raise ValueError("the size or root line is malformed") from None
    if not {"chain", "time", "prev"} <= ext.keys():
        raise ValueError("the chain, time or prev line is missing")
    cp = Checkpoint(size, root, ext["chain"], ext["time"], ext["prev"], note)
    return cp, check.signed, check.reason


def checkpoints(conn: Connection) -> list[str]:
    """Every stored checkpoint note, oldest first."""
    return [str(n) for n in conn.execute(select(audit_checkpoints.c.note).order_by(audit_checkpoints.c.size)).scalars()]


def sign_checkpoint(conn: Connection, key: SignerKey, *, at: datetime | None = None) -> Checkpoint | None:
    """Sign a checkpoint at the log's head, in the caller's transaction; None when nothing is new.

    Only the entries since the previous checkpoint are read: the tree is extended from the
    frontier stored beside it. Those entries are checked first (hash and link), and a broken
    chain is refused rather than signed.
    """
    lock_chain(conn)
    size, head_hash = head(conn)
    last = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.size.desc()).limit(1)).first()
    if size == 0 or (last is not None and int(last.size) >= size):
        return None
    if last is None:
        frontier, prev_hash, prev_note = Frontier(), GENESIS, "none"
    else:
        frontier = Frontier.load(int(last.size), str(last.frontier))
        prev_hash, prev_note = str(last.head), sha256_hex(str(last.note).encode("utf-8"))
    for e in entries(conn, after_seq=frontier.size):
        if e.seq > size:
            break
        if e.seq != frontier.size + 1 or e.prev_hash != prev_hash or hash_of(e) != e.hash:
            raise AuditIntegrityError(
                f"audit entry {frontier.size + 1} does not follow the chain; refusing to sign a checkpoint over it",
                hint="run onebar audit verify",
            )
        frontier.append(e.hash)
        prev_hash = e.hash
    when = format_time(at or datetime.now(UTC))
    root = frontier.root()
    body = (
        f"{ORIGIN}\n{size}\n{base64.b64encode(bytes.fromhex(root)).decode()}\n"
        f"chain {head_hash}\ntime {when}\nprev {prev_note}\n"
    )
    note = sign_note(body, key)
    conn.execute(
        insert(audit_checkpoints).values(
            size=size,
            at=when,
            root=root,
            head=head_hash,
            frontier=frontier.dump(),
            key_id=key.verifier.key_id.hex(),
            note=note,
        )
    )
    return Checkpoint(size, root, head_hash, when, prev_note, note)
