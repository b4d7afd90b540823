"""The report answered from memory (`KeptReports`): the same answers as the route, refusals left to the route."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from onebar.auth.tokens import create_token, revoke_token
from onebar.server.app import create_app
from onebar.server.routers.reports import KeptReports
from onebar.server.settings import ServiceSettings
from onebar.store import open_store
from onebar.store.schema_service import api_tokens
from service_helpers import VISTULA_NAMES, make_tokens, register, running_server, two_org_repo

REPORT = "/api/v1/repos/shop/report"
PROBLEM = "application/problem+json"


def _same(a: httpx.Response, b: httpx.Response) -> None:
    """Two answers alike but for their request ids."""
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert {k: v for k, v in a.headers.items() if k != "x-request-id"} == {
        k: v for k, v in b.headers.items() if k != "x-request-id"
    }
    assert a.headers["x-request-id"] != b.headers["x-request-id"]


@pytest.mark.slow
def test_the_real_server_answers_a_warm_report_like_the_route_and_refuses_like_it(
    tmp_path: Path, store_url: str
) -> None:
    data = tmp_path / "data"
    store = open_store(store_url)
    register(store, two_org_repo(tmp_path / "shop").path, data)
    tokens = make_tokens(store)
    expired = create_token(store, "admin", expires=1, now=int(time.time()) - 2 * 86400).token
    store.close()
    with running_server(store_url, data, env={"ONEBAR_FETCH_INTERVAL": "0"}) as url:

        def get(path: str, token: str | None, **headers: str) -> httpx.Response:
            auth = {"Authorization": f"Bearer {token}"} if token else {}
            return httpx.get(f"{url}{path}", headers={**auth, **headers})

        made = get(REPORT, tokens.admin)  # made by the route
        kept = get(REPORT, tokens.admin)  # from memory
        _same(made, kept)
        assert made.status_code == 200 and made.headers["content-type"] == "application/json"
        assert made.headers["vary"] == "Authorization, Cookie" and made.headers["etag"].startswith('"')
        assert "Bob Vistula" in kept.text
        lead_made, lead_kept = get(REPORT, tokens.lead_acme), get(REPORT, tokens.lead_acme)
        _same(lead_made, lead_kept)
        assert not any(n in lead_kept.text for n in VISTULA_NAMES) and "Alice Acme" in lead_kept.text
        assert lead_kept.headers["etag"] != kept.headers["etag"]
        unchanged = get(REPORT, tokens.admin, **{"If-None-Match": kept.headers["etag"]})
        assert (unchanged.status_code, unchanged.content) == (304, b"")
        assert unchanged.headers["etag"] == kept.headers["etag"] and unchanged.headers["x-request-id"]
        assert get(REPORT, tokens.admin, **{"If-None-Match": lead_kept.headers["etag"]}).status_code == 200

        # Warm views change nothing for a caller who may not see them.
        for token, status, detail in [
            (None, 401, "authentication required"),
            ("onebar_nope", 401, "unknown token"),
            (expired, 401, "has expired"),
            (tokens.ci, 403, "may not call"),
        ]:
            refused = get(REPORT, token)
            assert (refused.status_code, refused.headers["content-type"]) == (status, PROBLEM), refused.text
            assert detail in refused.json()["detail"] and refused.headers["x-request-id"]
        bad = get(f"{REPORT}?tiers=abc", tokens.admin)
        assert (bad.status_code, bad.json()["field"]) == (422, "tiers")
        assert get("/api/v1/repos/nope/report", tokens.admin).status_code == 404
        assert get("/api/v1/repos/shop/x/report", tokens.admin).status_code == 404

        # A token revoked elsewhere (`onebar token revoke`) is refused on the very next request.
        other = open_store(store_url)
        with other.read() as conn:
            admin_id = next(r.id for r in conn.execute(api_tokens.select()) if r.role == "admin")
        revoke_token(other, admin_id)
        other.close()
        revoked = get(REPORT, tokens.admin)
        assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]

        # The latency histogram counts the answers from memory under the route's template.
        metrics = get("/metrics", tokens.auditor).text
        counted = re.search(
            r'onebar_http_request_duration_seconds_count\{method="GET",route="/api/v1/repos/\{name\}/report",'
            r'status="200"\} (\d+)',
            metrics,
        )
        assert counted is not None and int(counted.group(1)) == 5  # made, kept, lead twice, the other tag
        assert {"since", "until", "tiers", "org"} <= {
            p["name"]
            for p in httpx.get(f"{url}/openapi.json").json()["paths"]["/api/v1/repos/{name}/report"]["get"][
                "parameters"
            ]
        }


def test_only_a_warm_authorised_default_report_is_answered_before_the_route(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(db)
    register(store, two_org_repo(tmp_path / "shop").path, tmp_path / "data")
    tokens = make_tokens(store)
    store.close()
    app = create_app(ServiceSettings(database_url=db, data_dir=tmp_path / "data", job_workers=0))
    with TestClient(app) as client:
        passed: list[str] = []

        async def route(scope: dict[str, Any], receive: Any, send: Any) -> None:
            passed.append(scope["path"] + "?" + scope["query_string"].decode())

        kept = KeptReports(route, app.state.service)

        def call(
            path: str, token: str | None = None, query: str = "", method: str = "GET", **headers: str
        ) -> tuple[int, bytes]:
            sent: list[dict[str, Any]] = []

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b""}

            raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            if token:
                raw.append((b"authorization", f"Bearer {token}".encode()))
            scope = {"type": "http", "method": method, "path": path, "root_path": "",
                     "query_string": query.encode(), "headers": raw, "app": app, "state": {}}  # fmt: skip
            asyncio.run(kept(scope, receive, send))
            if not sent:
                return 0, b""
            return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

        assert call(REPORT, tokens.admin) == (0, b"")  # not made yet: the route makes it
        made = client.get(REPORT, headers={"Authorization": f"Bearer {tokens.admin}"})
        status, body = call(REPORT, tokens.admin)
        assert (status, body) == (200, made.content)
        assert call(REPORT, tokens.admin, **{"If-None-Match": made.headers["etag"]}) == (304, b"")
        assert len(passed) == 1
        for args, query in [
            ((REPORT, None), ""),  # no credential: the route refuses it
            ((REPORT, "onebar_nope"), ""),
            ((REPORT, tokens.ci), ""),  # the matrix denies it
            ((REPORT, tokens.lead_acme), ""),  # a view not made yet for this scope
            ((REPORT, tokens.admin), "org=vistula"),
            ((REPORT, tokens.admin), "tiers=abc"),
            (("/api/v1/repos/nope/report", tokens.admin), ""),
            (("/api/v1/repos/a/b/report", tokens.admin), ""),
            (("/api/v1/repos/shop/people", tokens.admin), ""),
        ]:
            assert call(*args, query=query) == (0, b""), (args, query)
        assert call(REPORT, tokens.admin, method="HEAD") == (0, b"")
        assert call(REPORT, None, cookie="onebar_session=x") == (0, b"")  # sessions are checked in a thread
        assert len(passed) == 12
