"""Who is who: robots by the robot table, humans never by a first name or an employer's domain."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from onebar.charter import parse_charter
from onebar.charter.identity import Resolver, kind_by_pattern
from onebar.charter.robots import builtin_robots
from onebar.errors import CharterError
from onebar.report.identity import resolver as report_resolver

ROBOTS = [
    ("Jenkins", "jenkins@review.openstack.org", "bot"),
    ("OpenStack Jenkins", "jenkins@openstack.org", "bot"),
    ("Zuul", "zuul@review.openstack.org", "bot"),
    ("Zuul", "zuul@review.opendev.org", "bot"),
    ("Gerrit Code Review", "review@openstack.org", "bot"),
    ("Gerrit Code Review", "gerrit@review.example.org", "bot"),  # Gerrit's default server name, any host
    ("OpenStack Proposal Bot", "openstack-infra@lists.openstack.org", "bot"),
    ("OpenStack Release Bot", "infra-root@openstack.org", "bot"),
    ("GitHub", "noreply@github.com", "bot"),
    ("GitLab", "noreply@gitlab.com", "bot"),
    ("deploy token", "project_42_bot_3f2a9c@noreply.gitlab.example.com", "bot"),
    ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", "bot"),
    ("dependabot-preview[bot]", "27856297+dependabot-preview[bot]@users.noreply.github.com", "bot"),
    ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com", "bot"),
    ("Renovate Bot", "renovate@whitesourcesoftware.com", "bot"),
    ("bors[bot]", "26634292+bors[bot]@users.noreply.github.com", "bot"),
    ("bors", "bors@rust-lang.org", "bot"),
    ("mergify[bot]", "37929162+mergify[bot]@users.noreply.github.com", "bot"),
    ("kodiakhq[bot]", "49736102+kodiakhq[bot]@users.noreply.github.com", "bot"),
    ("pre-commit-ci[bot]", "66853113+pre-commit-ci[bot]@users.noreply.github.com", "bot"),
    ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com", "bot"),
    ("Weblate", "noreply@weblate.org", "bot"),
    ("some-app[bot]", "123+some-app[bot]@users.noreply.github.com", "bot"),  # any GitHub App
    ("Claude", "noreply@anthropic.com", "agent"),
    ("Claude Opus 4.7", "noreply@anthropic.com", "agent"),
    ("Copilot", "198982749+Copilot@users.noreply.github.com", "agent"),
    ("Copilot", "175728472+Copilot@users.noreply.github.com", "agent"),
    ("devin-ai-integration[bot]", "158243242+devin-ai-integration[bot]@users.noreply.github.com", "agent"),
    ("Cursor Agent", "cursoragent@cursor.com", "agent"),
    ("aider (gpt-4o)", "noreply@aider.chat", "agent"),
]

HUMANS = [
    ("Claude Paroz", "claude@2xlibre.net"),  # a first name that is also an agent's
    ("Devin Smith", "devin.smith@gmail.com"),
    ("Jules Verne", "jules@example.org"),
    ("Cursor Jones", "cj@example.org"),
    ("Chris Hallacy", "hallacy@openai.com"),  # works at an AI company: still a human
    ("Ann Thropic", "ann@anthropic.com"),
    ("Mara Copilot", "mara@cognition.ai"),
    ("Abbot Robot", "abbot@robots.example"),  # "bot" inside a word
    ("Tom Jenkins", "tom.jenkins@review.openstack.org"),  # a human on an infrastructure domain
    ("fungi.admin", "fungi.admin@review.opendev.org"),
    ("Gerrit Smith", "gerrit@example.com"),
    ("Zuul Person", "zuul.person@example.com"),
    ("Bors Ivanov", "bors.ivanov@example.com"),
    ("jab", "jab@users.noreply.github.com"),
    ("", ""),
]


@pytest.mark.parametrize(("name", "email", "kind"), ROBOTS)
def test_robots_resolve_to_their_kind_everywhere(name: str, email: str, kind: str) -> None:
    assert kind_by_pattern(name, email) == kind
    m = Resolver(parse_charter("")).resolve(name, email)
    assert (m.person, m.org, m.kind, m.known) == (None, None, kind, True)
    # The report resolves through the same resolver.
    assert report_resolver(parse_charter(""))(name, email).kind == kind


@pytest.mark.parametrize(("name", "email"), HUMANS)
def test_no_human_is_caught_by_a_name_or_a_domain(name: str, email: str) -> None:
    assert kind_by_pattern(name, email) is None
    assert Resolver(parse_charter("")).resolve(name, email).kind == "unknown"


def test_robots_belong_to_the_charters_organisation_of_their_kind_and_people_win() -> None:
    charter = parse_charter(
        """
[organisations.infra]
kind = "bot"
[organisations.acme]
kind = "internal"
domains = ["review.openstack.org"]
[people.tom]
name = "Tom"
org = "acme"
emails = ["noreply@github.com"]
"""
    )
    r = Resolver(charter)
    zuul = r.resolve("Zuul", "zuul@review.openstack.org")
    assert (zuul.org, zuul.kind) == ("infra", "bot")  # the table wins over a domain
    assert r.resolve("Tom", "noreply@github.com").person == "tom"  # a listed person wins over the table


def test_the_charter_adds_robots() -> None:
    charter = parse_charter(
        """
[[robots]]
name = "Release train"
emails = ["release-train@acme.test"]
evidence = "our CI's release job"

[[robots]]
name = "Acme review agent"
kind = "agent"
logins = ["acme-reviewer"]
"""
    )
    r = Resolver(charter)
    assert r.resolve("whatever", "Release-Train@acme.test").kind == "bot"
    assert r.resolve("x", "99+acme-reviewer@users.noreply.github.com").kind == "agent"
    assert r.resolve("x", "someone@acme.test").kind == "unknown"


def test_a_charter_robot_must_match_something() -> None:
    with pytest.raises(CharterError, match="robots"):
        parse_charter('[[robots]]\nname = "nothing"\n')


def test_people_who_commit_with_an_empty_email_are_matched_by_their_exact_name() -> None:
    charter = parse_charter(
        """
[organisations.acme]
kind = "internal"
[people.ann]
name = "Ann Smith"
org = "acme"
[people.bo1]
name = "Bo Lee"
org = "acme"
[people.bo2]
name = "Bo Lee"
org = "acme"
"""
    )
    r = Resolver(charter)
    assert r.resolve("ann  smith", "").person == "ann"
    assert r.resolve("Ann Smith", "ann@elsewhere.test").person is None  # an address must be listed
    assert r.resolve("Bo Lee", "").person is None  # two people of that name: unknown, not guessed


def test_robot_table_is_documented_row_by_row() -> None:
    """Every row has an id, a kind, something to match and its evidence; docs/charter.md lists them all."""
    rows = tomllib.loads(files("onebar.charter").joinpath("robots.toml").read_text())["robot"]
    assert len(rows) == len(builtin_robots()) >= 25
    doc = (Path(__file__).parent.parent / "docs" / "charter.md").read_text()
    for row in rows:
        assert row["kind"] in ("bot", "agent")
        assert row.get("emails") or row.get("logins") or row.get("names") or row.get("email_patterns")
        assert len(row["evidence"]) > 30
        assert f"`{row['id']}`" in doc, f"docs/charter.md does not list robot {row['id']}"
        for pattern in row.get("email_patterns", ()):
            re.compile(pattern)
