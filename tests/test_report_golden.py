"""The JSON report of an `onebar demo` history, pinned byte for byte on SQLite and PostgreSQL.

Refactoring the report model or making it faster must not change one byte of what it says. The
golden files hold `onebar report --format json` of a 4,000-commit demo (seed 0) with
`generated_by` and the temporary repository path blanked. A deliberate change of the contract
regenerates them with `ONEBAR_UPDATE_GOLDEN=1 pytest tests/test_report_golden.py` and says why in
the commit.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import PG_ADMIN_URL, _postgres_available
from helpers import run_cli
from onebar import demo

GOLDEN = Path(__file__).parent / "golden"
COMMITS = 4000
WINDOWS = {
    "all": ("--since", "all"),
    "default": (),
    # A window ending before HEAD: knowledge is replayed from the file changes, not read at HEAD.
    "past": ("--since", "2026-08-01", "--until", "2026-09-15"),
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("golden") / "repo"
    demo.build_demo(root, COMMITS, 0)
    return root


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One store per database for the whole module: the first report ingests, the others reuse it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('golden-db') / 'store.db'}"
        return
    if not _postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    import psycopg

    schema = f"g_{uuid.uuid4().hex[:12]}"
    dsn = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def normalised(text: str, repo: Path) -> str:
    """The report as printed, with what differs between runs (onebar's version, the temporary path) blanked."""
    data = json.loads(text)
    for key, value in (("generated_by", data["generated_by"]), ("path", data["repository"]["path"])):
        field = f'"{key}": {json.dumps(value, ensure_ascii=False)}'
        assert text.count(field) == 1, field
        text = text.replace(field, f'"{key}": "{"onebar" if key == "generated_by" else "REPO"}"')
    assert str(repo) not in text, "a temporary path leaked into the report"
    return text


@pytest.mark.parametrize("window", list(WINDOWS))
def test_report_json_is_unchanged(demo_repo: Path, db: str, window: str) -> None:
    result = run_cli("report", str(demo_repo), "--db", db, "--format", "json", *WINDOWS[window])
    assert result.exit_code == 0, result.output
    got = normalised(result.stdout, demo_repo)
    golden = GOLDEN / f"report_demo_{window}.json"
    if os.environ.get("ONEBAR_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    want = golden.read_text(encoding="utf-8")
    assert got == want, f"the report differs from {golden.name}; see the module docstring to regenerate it"


def _demo_pulls(repo: Path) -> list[tuple[int, str, int, str, str, int]]:
    """(number, merge sha, merged at, author name, author e-mail, branch tip time) of every "Merge pull
    request #N" merge of the demo history."""
    import re
    import subprocess

    def log(*args: str) -> list[list[str]]:
        out = subprocess.run(["git", "-C", str(repo), "log", *args], capture_output=True, text=True, check=True)
        return [line.split("\x1f") for line in out.stdout.splitlines() if line]

    who = {sha: (name, email, int(at)) for sha, name, email, at in log("--all", "--format=%H%x1f%an%x1f%ae%x1f%at")}
    out = []
    for sha, at, parents, subject in log("--merges", "--format=%H%x1f%ct%x1f%P%x1f%s"):
        m = re.match(r"Merge pull request #(\d+) from ", subject)
        if m:
            name, email, tip = who[parents.split()[1]]
            out.append((int(m.group(1)), sha, int(at), name, email, tip))
    return sorted(out)


def test_report_with_code_host_data_is_unchanged(demo_repo: Path, tmp_path: Path) -> None:
    from onebar.charter import parse_charter
    from onebar.charter.identity import Resolver
    from onebar.charter.robots import github_login
    from onebar.codehost import writer
    from onebar.codehost.records import PullRecord, ReviewRecord
    from onebar.store import open_store

    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("ingest", str(demo_repo), "--db", db).exit_code == 0
    charter = parse_charter((demo_repo / "onebar.toml").read_text(), "onebar.toml")
    resolver = Resolver(charter)
    humans = sorted(p for p, x in charter.people.items() if charter.organisations[x.org].kind not in ("bot", "agent"))

    def login(name: str, email: str) -> tuple[str, str]:
        found = resolver.resolve(name, email)
        kind = "Bot" if found.kind == "bot" else "User"
        return found.person or github_login(email) or name, kind

    pulls, reviews = [], []
    for n, sha, merged, name, email, tip in _demo_pulls(demo_repo):
        author, kind = login(name, email)
        pulls.append(PullRecord(number=n, opened_at=tip + 600, updated_at=merged, title=f"change {n}", author=author,
                                author_type=kind, state="merged", merged_at=merged, merge_sha=sha,
                                first_commit_at=tip - 7200))  # fmt: skip
        reviewer = next(p for p in humans[n % len(humans) :] + humans if p != author)
        if n % 4 == 0:  # a blocking review first, then the approval: one rework cycle
            reviews.append(ReviewRecord(n, f"{n}-a", reviewer, "changes_requested", tip + 1800))
        reviews.append(ReviewRecord(n, f"{n}-b", reviewer, "approved", merged - 600))
    store = open_store(db)
    with store.write() as conn:
        rid = writer.codehost_repo(conn, "github", "acme/shop", demo_repo.name)
        writer.upsert_pulls(conn, rid, "github", "acme/shop", pulls)
        writer.add_reviews(conn, rid, reviews)
    store.close()
    assert len(pulls) > 50
    result = run_cli("report", str(demo_repo), "--db", db, "--format", "json", "--since", "all")
    assert result.exit_code == 0, result.output
    got = normalised(result.stdout, demo_repo)
    data = json.loads(got)
    assert data["flow"]["available"] and data["review"]["signals"]["pull_request"] > 0
    golden = GOLDEN / "report_demo_codehost.json"
    if os.environ.get("ONEBAR_UPDATE_GOLDEN"):
        golden.write_text(got, encoding="utf-8")
    want = golden.read_text(encoding="utf-8")
    assert got == want, f"the report differs from {golden.name}; see the module docstring to regenerate it"
