"""Texts through the real twilio client, against a Twilio stand-in on loopback."""
from __future__ import annotations

import pytest

from app import create_app
from automations.notify.channels.twilio import TwilioSms
from automations.notify.delivery import ChannelError
from automations.ports import Message
from tests.conftest import lead_payload
from tests.notify_fixtures import FROM, NO_WAIT, free_port, twilio, twilio_app, twilio_config  # noqa: F401
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN

TEXT = Message(key="L-1001/assigned/Sarah M./sms", channel="sms", to="+12015550111", body="New lead #1001",
               lead_id="L-1001", recipient="Sarah M.", template="producer_new_lead")


def sms(fake, sender=FROM, callback=None) -> TwilioSms:
    return TwilioSms(ACCOUNT_SID, AUTH_TOKEN, sender, base_url=fake.url, status_callback=callback)


def test_a_text_reaches_twilio_with_exactly_the_form_and_auth_twilio_expects(twilio):
    callback = "https://leads.example.com/webhooks/twilio/status?lead=L-1001"
    sid = sms(twilio, callback=lambda m: callback).send(TEXT)
    assert sid.startswith("SM")
    assert twilio.received == [{"To": ["+12015550111"], "From": [FROM], "Body": ["New lead #1001"],
                                "StatusCallback": [callback]}]
    assert twilio.bad_auth == 0


def test_a_messaging_service_sends_instead_of_a_from_number(twilio):
    sms(twilio, sender="MG" + "a" * 32).send(TEXT)
    assert twilio.received == [{"To": ["+12015550111"], "MessagingServiceSid": ["MG" + "a" * 32],
                                "Body": ["New lead #1001"]}]


def test_a_wrong_auth_token_is_refused_by_twilio_and_retried_later(twilio):
    wrong = TwilioSms(ACCOUNT_SID, "not-the-token", FROM, base_url=twilio.url)
    with pytest.raises(ChannelError) as failure:
        wrong.send(TEXT)
    assert twilio.bad_auth == 1 and not failure.value.permanent


@pytest.mark.parametrize("code", [21211, 21610, 21614])
def test_an_invalid_or_unsubscribed_number_fails_permanently(twilio, code):
    twilio.error = (400, code, "The 'To' number +12015550111 is not a valid phone number.")
    with pytest.raises(ChannelError) as failure:
        sms(twilio).send(TEXT)
    assert failure.value.permanent and str(code) in str(failure.value)


def test_a_twilio_outage_or_an_unreachable_api_is_worth_retrying(twilio):
    twilio.outage()
    with pytest.raises(ChannelError) as outage:
        sms(twilio).send(TEXT)
    closed = TwilioSms(ACCOUNT_SID, AUTH_TOKEN, FROM, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ChannelError) as unreachable:
        closed.send(TEXT)
    assert not outage.value.permanent and not unreachable.value.permanent


def test_with_twilio_configured_the_owner_gets_the_minute_zero_text_by_twilio(twilio_app, twilio, demo_store):
    lead_id = twilio_app.test_client().post("/leads", json=lead_payload()).get_json()["lead_id"]
    assert len(twilio.received) == 1
    text = twilio.received[0]
    assert text["To"] == ["+12015550111"] and lead_id.split("-")[1] in text["Body"][0]
    assert "StatusCallback" not in text  # no public URL configured: Twilio has nowhere to report to
    sent = [a for a in demo_store.activity(lead_id) if a.event == "sms sent"]
    assert len(sent) == 1 and "id SM" in sent[0].detail and "0111" in sent[0].detail
    assert "+12015550111" not in sent[0].detail  # phone numbers are masked in the log


def test_with_a_public_url_twilio_is_told_where_to_report_delivery(demo_store, clock, twilio):
    app = create_app(twilio_config(twilio, PUBLIC_URL="https://leads.example.com/"), store=demo_store, clock=clock)
    lead_id = app.test_client().post("/leads", json=lead_payload()).get_json()["lead_id"]
    assert twilio.received[0]["StatusCallback"] == [
        f"https://leads.example.com/webhooks/twilio/status?lead={lead_id}"]


def test_without_twilio_settings_texts_go_to_the_console(demo_store, clock, caplog):
    app = create_app({"TESTING": True, "SEND_INLINE": True, "TWILIO_ACCOUNT_SID": "", "SMTP_URL": ""},
                     store=demo_store, clock=clock)
    with caplog.at_level("INFO", logger="leadrouter.console"):
        r = app.test_client().post("/leads", json=lead_payload())
    assert r.status_code == 201
    assert "SMS to Sarah M. (***-***-0111)" in caplog.text and "+12015550111" not in caplog.text



def test_the_channels_are_wired_from_the_environment(demo_store, clock, twilio, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "")
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", "MG" + "b" * 32)
    monkeypatch.setenv("LEADROUTER_TWILIO_API", twilio.url)
    monkeypatch.delenv("SMTP_URL", raising=False)
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=demo_store, clock=clock)
    app.test_client().post("/leads", json=lead_payload())
    assert twilio.received[0]["MessagingServiceSid"] == ["MG" + "b" * 32]
    assert app.extensions["leadrouter"].notifier.describe() == {
        "email": "ConsoleNotifier", "push": "WebhookChannel", "sms": "TwilioSms"}


def test_half_configured_channels_hold_messages_instead_of_losing_them(demo_store, clock, caplog):
    from automations.notify.outbox import pending
    app = create_app({"TESTING": True, "SEND_INLINE": True, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                      "TWILIO_AUTH_TOKEN": "", "TWILIO_FROM": FROM, "SMTP_URL": "smtp//wrong",
                      "RETRY_POLICY": NO_WAIT}, store=demo_store, clock=clock)
    with caplog.at_level("ERROR", logger="leadrouter"):
        assert app.test_client().post("/leads", json=lead_payload()).status_code == 201
    held = sorted((p.msg.channel, p.error) for p in pending(demo_store))
    assert held == [("email", "SMTP_URL is not valid: SMTP_URL must look like smtp://user:pass@host:587 or "
                              "smtps://user:pass@host:465"),
                    ("sms", "Twilio is not fully configured: TWILIO_AUTH_TOKEN missing")]
    assert "sms messages will wait" in caplog.text
