"""Building real git repositories in tests, with full control of authors, dates and trailers."""

from __future__ import annotations

import os
import subprocess
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

    def git(self, *args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
        full_env = {**os.environ, **self.env, **(env or {})}
        out = subprocess.run(["git", *args], cwd=self.path, env=full_env, check=True, capture_output=True, input=input)
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
        """Commit `files` with `message`; returns the new sha. Time advances by `step` seconds."""
        if files:
            self.write(files)
        self.git("add", "-A")
        self.clock = at if at is not None else self.clock + step
        committer = committer or author
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
