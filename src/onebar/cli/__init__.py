"""The `onebar` command line: thin commands over the library, imported only when invoked.

Each command parses its arguments, calls library functions and renders the result. Errors are turned
into output here, once for every command: an OnebarError (or a click usage error) becomes one message
on stderr naming the flag at fault and the error's exit code, and, when the command was asked for
`--format json`, the one JSON error shape (`OnebarError.to_dict()`) on stdout for the machine reading it.
"""

from __future__ import annotations

import importlib
import json
import os
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
    "worker": "onebar.cli.service_cmds:worker",
    "repo": "onebar.cli.service_cmds:repo",
    "token": "onebar.cli.service_cmds:token",
    "jobs": "onebar.cli.service_cmds:jobs",
    "import": "onebar.cli.codehost_cmds:import_",
    "hook": "onebar.cli.codehost_cmds:hook",
    "events": "onebar.cli.codehost_cmds:events",
    "audit": "onebar.cli.audit_cmds:audit",
    "access": "onebar.cli.access_cmds:access",
    "onboard": "onebar.cli.onboard_cmds:onboard",
    "milestones": "onebar.cli.milestones_cmds:milestones",
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

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        if no_color():  # every message of this run, click's own included, goes out without ANSI styles
            extra["color"] = False
        return super().make_context(info_name, args, parent, **extra)

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
        except (click.exceptions.Exit, click.Abort):
            raise  # an exit already decided
        except Exception as exc:  # never a traceback: what the user can act on, or a bug said as one
            if os.environ.get("ONEBAR_DEBUG"):
                raise
            error = unexpected_error(exc, ctx.meta.get(_ARGV, []))
            if as_json:
                click.echo(json.dumps(error.to_dict(), indent=2))
            report_error(error, _flags(self, ctx))
            ctx.exit(error.exit_code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="onebar")
def cli() -> None:
    """onebar: one bar for every contributor, internal or external.

    Write the charter once (onebar.toml), mine the history, and read delivery, review and
    knowledge risk per organisation.
    """


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    import gc
    import sys

    # One command is one short run that allocates a lot and frees little before it ends (a report of
    # a long history makes millions of small objects): a cycle collection every 700 allocations, the
    # default, was a tenth of its time. Every 50,000 keeps the collector's cost small.
    gc.set_threshold(50_000, 20, 100)
    if not os.environ.get("ONEBAR_DEBUG"):
        # "Exception ignored in ..." tracebacks (a library's destructor failing at exit) say nothing a
        # user can act on; ONEBAR_DEBUG=1 shows them.
        sys.unraisablehook = lambda _unraisable: None
    cli.main(args=argv, prog_name="onebar")


def no_color() -> bool:
    """NO_COLOR (https://no-color.org): set and not empty, no ANSI colour in any output."""
    return bool(os.environ.get("NO_COLOR"))


def unexpected_error(exc: Exception, argv: list[str] | None = None) -> OnebarError:
    """An exception no library code turned into an OnebarError, as one the user can read.

    A file that cannot be read or written, or a value that is not UTF-8 text, is bad input (exit 2);
    a database failure is a store error; anything else is a bug, said as one.
    """
    from sqlalchemy.exc import DataError, OperationalError

    from onebar.errors import OnebarError, StoreError, UsageError

    if isinstance(exc, UnicodeError) and (bad := _not_utf8(argv or [])):
        flag, value = bad
        shown = os.fsencode(value).decode("ascii", "backslashreplace")
        return UsageError(
            f"{flag + ': ' if flag else ''}{shown} is not UTF-8 text",
            hint="onebar keeps names and text as UTF-8: give this value in UTF-8",
        )
    if isinstance(exc, UnicodeDecodeError):
        flag, file = _undecodable(argv or [])
        where = f"{flag + ': ' if flag else ''}{file}" if file else "a file it was given"
        return UsageError(f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start})")
    if isinstance(exc, OverflowError | DataError) and (big := _too_big(argv or [])):
        flag, value = big
        return UsageError(f"{flag + ': ' if flag else ''}{value} is too large a number")
    if isinstance(exc, OSError) and exc.filename is not None:
        flag = _flag_of(str(exc.filename), argv or [])
        return UsageError(f"{flag + ': ' if flag else ''}{exc.filename}: {exc.strerror or exc}")
    if isinstance(exc, OSError):
        return OnebarError(f"{exc.strerror or exc}")
    if isinstance(exc, OperationalError):
        words = str(exc.orig or exc).strip().splitlines()
        return StoreError(f"the store failed: {words[0] if words else type(exc).__name__}")
    if isinstance(exc, MemoryError):
        return OnebarError("out of memory", hint="free some memory, or ingest with fewer --jobs")
    return OnebarError(
        f"unexpected {type(exc).__name__}: {exc}",
        hint="a bug in onebar: please report it, with the traceback ONEBAR_DEBUG=1 shows",
    )


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


def _not_utf8(argv: list[str]) -> tuple[str | None, str] | None:
    """The first command-line value holding bytes that are not UTF-8 (Python keeps them as surrogates),
    with the option it was given to."""
    for i, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--") and "=" in arg else arg
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            if value is not arg:
                return arg.partition("=")[0], value
            return (argv[i - 1] if i and argv[i - 1].startswith("-") else None), value
    return None


def _flag_of(value: str, argv: list[str]) -> str | None:
    """The option `value` was given to on the command line (-o FILE, --output=FILE), if any."""
    for i, arg in enumerate(argv):
        if arg.startswith("--") and arg.partition("=")[2] == value:
            return arg.partition("=")[0]
        if arg == value and i and argv[i - 1].startswith("-"):
            return argv[i - 1]
    return None


def _too_big(argv: list[str]) -> tuple[str | None, str] | None:
    """The first whole number on the command line that no 64-bit database column can hold."""
    for arg in argv:
        value = arg.partition("=")[2] if arg.startswith("--") and "=" in arg else arg
        digits = value.lstrip("+-")
        if digits.isdigit() and (len(digits) > 19 or not -(2**63) <= int(value) < 2**63):
            flag = arg.partition("=")[0] if value is not arg else _flag_of(value, argv)
            return flag, value
    return None


def _undecodable(argv: list[str]) -> tuple[str | None, str | None]:
    """The first file named on the command line that is not UTF-8 text, with the option it was given to."""
    from pathlib import Path

    for i, arg in enumerate(argv):
        flag, _, value = arg.partition("=") if arg.startswith("--") and "=" in arg else ("", "", arg)
        try:
            with Path(value).open("rb") as f:
                f.read(1 << 22).decode("utf-8")
        except OSError:
            continue  # no file, or not one that can be read
        except UnicodeDecodeError:
            if flag:
                return flag, value
            return (argv[i - 1] if i and argv[i - 1].startswith("-") else None), value
    return None, None
