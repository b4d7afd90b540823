"""A workspace: one repository with its charter and the store, brought up to date.

Every face (the CLI, the HTTP service, the GitHub Action) starts a job the same way: open the
repository, load its charter (or draft one in memory when it has none, as `onebar init` would),
open the store and ingest what is new. `open_workspace` does exactly that once and returns a typed
handle; the report, off-boarding, recording and service functions take it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from onebar.charter import find_charter, load_charter
from onebar.charter.model import Charter
from onebar.errors import GitError
from onebar.git import RepoInfo, git, open_repository
from onebar.mining.ingest import ingest_repository
from onebar.mining.summary import IngestSummary
from onebar.store import Store, open_store


@dataclass(frozen=True)
class Head:
    """The repository's HEAD commit and the paths of its tree (both None for an empty repository)."""

    sha: str | None
    files: frozenset[str] | None


@dataclass
class Workspace:
    """An opened repository, its charter and the store, with the repository's id in that store."""

    repo: RepoInfo
    charter: Charter
    charter_file: Path | None  # None when the charter was drafted from history
    store: Store
    repo_id: int
    ingest: IngestSummary | None = None
    notes: list[str] = field(default_factory=list)  # what a face should tell the user (e.g. not ingested)
    _head: Head | None = field(default=None, repr=False)

    @property
    def drafted(self) -> bool:
        return self.charter_file is None

    def head(self) -> Head:
        """HEAD and its tree, read from git once."""
        if self._head is None:
            self._head = read_head(self.repo.root)
        return self._head

    def rev_parse(self, ref: str, field_name: str = "ref") -> str:
        """The full sha of a commit, tag or branch; a UsageError naming `field_name` when it is none."""
        from onebar.errors import UsageError

        try:
            sha = git(self.repo.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
        except GitError:
            sha = ""
        if not sha:
            raise UsageError(f"{ref!r} is not a commit, tag or branch of {self.repo.root}", field=field_name)
        return sha

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_head(root: Path) -> Head:
    try:
        sha = git(root, "rev-parse", "--verify", "HEAD^{commit}").decode().strip()
        out = git(root, "ls-tree", "-r", "-z", "--name-only", "HEAD")
    except GitError:  # an empty repository has no HEAD
        return Head(None, None)
    return Head(sha, frozenset(p for p in out.decode("utf-8", "surrogateescape").split("\0") if p))


def load_or_draft_charter(repo: RepoInfo, charter_file: Path | None = None) -> tuple[Charter, Path | None]:
    """The charter given, else the repository's onebar.toml, else one drafted from history."""
    found = charter_file or (find_charter(repo.root) if not repo.bare else None)
    if found is not None:
        return load_charter(found), found
    return drafted_charter(repo), None


def drafted_charter(repo: RepoInfo) -> Charter:
    """The charter `onebar init` would draft for a repository without one.

    Drafting reads the whole history (seconds on a big one), so the draft is kept in the cache
    until something it reads changes: any ref or HEAD, the index (the tree's paths), .mailmap,
    or this onebar's charter code.
    """
    from pydantic import ValidationError

    from onebar.charter.draft import draft_charter
    from onebar.store import cache

    key = _draft_key(repo)
    kept = cache.load("drafted-charter", str(repo.git_dir), key)
    if isinstance(kept, str):
        try:
            return Charter.model_validate_json(kept)
        except ValidationError:
            pass  # written by other code than this: draft afresh
    charter = draft_charter(repo.root)
    cache.save("drafted-charter", str(repo.git_dir), key, charter.model_dump_json())
    return charter


def _draft_key(repo: RepoInfo) -> str:
    from onebar.store import cache

    refs = git(repo.root, "show-ref", "--head", check=False)  # every ref, HEAD first: what `git log --all` reads

    def state(path: Path) -> tuple[int, int] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns)

    return cache.digest(
        cache.code_version("charter"),
        repo.root.name,
        hashlib.sha256(refs).hexdigest(),
        state(repo.git_dir / "index"),
        state(repo.root / ".mailmap"),
    )


def open_workspace(
    path: Path,
    *,
    db: str | None = None,
    charter_file: Path | None = None,
    ingest: bool = True,
    store: Store | None = None,
) -> Workspace:
    """Open the repository at `path`, its charter and the store; ingest what is new unless told not to.

    `store` reuses an open store (the service keeps one); otherwise `db` (a URL, or the default) is
    opened and closed with the workspace. A store that can only be read is read as it is: nothing is
    ingested, and `notes` says so.
    """
    repo = open_repository(path)
    charter, found = load_or_draft_charter(repo, charter_file)
    own = store is None
    st = open_store(db) if store is None else store
    notes: list[str] = []
    if ingest and st.readonly:
        ingest = False
        notes.append(f"the store {st.url} is read-only: showing what it holds, without ingesting what is new")
    try:
        summary = ingest_repository(path, st, charter=charter if found else None, repo=repo) if ingest else None
        repo_id = summary.repo_id if summary is not None else _repo_id(st, repo)
    except BaseException:
        if own:
            st.close()
        raise
    return Workspace(repo, charter, found, st, repo_id, summary, notes)


def _repo_id(store: Store, repo: RepoInfo) -> int:
    from sqlalchemy import select

    from onebar.errors import NotFoundError
    from onebar.store.schema import repositories

    with store.read() as conn:
        rid = conn.execute(select(repositories.c.id).where(repositories.c.path == str(repo.git_dir))).scalar()
    if rid is None:
        raise NotFoundError(f"{repo.root} has not been ingested into the store", hint="run onebar ingest first")
    return int(rid)
