"""The hashing of the audit log: canonical entries, the hash chain and RFC 6962 Merkle tree heads.

An entry's hash is the RFC 6962 leaf hash of its canonical JSON encoding (RFC 8785), which names
the previous entry's hash; so the chain and the Merkle tree share one hash per entry. The tree
head signed in checkpoints is RFC 6962's MTH over those leaves, kept as a compact frontier.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import rfc8785

from onebar.errors import UsageError

GENESIS = "0" * 64  # the "previous hash" of entry 1
FORMAT_VERSION = 1
_LEAF, _NODE = b"\x00", b"\x01"  # RFC 6962 domain separation


@dataclass(frozen=True)
class Actor:
    """Who did it: a person, through a token, for an organisation; `via` the face that carried it."""

    person: str | None = None
    token: str | None = None  # a token id, never the secret
    org: str | None = None
    via: str = "cli"

    @classmethod
    def system(cls, via: str = "job") -> Actor:
        """onebar itself (a scheduled sweep, an ingest): no person, token or organisation."""
        return cls(via=via)

    def to_dict(self) -> dict[str, str | None]:
        return {"org": self.org, "person": self.person, "token": self.token, "via": self.via}


@dataclass(frozen=True)
class Entry:
    """One audit entry as stored: its fields, the digest of its payload and the two chain hashes."""

    seq: int
    at: str
    actor: Actor
    action: str
    target: str
    outcome: str
    payload: str | None  # canonical JSON text; None once redacted (the digest stays in the chain)
    payload_sha256: str
    prev_hash: str
    hash: str

    def payload_data(self) -> Any:
        return None if self.payload is None else json.loads(self.payload)

    def to_dict(self) -> dict[str, Any]:
        """The export and API shape: one JSON object per entry (the payload as JSON, not text)."""
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor.to_dict(),
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "payload": self.payload_data(),
            "payload_sha256": self.payload_sha256,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def format_time(at: datetime) -> str:
    """UTC with microseconds and a Z: one spelling per instant, so it hashes the same everywhere."""
    if at.tzinfo is None:
        raise UsageError("an audit time must carry a time zone", field="at")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(value: str | None, field: str) -> datetime | None:
    """A date or ISO 8601 time as an aware datetime (naive means UTC); a UsageError naming `field` if not."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time", field=field) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def canonical_payload(payload: Mapping[str, Any] | None) -> str:
    """The payload's RFC 8785 (JCS) text: the same bytes for the same data, whoever encodes it."""
    try:
        return rfc8785.dumps(dict(payload or {})).decode("utf-8")
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise UsageError(f"the audit payload is not plain JSON data: {exc}", field="payload") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_bytes(
    seq: int, at: str, actor: Actor, action: str, target: str, outcome: str, payload_sha256: str, prev_hash: str
) -> bytes:
    """The canonical encoding the entry hash covers.

    Every value is a string, an integer or null and every key is ASCII, a domain where
    `json.dumps(sort_keys=True)` and RFC 8785 give the same bytes (a property test holds it so);
    the faster one is used because verification re-encodes every entry.
    """
    doc = {
        "action": action,
        "actor": actor.to_dict(),
        "at": at,
        "outcome": outcome,
        "payload_sha256": payload_sha256,
        "prev_hash": prev_hash,
        "seq": seq,
        "target": target,
        "v": FORMAT_VERSION,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def leaf_hash(data: bytes) -> str:
    """RFC 6962 leaf hash: SHA-256(0x00 || data), hex."""
    return hashlib.sha256(_LEAF + data).hexdigest()


def hash_of(entry: Entry, *, seq: int | None = None) -> str:
    """The hash `entry` should carry given its fields (at another position when `seq` is given)."""
    return leaf_hash(
        entry_bytes(
            entry.seq if seq is None else seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.target,
            entry.outcome,
            entry.payload_sha256,
            entry.prev_hash,
        )
    )


class Frontier:
    """An RFC 6962 Merkle tree kept as its perfect subtrees, left to right: O(log n) memory.

    Appending a leaf merges equal-height subtrees like a binary counter; the tree head folds them
    from the right, which is exactly RFC 6962's split at the largest power of two below n.
    """

    def __init__(self, size: int = 0, nodes: list[tuple[int, bytes]] | None = None):
        self.size = size
        self.nodes: list[tuple[int, bytes]] = list(nodes or [])

    def append(self, leaf_hex: str) -> None:
        height, node = 0, bytes.fromhex(leaf_hex)
        nodes = self.nodes
        while nodes and nodes[-1][0] == height:
            node = hashlib.sha256(_NODE + nodes.pop()[1] + node).digest()
            height += 1
        nodes.append((height, node))
        self.size += 1

    def root(self) -> str:
        """The Merkle tree head (MTH) of the leaves so far, hex; SHA-256 of nothing when empty."""
        if not self.nodes:
            return hashlib.sha256(b"").hexdigest()
        acc = self.nodes[-1][1]
        for _, left in reversed(self.nodes[:-1]):
            acc = hashlib.sha256(_NODE + left + acc).digest()
        return acc.hex()

    def dump(self) -> str:
        return ",".join(f"{h}:{node.hex()}" for h, node in self.nodes)

    @classmethod
    def load(cls, size: int, text: str) -> Frontier:
        nodes = [(int(h), bytes.fromhex(n)) for h, n in (part.split(":") for part in text.split(",") if part)]
        return cls(size, nodes)


def merkle_root(leaves: list[str]) -> str:
    """RFC 6962 MTH by its recursive definition (section 2.1): the reference the frontier is tested against."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    left, right = bytes.fromhex(merkle_root(leaves[:k])), bytes.fromhex(merkle_root(leaves[k:]))
    return hashlib.sha256(_NODE + left + right).hexdigest()
