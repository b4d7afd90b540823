"""Benchmark: backfill of 10,000 pull requests with 30,000 reviews from a loopback GitHub, then a rerun.

    .venv/bin/python bench/bench_import.py [--pulls 10000] [--reviews 3] [--workers 4]

The loopback host (tests/fakehost.py) runs in its own process, serving pages of 100 with Link
headers and ETags. The import reads every pull request with its reviews and commits (two requests
per pull request) into a fresh SQLite store. The rerun must make only conditional requests, all
answered 304. Prints the seconds, requests per second and the rerun's request count.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakehost import FakeHost, HostData, gh_commit, gh_pull, gh_review, github_repo
from onebar.codehost.backfill import import_repository
from onebar.codehost.github import GitHubAPI
from onebar.store import open_store

T0 = 1_600_000_000
H = 3600


def serve(pulls: int, reviews: int, port_out: multiprocessing.connection.Connection) -> None:
    data = HostData()
    prs = [
        gh_pull(n, f"dev{n % 40}", created=T0 + n * 600, merged=T0 + n * 600 + 5 * H, body=f"Closes #{n + 100000}")
        for n in range(1, pulls + 1)
    ]
    revs = {
        n: [
            gh_review(
                n * 10 + k,
                f"dev{(n + k + 1) % 40}",
                "approved" if k == reviews - 1 else "commented",
                T0 + n * 600 + (k + 1) * H,
            )
            for k in range(reviews)
        ]
        for n in range(1, pulls + 1)
    }
    commits = {n: [gh_commit(f"{n:040x}", T0 + n * 600 - H)] for n in range(1, pulls + 1)}
    github_repo(data, "bench/shop", prs, revs, commits)
    with FakeHost(data) as host:
        port_out.send(host.url)
        port_out.recv()  # until told to stop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pulls", type=int, default=10_000)
    ap.add_argument("--reviews", type=int, default=3)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(args.pulls, args.reviews, child), daemon=True)
    server.start()
    url = parent.recv()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite:///{tmp}/bench.db")
            with GitHubAPI.connect("test-token", url) as api:
                t = time.perf_counter()
                first = import_repository(store, api, "bench/shop", workers=args.workers)
                took = time.perf_counter() - t
            with GitHubAPI.connect("test-token", url) as api:
                t = time.perf_counter()
                again = import_repository(store, api, "bench/shop", workers=args.workers)
                rerun = time.perf_counter() - t
            store.close()
    finally:
        parent.send("stop")
        server.join(timeout=5)
    print(
        f"backfill: {first.pulls} pull requests, {first.reviews} reviews, {first.requests} requests "
        f"in {took:.1f} s ({first.requests / took:.0f} requests/s); target under 60 s: "
        f"{'met' if took < 60 else 'NOT met'}"
    )
    print(
        f"rerun: {again.requests} requests, {again.not_modified} answered 304, {again.pulls} pull requests "
        f"read, {rerun:.2f} s; only 304s: {'yes' if again.requests == again.not_modified else 'NO'}"
    )


if __name__ == "__main__":
    main()
