"""The service's commands on the store directly (`repo`, `jobs`), and `onebar serve --demo`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from helpers import run_cli
from service_helpers import free_port, two_org_repo


def test_repo_add_list_sync_now_and_jobs(tmp_path: Path) -> None:
    repo = two_org_repo(tmp_path / "shop")
    db = f"sqlite:///{tmp_path / 's.db'}"
    data = str(tmp_path / "data")
    added = run_cli("repo", "add", str(repo.path), "--db", db, "--data-dir", data, "--format", "json")
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["name"] == "shop"
    listed = json.loads(run_cli("repo", "list", "--db", db, "--format", "json").stdout)
    assert [(r["name"], r["ingested"]) for r in listed] == [("shop", None)]
    synced = run_cli("repo", "sync", "shop", "--now", "--db", db, "--data-dir", data)
    assert synced.exit_code == 0, synced.stderr
    assert '"commits_total": 25' in synced.stdout  # the add's queued sync ran first, then this one
    jobs = json.loads(run_cli("jobs", "--db", db, "--format", "json").stdout)
    assert jobs["counts"]["done"] == 2 and jobs["counts"]["queued"] == 0
    assert json.loads(run_cli("repo", "list", "--db", db, "--format", "json").stdout)[0]["ingested"] is not None
    missing = run_cli("repo", "sync", "nope", "--db", db)
    assert missing.exit_code == 2


@pytest.mark.slow
def test_serve_demo_prints_a_token_per_role_and_serves_them(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "ONEBAR_DATA_DIR": str(tmp_path / "data"), "ONEBAR_FETCH_INTERVAL": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "onebar", "serve", "--demo", "--port", str(port), "--db", str(tmp_path / "s.db")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        lines: list[str] = []
        assert proc.stdout is not None
        while not any(line.startswith("Or sign in") for line in lines):
            line = proc.stdout.readline()
            assert line, "onebar serve --demo exited early"
            lines.append(line)
        tokens = {
            m.group(1).strip(): m.group(2) for m in (re.match(r"\s+(.+?)\s+(onebar_\S+)$", x) for x in lines) if m
        }
        assert {k.split()[0] for k in tokens} == {"admin", "auditor", "lead", "member", "ci"}
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        statuses = {
            who: httpx.get(f"{url}/api/v1/repos/demo/report", headers={"Authorization": f"Bearer {tok}"}).status_code
            for who, tok in tokens.items()
        }
        assert sorted(statuses.values()) == [200, 200, 200, 200, 403]
    finally:
        proc.terminate()
        proc.wait(30)


def test_worker_check_and_the_job_settings_name_their_flags(tmp_path: Path) -> None:
    db, data = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "data"
    ok = run_cli("worker", "--check", "--db", db, "--data-dir", str(data), "--threads", "3")
    assert ok.exit_code == 0, ok.stderr
    assert f"ok: would run 3 job worker(s), data in {data}" in ok.stdout
    assert data.is_dir()
    bad = run_cli("worker", "--check", "--db", db, "--threads", "-3")
    assert bad.exit_code == 2
    assert "error: --threads: Input should be greater than or equal to 0 (got -3)" in bad.stderr
    garbage = run_cli("serve", "--check", "--db", db, env={"ONEBAR_JOB_PROCESS": "maybe"})
    assert garbage.exit_code == 2
    assert "--job-process" in garbage.stderr and "'maybe'" in garbage.stderr
