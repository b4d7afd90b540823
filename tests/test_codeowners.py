"""`onebar codeowners`: CODEOWNERS written from the charter, checked, and agreeing with the owners rule."""

from __future__ import annotations

from pathlib import Path

import pytest

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
