"""`onebar init` and `onebar check`: parse, call onebar.charter.files, print."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from onebar.cli.options import format_option


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option(
    "--internal-domain",
    "internal_domains",
    multiple=True,
    metavar="DOMAIN",
    help="E-mail domain of the home organisation (repeatable).",
)
@click.option(
    "--org-domain",
    "org_domains",
    multiple=True,
    metavar="DOMAIN",
    help="E-mail domain that is an organisation even with one occasional committer (repeatable).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing onebar.toml.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the draft instead of writing it.")
def init(
    path: Path, internal_domains: tuple[str, ...], org_domains: tuple[str, ...], force: bool, to_stdout: bool
) -> None:
    """Draft onebar.toml from the repository's history and tree."""
    from onebar.charter.files import draft_charter_file, init_charter

    if to_stdout:
        drafted = draft_charter_file(path, internal_domains, today=date.today(), org_domains=org_domains)
        click.echo(drafted.text, nl=False)
        return
    s = init_charter(path, internal_domains, today=date.today(), force=force, org_domains=org_domains).summary
    kinds = ", ".join(f"{n} {k}" for k, n in s.kinds.items())
    click.echo(
        f"Wrote {s.file}: {s.people} people in {s.organisations} organisations ({kinds}), {s.components} components."
    )


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@format_option
def check(path: Path, fmt: str) -> None:
    """Validate onebar.toml; every error names the file, line and field (exit 2)."""
    from onebar.charter.files import check_charter

    s = check_charter(path)
    if fmt == "json":
        click.echo(json.dumps(s.to_json(), indent=2))
        return
    click.echo(f"{s.file}: valid ({s.organisations} organisations, {s.people} people, {s.components} components)")
