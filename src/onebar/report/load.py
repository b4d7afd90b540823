"""Loading one repository from the store into the metrics' columnar History, a few queries at a time.

The commits come in one ordered query, a chunk of rows at a time, straight into numpy columns; the
per-commit facts kept at ingest (`onebar.mining.facts`) give parents as ids and the cherry-pick
key, so no parent list is parsed and no subject is read for them. Identities are resolved once
each, through the charter, here: never at ingest. What only a window needs (review trailers, the
subjects a hotfix pattern looks at) is read for that window, once it is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from sqlalchemy import Connection, Select, false, select

from onebar.errors import NotFoundError
from onebar.metrics.model import AGENT, BOT, Contributor, History, Window
from onebar.mining import facts
from onebar.report.identity import Resolve, parse_address
from onebar.store import Store
from onebar.store.schema import (
    commits,
    deployments,
    file_changes,
    identities,
    incidents,
    refs,
    repo_identities,
    repositories,
    trailers,
)
from onebar.store.schema import tags as tags_t
from onebar.store.schema_report import file_authorship

# Review trailers: the kernel's and git's own, and the footers Gerrit writes (its reviewnotes).
REVIEW_KEYS = ("reviewed-by", "acked-by", "tested-by", "code-review+2", "code-review+1")
# Gerrit: the change went through review there (Reviewed-on: its URL; Change-Id: its id), by people
# git does not name.
REVIEW_LINKS = ("reviewed-on", "change-id")
_LITERAL = re.compile(r"(?:\(\?i\))?([A-Za-z0-9_ -]+)")  # a pattern that only looks for a word
# "Fixes: 1a2b3c4d5e6f ("subject")" as the kernel and git write it; the sha must come first, so an
# issue URL or "#1234567" is never mistaken for a commit.
_SHA = re.compile(r"^\s*(?:commit\s+)?([0-9a-f]{7,64})\b")
CHUNK = 50_000  # rows per fetch


@dataclass(frozen=True)
class Tag:
    name: str
    sha: str
    tagged_at: int


@dataclass(frozen=True)
class RecordedDeployment:
    ref: str
    sha: str | None
    environment: str
    deployed_at: int
    status: str
    source: str


@dataclass(frozen=True)
class RecordedIncident:
    title: str
    started_at: int
    resolved_at: int | None
    deployment_ref: str | None


class Shas(Sequence[str]):
    """The commits' shas as one bytes array (20 bytes a commit rather than a Python string), in history
    order; finds a full or abbreviated sha among them."""

    def __init__(self, hexes: np.ndarray):
        self.hexes = hexes  # dtype S40 (or S64): ASCII hex
        self._order: np.ndarray | None = None
        self._keys: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.hexes)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [bytes(h).decode("ascii") for h in self.hexes[i]]
        return bytes(self.hexes[i]).decode("ascii")

    def find(self, sha_or_prefix: str) -> int:
        """History index of a full or abbreviated sha; -1 when unknown or ambiguous."""
        return self.find_all([sha_or_prefix])[0]

    def find_all(self, shas: Sequence[str]) -> list[int]:
        """`find` for many shas at once: one search over the shas' leading 16 hex digits as numbers."""
        wanted = [s.strip().lower() for s in shas]
        if not wanted or not len(self.hexes):
            return [-1] * len(wanted)
        if self._order is None or self._keys is None:
            keys = _leading(self.hexes)
            self._order = np.argsort(keys, kind="stable")
            self._keys = keys[self._order]
        ok = np.array([len(s) >= 7 and _HEX.fullmatch(s) is not None for s in wanted], dtype=bool)
        lead = [s[:16] if good else "0" for s, good in zip(wanted, ok.tolist(), strict=True)]
        lo = np.array([int(x.ljust(16, "0"), 16) for x in lead], dtype=np.uint64)
        hi = np.array([int(x.ljust(16, "f"), 16) for x in lead], dtype=np.uint64)
        starts = np.searchsorted(self._keys, lo, side="left")
        ends = np.searchsorted(self._keys, hi, side="right")
        # Nearly always one candidate: its whole text is checked against the whole sha at once.
        cand = self._order[np.minimum(starts, len(self._order) - 1)]
        texts = np.array([s.encode("ascii") if good else b"" for s, good in zip(wanted, ok.tolist(), strict=True)])
        single = ok & (ends - starts == 1) & np.char.startswith(self.hexes[cand], texts)
        out: list[int] = np.where(single, cand, -1).tolist()
        for k in np.flatnonzero(ok & (ends - starts > 1)).tolist():  # 16 leading digits shared: compare text
            hits = [i for i in self._order[starts[k] : ends[k]].tolist() if bytes(self.hexes[i]).startswith(texts[k])]
            out[k] = int(hits[0]) if len(hits) == 1 else -1  # none, or ambiguous
        return out


_HEX = re.compile(r"[0-9a-f]+")
_NIBBLE = np.full(256, 0, dtype=np.uint64)
_NIBBLE[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10, dtype=np.uint64)
_NIBBLE[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint64)


def _leading(hexes: np.ndarray) -> np.ndarray:
    """The first 16 hex digits of each sha as an unsigned 64-bit number (sorts as the text does)."""
    digits = np.frombuffer(hexes.tobytes(), dtype=np.uint8).reshape(len(hexes), hexes.dtype.itemsize)[:, :16]
    out = np.zeros(len(hexes), dtype=np.uint64)
    for k in range(16):
        out = (out << np.uint64(4)) | _NIBBLE[digits[:, k]]
    return out


@dataclass
class Loaded:
    repo_id: int
    name: str
    path: str
    history: History
    shas: Shas
    people: dict[str, Contributor]  # person key -> who (org, kind, label)
    aliases: dict[str, str]  # lower-cased name or e-mail -> person key
    identity: dict[int, Contributor]  # store identity id -> who
    ids: np.ndarray  # store ids of the commits, ascending
    index_of_pos: np.ndarray  # position in `ids` -> history index
    state: facts.State
    refs: dict[str, str] = field(default_factory=dict)
    tags: list[Tag] = field(default_factory=list)
    deployments: list[RecordedDeployment] = field(default_factory=list)
    incidents: list[RecordedIncident] = field(default_factory=list)
    head_sha: str | None = None  # the head the stored head facts describe (None: not loaded)

    def find(self, sha_or_prefix: str) -> int:
        return self.shas.find(sha_or_prefix)

    def find_all(self, shas: Sequence[str]) -> list[int]:
        return self.shas.find_all(shas)

    def index_of(self, store_ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """History indexes of store commit ids (-1 for ids not in this history, and for -1)."""
        wanted = np.asarray(store_ids, dtype=np.int64)
        if not len(self.ids):
            return np.full(len(wanted), -1, dtype=np.int32)
        pos = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        out: np.ndarray = np.where(self.ids[pos] == wanted, self.index_of_pos[pos], -1).astype(np.int32)
        return out


def load(store: Store, repo_id: int, resolve: Resolve, *, head_sha: str | None = None) -> Loaded:
    """One repository's reachable history; `head_sha` is the head whose stored facts to use, if current."""
    with store.read() as conn:
        repo = conn.execute(select(repositories).where(repositories.c.id == repo_id)).first()
        if repo is None:
            raise NotFoundError(f"no repository with id {repo_id} in the store")
        return _load(conn, repo_id, repo.name, repo.path, resolve, head_sha)


def _load(conn: Connection, rid: int, name: str, path: str, resolve: Resolve, head_sha: str | None) -> Loaded:
    state = facts.read_state(conn, rid)
    top = facts.last_commit_id(conn, rid, after=state.facts_until)
    # Blocks an interrupted or read-only ingest did not write are computed here, as the ingest would.
    blocks = facts.load_blocks(conn, rid) + list(facts.compute_blocks(conn, rid, state.facts_until, top))
    records = np.concatenate([np.empty(0, dtype=facts.BLOCK), *(b.records for b in blocks)])
    width = max([40, *(b.shas.dtype.itemsize for b in blocks)])
    all_shas = np.concatenate([np.empty(0, dtype=f"S{width}"), *(b.shas.astype(f"S{width}") for b in blocks)])
    sparse = [(len(b.records), b.more, b.reverts, b.fixes) for b in blocks]
    del blocks  # the stored bytes: a million commits' worth is 100 MB, not kept a moment longer
    # Commits a force-push left behind; the partial index ix_commits_unreachable holds only those.
    unreachable = commits.c.reachable == false()
    gone = np.fromiter(
        conn.execute(select(commits.c.id).where(commits.c.repo_id == rid, unreachable)).scalars(), dtype=np.int64
    )
    kept = np.flatnonzero(~np.isin(records["id"], gone)) if len(gone) else None
    if kept is not None:
        records, all_shas = records[kept], all_shas[kept]
    # History order: by commit time, then commit id.
    order = np.lexsort((records["id"], records["committed_at"]))
    index_of_pos = np.empty(len(order), dtype=np.int32)
    index_of_pos[order] = np.arange(len(order), dtype=np.int32)
    ids = np.ascontiguousarray(records["id"])  # ascending: blocks are in commit id order
    # Each column gathered into history order on its own: a sorted copy of the whole record array
    # beside the columns would hold every commit three times over at the peak.
    cols = {name: records[name][order] for name in ("author", "committer", "authored_at", "author_tz")}
    cols |= {name: records[name][order] for name in ("committed_at", "parent1", "parent2", "patch")}
    del records
    shas = Shas(all_shas[order])
    del all_shas

    people: dict[str, Contributor] = {}
    aliases: dict[str, str] = {}
    identity: dict[int, Contributor] = {}
    person_of, who_list = _people(conn, rid, resolve, people, aliases, identity)
    loaded = Loaded(rid, name, path, None, shas, people, aliases, identity, ids, index_of_pos, state)  # type: ignore[arg-type]
    more, reverts, fixes = _sparse(loaded, sparse, kept)
    use_head = head_sha is not None and head_sha == state.head_sha
    merged_by = merged_head = None
    if use_head:
        reached, merged = facts.load_head(conn, rid)
        merged_by = np.full(len(order), -1, dtype=np.int32)
        at = loaded.index_of(reached)
        merged_by[at[at >= 0]] = loaded.index_of(merged)[at >= 0]
        merged_head = int(loaded.index_of([state.head_id])[0]) if state.head_id is not None else None
        loaded.head_sha = head_sha
    loaded.history = History(
        sha=shas,
        people=who_list,
        author=person_of(cols["author"]),
        committer=person_of(cols["committer"]),
        authored_at=np.ascontiguousarray(cols["authored_at"]),
        author_tz=np.ascontiguousarray(cols["author_tz"]),
        committed_at=np.ascontiguousarray(cols["committed_at"]),
        parent1=loaded.index_of(cols["parent1"]),
        parent2=loaded.index_of(cols["parent2"]),
        patch=np.ascontiguousarray(cols["patch"]),
        more_parents=more,
        merged_by=merged_by,
        merged_by_head=merged_head,
    )
    hist = loaded.history
    reverted = sorted(reverts.items())
    hist.reverts = dict(zip([i for i, _ in reverted], loaded.find_all([s for _, s in reverted]), strict=True))
    named = [(i, s) for i, names in sorted(fixes.items()) for s in names]
    for (i, _), target in zip(named, loaded.find_all([s for _, s in named]), strict=True):
        if target >= 0 and target != i:
            hist.fixes[i] = (*hist.fixes.get(i, ()), target)

    # Thousands of refs and tags: fetched all at once (a row at a time through the result costs more).
    loaded.refs = dict(conn.execute(select(refs.c.name, refs.c.sha).where(refs.c.repo_id == rid)).all())
    t, d, inc = tags_t, deployments, incidents
    tag_rows = conn.execute(select(t.c.name, t.c.sha, t.c.tagged_at).where(t.c.repo_id == rid)).all()
    loaded.tags = [Tag(*r) for r in tag_rows]
    loaded.deployments = [
        RecordedDeployment(*r)
        for r in conn.execute(
            select(d.c.ref, d.c.sha, d.c.environment, d.c.deployed_at, d.c.status, d.c.source)
            .where(d.c.repo_id == rid)
            .order_by(d.c.id)
        )
    ]
    loaded.incidents = [
        RecordedIncident(*r)
        for r in conn.execute(
            select(inc.c.title, inc.c.started_at, inc.c.resolved_at, inc.c.deployment_ref)
            .where(inc.c.repo_id == rid)
            .order_by(inc.c.id)
        )
    ]
    return loaded


def _sparse(
    loaded: Loaded,
    blocks: list[tuple[int, dict[int, list[int]], dict[int, str], dict[int, list[str]]]],
    kept: np.ndarray | None,
) -> tuple[dict[int, tuple[int, ...]], dict[int, str], dict[int, list[str]]]:
    """The blocks' sparse facts by history index: octopus parents, reverted shas, Fixes: shas."""
    more: dict[int, tuple[int, ...]] = {}
    reverts: dict[int, str] = {}
    fixes: dict[int, list[str]] = {}
    total = sum(size for size, *_ in blocks)
    if kept is None:
        new_pos = np.arange(total, dtype=np.int64)
    else:
        new_pos = np.full(total, -1, dtype=np.int64)
        new_pos[kept] = np.arange(len(kept))
    offset = 0

    def index(pos: int) -> int:
        p = int(new_pos[pos])
        return int(loaded.index_of_pos[p]) if p >= 0 else -1

    for size, block_more, block_reverts, block_fixes in blocks:
        for pos, extra in block_more.items():
            if (i := index(offset + pos)) >= 0:
                more[i] = tuple(int(x) for x in loaded.index_of(extra) if x >= 0)
        for pos, sha in block_reverts.items():
            if (i := index(offset + pos)) >= 0:
                reverts[i] = sha
        for pos, names in block_fixes.items():
            if (i := index(offset + pos)) >= 0:
                fixes[i] = names
        offset += size
    return more, reverts, fixes


def fetch_chunks(conn: Connection, stmt: Select[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """Yield the rows of `stmt` as lists of plain tuples, CHUNK at a time."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params  # a dict, or a tuple for positional drivers
    if conn.dialect.positional:
        params = tuple(compiled.params[k] for k in compiled.positiontup or ())
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        while True:
            rows: list[tuple[Any, ...]] = list(cursor.fetchmany(CHUNK))
            if not rows:
                return
            yield rows
    finally:
        cursor.close()


def _people(
    conn: Connection,
    rid: int,
    resolve: Resolve,
    people: dict[str, Contributor],
    aliases: dict[str, str],
    identity: dict[int, Contributor],
) -> tuple[Callable[[np.ndarray], np.ndarray], list[Contributor]]:
    """Resolve every identity of the repository once; returns (store ids -> person indexes, people)."""
    rows = conn.execute(
        select(identities.c.id, identities.c.name, identities.c.email)
        .join(repo_identities, repo_identities.c.identity_id == identities.c.id)
        .where(repo_identities.c.repo_id == rid)
        .order_by(identities.c.id)
    ).all()
    who_list: list[Contributor] = []
    index: dict[Contributor, int] = {}
    ident_ids = np.array([r.id for r in rows], dtype=np.int64)
    person = np.empty(len(rows), dtype=np.int32)
    for k, (ident, name, email) in enumerate(rows):
        w = identity[ident] = resolve(name, email)
        person[k] = index.setdefault(w, len(who_list))
        if person[k] == len(who_list):
            who_list.append(w)
        people.setdefault(w.key, w)
        aliases.setdefault(email.lower(), w.key)
        aliases.setdefault(name.lower(), w.key)

    def person_of(store_ids: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(ident_ids, store_ids)
        out: np.ndarray = person[pos]
        return out

    return person_of, who_list


def load_trailers(store: Store, loaded: Loaded, resolve: Resolve, window: Window) -> None:
    """Reviewers and co-authors of the commits committed or authored in `window` (what the review and
    contributor sections read)."""
    h = loaded.history
    inside = np.flatnonzero(
        ((h.committed_at >= window.since) & (h.committed_at < window.until))
        | ((h.authored_at >= window.since) & (h.authored_at < window.until))
    )
    if not len(inside):
        return
    wanted = np.zeros(len(h), dtype=bool)
    wanted[inside] = True
    # Trailers are found by commit id: the range the window's commits span, read in id order.
    store_ids = loaded.ids[np.flatnonzero(wanted[loaded.index_of_pos])]
    t = trailers
    stmt = (
        select(t.c.commit_id, t.c.key, t.c.value)
        .where(
            t.c.commit_id >= int(store_ids.min()),
            t.c.commit_id <= int(store_ids.max()),
            t.c.key.in_((*REVIEW_KEYS, *REVIEW_LINKS, "co-authored-by")),
        )
        .order_by(t.c.commit_id)
    )
    # Each row as codes: its history index, its key, its value (a trailer's person); then all at once.
    key_code = {k: c for c, k in enumerate((*REVIEW_KEYS, *REVIEW_LINKS, "co-authored-by"))}
    value_code: dict[str, int] = {}
    at_parts: list[np.ndarray] = []
    key_parts: list[np.ndarray] = []
    value_parts: list[np.ndarray] = []
    with store.read() as conn:
        for rows in fetch_chunks(conn, stmt):
            ids, keys, values = zip(*rows, strict=True)
            at_parts.append(loaded.index_of(ids))
            key_parts.append(np.fromiter((key_code[k] for k in keys), dtype=np.int8, count=len(keys)))
            code = value_code.setdefault
            value_parts.append(
                np.fromiter((code(v, len(value_code)) for v in values), dtype=np.int32, count=len(values))
            )
    at = np.concatenate([np.empty(0, dtype=np.int32), *at_parts])
    key = np.concatenate([np.empty(0, dtype=np.int8), *key_parts])
    value = np.concatenate([np.empty(0, dtype=np.int32), *value_parts])
    found = np.flatnonzero(at >= 0)
    rows_in = found[wanted[at[found]]]
    at, key, value = at[rows_in], key[rows_in], value[rows_in]
    is_link = key >= len(REVIEW_KEYS)
    is_link &= key < len(REVIEW_KEYS) + len(REVIEW_LINKS)
    h.review_links.update(np.unique(at[is_link]).tolist())
    people = list(value_code)
    resolved: dict[int, Contributor] = {}
    for v in np.unique(value[~is_link]).tolist():
        w = resolved[v] = resolve(*parse_address(people[v]))
        loaded.people.setdefault(w.key, w)
    # Trailers come in store order; within a commit that is the order git wrote them.
    h.reviewers = _grouped(at, value, key < len(REVIEW_KEYS), resolved)
    h.coauthors = _grouped(at, value, key == len(key_code) - 1, resolved)


def _grouped(
    at: np.ndarray, value: np.ndarray, mask: np.ndarray, resolved: dict[int, Contributor]
) -> dict[int, tuple[Contributor, ...]]:
    """The people of the rows `mask` selects, per history index (ascending), in row order within one."""
    rows_at, rows_value = at[mask], value[mask]
    order = np.argsort(rows_at, kind="stable")
    rows_at, who = rows_at[order], [resolved[v] for v in rows_value[order].tolist()]
    commits_at, starts = np.unique(rows_at, return_index=True)
    bounds = [*starts.tolist(), len(who)]
    return {i: tuple(who[a:b]) for i, a, b in zip(commits_at.tolist(), bounds[:-1], bounds[1:], strict=True)}


def subject_matches(store: Store, loaded: Loaded, pattern: re.Pattern[str], until: int) -> set[int]:
    """The commits before `until` whose subject `pattern` finds (the charter's hotfix pattern)."""
    c = commits
    if not len(loaded.ids):
        return set()
    # Nearly every commit before `until` is read: in id order (the repository's id range) that is one
    # sequential pass, where the (repository, time) index would visit them in a random order, twice
    # the time on SQLite. `+ 0` keeps the planner off that index.
    stmt = select(c.c.id, c.c.subject).where(
        c.c.id.between(int(loaded.ids[0]), int(loaded.ids[-1])),
        c.c.repo_id + 0 == loaded.repo_id,
        c.c.reachable.is_(True),
        c.c.committed_at + 0 < until,
    )
    word = _LITERAL.fullmatch(pattern.pattern)
    if word:  # a plain word: the database narrows the subjects down (a superset), the pattern decides
        literal = word.group(1).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        # SQLite's LIKE ignores ASCII case by itself (the word is ASCII); ILIKE there would lower() both sides.
        like = c.c.subject.like if store.dialect == "sqlite" else c.c.subject.ilike
        stmt = stmt.where(like(f"%{literal}%", escape="\\"))
    found: list[int] = []
    search = pattern.search
    with store.read() as conn:
        for rows in fetch_chunks(conn, stmt):
            found.extend(cid for cid, subject in rows if search(subject))
    return {int(i) for i in loaded.index_of(found) if i >= 0}


def authorship_at_head(store: Store, loaded: Loaded) -> dict[str, dict[str, tuple[bool, int]]]:
    """Per file, per person key: (added it, modifications) over the commits the stored head reaches.

    Read from `file_authorship`, which the ingest keeps for that head; changes by bots and AI agents
    make nobody an author (knowledge lives in people), but every file a commit of the head touched
    is present, if only with no author.
    """
    fa = file_authorship
    out: dict[str, dict[str, tuple[bool, int]]] = {}
    stmt = select(fa.c.path, fa.c.identity_id, fa.c.adds, fa.c.mods).where(fa.c.repo_id == loaded.repo_id)
    with store.read() as conn:
        for rows in fetch_chunks(conn, stmt):
            for path, ident, adds, mods in rows:
                per = out.setdefault(path, {})
                w = loaded.identity[ident]
                if w.kind in (BOT, AGENT) or (not adds and not mods):
                    continue
                added, count = per.get(w.key, (False, 0))
                per[w.key] = (added or adds > 0, count + mods)
    return out


def load_file_changes(store: Store, loaded: Loaded, until: int) -> list[tuple[int, str, str]]:
    """(history index, path, status) of every file change committed before `until`, in history order."""
    fc = file_changes
    stmt = (
        select(fc.c.commit_id, fc.c.path, fc.c.status)
        .join(commits, commits.c.id == fc.c.commit_id)
        .where(commits.c.repo_id == loaded.repo_id, commits.c.committed_at < until)
    )
    out: list[tuple[int, str, str]] = []
    with store.read() as conn:
        for rows in fetch_chunks(conn, stmt):
            at = loaded.index_of([r[0] for r in rows]).tolist()
            out.extend((i, path, status) for i, (_cid, path, status) in zip(at, rows, strict=True) if i >= 0)
    out.sort(key=lambda x: x[0])
    return out
