"""What a run with nothing new does not redo: drafting a charter, resolving people, importing the model.

The cache (onebar.store.cache) keeps derived data between runs; each test here checks both that it
is reused and that it is thrown away when what it was derived from changes.
"""

from __future__ import annotations

import json
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
    """`onebar --help` loads no database, model or rendering library; a no-op ingest of a repository
    without a charter loads the store but neither pydantic nor Dask (start-up is most of its time)."""
    import os

    env = {**os.environ, "ONEBAR_DATABASE_URL": str(tmp_path / "s.db")}  # and the test's ONEBAR_CACHE_DIR
    heavy = {"sqlalchemy", "pydantic", "rich", "jinja2", "distributed", "dask", "alembic", "psycopg", "httpx"}
    assert _modules_after(["--help"], SRC, env) & heavy == set()
    repo.commit("one", {"a.txt": "1"})
    assert run_cli("ingest", str(repo.path), "--db", str(tmp_path / "s.db")).exit_code == 0
    loaded = _modules_after(["ingest", str(repo.path)], SRC, env)
    assert "sqlalchemy" in loaded  # the check below can fail
    assert loaded & (heavy - {"sqlalchemy"}) == set()
