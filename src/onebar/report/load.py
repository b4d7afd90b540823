"""Loading one repository from the store into the metrics' plain data, with a few large SELECTs.

Everything is read with SQLAlchemy Core into lists and dicts; identities are resolved once each.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from onebar.errors import NotFoundError
from onebar.metrics.model import History
from onebar.report.identity import Resolve, Who, parse_address
from onebar.store import Store
from onebar.store.schema import commits, deployments, file_changes, identities, incidents, refs, repositories
from onebar.store.schema import tags as tags_t
from onebar.store.schema import trailers as trailers_t

REVIEW_KEYS = ("reviewed-by", "acked-by", "tested-by")
_SHA = re.compile(r"\b([0-9a-f]{7,64})\b")


@dataclass
class Loaded:
    repo_id: int
    name: str
    path: str
    history: History
    who: dict[str, Who]  # person key -> who (org, kind, label)
    commit_ids: list[int]  # store id of each history index
    refs: dict[str, str]
    tags: list[dict[str, Any]]
    deployments: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    index: dict[str, int] = field(default_factory=dict)  # sha -> history index
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
        hits = []
        while i < len(self._sorted) and self._sorted[i].startswith(s) and len(hits) < 2:
            hits.append(self._sorted[i])
            i += 1
        return self.index[hits[0]] if len(hits) == 1 else -1


def find_repository(store: Store, path: str) -> tuple[int, str]:
    with store.read() as conn:
        row = conn.execute(select(repositories.c.id, repositories.c.name).where(repositories.c.path == path)).first()
    if row is None:
        raise NotFoundError(f"repository {path} is not in the store; run `onebar ingest {path}` first")
    return int(row.id), str(row.name)


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
    who_of_id: dict[int, Who] = {}

    def who(ident: int) -> Who:
        w = who_of_id.get(ident)
        if w is None:
            name, email = people.get(ident, ("?", "?"))
            w = who_of_id[ident] = resolve(name, email)
        return w

    rows = conn.execute(
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
        .order_by(commits.c.committed_at, commits.c.id)
    ).all()
    h = History()
    ids: list[int] = []
    index: dict[str, int] = {}
    for i, r in enumerate(rows):
        index[r.sha] = i
    patch: dict[tuple[int, int, str], int] = {}
    whos: dict[str, Who] = {}
    reverts_raw: list[tuple[int, str]] = []
    for i, r in enumerate(rows):
        a, c = who(r.author_id), who(r.committer_id)
        whos[a.key] = a
        whos[c.key] = c
        ids.append(r.id)
        h.sha.append(r.sha)
        h.parents.append(tuple(index[p] for p in r.parents.split() if p in index))
        h.author.append(a.key)
        h.org.append(a.org)
        h.kind.append(a.kind)
        h.committer.append(c.key)
        h.committer_org.append(c.org)
        h.committer_kind.append(c.kind)
        h.authored_at.append(r.authored_at)
        h.author_tz.append(r.author_tz)
        h.committed_at.append(r.committed_at)
        h.subject.append(r.subject)
        h.reverts.append(-1)
        # A cherry-pick keeps its author, author date and subject: the same change, counted once.
        h.patch_id.append(patch.setdefault((r.author_id, r.authored_at, r.subject), i))
        if r.revert_of:
            reverts_raw.append((i, r.revert_of))
    loaded = Loaded(rid, repo.name, repo.path, h, whos, ids, {}, [], [], [], index)
    for i, sha in reverts_raw:
        h.reverts[i] = loaded.find(sha)

    pos = {cid: i for i, cid in enumerate(ids)}
    t = trailers_t
    trailer_rows = conn.execute(
        select(t.c.commit_id, t.c.key, t.c.value)
        .join(commits, commits.c.id == t.c.commit_id)
        .where(commits.c.repo_id == rid, t.c.key.in_((*REVIEW_KEYS, "co-authored-by", "fixes")))
    )
    reviewers: dict[int, list[tuple[str, str, str]]] = {}
    coauthors: dict[int, list[tuple[str, str, str]]] = {}
    fixes: dict[int, list[int]] = {}
    for cid, key, value in trailer_rows:
        i = pos.get(cid)
        if i is None:
            continue
        if key == "fixes":
            m = _SHA.search(value.lower())
            target = loaded.find(m.group(1)) if m else -1
            if target >= 0 and target != i:
                fixes.setdefault(i, []).append(target)
            continue
        w = resolve(*parse_address(value))
        whos.setdefault(w.key, w)
        (reviewers if key in REVIEW_KEYS else coauthors).setdefault(i, []).append((w.key, w.org, w.kind))
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
    pos = {cid: i for i, cid in enumerate(loaded.commit_ids)}
    fc = file_changes
    with store.read() as conn:
        rows = conn.execute(
            select(fc.c.commit_id, fc.c.path, fc.c.status)
            .join(commits, commits.c.id == fc.c.commit_id)
            .where(commits.c.repo_id == loaded.repo_id, commits.c.committed_at < until)
        ).all()
    out = [(pos[cid], path, status) for cid, path, status in rows if cid in pos]
    out.sort(key=lambda r: r[0])
    return out
