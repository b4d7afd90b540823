"""Benchmark: receiving verified GitHub deliveries, against a trivial endpoint of the same app, then a killed worker.

    .venv/bin/python bench/bench_webhooks.py [--deliveries 3000] [--clients 8]

The app runs in its own process on 127.0.0.1 with a SQLite store: `POST /hooks/github` verifies and
stores each delivery through `onebar.codehost.hooks.Receiver`; `GET /trivial` answers a constant
JSON. (Until the service's FastAPI app is on main, the app is the standard library's threading HTTP
server; the comparison holds because both endpoints share it.) Each client thread sends signed
`pull_request` deliveries with distinct delivery ids. Prints p50/p95 latency and throughput of each
endpoint and their ratio.

Then the deliveries are processed by a worker process that is killed with SIGKILL mid-batch, and
by a second worker: every delivery must end processed exactly once (one pull request each).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

KEY = "bench-secret-key-0123456789"


def serve(db: str, conn: Any) -> None:
    os.environ["ONEBAR_SECRET_KEY"] = KEY
    from onebar.codehost.hooks import Receiver
    from onebar.errors import OnebarError
    from onebar.store import open_store

    store = open_store(db)
    receiver = Receiver(store)

    class App(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, obj: Any, ctype: str = "application/json") -> None:
            raw = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._send(200, {"ok": True})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                r = receiver.receive("github", dict(self.headers.items()), body)
                self._send(r.http_status, r.to_dict())
            except OnebarError as exc:
                self._send(exc.http_status, exc.to_dict(), "application/problem+json")

    server = ThreadingHTTPServer(("127.0.0.1", 0), App)
    server.daemon_threads = True
    conn.send(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.recv()
    server.shutdown()


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


def load(url: str, count: int, clients: int, make: Any) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    per = count // clients

    def run(k: int) -> None:
        mine = []
        with httpx.Client(timeout=30) as c:
            for i in range(per):
                method, path, headers, body = make(k * per + i + 1)
                t = time.perf_counter()
                r = c.request(method, url + path, headers=headers, content=body)
                mine.append(time.perf_counter() - t)
                if r.status_code >= 300:
                    raise SystemExit(f"{path} answered {r.status_code}: {r.text}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, time.perf_counter() - t


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    os.environ["ONEBAR_SECRET_KEY"] = KEY
    from sqlalchemy import func, select

    from onebar.codehost.hooks import add_hook, github_signature
    from onebar.store import open_store
    from onebar.store.schema_codehost import deliveries, pull_requests

    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        store = open_store(db)
        hook = add_hook(store, "github", "shop")
        parent, child = multiprocessing.Pipe()
        app = multiprocessing.Process(target=serve, args=(db, child), daemon=True)
        app.start()
        url = f"http://127.0.0.1:{parent.recv()}"
        bodies = {n: payload(n) for n in range(1, args.deliveries + 1)}

        def delivery(n: int) -> tuple[str, str, dict[str, str], bytes]:
            body = bodies[n]
            headers = {
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": f"bench-{n}",
                "X-Hub-Signature-256": github_signature(hook.secret, body),
            }
            return "POST", "/hooks/github", headers, body

        try:
            load(url, 200, args.clients, lambda n: ("GET", "/trivial", {}, b""))  # warm up
            trivial, t_trivial = load(url, args.deliveries, args.clients, lambda n: ("GET", "/trivial", {}, b""))
            hooks_lat, t_hooks = load(url, args.deliveries, args.clients, delivery)
        finally:
            parent.send("stop")
            app.join(timeout=5)
        rate_t, rate_h = len(trivial) / t_trivial, len(hooks_lat) / t_hooks
        print(f"trivial GET:      p50 {p(trivial, 50):6.2f} ms  p95 {p(trivial, 95):6.2f} ms  {rate_t:7.0f} req/s")
        print(f"POST /hooks/github p50 {p(hooks_lat, 50):6.2f} ms  p95 {p(hooks_lat, 95):6.2f} ms  {rate_h:7.0f} req/s")
        print(
            f"deliveries/trivial throughput ratio: {rate_h / rate_t:.2f}; targets p95 < 20 ms: "
            f"{'met' if p(hooks_lat, 95) < 20 else 'NOT met'}, >= 300/s: {'met' if rate_h >= 300 else 'NOT met'}"
        )

        # A worker killed mid-batch, then a second one: nothing lost, nothing doubled.
        code = (
            f"import os,sys; os.environ['ONEBAR_SECRET_KEY']={KEY!r}\n"
            "from onebar.store import open_store\nfrom onebar.codehost.events import process_pending\n"
            "print(process_pending(open_store(sys.argv[1])).processed)"
        )
        worker = subprocess.Popen([sys.executable, "-c", code, db], stdout=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:  # kill it once it is mid-batch: some processed, not all
            with store.read() as conn:
                done = conn.execute(select(func.count()).select_from(pull_requests)).scalar() or 0
            if done > 0:
                break
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        with store.read() as conn:
            half = conn.execute(select(func.count()).select_from(pull_requests)).scalar()
        second = subprocess.run([sys.executable, "-c", code, db], capture_output=True, text=True, check=True)
        with store.read() as conn:
            prs = conn.execute(select(func.count()).select_from(pull_requests)).scalar()
            pending = conn.execute(
                select(func.count()).select_from(deliveries).where(deliveries.c.status != "processed")
            ).scalar()
        store.close()
        ok = prs == args.deliveries and pending == 0 and int(second.stdout.strip()) == args.deliveries - half
        print(
            f"worker killed after {half} of {args.deliveries}; the next processed {second.stdout.strip()}; "
            f"pull requests stored: {prs}, not processed: {pending}: {'nothing lost or doubled' if ok else 'LOST'}"
        )


if __name__ == "__main__":
    main()
