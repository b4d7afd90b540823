"""Facts kept up to date at the end of every ingest, so a report aggregates instead of recomputing.

Both kinds are independent of the charter (identities stay ids; the report resolves them) and live
in the tables of `onebar.store.schema_report`:

- **Commit blocks**: the commits as columns, a block of consecutive commit ids at a time (ids,
  identities, times, parents as commit ids, the key a commit shares with its cherry-picks, the
  shas, and sparse facts: octopus parents, reverts, the shas `Fixes:` trailers name). Commit ids
  only grow, so `report_state.facts_until` says how far the blocks go and the next ingest
  continues from there, a whole block per transaction, even after an interrupted run.
- **Head facts**, for the head the report reads knowledge and review from: the commits it reaches
  with the mainline commit that brought each in (`head_blocks`), and per file and identity how
  often those commits added, modified and deleted it (`file_authorship`). When the head moves
  forward along its first parents only the new commits are added; any other move (a force-push,
  a branch switch) rebuilds them. The head they describe is recorded in the same transaction, so
  the report can tell whether they are current.

`update` runs once the ingest has stored every batch and the ref tips; when nothing changed it
costs two small queries.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Connection, Row, delete, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import DBAPIError

from onebar.store.db import Store
from onebar.store.schema import commits, trailers
from onebar.store.schema_report import commit_blocks, file_authorship, head_blocks, report_state

BLOCK_SIZE = 20_000  # commits per block: a transaction at ingest, a row the report reads
IN_LIST = 500  # values per IN (...) list
# One record per commit. Parents are commit ids, -1 for none; a third and later parent is sparse.
BLOCK = np.dtype(
    [
        ("id", "<i8"),
        ("author", "<i8"),  # identity ids
        ("committer", "<i8"),
        ("authored_at", "<i8"),
        ("author_tz", "<i4"),  # minutes east of UTC
        ("committed_at", "<i8"),
        ("parent1", "<i8"),
        ("parent2", "<i8"),
        ("patch", "<i8"),  # equal for a commit and its cherry-picks
    ]
)
# "Fixes: 1a2b3c4d5e6f ("subject")" as the kernel and git write it; the sha must come first, so an
# issue URL or "#1234567" is never mistaken for a commit.
FIXES_SHA = re.compile(r"^\s*(?:commit\s+)?([0-9a-f]{7,64})\b")


@dataclass(frozen=True)
class State:
    facts_until: int  # the blocks cover every commit id up to this
    head_sha: str | None  # the head the head facts describe
    head_id: int | None
    head_until: int  # facts_until when the head facts were last brought up to date


@dataclass
class Block:
    """Consecutive commits of one repository as columns, with their sparse facts."""

    records: np.ndarray  # dtype BLOCK
    shas: np.ndarray  # dtype S40 or S64: ASCII hex
    more: dict[int, list[int]] = field(default_factory=dict)  # position -> third and later parents (ids)
    reverts: dict[int, str] = field(default_factory=dict)  # position -> sha (maybe abbreviated) it reverts
    fixes: dict[int, list[str]] = field(default_factory=dict)  # position -> shas its Fixes: trailers name
    missing: int = 0  # parents named but not stored

    def row(self, repo_id: int) -> dict[str, object]:
        sparse = {"more": self.more, "reverts": self.reverts, "fixes": self.fixes}
        return {
            "repo_id": repo_id,
            "first_id": int(self.records["id"][0]),
            "last_id": int(self.records["id"][-1]),
            "size": len(self.records),
            "missing": self.missing,
            "columns": self.records.tobytes(),
            "shas": self.shas.tobytes(),
            "sha_width": self.shas.dtype.itemsize,
            "sparse": json.dumps({k: v for k, v in sparse.items() if v}, separators=(",", ":")),
        }

    @classmethod
    def from_row(cls, columns: bytes, shas: bytes, width: int, sparse: str, missing: int = 0) -> Block:
        data = json.loads(sparse)
        return cls(
            np.frombuffer(columns, dtype=BLOCK),
            np.frombuffer(shas, dtype=f"S{width}"),
            {int(k): v for k, v in data.get("more", {}).items()},
            {int(k): v for k, v in data.get("reverts", {}).items()},
            {int(k): v for k, v in data.get("fixes", {}).items()},
            missing,
        )


def patch_key(author_id: int, authored_at: int, subject: str) -> int:
    """A signed 64-bit key equal for commits with the same author identity, author time and subject."""
    raw = f"{author_id}\0{authored_at}\0{subject}".encode("utf-8", "surrogateescape")
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big", signed=True)


def read_state(conn: Connection, repo_id: int) -> State:
    row = conn.execute(select(report_state).where(report_state.c.repo_id == repo_id)).first()
    if row is None:
        return State(0, None, None, 0)
    return State(int(row.facts_until), row.head_sha, row.head_id, int(row.head_until))


def last_commit_id(conn: Connection, repo_id: int, after: int = 0) -> int:
    """The highest id of the repository's commits above `after`; `after` when there is none."""
    # Newest first down to `after`, and stop at the first: commit ids only grow, so this reads one row
    # when the repository's commits were the last stored, and never more than the rows stored since
    # `after`. `+ 0` keeps SQLite off the (repository, time) index, whose walk of every commit of the
    # repository, then a sort, it would otherwise choose (20 ms at 100,000 commits).
    q = (
        select(commits.c.id)
        .where(commits.c.id > after, commits.c.repo_id + 0 == repo_id)
        .order_by(commits.c.id.desc())
        .limit(1)
    )
    found = conn.execute(q).scalar()
    return after if found is None else int(found)


def update(store: Store, repo_id: int, head_sha: str | None) -> None:
    """Bring the repository's commit blocks and head facts up to date with the store and `head_sha`.

    A store that cannot be written is left as it is: the report then computes what is missing.
    """
    try:
        with store.read() as conn:
            state = read_state(conn, repo_id)
            top = last_commit_id(conn, repo_id, after=min(state.facts_until, state.head_until))
        if state.facts_until < top:
            _extend_blocks(store, repo_id, state.facts_until, top)
        if state.head_sha != head_sha or state.head_until < top:
            _update_head(store, repo_id, head_sha)
    except DBAPIError as exc:
        if not _read_only(exc):
            raise


def _read_only(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "readonly" in text or "read-only" in text or "read only" in text


# Commit blocks


COMMIT_COLUMNS = [
    commits.c.id,
    commits.c.sha,
    commits.c.parents,
    commits.c.author_id,
    commits.c.committer_id,
    commits.c.authored_at,
    commits.c.author_tz,
    commits.c.committed_at,
    commits.c.subject,
    commits.c.revert_of,
]


def compute_blocks(conn: Connection, repo_id: int, after: int, upto: int) -> Iterator[Block]:
    """The blocks of the repository's commits with after < id <= upto, computed from the stored commits.

    What `update` writes; the report also uses it directly on what a store does not hold yet.
    """
    c = commits
    lo = after
    while lo < upto:
        rows = conn.execute(
            select(*COMMIT_COLUMNS)
            .where(c.c.repo_id == repo_id, c.c.id > lo, c.c.id <= upto)
            .order_by(c.c.id)
            .limit(BLOCK_SIZE)
        ).all()
        if not rows:
            return
        yield _block(conn, repo_id, rows)
        lo = rows[-1].id


def _block(conn: Connection, repo_id: int, rows: Sequence[Row[Any]]) -> Block:
    ids = {r.sha: r.id for r in rows}
    wanted = {p for r in rows for p in r.parents.split() if p not in ids}
    ids.update(_ids_of(conn, repo_id, wanted))
    records = np.zeros(len(rows), dtype=BLOCK)
    block = Block(records, np.array([r.sha for r in rows], dtype=f"S{max(len(r.sha) for r in rows)}"))
    for pos, r in enumerate(rows):
        named = r.parents.split()
        parents = [ids[p] for p in named if p in ids]
        block.missing += len(named) - len(parents)
        records[pos] = (
            r.id,
            r.author_id,
            r.committer_id,
            r.authored_at,
            r.author_tz,
            r.committed_at,
            parents[0] if parents else -1,
            parents[1] if len(parents) > 1 else -1,
            patch_key(r.author_id, r.authored_at, r.subject),
        )
        if len(parents) > 2:
            block.more[pos] = parents[2:]
        if r.revert_of:
            block.reverts[pos] = r.revert_of
    first, last = rows[0].id, rows[-1].id
    fixes = conn.execute(
        select(trailers.c.commit_id, trailers.c.value)
        .where(trailers.c.commit_id >= first, trailers.c.commit_id <= last, trailers.c.key == "fixes")
        .order_by(trailers.c.commit_id)
    ).all()
    at = {r.id: pos for pos, r in enumerate(rows)}
    for cid, value in fixes:
        m = FIXES_SHA.match(value.lower())
        if cid in at and m:
            block.fixes.setdefault(at[cid], []).append(m.group(1))
    return block


def _ids_of(conn: Connection, repo_id: int, shas: set[str]) -> dict[str, int]:
    todo = sorted(shas)
    out: dict[str, int] = {}
    for i in range(0, len(todo), IN_LIST):
        q = select(commits.c.sha, commits.c.id).where(
            commits.c.repo_id == repo_id, commits.c.sha.in_(todo[i : i + IN_LIST])
        )
        out.update((r.sha, r.id) for r in conn.execute(q))
    return out


def _extend_blocks(store: Store, repo_id: int, start: int, top: int) -> None:
    expected = start
    with store.read() as conn:
        for block in compute_blocks(conn, repo_id, start, top):
            with store.write() as wconn:
                if read_state(wconn, repo_id).facts_until != expected:
                    return  # another ingest is writing the same commits' facts
                _append(wconn, repo_id, block)
                expected = int(block.records["id"][-1])
                _set_state(wconn, repo_id, facts_until=expected)
    _refresh_missing(store, repo_id)


def _append(conn: Connection, repo_id: int, block: Block) -> None:
    """Store `block`, filling up the repository's last block first when both fit in one."""
    last = conn.execute(
        select(commit_blocks)
        .where(commit_blocks.c.repo_id == repo_id)
        .order_by(commit_blocks.c.first_id.desc())
        .limit(1)
    ).first()
    if last is not None and last.size + len(block.records) <= BLOCK_SIZE:
        old = Block.from_row(last.columns, last.shas, last.sha_width, last.sparse, last.missing)
        block = _join(old, block)
        conn.execute(
            delete(commit_blocks).where(commit_blocks.c.repo_id == repo_id, commit_blocks.c.first_id == last.first_id)
        )
    conn.execute(insert(commit_blocks).values(**block.row(repo_id)))


V = TypeVar("V")


def _join(a: Block, b: Block) -> Block:
    n = len(a.records)
    width = max(a.shas.dtype.itemsize, b.shas.dtype.itemsize)

    def shifted(d: Mapping[int, V]) -> dict[int, V]:
        return {pos + n: v for pos, v in d.items()}

    return Block(
        np.concatenate([a.records, b.records]),
        np.concatenate([a.shas.astype(f"S{width}"), b.shas.astype(f"S{width}")]),
        {**a.more, **shifted(b.more)},
        {**a.reverts, **shifted(b.reverts)},
        {**a.fixes, **shifted(b.fixes)},
        a.missing + b.missing,
    )


def _refresh_missing(store: Store, repo_id: int) -> None:
    """Blocks naming parents that were not stored yet (a shallow clone being deepened) are recomputed."""
    with store.write() as conn:
        rows = conn.execute(
            select(commit_blocks.c.first_id, commit_blocks.c.last_id).where(
                commit_blocks.c.repo_id == repo_id, commit_blocks.c.missing > 0
            )
        ).all()
        for first, last in rows:
            fresh = list(compute_blocks(conn, repo_id, first - 1, last))
            if len(fresh) != 1 or fresh[0].missing == _missing_of(conn, repo_id, first):
                continue
            conn.execute(
                delete(commit_blocks).where(commit_blocks.c.repo_id == repo_id, commit_blocks.c.first_id == first)
            )
            conn.execute(insert(commit_blocks).values(**fresh[0].row(repo_id)))


def _missing_of(conn: Connection, repo_id: int, first: int) -> int:
    b = commit_blocks
    return int(conn.execute(select(b.c.missing).where(b.c.repo_id == repo_id, b.c.first_id == first)).scalar_one())


def load_blocks(conn: Connection, repo_id: int) -> list[Block]:
    """Every stored block of the repository, in commit id order."""
    b = commit_blocks
    rows = conn.execute(
        select(b.c.columns, b.c.shas, b.c.sha_width, b.c.sparse, b.c.missing)
        .where(b.c.repo_id == repo_id)
        .order_by(b.c.first_id)
    )
    return [Block.from_row(*r) for r in rows]


# Head facts


def _update_head(store: Store, repo_id: int, head_sha: str | None) -> None:
    with store.write() as conn:
        state = read_state(conn, repo_id)
        top = state.facts_until
        if state.head_sha == head_sha and state.head_until >= top:
            return  # another ingest got here first
        graph = Graph(load_blocks(conn, repo_id))
        head = graph.position(_id_of(conn, repo_id, head_sha))
        added = None
        if state.head_sha is not None:
            reached = graph.mask(load_head(conn, repo_id)[0])
            added = graph.extend(head, graph.position(state.head_id), reached)
        if added is None:  # first time, or the head did not move forward along its first parents
            conn.execute(delete(head_blocks).where(head_blocks.c.repo_id == repo_id))
            conn.execute(delete(file_authorship).where(file_authorship.c.repo_id == repo_id))
            added = graph.extend(head, -1, np.zeros(len(graph.ids), dtype=bool)) or {}
        if added:
            reached_ids = graph.ids[np.fromiter(added, dtype=np.int64, count=len(added))]
            merged_ids = graph.ids[np.fromiter(added.values(), dtype=np.int64, count=len(added))]
            seq = conn.execute(
                select(func.coalesce(func.max(head_blocks.c.seq), 0)).where(head_blocks.c.repo_id == repo_id)
            ).scalar_one()
            conn.execute(
                insert(head_blocks).values(
                    repo_id=repo_id, seq=int(seq) + 1, commit_ids=reached_ids.tobytes(), merged_by=merged_ids.tobytes()
                )
            )
            _add_authorship(conn, repo_id, reached_ids)
        head_id = int(graph.ids[head]) if head >= 0 else None
        _set_state(conn, repo_id, head_sha=head_sha if head_id is not None else None, head_id=head_id, head_until=top)


def load_head(conn: Connection, repo_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(commit ids, the mainline commit id that brought each in) of the recorded head."""
    rows = conn.execute(
        select(head_blocks.c.commit_ids, head_blocks.c.merged_by)
        .where(head_blocks.c.repo_id == repo_id)
        .order_by(head_blocks.c.seq)
    ).all()
    ids = [np.frombuffer(r.commit_ids, dtype="<i8") for r in rows]
    merged = [np.frombuffer(r.merged_by, dtype="<i8") for r in rows]
    empty = np.empty(0, dtype=np.int64)
    return np.concatenate([empty, *ids]), np.concatenate([empty, *merged])


def _id_of(conn: Connection, repo_id: int, sha: str | None) -> int | None:
    if sha is None:
        return None
    found = conn.execute(select(commits.c.id).where(commits.c.repo_id == repo_id, commits.c.sha == sha)).scalar()
    return None if found is None else int(found)


class Graph:
    """The stored commit graph of one repository by position (commit id order)."""

    def __init__(self, blocks: list[Block]):
        records = np.concatenate([np.empty(0, dtype=BLOCK), *(b.records for b in blocks)])
        self.ids: np.ndarray = records["id"]
        self.p1: list[int] = self.positions(records["parent1"]).tolist()
        self.p2: list[int] = self.positions(records["parent2"]).tolist()
        self.more: dict[int, list[int]] = {}
        offset = 0
        for b in blocks:
            for pos, extra in b.more.items():
                self.more[offset + pos] = self.positions(np.array(extra, dtype=np.int64)).tolist()
            offset += len(b.records)

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Positions of commit ids (-1 for -1 or an id not here)."""
        if not len(self.ids):
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        out: np.ndarray = np.where(self.ids[pos] == ids, pos, -1)
        return out

    def position(self, commit_id: int | None) -> int:
        return -1 if commit_id is None else int(self.positions(np.array([commit_id], dtype=np.int64))[0])

    def mask(self, ids: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.ids), dtype=bool)
        pos = self.positions(ids)
        out[pos[pos >= 0]] = True
        return out

    def parents(self, c: int) -> list[int]:
        a = self.p1[c]
        if a < 0:
            return []
        b = self.p2[c]
        return [a] if b < 0 else [a, b, *self.more.get(c, ())]

    def extend(self, head: int, old_head: int, reached: np.ndarray) -> dict[int, int] | None:
        """Commits `head` reaches that are not `reached` (what `old_head` reaches), each with the mainline
        commit that brought it in; None when `old_head` is not on `head`'s first-parent chain."""
        chain: list[int] = []
        c = head
        while c >= 0 and not reached[c]:
            chain.append(c)
            c = self.p1[c]
        if c != old_head:
            return None
        owner: dict[int, int] = {}
        for m in reversed(chain):  # oldest first: a commit belongs to the earliest merge reaching it
            owner.setdefault(m, m)
            stack = self.parents(m)[1:]
            while stack:
                x = stack.pop()
                if x in owner or reached[x]:
                    continue
                owner[x] = m
                stack.extend(p for p in self.parents(x) if p not in owner)
        return owner


def _add_authorship(conn: Connection, repo_id: int, added: np.ndarray) -> None:
    """Add the file changes of the commits just added to the head facts to `file_authorship`."""
    # The commits go to a temporary table so that the database joins and counts in one statement.
    conn.exec_driver_sql("CREATE TEMPORARY TABLE IF NOT EXISTS onebar_added (commit_id BIGINT PRIMARY KEY)")
    conn.exec_driver_sql("DELETE FROM onebar_added")
    _bulk(conn, "onebar_added", ["commit_id"], [(int(c),) for c in np.sort(added)])
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        "INSERT INTO file_authorship (repo_id, path, identity_id, adds, mods, dels) "
        f"SELECT {mark}, fc.path, c.author_id, "
        "SUM(CASE WHEN fc.status = 'A' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN fc.status NOT IN ('A', 'D') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN fc.status = 'D' THEN 1 ELSE 0 END) "
        "FROM onebar_added a JOIN file_changes fc ON fc.commit_id = a.commit_id "
        "JOIN commits c ON c.id = a.commit_id WHERE 1 = 1 GROUP BY fc.path, c.author_id "
        "ON CONFLICT (repo_id, path, identity_id) DO UPDATE SET adds = file_authorship.adds + excluded.adds, "
        "mods = file_authorship.mods + excluded.mods, dels = file_authorship.dels + excluded.dels",
        (repo_id,),
    )
    conn.exec_driver_sql("DELETE FROM onebar_added")


def _set_state(conn: Connection, repo_id: int, **values: object) -> None:
    found = conn.execute(select(report_state.c.repo_id).where(report_state.c.repo_id == repo_id)).first()
    if found is None:
        conn.execute(insert(report_state).values(repo_id=repo_id, **values))
    else:
        conn.execute(sql_update(report_state).where(report_state.c.repo_id == repo_id).values(**values))


def _bulk(conn: Connection, table: str, columns: list[str], rows: list[tuple[object, ...]]) -> None:
    """executemany straight on the driver (as the ingest's batches are written)."""
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cols = ", ".join(f'"{c}"' for c in columns)
    conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) VALUES ({', '.join([mark] * len(columns))})", rows)
