"""`onebar audit verify|export|checkpoint|keygen|list`: the tamper-evident log from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from onebar.cli.options import db_option

key_file_option = click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Ed25519 signing key (PEM). [env: ONEBAR_AUDIT_KEY (the key), ONEBAR_AUDIT_KEY_FILE; "
    "default: audit.key beside the default store]",
)


@click.group()
def audit() -> None:
    """The tamper-evident audit log: verify it, export it, sign checkpoints (docs/audit.md)."""


@audit.command("verify")
@db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--public-key",
    metavar="KEY",
    help="Verifier key (NAME+ID+BASE64 as keygen prints it) or a PEM file. [env: ONEBAR_AUDIT_PUBLIC_KEY; "
    "default: the signing key's]",
)
@key_file_option
@click.option(
    "--from",
    "from_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify an export (JSON lines from `onebar audit export`) instead of the store.",
)
@click.option(
    "--checkpoints",
    "checkpoints_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Checkpoints exported earlier with `onebar audit export --checkpoints` and kept outside the store.",
)
def verify(
    db: str | None,
    fmt: str,
    public_key: str | None,
    key_file: Path | None,
    from_file: Path | None,
    checkpoints_file: Path | None,
) -> None:
    """Recompute the chain and check the signed checkpoints: exit 0 if they hold, 1 naming the first bad entry."""
    from onebar import audit as lib

    key = lib.load_verifier(public_key, key_file)
    notes = [str(o.get("note")) for o in _json_lines(checkpoints_file, "checkpoints_file")] if checkpoints_file else []
    if from_file is not None:
        from onebar.audit.log import iter_rows

        rows = list(iter_rows(_json_lines(from_file, "from_file")))
        result = lib.verify_export(rows, notes, key)
    else:
        from onebar.store import open_store

        store = open_store(db, existing=True)
        try:
            with store.read() as conn:
                result = lib.verify(conn, key, kept=notes)
        finally:
            store.close()
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print_verification(result)
    sys.exit(0 if result.ok else 1)


def _print_verification(v: Any) -> None:
    signed = f", signed through entry {v.signed_through}" if v.signed_through else ""
    click.echo(f"audit log: {v.entries} entries, {v.checkpoints} checkpoints{signed}")
    if v.key:
        click.echo(f"key: {v.key}")
    problems = sorted(v.problems, key=lambda p: p.seq)
    if problems:
        first = problems[0]
        click.secho(f"FAILED: first bad entry {first.seq} ({first.kind}): {first.message}", fg="red", bold=True)
        for p in problems[1:]:
            click.echo(f"  also {p.seq} ({p.kind}): {p.message}")
    elif v.unchecked_signatures:
        click.secho("NOT VERIFIED: the checkpoint signatures could not be checked", fg="yellow", bold=True)
    else:
        click.secho("OK: every entry and checkpoint holds", fg="green")
    for note in v.notes:
        click.echo(f"note: {note}")


def _json_lines(path: Path, field: str) -> Iterator[dict[str, Any]]:
    from onebar.errors import UsageError

    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UsageError(f"{path}:{number}: not JSON ({exc.msg})", field=field) from None
            if not isinstance(obj, dict):
                raise UsageError(f"{path}:{number}: not a JSON object", field=field)
            yield obj


@audit.command("export")
@click.option("--since", metavar="DATE", help="Only entries at or after DATE (YYYY-MM-DD or ISO time).")
@click.option("--checkpoints", "only_checkpoints", is_flag=True, help="Export the signed checkpoints instead.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@db_option
def export(since: str | None, only_checkpoints: bool, output: Path | None, db: str | None) -> None:
    """Write the log as JSON lines, one entry per line (or the signed checkpoints), for auditors and archives."""
    from onebar import audit as lib
    from onebar.audit.chain import parse_instant
    from onebar.store import open_store

    start = parse_instant(since, "since")
    store = open_store(db, existing=True)
    try:
        out = output.open("w", encoding="utf-8") if output else sys.stdout
    except OSError as exc:
        from onebar.errors import UsageError

        raise UsageError(f"cannot write {output}: {exc.strerror}", field="output") from None
    try:
        with store.read() as conn:
            if only_checkpoints:
                for note in lib.checkpoints(conn):
                    from onebar.audit.checkpoint import parse_checkpoint

                    cp, _, _ = parse_checkpoint(note)
                    out.write(json.dumps(cp.to_dict(), ensure_ascii=False) + "\n")
            else:
                for e in lib.entries(conn, since=start):
                    out.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
    finally:
        store.close()
        if output:
            out.close()


@audit.command("checkpoint")
@key_file_option
@db_option
def checkpoint(key_file: Path | None, db: str | None) -> None:
    """Sign a checkpoint at the head of the log (the service runs this periodically)."""
    from onebar import audit as lib
    from onebar.errors import UsageError
    from onebar.store import open_store

    key = lib.load_signer(key_file)
    if key is None:
        raise UsageError(
            "no audit signing key", field="key_file", hint="run onebar audit keygen, or set ONEBAR_AUDIT_KEY"
        )
    store = open_store(db)
    try:
        with store.write() as conn:
            cp = lib.sign_checkpoint(conn, key)
    finally:
        store.close()
    if cp is None:
        click.echo("nothing new since the last checkpoint")
    else:
        click.echo(f"signed checkpoint at entry {cp.size} (root {cp.root[:16]}...) with {key.verifier.vkey()}")


@audit.command("keygen")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the private key. [default: audit.key beside the default store]",
)
def keygen(out: Path | None) -> None:
    """Create an Ed25519 signing key (mode 0600) and print the verifier key to give auditors."""
    from onebar.audit.keys import SignerKey, default_key_path
    from onebar.errors import UsageError

    target = out or default_key_path()
    if target.exists():
        raise UsageError(f"{target} already exists; keep it, or move it away first", field="out")
    key = SignerKey.generate()
    key.save(target)
    click.echo(f"wrote {target}", err=True)
    click.echo(key.verifier.vkey())


@audit.command("list")
@click.option("--since", metavar="DATE", help="Only entries at or after DATE.")
@click.option("--action", metavar="PREFIX", help="Only actions starting with PREFIX (e.g. access.grant).")
@click.option("--target", metavar="TARGET", help="Only entries about TARGET (e.g. grant:12).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@db_option
def list_entries(
    since: str | None, action: str | None, target: str | None, limit: int, fmt: str, db: str | None
) -> None:
    """Show audit entries, oldest first."""
    from onebar import audit as lib
    from onebar.audit.chain import parse_instant
    from onebar.store import open_store

    start = parse_instant(since, "since")
    store = open_store(db, existing=True)
    try:
        with store.read() as conn:
            rows = list(lib.entries(conn, since=start, action=action, target=target, limit=limit))
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps([e.to_dict() for e in rows], indent=2, ensure_ascii=False))
        return
    for e in rows:
        who = e.actor.person or (f"token {e.actor.token}" if e.actor.token else "onebar")
        mark = "" if e.outcome == "success" else f" [{e.outcome}]"
        click.echo(f"{e.seq:>6} {e.at[:19]}Z {who} via {e.actor.via}: {e.action} {e.target}{mark}")
