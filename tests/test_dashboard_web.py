"""GET /dashboard: the manager's live view, behind LEADROUTER_DASHBOARD_TOKEN."""
from __future__ import annotations

import shutil
import struct
import threading

import pytest

from app import create_app
from tests.conftest import T0
from tests.dashboard_fixtures import add_fixture_day

TOKEN = "manager-s3cret"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def manager_app(demo_store, clock, notifier):
    add_fixture_day(demo_store, T0)
    return create_app({"TESTING": True, "SEND_INLINE": True, "DASHBOARD_TOKEN": TOKEN}, store=demo_store,
                      clock=clock, notifier=notifier)


def signed_in(client):
    """A test client that signed in once with the token (the form), as a manager's browser does."""
    assert client.post("/dashboard/sign-in", data={"token": TOKEN}).status_code == 303
    return client


def sign_in(page, served: str) -> None:
    page.goto(f"{served}/dashboard")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-figure=today_leads]")


def test_without_a_configured_token_the_dashboard_says_how_to_enable_it(demo_store, clock):
    app = create_app({"TESTING": True, "DASHBOARD_TOKEN": ""}, store=demo_store, clock=clock)
    r = app.test_client().get("/dashboard?token=anything")
    assert r.status_code == 403 and b"set LEADROUTER_DASHBOARD_TOKEN" in r.data
    assert app.test_client().get("/dashboard.json").status_code == 403


@pytest.mark.parametrize("query, headers", [("", {}), ("?token=wrong", {}), ("", {"Authorization": "Bearer nope"})])
def test_a_missing_or_wrong_token_is_refused(manager_app, query, headers):
    client = manager_app.test_client()
    r = client.get("/dashboard" + query, headers=headers)
    assert r.status_code == 401 and b"manager token is required" in r.data
    assert b"Sarah M." not in r.data
    assert client.get("/dashboard.json" + query, headers=headers).status_code == 401


def test_the_token_works_through_the_sign_in_form_or_a_bearer_header_but_not_in_the_url(manager_app):
    assert signed_in(manager_app.test_client()).get("/dashboard").status_code == 200
    client = manager_app.test_client()
    assert client.get("/dashboard", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get(f"/dashboard?token={TOKEN}").status_code == 401  # URLs end up in logs and histories


def test_the_json_carries_the_same_figures_as_the_sheet_definition(manager_app):
    data = manager_app.test_client().get("/dashboard.json", headers={"Authorization": f"Bearer {TOKEN}"}).get_json()
    assert data["figures"]["today_leads"] == 9 and data["display"]["today_contacted_pct"] == "44%"
    assert data["display"]["today_avg_response"] == "7.8 min"
    assert "James K. response time above target (22 min)" in data["alerts"]
    assert {p["name"] for p in data["producers"]} >= {"Sarah M.", "James K.", "Rachel T.", "David L."}


def test_lead_text_is_escaped_on_the_page(manager_app, demo_store):
    demo_store.replace_rows("Producers", demo_store.read_rows("Producers")
                            + [{"name": "<script>alert(1)</script>", "role": "Producer"}])
    body = signed_in(manager_app.test_client()).get("/dashboard").data
    assert b"<script>alert(1)</script>" not in body and b"&lt;script&gt;" in body


@pytest.fixture
def served(manager_app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, manager_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


def test_a_manager_sees_the_figures_in_a_real_browser_and_a_stranger_does_not(served, browser):
    page = browser.new_page()
    sign_in(page, served)
    text = page.inner_text("body")
    assert "Today's leads" in text and page.inner_text("[data-figure=today_leads]") == "9"
    assert page.inner_text("[data-figure=today_contacted_pct]") == "44%"
    assert page.inner_text("[data-figure=today_avg_response]") == "7.8 min"
    assert "James K. response time above target (22 min)" in text
    assert "David L. has 2 leads untouched (15 min+)" in text
    assert page.inner_text("[data-figure=binds_this_week]") == "2"  # T0 is a Tuesday: today's and Monday's
    assert page.inner_text("[data-figure=premium_this_week]") == "$2,700"
    stranger = browser.new_page()
    refused = stranger.goto(f"{served}/dashboard")
    assert refused.status == 401
    assert "manager token is required" in stranger.inner_text("body") and "Sarah M." not in stranger.content()


KEY_FIGURES = ("[data-figure=today_leads]", "[data-figure=today_contacted_pct]",
               "[data-figure=today_avg_response]", "#producers tr")
ON_SCREEN = """selector => {
  const problems = [], width = innerWidth, height = innerHeight;
  if (document.documentElement.scrollWidth > width) problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth}px`);
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect(), name = `${selector} "${el.textContent.trim().slice(0, 30)}"`;
    if (!r.width || !r.height || getComputedStyle(el).visibility !== "visible") { problems.push(`${name}: not shown`); continue; }
    if (r.left < 0 || r.top < 0 || r.right > width || r.bottom > height) problems.push(`${name}: outside the screen`);
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    if (!hit || !el.contains(hit)) problems.push(`${name}: covered by ${hit && hit.tagName}`);
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      const b = box.getBoundingClientRect();
      if (r.left < b.left - .5 || r.right > b.right + .5) problems.push(`${name}: sticks out of its ${box.className || box.tagName}`);
    }
    for (const part of [el, ...el.querySelectorAll("td")]) {
      if (part.clientWidth && part.scrollWidth > part.clientWidth) problems.push(`${name}: text cut off`);
    }
  }
  return problems;
}"""


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


@pytest.mark.parametrize("screen", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}],
                         ids=["laptop", "phone"])
def test_the_key_figures_are_on_the_first_screen_and_nothing_is_cut_off(served, browser, tmp_path, screen):
    page = browser.new_page(viewport=screen)
    sign_in(page, served)
    png = page.screenshot(path=str(tmp_path / f"dashboard-{screen['width']}.png"))  # what the manager sees first
    assert _png_size(png) == (screen["width"], screen["height"])
    assert page.locator("#producers tr").count() == 4  # the 4 producers; the CSR and the manager hold no leads
    problems = [p for selector in KEY_FIGURES for p in page.evaluate(ON_SCREEN, selector)]
    assert problems == []


def test_the_open_page_refreshes_itself_when_a_lead_arrives(served, browser, manager_app):
    from playwright.sync_api import expect
    from tests.conftest import lead_payload
    manager_app.config["DASHBOARD_CACHE_SECONDS"] = 0
    page = browser.new_page()
    page.clock.install()  # the page's own 30-second refresh runs on this clock, moved by the test
    sign_in(page, served)
    google, other, total = (page.locator("tr", has_text=label).locator(".n")
                            for label in ("Google Ads", "Other (not in Sources)", "Total"))
    assert page.inner_text("[data-figure=today_leads]") == "9"
    assert (google.inner_text(), other.inner_text(), total.inner_text()) == ("1", "1", "10")
    assert manager_app.test_client().post("/leads", json=lead_payload(source="Google Ads")).status_code == 201
    page.clock.run_for(31_000)
    expect(page.locator("[data-figure=today_leads]")).to_have_text("10")
    expect(page.locator("#producers tr").first).to_contain_text("Sarah M.")
    expect(google).to_have_text("2")
    expect(total).to_have_text("11")
    assert other.inner_text() == "1"  # Billboard, not in the Sources tab


def test_a_new_lead_shows_on_the_next_refresh(manager_app):
    from tests.conftest import lead_payload
    manager_app.config["DASHBOARD_CACHE_SECONDS"] = 0
    client = signed_in(manager_app.test_client())
    before = client.get("/dashboard.json").get_json()["figures"]["today_leads"]
    assert client.post("/leads", json=lead_payload()).status_code == 201
    after = client.get("/dashboard.json").get_json()
    assert after["figures"]["today_leads"] == before + 1
    assert after["figures"]["today_contacted_pct"] == pytest.approx(4 / 10)


@pytest.fixture
def quiet_served(demo_store, clock, notifier):
    """The demo agency on a day without alerts."""
    from werkzeug.serving import make_server
    app = create_app({"TESTING": True, "DASHBOARD_TOKEN": TOKEN}, store=demo_store, clock=clock, notifier=notifier)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=5)


ALERT_RED = "rgb(179, 38, 30)"


def test_no_alerts_is_not_drawn_as_an_alert_and_csr_and_manager_rows_are_not_producers(quiet_served, browser):
    page = browser.new_page()
    page.clock.install()
    sign_in(page, quiet_served)
    for _ in range(2):  # as served, then as the page's own 30-second refresh redraws it
        none = page.locator("#alerts li")
        assert none.count() == 1 and none.inner_text() == "No alerts."
        assert none.evaluate("li => getComputedStyle(li).color") != ALERT_RED
        assert none.evaluate("li => getComputedStyle(li).listStyleType") == "none"
        names = page.locator("#producers tr td:first-child").all_inner_texts()
        assert names == ["Sarah M.", "James K.", "Rachel T.", "David L."]  # not Casey R. (CSR), Morgan P. (Manager)
        page.evaluate("document.querySelectorAll('#alerts li, #producers tr').forEach(e => e.dataset.old = 1)")
        page.clock.run_for(31_000)
        page.wait_for_selector("#alerts li:not([data-old])")  # redrawn (a selector: the page's CSP forbids eval)


def test_a_real_alert_is_still_red(served, browser):
    page = browser.new_page()
    sign_in(page, served)
    assert page.locator("#alerts li").first.evaluate("li => getComputedStyle(li).color") == ALERT_RED
