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
            report_error(exc)
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


def report_error(exc: Exception) -> None:
    """One line per problem on stderr, each naming its file, line and field where known."""
    for line in str(exc).splitlines():
        click.secho("error: ", fg="red", bold=True, err=True, nl=False)
        click.echo(line, err=True)
