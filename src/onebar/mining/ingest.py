"""Ingest: stream a repository's whole history into the store, incrementally and safely.

How it stays fast: `stream.Miner` lists the new commits and mines them with one git process per
core while Python parses the streams; one writer stores the batches.

How it stays safe: each batch (commits with their files and trailers) is one transaction, and the
ref tips are recorded only after every batch is stored. An interrupted run therefore leaves whole
batches behind; the next run lists the same commits again and skips the ones already stored, so
nothing is lost or doubled.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update

from onebar.git import RepoInfo, open_repository
from onebar.mining import facts, missing
from onebar.mining.parse import MinedCommit
from onebar.mining.refs import Refs, existing_objects, read_refs, read_tips, rev_list
from onebar.mining.stream import Miner
from onebar.mining.summary import IngestSummary, Progress, shallow_warning
from onebar.store import cache
from onebar.store.db import Store
from onebar.store.schema import (
    commits,
    file_changes,
    identities,
    refs,
    repo_identities,
    repositories,
    tags,
    trailers,
)

if TYPE_CHECKING:  # the charter's model is loaded only when people must be resolved afresh
    from onebar.charter.model import Charter

BATCH = 5000  # commits per transaction: big enough to amortise, small enough to lose little


def ingest_repository(
    path: Path,
    store: Store,
    *,
    lines: bool = True,
    charter: Charter | None = None,
    charter_file: Path | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
    repo: RepoInfo | None = None,
) -> IngestSummary:
    """Bring the store up to date with the repository at `path`; returns what was done.

    The summary resolves the repository's identities with `charter`, else the charter in
    `charter_file` (read only when the summary cannot be reused), else one drafted from them.
    `repo` is the repository at `path` when the caller has identified it already.
    """
    return ingest_recording(
        path, store, lines=lines, charter=charter, charter_file=charter_file, progress=progress, jobs=jobs, repo=repo
    )[0]


def ingest_recording(
    path: Path,
    store: Store,
    *,
    lines: bool = True,
    charter: Charter | None = None,
    charter_file: Path | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
    repo: RepoInfo | None = None,
) -> tuple[IngestSummary, dict[str, str]]:
    """`ingest_repository`, and the ref tips the store now records for the repository."""
    started = time.perf_counter()
    info = repo or open_repository(path)
    warnings = shallow_warning(info)
    if store.readonly:
        raise store.read_only_error()
    repo_id = _repository_id(store, info)
    new = 0
    # One ingest of a repository at a time: a second one (a scheduled job beside a manual run)
    # waits here, then reads the refs the first recorded and finds nothing, or only the rest, to do.
    with store.ingest_lock(repo_id) as exclusive:
        tips = read_tips(info.root)
        with store.read() as conn:
            stored = dict(conn.execute(select(refs.c.name, refs.c.sha).where(refs.c.repo_id == repo_id)).all())
        if stored != tips:
            now = read_refs(info.root)  # the tags peeled, only when there is something to mine
            tips = now.tips
            new = _mine_new(
                store,
                info,
                repo_id,
                now,
                stored,
                lines=lines,
                progress=progress,
                jobs=jobs,
                exclusive=bool(exclusive),
                warnings=warnings,
            )
            _record_refs(store, info, repo_id, now, stored)
            if new >= BATCH:
                store.analyze(commits, file_changes, trailers, identities, repo_identities)
        elif progress:
            progress(0, 0)

    facts.update(store, repo_id, tips.get("HEAD"))  # what the report reads instead of recomputing
    summary = _summarise(store, info, repo_id, new, lines, charter, charter_file, started, warnings)
    return summary, tips


def _repository_id(store: Store, info: RepoInfo) -> int:
    key = str(info.git_dir)
    with store.read() as conn:
        found = conn.execute(select(repositories.c.id).where(repositories.c.path == key)).scalar()
    if found is not None:
        return int(found)
    with store.write() as conn:
        found = conn.execute(select(repositories.c.id).where(repositories.c.path == key)).scalar()
        if found is None:
            result = conn.execute(insert(repositories).values(path=key, name=info.name, shallow=info.shallow))
            found = result.inserted_primary_key[0]  # type: ignore[index]
    return int(found)


def _mine_new(
    store: Store,
    info: RepoInfo,
    repo_id: int,
    now: Refs,
    stored: dict[str, str],
    *,
    lines: bool,
    progress: Progress | None,
    jobs: int | None,
    exclusive: bool = True,
    warnings: list[str] | None = None,
) -> int:
    # Commits already stored but not yet covered by recorded tips come from an interrupted run.
    # After an interrupted first run (no tips at all) skip them while listing, saving git the work;
    # after an interrupted incremental run the tips exclude nearly everything, and each batch is
    # checked against the store. Without this repository's ingest lock (`exclusive`), another
    # process may be storing the same commits, so every batch is checked.
    with store.read() as conn:
        any_stored = conn.execute(select(commits.c.id).where(commits.c.repo_id == repo_id).limit(1)).first()
        skip = (
            set(conn.execute(select(commits.c.sha).where(commits.c.repo_id == repo_id)).scalars())
            if (any_stored and not stored)
            else set()
        )
    check = not exclusive or bool(any_stored and stored)
    if check and any_stored:
        store.analyze(commits, stale_only=True)  # PostgreSQL: the checks must find the (repo, sha) index
    exclude = existing_objects(info.root, sorted(set(stored.values()))) if stored else []
    miner = Miner(
        info.root, now.commits, exclude, skip=skip, workers=jobs or os.cpu_count() or 1, lines=lines, batch=BATCH
    )
    if progress:
        progress(0, None)
    ids = _IdentityCache(store, repo_id)
    done = 0
    for mined in miner:
        with store.write() as conn:
            # Checked under the write lock, whatever this run saw when it started.
            batch = _unstored(conn, repo_id, mined) if check else mined
            if not batch:
                continue
            new_ids, linked = _write_batch(conn, repo_id, batch, ids, lines)
        ids.commit(new_ids, linked)
        done += len(batch)
        if progress:
            progress(done, miner.total)
    if miner.unreadable and warnings is not None:
        warnings.append(missing.warning(sorted(miner.unreadable)))
    return done


def _unstored(conn: Connection, repo_id: int, batch: list[MinedCommit]) -> list[MinedCommit]:
    """The commits of `batch` not yet in the store."""
    shas = [c.sha for c in batch]
    stored: set[str] = set()
    for i in range(0, len(shas), 500):
        q = select(commits.c.sha).where(commits.c.repo_id == repo_id, commits.c.sha.in_(shas[i : i + 500]))
        stored.update(conn.execute(q).scalars())
    return [c for c in batch if c.sha not in stored] if stored else batch


class _IdentityCache:
    """(name, email) -> id. Ids are allocated in bulk under the store's write lock; new ones become
    visible to later batches only once their transaction commits."""

    def __init__(self, store: Store, repo_id: int):
        self.ids: dict[tuple[str, str], int] = {}
        self.seen_max = 0
        with store.read() as conn:
            self._refresh(conn)
            rows = conn.execute(select(repo_identities.c.identity_id).where(repo_identities.c.repo_id == repo_id))
            self.in_repo: set[int] = set(rows.scalars())

    def _refresh(self, conn: Connection) -> None:
        rows = conn.execute(
            select(identities.c.id, identities.c.name, identities.c.email).where(identities.c.id > self.seen_max)
        ).all()
        for r in rows:
            self.ids[(r.name, r.email)] = r.id
            self.seen_max = max(self.seen_max, r.id)

    def assign(self, conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Ids for `keys`, inserting the missing identities; returns only the newly inserted ones."""
        missing = keys - self.ids.keys()
        if not missing:
            return {}
        self._refresh(conn)  # another writer may have added some since we last looked
        missing = keys - self.ids.keys()
        next_id = int(conn.execute(select(func.coalesce(func.max(identities.c.id), 0))).scalar_one()) + 1
        new = {key: next_id + i for i, key in enumerate(sorted(missing))}
        _bulk(conn, identities.name, ["id", "name", "email"], [(i, n, e) for (n, e), i in new.items()])
        return new

    def commit(self, new: dict[tuple[str, str], int], linked: set[int]) -> None:
        self.in_repo |= linked
        self.ids.update(new)
        self.seen_max = max([self.seen_max, *new.values()])


def _write_batch(
    conn: Connection, repo_id: int, batch: list[MinedCommit], ids: _IdentityCache, lines: bool
) -> tuple[dict[tuple[str, str], int], set[int]]:
    """Store one batch; returns the identities it created and those it newly linked to the repository."""
    people = {c.author for c in batch} | {c.committer for c in batch}
    new_ids = ids.assign(conn, people)
    known = ids.ids | new_ids if new_ids else ids.ids
    linked = {known[p] for p in people} - ids.in_repo
    _bulk(conn, repo_identities.name, ["repo_id", "identity_id"], [(repo_id, i) for i in sorted(linked)], skip=True)
    next_id = int(conn.execute(select(func.coalesce(func.max(commits.c.id), 0))).scalar_one()) + 1
    commit_rows: list[tuple[Any, ...]] = []
    trailer_rows: list[tuple[Any, ...]] = []
    file_rows: list[tuple[Any, ...]] = []
    for c in batch:
        cid = next_id
        next_id += 1
        added = deleted = None
        if lines and not c.lines_unknown:
            added = sum(f.added or 0 for f in c.files)
            deleted = sum(f.deleted or 0 for f in c.files)
        commit_rows.append(
            (
                cid,
                repo_id,
                c.sha,
                " ".join(c.parents),
                known[c.author],
                c.authored_at,
                c.author_tz,
                known[c.committer],
                c.committed_at,
                c.committer_tz,
                c.subject,
                c.revert_of,
                len(c.files),
                added,
                deleted,
                True,
            )
        )
        trailer_rows.extend((cid, key, value) for key, value in c.trailers)
        file_rows.extend((cid, f.path, f.status, f.added, f.deleted, f.binary) for f in c.files)
    _bulk(conn, commits.name, [col.name for col in commits.columns], commit_rows)
    _bulk(conn, trailers.name, ["commit_id", "key", "value"], trailer_rows)
    _bulk(conn, file_changes.name, ["commit_id", "path", "status", "added", "deleted", "binary"], file_rows)
    unreadable = [(repo_id, c.sha) for c in batch if c.lines_unknown]  # onebar.mining.missing
    _bulk(conn, "unreadable_commits", ["repo_id", "sha"], unreadable)
    return new_ids, linked


def _bulk(conn: Connection, table: str, columns: list[str], rows: list[tuple[Any, ...]], skip: bool = False) -> None:
    """executemany straight on the driver: the ORM-free path is several times faster for big batches.

    `skip` leaves rows that are already there (same key) as they are.
    """
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cols = ", ".join(f'"{c}"' for c in columns)
    tail = " ON CONFLICT DO NOTHING" if skip else ""
    conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) VALUES ({', '.join([mark] * len(columns))}){tail}", rows)


def _record_refs(store: Store, info: RepoInfo, repo_id: int, now: Refs, stored: dict[str, str]) -> None:
    """Tags, ref tips and reachability, in one transaction, once every commit is stored."""
    dropped = _unreachable_after_rewrite(info, now, stored)
    with store.write() as conn:
        conn.execute(delete(tags).where(tags.c.repo_id == repo_id))
        if now.tags:
            conn.execute(
                insert(tags),
                [
                    {
                        "repo_id": repo_id,
                        "name": t.name,
                        "sha": t.sha,
                        "tagged_at": t.tagged_at,
                        "annotated": t.annotated,
                    }
                    for t in now.tags
                ],
            )
        conn.execute(delete(refs).where(refs.c.repo_id == repo_id))
        if now.tips:
            conn.execute(insert(refs), [{"repo_id": repo_id, "name": n, "sha": s} for n, s in now.tips.items()])
        if dropped is not None:
            _set_reachable(conn, repo_id, info, now, dropped)
        conn.execute(
            update(repositories)
            .where(repositories.c.id == repo_id)
            .values(ingested_at=int(time.time()), shallow=info.shallow, name=info.name)
        )


def _unreachable_after_rewrite(info: RepoInfo, now: Refs, stored: dict[str, str]) -> set[str] | None:
    """Commits a force-push or a deleted branch left unreachable; None when nothing was rewritten."""
    old = {sha for name, sha in stored.items() if now.tips.get(name) != sha}
    if not old:
        return None
    present = existing_objects(info.root, sorted(old))
    if len(present) < len(old):
        return set()  # some old tips are gone from the object store: recompute reachability whole
    return set(rev_list(info.root, set(present), sorted(now.commits))) or None


def _set_reachable(conn: Connection, repo_id: int, info: RepoInfo, now: Refs, dropped: set[str]) -> None:
    if not dropped:  # full recompute
        reachable = set(rev_list(info.root, now.commits, []))
        stored = conn.execute(select(commits.c.sha).where(commits.c.repo_id == repo_id)).scalars().all()
        dropped = {sha for sha in stored if sha not in reachable}
        conn.execute(update(commits).where(commits.c.repo_id == repo_id).values(reachable=True))
    for i in range(0, len(dropped), 500):
        chunk = sorted(dropped)[i : i + 500]
        conn.execute(
            update(commits).where(commits.c.repo_id == repo_id, commits.c.sha.in_(chunk)).values(reachable=False)
        )


def _summarise(
    store: Store,
    info: RepoInfo,
    repo_id: int,
    new: int,
    lines: bool,
    charter: Charter | None,
    charter_file: Path | None,
    started: float,
    warnings: list[str],
) -> IngestSummary:
    with store.read() as conn:
        total = conn.execute(select(func.count()).select_from(commits).where(commits.c.repo_id == repo_id)).scalar()
        n_tags = conn.execute(select(func.count()).select_from(tags).where(tags.c.repo_id == repo_id)).scalar()
        ident = repo_identities.c.identity_id
        linked = conn.execute(
            select(func.count(), func.coalesce(func.sum(ident), 0), func.max(ident)).where(
                repo_identities.c.repo_id == repo_id
            )
        ).one()
    people, unknown = _people(store, repo_id, tuple(linked), charter, charter_file)
    return IngestSummary(
        repository=str(info.root),
        repo_id=repo_id,
        commits_total=int(total or 0),
        commits_new=new,
        tags=int(n_tags or 0),
        people=people,
        unknown_identities=unknown,
        shallow=info.shallow,
        lines=lines,
        seconds=round(time.perf_counter() - started, 3),
        warnings=warnings,
    )


def _people(
    store: Store, repo_id: int, linked: tuple[Any, ...], charter: Charter | None, charter_file: Path | None
) -> tuple[int, list[str]]:
    """How many people the repository's identities resolve to, and the identities the charter lacks.

    Kept in the cache with the identities (they only ever grow) and the charter they were resolved
    with: a run that adds no identity, with the charter unchanged, reads neither the charter nor the
    identities again, nor drafts a charter.
    """
    if charter is not None:
        which = ["given", charter.model_dump_json()]
    elif charter_file is not None:
        try:
            which = ["file", str(charter_file), hashlib.sha256(charter_file.read_bytes()).hexdigest()]
        except OSError:
            which = ["file", str(charter_file), "unreadable"]  # load_charter below says why
    else:
        which = ["drafted"]
    key = cache.digest(cache.code_version("charter", "mining"), [int(x or 0) for x in linked], which)
    owner = f"{store.url} {repo_id}"
    kept = cache.load("ingest-people", owner, key)
    if isinstance(kept, list) and len(kept) == 2:
        return int(kept[0]), [str(u) for u in kept[1]]

    from onebar.charter.identity import Resolver

    with store.read() as conn:
        rows = conn.execute(
            select(identities.c.name, identities.c.email)
            .join(repo_identities, repo_identities.c.identity_id == identities.c.id)
            .where(repo_identities.c.repo_id == repo_id)
        ).all()
    if charter is None and charter_file is not None:
        from onebar.charter import load_charter

        charter = load_charter(charter_file)
    if charter is None:
        from onebar.charter.draft import draft_from_identities

        charter = draft_from_identities([(r.name, r.email, 1) for r in rows])
    resolver = Resolver(charter)
    people: set[str] = set()
    unknown: list[str] = []
    for name, email in rows:
        match = resolver.resolve(name, email)
        if match.person:
            people.add(match.person)
        elif not match.known:
            unknown.append(f"{name} <{email}>")
    unknown.sort()
    cache.save("ingest-people", owner, key, [len(people), unknown])
    return len(people), unknown
