"""Every command, every option and argument, a battery of bad values: never a Python traceback.

The commands are discovered from the CLI itself (`onebar --help` lists them), so a command added
later is covered without touching this file. Each run must end in a clean result: exit 0, or 1/2
with an `error` line, no traceback, no "bug in onebar" report, and (NO_COLOR being set) no ANSI
escape. Bad stores (a newer schema, a missing table, a file that is no database, a read-only store)
and bad database URLs are tried through --db and ONEBAR_DATABASE_URL on every command.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from helpers import GitRepo
from onebar.cli import cli

CHARTER = (
    '[organisations.acme]\nkind = "internal"\ndomains = ["acme.test"]\n\n'
    '[people.alice]\nname = "Alice Example"\norg = "acme"\nemails = ["alice@acme.test"]\n'
)


def _leaf_commands() -> list[tuple[str, ...]]:
    """Every runnable command, as its words on the command line (`record deploy`, `report`, ...)."""
    out: list[tuple[str, ...]] = []
    ctx = click.Context(cli)

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            assert cmd is not None, f"`onebar {' '.join((*prefix, name))}` is listed but cannot be loaded"
            if isinstance(cmd, click.Group):
                walk(cmd, (*prefix, name))
            else:
                out.append((*prefix, name))

    walk(cli, ())
    return out


def _command(words: tuple[str, ...]) -> click.Command:
    ctx = click.Context(cli)
    cmd: click.Command | None = cli
    for word in words:
        assert isinstance(cmd, click.Group)
        cmd = cmd.get_command(ctx, word)
    assert cmd is not None
    return cmd


COMMANDS = _leaf_commands()


@dataclass
class World:
    """A small repository with a charter, an ingested store, and assorted bad things to point at."""

    root: Path
    repo: Path
    db: Path
    env: dict[str, str]

    def bad_values(self) -> list[str]:
        r = self.root
        return [
            "",
            "-",
            "nonexistent",
            "\u202e💥 ünïcode",
            "x" * 5000,
            "caf\udce9",  # a non-UTF-8 byte, as the shell hands it to Python
            "-1",
            "0",
            "99999999999999999999",
            "nan",
            "2026-02-30",
            "9999-99-99T99:99",
            "HEAD~99999",
            str(r / "missing" / "dir" / "out.txt"),
            str(r / "a-directory"),
            str(r / "junk.txt"),
            str(r / "empty.txt"),
            str(r / "binary.bin"),
            str(r / "bad.json"),
            str(r / "bad.xml"),
            str(r / "not-a-repo"),
            str(r / "empty-repo"),
            str(r / "corrupt-repo"),
            "/dev/null",
            "/proc/onebar-nowhere/x",
            *self.bad_stores(),
            "tcp://127.0.0.1:notaport",
            "tcp://:::::",
            "tcp://127.0.0.1:9",
            "tls://127.0.0.1:9",
            "foo://host:1",
        ]

    def bad_stores(self) -> list[str]:
        r = self.root
        return [
            "mysql://u@127.0.0.1/db",
            "postgresql+psycopg2://u@127.0.0.1/db",
            "postgresql://u@127.0.0.1:notaport/db",
            "postgresql://u@127.0.0.1:70000/db",
            "postgresql://nobody@127.0.0.1:9/db",
            "sqlite:////proc/onebar-nowhere/x.db",
            str(r / "newer.db"),
            str(r / "damaged.db"),
            str(r / "junk.txt"),
            f"sqlite:///file:{self.db}?mode=ro&uri=true",
        ]


def _sqlite(db: Path, *statements: str) -> None:
    with sqlite3.connect(db) as conn:
        for s in statements:
            conn.execute(s)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-input")
    repo = GitRepo.create(root / "repo")
    repo.commit("add charter", {"onebar.toml": CHARTER})
    for i in range(5):
        repo.commit(f"change {i}", {f"src/m{i % 2}.py": f"x = {i}\n", "tests/test_m.py": f"# {i}\n"})
    repo.tag("v1.0.0", message="release")
    (root / "a-directory").mkdir()
    (root / "not-a-repo").mkdir()
    (root / "junk.txt").write_text("this is not what you expected\n" * 50)
    (root / "empty.txt").write_text("")
    (root / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (root / "bad.json").write_text('{"runs": [1, 2, {"nested": ')
    (root / "bad.xml").write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><coverage><x>&a;</coverage>')
    GitRepo.create(root / "empty-repo")
    corrupt = GitRepo.create(root / "corrupt-repo")
    corrupt.commit("one", {"a.txt": "1"})
    (root / "corrupt-repo" / ".git" / "HEAD").write_text("ref: refs/heads/\x01broken\n")
    db = root / "store.db"
    result = CliRunner().invoke(cli, ["ingest", str(repo.path), "--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for name in ("newer.db", "damaged.db"):
        shutil.copy(db, root / name)
    _sqlite(root / "newer.db", "UPDATE alembic_version SET version_num = '0999'")
    _sqlite(root / "damaged.db", "DROP TABLE file_changes")
    return root


@pytest.fixture
def world(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    root = tmp_path / "w"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.chdir(root / "a-directory")  # whatever a command writes by a relative name lands here
    db = root / "store.db"
    env = {"ONEBAR_DATABASE_URL": str(db), "NO_COLOR": "1", "HOME": str(root), "XDG_CACHE_HOME": str(root / "cache")}
    return World(root, root / "repo", db, env)


# Values a command needs to get as far as the value under test. Keyed by parameter name; anything
# else gets a generic value of its type. Kept small on purpose: new commands work with the defaults.
_GOOD: dict[str, str] = {"who": "alice", "at": "now", "started": "now", "ref": "v1.0.0", "person": "alice"}
_FAST: dict[str, list[str]] = {
    "demo": ["--commits", "50"],  # keep the demo small when it does run
    "serve": ["--check"],  # check everything a start would, then exit instead of serving forever
    "worker": ["--check"],  # the same for the job worker, which runs until stopped
}


def _good_value(param: click.Parameter, world: World) -> str:
    if param.name in _GOOD:
        return _GOOD[param.name]
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[0])
    if isinstance(param.type, click.types.IntParamType | click.types.FloatParamType):
        return "1"
    if isinstance(param.type, click.Path) or param.name in {"path", "paths", "repo"}:
        return str(world.repo)
    return "x"


def _args(words: tuple[str, ...], world: World, bad: click.Parameter | None = None, value: str = "") -> list[str]:
    cmd = _command(words)
    out = [*words, *_FAST.get(words[0], [])]
    for p in cmd.params:
        if isinstance(p, click.Argument):
            out.append(value if p is bad else _good_value(p, world))
        elif p is bad:
            out.extend([p.opts[0], value])
        elif p.required:
            out.extend([p.opts[0], _good_value(p, world)])
    return out


def _check(result: Result, args: list[str]) -> None:
    shown = " ".join(a[:60] for a in args)
    output = result.output
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), f"onebar {shown}: raised {exc!r}"
    assert "Traceback (most recent call last)" not in output, f"onebar {shown}: traceback\n{output}"
    assert "bug in onebar" not in output, f"onebar {shown}: an unexpected error\n{output}"
    assert "\x1b[" not in output, f"onebar {shown}: ANSI escapes with NO_COLOR set\n{output!r}"
    assert result.exit_code in (0, 1, 2), f"onebar {shown}: exit {result.exit_code}\n{output}"
    if result.exit_code:
        assert "error" in output.lower(), f"onebar {shown}: failed without saying why\n{output}"


def _run(world: World, args: list[str], env: dict[str, str] | None = None) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, args, env={**world.env, **(env or {})}, color=True, catch_exceptions=True)
    _check(result, args)


def _valued_params(words: tuple[str, ...]) -> list[click.Parameter]:
    return [p for p in _command(words).params if not getattr(p, "is_flag", False) and p.name != "help"]


@pytest.mark.slow
@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_option_and_argument_with_bad_values(words: tuple[str, ...], world: World) -> None:
    _run(world, _args(words, world))  # the baseline: what the bad values are swapped into
    for param in _valued_params(words):
        if isinstance(param.type, click.Choice):  # and every good value of a choice (every output format)
            for choice in param.type.choices:
                _run(world, _args(words, world, param, str(choice)))
        for value in world.bad_values():
            _run(world, _args(words, world, param, value))


@pytest.mark.slow
@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_command_with_a_bad_store_in_the_environment(words: tuple[str, ...], world: World) -> None:
    for store in world.bad_stores():
        _run(world, _args(words, world), env={"ONEBAR_DATABASE_URL": store})


def test_the_battery_reaches_every_command() -> None:
    """The discovery itself: the commands the README documents are all found, groups expanded."""
    found = {" ".join(w) for w in COMMANDS}
    assert {"ingest", "report", "offboard", "overlap", "record deploy", "record incident", "gate", "init"} <= found


def test_a_file_that_cannot_be_written_names_its_flag(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("one", {"onebar.toml": CHARTER})
    target = tmp_path / "missing" / "folder" / "report.html"
    for flag in (["-o", str(target)], [f"--output={target}"]):
        result = CliRunner().invoke(cli, ["report", str(repo.path), "--format", "html", *flag])
        assert result.exit_code == 2
        assert result.stderr.strip() == f"error: {flag[0].partition('=')[0]}: {target}: No such file or directory"


READERS = [("audit", "verify"), ("audit", "export"), ("audit", "list"), ("token", "list"), ("jobs",), ("repo", "list")]


@pytest.mark.parametrize("words", READERS)
def test_a_reading_command_never_creates_the_store_it_was_pointed_at(words: tuple[str, ...], tmp_path: Path) -> None:
    """`audit verify` on a mistyped --db must not create an empty store and call its chain sound."""
    store = tmp_path / "typo" / "onebar.db"
    result = CliRunner().invoke(cli, [*words, "--db", f"sqlite:///{store}"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --db: no store at {store}")
    assert not store.exists() and not store.parent.exists()


def test_a_value_that_is_not_utf8_is_named_not_a_traceback(repo: GitRepo) -> None:
    repo.commit("one", {"onebar.toml": CHARTER})
    repo.tag("v1")
    result = CliRunner().invoke(
        cli, ["record", "deploy", str(repo.path), "--at", "now", "--ref", "v1", "--env", "caf\udce9"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --env: caf\\xe9 is not UTF-8 text")


def test_errors_honour_no_color(tmp_path: Path) -> None:
    """With NO_COLOR set nothing is styled, even on a terminal; without it the same error is red."""
    args = ["report", str(tmp_path)]
    plain = CliRunner().invoke(cli, args, env={"NO_COLOR": "1"}, color=True)
    styled = CliRunner().invoke(cli, args, env={"NO_COLOR": ""}, color=True)
    assert plain.exit_code == styled.exit_code == 2
    assert "\x1b[" in styled.stderr  # the check below can fail
    assert "\x1b[" not in plain.stderr and plain.stderr.startswith("error: ")
    usage = CliRunner().invoke(cli, ["report", "--no-such-flag"], env={"NO_COLOR": "1"}, color=True)
    assert usage.exit_code == 2 and "\x1b[" not in usage.output
