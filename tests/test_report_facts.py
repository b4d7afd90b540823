"""The facts the ingest keeps for the report: correct after incremental ingests, force-pushes, head
moves, interruptions and shallow clones, and never in the way of a charter edit.

Each check compares what an existing store holds with what a fresh ingest of the same repository
stores (by sha and identity, since store ids differ), and the report built on it with the report
built without the stored facts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, update

from helpers import GitRepo
from onebar.charter import parse_charter
from onebar.mining import facts
from onebar.mining.ingest import ingest_repository
from onebar.report.build import build_report
from onebar.store import Store, open_store
from onebar.store.schema import commits, identities
from onebar.store.schema_report import file_authorship, report_state
from test_report_build import ALICE, BOB, CHARTER, EVE, day

CAROL = ("Carol Acme", "carol@acme.test")


def branchy(repo: GitRepo) -> None:
    """main with a merged feature branch, a revert, a Fixes: trailer, a cherry-pick and release tags."""
    repo.write({"onebar.toml": CHARTER})
    base = repo.commit("Add core", {"src/core/a.py": "a\n"}, author=ALICE, at=day(1))
    repo.git("checkout", "-q", "-b", "feature")
    ui = repo.commit("Add ui", {"src/ui/b.py": "b\n"}, author=BOB, at=day(2))
    repo.commit(
        "More ui\n\nReviewed-by: Alice Example <alice@acme.test>", {"src/ui/c.py": "c\n"}, author=BOB, at=day(3)
    )
    repo.git("checkout", "-q", "main")
    repo.commit("Core two", {"src/core/d.py": "d\n"}, author=CAROL, at=day(3.5))
    repo.clock = day(4)
    repo.merge("feature", "Merge branch 'feature'", author=ALICE)
    repo.tag("v1.0", message="release", at=day(4.5))
    repo.commit(f"Fix ui\n\nFixes: {ui[:12]}", {"src/ui/b.py": "b2\n"}, author=EVE, at=day(5))
    repo.commit(f'Revert "Add core"\n\nThis reverts commit {base}.', {"src/core/a.py": None}, author=CAROL, at=day(6))
    repo.tag("v1.1", message="release", at=day(7))


def ingest(repo: GitRepo, url: str) -> Store:
    store = open_store(url)
    ingest_repository(repo.path, store, charter=parse_charter(CHARTER))
    return store


def stored(store: Store) -> dict[str, Any]:
    """Everything the facts say, by sha and identity rather than store ids."""
    with store.read() as conn:
        sha_of = {r.id: r.sha for r in conn.execute(select(commits.c.id, commits.c.sha))}
        who = {r.id: (r.name, r.email) for r in conn.execute(select(identities))}
        state = facts.read_state(conn, 1)
        reached, merged = facts.load_head(conn, 1)
        rows = conn.execute(select(file_authorship).where(file_authorship.c.repo_id == 1)).all()
        graph: dict[str, Any] = {}
        for b in facts.load_blocks(conn, 1):
            for pos, r in enumerate(b.records):
                parents = [int(r["parent1"]), int(r["parent2"]), *b.more.get(pos, [])]
                graph[sha_of[int(r["id"])]] = (
                    [sha_of[p] for p in parents if p >= 0],
                    b.reverts.get(pos),
                    b.fixes.get(pos),
                    who[int(r["author"])],
                    int(r["authored_at"]),
                )
    merged_by = {sha_of[int(c)]: sha_of[int(m)] for c, m in zip(reached, merged, strict=True)}
    authorship = sorted((r.path, who[r.identity_id], r.adds, r.mods, r.dels) for r in rows)
    return {"head": state.head_sha, "merged_by": merged_by, "authorship": authorship, "graph": graph}


def report_json(store: Store, repo: GitRepo, **kw: Any) -> dict[str, Any]:
    files = set(repo.git("ls-tree", "-r", "--name-only", "HEAD").split("\n"))
    r = build_report(store, 1, parse_charter(CHARTER), head_sha=repo.head(), head_files=files, **kw)
    data: dict[str, Any] = r.to_json()
    data["generated_by"] = data["repository"]["path"] = ""
    return data


def without_facts(store: Store, repo: GitRepo, **kw: Any) -> dict[str, Any]:
    """The report when the stored facts cannot be used: the head facts describe another head and the
    commit blocks stop short, so the report computes both from the commits."""
    with store.write() as conn:
        saved = conn.execute(select(report_state)).one()._asdict()
        conn.execute(update(report_state).values(head_sha="0" * 40, facts_until=0))
    try:
        from onebar.store.schema_report import commit_blocks

        with store.write() as conn:
            blocks = [r._asdict() for r in conn.execute(select(commit_blocks))]
            conn.execute(commit_blocks.delete())
        return report_json(store, repo, **kw)
    finally:
        with store.write() as conn:
            if blocks:
                conn.execute(commit_blocks.insert(), blocks)
            conn.execute(update(report_state).values(**saved))


def fresh(repo: GitRepo, tmp_path: Path, name: str) -> dict[str, Any]:
    store = ingest(repo, f"sqlite:///{tmp_path / name}")
    try:
        return stored(store)
    finally:
        store.close()


def test_facts_describe_the_head_and_the_report_is_the_same_without_them(
    repo: GitRepo, store_url: str, tmp_path: Path
) -> None:
    branchy(repo)
    store = ingest(repo, store_url)
    facts_now = stored(store)
    assert facts_now["head"] == repo.head()
    # Every commit reaches the head here: the feature branch was merged.
    assert len(facts_now["merged_by"]) == len(repo.git("rev-list", "HEAD").split())
    merge = repo.git("rev-parse", "HEAD~2")
    feature = repo.git("rev-parse", "HEAD~2^2")
    assert facts_now["merged_by"][feature] == merge  # the merge brought the branch in
    assert facts_now["merged_by"][merge] == merge
    assert ("src/ui/b.py", BOB, 1, 0, 0) in facts_now["authorship"]
    with_facts = report_json(store, repo, since="all")
    assert with_facts == without_facts(store, repo, since="all")
    assert with_facts["knowledge"]["files"] == 4  # a.py was reverted away
    store.close()


def test_incremental_ingests_keep_the_facts_a_fresh_ingest_would_store(repo: GitRepo, tmp_path: Path) -> None:
    branchy(repo)
    store = ingest(repo, f"sqlite:///{tmp_path / 'kept.db'}")
    for n in range(3):  # the head moves forward along its first parents
        repo.commit(f"More {n}", {f"src/core/m{n}.py": "m\n"}, author=ALICE if n % 2 else BOB, at=day(8 + n))
        ingest_repository(repo.path, store, charter=parse_charter(CHARTER))
        assert stored(store) == fresh(repo, tmp_path, f"fresh{n}.db")
    # A side branch merged later: commits stored long ago now reach the head.
    repo.git("checkout", "-q", "-b", "side", "HEAD~4")
    repo.commit("Side", {"src/ui/side.py": "s\n"}, author=BOB, at=day(12))
    ingest_repository(repo.path, store, charter=parse_charter(CHARTER))  # stored, not reached
    repo.git("checkout", "-q", "main")
    repo.clock = day(13)
    repo.merge("side", "Merge branch 'side'", author=CAROL)
    ingest_repository(repo.path, store, charter=parse_charter(CHARTER))
    assert stored(store) == fresh(repo, tmp_path, "fresh-side.db")
    store.close()


def test_force_push_and_a_head_that_jumps_rebuild_the_head_facts(repo: GitRepo, tmp_path: Path) -> None:
    branchy(repo)
    store = ingest(repo, f"sqlite:///{tmp_path / 'kept.db'}")
    # Force-push: main loses its last two commits and gets another one.
    repo.git("reset", "-q", "--hard", "HEAD~2")
    repo.commit("Rewritten", {"src/core/r.py": "r\n"}, author=BOB, at=day(9))
    ingest_repository(repo.path, store, charter=parse_charter(CHARTER))
    kept = stored(store)
    assert kept["merged_by"] == fresh(repo, tmp_path, "fresh1.db")["merged_by"]
    assert kept["authorship"] == fresh(repo, tmp_path, "fresh2.db")["authorship"]
    assert report_json(store, repo, since="all") == without_facts(store, repo, since="all")
    # The head jumps to a branch that merged main as its *second* parent: main's old mainline
    # is no longer the first-parent chain, so who brought what in changes.
    repo.git("checkout", "-q", "-b", "other", "HEAD~3")
    repo.commit("Other", {"src/other.py": "o\n"}, author=EVE, at=day(10))
    repo.clock = day(11)
    repo.merge("main", "Merge main into other", author=EVE)
    repo.git("branch", "-f", "main", "other")
    repo.git("checkout", "-q", "main")
    ingest_repository(repo.path, store, charter=parse_charter(CHARTER))
    kept = stored(store)
    again = fresh(repo, tmp_path, "fresh3.db")
    assert kept["merged_by"] == again["merged_by"]
    assert kept["authorship"] == again["authorship"]
    store.close()


def test_an_interrupted_ingest_leaves_facts_the_next_one_completes(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    branchy(repo)
    store = ingest(repo, f"sqlite:///{tmp_path / 'kept.db'}")
    repo.commit("After", {"src/core/z.py": "z\n"}, author=BOB, at=day(9))

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(facts, "_update_head", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest_repository(repo.path, store, charter=parse_charter(CHARTER))
    monkeypatch.undo()
    # The commits and their blocks are in; the head facts still describe the old head.
    with store.read() as conn:
        assert facts.read_state(conn, 1).head_sha != repo.head()
    stale = report_json(store, repo, since="all")
    ingest_repository(repo.path, store, charter=parse_charter(CHARTER))  # nothing new to mine
    assert stored(store) == fresh(repo, tmp_path, "fresh.db")
    assert report_json(store, repo, since="all") == stale
    store.close()


def test_a_charter_edit_needs_no_reingest(repo: GitRepo, tmp_path: Path) -> None:
    branchy(repo)
    store = ingest(repo, f"sqlite:///{tmp_path / 'kept.db'}")
    before = report_json(store, repo, since="all")
    assert "agency" in before["knowledge"]["files_by_org"]
    moved = CHARTER.replace('org = "agency"', 'org = "acme"')
    files = set(repo.git("ls-tree", "-r", "--name-only", "HEAD").split("\n"))
    after = build_report(store, 1, parse_charter(moved), head_sha=repo.head(), head_files=files, since="all")
    assert "agency" not in after.knowledge.files_by_org
    assert [p.org for p in after.knowledge.top_authors if p.person == "bob"] == ["acme"]
    assert after.dora.by_org.keys() == {"acme", "(unknown)"}
    store.close()


def test_a_shallow_clone_and_its_deepening_keep_the_parents_the_store_has(repo: GitRepo, tmp_path: Path) -> None:
    branchy(repo)
    clone = tmp_path / "clone"
    repo.git("clone", "-q", "--depth", "3", f"file://{repo.path}", str(clone))
    shallow = GitRepo(clone, env=repo.env)
    store = ingest(shallow, f"sqlite:///{tmp_path / 'kept.db'}")
    assert stored(store)["graph"] == fresh(shallow, tmp_path, "fresh1.db")["graph"]
    shallow.git("fetch", "-q", "--unshallow")
    ingest_repository(clone, store, charter=parse_charter(CHARTER))
    graph = stored(store)["graph"]
    with store.read() as conn:
        named = {r.sha: r.parents.split() for r in conn.execute(select(commits.c.sha, commits.c.parents))}
    assert {sha: g[0] for sha, g in graph.items()} == named
    store.close()


def test_blocks_fill_up_and_hold_every_commit_once(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts, "BLOCK_SIZE", 3)
    branchy(repo)
    store = ingest(repo, f"sqlite:///{tmp_path / 'kept.db'}")
    repo.commit("One more", {"src/core/y.py": "y\n"}, author=BOB, at=day(9))
    ingest_repository(repo.path, store, charter=parse_charter(CHARTER))
    with store.read() as conn:
        blocks = facts.load_blocks(conn, 1)
        ids = np.concatenate([b.records["id"] for b in blocks])
        all_ids = sorted(conn.execute(select(commits.c.id)).scalars())
    assert len(blocks) > 2
    assert max(len(b.records) for b in blocks) <= 3
    assert ids.tolist() == all_ids
    assert stored(store)["graph"] == fresh(repo, tmp_path, "f.db")["graph"]
    store.close()


@pytest.mark.parametrize("pattern", [r"(?i)hotfix", r"(?i)\bhot-?fix\b"])
def test_hotfix_subjects_are_found_in_any_case_on_every_store(repo: GitRepo, store: Store, pattern: str) -> None:
    # A plain word is narrowed down by the database (LIKE on SQLite, ILIKE on PostgreSQL), anything
    # else by the pattern alone: both find the same commits, whatever their case, before `until`.
    import re

    from onebar.report.build import resolver
    from onebar.report.load import load, subject_matches

    shas = [
        repo.commit(subject, {"a.txt": subject}, at=day(i))
        for i, subject in enumerate(["HOTFIX: crash", "add feature", "Hotfix the login", "hotfix_50%", "later hotfix"])
    ]
    summary = ingest_repository(repo.path, store)
    loaded = load(store, summary.repo_id, resolver(parse_charter(CHARTER)))
    found = subject_matches(store, loaded, re.compile(pattern), until=day(4))
    expected = [0, 2] if "\\b" in pattern else [0, 2, 3]  # "hotfix_50%": \b does not end a word at "_"
    assert sorted(loaded.history.sha[i] for i in found) == sorted(shas[i] for i in expected)
