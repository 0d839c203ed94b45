"""Call connect's rules: quiet hours and business hours, the settings as owners type them, what a
finished call means, the loopback Twilio refusing what Twilio refuses, and the monthly figure."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from automations.call_connect.decisions import call_result, move_on_reason
from automations.call_connect.settings import CallSettings
from automations.config import Settings
from automations.notify.consent import consent_refusal
from sheets_schema.models import Lead
from tests.call_fixtures import call_app, details, post_lead, side  # noqa: F401
from tests.notify_fixtures import twilio  # noqa: F401
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN

TUESDAY_10PM_NY = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
TUESDAY_7PM_NY = datetime(2026, 11, 25, 0, 0, tzinfo=timezone.utc)


def test_a_lead_in_its_quiet_hours_is_not_called_and_the_activity_says_why(call_app, twilio, demo_store, clock):
    clock.set(TUESDAY_10PM_NY)
    lead = post_lead(call_app)
    assert twilio.calls == []
    assert any("quiet hours for the lead" in d for d in details(demo_store, lead["lead_id"], "call not placed"))


def test_after_business_hours_a_producer_is_rung_only_if_they_opted_in(call_app, twilio, demo_store, clock):
    clock.set(TUESDAY_7PM_NY)  # office closed at 6 p.m.; the lead's quiet hours start at 9 p.m.
    lead = post_lead(call_app)
    assert twilio.calls == []
    assert any("After Hours Calls = Y" in d for d in details(demo_store, lead["lead_id"], "call not placed"))

    rows = demo_store.read_rows("Producers")
    for row in rows:
        row["after_hours_calls"] = "yes"
    demo_store.replace_rows("Producers", rows)
    second = post_lead(call_app, phone="(201) 555-0199", email="other@example.com")
    assert len(twilio.calls) == 1
    assert any("opted in" in d for d in details(demo_store, second["lead_id"], "call offered"))


@pytest.mark.parametrize("typed, window, enabled", [
    ({"Call Connect": "yes", "Offer Window": "90 seconds"}, 90, True),
    ({"Call Connect": "Y", "Offer Window": "3"}, 180, True),
    ({"Call Connect": "true", "Offer Window": "1.5 min"}, 90, True),
    ({}, 120, False),
])
def test_call_connect_settings_are_read_as_owners_type_them(typed, window, enabled):
    read = CallSettings.from_settings(Settings(typed))
    assert read.enabled is enabled and read.offer_window == timedelta(seconds=window) and not read.problems


def test_an_unreadable_call_setting_falls_back_to_its_default_and_is_named():
    read = CallSettings.from_settings(Settings({"Call Connect": "maybe", "Offer Window": "soon",
                                                "Call Contact Seconds": "-4", "Max Offers": "two"}))
    assert (read.enabled, read.offer_window, read.contact_seconds, read.max_offers) == (
        False, timedelta(minutes=2), 30.0, 3)
    assert len(read.problems) == 4 and any("'soon'" in p for p in read.problems)


def test_what_a_finished_bridged_call_means():
    assert call_result("completed", 31, "human", 30).contact
    assert call_result("completed", 45, "", 30).kind == "contact"
    assert call_result("completed", 29, "human", 30).kind == "short"
    assert call_result("completed", 80, "machine_end_beep", 30).kind == "voicemail"
    assert call_result("no-answer", None, "", 30).kind == "no answer"
    assert not call_result("busy", 0, "", 30).contact


def test_an_offer_runs_for_its_window_unless_passed_or_unanswered_first():
    at = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
    window = timedelta(minutes=2)
    assert move_on_reason("ringing", at, at + timedelta(seconds=119), window) == ""
    assert "offer window" in move_on_reason("ringing", at, at + window, window)
    assert "passed" in move_on_reason("passed", at, at, window)
    assert "not answered" in move_on_reason("unanswered", at, at, window)


def test_consent_is_needed_by_default_and_the_setting_can_lift_it():
    lead = Lead(lead_id="L-1", received_at=datetime(2026, 11, 24, tzinfo=timezone.utc))
    assert "no consent" in consent_refusal(lead, Settings({}))
    assert consent_refusal(lead.model_copy(update={"consent": "Yes"}), Settings({})) == ""
    assert consent_refusal(lead, Settings({"Texts Need Consent": "N"})) == ""
    assert "no consent" in consent_refusal(lead, Settings({"Texts Need Consent": "perhaps"}))


def test_the_loopback_twilio_refuses_a_call_without_instructions_as_twilio_does(twilio):
    from twilio.base.exceptions import TwilioRestException
    from twilio.rest import Client
    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = twilio.url
    with pytest.raises(TwilioRestException) as refused:
        client.calls.create(to="+12015550111", from_="+12015550100")
    assert refused.value.code == 21205
    with pytest.raises(TwilioRestException) as relative:
        client.calls.create(to="+12015550111", from_="+12015550100", url="/voice/offer")
    assert relative.value.code == 21205 and twilio.calls == []


def test_the_monthly_report_shows_contact_attempts_in_48_hours_beside_the_guides_benchmark(
        call_app, side, demo_store):
    from automations.reports.formats import monthly_markdown
    from automations.reports.monthly import monthly_report, report_month
    lead = post_lead(call_app)
    call = side.call()
    dial = side.press(call, side.answer(call), "1")
    side.bridge(call, dial, final="no-answer", events=("initiated",))
    side.bridge(call, dial, duration=50)
    config = demo_store.config()
    report = monthly_report(demo_store.leads(), demo_store.activity(), config,
                            report_month(demo_store.get_lead(lead["lead_id"]).received_at, config))
    assert report.figure("contact_attempts_48h").value == 2
    assert "- Contact attempts (48 hrs): **2** (target: 6-8" in monthly_markdown(report)


def test_check_names_what_call_connect_still_needs(demo_store, clock):
    from app import create_app
    from tests.speed_fixtures import set_setting
    set_setting(demo_store, "Call Connect", "Y")
    set_setting(demo_store, "Offer Window", "a while")
    app = create_app({"TESTING": True, "PUBLIC_URL": "", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "",
                      "TWILIO_FROM": "", "SMTP_URL": ""}, store=demo_store, clock=clock)
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert "Offer Window 'a while'" in result.output
    assert "no Public URL" in result.output and "Twilio Voice is not set up" in result.output


def test_a_database_made_before_after_hours_calls_existed_gets_the_column_and_keeps_its_producers(tmp_path):
    from sheets_schema.sql_store import SqlStore
    from tests.conftest import load_demo
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = SqlStore(url)
    load_demo(old)
    with old.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE producers DROP COLUMN after_hours_calls")
    old.close()
    store = SqlStore(url)
    store.init()
    sarah = store.config().producer("Sarah M.")
    assert sarah is not None and sarah.mobile == "+12015550111" and not sarah.after_hours_calls
    store.close()


def test_a_non_owner_who_presses_2_passes_only_their_offer_and_the_next_producer_is_rung_at_once(
        call_app, side, twilio, demo_store, clock):
    from automations.speed_clock.tick import run_tick
    lead = post_lead(call_app)
    clock.advance(minutes=2)
    svc = call_app.extensions["leadrouter"]
    run_tick(svc.store, svc.notifier, clock)
    second = side.call()
    side.press(second, side.answer(second), "2")
    assert len(twilio.calls) == 3 and side.call()["Url"].endswith("&n=3")
    assert demo_store.get_lead(lead["lead_id"]).assigned_to == lead["assigned_to"]
