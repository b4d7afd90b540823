"""Ingest on real repositories built in tmp_path, against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import GitRepo, fast_import_history, run_cli
from onebar.errors import NotARepositoryError
from onebar.mining import ingest as ingest_mod
from onebar.mining.ingest import ingest_repository
from onebar.store import Store, open_store
from onebar.store.schema import commits, file_changes, identities, tags, trailers

BOB = ("Bob Partner", "bob@globex.test")


def _count(store: Store, table, *where) -> int:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _shas(store: Store, **filters: object) -> set[str]:
    with store.read() as conn:
        q = select(commits.c.sha)
        for key, value in filters.items():
            q = q.where(commits.c[key] == value)
        return set(conn.execute(q).scalars())


def test_ingest_stores_commits_files_trailers_tags(repo: GitRepo, store: Store) -> None:
    first = repo.commit("Add app", {"src/app.py": "a\nb\n", "logo.png": b"\x89PNG\0\1\2"})
    repo.tag("v1.0.0", message="release 1.0.0")
    second = repo.commit(
        "Fix app\n\nReviewed-by: Bob Partner <bob@globex.test>\nCo-authored-by: Claude <noreply@anthropic.com>",
        {"src/app.py": "a\nc\nd\n"},
        author=BOB,
    )
    repo.tag("v1.0.1")
    revert = repo.commit(f'Revert "Fix app"\n\nThis reverts commit {second}.', {"src/app.py": "a\nb\n"})

    summary = ingest_repository(repo.path, store)

    assert (summary.commits_new, summary.commits_total, summary.tags) == (3, 3, 2)
    with store.read() as conn:
        rows = {r.sha: r for r in conn.execute(select(commits))}
        assert rows[first].parents == "" and rows[second].parents == first
        assert (rows[second].added, rows[second].deleted, rows[second].files) == (2, 1, 1)
        assert rows[revert].revert_of == second
        author = conn.execute(select(identities).where(identities.c.id == rows[second].author_id)).one()
        assert (author.name, author.email) == BOB
        files = {(r.path, r.status, r.added, r.binary) for r in conn.execute(select(file_changes))}
        assert ("logo.png", "A", None, True) in files and ("src/app.py", "A", 2, False) in files
        assert set(conn.execute(select(trailers.c.key, trailers.c.value)).all()) == {
            ("reviewed-by", "Bob Partner <bob@globex.test>"),
            ("co-authored-by", "Claude <noreply@anthropic.com>"),
        }
        tag_rows = {r.name: r for r in conn.execute(select(tags))}
        assert tag_rows["v1.0.0"].sha == first and tag_rows["v1.0.0"].annotated
        assert tag_rows["v1.0.1"].sha == second and not tag_rows["v1.0.1"].annotated


def test_second_run_reads_only_new_commits(repo: GitRepo, store: Store) -> None:
    repo.commit("one", {"a.txt": "1"})
    assert ingest_repository(repo.path, store).commits_new == 1
    again = ingest_repository(repo.path, store)
    assert (again.commits_new, again.commits_total) == (0, 1)
    repo.commit("two", {"a.txt": "2"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("three", {"b.txt": "3"})
    later = ingest_repository(repo.path, store)
    assert (later.commits_new, later.commits_total) == (2, 3)


def test_all_branches_and_detached_head_are_mined(repo: GitRepo, store: Store) -> None:
    repo.commit("base", {"a.txt": "1"})
    repo.git("checkout", "-q", "-b", "side")
    side = repo.commit("side work", {"b.txt": "1"})
    repo.git("checkout", "-q", "--detach", "main")
    detached = repo.commit("detached work", {"c.txt": "1"})
    ingest_repository(repo.path, store)
    assert {side, detached} <= _shas(store)


def test_merge_commits_have_parents_and_no_files(repo: GitRepo, store: Store) -> None:
    base = repo.commit("base", {"a.txt": "1"})
    repo.git("checkout", "-q", "-b", "feature")
    feat = repo.commit("feature", {"b.txt": "1"}, author=BOB)
    repo.git("checkout", "-q", "main")
    repo.commit("main moves", {"a.txt": "2"})
    merge = repo.merge("feature", "Merge branch 'feature'")
    ingest_repository(repo.path, store)
    with store.read() as conn:
        row = conn.execute(select(commits).where(commits.c.sha == merge)).one()
    assert row.parents.split()[1] == feat and row.files == 0
    assert base in _shas(store)


def test_no_lines_mode_stores_files_without_counts(repo: GitRepo, store: Store) -> None:
    repo.commit("one", {"a.txt": "1\n2\n"})
    summary = ingest_repository(repo.path, store, lines=False)
    assert summary.commits_new == 1 and not summary.lines
    with store.read() as conn:
        assert conn.execute(select(file_changes.c.path, file_changes.c.added)).all() == [("a.txt", None)]
        assert conn.execute(select(commits.c.added)).scalar() is None


def test_interrupted_ingest_resumes_without_loss_or_doubles(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = fast_import_history(tmp_path / "big", 1200)
    monkeypatch.setattr(ingest_mod, "BATCH", 100)
    real = ingest_mod._write_batch
    calls = {"n": 0}

    def crash_on_fourth(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_mod, "_write_batch", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        ingest_repository(src.path, store)
    partial = _count(store, commits)
    assert 0 < partial < 1200 and partial % 100 == 0  # whole batches only

    monkeypatch.setattr(ingest_mod, "_write_batch", real)
    resumed = ingest_repository(src.path, store)
    assert resumed.commits_total == 1200 and resumed.commits_new == 1200 - partial
    with store.read() as conn:
        assert conn.execute(select(func.count(func.distinct(commits.c.sha)))).scalar() == 1200
        assert conn.execute(select(func.count()).select_from(file_changes)).scalar() == 1200


def test_interrupted_incremental_run_resumes_exactly(
    repo: GitRepo, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with repo.batch():
        for i in range(50):
            repo.commit(f"old {i}", {"a.txt": str(i)}, step=60)
    ingest_repository(repo.path, store)
    with repo.batch():
        for i in range(350):
            repo.commit(f"new {i}", {f"n/{i % 7}.txt": str(i)}, step=60)
    monkeypatch.setattr(ingest_mod, "BATCH", 100)
    real = ingest_mod._write_batch
    calls = {"n": 0}

    def crash_on_third(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_mod, "_write_batch", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        ingest_repository(repo.path, store, jobs=1)  # one git process: batches of exactly 100
    assert _count(store, commits) == 250  # the old 50 and two whole batches of new ones

    monkeypatch.setattr(ingest_mod, "_write_batch", real)
    resumed = ingest_repository(repo.path, store)
    assert (resumed.commits_new, resumed.commits_total) == (150, 400)
    with store.read() as conn:
        assert conn.execute(select(func.count(func.distinct(commits.c.sha)))).scalar() == 400
        assert conn.execute(select(func.count()).select_from(file_changes)).scalar() == 400


@pytest.mark.slow
def test_kill_9_then_rerun_stores_exactly_the_history(tmp_path: Path) -> None:
    src = fast_import_history(tmp_path / "big", 6000)
    db = tmp_path / "kill.db"
    # The child writes small batches and pauses after each, so the kill lands mid-ingest however
    # fast or loaded the machine is.
    code = (
        "import sys, time; from pathlib import Path; from onebar.mining import ingest as m;"
        "from onebar.store import open_store; m.BATCH = 50; w = m._write_batch;"
        "m._write_batch = lambda *a, **k: (time.sleep(0.01), w(*a, **k))[1];"
        "m.ingest_repository(Path(sys.argv[1]), open_store(sys.argv[2]), jobs=1)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(src.path), f"sqlite:///{db}"], cwd=Path(__file__).parent.parent / "src"
    )
    store = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                store = store or open_store(f"sqlite:///{db}", migrate=False)
                try:
                    if _count(store, commits) >= 100:
                        break
                except Exception:
                    pass  # schema not created yet
            time.sleep(0.02)
        proc.kill()
        proc.wait()
        store = store or open_store(f"sqlite:///{db}")
        partial = _count(store, commits)
        assert partial < 6000, "ingest finished before it could be killed"
        resumed = ingest_repository(src.path, store)
        assert resumed.commits_total == 6000
        with store.read() as conn:
            assert conn.execute(select(func.count(func.distinct(commits.c.sha)))).scalar() == 6000
            assert conn.execute(select(func.count()).select_from(file_changes)).scalar() == 6000
    finally:
        if proc.poll() is None:
            proc.kill()
        if store:
            store.close()


def test_force_push_marks_dropped_commits_unreachable(repo: GitRepo, store: Store) -> None:
    a = repo.commit("a", {"f.txt": "a"})
    b = repo.commit("b", {"f.txt": "b"})
    ingest_repository(repo.path, store)
    repo.git("reset", "-q", "--hard", a)
    c = repo.commit("c (rewritten)", {"f.txt": "c"})
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    summary = ingest_repository(repo.path, store)
    assert summary.commits_new == 1
    assert _shas(store, reachable=True) == {a, c}
    assert _shas(store, reachable=False) == {b}


def test_shallow_clone_is_mined_with_a_warning(repo: GitRepo, store: Store, tmp_path: Path) -> None:
    for i in range(5):
        repo.commit(f"c{i}", {"f.txt": str(i)})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone)], check=True)
    summary = ingest_repository(clone, store)
    assert summary.shallow and summary.commits_total == 2
    assert any("shallow" in w for w in summary.warnings)


def test_empty_repository_is_fine(repo: GitRepo, store: Store) -> None:
    summary = ingest_repository(repo.path, store)
    assert (summary.commits_total, summary.commits_new, summary.tags) == (0, 0, 0)


def test_non_utf8_identity_and_message(repo: GitRepo, store: Store) -> None:
    stream = (
        b"commit refs/heads/main\n"
        b"author Jos\xe9 M\xfcller <jose@acme.test> 1700000000 +0100\n"
        b"committer Jos\xe9 M\xfcller <jose@acme.test> 1700000000 +0100\n"
        b"data 12\ncaf\xe9 au lait\n"
        b"M 100644 inline caf\xe9.txt\ndata 2\nx\n\n"
    )
    repo.git("fast-import", "--quiet", input=stream)
    summary = ingest_repository(repo.path, store)
    assert summary.commits_total == 1
    with store.read() as conn:
        name = conn.execute(select(identities.c.name)).scalar_one()
        path = conn.execute(select(file_changes.c.path)).scalar_one()
    assert name.startswith("Jos") and "ller" in name
    assert path.endswith(".txt")


def test_huge_commit(repo: GitRepo, store: Store) -> None:
    with repo.batch(checkout=False):
        repo.commit("vendor drop", {f"vendor/lib{i}.c": f"int f{i};\n" * 3 for i in range(3000)})
    ingest_repository(repo.path, store)
    assert _count(store, file_changes) == 3000


def test_many_repositories_share_one_store(tmp_path: Path, store: Store) -> None:
    one = GitRepo.create(tmp_path / "one")
    two = GitRepo.create(tmp_path / "two")
    one.commit("x", {"a": "1"})
    two.commit("y", {"b": "1"})
    r1, r2 = ingest_repository(one.path, store), ingest_repository(two.path, store)
    assert r1.repo_id != r2.repo_id
    assert _count(store, commits) == 2
    assert _count(store, identities) == 1  # the same person in both


def test_not_a_repository_is_a_usage_error(tmp_path: Path, store: Store) -> None:
    with pytest.raises(NotARepositoryError):
        ingest_repository(tmp_path, store)


def test_cli_json_summary(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("one", {"a.txt": "1"})
    repo.commit("two", {"a.txt": "2"}, author=("Mallory Unknown", "m@nowhere.test"))
    repo.write(
        {
            "onebar.toml": '[organisations.acme]\nkind = "internal"\ndomains = ["acme.test"]\n\n'
            '[people.alice]\nname = "Alice Example"\norg = "acme"\nemails = ["alice@acme.test"]\n'
        }
    )
    result = run_cli("ingest", str(repo.path), "--format", "json", "--db", str(tmp_path / "cli.db"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("repository", "commits_total", "commits_new", "tags", "people", "unknown_identities"):
        assert key in data
    assert data["commits_new"] == 2 and data["people"] == 1
    assert data["unknown_identities"] == ["Mallory Unknown <m@nowhere.test>"]


def test_cli_not_a_repository_exits_2(tmp_path: Path) -> None:
    result = run_cli("ingest", str(tmp_path))
    assert result.exit_code == 2
    assert "not a git repository" in result.stderr and str(tmp_path) in result.stderr


def test_a_resumed_first_ingest_does_not_look_up_stored_commits_per_batch(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an interrupted first run stored is skipped while listing; holding the repository's lock,
    the resume asks the store nothing more per batch, so it costs about what is left."""
    from sqlalchemy import event

    src = fast_import_history(tmp_path / "big", 1000)
    monkeypatch.setattr(ingest_mod, "BATCH", 100)
    real = ingest_mod._write_batch
    calls = {"n": 0}

    def crash_on_fourth(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_mod, "_write_batch", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        ingest_repository(src.path, store, jobs=1)
    monkeypatch.setattr(ingest_mod, "_write_batch", real)
    lookups: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM commits" in statement and "commits.sha IN" in statement:
            lookups.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        resumed = ingest_repository(src.path, store, jobs=1)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert (resumed.commits_new, resumed.commits_total) == (700, 1000)
    assert lookups == []
    assert _count(store, file_changes) == 1000


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_bulk_ingest_leaves_planner_statistics_on_postgresql(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without statistics a freshly filled table looks empty to PostgreSQL's planner, which then reads
    every commit of the repository to find one batch of shas (a resume grew quadratically)."""
    from sqlalchemy import text

    src = fast_import_history(tmp_path / "big", 1200)
    monkeypatch.setattr(ingest_mod, "BATCH", 100)
    ingest_repository(src.path, store)
    with store.read() as conn:
        estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('commits')")).scalar_one()
    assert estimate == 1200


def test_the_cheap_tips_are_the_peeled_reads_tips_and_a_new_tag_alone_is_ingested(repo: GitRepo, store: Store) -> None:
    # A run with nothing new compares tips read without peeling a tag; they must be exactly the tips
    # the full read records, for every kind of ref, or every such run would mine again (or never).
    from onebar.mining.refs import read_refs, read_tips

    assert read_tips(repo.path) == read_refs(repo.path).tips == {}  # an empty repository
    first = repo.commit("one", {"a.txt": "1"})
    repo.tag("v1", message="annotated")
    repo.tag("light")
    repo.git("tag", "-a", "-m", "a tag of a tag", "outer", "v1")
    blob = repo.git("hash-object", "-w", "--stdin", input=b"a blob\n").strip()
    repo.git("tag", "a-blob", blob)
    repo.commit("two", {"a.txt": "2"})
    repo.git("checkout", "-q", "--detach", first)
    assert read_tips(repo.path) == read_refs(repo.path).tips
    assert read_tips(repo.path)["HEAD"] == first

    ingest_repository(repo.path, store)
    assert ingest_repository(repo.path, store).commits_new == 0
    repo.git("tag", "-a", "-m", "late release", "v2", first)  # no new commit: only a tag
    summary = ingest_repository(repo.path, store)
    with store.read() as conn:
        names = {r.name: r.sha for r in conn.execute(select(tags))}
    assert summary.tags == len(names) and names["v2"] == first and names["outer"] == first
