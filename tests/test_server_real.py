"""The real server: `onebar serve` in a child process on a loopback port, against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import jsonschema
import pytest

from onebar.store import open_store
from service_helpers import VISTULA_NAMES, make_tokens, register, running_server, two_org_repo

SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "report.schema.json").read_text())

pytestmark = pytest.mark.slow


def test_the_real_server_serves_reports_by_role(tmp_path: Path, store_url: str) -> None:
    repo = two_org_repo(tmp_path / "shop")
    data = tmp_path / "data"
    store = open_store(store_url)
    register(store, repo.path, data)
    tokens = make_tokens(store)
    store.close()
    with running_server(store_url, data, env={"ONEBAR_FETCH_INTERVAL": "0"}) as url:
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
        assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
        anon = httpx.get(f"{url}/api/v1/repos")
        assert anon.status_code == 401
        assert anon.headers["content-type"] == "application/problem+json"
        assert anon.headers["x-request-id"]

        def get(path: str, token: str, headers: dict[str, str] | None = None) -> httpx.Response:
            return httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}", **(headers or {})})

        assert [r["name"] for r in get("/api/v1/repos", tokens.admin).json()] == ["shop"]
        full = get("/api/v1/repos/shop/report", tokens.admin)
        assert full.status_code == 200
        jsonschema.validate(full.json(), SCHEMA)
        assert "Bob Vistula" in full.text
        lead = get("/api/v1/repos/shop/report", tokens.lead_acme)
        assert lead.status_code == 200
        jsonschema.validate(lead.json(), SCHEMA)
        assert not any(n in lead.text for n in VISTULA_NAMES)
        assert "Alice Acme" in lead.text
        assert set(lead.json()["dora"]["by_org"]) == set(full.json()["dora"]["by_org"])  # aggregates stay
        again = get("/api/v1/repos/shop/report", tokens.admin, headers={"If-None-Match": full.headers["etag"]})
        assert again.status_code == 304
        assert get("/api/v1/repos/shop/report", tokens.ci).status_code == 403
        bad = get("/api/v1/repos/shop/report?since=yesterday-ish", tokens.admin)
        assert bad.status_code == 400
        assert bad.json()["field"] == "since"
        window = get("/api/v1/repos/shop/report?since=all", tokens.admin)
        assert window.status_code == 200
        assert window.json()["window"]["since"] == "2023-11-14T23:13:20Z"  # the first commit, not 90 days back

        posted = httpx.post(
            f"{url}/api/v1/repos/shop/deployments",
            headers={"Authorization": f"Bearer {tokens.ci}"},
            json={"ref": "v1.0.0", "external_id": "deploy-1"},
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["sha"] == repo.git("rev-parse", "v1.0.0^{commit}")
        listed = get("/api/v1/repos/shop/deployments", tokens.auditor).json()
        assert [d["external_id"] for d in listed] == ["deploy-1"]
        metrics = get("/metrics", tokens.auditor)
        assert metrics.status_code == 200
        assert 'onebar_dora_deployments{org="all",repo="shop"}' in metrics.text
        assert httpx.get(f"{url}/metrics").status_code == 401
        assert "/api/v1/repos/{name}/report" in httpx.get(f"{url}/openapi.json").json()["paths"]


def test_serve_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    import subprocess
    import sys

    from service_helpers import free_port

    port = free_port()
    db = f"sqlite:///{tmp_path / 's.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "onebar", "serve", "--port", str(port), "--db", db, "--data-dir", str(tmp_path / "d")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        import time

        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down (lifespan: the job workers stop, the store closes), then re-raises the signal.
        assert proc.wait(30) in (0, -signal.SIGTERM)
        err = proc.stderr.read().decode() if proc.stderr else ""
        assert "Application shutdown complete" in err
    finally:
        if proc.poll() is None:
            proc.kill()
