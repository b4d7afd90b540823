"""The docs stay honest: every command has working help and is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_cli
from onebar.cli import COMMANDS

ROOT = Path(__file__).parent.parent
DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_and_docs(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert f"onebar {command}" in DOCS, f"`onebar {command}` is not mentioned in README.md or docs/"


def test_readme_opens_with_setup_and_test_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```sh") + 3]
    assert block[0].startswith("bash scripts/setup.sh && .venv/bin/onebar ")
    assert block[1] == "bash scripts/test.sh"


def test_version() -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert "onebar, version" in result.stdout
