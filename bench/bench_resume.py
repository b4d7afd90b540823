"""Resume benchmark: what an ingest costs after `kill -9`, against a fresh ingest, on SQLite and PostgreSQL.

    python bench/bench_resume.py REPO [--pg URL] [--kill-at 0.5] [--markdown FILE]

ONEBAR_SRC=DIR runs another checkout's `src` (e.g. `git archive` of an older commit) for a before/after.

For each store (a fresh SQLite file; a fresh schema in the PostgreSQL database given by --pg) it
times, as fresh `onebar ingest` processes: a full ingest of REPO; then a second full ingest into
another fresh store that is killed with SIGKILL once the store holds `--kill-at` of the commits;
then the ingest that resumes it. A resume should cost about what was left: `resume / (fresh x
share left)` near 1. Ratios are against the fresh ingest of the same store in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

SRC = Path(os.environ.get("ONEBAR_SRC") or Path(__file__).resolve().parent.parent / "src")
ENV = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
ONEBAR = [sys.executable, "-m", "onebar"]


@dataclass
class Row:
    store: str
    commits: int
    fresh: float
    killed_after: float
    stored_at_kill: int
    resume: float

    @property
    def left(self) -> float:
        return 1 - self.stored_at_kill / self.commits


def _ingest(repo: Path, url: str) -> float:
    start = time.perf_counter()
    subprocess.run([*ONEBAR, "ingest", str(repo), "--db", url], env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def _stored(url: str) -> int:
    from sqlalchemy import create_engine, text

    from onebar.settings import database_url

    engine = create_engine(database_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM commits")).scalar_one())
    except Exception:
        return 0  # not created yet
    finally:
        engine.dispose()


def _kill_when(repo: Path, url: str, at: int) -> tuple[float, int]:
    """Start an ingest and SIGKILL it once `at` commits are stored; (seconds it ran, commits stored)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*ONEBAR, "ingest", str(repo), "--db", url], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while proc.poll() is None and _stored(url) < at:
            time.sleep(0.05)
        if proc.poll() is not None:
            raise SystemExit("the ingest finished before it could be killed: use a bigger repository")
        os.kill(proc.pid, signal.SIGKILL)  # its git children end on their broken pipes
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    return time.perf_counter() - start, _stored(url)


def _pg_schema(admin: str) -> tuple[str, str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in admin else "?"
    return schema, f"{admin}{sep}options=-csearch_path%3D{schema}"


def _drop(admin: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(admin.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def bench(repo: Path, kind: str, make_url: object, kill_at: float) -> Row:
    commits = int(
        subprocess.run(["git", "-C", str(repo), "rev-list", "--all", "--count"], capture_output=True, text=True).stdout
    )
    fresh_url = make_url()  # type: ignore[operator]
    fresh = _ingest(repo, fresh_url)
    url = make_url()  # type: ignore[operator]
    killed_after, stored = _kill_when(repo, url, int(commits * kill_at))
    resume = _ingest(repo, url)
    assert _stored(url) == commits, "the resumed store does not hold the history exactly"
    return Row(kind, commits, fresh, killed_after, stored, resume)


def render(rows: list[Row]) -> str:
    lines = [
        f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}.",
        "",
        "| store | commits | fresh ingest | killed after | stored at kill | resume | resume / fresh "
        "| resume / (fresh × share left) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        scaled = r.resume / (r.fresh * r.left)
        lines.append(
            f"| {r.store} | {r.commits:,} | {r.fresh:.1f} s | {r.killed_after:.1f} s | {r.stored_at_kill:,} "
            f"({1 - r.left:.0%}) | {r.resume:.1f} s | {r.resume / r.fresh:.2f}× | **{scaled:.2f}×** |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL (a fresh schema is made in it and dropped)")
    parser.add_argument("--kill-at", type=float, default=0.5, help="share of the commits stored when killed")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(SRC))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="onebar-resume-") as tmp:
        if not args.no_sqlite:
            n = iter(range(100))
            rows.append(bench(args.repo, "SQLite", lambda: f"sqlite:///{tmp}/s{next(n)}.db", args.kill_at))
            print(render(rows), file=sys.stderr)
        if args.pg:
            schemas: list[str] = []

            def pg() -> str:
                schema, url = _pg_schema(args.pg)
                schemas.append(schema)
                return url

            try:
                rows.append(bench(args.repo, "PostgreSQL", pg, args.kill_at))
            finally:
                for schema in schemas:
                    _drop(args.pg, schema)
    text = render(rows)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
