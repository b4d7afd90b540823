"""Regenerate docs/screenshots/: the dashboard's main pages on the demo, in headless Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--commits 3000]

Builds the demo history in a temporary folder, registers it with a fresh SQLite store, adds a few
grants and gate runs, starts `onebar serve` on a free loopback port, signs in as each role through
the sign-in form and saves one PNG per page. Nothing leaves 127.0.0.1; everything is removed after.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTH, MAX_HEIGHT = 1280, 2200

# (file, role, path): what each screenshot shows, and as whom.
SHOTS = [
    ("signin", None, "/signin"),
    ("portfolio", "admin", "/"),
    ("organisation", "lead_vistula", "/orgs/vistula"),
    ("repository", "lead_vistula", "/repos/demo"),
    ("component", "admin", "/repos/demo/components/importer"),
    ("person", "member", "/repos/demo/people/piotr"),
    ("onboarding", "member", "/repos/demo/people/piotr/onboarding"),
    ("gate-runs", "lead_vistula", "/gate-runs"),
    ("access", "lead_acme", "/access"),
    ("jobs", "admin", "/jobs"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(store_url: str, data: Path, commits: int) -> dict[str, str]:
    """The demo repository, ingested and reported, with tokens, grants and gate runs; the tokens by name."""
    from onebar.access import Scope, approve_grant, request_grant
    from onebar.access.jobs import charter_of
    from onebar.audit import Actor
    from onebar.auth.tokens import create_token
    from onebar.demo import build_demo
    from onebar.repos import materialised
    from onebar.repos.registry import add_repo, get_repo, open_repo_workspace
    from onebar.server.demo import prepare_demo
    from onebar.store import open_store

    store = open_store(store_url)
    prepare_demo(store, data, commits=commits, seed=0)
    second = data / "mobile-repo"  # a second repository, so the portfolio has something to add up
    build_demo(second, commits // 2, 1, force=True)
    add_repo(store, str(second), name="mobile", data_dir=data)
    with open_repo_workspace(store, get_repo(store, "mobile"), data) as ws:
        materialised.refresh(store, ws, get_repo(store, "mobile"))
    charter = charter_of(get_repo(store, "demo"))  # the charter grants are decided with, as the API reads it
    assert charter is not None
    today = datetime.now(UTC).date()

    def token(role: str, **scope: str) -> str:
        return create_token(store, role, expires=1, note="screenshots", **scope).token  # type: ignore[arg-type]

    tokens = {
        "admin": token("admin"),
        "lead_vistula": token("lead", org="vistula", person="lukasz"),
        "lead_acme": token("lead", org="acme", person="maria"),
        "member": token("member", org="vistula", person="piotr"),
        "ci": token("ci", repo="demo"),
    }
    lukasz, maria = Actor(person="lukasz", org="vistula", via="web"), Actor(person="maria", org="acme", via="web")
    asks = [  # person, component, level, days, reason, who asks, approved
        ("piotr", "billing", "write", 60, "invoice rework (milestone M2)", lukasz, True),
        ("agnieszka", "api", "write", 10, "API pagination", lukasz, True),
        ("piotr", "core", "read", 30, "to review the pricing change", lukasz, False),
        ("alex", "web", "admin", 120, "release manager for the web shop", maria, False),
        ("priya", "search", "write", 90, "search relevance work", maria, True),
    ]
    for person, comp, level, days, reason, actor, approve in asks:
        until, ends = today + timedelta(days=days), charter.people[person].contract_end
        until = min(until, ends) if ends else until
        g = request_grant(
            store,
            charter,
            "demo",
            person=person,
            scope=Scope("component", comp),
            until=until,
            level=level,
            reason=reason,
            actor=actor,
            today=today,
        )
        if approve:
            approve_grant(store, charter, g.id, actor=maria, today=today)
    store.close()
    return tokens


def post_gate_runs(base: str, ci: str) -> None:
    """A few verdicts from CI, of several organisations, through the API as CI posts them."""
    runs = [
        ("piotr", "vistula", "fail", ["tests.with_code"]),
        ("maria", "acme", "pass", []),
        ("joao", "pampa", "fail", ["reviews.cross_org", "size"]),
        ("agnieszka", "vistula", "pass", []),
        ("tom", "acme", "pass", []),
        ("camila", "pampa", "fail", ["coverage.changed_lines"]),
    ]
    for i, (person, org, status, failed) in enumerate(runs):
        rules = [{"id": r, "status": "fail"} for r in failed] + [{"id": "secrets", "status": "pass"}]
        body = {
            "status": status,
            "base": f"{i:040x}",
            "head": f"{i + 100:040x}",
            "author": {"person": person, "org": org},
            "rules": rules,
        }
        r = httpx.post(f"{base}/api/v1/repos/demo/gate-runs", json=body, headers={"Authorization": f"Bearer {ci}"})
        r.raise_for_status()


def queue_jobs(base: str, admin: str) -> None:
    """A few jobs for the Jobs page: a refresh of each repository and an expiry sweep, run by the worker."""
    auth = {"Authorization": f"Bearer {admin}"}
    for body in ({"kind": "refresh", "repo": "demo"}, {"kind": "refresh", "repo": "mobile"}, {"kind": "sweep"}):
        httpx.post(f"{base}/api/v1/jobs", json=body, headers=auth).raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = httpx.get(f"{base}/api/v1/jobs", headers=auth).json()
        if all(j["status"] in ("done", "failed") for j in jobs):
            return
        time.sleep(0.5)


def serve(store_url: str, data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "onebar",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        store_url,
        "--data-dir",
        str(data),
        "--job-workers",
        "1",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, "ONEBAR_FETCH_INTERVAL": "0", "ONEBAR_SWEEP_INTERVAL": "0"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("onebar serve did not start")


def shoot(base: str, tokens: dict[str, str], out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        contexts = {}
        for name, role, path in SHOTS:
            if role not in contexts:
                ctx = browser.new_context(viewport={"width": WIDTH, "height": 900})
                if role is not None:
                    page = ctx.new_page()
                    page.goto(f"{base}/signin")
                    page.fill("#token", tokens[role])
                    page.click("button[type=submit]")
                    page.wait_for_url(f"{base}/")
                    page.close()
                contexts[role] = ctx
            page = contexts[role].new_page()
            page.goto(base + path)
            height = min(MAX_HEIGHT, page.evaluate("document.documentElement.scrollHeight"))
            page.set_viewport_size({"width": WIDTH, "height": height})
            page.screenshot(path=str(out / f"{name}.png"))
            page.close()
            print(f"{name}.png  {path}  ({role or 'anonymous'})")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--commits", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onebar-shots-") as tmp:
        data = Path(tmp) / "data"
        store_url = f"sqlite:///{Path(tmp) / 'onebar.db'}"
        tokens = prepare(store_url, data, args.commits)
        proc, base = serve(store_url, data)
        try:
            post_gate_runs(base, tokens["ci"])
            queue_jobs(base, tokens["admin"])
            shoot(base, tokens, args.out)
        finally:
            proc.terminate()
            proc.wait(15)


if __name__ == "__main__":
    main()
