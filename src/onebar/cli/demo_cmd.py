"""`onebar demo`: build a realistic sample repository (thin wrapper over onebar.demo.build_demo)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from onebar.cli.options import db_option, format_option


@click.command()
@click.argument("directory", type=click.Path(path_type=Path), default="onebar-demo")
@click.option("-n", "--commits", type=int, default=5000, show_default=True, help="Commits in the history.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same history (same shas).")
@click.option("--force", is_flag=True, help="Empty DIRECTORY first if it is not empty.")
@format_option
@db_option
def demo(directory: Path, commits: int, seed: int, force: bool, fmt: str, db: str | None) -> None:
    """Build a sample repository in DIRECTORY (default ./onebar-demo) for trying onebar.

    An internal team near elite, a vendor shipping big, rarely reviewed, failing batches, a
    contractor who alone knows the importer and leaves soon, an agency whose contract ended, AI
    agents whose changes humans review, and bots; a deploy train twice a working day, hotfixes,
    pre-releases, reverts and Fixes: trailers. The charter onebar.toml is committed in the first
    commit. Streams one `git fast-import`.
    """
    from onebar.demo import build_demo

    summary = build_demo(directory, commits, seed, force=force)
    grants = _seed_access(summary, db)
    if fmt == "json":
        click.echo(json.dumps({**summary.to_dict(), "grants": grants}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Demo repository {summary.path}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("commits", f"{summary.commits:,}"),
        ("merges", f"{summary.merges:,}"),
        ("reverts", f"{summary.reverts:,}"),
        ("Fixes: trailers", f"{summary.fixes:,}"),
        ("releases / hotfixes / pre-releases", f"{summary.releases} / {summary.hotfixes} / {summary.prereleases}"),
        ("open branches", str(summary.open_branches)),
        ("files at HEAD", f"{summary.files:,}"),
        ("people / organisations in charter", f"{summary.people} / {summary.organisations}"),
        ("history", f"{summary.first_commit[:10]} .. {summary.last_commit[:10]}"),
        ("HEAD", summary.head[:12]),
        ("built in", f"{summary.seconds:.1f} s"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    Console(markup=False).print(table)  # paths are text, never markup
    if grants:
        click.echo(f"Seeded {len(grants)} access grants into the store: onebar access list {summary.path}")
    click.echo(f"Next: onebar report {summary.path}   (or: onebar check {summary.path})")


def _seed_access(summary: Any, db: str | None) -> list[int]:
    """The demo's access grants (onebar.demo.charter.GRANTS), requested and approved in the store."""
    from datetime import UTC, date, datetime

    from onebar.access.demo import seed_grants
    from onebar.charter import load_charter
    from onebar.demo.charter import GRANTS
    from onebar.git import open_repository
    from onebar.store import open_store

    if not GRANTS:
        return []
    repo = open_repository(summary.path)
    store = open_store(db)
    try:
        done = seed_grants(
            store, load_charter(summary.path), repo.name, GRANTS,
            first=date.fromisoformat(summary.first_commit[:10]), last=date.fromisoformat(summary.last_commit[:10]),
            today=datetime.now(UTC).date(),
        )  # fmt: skip
    finally:
        store.close()
    return [g.id for g in done]
