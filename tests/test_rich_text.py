"""User and configuration text shown through Rich is never read as markup.

`[done.licenses]`, `renovate[bot]` or a folder named `[x]` are text; Rich would take them for style
tags and drop them. Every Console and progress column is built with `markup=False`, and the gate's
table cells are `Text`, so nothing a user wrote is ever interpreted.
"""

from __future__ import annotations

import ast
from pathlib import Path

from gate_fixtures import change, charter, evidence, fc
from helpers import GitRepo, run_cli
from onebar.gate.model import Authorship, Participant, Verdict
from onebar.gate.render import render
from onebar.gate.rules import run_rules

SRC = Path(__file__).parent.parent / "src" / "onebar"
MARKUP_READERS = {"Console", "TextColumn"}


def test_every_rich_console_and_column_is_built_without_markup() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in MARKUP_READERS:
                continue
            markup = next((k.value for k in node.keywords if k.arg == "markup"), None)
            if not (isinstance(markup, ast.Constant) and markup.value is False):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {name}(...)")
    assert not offenders, "build these with markup=False: " + ", ".join(offenders)


def test_gate_text_keeps_setting_names_in_brackets() -> None:
    c = charter("\n[done.licenses]\nenabled = false\n")
    results = run_rules(change(fc("src/a.py", {1: "x"})), evidence(), c, Authorship(Participant(name="[bot]")))
    text = render(Verdict("b" * 40, "h" * 40, "enforce", tuple(results), Participant(login="renovate[bot]")), "text")
    assert "[done.licenses] enabled = false" in text
    assert "renovate[bot]" in text


def test_report_text_keeps_a_bracketed_repository_name(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "[bold]shop")
    repo.commit("start", {"src/a.py": "x\n"}, author=("renovate[bot]", "bot@renovate.test"))
    result = run_cli("report", str(repo.path), "--db", f"sqlite:///{tmp_path / 'r.db'}", "--since", "all")
    assert result.exit_code == 0, result.output
    assert "— [bold]shop" in result.stdout
