"""Reading a change from git, read-only: `git diff`, `git show`, `git log` as subprocesses.

Never checks out, resets or configures the repository. Everything the rules need comes back as plain
data (`FileChange`); a ref that does not exist raises GitError (exit 2) naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from onebar.errors import GitError, NotARepositoryError
from onebar.gate.model import FileChange
from onebar.git import git

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
INDEX = ":"  # the staged tree, as the head of a pre-commit change
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Range:
    base: str  # a commit sha, or EMPTY_TREE
    head: str  # a commit sha, or INDEX for the staged tree
    base_label: str
    head_label: str


class GitSource:
    """The repository at `root`, read through `git` only."""

    def __init__(self, root: Path):
        self.root = root
        if not root.exists():
            raise NotARepositoryError(f"{root} does not exist")
        try:
            top = self._run("rev-parse", "--show-toplevel").strip()
        except GitError:
            raise NotARepositoryError(f"{root} is not a git repository", hint="run the gate inside a clone") from None
        self.root = Path(top)

    def _run(self, *args: str, check: bool = True) -> str:
        return self._run_bytes(*args, check=check).decode("utf-8", "replace")

    def _run_bytes(self, *args: str, check: bool = True) -> bytes:
        return git(self.root, *args, check=check)

    def _commit(self, ref: str) -> str | None:
        """The commit sha `ref` names, None when it names none."""
        return self._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).strip() or None

    def resolve(self, ref: str, what: str = "ref") -> str:
        """The commit sha `ref` names; a GitError names the ref, and the field `what` (base, head) when missing."""
        sha = self._commit(ref)
        if sha is None:
            field = what if what in ("base", "head") else None
            raise GitError(
                f"{ref!r} does not exist in {self.root}" if field else f"{what} {ref!r} does not exist in {self.root}",
                field=field,
                hint="fetch it (in CI, clone the full history: fetch-depth 0), or name an existing ref",
            )
        return sha

    def has_head(self) -> bool:
        return self._commit("HEAD") is not None

    def default_branch(self) -> str | None:
        """origin's HEAD if known, else the first of origin/main, origin/master, main, master that exists."""
        sym = self._run("symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD", check=False).strip()
        candidates = [sym] if sym else []
        candidates += ["origin/main", "origin/master", "main", "master"]
        return next((ref for ref in candidates if self._commit(ref) is not None), None)

    def range(self, base: str | None, head: str | None, staged: bool = False) -> Range:
        """Resolve the change: `base..head`, or HEAD..index when `staged`; base defaults to the merge base."""
        if staged:
            if base is not None:
                base_sha = self.resolve(base, "base")
            else:
                base_sha = self.resolve("HEAD", "HEAD") if self.has_head() else EMPTY_TREE
            return Range(base_sha, INDEX, base or "HEAD", "staged")
        head_ref = head or "HEAD"
        head_sha = self.resolve(head_ref, "head")
        if base is None:
            branch = self.default_branch()
            if branch is None:
                raise GitError(
                    "no default branch (main, master or origin/HEAD) to take the merge base with",
                    field="base",
                    hint="name the base of the change",
                )
            out = self._run("merge-base", branch, head_sha, check=False).strip()
            if not out:
                shallow = self._run("rev-parse", "--is-shallow-repository", check=False).strip() == "true"
                hint = "this is a shallow clone: fetch the full history (fetch-depth: 0)" if shallow else ""
                raise GitError(
                    f"{branch!r} and {head_ref!r} have no common ancestor",
                    field="base",
                    hint=(hint + "; or " if hint else "") + "name the base of the change",
                )
            return Range(out, head_sha, f"merge-base({branch})", head_ref)
        return Range(self.resolve(base, "base"), head_sha, base, head_ref)

    def _diff_args(self, rng: Range) -> list[str]:
        common = ["--no-color", "--no-ext-diff", "--no-textconv", "-M"]
        if rng.head == INDEX:
            return [*common, "--cached", rng.base]
        return [*common, rng.base, rng.head]

    def diff(self, rng: Range) -> list[FileChange]:
        """Every changed file with its added lines (numbered as at head) and removed lines."""
        names = self._run_bytes("diff", "--name-status", "-z", *self._diff_args(rng)).split(b"\0")
        entries: list[tuple[str, str, str | None]] = []
        i = 0
        while i < len(names) and names[i]:
            status = names[i].decode()[0]
            if status in "RC":
                old, new = names[i + 1].decode("utf-8", "replace"), names[i + 2].decode("utf-8", "replace")
                entries.append((status, new, old))
                i += 3
            else:
                entries.append((status, names[i + 1].decode("utf-8", "replace"), None))
                i += 2
        patch = self._run("diff", "-U0", "--src-prefix=a/", "--dst-prefix=b/", *self._diff_args(rng))
        blocks = _split_blocks(patch)
        if len(blocks) != len(entries):  # never expected; fail loudly rather than misattribute lines
            raise GitError(f"could not match git diff output ({len(blocks)} patches for {len(entries)} files)")
        return [_file_change(entry, block) for entry, block in zip(entries, blocks, strict=True)]

    def show(self, ref: str, path: str) -> bytes | None:
        """A file's bytes at `ref` (INDEX for the staged tree), None when it does not exist there."""
        if ref == EMPTY_TREE:
            return None
        try:
            return self._run_bytes("show", f":{path}" if ref == INDEX else f"{ref}:{path}")
        except GitError:
            return None

    def list_files(self, ref: str, under: str | None = None) -> list[str]:
        if ref == EMPTY_TREE:
            return []
        args = ["ls-files", "-z"] if ref == INDEX else ["ls-tree", "-r", "-z", "--name-only", ref]
        if under:
            args += ["--", under]
        return [p for p in self._run(*args).split("\0") if p]

    def commit_authors(self, rng: Range) -> list[tuple[str, str]]:
        """(name, email) of each commit in the change, oldest first; the configured user for staged changes."""
        if rng.head == INDEX:
            name = self._run("config", "user.name", check=False).strip()
            email = self._run("config", "user.email", check=False).strip()
            return [(name, email)] if email else []
        spec = rng.head if rng.base == EMPTY_TREE else f"{rng.base}..{rng.head}"
        out = self._run("log", "--reverse", "--no-merges", "--format=%an%x00%ae", spec)
        return [tuple(line.split("\0", 1)) for line in out.splitlines() if "\0" in line]  # type: ignore[misc]

    def coauthors(self, rng: Range) -> list[tuple[str, str]]:
        """(name, email) of every Co-authored-by trailer of the change's commits, in order, once each."""
        if rng.head == INDEX:
            return []
        spec = rng.head if rng.base == EMPTY_TREE else f"{rng.base}..{rng.head}"
        out = self._run("log", "--reverse", "--no-merges", "--format=%(trailers:key=Co-authored-by,valueonly)", spec)
        found: dict[tuple[str, str], None] = {}
        for line in out.splitlines():
            name, _, rest = line.strip().partition("<")
            if rest.endswith(">") and name.strip():
                found.setdefault((name.strip(), rest[:-1].strip()), None)
        return list(found)


def _split_blocks(patch: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    for line in patch.split("\n"):
        if line.startswith("diff --git "):
            blocks.append([])
        if blocks:
            blocks[-1].append(line)
    return blocks


def _file_change(entry: tuple[str, str, str | None], block: list[str]) -> FileChange:
    status, path, old = entry
    added: dict[int, str] = {}
    removed: list[str] = []
    binary = False
    in_hunk = False
    line_no = 0
    for line in block[1:]:
        if not in_hunk:
            if line.startswith("Binary files ") or line == "GIT binary patch":
                binary = True
            m = _HUNK.match(line)
            if m:
                in_hunk, line_no = True, int(m.group(1))
            continue
        if line.startswith("@@"):
            m = _HUNK.match(line)
            if m:
                line_no = int(m.group(1))
        elif line.startswith("+"):
            added[line_no] = line[1:]
            line_no += 1
        elif line.startswith("-"):
            removed.append(line[1:])
        elif line.startswith(" "):
            line_no += 1
    return FileChange(
        path=path,
        status=status,
        old_path=old,
        added=added,
        removed=tuple(removed),
        added_count=len(added),
        removed_count=len(removed),
        binary=binary,
    )
