"""The gate's docs and ecosystem files stay honest: every rule, option and action flag is real and documented."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from helpers import run_cli
from onebar.charter.done import DefinitionOfDone
from onebar.gate.rules import RULES

ROOT = Path(__file__).parent.parent
GATE_MD = (ROOT / "docs" / "gate.md").read_text()


def _options(*command: str) -> set[str]:
    help_text = run_cli(*command, "--help").stdout
    return set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help"}


def test_every_rule_and_setting_is_documented() -> None:
    for spec in RULES:
        assert f"### `{spec.id}`" in GATE_MD or f"`{spec.id}`" in GATE_MD, spec.id
        assert f"[done.{spec.setting}]" in GATE_MD, spec.setting
    for table, field in DefinitionOfDone.model_fields.items():
        if field.annotation is not None and hasattr(field.annotation, "model_fields"):
            for name in field.annotation.model_fields:
                if name not in ("enabled", "mode"):
                    assert f"`{name}`" in GATE_MD, f"[done.{table}] {name}"


def test_every_cli_option_is_documented() -> None:
    for option in _options("gate"):
        assert option in GATE_MD, option
    for option in _options("codeowners"):
        assert option in GATE_MD, option
    adr_md = (ROOT / "docs" / "adr.md").read_text()
    for sub in ("new", "list", "accept", "supersede", "sign"):
        assert f"onebar adr {sub}" in adr_md
        for option in _options("adr", sub):
            assert option in adr_md, (sub, option)


def test_action_passes_only_real_flags() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    scripts = "\n".join(step.get("run", "") for step in action["runs"]["steps"])
    used = set(re.findall(r"(--[a-z][a-z-]+)", scripts))
    real = _options("gate") | {"--paginate", "--jq", "--input", "--disable-pip-version-check", "--quiet"}
    assert used <= real, used - real
    for name in action["inputs"]:
        assert f"`{name}`" in GATE_MD, name


def test_pre_commit_hooks_name_real_commands() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    entries = {h["id"]: h["entry"].split() for h in hooks}
    assert entries["onebar-gate"] == ["onebar", "gate", "--staged"]
    assert "--check" in _options("codeowners")
    assert all(h["language"] == "python" and h["pass_filenames"] is False for h in hooks)
