"""`onebar onboard PERSON [PATH]`: the first-week brief of a new contributor."""

from __future__ import annotations

from pathlib import Path

import click

from onebar.cli.options import db_option


@click.command()
@click.argument("person")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "md", "html", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option(
    "--charter",
    "charter_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Charter file to use instead of PATH/onebar.toml.",
)
@db_option
def onboard(person: str, path: Path, fmt: str, output: Path | None, charter_file: Path | None, db: str | None) -> None:
    """What PERSON needs in their first week: components and owners, the definition of done in plain
    words, decisions to read, review buddies across organisations, overlap hours, access and its end."""
    from datetime import UTC, datetime

    from onebar.onboard import brief_for, render_brief
    from onebar.workspace import open_workspace

    with open_workspace(path, db=db, charter_file=charter_file) as ws:
        brief = brief_for(ws, person, today=datetime.now(UTC).date())
    text = render_brief(brief, fmt)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        from onebar.files import replace_text

        replace_text(output, text, field="output")
        click.echo(f"wrote {output}", err=True)
