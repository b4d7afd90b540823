"""The dashboard in real headless Chromium against the real server (`onebar serve` on a loopback port).

Signs in through the form, navigates the portfolio, drills into an organisation, checks that a
vendor's lead sees no other organisation's people in the pages nor in the API (with the same
session), walks the pages by keyboard, and checks every page: no console error, no request leaving
127.0.0.1, no script, labelled form fields, text contrast of at least 4.5:1, and that it all works
with JavaScript turned off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from onebar.store import open_store
from service_helpers import ACME_NAMES, Tokens, make_tokens, register, running_server, two_org_repo

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]
PAGES = [
    "/",
    "/orgs/vistula",
    "/orgs/acme",
    "/repos/shop",
    "/repos/shop/components/billing",
    "/repos/shop/people/dave",
    "/repos/shop/people/dave/onboarding",
    "/gate-runs",
    "/access",
    "/me",
]

# Text at least 4.5:1 against the first opaque background behind it (WCAG 2 AA, normal text).
CONTRAST_JS = """
() => {
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => { const [r, g, b] = c.map(lin); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const rgba = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const bg = (el) => { for (; el; el = el.parentElement) { const c = rgba(getComputedStyle(el).backgroundColor);
                         if (c.length === 3 || c[3] > 0.9) return c.slice(0, 3); } return [255, 255, 255]; };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    const tags = ['P', 'A', 'TD', 'TH', 'LI', 'SPAN', 'B', 'DT', 'DD', 'H1', 'H2', 'H3', 'LABEL', 'BUTTON',
                  'SUMMARY', 'CODE', 'STRONG'];
    if (!tags.includes(el.tagName)) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const st = getComputedStyle(el);
    if (!own || st.visibility === 'hidden' || st.display === 'none' || el.closest('.sr, .skip')) continue;
    const fg = rgba(st.color).slice(0, 3), b = bg(el);
    const [l1, l2] = [lum(fg), lum(b)].sort((x, y) => y - x);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < 4.5) bad.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return bad;
}
"""
LABELS_JS = """
() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)
"""


@dataclass
class Site:
    url: str
    tokens: Tokens


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("dash")
    repo = two_org_repo(tmp / "shop")
    data = tmp / "data"
    url = f"sqlite:///{tmp / 'store.db'}"
    store = open_store(url)
    register(store, repo.path, data)
    tokens = make_tokens(store)
    store.close()
    with running_server(url, data, "--job-workers", "0") as base:
        body = {"status": "fail", "base": "a" * 40, "head": "b" * 40, "rules": [{"id": "size", "status": "fail"}]}
        for person, org in (("dave", "vistula"), ("carol", "acme")):
            r = httpx.post(
                f"{base}/api/v1/repos/shop/gate-runs",
                json={**body, "author": {"person": person, "org": org}},
                headers={"Authorization": f"Bearer {tokens.ci}"},
            )
            assert r.status_code == 201
        yield Site(base, tokens)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Watch:
    """Everything a page did that it should not: console errors, page errors, requests off 127.0.0.1."""

    def __init__(self, page: Any):
        self.errors: list[str] = []
        self.hosts: set[str] = set()
        page.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.hosts.add(urlsplit(r.url).hostname or r.url))

    def check(self) -> None:
        assert self.errors == []
        assert self.hosts <= {"127.0.0.1"}, self.hosts


def sign_in(page: Any, site: Site, token: str, start: str = "/") -> None:
    page.goto(site.url + start)
    assert "/signin" in page.url  # not signed in: sent to the sign-in page, which remembers where we were going
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url + start)


def test_a_vendor_lead_signs_in_navigates_and_never_sees_another_vendors_people(site: Site, browser: Any) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    watch = Watch(page)
    sign_in(page, site, site.tokens.lead_vistula)
    cookie = next(c for c in ctx.cookies() if c["name"] == "onebar_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # plain http on loopback

    # The portfolio: organisations × DORA keys; drill into our own organisation, then the other one.
    assert page.get_by_role("heading", name="Portfolio").is_visible()
    table = page.get_by_role("table").first
    assert "vistula" in table.inner_text() and "acme" in table.inner_text()  # aggregates of every organisation
    table.get_by_role("link", name="vistula", exact=True).click()
    page.wait_for_url(f"{site.url}/orgs/vistula")
    people = page.locator("#people-h + table").inner_text()
    assert "Bob Vistula" in people and "Dave Vistula" in people
    page.goto(f"{site.url}/orgs/acme")
    assert page.get_by_role("heading", name="acme", exact=False).first.is_visible()
    assert "not shown" in page.locator("section[aria-labelledby=people-h]").inner_text()

    # No page, and no API answer to the same session, names an acme person.
    for path in PAGES:
        page.goto(site.url + path)
        text = page.content()
        assert page.title() and "500" not in page.title()
        for name in ACME_NAMES:
            assert name not in text, f"{path} shows {name}"
    for api in (
        "/api/v1/repos/shop/report",
        "/api/v1/repos/shop/people",
        "/api/v1/repos/shop/components",
        "/api/v1/gate-runs",
        "/api/v1/portfolio",
    ):
        answer = page.request.get(site.url + api)
        assert answer.status == 200, api
        for name in ACME_NAMES:
            assert name not in answer.text(), f"{api} shows {name}"
    assert page.request.get(f"{site.url}/repos/shop/people/alice").status == 404
    watch.check()
    ctx.close()


def test_keyboard_alone_reaches_every_page_and_signs_out(site: Site, browser: Any) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    watch = Watch(page)
    sign_in(page, site, site.tokens.admin)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # focus is visible
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # From the top, Tab through the menu to "Gate runs" and follow it with Enter.
    page.goto(site.url + "/")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Gate runs":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/gate-runs")
    assert page.evaluate("document.querySelector('[aria-current=page]').textContent") == "Gate runs"
    # A filter is a plain form: choose a verdict by keyboard and submit.
    page.get_by_label("Verdict").focus()
    page.keyboard.press("ArrowDown")  # "pass"... or the first option after "any"
    page.get_by_role("button", name="Filter").press("Enter")
    page.wait_for_url("**/gate-runs?**")
    # Sign out is a form with the session's CSRF value.
    page.get_by_role("button", name="Sign out").press("Enter")
    page.wait_for_url(f"{site.url}/signin")
    page.goto(site.url + "/")
    assert "/signin" in page.url
    watch.check()
    ctx.close()


def test_every_page_is_offline_labelled_readable_and_works_without_javascript(site: Site, browser: Any) -> None:
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    watch = Watch(page)
    sign_in(page, site, site.tokens.admin)
    with_js = browser.new_context()
    checker = with_js.new_page()
    sign_in(checker, site, site.tokens.admin)
    for path in [*PAGES, "/jobs"]:
        response = page.goto(site.url + path)
        assert response is not None and response.status == 200, path
        html = page.content()
        assert "<script" not in html
        assert page.locator("main").count() == 1 and page.locator("header nav").count() == 1
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").count() == 1, path
        for svg in page.locator("svg.chart").all():
            assert svg.get_attribute("role") == "img" and svg.locator("title").count() >= 1
        checker.goto(site.url + path)  # JavaScript is needed only to measure, not to use the page
        assert checker.evaluate(LABELS_JS) == [], path
        assert checker.evaluate(CONTRAST_JS) == [], path
        headers = response.headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["cache-control"] == "private, no-store"
    watch.check()
    with_js.close()
    ctx.close()


def test_a_form_without_its_csrf_value_is_refused(site: Site, browser: Any) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, site, site.tokens.admin)
    refused = page.request.post(f"{site.url}/jobs", form={"kind": "sweep"}, headers={"Accept": "text/html"})
    assert refused.status == 403 and "CSRF" in refused.text()
    page.goto(f"{site.url}/jobs")
    page.get_by_label("Job", exact=True).select_option("sweep")
    page.get_by_role("button", name="Queue").click()
    page.wait_for_url("**/jobs?done=*")
    assert "queued" in page.locator("[role=status]").inner_text()
    ctx.close()
