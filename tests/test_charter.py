"""The charter: validation with located errors, `onebar check`, and `onebar init` drafts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import GitRepo, run_cli
from onebar.charter import load_charter, parse_charter
from onebar.charter.identity import Resolver
from onebar.errors import CharterError

GOOD = """\
[project]
name = "shop"

[organisations.acme]
kind = "internal"
domains = ["acme.test"]
lead = "alice"

[organisations.globex]
kind = "partner"
domains = ["globex.test"]
lead = "bob"

[organisations.bots]
kind = "bot"

[people.alice]
name = "Alice Example"
org = "acme"
emails = ["alice@acme.test", "Alice@Home.Test"]
timezone = "Europe/Berlin"
hours = "09:00-17:30"

[people.bob]
name = "Bob Partner"
org = "globex"
emails = ["bob@globex.test"]
github = "bobp"
timezone = "Asia/Kolkata"
contract_start = 2024-01-01
contract_end = 2024-12-31

[components.api]
paths = ["src/api/**"]
accountable = "alice"
responsible = ["bob"]

[delivery]
tag_pattern = '^v\\d+\\.\\d+\\.\\d+$'
"""


def test_valid_charter_loads() -> None:
    charter = parse_charter(GOOD)
    assert charter.people["alice"].emails == ["alice@acme.test", "alice@home.test"]
    assert charter.people["bob"].contract_end is not None
    assert charter.components["api"].accountable == "alice"
    assert charter.lead_of("globex") == "bob"


@pytest.mark.parametrize(
    ("change", "line", "field", "words"),
    [
        (('kind = "partner"', 'kind = "vendor"'), 10, "organisations.globex.kind", "'partner'"),
        (('timezone = "Asia/Kolkata"', 'timezone = "Asia/Kolkatta"'), 29, "people.bob.timezone", "IANA"),
        (('hours = "09:00-17:30"', 'hours = "9 to 5"'), 22, "people.alice.hours", "HH:MM-HH:MM"),
        (('accountable = "alice"', 'accountable = ["alice", "bob"]'), 35, "components.api.accountable", "exactly one"),
        (('org = "globex"', 'org = "initech"'), 26, "people.bob.org", "unknown organisation"),
        (('responsible = ["bob"]', 'responsible = ["carol"]'), 36, "components.api.responsible", "unknown person"),
        (('github = "bobp"', 'githb = "bobp"'), 28, "people.bob.githb", "unknown field"),
        (("contract_end = 2024-12-31", "contract_end = 2023-12-31"), 31, "people.bob.contract_end", "ends before"),
        (
            ("[delivery]", "[delivery]\nhotfix_pattern = '(unclosed'"),
            39,
            "delivery.hotfix_pattern",
            "regular expression",
        ),
    ],
)
def test_errors_name_line_and_field(change: tuple[str, str], line: int, field: str, words: str) -> None:
    text = GOOD.replace(*change)
    with pytest.raises(CharterError) as info:
        parse_charter(text, "onebar.toml")
    problem = next((p for p in info.value.problems if p.field == field), None)
    assert problem is not None, str(info.value)
    assert problem.line == line, str(info.value)
    assert words in problem.message
    assert f"onebar.toml:{line}: {field}: " in str(info.value)


def test_toml_syntax_error_names_the_line() -> None:
    with pytest.raises(CharterError) as info:
        parse_charter(GOOD.replace('name = "shop"', 'name = "shop'), "x.toml")
    assert info.value.problems[0].line == 2
    assert "TOML syntax" in str(info.value)


def test_all_problems_are_reported_at_once() -> None:
    text = GOOD.replace('kind = "partner"', 'kind = "vendor"').replace('hours = "09:00-17:30"', 'hours = "x"')
    with pytest.raises(CharterError) as info:
        parse_charter(text)
    assert len(info.value.problems) == 2


def test_missing_charter_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(CharterError, match="onebar init"):
        load_charter(tmp_path)


def test_check_cli(tmp_path: Path) -> None:
    (tmp_path / "onebar.toml").write_text(GOOD)
    ok = run_cli("check", str(tmp_path))
    assert ok.exit_code == 0 and "valid" in ok.stdout
    (tmp_path / "onebar.toml").write_text(GOOD.replace('org = "globex"', 'org = "initech"'))
    bad = run_cli("check", str(tmp_path))
    assert bad.exit_code == 2
    assert f"{tmp_path / 'onebar.toml'}:26: people.bob.org: unknown organisation 'initech'" in bad.stderr
    as_json = run_cli("check", str(tmp_path), "--format", "json")
    assert as_json.exit_code == 2
    assert {(p["line"], p["field"]) for p in json.loads(as_json.stdout)["problems"]} == {
        (12, "organisations.globex.lead"),  # bob is globex's lead but now belongs elsewhere
        (26, "people.bob.org"),
    }


def test_resolver_matches_email_login_domain_bots_and_agents() -> None:
    r = Resolver(parse_charter(GOOD))
    assert r.resolve("A", "ALICE@acme.test").person == "alice"
    assert r.resolve("bp", "123+bobp@users.noreply.github.com").person == "bob"
    carol = r.resolve("Carol", "carol@eu.globex.test")
    assert (carol.person, carol.org, carol.kind) == (None, "globex", "partner")
    bot = r.resolve("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    assert (bot.org, bot.kind) == ("bots", "bot")
    agent = r.resolve("Claude", "noreply@anthropic.com")
    assert (agent.kind, agent.org, agent.known) == ("agent", None, True)  # a robot of the table is known
    assert not r.resolve("Eve", "eve@elsewhere.test").known


def _history(repo: GitRepo) -> None:
    repo.commit("core", {"src/shop/core/a.py": "1", "src/shop/__init__.py": ""})
    repo.commit("core 2", {"src/shop/core/a.py": "2"}, author=("Alice Example", "alice@home.test"))
    repo.commit("alias", {"src/shop/core/b.py": "1"}, author=("alice example", "alice.e@acme.test"))
    repo.commit("api", {"src/shop/api/x.py": "1"}, author=("Bob Partner", "bob@globex.test"), tz="+0530")
    repo.commit("api 2", {"src/shop/api/x.py": "2"}, author=("Bob Partner", "bob@globex.test"), tz="+0530")
    repo.commit("api 3", {"src/shop/api/y.py": "1"}, author=("Gita Partner", "gita@globex.test"), tz="+0530")
    repo.commit("core 3", {"src/shop/core/c.py": "1"}, author=("Carl Colleague", "carl@acme.test"))
    repo.commit(
        "tests\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        {"tests/test_x.py": "1"},
        author=("Dana Solo", "dana.solo@gmail.com"),
    )
    repo.commit(
        "Bump x",
        {"requirements.txt": "x==2"},
        author=("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
    )
    repo.write({".mailmap": "Alice Example <alice@acme.test> <alice@home.test>\n"})
    repo.commit("mailmap", {"docs/index.md": "hi"})


def test_init_drafts_people_orgs_bots_agents_and_components(repo: GitRepo) -> None:
    _history(repo)
    result = run_cli("init", str(repo.path), "--internal-domain", "acme.test")
    assert result.exit_code == 0, result.output
    charter = load_charter(repo.path)
    kinds = {oid: org.kind for oid, org in charter.organisations.items()}
    assert kinds == {
        "acme": "internal",
        "globex": "partner",
        "independent": "contractor",
        "bots": "bot",
        "ai-agents": "agent",
    }
    alice = next(p for p in charter.people.values() if "alice@acme.test" in p.emails)
    assert set(alice.emails) == {"alice@acme.test", "alice.e@acme.test"}  # .mailmap and name alias merged
    bob = next(p for p in charter.people.values() if p.org == "globex")
    assert bob.timezone == "Asia/Kolkata"  # from the +05:30 commit offset
    assert charter.organisations["globex"].lead is not None
    assert any("src/shop/core/**" in c.paths for c in charter.components.values())
    assert charter.done.tests.code == ["src/**"]  # the definition of done, paths guessed from the tree
    assert "tests/**" in charter.done.tests.tests
    assert "docs/**" in charter.done.docs.docs
    assert "[done.coverage]" in (repo.path / "onebar.toml").read_text()  # every rule written out, on
    assert "Wrote" in result.stdout


def test_init_refuses_to_overwrite_without_force(repo: GitRepo) -> None:
    _history(repo)
    assert run_cli("init", str(repo.path)).exit_code == 0
    again = run_cli("init", str(repo.path))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert run_cli("init", str(repo.path), "--force").exit_code == 0


def test_init_guesses_home_domain_by_commit_count(repo: GitRepo) -> None:
    _history(repo)
    result = run_cli("init", str(repo.path), "--stdout")
    assert result.exit_code == 0
    charter = parse_charter(result.stdout)
    assert charter.organisations["acme"].kind == "internal"
    assert not (repo.path / "onebar.toml").exists()
