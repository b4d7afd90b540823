"""Repositories the service owns: a local path read in place, or a clone URL mirrored into the data folder.

A mirror is `git clone --mirror` into `<data>/mirrors/<name>.git` and refreshed by `git fetch --prune`
(on a push, by a job, or on a schedule). A bare mirror has no work tree, so its charter is read from
`HEAD:onebar.toml` into `<data>/charters/<name>.toml` after each fetch.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from onebar.errors import ConflictError, GitError, NotARepositoryError, NotFoundError, UsageError
from onebar.git import git, open_repository
from onebar.store import Store
from onebar.store.schema_service import service_repos
from onebar.workspace import Workspace, open_workspace

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[^/@\s]+@[^:/\s]+:)", re.IGNORECASE)  # scheme:// or scp-like user@host:


@dataclass(frozen=True)
class ServiceRepo:
    id: int
    name: str
    source: str
    kind: str  # "path" or "mirror"
    path: str
    repo_id: int | None
    added_at: int
    fetched_at: int | None
    ingested_at: int | None

    @property
    def mirror(self) -> bool:
        return self.kind == "mirror"

    def to_json(self) -> dict[str, Any]:
        from onebar.metrics.jsonable import iso

        return {
            "name": self.name,
            "kind": self.kind,
            "source": self.source if self.kind == "mirror" else None,
            "added": iso(self.added_at),
            "fetched": iso(self.fetched_at),
            "ingested": iso(self.ingested_at),
        }


def is_url(source: str) -> bool:
    return bool(_URL.match(source.strip()))


def default_name(source: str) -> str:
    tail = source.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    tail = tail.removesuffix(".git")
    if tail in ("", "repo") and "/" in source.rstrip("/"):  # .../owner+name/repo: use the parent
        tail = source.rstrip("/").rsplit("/", 2)[-2].removesuffix(".git")
    return re.sub(r"[^A-Za-z0-9._-]", "-", tail).lstrip("-._") or "repository"


def add_repo(
    store: Store, source: str, *, data_dir: Path, name: str | None = None, now: int | None = None
) -> ServiceRepo:
    """Register a repository: a local path is read in place; a URL is mirrored into `data_dir` first."""
    now = int(time.time()) if now is None else now
    source = source.strip()
    if not source:
        raise UsageError("name a repository path or clone URL", field="source")
    name = name.strip() if name else default_name(source)
    if not NAME.match(name):
        raise UsageError(
            f"{name!r} is not a usable repository name; use letters, digits, '.', '_' and '-'", field="name"
        )
    with store.read() as conn:
        if conn.execute(select(service_repos.c.id).where(service_repos.c.name == name)).first() is not None:
            raise ConflictError(f"a repository named {name!r} is already registered", field="name")
    if is_url(source):
        kind, path = "mirror", _clone_mirror(source, data_dir / "mirrors" / f"{name}.git")
    else:
        try:
            info = open_repository(Path(source).expanduser())
        except NotARepositoryError as exc:
            raise NotARepositoryError(exc.message, hint=exc.hint, field="source") from None
        kind, path = "path", str(info.root if not info.bare else info.git_dir)
        source = path
    row = {"name": name, "source": source, "kind": kind, "path": path, "added_at": now}
    if kind == "mirror":
        row["fetched_at"] = now
    with store.write() as conn:
        if conn.execute(select(service_repos.c.id).where(service_repos.c.name == name)).first() is not None:
            raise ConflictError(f"a repository named {name!r} is already registered", field="name")
        conn.execute(insert(service_repos).values(**row))
    return get_repo(store, name)


def _clone_mirror(url: str, target: Path) -> str:
    if target.exists():
        raise ConflictError(f"{target} already exists in the data folder", field="name", hint="choose another --name")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        git(target.parent, "clone", "--mirror", "--quiet", url, str(target))
    except GitError as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise UsageError(f"cannot mirror {url}: {exc.message}", field="source") from None
    return str(target)


def list_repos(store: Store) -> list[ServiceRepo]:
    with store.read() as conn:
        return [_repo(r) for r in conn.execute(select(service_repos).order_by(service_repos.c.name))]


def get_repo(store: Store, name: str) -> ServiceRepo:
    with store.read() as conn:
        row = conn.execute(select(service_repos).where(service_repos.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"no repository named {name!r} in the service", field="name")
    return _repo(row)


def fetch(store: Store, repo: ServiceRepo, *, now: int | None = None) -> bool:
    """`git fetch --prune` a mirror (a path repository is read in place: nothing to do); True when fetched."""
    if not repo.mirror:
        return False
    git(Path(repo.path), "fetch", "--prune", "--quiet", "origin")
    now = int(time.time()) if now is None else now
    with store.write() as conn:
        conn.execute(update(service_repos).where(service_repos.c.id == repo.id).values(fetched_at=now))
    return True


def charter_file(repo: ServiceRepo, data_dir: Path) -> Path | None:
    """The charter to use: a path repository's own; for a mirror, HEAD:onebar.toml copied out (or None)."""
    if not repo.mirror:
        return None  # open_workspace finds PATH/onebar.toml, or drafts one
    try:
        text = git(Path(repo.path), "show", "HEAD:onebar.toml")
    except GitError:
        return None
    target = data_dir / "charters" / f"{repo.name}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_bytes() != text:
        target.write_bytes(text)
    return target


def open_repo_workspace(store: Store, repo: ServiceRepo, data_dir: Path, *, ingest: bool = True) -> Workspace:
    """The workspace of a service repository on the service's store (ingesting what is new unless told not to)."""
    ws = open_workspace(Path(repo.path), store=store, charter_file=charter_file(repo, data_dir), ingest=ingest)
    if ingest or repo.repo_id != ws.repo_id:
        with store.write() as conn:
            values: dict[str, Any] = {"repo_id": ws.repo_id}
            if ingest:
                values["ingested_at"] = int(time.time())
            conn.execute(update(service_repos).where(service_repos.c.id == repo.id).values(**values))
    return ws


def _repo(row: Any) -> ServiceRepo:
    m = row._mapping
    return ServiceRepo(**{k: m[k] for k in ServiceRepo.__dataclass_fields__})
