"""Building real git repositories in tests, with full control of authors, dates and trailers."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner, Result

from onebar.cli import cli

ALICE = ("Alice Example", "alice@acme.test")
BASE_TIME = 1_700_000_000  # 2023-11-14T22:13:20Z: fixed so every test's history is reproducible


@dataclass
class GitRepo:
    """A real repository in a temp dir; each commit gets its own author and a deterministic date."""

    path: Path
    clock: int = BASE_TIME
    env: dict[str, str] = field(default_factory=dict)
    _stream: list[bytes] | None = field(default=None, repr=False)  # a fast-import stream while batching
    _branch: str = field(default="main", repr=False)

    def git(self, *args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
        full_env = {**os.environ, **self.env, **(env or {})}
        # Never an inherited stdin: `git gc` runs pack-objects --revs, which reads revisions from it.
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        out = subprocess.run(["git", *args], cwd=self.path, env=full_env, check=True, capture_output=True, **stdin)
        return out.stdout.decode("utf-8", "replace").strip()

    @classmethod
    def create(cls, path: Path, branch: str = "main") -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path, env={"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(path.parent), "TZ": "UTC"})
        repo.git("init", "-q", "-b", branch)
        repo.git("config", "user.name", "Test Runner")
        repo.git("config", "user.email", "runner@example.com")
        repo.git("config", "commit.gpgsign", "false")
        return repo

    def write(self, files: dict[str, str | bytes | None]) -> None:
        """Write (or with None, delete) files relative to the repository root."""
        for rel, content in files.items():
            target = self.path / rel
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)

    def commit(
        self,
        message: str,
        files: dict[str, str | bytes | None] | None = None,
        *,
        author: tuple[str, str] = ALICE,
        committer: tuple[str, str] | None = None,
        at: int | None = None,
        tz: str = "+0000",
        step: int = 3600,
    ) -> str:
        """Commit `files` with `message`; returns the new sha. Time advances by `step` seconds.

        Inside `batch()` the commit carries exactly `files` (nothing else written to the work tree) and
        its sha is only known once the batch ends, so "" is returned."""
        self.clock = at if at is not None else self.clock + step
        committer = committer or author
        if self._stream is not None:
            self._queue(message, files or {}, author, committer, tz)
            return ""
        if files:
            self.write(files)
        self.git("add", "-A")
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_AUTHOR_DATE": f"@{self.clock} {tz}",
            "GIT_COMMITTER_DATE": f"@{self.clock} {tz}",
        }
        self.git("commit", "-q", "--allow-empty", "-F", "-", env=env, input=message.encode())
        return self.git("rev-parse", "HEAD")

    @contextmanager
    def batch(self, *, checkout: bool = True) -> Iterator[GitRepo]:
        """Commits made inside go to one `git fast-import` at the end (thousands a second, instead of
        three git processes a commit); the work tree is then checked out at the new HEAD. With
        `checkout=False` the work tree and index stay as they were (much faster for thousands of files;
        only for histories nothing commits on afterwards)."""
        branch = self.git("symbolic-ref", "--short", "HEAD")
        tip = self.git("rev-parse", "HEAD") if self._has_head() else ""
        self._stream = [f"reset refs/heads/{branch}\n".encode() + (f"from {tip}\n\n".encode() if tip else b"\n")]
        self._branch = branch
        try:
            yield self
            stream = b"".join(self._stream)
        finally:
            self._stream = None
        self.git("fast-import", "--quiet", "--force", input=stream)
        if checkout:
            self.git("reset", "-q", "--hard", "HEAD")

    def _has_head(self) -> bool:
        full_env = {**os.environ, **self.env}
        probe = ["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"]
        return subprocess.run(probe, cwd=self.path, env=full_env, capture_output=True).returncode == 0

    def _queue(
        self,
        message: str,
        files: dict[str, str | bytes | None],
        author: tuple[str, str],
        committer: tuple[str, str],
        tz: str,
    ) -> None:
        assert self._stream is not None
        data = message.encode()
        out = [
            f"commit refs/heads/{self._branch}\n".encode(),
            f"author {author[0]} <{author[1]}> {self.clock} {tz}\n".encode(),
            f"committer {committer[0]} <{committer[1]}> {self.clock} {tz}\n".encode(),
            f"data {len(data)}\n".encode() + data + b"\n",
        ]
        for rel, content in files.items():
            if content is None:
                out.append(f"D {rel}\n".encode())
                continue
            blob = content if isinstance(content, bytes) else content.encode()
            out.append(f"M 100644 inline {rel}\ndata {len(blob)}\n".encode() + blob + b"\n")
        self._stream.extend([*out, b"\n"])

    def tag(self, name: str, ref: str = "HEAD", message: str | None = None, at: int | None = None) -> None:
        if message is None:
            self.git("tag", name, ref)
        else:
            when = at if at is not None else self.clock
            self.git("tag", "-a", name, ref, "-m", message, env={"GIT_COMMITTER_DATE": f"@{when} +0000"})

    def merge(
        self, branch: str, message: str, *, author: tuple[str, str] = ("Alice Example", "alice@acme.test")
    ) -> str:
        self.clock += 3600
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": author[0],
            "GIT_COMMITTER_EMAIL": author[1],
            "GIT_AUTHOR_DATE": f"@{self.clock} +0000",
            "GIT_COMMITTER_DATE": f"@{self.clock} +0000",
        }
        self.git("merge", "-q", "--no-ff", "-m", message, branch, env=env)
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def run_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """Invoke the real CLI in-process; exit code, stdout and stderr are on the result."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def fast_import_history(path: Path, commits: int, *, authors: int = 5, start: int = BASE_TIME) -> GitRepo:
    """A linear history of `commits` commits built by one `git fast-import` (seconds for thousands)."""
    repo = GitRepo.create(path)
    out: list[bytes] = []
    for i in range(1, commits + 1):
        body = f"line {i}\n".encode() * (1 + i % 3)
        who = i % authors
        stamp = start + i * 600
        message = f"change {i}\n".encode()
        out.append(b"commit refs/heads/main\n")
        out.append(f"mark :{i}\n".encode())
        out.append(f"author Dev {who} <dev{who}@acme.test> {stamp} +0000\n".encode())
        out.append(f"committer Dev {who} <dev{who}@acme.test> {stamp} +0000\n".encode())
        out.append(f"data {len(message)}\n".encode() + message)
        if i > 1:
            out.append(f"from :{i - 1}\n".encode())
        out.append(f"M 100644 inline src/mod{i % 50}.py\ndata {len(body)}\n".encode() + body + b"\n")
    repo.git("fast-import", "--quiet", input=b"".join(out))
    return repo
