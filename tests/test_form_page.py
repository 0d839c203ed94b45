"""The embeddable quote form: plain HTML that works without JavaScript."""
from __future__ import annotations

from tests.conftest import lead_payload

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_the_form_has_every_required_field_and_a_hidden_honeypot(client):
    html = client.get("/").get_data(as_text=True)
    assert 'action="/leads"' in html and 'method="post"' in html
    for name in ("first_name", "last_name", "email", "phone", "zip", "insurance_type"):
        assert f'name="{name}"' in html
    assert 'name="website"' in html and 'class="hp"' in html
    assert "Demo Insurance Agency" in html


def test_a_browser_post_lands_on_the_thank_you_page(client, demo_store):
    r = client.post("/leads", data=lead_payload(), headers=BROWSER)
    assert r.status_code == 201
    assert "Thank you" in r.get_data(as_text=True)
    assert len(demo_store.leads()) == 1


def test_a_browser_post_with_errors_shows_the_form_again_with_the_messages(client, demo_store):
    r = client.post("/leads", data=lead_payload(email="nope"), headers=BROWSER)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "not a valid email address" in html and 'value="Maria"' in html
    assert demo_store.leads() == []


def test_healthz_says_ok(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
