"""Mining a repository that lacks objects (a lost blob, a partial clone without its promisor), and
names in legacy encodings: the first run completes and says what it could not read."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sqlalchemy import select

from helpers import GitRepo, run_cli
from onebar.mining.ingest import ingest_repository
from onebar.mining.missing import lines_unknown, unreadable_commits
from onebar.mining.stream import Miner
from onebar.store import Store
from onebar.store.schema import commits, file_changes, identities


def _lose_blob(repo: GitRepo, rev: str, path: str) -> str:
    """Delete the loose object of `path` at `rev`, as a damaged copy would lack it."""
    oid = repo.git("rev-parse", f"{rev}:{path}")
    (repo.path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    return oid


def _history(repo: GitRepo, n: int = 8) -> list[str]:
    return [repo.commit(f"c{i}", {f"src/f{i}.py": f"v{i}\n", "src/common.py": "x\n" * (i + 1)}) for i in range(n)]


def test_a_lost_blob_leaves_its_commit_without_line_counts_and_says_so(repo: GitRepo, store: Store) -> None:
    shas = _history(repo)
    _lose_blob(repo, shas[3], "src/f3.py")
    summary = ingest_repository(repo.path, store, jobs=2)  # the first run completes
    assert summary.commits_total == 8
    assert len(summary.warnings) == 1
    assert "1 commit(s)" in summary.warnings[0] and shas[3][:12] in summary.warnings[0]
    with store.read() as conn:
        rows = {
            r.sha: (r.files, r.added) for r in conn.execute(select(commits.c.sha, commits.c.files, commits.c.added))
        }
        paths = conn.execute(
            select(file_changes.c.path, file_changes.c.added)
            .join(commits, commits.c.id == file_changes.c.commit_id)
            .where(commits.c.sha == shas[3])
        ).all()
    assert rows[shas[3]] == (2, None)  # its files are known, their line counts are not
    assert sorted(p for p, _ in paths) == ["src/common.py", "src/f3.py"]
    assert all(a is None for _, a in paths)
    assert all(rows[s][1] is not None for s in shas if s != shas[3])  # the others keep theirs
    assert lines_unknown(store, summary.repo_id) == [shas[3]]
    again = ingest_repository(repo.path, store)
    assert again.commits_new == 0 and again.commits_total == 8


def test_the_report_warns_about_commits_it_could_not_read(repo: GitRepo, tmp_path: Path) -> None:
    shas = _history(repo, 4)
    _lose_blob(repo, shas[1], "src/f1.py")
    db = f"sqlite:///{tmp_path / 'r.db'}"
    for _ in range(2):  # the warning comes from the store, so a later run says it too
        result = run_cli("report", str(repo.path), "--db", db, "--since", "all", "--format", "json")
        assert result.exit_code == 0, result.output
        warnings = json.loads(result.stdout)["warnings"]
        assert len(warnings) == 1 and "1 commit(s)" in warnings[0] and shas[1][:12] in warnings[0]


def test_a_partial_clone_without_its_promisor_is_mined_whole(repo: GitRepo, store: Store, tmp_path: Path) -> None:
    shas = _history(repo, 6)
    repo.git("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", "--no-checkout", f"file://{repo.path}", str(clone)], check=True
    )
    subprocess.run(["git", "-C", str(clone), "remote", "set-url", "origin", str(tmp_path / "gone")], check=True)
    summary = ingest_repository(clone, store)
    assert summary.commits_total == 6
    assert "6 commit(s)" in summary.warnings[0]
    assert sorted(lines_unknown(store, summary.repo_id)) == sorted(shas)
    with store.read() as conn:
        assert conn.execute(select(commits.c.files).where(commits.c.sha == shas[2])).scalar() == 2


def test_probe_finds_exactly_the_commits_that_need_a_missing_blob(repo: GitRepo) -> None:
    shas = _history(repo, 5)
    _lose_blob(repo, shas[2], "src/f2.py")
    assert unreadable_commits(repo.path, shas) == {shas[2]}
    assert unreadable_commits(repo.path, [shas[0], shas[4]]) == set()


def test_without_line_counts_no_blob_is_needed(repo: GitRepo) -> None:
    shas = _history(repo, 3)
    _lose_blob(repo, shas[1], "src/f1.py")
    miner = Miner(repo.path, {shas[-1]}, [], lines=False)
    mined = [c for batch in miner for c in batch]
    assert len(mined) == 3 and not miner.unreadable and not any(c.lines_unknown for c in mined)


def test_names_in_legacy_encodings_are_decoded(repo: GitRepo, store: Store) -> None:
    """A Latin-1 name with no `encoding` header, and one declared ISO-8859-2 that git cannot convert."""
    latin1 = "José Müller".encode("latin-1")
    polish = "Łukasz Żółw".encode("iso-8859-2")
    stream = b"".join(
        [
            b"commit refs/heads/main\nmark :1\nauthor " + latin1 + b" <jose@x.test> 1700000000 +0100\n",
            b"committer " + latin1 + b" <jose@x.test> 1700000000 +0100\ndata 5\nfirst\n",
            b"M 100644 inline a.txt\ndata 2\na\n\n",
            b"commit refs/heads/main\nmark :2\nauthor " + polish + b" <lz@x.test> 1700000100 +0100\n",
            b"committer " + polish + b" <lz@x.test> 1700000100 +0100\nencoding ISO-8859-2\ndata 6\nsecond\n",
            b"from :1\nM 100644 inline b.txt\ndata 2\nb\n\n",
        ]
    )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo.path, input=stream, check=True)
    ingest_repository(repo.path, store)
    with store.read() as conn:
        names = set(conn.execute(select(identities.c.name)).scalars())
    assert names == {"José Müller", "Łukasz Żółw"}
