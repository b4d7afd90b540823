"""`onebar import github|gitlab`, `onebar hook add|list` and `onebar events process|replay`.

Thin: parse, call onebar.codehost, render. They work on the store directly; no service needs to run.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from onebar.cli.options import db_option, format_option


def _echo(result: dict[str, Any], fmt: str, text: str) -> None:
    click.echo(json.dumps(result, indent=2) if fmt == "json" else text)


def _token(env: str) -> str:
    from onebar.errors import UsageError

    token = os.environ.get(env, "").strip()
    if not token:
        raise UsageError(f"{env} is not set: export a token that can read the repository", field="token")
    return token


@click.group("import")
def import_() -> None:
    """Backfill and catch up pull/merge requests, reviews, deployments, incidents and releases from a code host."""


def _run_import(host: str, full_name: str, repo: str | None, api_url: str | None, db: str | None, fmt: str) -> None:
    from onebar.codehost.backfill import import_repository, validate_full_name
    from onebar.codehost.github import GitHubAPI
    from onebar.codehost.gitlab import GitLabAPI
    from onebar.store import open_store

    full_name = validate_full_name(full_name, host)
    token = _token("GITHUB_TOKEN" if host == "github" else "GITLAB_TOKEN")
    api = GitHubAPI.connect(token, api_url) if host == "github" else GitLabAPI.connect(token, api_url)
    store = open_store(db)
    try:
        with api:
            s = import_repository(store, api, full_name, repo_name=repo)
    finally:
        store.close()
    text = (
        f"{host} {s.full_name} -> {s.repo_name}: {s.pulls} pull requests, {s.reviews} reviews, "
        f"{s.deployments} deployments, {s.issues} issues, {s.releases} releases "
        f"({s.requests} requests, {s.not_modified} not modified, {s.seconds:.1f} s)"
    )
    _echo(s.to_dict(), fmt, text)


repo_option = click.option("--repo", "repo", metavar="NAME", help="onebar repository it feeds [default: REPO]")
api_url_option = click.option("--api-url", "api_url", metavar="URL", help="API base URL (Enterprise, self-managed)")


@import_.command("github")
@click.argument("full_name", metavar="OWNER/REPO")
@repo_option
@api_url_option
@db_option
@format_option
def import_github(full_name: str, repo: str | None, api_url: str | None, db: str | None, fmt: str) -> None:
    """Import OWNER/REPO from GitHub (token in GITHUB_TOKEN; --api-url for GitHub Enterprise)."""
    _run_import("github", full_name, repo, api_url, db, fmt)


@import_.command("gitlab")
@click.argument("full_name", metavar="GROUP/PROJECT")
@repo_option
@api_url_option
@db_option
@format_option
def import_gitlab(full_name: str, repo: str | None, api_url: str | None, db: str | None, fmt: str) -> None:
    """Import GROUP/PROJECT from GitLab (token in GITLAB_TOKEN; --api-url for self-managed GitLab)."""
    _run_import("gitlab", full_name, repo, api_url, db, fmt)


@click.group()
def hook() -> None:
    """Webhooks the service receives: register one per repository and code host."""


@hook.command("add")
@click.argument("host", type=click.Choice(["github", "gitlab"]))
@click.option("--repo", "repo", required=True, metavar="NAME", help="The onebar repository the hook feeds.")
@click.option("--secret", "secret", metavar="S", help="The shared secret [default: a new random one]")
@db_option
@format_option
def hook_add(host: str, repo: str, secret: str | None, db: str | None, fmt: str) -> None:
    """Register a webhook; prints its id, URL path and secret (give both to the code host)."""
    from onebar.codehost.hooks import add_hook
    from onebar.store import open_store

    store = open_store(db)
    try:
        created = add_hook(store, host, repo, secret)
    finally:
        store.close()
    out = {"id": created.id, "url": created.url, "secret": created.secret, "host": host, "repo": repo}
    _echo(out, fmt, f"hook {created.id}: POST {created.url} with secret {created.secret}")


@hook.command("list")
@db_option
@format_option
def hook_list(db: str | None, fmt: str) -> None:
    """Registered hooks (never their secrets) with delivery counts."""
    from onebar.codehost.hooks import list_hooks
    from onebar.store import open_store

    store = open_store(db)
    try:
        rows = list_hooks(store)
    finally:
        store.close()
    text = "\n".join(
        f"{r['id']}\t{r['host']}\t{r['repo']}\t{r['url']}\t{r['deliveries']} deliveries, {r['rejected']} rejected"
        for r in rows
    )
    _echo({"hooks": rows}, fmt, text or "no hooks")


@click.group()
def events() -> None:
    """Stored webhook deliveries: process the pending ones, or replay them after a fix."""


@events.command("process")
@db_option
@format_option
def events_process(db: str | None, fmt: str) -> None:
    """Process deliveries that are stored but not processed yet (the service's worker does this)."""
    from onebar.codehost.events import process_pending
    from onebar.store import open_store

    store = open_store(db)
    try:
        result = process_pending(store)
    finally:
        store.close()
    _echo(result.to_dict(), fmt, result.text())


@events.command("replay")
@click.option("--hook", "hook_id", type=int, help="Only this hook's deliveries.")
@click.option("--event", "event", help="Only deliveries of this event (e.g. pull_request).")
@click.option("--since", "since", metavar="DATE", help="Only deliveries received from DATE on.")
@db_option
@format_option
def events_replay(hook_id: int | None, event: str | None, since: str | None, db: str | None, fmt: str) -> None:
    """Reprocess stored deliveries (all, or those selected) from their raw bodies."""
    from onebar.codehost.events import replay
    from onebar.store import open_store

    store = open_store(db)
    try:
        result = replay(store, hook_id=hook_id, event=event, since=since)
    finally:
        store.close()
    _echo(result.to_dict(), fmt, result.text())
