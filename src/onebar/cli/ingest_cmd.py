"""`onebar ingest`: mine repositories into the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from onebar.cli import report_error
from onebar.cli.options import db_option, format_option

if TYPE_CHECKING:
    from onebar.mining.summary import IngestSummary


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-lines", is_flag=True, help="Skip added/deleted line counts (much faster).")
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 64), default=None, help="git processes per repository [default: cores]."
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    default=None,
    help="Dask scheduler (tcp://host:8786), 'local' for a local cluster, or 'none'. "
    "[default: local when given several repositories]",
)
@db_option
@format_option
def ingest(
    paths: tuple[Path, ...], no_lines: bool, jobs: int | None, cluster: str | None, db: str | None, fmt: str
) -> None:
    """Stream the history of every branch and tag into the store (incremental)."""
    from onebar.mining.many import Outcome, ingest_many, ingest_one
    from onebar.settings import database_url

    url = database_url(db)
    targets = [str(p) for p in paths] or ["."]
    if cluster is None and len(targets) > 1:
        cluster = "local"
    if cluster == "none" or (cluster is None and len(targets) == 1):
        cluster = None

    def show(outcome: Outcome) -> None:
        if fmt == "text" and outcome.summary is not None:
            _print_summary(outcome.summary)

    if cluster is None and len(targets) == 1:
        from onebar.git import open_repository

        name = open_repository(Path(targets[0])).name
        with _progress(fmt == "text", name) as progress:
            outcomes = [Outcome(targets[0], summary=ingest_one(targets[0], url, not no_lines, progress, jobs))]
        show(outcomes[0])
    else:
        from onebar.store import open_store

        open_store(url).close()  # check the store once, before every worker finds the same fault
        outcomes = ingest_many(targets, url, lines=not no_lines, cluster=cluster, jobs=jobs, on_done=show)

    if fmt == "json":
        out = [o.summary.to_dict() if o.summary else {"repository": o.path, **o.error.to_dict()} for o in outcomes]  # type: ignore[union-attr]
        click.echo(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    errors = [o.error for o in outcomes if o.error is not None]
    for error in errors:
        report_error(error)
    if errors:
        sys.exit(max(e.exit_code for e in errors))


def _print_summary(s: IngestSummary) -> None:
    for warning in s.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    click.echo(
        f"{s.repository}: {s.commits_new} new commits ({s.commits_total} stored), {s.tags} tags, "
        f"{s.people} people in {s.seconds:.2f}s"
    )
    if s.unknown_identities:
        shown = ", ".join(s.unknown_identities[:5]) + (" ..." if len(s.unknown_identities) > 5 else "")
        click.secho(f"{len(s.unknown_identities)} contributors not in the charter: {shown}", fg="yellow", err=True)


class _progress:
    """A rich progress bar on a terminal; nothing otherwise (CI logs, pipes, --format json)."""

    def __init__(self, enabled: bool, name: str):
        self.enabled = enabled and sys.stderr.isatty()
        self.name = name
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn(f"mining {self.name}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task("commits", total=None)

        def update(done: int, total: int | None) -> None:
            assert self.bar is not None and self.task is not None
            self.bar.update(self.task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
