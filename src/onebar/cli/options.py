"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

db_option = click.option(
    "--db",
    "db",
    metavar="URL",
    envvar="ONEBAR_DATABASE_URL",
    help="Store: a SQLite path or URL, or postgresql://... "
    "[env: ONEBAR_DATABASE_URL; default: ~/.local/share/onebar/onebar.db]",
)


def format_choice(*names: str) -> Callable[[F], F]:
    """`--format` with the given choices, the first being the default. With `--format json` a failing
    command also prints the one JSON error shape on stdout (onebar.cli, at the edge)."""
    return click.option(
        "--format", "fmt", type=click.Choice(names), default=names[0], show_default=True, help="Output format."
    )


format_option = format_choice("text", "json")
