"""The gate's docs and ecosystem files stay honest: every rule, option and action flag is real and documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
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


def _gate_step_env(tmp_path: Path, repo: Path, **inputs: str) -> dict[str, str]:
    import os
    import sys

    shim = tmp_path / "bin" / "onebar"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT / "src"}" exec "{sys.executable}" -m onebar "$@"\n')
    shim.chmod(0o755)
    for name in ("out", "summary"):
        (tmp_path / name).write_text("")
    env = {
        **os.environ,
        "PATH": f"{shim.parent}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_EVENT_NAME": "push",
        "IN_PATH": str(repo),
        "IN_MODE": "enforce",
        "IN_REVIEWS": "auto",
        "FETCHED_REVIEWS": "",
    }
    for key in ("IN_BASE", "IN_HEAD", "IN_COVERAGE", "IN_SARIF", "IN_SBOM", "IN_LICENSES"):
        env[key] = inputs.get(key, "")
    return env


@pytest.mark.slow
def test_the_actions_gate_step_runs_under_bash_errexit(tmp_path: Path) -> None:
    """Run the action's own script (as GitHub does: bash -eo pipefail) against a real repository."""
    import subprocess

    from gate_fixtures import CHARTER
    from helpers import GitRepo

    repo = GitRepo.create(tmp_path / "repo")
    repo.commit("start", {"onebar.toml": CHARTER, "docs/a.md": "a\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("docs", {"docs/b.md": "b\n"})
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    script = next(s for s in action["runs"]["steps"] if s.get("id") == "gate")["run"]
    env = _gate_step_env(tmp_path, repo.path, IN_BASE="main", IN_SARIF="")
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    outputs = dict(line.split("=", 1) for line in (tmp_path / "out").read_text().splitlines())
    assert outputs["exit-code"] == "0"
    assert outputs["verdict"] == "pass"
    assert (tmp_path / "summary").read_text().startswith("<!-- onebar-gate -->")
    assert json.loads(Path(outputs["sarif-file"]).read_text())["version"] == "2.1.0"
    again = tmp_path / "again"
    again.mkdir()
    env = _gate_step_env(again, repo.path, IN_BASE="no-such-ref")
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "no-such-ref" in proc.stderr
