"""Commits whose objects git cannot read: a lost blob, or a partial clone without its promisor.

`git log --numstat` stops at the first blob it cannot read. The miner then asks which of the commits
it had not finished need a missing blob (`unreadable_commits`: one cheap `--raw` listing and one
`cat-file --batch-check`, however many are affected) and stores those with line counts unknown.
`lines_unknown` finds them again in the store (table `unreadable_commits`), so every later report
can still say so.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import and_, select

from onebar.git import git, popen_git
from onebar.store import Store
from onebar.store.schema import commits
from onebar.store.schema_mining import unreadable_commits as unreadable_commits_t

_NULL = "0" * 40
_GITLINK = "160000"
SHOWN = 20  # shas named in a warning; the count says how many there are


def unreadable_commits(root: Path, revs: list[str]) -> set[str]:
    """Those of `revs` (commits) that change a blob absent from the object store, or whose tree is."""
    bad: set[str] = set()
    blobs_of: dict[str, set[str]] = {}
    pending = revs
    while pending:
        out = git(
            root,
            "log",
            "--stdin",
            "--no-walk=unsorted",
            "-z",
            "--raw",
            "--no-renames",
            "--no-abbrev",
            "--format=%x1e%H",
            input=("\n".join(pending) + "\n").encode(),
            check=False,
        )
        listed = _blobs(out)
        complete = list(listed)[:-1] if len(listed) < len(pending) else list(listed)
        for sha in complete:
            blobs_of[sha] = listed[sha]
        rest = [sha for sha in pending if sha not in blobs_of]
        if not rest:
            break
        bad.add(rest[0])  # git stopped at this commit: its tree cannot be read
        pending = rest[1:]
    wanted = sorted({b for blobs in blobs_of.values() for b in blobs})
    if wanted:
        absent = _absent(root, wanted)
        bad.update(sha for sha, blobs in blobs_of.items() if blobs & absent)
    return bad


def _absent(root: Path, oids: list[str]) -> set[str]:
    """Those of `oids` not in the local object store, never fetching from a promisor remote."""
    check = git(root, "cat-file", "--batch-check", input=("\n".join(oids) + "\n").encode(), check=False)
    lines = check.decode("ascii", "replace").splitlines()
    if len(lines) == len(oids):
        return {line.split()[0] for line in lines if line.endswith(" missing")}
    # cat-file stops at an object a partial clone's promisor should have: list what is here instead.
    wanted = set(oids)
    proc = popen_git(root, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    present = {oid for line in proc.stdout if (oid := line.decode("ascii", "replace").strip()) in wanted}
    proc.wait()
    return wanted - present


def _blobs(out: bytes) -> dict[str, set[str]]:
    """commit -> the blob ids its `--raw -z` entries name (both sides), in listing order."""
    found: dict[str, set[str]] = {}
    for record in out.split(b"\x1e")[1:]:
        tokens = record.decode("utf-8", "replace").split("\0")
        sha = tokens[0].strip()
        blobs: set[str] = set()
        for tok in tokens[1:]:
            tok = tok.strip("\n")
            if not tok.startswith(":"):
                continue
            fields = tok[1:].split()
            if len(fields) < 5:
                continue
            mode_a, mode_b, old, new = fields[:4]
            blobs.update(oid for mode, oid in ((mode_a, old), (mode_b, new)) if oid != _NULL and mode != _GITLINK)
        found[sha] = blobs
    return found


def lines_unknown(store: Store, repo_id: int) -> list[str]:
    """Shas of the reachable commits stored with line counts unknown because git could not read them."""
    u, c = unreadable_commits_t, commits
    with store.read() as conn:
        # Nearly always none: asked alone, that is one index probe, where the join below has SQLite
        # walk every commit of the repository first (50 ms at 100,000 commits).
        if conn.execute(select(u.c.sha).where(u.c.repo_id == repo_id).limit(1)).first() is None:
            return []
        rows = conn.execute(
            select(u.c.sha)
            .join(c, and_(c.c.repo_id == u.c.repo_id, c.c.sha == u.c.sha))
            .where(u.c.repo_id == repo_id, c.c.reachable.is_(True))
            .order_by(c.c.committed_at, u.c.sha)
        )
        return [r[0] for r in rows]


def warning(shas: list[str]) -> str:
    """The warning for commits mined without line counts: how many, and which."""
    named = ", ".join(s[:12] for s in shas[:SHOWN]) + (", ..." if len(shas) > SHOWN else "")
    return (
        f"{len(shas)} commit(s) could not be read whole (missing objects: a lost blob, or a partial clone "
        f"without its promisor); they are stored with line counts unknown: {named}"
    )
