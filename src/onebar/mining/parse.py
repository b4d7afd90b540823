"""Parsing the miner's `git log` stream: pure functions from bytes to commit records.

One record per commit, started by RS (0x1e); header fields separated by US (0x1f); then, with
`-z --raw --numstat`, NUL-separated raw entries (":modes shas STATUS", path) and numstat entries
("added<TAB>deleted<TAB>path"; "-" for binary files), or with `-z --name-status` (status, path) pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from onebar.git import decode_text

RS, US = b"\x1e", b"\x1f"
_US = "\x1f"

# The fields asked of git, in order; %aN/%aE apply .mailmap; %e is the commit's declared encoding.
LOG_FORMAT = (
    "%x1e"
    + "%x1f".join(
        [
            "%H",
            "%P",
            "%aN",
            "%aE",
            "%at",
            "%ai",
            "%cN",
            "%cE",
            "%ct",
            "%ci",
            "%e",
            "%s",
            "%(trailers:only,unfold)",
            "%b",
        ]
    )
    + "%x1f"
)
_FIELDS = 14

_REVERT = re.compile(r"This reverts commit ([0-9a-fA-F]{7,64})")


@dataclass(slots=True)
class FileChange:
    path: str
    status: str  # A, M, D, T
    added: int | None = None
    deleted: int | None = None
    binary: bool = False


@dataclass(slots=True)
class MinedCommit:
    """One commit as the miner read it; `lines_unknown` when git could not read its blobs."""

    sha: str
    parents: list[str]
    author: tuple[str, str]
    authored_at: int
    author_tz: int
    committer: tuple[str, str]
    committed_at: int
    committer_tz: int
    subject: str
    trailers: list[tuple[str, str]]
    revert_of: str | None
    files: list[FileChange] = field(default_factory=list)
    lines_unknown: bool = False


@lru_cache(maxsize=512)
def _offset(off: str) -> int:
    try:
        sign = -1 if off[:1] == "-" else 1
        return sign * (int(off[1:3]) * 60 + int(off[3:5]))
    except ValueError:
        return 0


def _tz_minutes(iso: str) -> int:
    """'2005-04-07 15:13:13 -0700' -> -420 (few distinct offsets, so cached)."""
    return _offset(iso[-5:])


_TRAILER = re.compile(r"^[ \t]*([^\s:]+)[ \t]*:[ \t]*(.*?)[ \t]*$", re.MULTILINE)


def parse_trailers(block: str) -> list[tuple[str, str]]:
    """Git's own trailer block (one 'Key: value' per line, already unfolded) as (lower key, value)."""
    return [(key.lower(), value) for key, value in _TRAILER.findall(block)]


def parse_record(record: bytes, name_status: bool = False) -> MinedCommit | None:
    """One commit record (without its leading RS); None for a fragment that is not a commit.

    The file section is `--raw --numstat` output, or with `name_status` `--name-status` output.
    Names and messages that are not UTF-8 are decoded with the commit's declared encoding, else as
    cp1252 (onebar.git.decode_text); paths that are not UTF-8 get U+FFFD rather than an error."""
    try:
        # One decode per record: the separators are ASCII, so no character can straddle two fields.
        parts = record.decode("utf-8").split(_US, _FIELDS)
    except UnicodeDecodeError:
        raw = record.split(US, _FIELDS)
        enc = raw[10].decode("ascii", "replace") if len(raw) > 10 else ""
        parts = [decode_text(f, enc) for f in raw[:_FIELDS]]
        if len(raw) > _FIELDS:
            parts.append(raw[_FIELDS].decode("utf-8", "replace"))
    if len(parts) < _FIELDS or len(parts[0]) < 40:
        return None
    sha, parents, an, ae, at, ai, cn, ce, ct, ci, _enc, subject, trailers, body = parts[:_FIELDS]
    revert = _REVERT.search(body) if "reverts commit" in body else None
    commit = MinedCommit(
        sha=sha,
        parents=parents.split(),
        author=(an, ae.lower()),
        authored_at=int(at or 0),
        author_tz=_tz_minutes(ai),
        committer=(cn, ce.lower()),
        committed_at=int(ct or 0),
        committer_tz=_tz_minutes(ci),
        subject=subject,
        trailers=parse_trailers(trailers) if trailers else [],
        revert_of=revert.group(1).lower() if revert else None,
    )
    if len(parts) > _FIELDS:
        section = parts[_FIELDS]
        commit.files = parse_name_status(section) if name_status else parse_changes(section)
    return commit


def parse_changes(section: str) -> list[FileChange]:
    """The NUL-separated raw (+ numstat) section of one commit."""
    tokens = section.lstrip("\0\n").split("\0")
    changes: dict[str, FileChange] = {}
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok[:1] == ":":
            path = tokens[i + 1] if i + 1 < n else ""
            changes[path] = FileChange(path, tok[-1])
            i += 2
            continue
        fields = tok.split("\t", 2)
        if len(fields) == 3:
            added, deleted, path = fields
            fc = changes.get(path)
            if fc is not None:
                if added == "-":
                    fc.binary = True
                else:
                    fc.added, fc.deleted = int(added), int(deleted)
        i += 1
    return list(changes.values())


def parse_name_status(section: str) -> list[FileChange]:
    """The NUL-separated `--name-status -z` section: status, path, status, path..."""
    tokens = section.lstrip("\0\n").split("\0")
    return [FileChange(tokens[i + 1], tokens[i][0]) for i in range(0, len(tokens) - 1, 2) if tokens[i]]


def iter_records(chunks: Iterable[bytes], name_status: bool = False) -> Iterator[MinedCommit]:
    """Split a stream of byte chunks into commits, holding at most one partial record in memory."""
    rest = b""
    for chunk in chunks:
        pieces = (rest + chunk).split(RS)
        rest = pieces.pop()
        for piece in pieces:
            commit = parse_record(piece, name_status)
            if commit is not None:
                yield commit
    if rest:
        commit = parse_record(rest, name_status)
        if commit is not None:
            yield commit
