"""The HTML report in real headless Chromium: charts render, nothing is fetched, nothing errs."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import GitRepo, run_cli
from test_report_build import CHARTER, iso_day, story

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


def test_html_report_renders_offline_without_errors(repo: GitRepo, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    repo.write({"onebar.toml": CHARTER})
    story(repo)
    out = tmp_path / "report.html"
    db = f"sqlite:///{tmp_path / 'r.db'}"
    result = run_cli(
        "report",
        str(repo.path),
        "--db",
        db,
        "--since",
        "all",
        "--until",
        iso_day(20),
        "--format",
        "html",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})  # a laptop screen
            page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(out.as_uri())
            page.wait_for_load_state("load")
            charts = page.locator("svg.chart")
            assert charts.count() >= 5  # three DORA trends, review flows, knowledge map
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None
                assert box["width"] > 100
                assert box["height"] > 50
            assert page.locator("svg.chart polyline").count() >= 3  # trend lines were drawn
            assert page.locator("#review svg path").count() >= 1  # a review flow
            assert page.locator("#knowledge svg rect").count() >= 2  # knowledge map cells
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert "agency" in page.inner_text("#dora")
        finally:
            browser.close()
    assert errors == []
    assert requests == [out.as_uri()]
