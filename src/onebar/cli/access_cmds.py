"""`onebar access request|approve|revoke|list|plan|review|sweep`: grants tied to contracts, on the store.

Who acts is `--as PERSON`, else the person the repository's git identity (user.email) resolves to
in the charter; every decision and refusal is written to the audit log under that name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from onebar.cli.options import db_option, format_choice

path_argument = click.argument("path", default=".", type=click.Path(path_type=Path))
charter_option = click.option(
    "--charter",
    "charter_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Charter file to use instead of PATH/onebar.toml.",
)
as_option = click.option(
    "--as", "as_person", metavar="PERSON", help="Act as this charter person. [default: from git config user.email]"
)


def today() -> date:
    return datetime.now(UTC).date()


def parse_date(value: str | None, field: str) -> date | None:
    from onebar.errors import UsageError

    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{value!r} is not a date; use YYYY-MM-DD", field=field) from None


class Context:
    """The repository, its charter and the store, opened once per command."""

    def __init__(self, path: Path, charter_file: Path | None, db: str | None):
        from onebar.git import open_repository
        from onebar.store import open_store
        from onebar.workspace import load_or_draft_charter

        self.repo = open_repository(path)
        self.charter, _ = load_or_draft_charter(self.repo, charter_file)
        self.store = open_store(db)

    def actor(self, as_person: str | None) -> Any:
        from onebar import audit

        if as_person is not None:
            from onebar.access.model import person_of

            person_of(self.charter, as_person)
            return audit.Actor(person=as_person, org=self.charter.org_of(as_person), via="cli")
        from onebar.charter.identity import Resolver
        from onebar.errors import GitError
        from onebar.git import git

        try:
            email = git(self.repo.root, "config", "user.email").decode().strip()
            name = git(self.repo.root, "config", "user.name", check=False).decode().strip()
        except GitError:
            return audit.Actor(via="cli")
        m = Resolver(self.charter).resolve(name, email)
        return audit.Actor(person=m.person, org=m.org, via="cli")

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.close()


@click.group()
def access() -> None:
    """Access tied to contracts: request, approve, revoke, list, plan against the code host, review."""


@access.command("request")
@click.argument("person")
@path_argument
@click.option("--repo", metavar="NAME", help="Access to a repository.")
@click.option("--component", metavar="NAME", help="Access to a component of the charter.")
@click.option("--environment", metavar="NAME", help="Access to an environment (e.g. production).")
@click.option("--until", required=True, metavar="DATE", help="Last day of access (never past the contract's end).")
@click.option("--level", type=click.Choice(["read", "write", "admin"]), default="read", show_default=True)
@click.option("--reason", default="", help="Why (a ticket, a task).")
@click.option("--start", metavar="DATE", help="First day of access. [default: today, or the contract's start]")
@as_option
@format_choice("text", "json")
@charter_option
@db_option
def request(
    person: str,
    path: Path,
    repo: str | None,
    component: str | None,
    environment: str | None,
    until: str,
    level: str,
    reason: str,
    start: str | None,
    as_person: str | None,
    fmt: str,
    charter_file: Path | None,
    db: str | None,
) -> None:
    """Ask for PERSON's access to one scope until a date; the owning organisation's lead approves it."""
    import json

    from onebar.access import Scope, request_grant
    from onebar.errors import UsageError

    given = [(k, v) for k, v in (("repository", repo), ("component", component), ("environment", environment)) if v]
    if len(given) != 1:
        raise UsageError("give exactly one of --repo, --component or --environment", field="repo")
    end = parse_date(until, "until")
    begin = parse_date(start, "start")
    assert end is not None
    with Context(path, charter_file, db) as ctx:
        g = request_grant(
            ctx.store,
            ctx.charter,
            ctx.repo.name,
            person=person,
            scope=Scope(*given[0]),
            until=end,
            level=level,
            reason=reason,
            start=begin,
            actor=ctx.actor(as_person),
            today=today(),
        )
    if fmt == "json":
        click.echo(json.dumps(g.to_dict(today()), indent=2))
    else:
        click.echo(
            f"requested grant #{g.id}: {g.level} on {g.scope} for {g.person}, {g.starts_on} to {g.ends_on}; "
            f"awaiting approval by {g.approver}"
        )


@access.command("approve")
@click.argument("grant_id", metavar="ID", type=int)
@path_argument
@as_option
@format_choice("text", "json")
@charter_option
@db_option
def approve(
    grant_id: int, path: Path, as_person: str | None, fmt: str, charter_file: Path | None, db: str | None
) -> None:
    """Approve grant ID (only the lead of the organisation that owns its scope may)."""
    import json

    from onebar.access import approve_grant

    with Context(path, charter_file, db) as ctx:
        g = approve_grant(ctx.store, ctx.charter, grant_id, actor=ctx.actor(as_person), today=today())
    if fmt == "json":
        click.echo(json.dumps(g.to_dict(today()), indent=2))
    else:
        click.echo(f"approved grant #{g.id}: {g.level} on {g.scope} for {g.person} until {g.ends_on}")


@access.command("revoke")
@click.argument("grant_id", metavar="ID", type=int)
@path_argument
@click.option("--reason", default="", help="Why it is revoked.")
@as_option
@format_choice("text", "json")
@charter_option
@db_option
def revoke(
    grant_id: int,
    path: Path,
    reason: str,
    as_person: str | None,
    fmt: str,
    charter_file: Path | None,
    db: str | None,
) -> None:
    """Revoke grant ID (pending or approved); anyone may, and the audit log records who and why."""
    import json

    from onebar.access import revoke_grant

    with Context(path, charter_file, db) as ctx:
        g = revoke_grant(ctx.store, grant_id, actor=ctx.actor(as_person), reason=reason)
    if fmt == "json":
        click.echo(json.dumps(g.to_dict(today()), indent=2))
    else:
        click.echo(f"revoked grant #{g.id}: {g.level} on {g.scope} for {g.person}")


@access.command("list")
@path_argument
@click.option("--person", metavar="PERSON", help="Only this person's grants.")
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "refused", "revoked", "expired"]),
    multiple=True,
    help="Only grants in this status (repeatable). [default: pending and approved]",
)
@click.option("--all", "show_all", is_flag=True, help="Every grant, closed ones included.")
@format_choice("text", "json", "md")
@charter_option
@db_option
def list_cmd(
    path: Path,
    person: str | None,
    status: tuple[str, ...],
    show_all: bool,
    fmt: str,
    charter_file: Path | None,
    db: str | None,
) -> None:
    """List grants of the repository at PATH: who, what, until when, approved by whom."""
    from onebar.access import list_grants
    from onebar.access.render import render_grants

    statuses = None if show_all else (status or ("pending", "approved"))
    with Context(path, charter_file, db) as ctx, ctx.store.read() as conn:
        found = list_grants(conn, repository=ctx.repo.name, person=person, statuses=statuses)
    click.echo(render_grants(found, today(), fmt), nl=False)


@access.command("plan")
@path_argument
@click.option(
    "--from",
    "from_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The code host's collaborators as exported JSON (GitHub collaborators or GitLab members).",
)
@click.option("--github", "github", metavar="OWNER/REPO", help="Read collaborators from GitHub (GITHUB_TOKEN).")
@click.option("--gitlab", "gitlab", metavar="GROUP/PROJECT", help="Read members from GitLab (GITLAB_TOKEN).")
@click.option("--api-url", "api_url", metavar="URL", help="API base URL (GitHub Enterprise, self-managed GitLab).")
@click.option("--soon", "soon_days", type=click.IntRange(min=0), default=14, show_default=True, help="Days ahead.")
@click.option("--apply", "apply", is_flag=True, help="Carry the plan out on GitHub after a confirmation.")
@click.option("--yes", is_flag=True, help="With --apply: do not ask for confirmation.")
@as_option
@format_choice("text", "json", "md")
@charter_option
@db_option
def plan(
    path: Path,
    from_file: Path | None,
    github: str | None,
    gitlab: str | None,
    api_url: str | None,
    soon_days: int,
    apply: bool,
    yes: bool,
    as_person: str | None,
    fmt: str,
    charter_file: Path | None,
    db: str | None,
) -> None:
    """Derive who should have access from the charter and compare with the code host: add, revoke, expiring.

    With --apply (GitHub), each change is made through the API after a confirmation and audited.
    """
    import json

    from onebar.access import list_grants, plan_access, read_holdings
    from onebar.access.render import render_plan
    from onebar.errors import UsageError

    if sum(x is not None for x in (from_file, github, gitlab)) != 1:
        raise UsageError(
            "give exactly one of --from FILE, --github OWNER/REPO or --gitlab GROUP/PROJECT", field="from_file"
        )
    if apply and github is None:
        raise UsageError("--apply changes collaborators through GitHub's API: give --github OWNER/REPO", field="apply")
    api: Any = None
    if from_file is not None:
        holdings, source = read_holdings(from_file), str(from_file)
    else:
        from onebar.access.host import read_github, read_gitlab
        from onebar.codehost.backfill import validate_full_name
        from onebar.codehost.github import GitHubAPI
        from onebar.codehost.gitlab import GitLabAPI

        host, name = ("github", github) if github is not None else ("gitlab", gitlab)
        assert name is not None
        full_name = validate_full_name(name, host)
        token = _token("GITHUB_TOKEN" if host == "github" else "GITLAB_TOKEN")
        if host == "github":
            api = GitHubAPI.connect(token, api_url)
            holdings = read_github(api, full_name)
        else:
            api = GitLabAPI.connect(token, api_url)
            with api.client:
                holdings = read_gitlab(api, full_name)
        source = f"{host} {full_name}"
    try:
        with Context(path, charter_file, db) as ctx:
            with ctx.store.read() as conn:
                grants = list_grants(conn, repository=ctx.repo.name, statuses=("approved",))
            result = plan_access(
                ctx.charter,
                holdings,
                grants,
                repository=ctx.repo.name,
                today=today(),
                source=source,
                soon_days=soon_days,
            )
            if not apply:
                click.echo(render_plan(result, fmt), nl=False)
                return
            click.echo(render_plan(result, "text" if fmt == "json" else fmt), nl=False, err=fmt == "json")
            changes = [s for s in result.changes if s.login]
            if not changes:
                click.echo("nothing to apply", err=True)
                return
            if not yes:
                click.confirm(f"Apply these {len(changes)} changes to {source}?", abort=True, err=True)
            from onebar.access.host import GitHubWriter, apply_plan

            done = apply_plan(ctx.store, result, GitHubWriter(api, full_name), actor=ctx.actor(as_person))
    finally:
        if api is not None:
            api.client.close()
    failed = [a for a in done if not a.ok]
    if fmt == "json":
        click.echo(json.dumps({"applied": [a.to_dict() for a in done]}, indent=2))
    else:
        for a in done:
            click.echo(
                f"{'done  ' if a.ok else 'FAILED'} {a.step.action} {a.step.login}" + (f": {a.error}" if a.error else "")
            )
    if failed:
        raise SystemExit(1)


def _token(env: str) -> str:
    import os

    from onebar.errors import UsageError

    token = os.environ.get(env, "").strip()
    if not token:
        raise UsageError(
            f"{env} is not set: export a token that can read the repository's collaborators", field="token"
        )
    return token


@access.command("review")
@path_argument
@click.option("--period", metavar="PERIOD", help="Review period, e.g. 2025-Q1. [default: this quarter]")
@click.option("--sign", "sign", metavar="ORG", help="Sign off ORG's part of the review (its lead only).")
@click.option("--note", default="", help="A note with the sign-off.")
@as_option
@format_choice("text", "json", "md")
@charter_option
@db_option
def review(
    path: Path,
    period: str | None,
    sign: str | None,
    note: str,
    as_person: str | None,
    fmt: str,
    charter_file: Path | None,
    db: str | None,
) -> None:
    """The periodic access review: everyone with access, why, since, until, last activity, approver."""
    from onebar.access import activity_from_store, build_review, sign_review
    from onebar.access.render import render_review
    from onebar.workspace import open_workspace

    with open_workspace(path, db=db, charter_file=charter_file) as ws:
        with ws.store.read() as conn:
            activity = activity_from_store(conn, ws.repo_id, ws.charter)
        if sign:
            ctx_actor = _actor_for(ws, as_person)
            s = sign_review(
                ws.store,
                ws.charter,
                ws.repo.name,
                sign,
                actor=ctx_actor,
                today=today(),
                activity=activity,
                period=period,
                note=note,
            )
            click.echo(f"{s.signed_by} signed off {s.org}'s access review for {s.period} ({s.rows} rows)", err=True)
        with ws.store.read() as conn:
            result = build_review(conn, ws.charter, ws.repo.name, today=today(), activity=activity, period=period)
    click.echo(render_review(result, fmt), nl=False)


def _actor_for(ws: Any, as_person: str | None) -> Any:
    ctx = Context.__new__(Context)
    ctx.repo, ctx.charter, ctx.store = ws.repo, ws.charter, ws.store
    return ctx.actor(as_person)


@access.command("sweep")
@path_argument
@click.option("--warn-days", type=click.IntRange(min=0), default=14, show_default=True)
@format_choice("text", "json")
@charter_option
@db_option
def sweep_cmd(path: Path, warn_days: int, fmt: str, charter_file: Path | None, db: str | None) -> None:
    """Expire ended grants, revoke those whose contract ended, shorten those past a moved contract end, warn."""
    from onebar.access import sweep
    from onebar.access.render import render_sweep

    with Context(path, charter_file, db) as ctx:
        from onebar import audit

        result = sweep(
            ctx.store, ctx.charter, ctx.repo.name, today=today(), warn_days=warn_days, actor=audit.Actor(via="cli")
        )
    click.echo(render_sweep(result, today(), fmt), nl=False)
