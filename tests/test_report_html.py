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
            # No label is cut: every text of a chart lies inside its chart's viewBox.
            cut = page.evaluate(
                """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
                    const vb = svg.viewBox.baseVal;
                    return [...svg.querySelectorAll('text')].filter(t => {
                        const b = t.getBBox(), m = t.getCTM(), s = svg.getCTM().inverse();
                        const p = (x, y) => new DOMPoint(x, y).matrixTransform(m).matrixTransform(s);
                        const corners = [p(b.x, b.y), p(b.x + b.width, b.y + b.height),
                                         p(b.x, b.y + b.height), p(b.x + b.width, b.y)];
                        return corners.some(c => c.x < vb.x - 0.5 || c.y < vb.y - 0.5 ||
                                                 c.x > vb.x + vb.width + 0.5 || c.y > vb.y + vb.height + 0.5);
                    }).map(t => t.textContent);
                })"""
            )
            assert cut == []
            # The flow diagram and the heat map take the page's width.
            main_width = page.evaluate("document.querySelector('main').clientWidth")
            for chart in ("#review svg.chart.wide", "#knowledge svg.chart.wide"):
                box = page.locator(chart).bounding_box()
                assert box is not None and box["width"] >= 0.9 * (main_width - 48)
        finally:
            browser.close()
    assert errors == []
    assert requests == [out.as_uri()]


def test_charts_keep_one_colour_per_organisation_and_coinciding_lines_apart() -> None:
    import re

    from onebar.report.render import svg

    colours = svg.Colours(["agency", "acme"])
    same = {"all": [1.0, 2.0, 3.0], "agency": [1.0, 2.0, 3.0], "acme": [0.5, 0.7, 1.0]}
    chart = str(svg.line_chart("Deployments", same, ["w1", "w2", "w3"], colours=colours))
    flows = str(svg.flows("Review", {"agency": {"acme": 2}, "acme": {"agency": 1}}, colours=colours))
    grid = str(svg.heat_grid("Known", ["core"], ["acme", "agency"], lambda r, c: 0.5, lambda r, c: "", colours=colours))
    for org in ("agency", "acme"):
        assert f'stroke="{colours(org)}"' in chart  # its trend line
        assert f'stroke="{colours(org)}"' in flows  # its review flows
        assert f'fill="{colours(org)}"' in grid  # its column head
    assert colours("agency") != colours("acme") != colours("all")
    # "all" and "agency" coincide: the chart says so, draws them apart and with other markers.
    assert "all and agency: the same values" in chart
    lines = re.findall(r'<polyline[^>]*points="([^"]+)"', chart)
    assert len({pts.split()[0] for pts in lines}) == len(lines)  # no two lines start at the same point
    assert "<circle" in chart and "<rect" in chart  # circle markers for "all", squares for "agency"


def test_labels_have_room_whatever_their_length() -> None:
    from onebar.report.render import svg

    long_names = ["a-very-long-organisation-name", "another-organisation-with-a-long-name"]
    grid = str(svg.heat_grid("Known", ["a/deeply/nested/component"], long_names, lambda r, c: 0.3, lambda r, c: ""))
    width = float(grid.split('viewBox="0 0 ')[1].split()[0])
    assert width >= svg.PAGE  # the page's width at least
    flows = str(svg.flows("Review", {long_names[0]: {long_names[1]: 3}}))
    label_x = float(flows.split('text-anchor="end">' + long_names[0])[0].rsplit('x="', 1)[1].split('"')[0])
    assert label_x - svg.text_width(long_names[0]) >= 0  # the right-aligned author label starts inside
