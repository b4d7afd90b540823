"""Benchmark: the service, measured from a second process on 127.0.0.1, against its own baselines.

    python bench/bench_service.py                       # all three parts (a few minutes)
    python bench/bench_service.py --parts serve refresh --commits 100000 --seconds 10
    python bench/bench_service.py --parts portfolio --pg postgresql://postgres@127.0.0.1:5432/test

1. **serve**: `onebar serve` (one process, SQLite) on a materialised report of an `onebar demo`
   history (100,000 commits by default). A load generator in a second process keeps 32 requests
   in flight for a bounded time and count, on a trivial endpoint of the same app (`/healthz`), on
   an authenticated trivial endpoint (`/api/v1/whoami`), and on the report (admin: the whole
   report; a partner's lead: the filtered view). Prints p50/p95 and throughput, and the report's
   throughput as a ratio of the trivial endpoint's (target: p95 < 50 ms and ratio >= 0.5). Before
   that, the same endpoints called in process (no network): CPU time per request of the app itself,
   a figure far less noisy than the load runs on a shared machine.
2. **refresh**: 100 commits appended to the ingested history; the `sync` job (incremental ingest +
   materialised report) is timed against the full ingest of the same history in the same run.
3. **portfolio**: 50 repositories on PostgreSQL whose materialised reports are those of a 20,000-
   commit demo history (ingested and reported once, then registered under 50 names: the
   portfolio reads only the stored summaries, so this is the same work as 50 distinct histories).
   Times `GET /api/v1/portfolio` cold (first request after a change) and warm, sequentially and at
   8 concurrent clients (target: under 300 ms).

Demo repositories are built once under --cache (default /tmp/onebar-bench) and reused. Load stays
on 127.0.0.1 and stops by itself. Figures on a shared machine are noisy: compare the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


# ----- load generator (runs in its own process) -----


async def _load(url: str, token: str | None, concurrency: int, seconds: float, max_requests: int) -> dict[str, Any]:
    # aiohttp, not httpx: httpx's async pool tops out near 120 requests/s at 32 in flight here, so it
    # measured itself; aiohttp drives the same trivial endpoint at about 4,000/s.
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(headers=headers, connector=connector, timeout=timeout) as client:
        async with client.get(url) as r:  # warm: the first request fills the caches
            await r.read()

        async def worker() -> None:
            nonlocal errors, sent
            while time.perf_counter() < deadline and sent < max_requests:
                sent += 1
                t = time.perf_counter()
                async with client.get(url) as r:
                    await r.read()
                    status = r.status
                latencies.append(time.perf_counter() - t)
                if status != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
    }


def in_process(db: str, data: Path, paths: dict[str, tuple[str, str | None]], calls: int = 2000) -> dict[str, float]:
    """CPU microseconds per request through the whole app (its middleware included), called in this process.

    No network and no second process: far less noisy than the load runs on a shared machine, and
    it shows what the app itself costs per endpoint (best of five rounds, endpoints interleaved)."""
    import uvloop

    from onebar.server.app import create_app
    from onebar.server.settings import ServiceSettings

    app = create_app(ServiceSettings(database_url=db, data_dir=data, job_workers=0))

    def scope(path: str, token: str | None) -> dict[str, Any]:
        headers = [(b"host", b"127.0.0.1"), (b"accept", b"*/*"), (b"accept-encoding", b"gzip, deflate")]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"status {message['status']}")

    async def run() -> dict[str, float]:
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await events.put({"type": "lifespan.startup"})

        async def ignore(message: dict[str, Any]) -> None:
            pass

        lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, events.get, ignore))
        await asyncio.sleep(0.2)
        best = dict.fromkeys(paths, float("inf"))
        for _ in range(50):  # warm: caches filled
            for path, token in paths.values():
                await app(scope(path, token), receive, send)
        for _ in range(5):
            for label, (path, token) in paths.items():
                t = time.process_time()
                for _ in range(calls):
                    await app(scope(path, token), receive, send)
                best[label] = min(best[label], (time.process_time() - t) / calls * 1e6)
        await events.put({"type": "lifespan.shutdown"})
        await lifespan
        return best

    return uvloop.run(run())


def load(url: str, token: str | None, concurrency: int, seconds: float, max_requests: int) -> dict[str, Any]:
    """Run the load generator in a second process (so client and server do not share an interpreter)."""
    args = [sys.executable, __file__, "_load", url, token or "-", str(concurrency), str(seconds), str(max_requests)]
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


# ----- helpers -----


def onebar(*args: str, env: dict[str, str] | None = None) -> str:
    full = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    out = subprocess.run([sys.executable, "-m", "onebar", *args], check=True, capture_output=True, text=True, env=full)
    return out.stdout


def demo(cache: Path, commits: int) -> Path:
    path = cache / f"demo-{commits}"
    if not (path / ".git").is_dir():
        print(f"building the {commits:,}-commit demo history in {path} (once) ...", flush=True)
        onebar("demo", str(path), "--commits", str(commits), "--force", "--format", "json")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, db: str, data: Path, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {**os.environ, "PYTHONPATH": str(SRC), "ONEBAR_JOB_WORKERS": "0", "ONEBAR_LOG_LEVEL": "warning", **env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "onebar", "serve", "--port", str(self.port), "--db", db, "--data-dir", str(data)],
            env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(600):
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("onebar serve did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def register_copies(db: str, repos: int) -> None:
    """The first repository's report stored again under r01..rNN (the pages read only stored reports)."""
    from sqlalchemy import insert, select

    from onebar.store import open_store
    from onebar.store.schema_service import materialised_reports, service_repos

    store = open_store(db)
    with store.write() as conn:
        base = dict(conn.execute(select(materialised_reports)).one()._mapping)
        src = dict(conn.execute(select(service_repos)).one()._mapping)
        base.pop("id")
        src.pop("id")
        for i in range(1, repos):
            name = f"r{i:02d}"
            conn.execute(insert(service_repos).values(**{**src, "name": name}))
            etag = f"{base['etag'][:24]}{i:08d}"
            conn.execute(insert(materialised_reports).values(**{**base, "repo": name, "etag": etag}))
    store.close()


def prepare(db: str, data: Path, repo: Path, name: str) -> float:
    """Register, ingest and materialise `repo` under `name`; returns the seconds the sync took."""
    from onebar.jobs.handlers import Context
    from onebar.jobs.queue import enqueue, get_job
    from onebar.jobs.worker import Worker
    from onebar.repos.registry import add_repo
    from onebar.store import open_store

    store = open_store(db)
    add_repo(store, str(repo), name=name, data_dir=data)
    job = enqueue(store, "sync", repo=name)
    t = time.perf_counter()
    Worker(Context(store, data)).run_once()
    took = time.perf_counter() - t
    assert get_job(store, job).status == "done", get_job(store, job).error
    store.close()
    return took


def token(db: str, role: str, **scope: str) -> str:
    from onebar.auth.tokens import create_token
    from onebar.store import open_store

    store = open_store(db)
    t = create_token(store, role, **scope).token  # type: ignore[arg-type]
    store.close()
    return t


def row(label: str, r: dict[str, Any], base: dict[str, Any] | None = None) -> str:
    ratio = f"{r['rps'] / base['rps']:.2f}" if base else "1.00"
    cells = [label, f"{r['requests']:,}", str(r["errors"]), f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}"]
    return "| " + " | ".join([*cells, f"{r['rps']:,.0f}", ratio]) + " |"


# ----- the three parts -----


def part_serve(cache: Path, commits: int, seconds: float, concurrency: int) -> list[str]:
    repo = demo(cache, commits)
    work = Path(tempfile.mkdtemp(prefix="onebar-bench-serve-"))
    db = f"sqlite:///{work / 'store.db'}"
    try:
        took = prepare(db, work / "data", repo, "demo")
        admin = token(db, "admin")
        lead = token(db, "lead", org="vistula", person="lukasz")
        report = "/api/v1/repos/demo/report"
        cpu = in_process(db, work / "data", {"trivial": ("/healthz", None), "whoami": ("/api/v1/whoami", admin),
                                             "admin": (report, admin), "lead": (report, lead)})  # fmt: skip
        server = Server(db, work / "data")
        try:
            cap = int(seconds * 5000)
            trivial = load(f"{server.url}/healthz", None, concurrency, seconds, cap)
            whoami = load(f"{server.url}/api/v1/whoami", admin, concurrency, seconds, cap)
            full = load(f"{server.url}/api/v1/repos/demo/report", admin, concurrency, seconds, cap)
            scoped = load(f"{server.url}/api/v1/repos/demo/report", lead, concurrency, seconds, cap)
            size = len(
                httpx.get(
                    f"{server.url}/api/v1/repos/demo/report", headers={"Authorization": f"Bearer {admin}"}
                ).content
            )
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [
        f"### Serving a materialised report ({commits:,} commits, {concurrency} concurrent clients, {seconds:g} s)",
        "",
        f"First sync (full ingest + report): {took:.1f} s; report body {size / 1024:.0f} KiB.",
        "",
        "| endpoint | requests | errors | p50 ms | p95 ms | req/s | ratio to /healthz | in process, CPU µs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        row("`GET /healthz` (trivial)", trivial) + f" {cpu['trivial']:.0f} |",
        row("`GET /api/v1/whoami` (token check)", whoami, trivial) + f" {cpu['whoami']:.0f} |",
        row("`GET /api/v1/repos/demo/report` (admin)", full, trivial) + f" {cpu['admin']:.0f} |",
        row("`GET /api/v1/repos/demo/report` (a partner's lead, filtered)", scoped, trivial) + f" {cpu['lead']:.0f} |",
        "",
        "In process: the whole app called in the benchmark's own process (no network), CPU time per request,",
        "best of five rounds of 2,000 calls.",
        "",
    ]


def part_refresh(cache: Path, commits: int) -> list[str]:
    from onebar.jobs.handlers import Context
    from onebar.jobs.queue import enqueue, get_job
    from onebar.jobs.worker import Worker
    from onebar.store import open_store

    source = demo(cache, commits)
    work = Path(tempfile.mkdtemp(prefix="onebar-bench-refresh-"))
    try:
        clone = work / "repo"
        subprocess.run(["git", "clone", "-q", "--no-local", str(source), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", "-B", "main", "origin/main"], check=True)
        db = f"sqlite:///{work / 'store.db'}"
        full = prepare(db, work / "data", clone, "demo")
        head = subprocess.run(["git", "-C", str(clone), "log", "-1", "--format=%ct"], check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
        stream = []
        for i in range(1, 101):
            stamp = int(head) + i * 600
            msg = f"bench change {i}\n".encode()
            body = f"bench {i}\n".encode()
            stream += [b"commit refs/heads/main\n", f"committer Bench <bench@acme.example> {stamp} +0000\n".encode(),
                       f"data {len(msg)}\n".encode() + msg]  # fmt: skip
            if i == 1:
                stream.append(b"from refs/heads/main^0\n")
            stream.append(f"M 100644 inline bench/f{i % 7}.txt\ndata {len(body)}\n".encode() + body + b"\n")
        subprocess.run(["git", "-C", str(clone), "fast-import", "--quiet"], input=b"".join(stream), check=True)
        store = open_store(db)
        job = enqueue(store, "sync", repo="demo")
        steps: dict[str, float] = {}
        ctx = Context(store, work / "data", observe=lambda step, repo, s: steps.__setitem__(step, s))
        t = time.perf_counter()
        Worker(ctx).run_once()
        took = time.perf_counter() - t
        done = get_job(store, job)
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert done.status == "done" and done.result and done.result.get("commits_new") == 100, done
    return [
        f"### Refresh after a push of 100 commits onto {commits:,}",
        "",
        "| run | seconds | ratio to the full sync |",
        "|---|---:|---:|",
        f"| full sync: ingest from scratch + materialised report | {full:.2f} | 1.00 |",
        f"| `sync` after +100 commits (whole job) | {took:.2f} | {took / full:.3f} |",
        f"| &nbsp;&nbsp;incremental ingest | {steps.get('ingest', 0):.2f} | |",
        f"| &nbsp;&nbsp;report recomputed and stored | {steps.get('refresh', 0):.2f} | |",
        "",
    ]


def part_portfolio(cache: Path, pg: str, repos: int, commits: int, seconds: float) -> list[str]:
    import uuid

    import psycopg

    from onebar.store import open_store
    from onebar.store.schema_service import materialised_reports

    repo = demo(cache, commits)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    plain = pg.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    db = f"{pg}{'&' if '?' in pg else '?'}options=-csearch_path%3D{schema}"
    work = Path(tempfile.mkdtemp(prefix="onebar-bench-portfolio-"))
    try:
        took = prepare(db, work / "data", repo, "r00")
        register_copies(db, repos)
        admin = token(db, "admin")
        lead = token(db, "lead", org="vistula")
        server = Server(db, work / "data")
        try:
            auth = {"Authorization": f"Bearer {admin}"}
            url = f"{server.url}/api/v1/portfolio"
            cold = []
            for i in range(5):  # a changed report each time: the portfolio is recomputed
                s2 = open_store(db)
                with s2.write() as conn:
                    conn.execute(materialised_reports.update().where(materialised_reports.c.repo == "r00")
                                 .values(etag=f"cold{i:028d}"))  # fmt: skip
                s2.close()
                t = time.perf_counter()
                r = httpx.get(url, headers=auth)
                cold.append(time.perf_counter() - t)
                assert r.status_code == 200 and len(r.json()["reported"]) == repos
            warm = load(url, admin, 1, seconds, 2000)
            warm8 = load(url, admin, 8, seconds, 4000)
            scoped = load(url, lead, 8, seconds, 4000)
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return [
        f"### Portfolio of {repos} repositories × {commits:,} commits on PostgreSQL",
        "",
        f"One history ingested and reported in {took:.1f} s, its materialised report stored under {repos} names.",
        "",
        "| request | p50 ms | p95 ms | req/s |",
        "|---|---:|---:|---:|",
        f"| cold (a report changed: summaries re-read, portfolio recomputed), 5 runs | "
        f"{statistics.median(cold) * 1000:.1f} | {max(cold) * 1000:.1f} | |",
        f"| warm, 1 client | {warm['p50_ms']:.1f} | {warm['p95_ms']:.1f} | {warm['rps']:,.0f} |",
        f"| warm, 8 clients | {warm8['p50_ms']:.1f} | {warm8['p95_ms']:.1f} | {warm8['rps']:,.0f} |",
        f"| warm, 8 clients, a partner's lead (filtered) | {scoped['p50_ms']:.1f} | {scoped['p95_ms']:.1f} | "
        f"{scoped['rps']:,.0f} |",
        "",
    ]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        _, _, url, tok, conc, secs, cap = sys.argv
        print(json.dumps(asyncio.run(_load(url, None if tok == "-" else tok, int(conc), float(secs), int(cap)))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["serve", "refresh", "portfolio"],
                        choices=["serve", "refresh", "portfolio"])  # fmt: skip
    parser.add_argument("--commits", type=int, default=100_000, help="history of the serve and refresh parts")
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per endpoint")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--portfolio-repos", type=int, default=50)
    parser.add_argument("--portfolio-commits", type=int, default=20_000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "onebar-bench")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    out: list[str] = []
    if "serve" in args.parts:
        out += part_serve(args.cache, args.commits, args.seconds, args.concurrency)
        print("\n".join(out), flush=True)
    if "refresh" in args.parts:
        lines = part_refresh(args.cache, args.commits)
        print("\n".join(lines), flush=True)
        out += lines
    if "portfolio" in args.parts:
        lines = part_portfolio(args.cache, args.pg, args.portfolio_repos, args.portfolio_commits, min(args.seconds, 5))
        print("\n".join(lines), flush=True)
        out += lines
    if args.markdown:
        args.markdown.write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
