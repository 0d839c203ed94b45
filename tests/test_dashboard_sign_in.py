"""Issue 14, item 7: the dashboard's sign-in (a form, then a signed cookie), its throttle, and the
security headers of every HTML page."""
from __future__ import annotations

import pytest

from app import DASHBOARD_COOKIE, create_app
from tests.conftest import lead_payload
from tests.test_dashboard_web import TOKEN, browser, manager_app, served, sign_in, signed_in  # noqa: F401


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def test_signing_in_sets_a_signed_httponly_samesite_cookie_that_never_holds_the_token(manager_app):
    r = manager_app.test_client().post("/dashboard/sign-in", data={"token": TOKEN})
    assert r.status_code == 303 and r.headers["Location"].endswith("/dashboard")
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{DASHBOARD_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/;" in cookie and TOKEN not in cookie  # /dashboard.json too


def test_a_forged_or_stale_cookie_is_refused(manager_app):
    client = manager_app.test_client()
    client.set_cookie(DASHBOARD_COOKIE, "manager")
    assert client.get("/dashboard").status_code == 401
    signed_in(client)
    manager_app.config["DASHBOARD_TOKEN"] = "a-new-token-after-someone-left-the-agency"
    assert client.get("/dashboard").status_code == 401  # a new token signs every browser out


def test_wrong_tokens_are_throttled_per_address_and_the_right_one_waits_too(manager_app, clock):
    client = manager_app.test_client()
    codes = [client.post("/dashboard/sign-in", data={"token": f"guess-{i}"}).status_code for i in range(7)]
    assert codes == [401] * 5 + [429] * 2
    throttled = client.post("/dashboard/sign-in", data={"token": TOKEN})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert client.get("/dashboard.json", headers={"Authorization": "Bearer guess"}).status_code == 429
    other = manager_app.test_client()
    assert other.post("/dashboard/sign-in", data={"token": TOKEN},
                      environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code == 303
    clock.advance(minutes=16)
    assert client.post("/dashboard/sign-in", data={"token": TOKEN}).status_code == 303


@pytest.mark.parametrize("path", ["/", "/dashboard", "/dashboard-signed-in", "/thanks"])
def test_every_html_page_carries_the_security_headers(manager_app, path):
    client = manager_app.test_client()
    if path == "/dashboard-signed-in":
        r = signed_in(client).get("/dashboard")
    elif path == "/thanks":
        r = client.post("/leads", data=lead_payload(), headers={"Accept": "text/html"})
    else:
        r = client.get(path)
    assert r.mimetype == "text/html"
    assert r.headers["Cache-Control"] == "no-store"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors" in csp
    assert r.headers["Referrer-Policy"] == "same-origin"
    if path.startswith("/dashboard"):
        assert r.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in csp
        assert TOKEN not in r.get_data(as_text=True)


def test_the_form_may_be_framed_only_where_the_owner_says(demo_store, clock):
    app = create_app({"TESTING": True, "FORM_FRAME_ANCESTORS": "https://www.agency.example"}, store=demo_store,
                     clock=clock)
    assert "frame-ancestors https://www.agency.example" in app.test_client().get("/").headers["Content-Security-Policy"]


def test_check_warns_about_a_short_dashboard_token(demo_store, clock):
    app = create_app({"TESTING": True, "DASHBOARD_TOKEN": "short"}, store=demo_store, clock=clock)
    assert "LEADROUTER_DASHBOARD_TOKEN is 5 characters" in app.test_cli_runner().invoke(args=["check"]).output


def test_a_manager_signs_in_once_in_a_real_browser_and_the_page_keeps_refreshing(served, browser, manager_app):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, served)
    assert "token" not in page.url and TOKEN not in page.content()
    cookie = next(c for c in context.cookies() if c["name"] == DASHBOARD_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # scripts cannot read it
    again = context.new_page()
    again.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    assert again.goto(f"{served}/dashboard").status == 200  # signed in once, for the next visit too
    refreshed = again.evaluate("fetch('/dashboard.json').then(r => r.status)")
    assert refreshed == 200 and errors == []
    context.close()
