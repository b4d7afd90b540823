"""Loading one repository from the store into the metrics' plain data, with a few large SELECTs.

Everything is read with SQLAlchemy Core into lists and dicts; identities are resolved once each.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Select, select

from onebar.errors import NotFoundError
from onebar.metrics.model import Contributor, History
from onebar.report.identity import Resolve, parse_address
from onebar.store import Store
from onebar.store.schema import commits, deployments, file_changes, identities, incidents, refs, repositories
from onebar.store.schema import tags as tags_t
from onebar.store.schema import trailers as trailers_t

REVIEW_KEYS = ("reviewed-by", "acked-by", "tested-by")
# "Fixes: 1a2b3c4d5e6f ("subject")" as the kernel and git write it; the sha must come first, so an
# issue URL or "#1234567" is never mistaken for a commit.
_SHA = re.compile(r"^\s*(?:commit\s+)?([0-9a-f]{7,64})\b")


@dataclass
class Loaded:
    repo_id: int
    name: str
    path: str
    history: History
    who: dict[str, Contributor]  # person key -> who (org, kind, label)
    position: dict[int, int]  # store id of a commit -> its history index
    refs: dict[str, str]
    tags: list[dict[str, Any]]
    deployments: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    index: dict[str, int] = field(default_factory=dict)  # sha -> history index
    aliases: dict[str, str] = field(default_factory=dict)  # lower-cased name or e-mail -> person key
    _sorted: list[str] = field(default_factory=list)

    def find(self, sha_or_prefix: str) -> int:
        """History index of a full or abbreviated sha; -1 when unknown or ambiguous."""
        s = sha_or_prefix.lower()
        if s in self.index:
            return self.index[s]
        if len(s) < 7:
            return -1
        if not self._sorted:
            self._sorted = sorted(self.index)
        i = bisect_left(self._sorted, s)
        hits: list[str] = []
        while i < len(self._sorted) and self._sorted[i].startswith(s) and len(hits) < 2:
            hits.append(self._sorted[i])
            i += 1
        return self.index[hits[0]] if len(hits) == 1 else -1


def load(store: Store, repo_id: int, resolve: Resolve) -> Loaded:
    with store.read() as conn:
        repo = conn.execute(select(repositories).where(repositories.c.id == repo_id)).first()
        if repo is None:
            raise NotFoundError(f"no repository with id {repo_id} in the store")
        return _load(conn, repo, resolve)


def _load(conn: Connection, repo: Any, resolve: Resolve) -> Loaded:
    rid = repo.id
    people = {
        row.id: (row.name, row.email)
        for row in conn.execute(select(identities.c.id, identities.c.name, identities.c.email))
    }
    who_of_id: dict[int, Contributor] = {}

    def who(ident: int) -> Contributor:
        w = who_of_id.get(ident)
        if w is None:
            name, email = people.get(ident, ("?", "?"))
            w = who_of_id[ident] = resolve(name, email)
        return w

    rows = fetch(
        conn,
        select(
            commits.c.id,
            commits.c.sha,
            commits.c.parents,
            commits.c.author_id,
            commits.c.authored_at,
            commits.c.author_tz,
            commits.c.committer_id,
            commits.c.committed_at,
            commits.c.subject,
            commits.c.revert_of,
        )
        .where(commits.c.repo_id == rid, commits.c.reachable.is_(True))
        .order_by(commits.c.committed_at, commits.c.id),
    )
    h = History()
    index: dict[str, int] = {r[1]: i for i, r in enumerate(rows)}
    patch: dict[tuple[int, int, str], int] = {}
    whos: dict[str, Contributor] = {}
    aliases: dict[str, str] = {}
    for ident in {r[3] for r in rows} | {r[6] for r in rows}:
        w = who(ident)
        whos[w.key] = w
        name, email = people.get(ident, ("", ""))
        aliases.setdefault(email.lower(), w.key)
        aliases.setdefault(name.lower(), w.key)
    h.sha = [r[1] for r in rows]
    h.parents = [tuple(index[p] for p in r[2].split() if p in index) if r[2] else () for r in rows]
    authors = [who_of_id[r[3]] for r in rows]
    committers = [who_of_id[r[6]] for r in rows]
    h.author = [w.key for w in authors]
    h.org = [w.org for w in authors]
    h.kind = [w.kind for w in authors]
    h.committer = [w.key for w in committers]
    h.committer_org = [w.org for w in committers]
    h.committer_kind = [w.kind for w in committers]
    h.authored_at = [r[4] for r in rows]
    h.author_tz = [r[5] for r in rows]
    h.committed_at = [r[7] for r in rows]
    h.subject = [r[8] for r in rows]
    h.reverts = [-1] * len(rows)
    # A cherry-pick keeps its author, author date and subject: the same change, counted once.
    h.patch_id = [patch.setdefault((r[3], r[4], r[8]), i) for i, r in enumerate(rows)]
    reverts_raw = [(i, r[9]) for i, r in enumerate(rows) if r[9]]
    pos = {r[0]: i for i, r in enumerate(rows)}
    loaded = Loaded(rid, repo.name, repo.path, h, whos, pos, {}, [], [], [], index, aliases)
    for i, sha in reverts_raw:
        h.reverts[i] = loaded.find(sha)

    t = trailers_t
    trailer_rows = conn.execute(
        select(t.c.commit_id, t.c.key, t.c.value)
        .join(commits, commits.c.id == t.c.commit_id)
        .where(commits.c.repo_id == rid, t.c.key.in_((*REVIEW_KEYS, "co-authored-by", "fixes")))
    )
    reviewers: dict[int, list[Contributor]] = {}
    coauthors: dict[int, list[Contributor]] = {}
    fixes: dict[int, list[int]] = {}
    for cid, key, value in trailer_rows:
        ix = pos.get(cid)
        if ix is None:
            continue
        i = ix
        if key == "fixes":
            m = _SHA.match(value.lower())
            target = loaded.find(m.group(1)) if m else -1
            if target >= 0 and target != i:
                fixes.setdefault(i, []).append(target)
            continue
        w = resolve(*parse_address(value))
        whos.setdefault(w.key, w)
        (reviewers if key in REVIEW_KEYS else coauthors).setdefault(i, []).append(w)
    h.reviewers = {i: tuple(v) for i, v in reviewers.items()}
    h.coauthors = {i: tuple(v) for i, v in coauthors.items()}
    h.fixes = {i: tuple(v) for i, v in fixes.items()}

    loaded.refs = {r.name: r.sha for r in conn.execute(select(refs.c.name, refs.c.sha).where(refs.c.repo_id == rid))}
    loaded.tags = [dict(r._mapping) for r in conn.execute(select(tags_t).where(tags_t.c.repo_id == rid))]
    loaded.deployments = [
        dict(r._mapping) for r in conn.execute(select(deployments).where(deployments.c.repo_id == rid))
    ]
    loaded.incidents = [dict(r._mapping) for r in conn.execute(select(incidents).where(incidents.c.repo_id == rid))]
    return loaded


def load_file_changes(store: Store, loaded: Loaded, until: int) -> list[tuple[int, str, str]]:
    """(history index, path, status) of every file change committed before `until`, in history order."""
    pos = loaded.position
    fc = file_changes
    with store.read() as conn:
        rows = fetch(
            conn,
            select(fc.c.commit_id, fc.c.path, fc.c.status)
            .join(commits, commits.c.id == fc.c.commit_id)
            .where(commits.c.repo_id == loaded.repo_id, commits.c.committed_at < until),
        )
    out = [(pos[cid], path, status) for cid, path, status in rows if cid in pos]
    out.sort(key=itemgetter(0))
    return out


def fetch(conn: Connection, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    """All rows of a large SELECT as plain tuples, straight from the driver's cursor.

    SQLAlchemy's Row objects cost about a microsecond each; for the 100,000s of rows the report
    reads that is most of its time, so the statement is compiled by SQLAlchemy and run raw.
    """
    compiled = stmt.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if conn.dialect.positional:
        params = tuple(compiled.params[k] for k in compiled.positiontup or ())
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        rows: list[tuple[Any, ...]] = list(cursor.fetchall())
        return rows
    finally:
        cursor.close()
