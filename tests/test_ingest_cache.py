"""What a run with nothing new does not redo: drafting a charter, resolving people, importing the model.

The cache (onebar.store.cache) keeps derived data between runs; each test here checks both that it
is reused and that it is thrown away when what it was derived from changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import GitRepo, run_cli
from onebar.charter import draft as draft_mod
from onebar.errors import CharterError
from onebar.mining.ingest import ingest_repository
from onebar.store import Store
from onebar.workspace import open_workspace

SRC = Path(__file__).parent.parent / "src"
BOB = ("Bob Partner", "bob@globex.test")
CHARTER = (
    '[organisations.acme]\nkind = "internal"\ndomains = ["acme.test"]\n\n'
    '[people.alice]\nname = "Alice Example"\norg = "acme"\nemails = ["alice@acme.test"]\n'
)


class Calls:
    """Counts the calls of a real function it wraps (the function still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: object, name: str):
        self.n = 0
        real = getattr(module, name)

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.n += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


def test_a_no_op_ingest_without_a_charter_drafts_nothing(
    repo: GitRepo, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("one", {"a.txt": "1"})
    drafts = Calls(monkeypatch, draft_mod, "draft_from_identities")
    first = ingest_repository(repo.path, store)
    assert drafts.n == 1 and first.people == 1
    again = ingest_repository(repo.path, store)
    assert drafts.n == 1 and (again.people, again.unknown_identities) == (1, [])
    repo.commit("two", {"b.txt": "1"}, author=BOB)  # a new identity: people are resolved afresh
    later = ingest_repository(repo.path, store)
    assert drafts.n == 2 and later.people == 2


def test_a_changed_or_broken_charter_is_read_again(repo: GitRepo, store: Store) -> None:
    repo.commit("one", {"a.txt": "1"})
    repo.commit("two", {"b.txt": "1"}, author=BOB)
    charter = repo.path / "onebar.toml"
    charter.write_text(CHARTER)
    first = ingest_repository(repo.path, store, charter_file=charter)
    assert first.unknown_identities == ["Bob Partner <bob@globex.test>"]
    charter.write_text(CHARTER + '\n[organisations.globex]\nkind = "partner"\ndomains = ["globex.test"]\n')
    assert ingest_repository(repo.path, store, charter_file=charter).unknown_identities == []
    charter.write_text("[organisations.acme]\nkind = 42\n")
    with pytest.raises(CharterError):
        ingest_repository(repo.path, store, charter_file=charter)


def test_an_unusable_cache_is_recomputed_or_skipped(
    repo: GitRepo, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("one", {"a.txt": "1"})
    cache_dir = tmp_path / "cache"
    ingest_repository(repo.path, store)
    for kept in cache_dir.iterdir():
        kept.write_text("{not json")
    assert ingest_repository(repo.path, store).people == 1
    (tmp_path / "not-a-dir").write_text("")
    monkeypatch.setenv("ONEBAR_CACHE_DIR", str(tmp_path / "not-a-dir" / "cache"))  # cannot be created
    assert ingest_repository(repo.path, store).people == 1


def test_the_drafted_charter_is_kept_until_history_index_or_mailmap_change(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("one", {"src/a.py": "1"})
    drafts = Calls(monkeypatch, draft_mod, "draft_charter")
    with open_workspace(repo.path) as ws:
        assert ws.drafted and set(ws.charter.people) == {"alice-example"}
    with open_workspace(repo.path) as ws:
        assert drafts.n == 1 and set(ws.charter.people) == {"alice-example"}
    repo.commit("two", {"src/b.py": "1"}, author=BOB)
    with open_workspace(repo.path) as ws:
        assert drafts.n == 2 and len(ws.charter.people) == 2
    repo.write({".mailmap": "Robert Partner <bob@globex.test> Bob Partner <bob@globex.test>\n"})
    with open_workspace(repo.path) as ws:
        assert drafts.n == 3
        assert any(p.name == "Robert Partner" for p in ws.charter.people.values())
    repo.write({"src/c.py": "1"})
    repo.git("add", "src/c.py")  # the index changed: components may have
    with open_workspace(repo.path):
        assert drafts.n == 4


def _modules_after(args: list[str], cwd: Path, env: dict[str, str]) -> set[str]:
    code = (
        "import sys, json\nfrom onebar.cli import cli\n"
        f"try:\n    cli.main(args={args!r}, prog_name='onebar', standalone_mode=False)\n"
        "finally:\n    print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=SRC, env=env, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_start_up_loads_only_what_the_command_needs(repo: GitRepo, tmp_path: Path) -> None:
    """`onebar --help` loads no database, model or rendering library; a no-op ingest into a SQLite
    store loads none either: start-up is most of its time."""
    env = {**os.environ, "ONEBAR_DATABASE_URL": str(tmp_path / "s.db")}  # and the test's ONEBAR_CACHE_DIR
    heavy = {"sqlalchemy", "pydantic", "rich", "jinja2", "distributed", "dask", "alembic", "psycopg", "httpx"}
    assert _modules_after(["--help"], SRC, env) & heavy == set()
    repo.commit("one", {"a.txt": "1"})
    first = _modules_after(["ingest", str(repo.path)], SRC, env)
    assert {"sqlalchemy", "pydantic"} <= first  # the check below can fail
    assert _modules_after(["ingest", str(repo.path)], SRC, env) & heavy == set()


def _ingest(repo: GitRepo, db: Path, *args: str) -> dict[str, object]:
    result = run_cli("ingest", str(repo.path), "--db", str(db), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_a_no_op_answered_without_the_store_says_what_the_store_says(repo: GitRepo, tmp_path: Path) -> None:
    from onebar.git import open_repository
    from onebar.mining import summary

    db = tmp_path / "s.db"
    repo.commit("one", {"a.txt": "1"})
    repo.commit("two", {"b.txt": "1"}, author=BOB)
    repo.tag("v1")
    _ingest(repo, db)
    info = open_repository(repo.path)
    quick = summary.unchanged(info, f"sqlite:///{db}", None, True)
    assert quick is not None
    (tmp_path / "cache").rename(tmp_path / "cache-away")  # the same run by the ordinary path
    slow = _ingest(repo, db)
    assert summary.unchanged(info, f"sqlite:///{db}", None, True) is not None  # and kept again
    assert {**quick.to_dict(), "seconds": 0} == {**slow, "seconds": 0}


def test_anything_changed_takes_the_ordinary_path(repo: GitRepo, tmp_path: Path) -> None:
    from onebar.git import open_repository
    from onebar.mining import summary

    db = tmp_path / "s.db"
    url = f"sqlite:///{db}"
    repo.commit("one", {"a.txt": "1"})
    _ingest(repo, db)
    info = open_repository(repo.path)
    assert summary.unchanged(info, url, None, True) is not None

    repo.commit("two", {"a.txt": "2"})  # new history
    assert summary.unchanged(info, url, None, True) is None
    assert _ingest(repo, db)["commits_new"] == 1

    other = GitRepo.create(tmp_path / "other")  # another repository written into the same store
    other.commit("x", {"x.txt": "1"})
    assert _ingest(other, db)["commits_new"] == 1
    assert summary.unchanged(info, url, None, True) is None
    assert _ingest(repo, db)["commits_new"] == 0

    charter = repo.path / "onebar.toml"  # a charter appears
    charter.write_text(CHARTER)
    assert summary.unchanged(info, url, charter, True) is None
    assert _ingest(repo, db)["people"] == 1

    for suffix in ("", "-wal", "-shm"):  # the store is replaced by an empty one
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    assert summary.unchanged(info, url, charter, True) is None
    assert _ingest(repo, db)["commits_new"] == 2
