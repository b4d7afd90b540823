"""`onebar onboard`: the first-week brief, from a real repository, its charter, ADRs and the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from access_fixtures import charter_text
from helpers import GitRepo, run_cli
from onebar.charter import parse_charter
from onebar.gate.rules import RULES
from onebar.onboard.done import WORDS, Who, plain_rules

TODAY = datetime.now(UTC).date()
ADR_API = """---
status: accepted
date: 2024-03-01
---
# Use idempotency keys on the api

Every POST to api/ carries an idempotency key.
"""
ADR_OLD = """---
status: superseded by ADR-0003
date: 2023-01-01
---
# Old api decision
"""
ADR_LOG = """---
status: accepted
date: 2024-06-01
---
# Structured logging everywhere
"""


@pytest.fixture
def shop(repo: GitRepo) -> GitRepo:
    text = (
        charter_text(TODAY)
        .replace('github = "cy"', 'github = "cy"\ntimezone = "Asia/Kolkata"\nhours = "10:00-18:00"')
        .replace('[components.web]\npaths = ["web/**"]', '[components.web]\npaths = ["web/**"]\narchitecture = true')
    )
    text = text.replace('github = "ana-gh"', 'github = "ana-gh"\ntimezone = "Europe/Berlin"')
    text = text.replace('github = "bo"', 'github = "bo"\ntimezone = "Europe/Berlin"')
    repo.write({"onebar.toml": text})
    repo.commit("charter", {"README.md": "shop\n"}, author=("Ana Lead", "ana@acme.test"))
    for i in range(3):
        repo.commit(f"api {i}", {f"api/m{i}.py": f"x = {i}\n"}, author=("Bo Dev", "bo@acme.test"))
    repo.commit("api by ana", {"api/core.py": "y = 1\n"}, author=("Ana Lead", "ana@acme.test"))
    repo.commit("web", {"web/w.js": "1\n", "web/v.js": "2\n"}, author=("Vic Vendor", "vic@vendor.test"))
    repo.commit(
        "adrs",
        {
            "docs/adr/0001-old-api.md": ADR_OLD,
            "docs/adr/0002-logging.md": ADR_LOG,
            "docs/adr/0003-api-keys.md": ADR_API,
        },
        author=("Ana Lead", "ana@acme.test"),
    )
    return repo


def test_brief_of_a_contractor(shop: GitRepo, store_url: str) -> None:
    result = run_cli("onboard", "cy", str(shop.path), "--format", "json", "--db", store_url)
    assert result.exit_code == 0, result.stderr
    b = json.loads(result.stdout)
    assert b["person"]["org"] == "vendor" and b["person"]["contract_end"] == str(TODAY + timedelta(days=10))
    comps = {c["id"]: c for c in b["components"]}
    assert set(comps) == {"api", "web"} and comps["api"]["role"] == "responsible"
    assert comps["api"]["accountable"] == {"person": "ana", "name": "Ana Lead", "org": "acme"}
    assert comps["web"]["architecture"] is True
    # Who knows api best: bo (3 files), then ana (1); both of another organisation than cy's.
    assert [(x["person"], x["files"]) for x in comps["api"]["buddies"]] == [("bo", 3), ("ana", 1)]
    assert "cross-organisation review" in comps["api"]["buddies"][0]["why"]
    words = {r["id"]: r["words"] for r in b["definition_of_done"]}
    assert [r["id"] for r in b["definition_of_done"]] == [r.id for r in RULES]
    assert "outside vendor" in words["reviews.cross_org"]
    assert "api: Ana Lead (Accountable) or a Responsible person (Bo Dev)" in words["owners"]  # not cy herself
    assert "web (architecture)" in words["adr.architecture"]
    # Decisions: the one naming her component first, the superseded one left out.
    assert [(a["ref"], a["why"]) for a in b["adrs"]] == [
        ("ADR-0003", "mentions api"),
        ("ADR-0002", "a decision in force for the whole repository"),
    ]
    # Kolkata 10:00-18:00 against Berlin 09:00-17:00 (winter: UTC+1, so 13:30-21:30 Kolkata) shares 13:30-18:00.
    overlap = {o["org"]: o for o in b["overlap"]}
    if not (3 <= TODAY.month <= 10):  # outside Europe's summer time, where Berlin moves an hour
        assert overlap["acme"]["typical_day_local"] == ["13:30-18:00"]
    assert overlap["acme"]["hours_per_week"] > 0
    assert b["access"]["level"] == "write" and b["access"]["until"] == str(TODAY + timedelta(days=10))


def test_markdown_and_html(shop: GitRepo, store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    md = run_cli("onboard", "cy", str(shop.path), "--format", "md", "--db", store_url)
    assert md.stdout.startswith("# Welcome to repo, Cy Contract")
    assert "| api | responsible |" in md.stdout and "## Decisions to read first" in md.stdout
    out = tmp_path / "cy.html"
    html = run_cli("onboard", "cy", str(shop.path), "--format", "html", "-o", str(out), "--db", store_url)
    assert html.exit_code == 0
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert "Welcome, Cy Contract" in page and "ADR-0003" in page and 'scope="col"' in page
    text = run_cli("onboard", "cy", str(shop.path), "--db", store_url)
    assert "review buddy: Bo Dev (acme)" in text.stdout


def test_an_unknown_person_is_a_usage_error(shop: GitRepo, store_url: str) -> None:
    result = run_cli("onboard", "nobody", str(shop.path), "--db", store_url)
    assert result.exit_code == 2 and "PERSON: no person 'nobody'" in result.stderr


def test_html_escapes_names(shop: GitRepo, store_url: str) -> None:
    text = (shop.path / "onebar.toml").read_text().replace('name = "Cy Contract"', 'name = "Cy <b>Contract</b>"')
    shop.commit("rename", {"onebar.toml": text}, author=("Ana Lead", "ana@acme.test"))
    page = run_cli("onboard", "cy", str(shop.path), "--format", "html", "--db", store_url).stdout
    assert "Cy &lt;b&gt;Contract&lt;/b&gt;" in page and "<b>Contract</b>" not in page


def test_every_gate_rule_is_worded() -> None:
    assert set(WORDS) == {r.id for r in RULES}


def test_disabled_and_evaluated_rules() -> None:
    text = charter_text(TODAY) + '\n[done.size]\nenabled = false\n\n[done.coverage]\nmode = "evaluate"\n'
    rules = plain_rules(parse_charter(text), Who("bo", "acme", ("api",)))
    ids = [r.id for r in rules]
    assert "size" not in ids
    assert [r.enforced for r in rules if r.id.startswith("coverage")] == [False, False]


def test_a_person_without_components_or_history(shop: GitRepo, store_url: str) -> None:
    text = (shop.path / "onebar.toml").read_text() + '\n[people.new]\nname = "New Hire"\norg = "acme"\n'
    shop.commit("hire", {"onebar.toml": text}, author=("Ana Lead", "ana@acme.test"))
    b = json.loads(run_cli("onboard", "new", str(shop.path), "--format", "json", "--db", store_url).stdout)
    assert b["components"] == [] and b["notes"] == ["new has no role in any component yet: ask ana"]
    assert b["access"]["level"] is None and b["access"]["note"] is None


def test_agent_rule_names_the_accountable_organisations() -> None:
    text = charter_text(TODAY) + '\n[done.agents]\naccountable = ["acme"]\n'
    rules = {r.id: r for r in plain_rules(parse_charter(text), Who("bo", "acme", ("api",)))}
    assert "approved by a human of acme" in rules["agents.human_review"].words
    default = {r.id: r for r in plain_rules(parse_charter(charter_text(TODAY)), Who("bo", "acme", ("api",)))}
    assert "not an agent or a bot" in default["agents.human_review"].words
