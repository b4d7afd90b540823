"""Reading a change from git: hunks, renames, binaries, odd names and encodings, shallow and detached repos."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import GitRepo, run_cli
from onebar.gate.git import INDEX, GitSource


def test_diff_numbers_added_lines_as_at_head(repo: GitRepo) -> None:
    repo.commit(
        "base",
        {
            "a.py": "".join(f"line {i}\n" for i in range(1, 21)),
            "old name.txt": "same\n" * 20,
            "gone.txt": "bye\n",
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x01",
        },
    )
    base = repo.head()
    lines = [f"line {i}\n" for i in range(1, 21)]
    lines[2] = "changed 3\n"
    lines.insert(10, "inserted\n")
    repo.git("mv", "old name.txt", "new näme.txt")
    repo.commit(
        "change",
        {
            "a.py": "".join(lines),
            "gone.txt": None,
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x02",
            "latin1.txt": "caf\xe9\n".encode("latin-1"),
        },
    )
    git = GitSource(repo.path)
    files = {f.path: f for f in git.diff(git.range(base, "HEAD"))}
    assert files["a.py"].added == {3: "changed 3", 11: "inserted"}
    assert files["a.py"].removed == ("line 3",)
    assert files["new näme.txt"].status == "R"
    assert files["new näme.txt"].old_path == "old name.txt"
    assert files["new näme.txt"].added == {}
    assert files["gone.txt"].deleted
    assert files["logo.png"].binary
    assert files["latin1.txt"].added == {1: "caf\ufffd"}


def test_staged_diff_and_reading_the_index(repo: GitRepo) -> None:
    repo.commit("base", {"a.txt": "a\n"})
    repo.write({"a.txt": "a\nb\n", "with space.py": "x = 1\n"})
    repo.git("add", "-A")
    repo.write({"a.txt": "a\nb\nunstaged\n"})  # not staged: not part of the change
    git = GitSource(repo.path)
    rng = git.range(None, None, staged=True)
    files = {f.path: f for f in git.diff(rng)}
    assert files["a.txt"].added == {2: "b"}
    assert files["with space.py"].added == {1: "x = 1"}
    assert git.show(INDEX, "a.txt") == b"a\nb\n"


def test_secret_in_a_path_with_spaces_is_located(repo: GitRepo) -> None:
    repo.commit("base", {"README.md": "x\n"})
    repo.git("checkout", "-q", "-b", "feature")
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    repo.commit("oops", {"conf dir/my settings.py": f'\n\nAWS_ACCESS_KEY_ID = "{key}"\n'})
    result = run_cli("gate", str(repo.path), "--base", "main", "--format", "json")
    secrets = next(r for r in json.loads(result.stdout)["rules"] if r["id"] == "secrets")
    assert secrets["status"] == "fail"
    assert secrets["violations"][0]["path"] == "conf dir/my settings.py"
    assert secrets["violations"][0]["line"] == 3
    assert key not in result.stdout


def test_detached_head(repo: GitRepo) -> None:
    repo.commit("base", {"README.md": "x\n"})
    repo.commit("docs", {"docs/a.md": "a\n"})
    repo.git("checkout", "-q", "--detach", "HEAD")
    result = run_cli("gate", str(repo.path), "--base", "HEAD~1", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["change"]["files"] == 1


def test_shallow_clone_without_the_base_is_unusable(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("one", {"a.txt": "1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("two", {"a.txt": "2\n"})
    repo.commit("three", {"a.txt": "3\n"})
    repo.git("checkout", "-q", "main")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True, capture_output=True
    )
    for args in (["fetch", "-q", "--depth", "1", "origin", "feature:feature"], ["checkout", "-q", "feature"]):
        subprocess.run(["git", *args], cwd=clone, check=True, capture_output=True)
    result = run_cli("gate", str(clone))
    assert result.exit_code == 2
    assert "shallow clone" in result.stderr
    assert "--base" in result.stderr
    result = run_cli("gate", str(clone), "--base", "HEAD~2")
    assert result.exit_code == 2
    assert "HEAD~2" in result.stderr


def test_json_error_shape_on_stdout(repo: GitRepo) -> None:
    repo.commit("one", {"a.txt": "1\n"})
    result = run_cli("gate", str(repo.path), "--base", "nope", "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"] == "GitError"


LINE = st.sampled_from(["a", "b", "c", "", "  indented", "tab\there", "ünï", "+plus", "-minus", "@@ x @@", "\\ back"])


_SCRATCH: list[GitRepo] = []


def _scratch(factory: pytest.TempPathFactory) -> GitRepo:
    """One repository for every example of a property test; each example adds two commits to it."""
    if not _SCRATCH:
        _SCRATCH.append(GitRepo.create(factory.mktemp("prop") / "r"))
    return _SCRATCH[0]


@settings(max_examples=25, deadline=None)
@given(st.lists(LINE, max_size=12), st.lists(LINE, max_size=12), st.booleans())
def test_diff_parser_agrees_with_git(
    tmp_path_factory: pytest.TempPathFactory, old: list[str], new: list[str], trailing_newline: bool
) -> None:
    """Whatever the contents, added lines carry their head line numbers and counts match `git diff --numstat`."""
    repo = _scratch(tmp_path_factory)
    text = "\n".join(new) + ("\n" if trailing_newline and new else "")
    with repo.batch(checkout=False):
        repo.commit("old", {"f.txt": "".join(x + "\n" for x in old), "keep": "k\n"})
        repo.commit("new", {"f.txt": text})
    base, head = repo.git("rev-parse", "HEAD~1", "HEAD").split()
    git = GitSource(repo.path)
    changes = git.diff(git.range(base, head))
    numstat = repo.git("diff", "--numstat", base, head).split()
    if not changes:
        assert numstat == []
        return
    (fchange,) = changes
    assert [fchange.added_count, fchange.removed_count] == [int(numstat[0]), int(numstat[1])]
    head_lines = text.split("\n")
    for number, content in fchange.added.items():
        assert head_lines[number - 1] == content


def test_the_gate_leaves_the_repository_as_it_was(repo: GitRepo) -> None:
    """Read-only: no checkout, no index refresh, no config change, nothing new under .git."""
    import hashlib

    repo.commit("base", {"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("more", {"b.txt": "b\n"})
    repo.write({"a.txt": "dirty\n", "c.txt": "staged\n"})
    repo.git("add", "c.txt")

    def snapshot() -> dict[str, str]:
        git_dir = repo.path / ".git"
        files = {
            str(p.relative_to(git_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(git_dir.rglob("*"))
            if p.is_file()
        }
        files["status"] = repo.git("status", "--porcelain=v1", env={"GIT_OPTIONAL_LOCKS": "0"})
        return files

    before = snapshot()
    assert run_cli("gate", str(repo.path), "--base", "main").exit_code in (0, 1)
    assert run_cli("gate", str(repo.path), "--staged").exit_code in (0, 1)
    assert snapshot() == before
