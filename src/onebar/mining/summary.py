"""What an ingest reports, and the no-op check that needs no database library.

`IngestSummary` is what `ingest_repository` returns. `unchanged` and `remember` let a run with
nothing new answer without opening the store: after each ingest into a SQLite store, the summary is
kept in the cache with the ref tips it recorded and the state of the database file once closed; a
later run whose repository has the same tips, whose store file is untouched and whose charter is the
same has nothing to do, and says so with the kept figures. Any difference, or a PostgreSQL store
(its state cannot be read without connecting), takes the ordinary path.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from onebar.git import RepoInfo

Progress = Callable[[int, int | None], None]  # (done, total or None while unknown)


@dataclass
class IngestSummary:
    repository: str
    repo_id: int
    commits_total: int
    commits_new: int
    tags: int
    people: int
    unknown_identities: list[str]
    shallow: bool
    lines: bool
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def shallow_warning(info: RepoInfo) -> list[str]:
    if info.shallow:
        return [f"{info.root} is a shallow clone: history is cut, so older figures are missing"]
    return []


def _sqlite_file(url: str) -> Path | None:
    """The database file of a plain SQLite URL (no URI options); None for anything else."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = url.removeprefix("sqlite:///")
    return Path(path) if path and path != ":memory:" else None


def _file_state(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def _key(info: RepoInfo, db: Path, tips: dict[str, str], charter_file: Path | None) -> str | None:
    from onebar.store import cache

    state = _file_state(db)
    if state is None:
        return None
    charter: str | None = None
    if charter_file is not None:
        try:
            charter = hashlib.sha256(charter_file.read_bytes()).hexdigest()
        except OSError:
            return None
    return cache.digest(
        cache.code_version("charter", "mining", "store"),
        state,
        _file_state(Path(f"{db}-wal")),
        sorted(tips.items()),
        charter,
        info.shallow,
    )


def unchanged(info: RepoInfo, url: str, charter_file: Path | None, lines: bool) -> IngestSummary | None:
    """The summary of a run with nothing to do, if that can be told without opening the store."""
    from onebar.mining.refs import read_tips
    from onebar.store import cache

    started = time.perf_counter()
    db = _sqlite_file(url)
    if db is None or not (os.access(db, os.W_OK) and os.access(db.parent, os.W_OK)):
        return None  # PostgreSQL, or a store only the ordinary path can tell is read-only
    key = _key(info, db, read_tips(info.root), charter_file)
    kept = cache.load("ingest-noop", f"{db} {info.git_dir}", key) if key else None
    if not isinstance(kept, dict):
        return None
    try:
        return IngestSummary(
            repository=str(info.root),
            repo_id=int(kept["repo_id"]),
            commits_total=int(kept["commits_total"]),
            commits_new=0,
            tags=int(kept["tags"]),
            people=int(kept["people"]),
            unknown_identities=[str(u) for u in kept["unknown_identities"]],
            shallow=info.shallow,
            lines=lines,
            seconds=round(time.perf_counter() - started, 3),
            warnings=shallow_warning(info),
        )
    except (KeyError, TypeError, ValueError):
        return None


def remember(info: RepoInfo, url: str, charter_file: Path | None, summary: IngestSummary, tips: dict[str, str]) -> None:
    """Keep `summary`, with the ref `tips` the store records, for `unchanged`; call it once the store is
    closed (closing may write to its file)."""
    from onebar.store import cache

    db = _sqlite_file(url)
    if db is None or not tips:
        return
    key = _key(info, db, tips, charter_file)
    if key is None:
        return
    figures = {k: v for k, v in summary.to_dict().items() if k in _KEPT}
    cache.save("ingest-noop", f"{db} {info.git_dir}", key, figures)


_KEPT = ("repo_id", "commits_total", "tags", "people", "unknown_identities")
