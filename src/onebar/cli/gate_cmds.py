"""`onebar gate`, `onebar adr …` and `onebar codeowners`: parse, call onebar.gate / onebar.adr, print."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from onebar.cli.options import format_choice, format_option
from onebar.errors import UsageError
from onebar.gate.render import FORMATS

_FILE = click.Path(dir_okay=False, path_type=Path)


def _parse_write(values: tuple[str, ...]) -> list[tuple[str, Path]]:
    out = []
    for v in values:
        fmt, sep, file = v.partition(":")
        if not sep or fmt not in FORMATS or not file:
            raise UsageError(f"{v!r}: expected FORMAT:FILE with FORMAT one of {', '.join(FORMATS)}", field="writes")
        out.append((fmt, Path(file)))
    return out


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--base", help="Base ref of the change (default: merge base with the default branch).")
@click.option("--head", help="Head ref of the change (default: HEAD).")
@click.option("--staged", is_flag=True, help="Judge the staged changes against HEAD (for pre-commit).")
@click.option(
    "--mode",
    type=click.Choice(["enforce", "evaluate"]),
    default="enforce",
    show_default=True,
    help="`evaluate` reports failures without failing (exit 0), for rolling a rule out.",
)
@format_choice(*FORMATS)
@click.option(
    "--write",
    "writes",
    multiple=True,
    metavar="FORMAT:FILE",
    help="Also write the verdict in FORMAT to FILE (repeatable), e.g. sarif:onebar.sarif.",
)
@click.option("--coverage", type=_FILE, help="Coverage report: Cobertura XML, LCOV or JaCoCo XML.")
@click.option("--sarif", type=_FILE, multiple=True, help="SARIF 2.1.0 from a linter or scanner (repeatable).")
@click.option("--sbom", type=_FILE, help="CycloneDX JSON SBOM, for the licence rule.")
@click.option("--licenses", type=_FILE, help="pip-licenses --format=json output, for the licence rule.")
@click.option("--reviews", type=_FILE, help="GitHub list-reviews JSON or GitLab approvals JSON.")
@click.option("--pr-event", type=_FILE, help="GitHub pull_request event payload ($GITHUB_EVENT_PATH).")
@click.option(
    "--db",
    "db",
    metavar="URL",
    help="A store holding the pull request's reviews (onebar import, webhooks); read when --reviews is not given.",
)
def gate(
    path: Path,
    base: str | None,
    head: str | None,
    staged: bool,
    mode: str,
    fmt: str,
    writes: tuple[str, ...],
    coverage: Path | None,
    sarif: tuple[Path, ...],
    sbom: Path | None,
    licenses: Path | None,
    reviews: Path | None,
    pr_event: Path | None,
    db: str | None,
) -> None:
    """Judge one change against the charter's definition of done (read at the base).

    Exit 0 when every evaluated rule passes, 1 when one fails, 2 when an input is unusable.
    """
    from onebar.gate import GateRequest, evaluate
    from onebar.gate.render import print_text, render, write_renderings

    extra = _parse_write(writes)
    request = GateRequest(
        path, base, head, staged, mode, coverage, list(sarif), sbom, licenses, reviews, pr_event, db=db
    )
    verdict = evaluate(request)
    write_renderings(verdict, extra)
    if fmt == "text":
        from rich.console import Console

        # CI logs are not terminals; 80 columns would wrap every row of the table.
        width = None if sys.stdout.isatty() else 120
        print_text(verdict, Console(highlight=False, width=width, markup=False))
    else:
        click.echo(render(verdict, fmt), nl=False)
    sys.exit(verdict.exit_code)


@click.group()
def adr() -> None:
    """Architecture decision records (MADR) under docs/adr, with sign-offs."""


_dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="ADR directory (default: [done.adr] directory of the charter, else docs/adr).",
)
_repo_option = click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Repository root holding onebar.toml.",
)


@adr.command("new")
@click.argument("title")
@click.option("--decider", "deciders", multiple=True, help="Person id of a decision-maker (repeatable).")
@click.option("--supersedes", multiple=True, type=int, help="Number of an ADR this one supersedes (repeatable).")
@_dir_option
@_repo_option
def adr_new(
    title: str, deciders: tuple[str, ...], supersedes: tuple[int, ...], directory: Path | None, repo: Path
) -> None:
    """Write a new proposed ADR, numbered after the last one."""
    from onebar.adr import new, open_adrs

    adrs = open_adrs(repo, directory)
    record = new(
        adrs.path, title, date.today(), deciders=list(deciders), supersedes=list(supersedes), charter=adrs.charter
    )
    click.echo(f"{record.ref} {record.title} -> {adrs.path / record.filename}")


@adr.command("list")
@format_option
@_dir_option
@_repo_option
def adr_list(fmt: str, directory: Path | None, repo: Path) -> None:
    """List the ADRs with status, date and sign-offs."""
    from onebar.adr import load_all, open_adrs

    records = load_all(open_adrs(repo, directory).path)
    if fmt == "json":
        click.echo(json.dumps([a.to_json() for a in records], indent=2))
        return
    if not records:
        click.echo("no ADRs yet; write one with `onebar adr new TITLE`")
    for a in records:
        signed = ", ".join(s.person for s in a.signoffs) or "-"
        status = a.status + (f" by ADR-{a.superseded_by:04d}" if a.superseded_by else "")
        when = a.date.isoformat() if a.date else "-"
        click.echo(f"{a.ref}  {status:<22}  {when:<10}  {a.title}  [signed: {signed}]")


@adr.command("accept")
@click.argument("number", type=int)
@_dir_option
@_repo_option
def adr_accept(number: int, directory: Path | None, repo: Path) -> None:
    """Mark an ADR accepted (dated today)."""
    from onebar.adr import accept, open_adrs

    record = accept(open_adrs(repo, directory).path, number, date.today())
    click.echo(f"{record.ref} accepted")


@adr.command("supersede")
@click.argument("old", type=int)
@click.argument("new", type=int)
@_dir_option
@_repo_option
def adr_supersede(old: int, new: int, directory: Path | None, repo: Path) -> None:
    """Mark ADR OLD superseded by ADR NEW, linking both files."""
    from onebar.adr import open_adrs, supersede

    o, n = supersede(open_adrs(repo, directory).path, old, new, date.today())
    click.echo(f"{o.ref} superseded by {n.ref}")


@adr.command("sign")
@click.argument("number", type=int)
@click.option("--person", required=True, help="Person id from the charter who signs off.")
@_dir_option
@_repo_option
def adr_sign(number: int, person: str, directory: Path | None, repo: Path) -> None:
    """Record a person's sign-off (with their organisation and today's date)."""
    from onebar.adr import open_adrs, sign

    adrs = open_adrs(repo, directory, need_charter=True)
    assert adrs.charter is not None
    record = sign(adrs.path, number, person, adrs.charter, date.today())
    click.echo(f"{record.ref} signed by {person} ({record.signoffs[-1].organisation})")


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--output", type=_FILE, help="Where to write (default: the existing CODEOWNERS, else .github/).")
@click.option("--check", is_flag=True, help="Verify the file matches the charter; exit 1 with a diff if not.")
def codeowners(path: Path, output: Path | None, check: bool) -> None:
    """Write (or --check) a CODEOWNERS file from the charter's components."""
    from onebar.charter import load_charter
    from onebar.gate.codeowners import check_codeowners, codeowners_path, write_codeowners

    if output is not None and output.name in ("", ".", ".."):
        raise UsageError(f"{str(output)!r} is not a file name", field="output")
    charter = load_charter(path)
    target = output or codeowners_path(path)
    if check:
        result = check_codeowners(charter, target)
        if result.up_to_date:
            click.echo(f"{target} matches the charter")
            return
        click.echo(result.diff or f"{target} is missing", nl=False)
        click.echo(f"\n{target} is out of date; run `onebar codeowners` to rewrite it", err=True)
        sys.exit(1)
    write_codeowners(charter, target)
    click.echo(f"wrote {target} ({len(charter.components)} component(s))")
