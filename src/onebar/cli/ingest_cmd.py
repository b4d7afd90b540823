"""`onebar ingest`: mine repositories into the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from onebar.cli.options import db_option, format_option


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-lines", is_flag=True, help="Skip added/deleted line counts (much faster).")
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 64), default=None, help="git processes to run at once [default: cores]."
)
@db_option
@format_option
def ingest(paths: tuple[Path, ...], no_lines: bool, jobs: int | None, db: str | None, fmt: str) -> None:
    """Stream the history of every branch and tag into the store (incremental)."""
    from onebar.charter import find_charter, load_charter
    from onebar.mining.git import open_repository
    from onebar.mining.ingest import ingest_repository
    from onebar.store import open_store

    store = open_store(db)
    results = []
    try:
        for path in paths or (Path(),):
            info = open_repository(path)
            charter_path = find_charter(info.root) if not info.bare else None
            charter = load_charter(charter_path) if charter_path else None
            with _progress(fmt == "text", info.name) as progress:
                summary = ingest_repository(
                    path, store, lines=not no_lines, charter=charter, progress=progress, jobs=jobs
                )
            results.append(summary)
            if fmt == "text":
                _print_summary(summary, charter_path is not None)
    finally:
        store.close()
    if fmt == "json":
        out = [s.to_dict() for s in results]
        click.echo(json.dumps(out[0] if len(out) == 1 else out, indent=2))


def _print_summary(s, has_charter: bool) -> None:  # type: ignore[no-untyped-def]
    for warning in s.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    click.echo(
        f"{s.repository}: {s.commits_new} new commits ({s.commits_total} stored), {s.tags} tags, "
        f"{s.people} people in {s.seconds:.2f}s"
    )
    if s.unknown_identities:
        where = "the charter" if has_charter else "any inferred organisation"
        shown = ", ".join(s.unknown_identities[:5]) + (" ..." if len(s.unknown_identities) > 5 else "")
        click.secho(f"{len(s.unknown_identities)} contributors not in {where}: {shown}", fg="yellow", err=True)


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
            TextColumn(f"mining {self.name}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
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
