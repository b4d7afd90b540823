"""Benchmark: the dashboard's pages against the API endpoints that serve the same figures, in one run.

    python bench/bench_dashboard.py                     # 50 repositories × 20,000 commits, SQLite
    python bench/bench_dashboard.py --pg postgresql://postgres@127.0.0.1:5432/test --seconds 5

One demo history (built once under --cache and reused, as bench/bench_service.py does) is ingested
and reported, and its materialised report registered under --repos names, so the portfolio adds up
that many repositories. `onebar serve` runs in its own process; a load generator in another keeps
requests in flight for a bounded time and count, all on 127.0.0.1. Printed: p50/p95 and throughput
of each page and of its API twin, and the page's throughput as a ratio of the API's (the figure to
compare across machines; absolute times on a shared machine are noisy):

- the portfolio page `/` against `GET /api/v1/portfolio`, as admin and as a partner's lead;
- the portfolio page cold: the first request after a report changed (that repository's report
  re-read and filtered), and the first after a start (every repository's);
- the repository page `/repos/r00` against `GET /api/v1/repos/r00/report`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench_service import (  # bench/ is on sys.path when run as a script
    Server,
    demo,
    load,
    prepare,
    register_copies,
    token,
)


def touch(db: str, i: int) -> None:
    """A changed report (a new ETag) for r00, as a refresh job leaves it."""
    from onebar.store import open_store
    from onebar.store.schema_service import materialised_reports

    store = open_store(db)
    with store.write() as conn:
        m = materialised_reports
        conn.execute(m.update().where(m.c.repo == "r00").values(etag=f"cold{i:028d}"))
    store.close()


def row(label: str, r: dict[str, Any], base: dict[str, Any] | None = None) -> str:
    ratio = f"{r['rps'] / base['rps']:.2f}" if base else ""
    return f"| {label} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['rps']:,.0f} | {ratio} |"


def timed(url: str, tok: str) -> float:
    t = time.perf_counter()
    r = httpx.get(url, headers={"Authorization": f"Bearer {tok}", "Accept": "text/html"}, timeout=120)
    assert r.status_code == 200, r.text[:300]
    return time.perf_counter() - t


def run(db: str, work: Path, cache: Path, repos: int, commits: int, seconds: float) -> list[str]:
    took = prepare(db, work / "data", demo(cache, commits), "r00")
    register_copies(db, repos)
    admin, lead = token(db, "admin"), token(db, "lead", org="vistula", person="lukasz")
    server = Server(db, work / "data")
    try:
        first = timed(f"{server.url}/", admin)  # every repository's report read and filtered
        cold_page, cold_api = [], []
        for i in range(5):
            touch(db, 2 * i)
            cold_page.append(timed(f"{server.url}/", admin))
            touch(db, 2 * i + 1)
            cold_api.append(timed(f"{server.url}/api/v1/portfolio", admin))
        n, cap = 1, 2000
        api = load(f"{server.url}/api/v1/portfolio", admin, n, seconds, cap)
        page = load(f"{server.url}/", admin, n, seconds, cap)
        api_lead = load(f"{server.url}/api/v1/portfolio", lead, n, seconds, cap)
        page_lead = load(f"{server.url}/", lead, n, seconds, cap)
        report = load(f"{server.url}/api/v1/repos/r00/report", lead, n, seconds, cap)
        repo_page = load(f"{server.url}/repos/r00", lead, n, seconds, cap)
        org_page = load(f"{server.url}/orgs/vistula", lead, n, seconds, cap)
    finally:
        server.stop()
    return [
        f"### Dashboard: {repos} repositories × {commits:,} commits ({'PostgreSQL' if 'postgres' in db else 'SQLite'})",
        "",
        f"One history ingested and reported in {took:.1f} s, its report stored under {repos} names. One client.",
        "",
        "| request | p50 ms | p95 ms | req/s | page / API |",
        "|---|---:|---:|---:|---:|",
        row("`GET /api/v1/portfolio`, admin", api),
        row("portfolio page `/`, admin", page, api),
        row("`GET /api/v1/portfolio`, a partner's lead", api_lead),
        row("portfolio page `/`, a partner's lead", page_lead, api_lead),
        row("`GET /api/v1/repos/r00/report`, a partner's lead", report),
        row("repository page `/repos/r00`, a partner's lead", repo_page, report),
        row("organisation page `/orgs/vistula`, a partner's lead", org_page),
        "",
        f"Cold portfolio (one report changed), median of 5: page {statistics.median(cold_page) * 1000:.0f} ms, "
        f"API {statistics.median(cold_api) * 1000:.0f} ms; first page after a start (every report read): "
        f"{first * 1000:.0f} ms.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "onebar-bench")
    parser.add_argument("--pg", help="a PostgreSQL URL (a private schema is created and dropped); default SQLite")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="onebar-bench-dashboard-"))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    if args.pg:
        import psycopg

        plain = args.pg.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        db = f"{args.pg}{'&' if '?' in args.pg else '?'}options=-csearch_path%3D{schema}"
    else:
        db = f"sqlite:///{work / 'onebar.db'}"
    try:
        print("\n".join(run(db, work, args.cache, args.repos, args.commits, args.seconds)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.pg:
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
