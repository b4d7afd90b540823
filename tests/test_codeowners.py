"""`onebar codeowners`: CODEOWNERS written from the charter, checked, and agreeing with the owners rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate_fixtures import CHARTER, charter
from helpers import run_cli
from onebar.errors import UsageError
from onebar.gate.codeowners import render_codeowners
from onebar.gate.match import last_match
from onebar.gate.rules.people_rules import ownership


def test_render_lists_accountable_and_responsible_in_charter_order() -> None:
    text = render_codeowners(charter())
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == ["src/** @alice-gh @quinn-gh", "src/app/storage/** @bob-gh @pat-gh"]


def test_email_when_no_login_and_refusal_of_unsupported_patterns() -> None:
    c = charter(
        '\n[people.erin]\nname = "Erin"\norg = "acme"\nemails = ["erin@acme.test"]\n\n'
        '[components.web]\npaths = ["web/**"]\naccountable = "erin"\n'
    )
    assert "web/** erin@acme.test" in render_codeowners(c)
    bad = charter('\n[components.neg]\npaths = ["!src/x"]\naccountable = "alice"\n')
    with pytest.raises(UsageError, match="cannot be written in CODEOWNERS"):
        render_codeowners(bad)


@pytest.mark.parametrize(
    ("path", "owner"),
    [("src/app/x.py", "core"), ("src/app/storage/db.py", "storage"), ("README.md", None)],
)
def test_last_matching_pattern_wins(path: str, owner: str | None) -> None:
    assert last_match(ownership(charter()), path) == owner


def test_cli_writes_then_checks(tmp_path: Path) -> None:
    (tmp_path / "onebar.toml").write_text(CHARTER)
    check = run_cli("codeowners", str(tmp_path), "--check")
    assert check.exit_code == 1
    assert "out of date" in check.stderr
    wrote = run_cli("codeowners", str(tmp_path))
    assert wrote.exit_code == 0
    target = tmp_path / ".github" / "CODEOWNERS"
    assert "@bob-gh @pat-gh" in target.read_text()
    assert run_cli("codeowners", str(tmp_path), "--check").exit_code == 0
    target.write_text(target.read_text().replace("@pat-gh", "@mallory"))
    drift = run_cli("codeowners", str(tmp_path), "--check")
    assert drift.exit_code == 1
    assert "-src/app/storage/** @bob-gh @mallory" in drift.stdout


def test_cli_without_charter_is_a_charter_error(tmp_path: Path) -> None:
    result = run_cli("codeowners", str(tmp_path))
    assert result.exit_code == 2
    assert "onebar.toml" in result.stderr


COMPONENT = '\n[components.odd]\npaths = [{path}]\naccountable = "alice"\n'


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ('"#notes/**"', "starts with #"),
        ('"!src/x"', "no negation"),
        ('"src/[ab].py"', "character ranges"),
        ('"[Section]"', "section heading"),
        ('"src/a\\\\ b.py"', "backslash"),
        ('"src/a b.py"', "whitespace"),
        ('"src/a\\tb.py"', "whitespace"),
        ('"src/a\\nb.py"', "control character"),
        ('""', "names no path"),
        ('"/"', "names no path"),
    ],
)
def test_paths_codeowners_cannot_express_are_refused_naming_the_field(path: str, why: str) -> None:
    with pytest.raises(UsageError, match=why) as err:
        render_codeowners(charter(COMPONENT.format(path=path)))
    assert err.value.location is not None
    assert err.value.location.field == "components.odd.paths[0]"


def test_a_login_that_is_not_one_is_refused() -> None:
    c = charter(CHARTER_EXTRA_PERSON.format(github='"bad login"'))
    with pytest.raises(UsageError, match="not a GitHub login") as err:
        render_codeowners(c)
    assert err.value.location is not None and err.value.location.field == "people.erin.github"
    assert "@acme/platform" in render_codeowners(charter(CHARTER_EXTRA_PERSON.format(github='"acme/platform"')))


CHARTER_EXTRA_PERSON = (
    '\n[people.erin]\nname = "Erin"\norg = "acme"\nemails = ["erin@acme.test"]\ngithub = {github}\n\n'
    '[components.web]\npaths = ["web/**"]\naccountable = "erin"\n'
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.text(st.sampled_from("abz09._-/*?#! [\\"), min_size=1, max_size=12),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["src/x.py", "web/a/b.js", "#notes/n.md", "docs/index.md"])
    | st.lists(
        # no spaces: the parser matches pattern `0` against a file `0 0`, which git (and GitHub) do not
        st.text(st.sampled_from("abz09._-#!"), min_size=1, max_size=4),
        min_size=1,
        max_size=4,
    ).map("/".join),
)
def test_what_is_written_is_read_back_by_a_codeowners_parser(patterns: list[str], path: str) -> None:
    """Whatever the component paths, the file is either refused or parsed by a CODEOWNERS parser into
    exactly the ownership the gate's `owners` rule applies."""
    from codeowners import CodeOwners

    paths = ", ".join(json.dumps(p) for p in patterns)
    c = charter(f'\n[components.odd]\npaths = [{paths}]\naccountable = "bob"\n')
    try:
        text = render_codeowners(c)
    except UsageError:
        return
    parsed = CodeOwners(text)
    rules = [line.split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")]
    assert len(rules) == sum(len(comp.paths) for comp in c.components.values())
    expected = last_match(ownership(c), path)
    owners = {o for _, o in parsed.of(path)}
    if expected is None:
        assert owners == set()
    else:
        comp = c.components[expected]
        assert owners == {"@" + c.people[p].github for p in [comp.accountable, *comp.responsible]}  # type: ignore[operator]
