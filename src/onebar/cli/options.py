"""Options shared by several commands."""

from __future__ import annotations

import click

db_option = click.option(
    "--db",
    "db",
    metavar="URL",
    envvar="ONEBAR_DATABASE_URL",
    help="Store: a SQLite path or URL, or postgresql://... "
    "[env: ONEBAR_DATABASE_URL; default: ~/.local/share/onebar/onebar.db]",
)
format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
