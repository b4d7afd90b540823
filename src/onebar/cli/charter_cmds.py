"""`onebar init` and `onebar check`: draft and validate the charter."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from onebar.charter import CHARTER_FILE, load_charter
from onebar.errors import UsageError


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option(
    "--internal-domain",
    "internal",
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
def init(path: Path, internal: tuple[str, ...], org_domains: tuple[str, ...], force: bool, to_stdout: bool) -> None:
    """Draft onebar.toml from the repository's history and tree."""
    from onebar.charter.draft import charter_to_toml, draft_charter
    from onebar.git import open_repository

    info = open_repository(path)
    target = info.root / CHARTER_FILE
    if target.exists() and not force and not to_stdout:
        raise UsageError(f"{target} already exists", hint="pass --force to overwrite it, or --stdout to print a draft")
    charter = draft_charter(info.root, internal, org_domains)
    header = (
        f"# onebar charter, drafted by `onebar init` on {date.today().isoformat()} from git history.\n"
        "# Review it: organisations come from e-mail domains, time zones from commit offsets,\n"
        "# robots from onebar's robot table (docs/charter.md, 'What onebar init infers').\n"
        "# Reference: docs/charter.md. Validate with `onebar check`.\n\n"
    )
    text = charter_to_toml(charter, header)
    if to_stdout:
        click.echo(text, nl=False)
        return
    target.write_text(text, encoding="utf-8")
    kinds: dict[str, int] = {}
    for org in charter.organisations.values():
        kinds[org.kind] = kinds.get(org.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    click.echo(
        f"Wrote {target}: {len(charter.people)} people in {len(charter.organisations)} organisations "
        f"({summary}), {len(charter.components)} components."
    )


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check(path: Path, fmt: str) -> None:
    """Validate onebar.toml; every error names the file, line and field (exit 2)."""
    from onebar.errors import CharterError

    try:
        charter = load_charter(path)
    except CharterError as exc:
        if fmt == "json":
            click.echo(json.dumps({"valid": False, **exc.to_dict()}, indent=2))
        raise
    where = path / CHARTER_FILE if path.is_dir() else path
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "valid": True,
                    "file": str(where),
                    "organisations": len(charter.organisations),
                    "people": len(charter.people),
                    "components": len(charter.components),
                },
                indent=2,
            )
        )
    else:
        click.echo(
            f"{where}: valid ({len(charter.organisations)} organisations, {len(charter.people)} people, "
            f"{len(charter.components)} components)"
        )
