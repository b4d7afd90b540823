"""deploy/ stays true: the Grafana dashboard reads metrics the service exposes, the example config loads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onebar.auth.tokens import create_token
from onebar.server.app import create_app
from onebar.server.settings import ServiceSettings, load_settings
from onebar.store import open_store
from service_helpers import register, two_org_repo

DEPLOY = Path(__file__).parents[1] / "deploy"
DOCS = (Path(__file__).parents[1] / "docs" / "service.md").read_text()


def test_the_dashboard_and_the_docs_name_only_metrics_the_service_exposes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(db)
    register(store, two_org_repo(tmp_path / "shop").path, tmp_path / "data")
    token = create_token(store, "auditor").token
    store.close()
    with TestClient(create_app(ServiceSettings(database_url=db, data_dir=tmp_path / "data", job_workers=0))) as c:
        c.get("/healthz")
        c.post("/hooks/github", content=b"{}")  # the code-host receiver makes its counter on first use
        c.post("/api/v1/jobs", json={"kind": "sweep"}, headers={"Authorization": f"Bearer {token}"})
        exposed = c.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    families = {
        m.group(1) for m in re.finditer(r"^# TYPE (\w+) ", exposed, re.M) if not m.group(1).endswith("_created")
    }
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    used = {name for p in dashboard["panels"] for t in p["targets"] for name in re.findall(r"onebar_\w+", t["expr"])}
    used = {re.sub(r"_(bucket|count|sum)$", "", n) for n in used}
    assert used, "the dashboard queries onebar's metrics"
    assert used <= families, f"not exposed: {used - families}"
    documented = set(re.findall(r"^\| `(onebar_\w+)` \|", DOCS, re.M))  # the metrics table
    assert documented == families, documented ^ families


def test_the_example_config_file_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONEBAR_DATABASE_URL")  # the environment would win over the file
    monkeypatch.setenv("ONEBAR_CONFIG", str(DEPLOY / "onebar.service.toml"))
    s = load_settings()
    assert (s.port, s.workers, s.store_url.startswith("postgresql+psycopg://")) == (8080, 2, True)
