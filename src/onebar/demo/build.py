"""Building a demo repository: prepare the directory, stream the history, check out the work tree."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from onebar.demo.cast import ORGS, PEOPLE
from onebar.demo.simulation import Simulation
from onebar.demo.stream import FastImport
from onebar.errors import GitError, UsageError

MIN_COMMITS = 50
MAX_COMMITS = 10_000_000


@dataclass(frozen=True)
class DemoSummary:
    """What `build_demo` made; `to_dict` is the JSON shape of `onebar demo --format json`."""

    path: Path
    seed: int
    commits: int
    merges: int
    reverts: int
    fixes: int
    releases: int
    hotfixes: int
    prereleases: int
    open_branches: int
    files: int
    people: int
    organisations: int
    first_commit: str
    last_commit: str
    head: str
    seconds: float

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def build_demo(path: Path, commits: int = 5000, seed: int = 0, *, force: bool = False) -> DemoSummary:
    """Create a realistic sample repository of `commits` commits at `path` (same seed, same shas).

    The charter `onebar.toml` is committed in the first commit. Raises UsageError for a bad count
    or a non-empty directory (unless `force`, which empties it first).
    """
    if not MIN_COMMITS <= commits <= MAX_COMMITS:
        raise UsageError(f"--commits must be between {MIN_COMMITS} and {MAX_COMMITS:,}, got {commits}")
    started = time.perf_counter()
    path = path.expanduser()
    _prepare(path, force)
    _git(path, "init", "-q", "-b", "main")
    fi = FastImport(path)
    try:
        history = Simulation(fi, commits, seed)
        history.run()
        fi.close()
    except BaseException:
        fi.abort()
        raise
    _git(path, "reset", "-q", "--hard")
    head = _git(path, "rev-parse", "HEAD")
    c = history.counts
    return DemoSummary(
        path=path,
        seed=seed,
        commits=c.commits,
        merges=c.merges,
        reverts=c.reverts,
        fixes=c.fixes,
        releases=c.releases,
        hotfixes=c.hotfixes,
        prereleases=c.prereleases,
        open_branches=sum(1 for b in history.branches if b.tip),
        files=len(history.main),
        people=sum(1 for p in PEOPLE if p.in_charter),
        organisations=len(ORGS),
        first_commit=_iso(history.first_t),
        last_commit=_iso(history.last_t),
        head=head,
        seconds=round(time.perf_counter() - started, 3),
    )


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _prepare(path: Path, force: bool) -> None:
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()):
        if not force:
            raise UsageError(f"{path} is not empty; choose a new directory or pass --force to replace its contents")
        resolved = path.resolve()
        if resolved in (Path("/"), Path.home().resolve()) or Path.cwd().resolve().is_relative_to(resolved):
            raise UsageError(f"refusing to empty {path}: it is the root, your home or holds the current directory")
        for child in path.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    path.mkdir(parents=True, exist_ok=True)


def _git(repo: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    except subprocess.CalledProcessError as exc:
        raise GitError(f"git {' '.join(args)} failed: {exc.stderr.strip()}") from None
    return out.stdout.strip()
