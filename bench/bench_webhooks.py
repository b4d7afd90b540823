"""Benchmark: receiving verified webhook deliveries in the real service, against a trivial endpoint of the same app.

    .venv/bin/python bench/bench_webhooks.py [--deliveries 3000] [--concurrency 8] [--rate 300] [--job-workers 1]
                                             [--job-threads | --worker-process]

`onebar serve` (the FastAPI app, uvicorn, one process, a SQLite store) runs on 127.0.0.1 with one
GitHub hook registered; a load generator in a second process sends signed `pull_request`
deliveries (each a distinct delivery id, a ~2.5 KB body) to `POST /hooks/github`, and GETs to
`/healthz` (a constant answer of the same app) as the baseline:

1. **throughput**: `--concurrency` requests in flight until `--deliveries` are sent, on each
   endpoint; prints requests/s and the ratio of the two;
2. **latency at the target rate**: an open loop sending `--rate` requests per second for
   `--deliveries` requests (new ones do not wait for old ones, as webhooks arrive), on each
   endpoint; prints p50/p95/p99.

The service's job worker (`--job-workers`, default 1) processes the deliveries meanwhile, as in
production: in the worker process `onebar serve` starts (the default), as threads of the serving
process (`--job-threads`, as before that process existed), or in a second `onebar serve` sharing
the store (`--worker-process`). Then the kill test: a second batch is received by a service running no worker, a
service with one worker (lease 3 s) is SIGKILLed once it has processed some and before it has
processed all, and a third one finishes: every delivery must end processed exactly once (status
processed, one attempt each, one pull request per delivery).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
KEY = "bench-secret-key-0123456789"


# ----- load generator (its own process: client and server never share an interpreter) -----


def payload(n: int) -> bytes:
    return json.dumps(
        {
            "action": "opened",
            "number": n,
            "repository": {"name": "shop", "full_name": "acme/shop"},
            "pull_request": {
                "number": n,
                "title": f"Change {n} for PAY-{n}",
                "body": "Closes #1\n" + "x" * 2000,
                "state": "open",
                "user": {"login": f"dev{n % 30}", "type": "User"},
                "created_at": "2024-05-01T10:00:00Z",
                "updated_at": "2024-05-01T10:00:00Z",
                "head": {"ref": "f", "sha": "a" * 40},
                "base": {"ref": "main", "sha": "b" * 40},
                "labels": [],
                "assignees": [],
            },
        }
    ).encode()


def _request(kind: str, secret: str, n: int, prefix: str) -> tuple[str, str, dict[str, str], bytes]:
    if kind == "trivial":
        return "GET", "/healthz", {}, b""
    body = payload(n)
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": f"{prefix}-{n}",
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    return "POST", "/hooks/github", headers, body


async def _load(
    url: str, kind: str, secret: str, count: int, concurrency: int, rate: float, start: int, prefix: str
) -> dict[str, Any]:
    """Closed loop (`rate` 0: `concurrency` in flight) or open loop (`rate` requests per second)."""
    requests = [_request(kind, secret, start + i, prefix) for i in range(count)]
    latencies: list[float] = []
    errors: list[str] = []
    # aiohttp, not httpx: httpx's async pool tops out near 120 requests/s here, so it measured itself.
    import aiohttp

    connector = aiohttp.TCPConnector(limit=max(concurrency, 128))
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url=url, connector=connector, timeout=timeout) as client:
        async with client.get("/healthz") as r:
            await r.read()

        async def one(i: int) -> None:
            method, path, headers, body = requests[i]
            t = time.perf_counter()
            try:
                async with client.request(method, path, headers=headers, data=body) as r:
                    text = await r.text()
                    status = r.status
            except (aiohttp.ClientError, TimeoutError) as exc:  # the server fell behind the open loop
                errors.append(f"{type(exc).__name__}")
                return
            latencies.append(time.perf_counter() - t)
            if status >= 300:
                errors.append(f"{status} {text[:200]}")

        started = time.perf_counter()
        if rate <= 0:
            todo = iter(range(count))

            async def worker() -> None:
                for i in todo:
                    await one(i)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        else:
            tasks = []
            for i in range(count):
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    latencies.sort()

    def q(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2)

    return {
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": q(0.5),
        "p95_ms": q(0.95),
        "p99_ms": q(0.99),
    }


def load(url: str, kind: str, secret: str, count: int, concurrency: int, rate: float, start: int, prefix: str) -> Any:
    args = [sys.executable, __file__, "_load", url, kind, secret, str(count), str(concurrency), str(rate),
            str(start), prefix]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the load generator failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


# ----- the service -----


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`onebar serve` in a child process."""

    def __init__(self, db: str, data: Path, job_workers: int, threads: bool = False, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {
            **os.environ, "PYTHONPATH": str(SRC), "ONEBAR_SECRET_KEY": KEY, "ONEBAR_LOG_LEVEL": "warning",
            "ONEBAR_JOB_WORKERS": str(job_workers), "ONEBAR_JOB_POLL": "0.2", "ONEBAR_FETCH_INTERVAL": "0",
            "ONEBAR_SWEEP_INTERVAL": "0", "ONEBAR_JOB_PROCESS": "false" if threads else "true", **env,
        }  # fmt: skip
        self.log = data.parent / f"serve-{self.port}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "onebar", "serve", "--port", str(self.port), "--db", db,
                 "--data-dir", str(data)],
                env=full, stdout=log, stderr=subprocess.STDOUT,
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
        self.proc.wait(60)

    def cpu(self) -> float:
        """CPU seconds the server process has used (user + system): a figure the machine's load barely moves."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def workers_cpu(self) -> float:
        """CPU seconds of the server's worker process (and any other child): the jobs' share."""
        total = 0.0
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for pid in children:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def line(label: str, r: dict[str, Any]) -> str:
    err = f", {r['errors']} errors ({r['first_error']})" if r["errors"] else ""
    return (
        f"{label:38s} {r['rps']:7.0f} req/s   p50 {r['p50_ms']:6.2f} ms   p95 {r['p95_ms']:6.2f} ms   "
        f"p99 {r['p99_ms']:6.2f} ms{err}"
    )


def pending_count(store: Any) -> int:
    from sqlalchemy import func, select

    from onebar.store.schema_codehost import deliveries

    with store.read() as conn:
        q = select(func.count()).select_from(deliveries).where(deliveries.c.status == "pending")
        return int(conn.execute(q).scalar_one())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rate", type=float, default=300.0)
    ap.add_argument("--job-workers", type=int, default=1)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument(
        "--worker-process", action="store_true",
        help="process deliveries in a second `onebar serve` process (the receiving one runs no worker)",
    )  # fmt: skip
    mode.add_argument("--job-threads", action="store_true", help="process deliveries in threads of the serving process")
    ap.add_argument("--kill-batch", type=int, default=1500)
    args = ap.parse_args()
    os.environ["ONEBAR_SECRET_KEY"] = KEY
    sys.path.insert(0, str(SRC))
    from sqlalchemy import func, select

    from onebar.codehost.hooks import add_hook
    from onebar.store import open_store
    from onebar.store.schema_codehost import deliveries, pull_requests
    from onebar.store.schema_service import jobs

    n = args.deliveries
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        data = Path(tmp) / "data"
        store = open_store(db)
        secret = add_hook(store, "github", "shop").secret

        server = Server(db, data, 0 if args.worker_process else args.job_workers, threads=args.job_threads)
        worker = Server(db, data, max(args.job_workers, 1)) if args.worker_process else None

        def jobs_cpu() -> float:
            return server.workers_cpu() + (worker.cpu() + worker.workers_cpu() if worker is not None else 0.0)

        try:
            load(server.url, "trivial", secret, 300, args.concurrency, 0, 0, "warm")
            load(server.url, "hook", secret, 300, args.concurrency, 0, 10_000_000, "warm")
            c0 = server.cpu()
            t_max = load(server.url, "trivial", secret, n, args.concurrency, 0, 0, "x")
            c1 = server.cpu()
            h_max = load(server.url, "hook", secret, n, args.concurrency, 0, 1, "max")
            c2 = server.cpu()
            t_max["cpu_ms"], h_max["cpu_ms"] = (c1 - c0) / n * 1000, (c2 - c1) / n * 1000
            t_rate = load(server.url, "trivial", secret, n, args.concurrency, args.rate, 0, "x")
            c3, w3 = server.cpu(), jobs_cpu()
            h_rate = load(server.url, "hook", secret, n, args.concurrency, args.rate, 1, "rate")
            h_rate["cpu_ms"] = (server.cpu() - c3) / n * 1000
            h_rate["worker_cpu_ms"] = (jobs_cpu() - w3) / n * 1000
            backlog = pending_count(store)  # processing kept up with the open loop if this stays small
        except BaseException:
            print(server.log.read_text()[-5000:], file=sys.stderr)
            raise
        finally:
            server.stop()
            if worker is not None:
                worker.stop()
        where = (
            f"a second `onebar serve` with {max(args.job_workers, 1)} job worker(s)" if args.worker_process
            else f"{args.job_workers} job worker thread(s) in the serving process" if args.job_threads
            else f"the server's worker process, {args.job_workers} job worker(s)"
        )  # fmt: skip
        print(f"onebar serve (SQLite; processing meanwhile: {where}); {n} requests per run", flush=True)
        print(f"throughput, {args.concurrency} in flight:")
        print(line("  GET /healthz (trivial)", t_max))
        print(line("  POST /hooks/github (verified, stored)", h_max))
        print(f"  deliveries / trivial throughput: {h_max['rps'] / t_max['rps']:.2f}")
        print(f"  server CPU per request: trivial {t_max['cpu_ms']:.2f} ms, delivery {h_max['cpu_ms']:.2f} ms "
              f"(with the worker's processing of what arrived meanwhile)")  # fmt: skip
        print(f"latency at {args.rate:.0f} requests/s (open loop):")
        print(line("  GET /healthz (trivial)", t_rate))
        print(line("  POST /hooks/github (verified, stored)", h_rate))
        print(f"  deliveries still pending when the open loop ended: {backlog} of {n}")
        print(f"  CPU per delivery at {args.rate:.0f}/s: serving process {h_rate['cpu_ms']:.2f} ms"
              + ("" if args.job_threads else f", worker process {h_rate['worker_cpu_ms']:.2f} ms"))  # fmt: skip
        met_p95 = h_rate["p95_ms"] < 20 and not h_rate["errors"]
        met_rate = h_max["rps"] >= 300 and h_rate["rps"] >= 0.97 * args.rate
        print(f"targets: p95 < 20 ms at {args.rate:.0f}/s: {'met' if met_p95 else 'NOT met'}; "
              f">= 300 deliveries/s: {'met' if met_rate else 'NOT met'}", flush=True)  # fmt: skip

        # The kill test: a batch stored, a worker killed mid-batch, another one finishing it.
        with store.read() as conn:
            before = conn.execute(select(func.count()).select_from(pull_requests)).scalar_one()
        receiving = Server(db, data, 0)
        try:
            batch = load(receiving.url, "hook", secret, args.kill_batch, args.concurrency, 0, 5_000_000, "kill")
        finally:
            receiving.stop()
        assert batch["errors"] == 0, batch

        def processed() -> int:
            with store.read() as conn:
                return int(conn.execute(select(func.count()).select_from(pull_requests)).scalar_one() - before)

        victim = Server(db, data, 1, threads=args.job_threads, ONEBAR_JOB_LEASE="3")
        deadline = time.monotonic() + 300
        while processed() < args.kill_batch // 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        victim.kill()
        at_kill = processed()
        survivor = Server(db, data, 1, threads=args.job_threads, ONEBAR_JOB_LEASE="3")
        try:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                with store.read() as conn:
                    pending = conn.execute(
                        select(func.count()).select_from(deliveries).where(deliveries.c.status == "pending")
                    ).scalar_one()
                    open_jobs = conn.execute(
                        select(func.count())
                        .select_from(jobs)
                        .where(jobs.c.kind == "deliveries", jobs.c.status.in_(["queued", "running"]))
                    ).scalar_one()
                if not pending and not open_jobs:
                    break
                time.sleep(0.2)
        finally:
            survivor.stop()
        with store.read() as conn:
            rows = conn.execute(
                select(deliveries.c.status, deliveries.c.attempts, func.count())
                .where(deliveries.c.delivery_id.like("kill-%"))
                .group_by(deliveries.c.status, deliveries.c.attempts)
            ).all()
            kill_prs = conn.execute(
                select(func.count())
                .select_from(pull_requests)
                .where(pull_requests.c.number.between(5_000_000, 5_999_999))
            ).scalar_one()
        store.close()
        ok = [tuple(r) for r in rows] == [("processed", 1, args.kill_batch)] and kill_prs == args.kill_batch
        print(
            f"kill test: {args.kill_batch} deliveries stored; the worker was SIGKILLed after {at_kill} were "
            f"processed; after the next service: { {(s, a): c for s, a, c in rows} } (status, attempts) -> "
            f"count, {kill_prs} pull requests: {'nothing lost or doubled' if ok else 'LOST OR DOUBLED'}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        url, kind, secret, count, conc, rate, start, prefix = sys.argv[2:10]
        out = asyncio.run(_load(url, kind, secret, int(count), int(conc), float(rate), int(start), prefix))
        print(json.dumps(out))
    else:
        main()
