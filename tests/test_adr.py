"""`onebar adr`: MADR records with numbering, status, supersession both ways and sign-offs; and the gate's ADR rule."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate_fixtures import CHARTER
from helpers import GitRepo, run_cli
from onebar.adr import AdrError, accept, load_all, new, parse_adr, render_adr, sign, supersede
from onebar.adr.records import FILENAME, slugify
from onebar.charter import parse_charter
from onebar.errors import NotFoundError

DAY = date(2026, 11, 21)
C = parse_charter(CHARTER)


def test_new_numbers_files_and_round_trips(tmp_path: Path) -> None:
    d = tmp_path / "docs" / "adr"
    first = new(d, "Use PostgreSQL for storage", DAY, deciders=["alice"], charter=C)
    second = new(d, "Queue: Redis?", DAY)
    assert (first.filename, second.filename) == ("0001-use-postgresql-for-storage.md", "0002-queue-redis.md")
    text = (d / first.filename).read_text()
    assert text.startswith("---\nstatus: proposed\ndate: 2026-11-21\ndecision-makers: [alice]\n")
    assert "## Decision Outcome" in text
    parsed = parse_adr(text, first.filename)
    assert (parsed.title, parsed.status, parsed.deciders) == ("Use PostgreSQL for storage", "proposed", ["alice"])
    assert render_adr(parsed) == text  # writing what was read changes nothing


def test_accept_sign_and_supersede_link_both_files(tmp_path: Path) -> None:
    d = tmp_path / "adr"
    new(d, "One", DAY)
    new(d, "Two", DAY)
    accept(d, 1, DAY)
    signed = sign(d, 1, "pat", C, DAY)
    assert [(s.person, s.organisation, s.date) for s in signed.signoffs] == [("pat", "partner", DAY)]
    with pytest.raises(AdrError, match="already signed"):
        sign(d, 1, "pat", C, DAY)
    with pytest.raises(NotFoundError, match="unknown person"):
        sign(d, 1, "mallory", C, DAY)
    _old, _newer = supersede(d, 1, 2, DAY)
    records = {a.number: a for a in load_all(d)}
    assert records[1].status == "superseded"
    assert records[1].superseded_by == 2
    assert records[2].supersedes == [1]
    assert "Superseded by [ADR-0002](0002-two.md)" in (d / "0001-one.md").read_text()
    assert "Supersedes [ADR-0001](0001-one.md)" in (d / "0002-two.md").read_text()
    assert "status: superseded by ADR-0002" in (d / "0001-one.md").read_text()
    with pytest.raises(AdrError, match="already superseded"):
        supersede(d, 1, 2, DAY)
    with pytest.raises(AdrError, match="superseded"):
        accept(d, 1, DAY)
    with pytest.raises(NotFoundError):
        accept(d, 9, DAY)


def test_reads_nygard_adr_tools_files() -> None:
    text = "# 3. Record decisions\n\nDate: 2020-01-02\n\n## Status\n\nAccepted\n\n## Context\n\nx\n"
    adr = parse_adr(text, "doc/adr/0003-record-decisions.md")
    assert (adr.number, adr.title, adr.status, adr.date) == (3, "Record decisions", "accepted", date(2020, 1, 2))


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("notes.md", "# x", "NNNN-title"),
        ("0001-x.md", "---\nstatus: maybe\n---\n# x\n", "unknown status"),
        ("0001-x.md", "---\nstatus: [unclosed\n---\n# x\n", "not YAML"),
        ("0001-x.md", "---\ndate: someday\n---\n# x\n", "YYYY-MM-DD"),
        ("0001-x.md", "---\nsign-off: [alice]\n---\n# x\n", "sign-off"),
    ],
)
def test_bad_adr_files(name: str, text: str, needle: str) -> None:
    with pytest.raises(AdrError, match=needle) as err:
        parse_adr(text, name)
    assert name in str(err.value)


def test_cli_round_trip(tmp_path: Path) -> None:
    (tmp_path / "onebar.toml").write_text(CHARTER)
    repo = str(tmp_path)
    assert run_cli("adr", "new", "Split the monolith", "--decider", "bob", "--repo", repo).exit_code == 0
    assert run_cli("adr", "new", "Keep the monolith", "--supersedes", "1", "--repo", repo).exit_code == 0
    assert run_cli("adr", "accept", "2", "--repo", repo).exit_code == 0
    assert run_cli("adr", "sign", "2", "--person", "alice", "--repo", repo).exit_code == 0
    listed = json.loads(run_cli("adr", "list", "--format", "json", "--repo", repo).stdout)
    assert [(a["number"], a["status"], a["superseded_by"]) for a in listed] == [
        (1, "superseded", 2),
        (2, "accepted", None),
    ]
    assert listed[1]["signoffs"][0]["organisation"] == "acme"
    text = run_cli("adr", "list", "--repo", repo).stdout
    assert "ADR-0001  superseded by ADR-0002" in text
    assert re.search(r"ADR-0002  accepted +\d{4}-\d{2}-\d{2}  Keep the monolith  \[signed: alice\]", text)
    bad = run_cli("adr", "sign", "2", "--person", "nobody", "--repo", repo)
    assert bad.exit_code == 2
    assert "unknown person" in bad.stderr
    missing = run_cli("adr", "accept", "42", "--repo", repo)
    assert missing.exit_code == 2


def test_gate_adr_rule_end_to_end(repo: GitRepo) -> None:
    """An architecture change passes only once its ADR is accepted and signed by both organisations' leads."""
    repo.commit("start", {"onebar.toml": CHARTER, "src/app/storage/db.py": "x = 1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("arch", {"src/app/storage/db.py": "x = 2\n", "tests/test_db.py": "def test():\n    pass\n"})
    adr_dir = repo.path / "docs" / "adr"

    def verdict() -> dict:
        out = run_cli("gate", str(repo.path), "--base", "main", "--format", "json")
        return next(r for r in json.loads(out.stdout)["rules"] if r["id"] == "adr.architecture")

    assert "no ADR" in verdict()["saw"]
    new(adr_dir, "Storage engine", DAY, deciders=["bob"], charter=C)
    repo.commit("adr", {})
    assert "proposed" in verdict()["saw"]
    accept(adr_dir, 1, DAY)
    sign(adr_dir, 1, "alice", C, DAY)
    repo.commit("accept", {})
    result = verdict()
    assert result["status"] == "fail"
    assert "pat" in result["violations"][0]["message"]
    sign(adr_dir, 1, "pat", C, DAY)
    repo.commit("signed", {})
    assert verdict()["status"] == "pass"


def test_signing_needs_the_charter_and_listing_does_not(tmp_path: Path) -> None:
    assert run_cli("adr", "new", "No charter yet", "--repo", str(tmp_path)).exit_code == 0
    listed = run_cli("adr", "list", "--repo", str(tmp_path), "--format", "json")
    assert [a["file"] for a in json.loads(listed.stdout)] == ["0001-no-charter-yet.md"]
    unsigned = run_cli("adr", "sign", "1", "--person", "alice", "--repo", str(tmp_path))
    assert unsigned.exit_code == 2
    assert f"{tmp_path / 'onebar.toml'}: no charter here" in unsigned.stderr


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("ünïcode", "unicode"),
        ("Ünïcode für Straße", "unicode-fur-strasse"),
        ("Łódź & Ærø", "lodz-aero"),
        ("Ελληνικά", "ellinika"),
        ("!!!", "decision"),
    ],
)
def test_slugs_transliterate_letters_instead_of_dropping_them(title: str, slug: str) -> None:
    assert slugify(title) == slug


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=120))
def test_every_title_makes_a_file_name_the_records_read_back(title: str) -> None:
    slug = slugify(title)
    assert FILENAME.match(f"0001-{slug}.md")
    assert len(slug) <= 60
