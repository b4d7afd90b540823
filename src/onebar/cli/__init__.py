"""The `onebar` command line: thin commands over the library, imported only when invoked.

Each command parses its arguments, calls one library function and renders the result. Errors from
the library (OnebarError) become one message on stderr and the error's exit code here, at the edge.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from onebar import __version__

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

    def invoke(self, ctx: click.Context) -> Any:
        from onebar.errors import OnebarError

        try:
            return super().invoke(ctx)
        except OnebarError as exc:
            report_error(exc, _flags(self, ctx))
            ctx.exit(exc.exit_code)
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
