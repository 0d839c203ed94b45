"""Issue 14, item 1: rate limits on POST /leads, the hourly cap on texts to leads, the optional CAPTCHA."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from app import create_app
from automations.intake.captcha import Captcha
from sheets_schema.sql_store import SqlStore
from tests.conftest import T0, lead_payload, load_demo
from tests.speed_fixtures import post_lead, set_setting, tick_at


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def person(i: int) -> dict:
    return lead_payload(email=f"p{i}@example.com", phone=f"201555{1000 + i:04d}")


def from_ip(client, payload, ip="203.0.113.9", **kw):
    return client.post("/leads", json=payload, environ_base={"REMOTE_ADDR": ip}, **kw)


# ---- per client IP ---------------------------------------------------------------------------------------
def test_the_21st_public_post_in_a_minute_from_one_address_gets_429_and_nothing_is_stored(client, demo_store,
                                                                                          clock):
    answers = [from_ip(client, person(i)) for i in range(21)]
    assert [a.status_code for a in answers] == [201] * 20 + [429]
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60 and "rate_limit" in refused.get_json()["errors"]
    assert len(demo_store.leads()) == 20
    assert from_ip(client, person(99), ip="198.51.100.7").status_code == 201  # another address is not held up
    clock.advance(seconds=int(refused.headers["Retry-After"]))
    assert from_ip(client, person(21)).status_code == 201  # the next minute lets it in


def test_form_posts_per_minute_is_read_as_the_owner_writes_it(client, demo_store):
    set_setting(demo_store, "Form Posts Per Minute", "3 per minute")
    assert [from_ip(client, person(i)).status_code for i in range(4)] == [201, 201, 201, 429]


def test_an_unreadable_limit_means_the_default_and_check_names_it(app, demo_store):
    set_setting(demo_store, "Form Posts Per Minute", "twenty")
    client = app.test_client()
    assert [from_ip(client, person(i)).status_code for i in range(21)][-2:] == [201, 429]
    out = app.test_cli_runner().invoke(args=["check"]).output
    assert "Form Posts Per Minute 'twenty' is not a whole number; 20 is used" in out


def test_two_web_workers_on_one_sqlite_file_share_the_count(demo_store, clock, notifier, tmp_path):
    other = SqlStore(demo_store.url)  # the second gunicorn worker: its own engine and connections
    apps = [create_app({"TESTING": True, "SEND_INLINE": True}, store=s, clock=clock, notifier=notifier)
            for s in (demo_store, other)]
    clients = [a.test_client() for a in apps]
    codes = [from_ip(clients[i % 2], person(i)).status_code for i in range(21)]
    other.close()
    assert codes == [201] * 20 + [429]


def test_x_forwarded_for_is_only_believed_behind_a_configured_proxy(demo_store, clock, notifier):
    set_setting(demo_store, "Form Posts Per Minute", "2")

    def codes(config):
        client = create_app({"TESTING": True, "SEND_INLINE": True, **config}, store=demo_store, clock=clock,
                            notifier=notifier).test_client()
        return [from_ip(client, person(i + 10 * len(config)), headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
                for i in range(4)]

    assert codes({}) == [201, 201, 429, 429]  # a forged header does not buy a new address
    clock.advance(minutes=1)
    assert codes({"TRUSTED_PROXIES": 1}) == [201] * 4  # behind one proxy, its header names the client


# ---- per phone/email, and vendors ------------------------------------------------------------------------
def test_one_phone_posted_from_many_addresses_is_refused_after_five_an_hour(client, demo_store):
    codes = [from_ip(client, lead_payload(), ip=f"192.0.2.{i}").status_code for i in range(6)]
    assert codes == [201, 200, 200, 200, 200, 429]
    assert len(demo_store.leads()) == 1


def test_vendors_are_exempt_from_the_public_limit_but_have_their_own(demo_store, clock, notifier):
    client = create_app({"TESTING": True, "SEND_INLINE": True, "API_KEYS": "QuoteWizard=s3cret"}, store=demo_store,
                        clock=clock, notifier=notifier).test_client()
    key = {"X-API-Key": "s3cret"}
    assert {from_ip(client, person(i), headers=key).status_code for i in range(30)} == {201}
    set_setting(demo_store, "Vendor Posts Per Minute", "31")
    assert [from_ip(client, person(30 + i), headers=key).status_code for i in range(2)] == [201, 429]
    assert from_ip(client, person(99)).status_code == 201  # the public count is separate


# ---- owner texts for resubmissions -----------------------------------------------------------------------
def test_the_owner_hears_of_resubmissions_of_one_lead_at_most_once_an_hour(client, demo_store, notifier, clock):
    from_ip(client, lead_payload())
    notifier.sent.clear()
    for i in range(4):
        assert from_ip(client, lead_payload(), ip=f"192.0.2.{i}").status_code == 200
        clock.advance(minutes=10)
    assert [m.template for m in notifier.sent] == ["producer_duplicate"]
    clock.advance(minutes=25)  # 65 minutes after the first notice
    from_ip(client, lead_payload(), ip="192.0.2.50")
    assert [m.template for m in notifier.sent] == ["producer_duplicate"] * 2


# ---- the cap on automated texts to leads -----------------------------------------------------------------
def test_texts_to_leads_over_the_sources_hourly_cap_wait_and_the_manager_is_told_once(store, clock, notifier):
    load_demo(store)
    set_setting(store, "Lead Texts Per Hour Per Source", "3")
    set_setting(store, "Form Posts Per Contact Per Hour", "off")
    for i in range(5):
        post_lead(store, clock, notifier, **person(i))
    sent = tick_at(store, notifier, clock, T0 + timedelta(minutes=6))
    to_leads = [s for s in sent if s.to == "lead" and s.channel == "sms"]
    alerts = [s for s in sent if s.template == "manager_text_cap"]
    assert len(to_leads) == 3
    assert [a.to for a in alerts] == ["Morgan P."] and "Website" in alerts[0].body
    held = [a for a in store.activity() if a.event == "sms deferred"]
    assert len(held) == 2 and all("hourly cap" in a.detail for a in held)
    later = tick_at(store, notifier, clock, T0 + timedelta(minutes=61))
    assert len([s for s in later if s.to == "lead" and s.channel == "sms"]) == 2  # waited, not dropped
    assert not [s for s in later if s.template == "manager_text_cap"]


# ---- CAPTCHA ---------------------------------------------------------------------------------------------
class Siteverify(BaseHTTPRequestHandler):
    """A loopback stand-in for the providers' siteverify: checks the secret, accepts the token 'good'."""
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        Siteverify.seen.append(form)
        ok = form.get("secret") == "sk-test" and form.get("response") == "good"
        body = json.dumps({"success": ok, **({} if ok else {"error-codes": ["invalid-input-response"]})}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def siteverify():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Siteverify)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Siteverify.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/turnstile/v0/siteverify"
    server.shutdown()
    server.server_close()


def captcha_client(store, clock, notifier, url, keys=""):
    captcha = Captcha("turnstile", "sk-test", "site-key", url)
    return create_app({"TESTING": True, "SEND_INLINE": True, "CAPTCHA": captcha, "API_KEYS": keys}, store=store,
                      clock=clock, notifier=notifier).test_client()


def test_a_public_post_without_a_good_captcha_token_is_refused_naming_the_field(demo_store, clock, notifier,
                                                                                siteverify):
    client = captcha_client(demo_store, clock, notifier, siteverify)
    missing = from_ip(client, person(1))
    wrong = from_ip(client, {**person(2), "cf-turnstile-response": "forged"})
    assert (missing.status_code, wrong.status_code) == (422, 422)
    assert "captcha" in missing.get_json()["errors"] and "failed" in wrong.get_json()["errors"]["captcha"]
    assert demo_store.leads() == []
    good = from_ip(client, {**person(3), "cf-turnstile-response": "good"})
    assert good.status_code == 201
    assert Siteverify.seen[-1] == {"secret": "sk-test", "response": "good", "remoteip": "203.0.113.9"}
    assert "good" not in demo_store.get_lead(good.get_json()["lead_id"]).notes  # the token is not the lead's words


def test_vendors_are_not_asked_for_a_captcha(demo_store, clock, notifier, siteverify):
    client = captcha_client(demo_store, clock, notifier, siteverify, keys="QuoteWizard=s3cret")
    assert from_ip(client, person(1), headers={"X-API-Key": "s3cret"}).status_code == 201
    assert Siteverify.seen == []


def test_a_captcha_provider_that_cannot_be_reached_does_not_lose_the_lead(demo_store, clock, notifier, siteverify):
    client = captcha_client(demo_store, clock, notifier, "http://127.0.0.1:9/siteverify")
    assert from_ip(client, {**person(1), "cf-turnstile-response": "anything"}).status_code == 201


def test_the_form_page_carries_the_widget_when_a_captcha_is_configured(demo_store, clock, notifier, siteverify):
    html = captcha_client(demo_store, clock, notifier, siteverify).get("/").get_data(as_text=True)
    assert 'class="cf-turnstile" data-sitekey="site-key"' in html
    assert "challenges.cloudflare.com/turnstile/v0/api.js" in html


# ---- check --------------------------------------------------------------------------------------------------
def test_check_warns_when_a_public_site_has_neither_a_limit_nor_a_captcha(demo_store, clock, notifier, siteverify):
    set_setting(demo_store, "Form Posts Per Minute", "off")

    def check(**config):
        app = create_app({"TESTING": True, **config}, store=demo_store, clock=clock, notifier=notifier)
        return app.test_cli_runner().invoke(args=["check"]).output

    assert "is public and has no limit" in check(PUBLIC_URL="https://quotes.example")
    assert "is public" not in check(PUBLIC_URL="")  # not reachable from the internet
    assert "is public" not in check(PUBLIC_URL="https://quotes.example",
                                    CAPTCHA=Captcha("turnstile", "sk-test", "site-key", siteverify))
    set_setting(demo_store, "Form Posts Per Minute", "20")
    assert "is public" not in check(PUBLIC_URL="https://quotes.example")
