"""Commands that write files say which file they cannot write (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

from gate_fixtures import CHARTER
from helpers import GitRepo, run_cli


def test_unwritable_targets_are_usage_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    (tmp_path / "onebar.toml").write_text(CHARTER)
    cases = {
        "codeowners": ["codeowners", str(tmp_path), "--output", str(blocker / "CODEOWNERS")],
        "adr new": ["adr", "new", "Title", "--repo", str(tmp_path), "--dir", str(blocker / "adr")],
    }
    for name, args in cases.items():
        result = run_cli(*args)
        assert result.exit_code == 2, (name, result.output)
        assert "cannot write" in result.stderr and str(blocker) in result.stderr, name


def test_gate_write_into_a_file_names_the_flag(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("start", {"onebar.toml": CHARTER, "docs/a.md": "a\n"})
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run_cli("gate", str(repo.path), "--base", "HEAD", "--write", f"json:{blocker}/verdict.json")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --write: cannot write")


def test_a_non_utf8_adr_is_named(tmp_path: Path) -> None:
    adr_dir = tmp_path / "docs" / "adr"
    adr_dir.mkdir(parents=True)
    (adr_dir / "0001-latin.md").write_bytes(b"# Caf\xe9\n")
    result = run_cli("adr", "list", "--repo", str(tmp_path))
    assert result.exit_code == 2
    assert "0001-latin.md" in result.stderr and "not UTF-8" in result.stderr
