"""`onebar serve`, `onebar repo`, `onebar token` and `onebar jobs`: the service's commands.

`repo`, `token` and `jobs` work on the store directly: no running server is needed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click

from onebar.cli.options import db_option

json_format = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where mirrors of owned repositories live. [env: ONEBAR_DATA_DIR; default: beside the default store]",
)


def _settings(**flags: Any) -> Any:
    from onebar.server.settings import load_settings

    return load_settings(**flags)


def _store(db: str | None, *, existing: bool = False) -> Any:
    from onebar.store import open_store

    return open_store(db, existing=existing)


@click.command()
@click.option("--host", default=None, help="Address to listen on. [default: 127.0.0.1]")
@click.option("--port", type=int, default=None, help="Port. [default: 8080]")
@db_option
@click.option("--workers", type=int, default=None, help="App processes. [default: 1]")
@click.option("--job-workers", type=int, default=None, help="Job worker threads per process (0: none). [default: 1]")
@click.option(
    "--job-process/--job-threads",
    "job_process",
    default=None,
    help="Run the job workers in a child process (`onebar worker`), or as threads of the serving process. "
    "[default: process]",
)
@data_dir_option
@click.option("--demo", is_flag=True, help="Serve a demo history and print a token for each role.")
@click.option("--log-level", default=None, type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--check", is_flag=True, help="Check the settings, the store and the data folder, then exit.")
def serve(
    host: str | None,
    port: int | None,
    db: str | None,
    workers: int | None,
    job_workers: int | None,
    job_process: bool | None,
    data_dir: Path | None,
    demo: bool,
    log_level: str | None,
    check: bool,
) -> None:
    """Run the HTTP service: REST API, sign-in, background jobs and /metrics.

    Settings come from these flags, then ONEBAR_* variables, then the TOML file named by
    ONEBAR_CONFIG (docs/service.md lists them all). --check stops after checking them.
    """
    import logging

    import uvicorn

    settings = _settings(
        host=host, port=port, database_url=db, workers=workers, job_workers=job_workers, job_process=job_process,
        data_dir=data_dir, log_level=log_level,
    )  # fmt: skip
    _ready(settings)
    if check:
        click.echo(f"ok: would serve on {settings.host}:{settings.port}, data in {settings.data_path}")
        return
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    )
    from onebar.server.middleware import RequestIdFilter

    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdFilter())
    if demo:
        from onebar.server.demo import prepare_demo

        store = _store(settings.store_url)
        try:
            settings.data_path.mkdir(parents=True, exist_ok=True)
            click.echo("Preparing the demo repository (built once, then reused)...", err=True)
            prepared = prepare_demo(store, settings.data_path)
        finally:
            store.close()
        click.echo(f"Demo repository {prepared.repo!r} is ready. Tokens (valid for a day):")
        for what, tok in prepared.tokens:
            click.echo(f"  {what:32} {tok.token}")
        click.echo(
            f"Try: curl -H 'Authorization: Bearer TOKEN' http://{settings.host}:{settings.port}/api/v1/portfolio"
        )
        click.echo(f"Or sign in at http://{settings.host}:{settings.port}/signin")
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        "proxy_headers": True,
        "access_log": False,  # onebar.access logs each request once, with its request id
        "log_config": None,
    }
    if settings.workers > 1:
        # Each process builds its own app from the environment: pass the flags on through it.
        for key, value in settings.model_dump(exclude_none=True).items():
            os.environ[f"ONEBAR_{key.upper()}"] = str(value)
        uvicorn.run("onebar.server.asgi:build", factory=True, workers=settings.workers, **common)
        return
    from onebar.server.app import create_app

    uvicorn.run(create_app(settings), **common)


@click.command()
@db_option
@data_dir_option
@click.option(
    "--threads",
    "job_workers",  # the setting's name, so an error about it names this flag
    type=int,
    default=None,
    help="Job worker threads. [default: ONEBAR_JOB_WORKERS, else 1]",
)
@click.option("--log-level", default=None, type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--check", is_flag=True, help="Check the settings, the store and the data folder, then exit.")
@click.option("--parent", type=int, default=None, hidden=True, help="Run as the child of `onebar serve` PID.")
def worker(
    db: str | None,
    data_dir: Path | None,
    job_workers: int | None,
    log_level: str | None,
    check: bool,
    parent: int | None,
) -> None:
    """Run the service's background jobs without serving HTTP, until SIGTERM or Ctrl-C.

    `onebar serve` starts one of these itself; run more beside `onebar serve --job-workers 0`, or on
    other machines sharing a PostgreSQL store. Settings as for `onebar serve` (docs/service.md).
    """
    import logging

    from onebar.jobs.handlers import Context
    from onebar.jobs.process import die_with_parent, serve_jobs, tell_step
    from onebar.server.service import schedules

    settings = _settings(database_url=db, data_dir=data_dir, job_workers=job_workers, log_level=log_level)
    child = parent is not None and not check
    if not child:
        _ready(settings)
    if check:
        click.echo(f"ok: would run {max(settings.job_workers, 1)} job worker(s), data in {settings.data_path}")
        return
    if parent is not None:
        die_with_parent(parent)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    store = _store(settings.store_url)
    try:
        ctx = Context(store, settings.data_path, settings.cluster, settings.store_url, tell_step if child else None)
        finished = serve_jobs(
            ctx,
            threads=max(settings.job_workers, 1),
            lease=settings.job_lease,
            poll=settings.job_poll,
            schedules=schedules(settings),
            shutdown_timeout=settings.shutdown_timeout,
            child=child,
        )
    finally:
        store.close()
    if not finished:
        raise SystemExit(1)


def _ready(settings: Any) -> None:
    """Fail before serving, with the field named, when the store or the data folder is unusable."""
    from onebar.errors import UsageError

    _store(settings.store_url).close()  # opens (and migrates) the store, or names what is wrong
    try:
        settings.data_path.mkdir(parents=True, exist_ok=True)
        probe = settings.data_path / ".onebar-write-check"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{settings.data_path}: {exc.strerror or exc}", field="data_dir") from None


@click.group()
def repo() -> None:
    """Repositories the service owns: add a local path or mirror a clone URL, list them, sync one."""


@repo.command("add")
@click.argument("source")
@click.option("--name", default=None, help="Name in the service. [default: the last part of the path or URL]")
@db_option
@data_dir_option
@json_format
def repo_add(source: str, name: str | None, db: str | None, data_dir: Path | None, fmt: str) -> None:
    """Add SOURCE (a local path, or a clone URL mirrored into the data folder). A running service
    ingests it on its next look at the queue."""
    from onebar.auth.trail import audit
    from onebar.jobs.queue import enqueue
    from onebar.repos.registry import add_repo

    settings = _settings(database_url=db, data_dir=data_dir)
    store = _store(settings.store_url)
    try:
        added = add_repo(store, source, name=name, data_dir=settings.data_path)
        job = enqueue(store, "sync", repo=added.name, payload={"fetch": False})
        audit(store, actor="cli", action="repo.add", target=f"repo:{added.name}", payload=added.to_json())
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps({**added.to_json(), "job": job}, indent=2))
        return
    click.echo(f"added {added.name} ({added.kind}: {added.source}); sync queued as job {job}")


@repo.command("list")
@db_option
@json_format
def repo_list(db: str | None, fmt: str) -> None:
    """The repositories the service owns."""
    from onebar.repos.registry import list_repos

    store = _store(db, existing=True)
    try:
        rows = [r.to_json() for r in list_repos(store)]
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['name']:24} {r['kind']:7} ingested {r['ingested'] or 'not yet'}")


@repo.command("sync")
@click.argument("name")
@click.option("--now", "run_now", is_flag=True, help="Run it in this process instead of queueing it.")
@db_option
@data_dir_option
def repo_sync(name: str, run_now: bool, db: str | None, data_dir: Path | None) -> None:
    """Fetch (a mirror), ingest and refresh the report of NAME: queued for the service, or --now here."""
    from onebar.jobs import queue
    from onebar.jobs.handlers import Context
    from onebar.jobs.worker import Worker
    from onebar.repos.registry import get_repo

    settings = _settings(database_url=db, data_dir=data_dir)
    store = _store(settings.store_url)
    try:
        get_repo(store, name)
        job_id = queue.enqueue(store, "sync", repo=name)
        if not run_now:
            click.echo(f"sync of {name} queued as job {job_id}")
            return
        worker = Worker(Context(store, settings.data_path, settings.cluster, settings.store_url))
        while worker.run_once() is not None:
            if queue.get_job(store, job_id).status in ("done", "failed"):
                break
        job = queue.get_job(store, job_id)
    finally:
        store.close()
    click.echo(f"job {job.id}: {job.status}" + (f" ({job.error})" if job.error else f" {json.dumps(job.result)}"))
    if job.status != "done":
        raise SystemExit(1)


@click.group()
def token() -> None:
    """API tokens: create (shown once), list, revoke. Works on the store directly."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(["admin", "auditor", "lead", "member", "ci"]))
@click.option("--org", default=None, help="The organisation of a lead or member token.")
@click.option("--repo", default=None, help="The repository of a ci token.")
@click.option("--person", default=None, help="The charter person a member token speaks for.")
@click.option(
    "--expires", default=None, metavar="DAYS", help="Days until it expires (90, 90d, or 'never'). [default: 90]"
)
@click.option("--note", default="", help="What it is for.")
@db_option
@json_format
def token_create(
    role: str, org: str | None, repo: str | None, person: str | None, expires: str | None, note: str,
    db: str | None, fmt: str,
) -> None:  # fmt: skip
    """Create a token; it is printed once and stored only as a hash."""
    from onebar.auth.tokens import create_token
    from onebar.auth.trail import audit

    store = _store(db)
    try:
        new = create_token(store, role, org=org, repo=repo, person=person, expires=expires, note=note, created_by="cli")
        audit(store, actor="cli", action="token.create", target=f"token:{new.info.id}", payload=new.info.to_json())
    finally:
        store.close()
    info = new.info.to_json()
    if fmt == "json":
        keys = ("org", "repo", "person")
        out = {"token": new.token, "id": new.info.id, "role": role, "expires": info["expires"]}
        click.echo(json.dumps({**out, **{k: info[k] for k in keys}}, indent=2))
        return
    click.echo(new.token)
    click.echo(f"token {new.info.id}: {role} expires {info['expires'] or 'never'}; shown once, keep it safe", err=True)


@token.command("list")
@db_option
@json_format
def token_list(db: str | None, fmt: str) -> None:
    """Tokens with their role, scope, state and last use (never their secrets)."""
    from onebar.auth.tokens import list_tokens

    store = _store(db, existing=True)
    try:
        now = int(time.time())
        rows = [t.to_json(now) for t in list_tokens(store)]
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        scope = r["org"] or r["repo"] or ""
        click.echo(f"{r['id']:>4} {r['prefix']}… {r['role']:8} {scope:16} {r['state']:8} "
                   f"expires {r['expires'] or 'never'}  last used {r['last_used'] or 'never'}")  # fmt: skip


@token.command("revoke")
@click.argument("token_id", type=int)
@db_option
def token_revoke(token_id: int, db: str | None) -> None:
    """Revoke token TOKEN_ID: refused from the next request on."""
    from onebar.auth.tokens import revoke_token
    from onebar.auth.trail import audit

    store = _store(db)
    try:
        revoke_token(store, token_id)
        audit(store, actor="cli", action="token.revoke", target=f"token:{token_id}")
    finally:
        store.close()
    click.echo(f"revoked token {token_id}")


@click.command()
@click.option("--status", default=None, type=click.Choice(["queued", "running", "done", "failed"]))
@click.option("--repo", default=None, help="Only this repository's jobs.")
@click.option("--limit", type=click.IntRange(min=1), default=30, show_default=True)
@db_option
@json_format
def jobs(status: str | None, repo: str | None, limit: int, db: str | None, fmt: str) -> None:
    """The service's job queue: queued, running, done and failed jobs, newest first."""
    from onebar.jobs.queue import depth, list_jobs

    store = _store(db, existing=True)
    try:
        rows = [j.to_json() for j in list_jobs(store, status=status, repo=repo, limit=limit)]
        counts = depth(store)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps({"counts": counts, "jobs": rows}, indent=2))
        return
    click.echo("  ".join(f"{k} {v}" for k, v in counts.items()))
    for j in rows:
        click.echo(f"{j['id']:>6} {j['kind']:10} {j['repo'] or '':20} {j['status']:8} attempts {j['attempts']}"
                   + (f"  {j['error'].splitlines()[-1][:80]}" if j["error"] else ""))  # fmt: skip
