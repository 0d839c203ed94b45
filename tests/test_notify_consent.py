"""TCPA: no automated text to a lead without recorded consent (Settings: Texts Need Consent)."""
from __future__ import annotations

from datetime import datetime

from automations.checks import check_config
from automations.config import Settings
from automations.notify.consent import consent_refusal, read_needs_consent
from sheets_schema.models import Lead
from tests.conftest import T0
from tests.speed_fixtures import local, post_lead, set_setting, tick_at


def _lead(consent: str) -> Lead:
    return Lead(lead_id="L-7", received_at=T0, consent=consent)


def test_a_lead_without_consent_may_not_be_texted_and_the_reason_says_why():
    why = consent_refusal(_lead(""), Settings({}))
    assert "L-7 gave no consent" in why and "owner still calls" in why
    assert consent_refusal(_lead("no"), Settings({})) != ""
    assert consent_refusal(_lead("yes"), Settings({})) == ""
    assert consent_refusal(_lead(""), Settings({"Texts Need Consent": "no"})) == ""


def test_texts_need_consent_is_read_forgivingly_and_a_typo_means_yes():
    assert read_needs_consent(Settings({"Texts Need Consent": " Yes "})) == (True, "")
    assert read_needs_consent(Settings({"Texts Need Consent": "off"})) == (False, "")
    on, problem = read_needs_consent(Settings({"Texts Need Consent": "sometimes"}))
    assert on and "'sometimes' is not Y or N" in problem


def test_the_minute_5_text_skips_a_lead_without_consent_while_the_email_and_the_owner_still_go(
        demo_store, clock, notifier):
    lead = post_lead(demo_store, clock, notifier, consent="")
    sent = tick_at(demo_store, notifier, clock, local(2026, 11, 24, 10, 5))
    assert ("lead", "lead_intro_email") in [(s.to, s.template) for s in sent]
    assert not [s for s in sent if s.to == "lead" and s.channel == "sms"]
    skipped = [a for a in demo_store.activity(lead.lead_id) if a.event == "sms skipped"]
    assert len(skipped) == 1 and "gave no consent" in skipped[0].detail
    assert [m for m in notifier.sent if m.recipient == "Sarah M." and m.channel == "sms"]  # the owner still hears


def test_with_texts_need_consent_off_a_lead_without_consent_is_texted(demo_store, clock, notifier):
    set_setting(demo_store, "Texts Need Consent", "N")
    post_lead(demo_store, clock, notifier, consent="")
    sent = tick_at(demo_store, notifier, clock, local(2026, 11, 24, 10, 5))
    assert ("lead", "sms") in [(s.to, s.channel) for s in sent]


def test_our_form_page_has_a_consent_checkbox_and_a_ticked_box_is_stored_with_evidence(client, demo_store):
    page = client.get("/").data.decode()
    assert 'name="consent"' in page and 'name="form_id" value="leadrouter"' in page
    r = client.post("/leads", data=dict(first_name="Ann", last_name="Lee", email="ann@example.com",
                                         phone="2015550150", zip="10150", insurance_type="Home", consent="yes",
                                         form_id="leadrouter", website=""),
                    headers={"Referer": "https://agency.example/quote?utm_source=google"},
                    environ_base={"REMOTE_ADDR": "203.0.113.9"})
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert lead.consent == "yes" and lead.consent_at == T0 and lead.consent_ip == "203.0.113.9"
    assert lead.consent_page_url == "https://agency.example/quote?utm_source=google" and lead.source == "Google Ads"


def test_check_names_an_unreadable_texts_need_consent(demo_store):
    set_setting(demo_store, "Texts Need Consent", "sometimes")
    messages = [p.message for p in check_config(demo_store.config(), datetime(2026, 11, 24).date())]
    assert any("Texts Need Consent 'sometimes'" in m for m in messages)
