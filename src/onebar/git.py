"""Running git, read-only: the miner never checks out, resets or configures what it reads."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from onebar.errors import GitError, NotARepositoryError

# Isolate from the user's and system's git configuration (pagers, colour, replace refs), and take no
# optional locks (no index refresh), so that reading never writes to the repository.
_ENV = {
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_NO_LAZY_FETCH": "1",  # a partial clone's missing objects are not fetched while reading (git >= 2.44)
    "LC_ALL": "C",
}


def git_env() -> dict[str, str]:
    return {**os.environ, **_ENV}


def git(cwd: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    """Run one git command in `cwd` and return its stdout; a failure raises GitError with git's words."""
    proc = subprocess.run(
        ["git", "-c", "core.quotepath=off", "-c", "log.showSignature=false", *_LIMITS, *args],
        cwd=cwd,
        env=git_env(),
        input=input,
        capture_output=True,
    )
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"exit status {proc.returncode}"
        raise GitError(f"git {args[0]} failed in {cwd}: {message}")
    return proc.stdout


# A long `git log` maps pack files and caches delta bases as it goes; capping both keeps each
# process's memory bounded on any history length at little cost in speed (docs/benchmarks.md).
# One-shot commands get the same caps: uncapped, `git for-each-ref` peeling a few thousand tags of
# a million-commit pack maps 500 MB of it (176 MB capped, and faster).
_LIMITS = [
    "-c",
    "core.packedGitLimit=128m",
    "-c",
    "core.packedGitWindowSize=16m",
    "-c",
    "core.deltaBaseCacheLimit=48m",
]


def popen_git(cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start a streaming git command (stdin and stdout are pipes)."""
    return subprocess.Popen(
        ["git", "-c", "core.quotepath=off", "-c", "log.showSignature=false", *_LIMITS, *args],
        cwd=cwd,
        env=git_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@dataclass(frozen=True)
class RepoInfo:
    """Where a repository lives and what kind it is."""

    git_dir: Path  # absolute; the store's key for the repository
    root: Path  # the work tree's top level, or the git dir of a bare repository
    name: str
    bare: bool
    shallow: bool


def open_repository(path: Path) -> RepoInfo:
    """Identify the git repository at `path`; a non-repository is a clear usage error (exit 2)."""
    if not path.exists():
        raise NotARepositoryError(f"{path}: no such file or directory")
    if not path.is_dir():
        raise NotARepositoryError(f"{path}: not a directory, so not a git repository")
    proc = subprocess.run(
        ["git", "rev-parse", "--absolute-git-dir", "--is-bare-repository", "--is-shallow-repository"],
        cwd=path,
        env=git_env(),
        capture_output=True,
    )
    if proc.returncode != 0:
        raise NotARepositoryError(
            f"{path}: not a git repository", hint="run onebar inside a clone, or pass the path of one"
        )
    git_dir_s, bare_s, shallow_s = proc.stdout.decode().split("\n")[:3]
    git_dir = Path(git_dir_s)
    bare = bare_s == "true"
    if bare:
        root = git_dir
        name = git_dir.name.removesuffix(".git") or git_dir.name
    else:
        top = git(path, "rev-parse", "--show-toplevel").decode().strip()
        root = Path(top)
        name = root.name
    return RepoInfo(git_dir=git_dir, root=root, name=name, bare=bare, shallow=shallow_s == "true")


def decode_text(raw: bytes, encoding: str = "") -> str:
    """Text git printed as it was stored: UTF-8, else the commit's declared `encoding`, else cp1252/latin-1.

    Old histories hold names and messages in Latin-1 without an `encoding` header; decoding them as
    cp1252 (a superset of latin-1's printable characters) shows "Müller" rather than "M\ufffdller".
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for codec in (encoding.strip(), "cp1252"):
        if not codec:
            continue
        try:
            return raw.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("latin-1")
