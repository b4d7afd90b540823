"""`onebar report`, `onebar offboard`, `onebar overlap` and `onebar record deploy|incident`.

Thin: parse, call the report library, render. Every command ingests what is new first, so the
figures always describe the repository as it is.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from onebar.cli.options import db_option, format_choice, format_option
from onebar.report.render import FORMATS

path_argument = click.argument("path", default=".", type=click.Path(path_type=Path))
charter_option = click.option(
    "--charter",
    "charter_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Charter file to use instead of PATH/onebar.toml (e.g. for a bare mirror).",
)
window_options = [
    click.option(
        "--since",
        metavar="DATE",
        help="Start of the window (YYYY-MM-DD or ISO time), or 'all'. [default: 90 days before --until]",
    ),
    click.option(
        "--until",
        metavar="DATE",
        help="End of the window, inclusive of that day. [default: the last commit or deployment]",
    ),
]


def _window(f: Any) -> Any:
    for option in reversed(window_options):
        f = option(f)
    return f


def _build(
    path: Path, db: str | None, since: str | None, until: str | None, tiers: int | None, charter_file: Path | None
) -> Any:
    from onebar.report import report_for
    from onebar.workspace import open_workspace

    with open_workspace(path, db=db, charter_file=charter_file) as ws:
        for note in ws.notes:
            click.echo(f"note: {note}", err=True)
        return report_for(ws, since=since, until=until, tiers=tiers)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


@click.command()
@path_argument
@_window
@format_choice(*FORMATS)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout."
)
@click.option(
    "--tiers",
    type=click.Choice(["2023", "2024"]),
    default=None,
    help="DORA report year of the tiers. [default: charter, else 2023]",
)
@charter_option
@db_option
def report(
    path: Path,
    since: str | None,
    until: str | None,
    fmt: str,
    output: Path | None,
    tiers: str | None,
    charter_file: Path | None,
    db: str | None,
) -> None:
    """Delivery report: DORA keys per organisation, review across organisations, knowledge risk, overlap.

    Ingests what is new in the repository at PATH first. Each change counts for its own author's
    organisation; definitions in docs/metrics.md, the JSON contract in docs/report.schema.json.
    """
    from onebar.report.render import render

    built = _build(path, db, since, until, int(tiers) if tiers else None, charter_file)
    _emit(render(built, fmt), output)


@click.command()
@click.argument("who")
@path_argument
@_window
@format_option
@charter_option
@db_option
def offboard(
    who: str, path: Path, since: str | None, until: str | None, fmt: str, charter_file: Path | None, db: str | None
) -> None:
    """Simulate PERSON or ORG leaving: files and components left with no author, the grants to revoke,
    and who should pick up each piece of knowledge that would be lost."""
    from datetime import UTC, datetime

    from onebar.onboard.transfer import plan_for_departure, plan_lines
    from onebar.report import report_for
    from onebar.report.render.text import departure_text
    from onebar.workspace import open_workspace

    with open_workspace(path, db=db, charter_file=charter_file) as ws:
        for note in ws.notes:
            click.echo(f"note: {note}", err=True)
        built = report_for(ws, since=since, until=until)
        departure = built.offboard(who)
        plan = plan_for_departure(ws, built, departure, today=datetime.now(UTC).date())
    if fmt == "json":
        click.echo(json.dumps({**departure.to_json(), **plan.to_dict()}, indent=2, ensure_ascii=False))
        return
    click.echo(departure_text(departure, built.knowledge.files), nl=False)
    click.echo("\n".join(plan_lines(plan)))


@click.command()
@path_argument
@click.option("--date", "on", metavar="DATE", help="A day in the week to lay the hours on. [default: today]")
@format_option
def overlap(path: Path, on: str | None, fmt: str) -> None:
    """Shared working hours between organisations (time zones, daylight saving) and hand-offs."""
    from onebar.charter import load_charter
    from onebar.report.build import overlap_for
    from onebar.report.render.text import overlap_text

    result = overlap_for(load_charter(path), on)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(overlap_text(result), nl=False)


@click.group()
def record() -> None:
    """Record deployment and incident events for the delivery report."""


@record.command("deploy")
@path_argument
@click.option("--at", "at", required=True, metavar="TIME", help="When it was deployed (ISO 8601, or 'now').")
@click.option("--ref", required=True, help="The deployed tag, branch or commit.")
@click.option("--env", "environment", default=None, help="Environment. [default: the charter's, else production]")
@click.option("--status", default="success", type=click.Choice(["success", "failure"]), show_default=True)
@click.option(
    "--id", "external_id", default=None, help="An id from the deploying system (makes re-recording idempotent)."
)
@db_option
def record_deploy(
    path: Path, at: str, ref: str, environment: str | None, status: str, external_id: str | None, db: str | None
) -> None:
    """Record a deployment of REF at TIME."""
    from onebar.report.record import record_deploy as record_it
    from onebar.workspace import open_workspace

    with open_workspace(path, db=db) as ws:
        done = record_it(
            ws,
            ref=ref,
            at=at,
            now=int(time.time()),
            environment=environment,
            status=status,
            external_id=external_id,
        )
    what = "recorded" if done.created else "already recorded"
    click.echo(f"{what} deployment #{done.id}: {ref} ({done.row['sha'][:12]}) to {done.row['environment']}")


@record.command("incident")
@path_argument
@click.option("--started", required=True, metavar="TIME", help="When the incident started (ISO 8601, or 'now').")
@click.option("--resolved", default=None, metavar="TIME", help="When service was restored.")
@click.option("--title", default="", help="What happened.")
@click.option(
    "--deployment",
    "deployment_ref",
    default=None,
    metavar="REF",
    help="The deployment (tag or ref) it is attributed to.",
)
@click.option("--id", "external_id", default=None, help="An id from the incident system.")
@db_option
def record_incident(
    path: Path,
    started: str,
    resolved: str | None,
    title: str,
    deployment_ref: str | None,
    external_id: str | None,
    db: str | None,
) -> None:
    """Record an incident (and its resolution) for time to restore and change failure rate."""
    from onebar.report.record import record_outage
    from onebar.workspace import open_workspace

    with open_workspace(path, db=db) as ws:
        done = record_outage(
            ws,
            started=started,
            resolved=resolved,
            now=int(time.time()),
            title=title,
            deployment_ref=deployment_ref,
            external_id=external_id,
        )
    click.echo(f"{'recorded' if done.created else 'already recorded'} incident #{done.id}")
