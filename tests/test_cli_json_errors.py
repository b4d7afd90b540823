"""Every command that offers `--format json` prints the one JSON error shape on stdout when it fails.

The shape is `OnebarError.to_dict()`, the same body the HTTP service returns; a machine reading stdout
never has to scrape stderr. The table below must name every such command: a new one fails the test
until it is added.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from helpers import run_cli
from onebar.cli import COMMANDS, cli

SHAPE = {"error", "message", "file", "line", "field", "hint"}


def _json_commands() -> set[tuple[str, ...]]:
    """Paths (e.g. ("adr", "list")) of every command with a --format option that offers json."""
    ctx = click.Context(cli)
    out: set[tuple[str, ...]] = set()
    todo: list[tuple[tuple[str, ...], click.Command]] = [((n,), cli.get_command(ctx, n)) for n in COMMANDS]  # type: ignore[misc]
    while todo:
        path, cmd = todo.pop()
        if isinstance(cmd, click.Group):
            todo += [((*path, n), c) for n, c in cmd.commands.items()]
            continue
        for p in cmd.params:
            if "--format" in p.opts and isinstance(p.type, click.Choice) and "json" in p.type.choices:
                out.add(path)
    return out


# Command -> (arguments that make it fail, the error class, the field it names). {missing} is a path that
# does not exist, {bad} a folder whose onebar.toml is invalid, {file} a regular file.
FAILING: dict[tuple[str, ...], tuple[list[str], str, str | None]] = {
    ("report",): (["{missing}"], "NotARepositoryError", None),
    ("offboard",): (["alice", "{missing}"], "NotARepositoryError", None),
    ("overlap",): (["{bad}"], "CharterError", "organisations.acme.kind"),
    ("ingest",): (["{missing}"], "NotARepositoryError", None),
    ("check",): (["{bad}"], "CharterError", "organisations.acme.kind"),
    ("gate",): (["{missing}"], "NotARepositoryError", None),
    ("adr", "list"): (["--repo", "{bad}"], "CharterError", "organisations.acme.kind"),
    ("demo",): (["{file}", "--commits", "100"], "UsageError", None),
    ("import", "github"): (["no-slash"], "UsageError", "full_name"),
    ("import", "gitlab"): ([""], "UsageError", "full_name"),
    ("hook", "add"): (["github", "--repo", "r", "--db", "nosuch://x"], "UsageError", "db"),
    ("hook", "list"): (["--db", "nosuch://x"], "UsageError", "db"),
    ("events", "process"): (["--db", "nosuch://x"], "UsageError", "db"),
    ("events", "replay"): (["--since", "not-a-date", "--db", "{tmp}/store.db"], "UsageError", "since"),
    ("audit", "verify"): (["--from", "{file}"], "UsageError", "from_file"),
    ("audit", "list"): (["--since", "yesterday"], "UsageError", "since"),
    ("access", "request"): (
        ["bo", "{missing}", "--component", "api", "--until", "2030-01-01"],
        "NotARepositoryError",
        None,
    ),
    ("access", "approve"): (["1", "{missing}"], "NotARepositoryError", None),
    ("access", "revoke"): (["1", "{missing}"], "NotARepositoryError", None),
    ("access", "list"): (["{missing}"], "NotARepositoryError", None),
    ("access", "plan"): (["{missing}", "--from", "{file}"], "UsageError", "from_file"),
    ("access", "review"): (["{missing}"], "NotARepositoryError", None),
    ("access", "sweep"): (["{missing}"], "NotARepositoryError", None),
    ("onboard",): (["alice", "{missing}"], "NotARepositoryError", None),
    ("milestones",): (["{missing}"], "NotARepositoryError", None),
    ("repo", "add"): (
        ["{missing}", "--db", "{tmp}/store.db", "--data-dir", "{tmp}/data"],
        "NotARepositoryError",
        "source",
    ),
    ("repo", "list"): (["--db", "nosuch://x"], "UsageError", "db"),
    ("token", "create"): (["--role", "lead", "--db", "{tmp}/store.db"], "UsageError", "org"),
    ("token", "list"): (["--db", "nosuch://x"], "UsageError", "db"),
    ("jobs",): (["--status", "queued", "--db", "nosuch://x"], "UsageError", "db"),
}


def _args(tmp: Path, args: list[str]) -> list[str]:
    bad = tmp / "bad"
    bad.mkdir()
    (bad / "onebar.toml").write_text("version = 1\n[organisations.acme]\nkind = 'vendor'\n")
    (tmp / "file.txt").write_text("x")
    return [a.format(missing=tmp / "missing", bad=bad, file=tmp / "file.txt", tmp=tmp) for a in args]


def test_every_json_command_is_covered() -> None:
    assert set(FAILING) == _json_commands()


@pytest.mark.parametrize("command", sorted(FAILING))
def test_a_failing_command_prints_the_json_error_shape(tmp_path: Path, command: tuple[str, ...]) -> None:
    args, error, field = FAILING[command]
    result = run_cli(*command, *_args(tmp_path, args), "--format", "json")
    assert result.exit_code == 2, result.output
    body = json.loads(result.stdout)
    assert set(body) >= SHAPE
    assert (body["error"], body["field"]) == (error, field)
    assert body["message"]
    assert result.stderr.startswith("error: ")  # people still read the message on stderr


@pytest.mark.parametrize("spelling", [["--format", "json"], ["--format=json"]])
def test_a_malformed_command_line_gets_the_shape_too(tmp_path: Path, spelling: list[str]) -> None:
    """click's own usage errors, even before --format is parsed, name the parameter as the field."""
    result = run_cli("report", str(tmp_path), "--tiers", "1999", *spelling)
    assert result.exit_code == 2
    body = json.loads(result.stdout)
    assert (body["error"], body["field"]) == ("UsageError", "tiers")
    assert "1999" in body["message"]


def test_text_format_keeps_stdout_empty_on_failure(tmp_path: Path) -> None:
    result = run_cli("report", str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no such file or directory" in result.stderr


def test_a_library_field_is_shown_as_its_flag(tmp_path: Path) -> None:
    """The library names the field (`head`); the CLI shows the flag (`--head`); the JSON keeps the field."""
    result = run_cli("gate", str(tmp_path), "--staged", "--head", "HEAD", "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["field"] == "head"
    assert result.stderr.startswith("error: --head: ")
