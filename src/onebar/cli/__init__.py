"""The `onebar` command line: thin commands over the library, imported only when invoked.

Each command parses its arguments, calls library functions and renders the result. Errors are turned
into output here, once for every command: an OnebarError (or a click usage error) becomes one message
on stderr naming the flag at fault and the error's exit code, and, when the command was asked for
`--format json`, the one JSON error shape (`OnebarError.to_dict()`) on stdout for the machine reading it.
"""

from __future__ import annotations

import importlib
import json
from typing import TYPE_CHECKING, Any

import click

from onebar import __version__

if TYPE_CHECKING:
    from onebar.errors import OnebarError

_ARGV = "onebar.argv"

# name -> "module:attribute"; modules load lazily so `onebar ingest` pays only for what it uses.
COMMANDS: dict[str, str] = {
    "init": "onebar.cli.charter_cmds:init",
    "check": "onebar.cli.charter_cmds:check",
    "ingest": "onebar.cli.ingest_cmd:ingest",
    "report": "onebar.cli.report_cmds:report",
    "offboard": "onebar.cli.report_cmds:offboard",
    "overlap": "onebar.cli.report_cmds:overlap",
    "record": "onebar.cli.report_cmds:record",
    "gate": "onebar.cli.gate_cmds:gate",
    "adr": "onebar.cli.gate_cmds:adr",
    "codeowners": "onebar.cli.gate_cmds:codeowners",
    "demo": "onebar.cli.demo_cmd:demo",
    "serve": "onebar.cli.service_cmds:serve",
    "repo": "onebar.cli.service_cmds:repo",
    "token": "onebar.cli.service_cmds:token",
    "jobs": "onebar.cli.service_cmds:jobs",
    "import": "onebar.cli.codehost_cmds:import_",
    "hook": "onebar.cli.codehost_cmds:hook",
    "events": "onebar.cli.codehost_cmds:events",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGV] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        from onebar.errors import OnebarError

        as_json = wants_json(ctx.meta.get(_ARGV, []))
        try:
            return super().invoke(ctx)
        except OnebarError as exc:
            if as_json:
                click.echo(json.dumps(exc.to_dict(), indent=2))
            report_error(exc, _flags(self, ctx))
            ctx.exit(exc.exit_code)
        except click.ClickException as exc:  # a malformed command line: click prints it, we add the JSON shape
            if as_json:
                click.echo(json.dumps(_click_error(exc).to_dict(), indent=2))
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="onebar")
def cli() -> None:
    """onebar: one bar for every contributor, internal or external.

    Write the charter once (onebar.toml), mine the history, and read delivery, review and
    knowledge risk per organisation.
    """


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    cli.main(args=argv, prog_name="onebar")


def _flags(group: click.Group, ctx: click.Context) -> dict[str, str]:
    """Parameter name -> its option as typed (since -> --since) for the invoked command and its subcommands."""
    out: dict[str, str] = {}
    name = ctx.invoked_subcommand
    todo = [group.get_command(ctx, name)] if name else []
    while todo:
        cmd = todo.pop()
        if cmd is None:
            continue
        for p in cmd.params:
            if p.name and p.opts:
                out.setdefault(p.name, max(p.opts, key=len) if isinstance(p, click.Option) else p.name.upper())
        if isinstance(cmd, click.Group):
            todo.extend(cmd.commands.values())
    return out


def wants_json(argv: list[str]) -> bool:
    """Whether the command line asks for `--format json` (read from the raw arguments, so that it is
    known even when parsing the rest of them fails)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--format=json" or (arg == "--format" and argv[i + 1 : i + 2] == ["json"]):
            return True
    return False


def _click_error(exc: click.ClickException) -> OnebarError:
    """A click usage error as the library's UsageError, naming the parameter at fault as its field."""
    from onebar.errors import OnebarError, UsageError

    param = getattr(exc, "param", None)
    if isinstance(exc, click.UsageError):
        return UsageError(exc.format_message(), field=param.name if param is not None else None)
    return OnebarError(exc.format_message())


def report_error(exc: Exception, flags: dict[str, str] | None = None) -> None:
    """One line per problem on stderr, each naming its file, line and field where known.

    A library error names the field at fault (e.g. "since"); here it is shown as the flag (--since).
    """
    from onebar.errors import OnebarError

    text = str(exc)
    if isinstance(exc, OnebarError) and exc.field and exc.location is None:
        shown = (flags or {}).get(exc.field, exc.field)
        text = f"{shown}: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
    for line in text.splitlines():
        click.secho("error: ", fg="red", bold=True, err=True, nl=False)
        click.echo(line, err=True)
