"""The access page in real headless Chromium against a real `onebar serve`: sign in, approve, see it approved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from onebar.store import open_store
from service_helpers import make_tokens, register, running_server, two_org_repo

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


def test_a_lead_approves_a_request_from_the_access_page(tmp_path: Path, store_url: str) -> None:
    from playwright.sync_api import sync_playwright

    repo = two_org_repo(tmp_path / "shop")
    data = tmp_path / "data"
    store = open_store(store_url)
    register(store, repo.path, data)
    tokens = make_tokens(store)
    store.close()
    until = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()
    with running_server(store_url, data, "--workers", "1") as url:
        asked = httpx.post(
            f"{url}/api/v1/repos/shop/grants",
            json={"person": "dave", "scope": "component", "target": "core", "until": until},
            headers={"Authorization": f"Bearer {tokens.member_vistula}"},
        )
        assert asked.status_code == 201, asked.text
        gid = asked.json()["id"]
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            )
            try:
                page = browser.new_page()
                page.goto(f"{url}/signin")
                page.fill("#token", tokens.lead_acme)
                page.click("button[type=submit]")
                page.goto(f"{url}/access/shop")
                row = page.locator("tr", has_text=f"#{gid}")
                assert "pending" in row.inner_text()
                page.get_by_role("button", name=f"approve grant {gid}").click()  # keyboard-reachable, labelled
                page.wait_for_url(f"{url}/access/shop")
                assert "approved" in page.locator("tr", has_text=f"#{gid}").inner_text()
                page.goto(f"{url}/onboard/shop/carol")
                assert "Welcome, Carol Acme" in page.inner_text("h1")
            finally:
                browser.close()
        log = httpx.get(
            f"{url}/api/v1/audit?action=access.grant", headers={"Authorization": f"Bearer {tokens.auditor}"}
        )
        assert [(e["action"], e["actor"]["person"], e["actor"]["via"]) for e in log.json()][-1] == (
            "access.grant.approve", "alice", "web",
        )  # fmt: skip
