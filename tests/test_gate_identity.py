"""The gate resolves people exactly as the rest of onebar does (charter.identity.Resolver)."""

from __future__ import annotations

from onebar.charter import parse_charter
from onebar.gate.reviews import identify

CHARTER = parse_charter(
    """
[organisations.acme]
kind = "internal"
domains = ["acme.test"]

[organisations.bots]
kind = "bot"

[people.alice]
name = "Alice Example"
org = "acme"
emails = ["alice@acme.test"]
github = "alice-gh"
"""
)


def test_login_and_listed_email() -> None:
    assert identify(CHARTER, login="Alice-GH").person == "alice"
    assert identify(CHARTER, email="ALICE@acme.test").person == "alice"


def test_noreply_address_resolves_through_the_declared_login() -> None:
    who = identify(CHARTER, email="123+alice-gh@users.noreply.github.com", name="Alice")
    assert (who.person, who.org, who.org_kind) == ("alice", "acme", "internal")


def test_sub_domain_of_an_organisation() -> None:
    who = identify(CHARTER, email="carol@eu.acme.test", name="Carol")
    assert (who.person, who.org, who.org_kind) == (None, "acme", "internal")


def test_bots_by_pattern_and_strangers() -> None:
    bot = identify(CHARTER, email="49699333+dependabot[bot]@users.noreply.github.com", name="dependabot[bot]")
    assert (bot.org, bot.org_kind) == ("bots", "bot")
    stranger = identify(CHARTER, email="eve@elsewhere.test", name="Eve")
    assert (stranger.person, stranger.org, stranger.org_kind) == (None, None, None)
