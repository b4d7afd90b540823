"""`onebar milestones [PATH]`: each milestone met, not met or at risk, with the evidence per criterion."""

from __future__ import annotations

from pathlib import Path

import click

from onebar.cli.options import db_option


@click.command()
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md"]), default="text", show_default=True)
@click.option(
    "--charter",
    "charter_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Charter file to use instead of PATH/onebar.toml.",
)
@db_option
def milestones(path: Path, fmt: str, charter_file: Path | None, db: str | None) -> None:
    """Judge the charter's [[milestones]]: met, not met or at risk, with the evidence behind each criterion."""
    from datetime import UTC, datetime

    from onebar.milestones import evaluate, render_milestones
    from onebar.workspace import open_workspace

    today = datetime.now(UTC).date()
    with open_workspace(path, db=db, charter_file=charter_file) as ws:
        results = evaluate(ws, today=today)
    click.echo(render_milestones(results, today, fmt), nl=False)
