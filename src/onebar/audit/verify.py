"""Verifying the audit log end to end: every entry's hash, every link, every signed checkpoint.

The walk follows CloudTrail's log-file validation (recompute each hash, follow the previous-hash
links, check each signed digest) with RFC 6962 tree heads in the checkpoints. A problem names the
first entry it concerns by sequence number and says what most likely happened to it: edited,
deleted, inserted, reordered, or rewritten with recomputed hashes (caught by a checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from onebar.audit.chain import GENESIS, Entry, Frontier, hash_of, sha256_hex
from onebar.audit.checkpoint import Checkpoint, checkpoints, parse_checkpoint
from onebar.audit.keys import VerifierKey
from onebar.audit.log import entries, to_entry
from onebar.store.schema_access import audit_entries

MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the log, at the first entry it concerns."""

    seq: int
    kind: str  # edited | deleted | inserted | reordered | rewritten | truncated | checkpoint | signature
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass
class Verification:
    """What `onebar audit verify` found."""

    entries: int = 0
    first_seq: int = 1
    checkpoints: int = 0
    signed_through: int = 0  # the largest size of a checkpoint whose signature and tree head both hold
    key: str | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchecked_signatures: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unchecked_signatures

    @property
    def first_bad(self) -> int | None:
        return min((p.seq for p in self.problems), default=None)

    def add(self, seq: int, kind: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS and all(p.seq != seq for p in self.problems):
            self.problems.append(Problem(seq, kind, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_seq": self.first_seq,
            "checkpoints": self.checkpoints,
            "signed_through": self.signed_through,
            "unchecked_signatures": self.unchecked_signatures,
            "key": self.key,
            "first_bad": self.first_bad,
            "problems": [p.to_dict() for p in sorted(self.problems, key=lambda p: p.seq)],
            "notes": self.notes,
        }


def verify(conn: Connection, key: VerifierKey | None, kept: list[str] | None = None) -> Verification:
    """Verify the log stored behind `conn` (read only).

    `kept`: checkpoint notes kept away from the database (`onebar audit export --checkpoints`); they
    are checked with the stored ones, so that deleting the newest checkpoints with the entries they
    cover, or replacing one, no longer goes unnoticed.
    """

    def find(h: str) -> Entry | None:
        r = conn.execute(select(audit_entries).where(audit_entries.c.hash == h)).first()
        return to_entry(r) if r else None

    out = Verification()
    notes = _merge(checkpoints(conn), kept or [], out)
    return verify_entries(entries(conn), notes, key, find, out=out)


def verify_export(rows: list[Entry], notes: list[str], key: VerifierKey | None) -> Verification:
    """Verify an export (`onebar audit export`, and `--checkpoints` for the notes) with no database.

    An export that starts after entry 1 (`--since`) is checked from its first entry on, trusting
    that entry's link; the checkpoints need the whole log.
    """
    by_hash = {e.hash: e for e in rows}
    ordered = sorted(rows, key=lambda e: e.seq)
    partial = bool(ordered) and ordered[0].seq > 1 and not notes
    return verify_entries(ordered, notes, key, by_hash.get, partial=partial)


def _merge(stored: list[str], kept: list[str], out: Verification) -> list[str]:
    """The stored checkpoints and the kept copies, one per size; a size with two different notes is a problem."""
    from onebar.audit.checkpoint import parse_checkpoint

    by_size: dict[int, str] = {}
    for note in stored:
        try:
            by_size[parse_checkpoint(note)[0].size] = note
        except ValueError:
            by_size[-len(by_size) - 1] = note  # unparsable: reported by the walk
    for note in kept:
        try:
            size = parse_checkpoint(note)[0].size
        except ValueError:
            out.add(0, "checkpoint", "a kept checkpoint is not a checkpoint note")
            continue
        if size in by_size and by_size[size] != note:
            out.add(size, "checkpoint", f"checkpoint at entry {size} differs from the copy kept outside the store")
        by_size.setdefault(size, note)
    return [by_size[s] for s in sorted(by_size)]


def verify_entries(
    rows: Iterable[Entry],
    notes: list[str],
    key: VerifierKey | None,
    find: Callable[[str], Entry | None],
    *,
    partial: bool = False,
    out: Verification | None = None,
) -> Verification:
    """The walk itself, over entries in sequence order; `find` looks an entry up by its stored hash."""
    out = out or Verification()
    out.key = key.vkey() if key else None
    cps = _checkpoints(notes, key, out)
    frontier = Frontier()
    expected, prev = 1, GENESIS
    pending = iter(cps)
    cp = next(pending, None)
    last_anchor = 0  # entries up to here are proven by a checkpoint
    redacted = 0
    first = True
    for e in rows:
        if first:
            first = False
            out.first_seq = e.seq
            if partial:
                # A partial export (--since): trust its first link, check from there.
                expected, prev = e.seq, e.prev_hash
                out.notes.append(f"partial log: starts at entry {e.seq}; earlier entries and checkpoints not checked")
        out.entries += 1
        skip_link = False
        if e.seq > expected:
            gone = f"entry {expected}" if e.seq == expected + 1 else f"entries {expected}-{e.seq - 1}"
            out.add(expected, "deleted", f"{gone} deleted: the log jumps from {expected - 1} to {e.seq}")
            skip_link = True
        if e.payload is None:
            redacted += 1
        elif sha256_hex(e.payload.encode("utf-8")) != e.payload_sha256:
            out.add(e.seq, "edited", f"entry {e.seq} was edited: its payload no longer matches its digest")
        if hash_of(e) != e.hash:
            _diagnose(e, find, out)
        elif e.prev_hash != prev and not skip_link:
            out.add(
                e.seq - 1,
                "edited",
                f"entry {e.seq - 1} was changed and its hash recomputed: entry {e.seq} still names the original",
            )
        if out.first_seq == 1:
            frontier.append(e.hash)
        while cp is not None and cp.size <= e.seq:
            if cp.size == e.seq and out.first_seq == 1:
                last_anchor = _check_anchor(cp, frontier, e, last_anchor, out)
            cp = next(pending, None)
        expected, prev = e.seq + 1, e.hash
    if redacted:
        out.notes.append(f"{redacted} entries have their payload redacted (their digests are still chained)")
    last = expected - 1
    for c in [cp, *pending] if cp is not None else []:
        if c.size > last:
            out.add(
                last + 1,
                "truncated",
                f"entries {last + 1}-{c.size} deleted: the checkpoint signed at {c.at} covers {c.size} entries",
            )
            break
    if not cps:
        out.notes.append("no checkpoints: the chain holds, but a full rewrite or a cut tail would go unnoticed")
    elif last > max(c.size for c in cps):
        out.notes.append(f"entries after {max(c.size for c in cps)} are not yet covered by a signed checkpoint")
    return out


def _checkpoints(notes: list[str], key: VerifierKey | None, out: Verification) -> list[Checkpoint]:
    """Parse the notes, check signatures and the chain of checkpoints; return them by size."""
    parsed: list[Checkpoint] = []
    for note in notes:
        try:
            cp, signed, why = parse_checkpoint(note, key)
        except ValueError as exc:
            out.add(0, "checkpoint", f"a stored checkpoint is not a checkpoint note: {exc}")
            continue
        parsed.append(cp)
        if key is None:
            out.unchecked_signatures += 1
        elif not signed:
            out.add(cp.size, "signature", f"checkpoint at entry {cp.size} ({cp.at}): {why}")
    parsed.sort(key=lambda c: c.size)
    out.checkpoints = len(parsed)
    if key is None and parsed:
        out.notes.append(
            f"{len(parsed)} checkpoint signatures not checked: no verifier key "
            "(give --public-key or set ONEBAR_AUDIT_PUBLIC_KEY)"
        )
    before = "none"
    for cp in parsed:
        if cp.prev != before:
            out.add(
                cp.size,
                "checkpoint",
                f"checkpoint at entry {cp.size}: the checkpoint before it is missing or was altered",
            )
        before = cp.digest
    return parsed


def _check_anchor(cp: Checkpoint, frontier: Frontier, e: Entry, last_anchor: int, out: Verification) -> int:
    """Compare the recomputed tree and chain heads with a checkpoint; returns the new anchored size."""
    if frontier.root() == cp.root and e.hash == cp.head:
        if not any(p.seq == cp.size and p.kind == "signature" for p in out.problems) and out.key:
            out.signed_through = cp.size
        return cp.size
    if not any(last_anchor < p.seq <= cp.size for p in out.problems):
        out.add(
            last_anchor + 1,
            "rewritten",
            f"entries {last_anchor + 1}-{cp.size} differ from the checkpoint signed at {cp.at}: "
            "rewritten with recomputed hashes (the first changed entry is in that range)",
        )
    return last_anchor


def _diagnose(e: Entry, find: Callable[[str], Entry | None], out: Verification) -> None:
    """An entry whose hash does not match its fields: moved (inserted, deleted, reordered) or edited."""
    s = e.seq
    after = _position_after_predecessor(e, find)
    if after is not None and after != s and hash_of(e, seq=after) == e.hash:
        # Its predecessor is still in the log, so nothing was lost: the entry was moved.
        if after == s - 1:
            out.add(s - 1, "inserted", f"an entry was inserted at {s - 1}: entry {s} was entry {s - 1}")
        else:
            out.add(s, "reordered", f"entry {s} holds what was entry {after}: entries were reordered")
        return
    if hash_of(e, seq=s + 1) == e.hash:
        out.add(s, "deleted", f"entry {s} deleted and the later entries renumbered")
    elif hash_of(e, seq=s - 1) == e.hash:
        out.add(s - 1, "inserted", f"an entry was inserted at {s - 1}: entry {s} was entry {s - 1}")
    else:
        out.add(s, "edited", f"entry {s} was edited: its fields no longer match its hash")


def _position_after_predecessor(e: Entry, find: Callable[[str], Entry | None]) -> int | None:
    """Where `e` stood when written: right after the entry it names as previous, wherever that is now."""
    if e.prev_hash == GENESIS:
        return 1
    before = find(e.prev_hash)
    if before is None:
        return None
    for c in (before.seq, before.seq - 1, before.seq + 1):
        if hash_of(before, seq=c) == before.hash:
            return c + 1
    return None
