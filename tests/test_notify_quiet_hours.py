"""Texts to leads wait for 8 a.m. in the lead's own time zone, then go out once."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from automations.intake.submission import submit_lead
from automations.notify.delivery import compose, deliver, retry_due
from automations.notify.outbox import pending
from tests.conftest import lead_payload

UTC = timezone.utc
PLACES = {"New York": ("10150", "2015550181"), "Chicago": ("60601", "3125550182"),
          "Honolulu": ("96813", "8085550183")}


def lead_text(store, clock, city: str):
    zip_code, phone = PLACES[city]
    outcome = submit_lead(lead_payload(zip=zip_code, phone=phone, email=f"{city[:3].lower()}@example.com"),
                          store, clock)
    config = store.config()
    owner = config.producer(outcome.lead.assigned_to)
    return outcome, compose(f"{outcome.lead.lead_id}/min5", "lead_text_min5", outcome.lead, config,
                            to_producer=None, owner=owner)[0]


def sent_to(notifier) -> list[str]:
    return [m.to for m in notifier.sent if m.recipient == "lead"]


@pytest.mark.parametrize("utc_time, goes_now, waits_until", [
    # Tue 21:30 in New York = 20:30 in Chicago = 16:30 in Honolulu
    (datetime(2026, 11, 25, 2, 30, tzinfo=UTC), {"Chicago", "Honolulu"},
     {"New York": datetime(2026, 11, 25, 13, 0, tzinfo=UTC)}),
    # Wed 08:30 in New York = 07:30 in Chicago = 03:30 in Honolulu
    (datetime(2026, 11, 25, 13, 30, tzinfo=UTC), {"New York"},
     {"Chicago": datetime(2026, 11, 25, 14, 0, tzinfo=UTC), "Honolulu": datetime(2026, 11, 25, 18, 0, tzinfo=UTC)}),
])
def test_a_text_to_a_lead_waits_for_8am_in_the_leads_time_zone(demo_store, clock, notifier, utc_time, goes_now,
                                                              waits_until):
    clock.set(utc_time)
    texts = {city: lead_text(demo_store, clock, city)[1] for city in PLACES}
    results = {city: deliver(m, demo_store, notifier, clock) for city, m in texts.items()}
    assert {c for c, r in results.items() if r.sent} == goes_now
    held = {p.msg.to: p.due for p in pending(demo_store)}
    assert held == {texts[c].to: when for c, when in waits_until.items()}
    for city in waits_until:
        assert results[city].detail.startswith("deferred until 2026-11-25 08:00")
        rows = [a for a in demo_store.activity(texts[city].lead_id) if a.event == "sms deferred"]
        assert len(rows) == 1 and rows[0].detail.startswith("until 2026-11-25 08:00")

    for when in sorted(waits_until.values()):  # each goes when its own morning comes, exactly once
        clock.set(when)
        retry_due(demo_store, notifier, clock)
        retry_due(demo_store, notifier, clock)
        due_now = {c for c, w in waits_until.items() if w <= when}
        assert set(sent_to(notifier)) == {texts[c].to for c in goes_now | due_now}
    assert len(sent_to(notifier)) == len(PLACES) and pending(demo_store) == []


def test_producers_are_texted_at_night_and_the_lead_waits(demo_store, clock, notifier):
    clock.set(datetime(2026, 11, 25, 4, 0, tzinfo=UTC))  # 11 p.m. in New York
    outcome, text = lead_text(demo_store, clock, "New York")
    for m in outcome.messages:
        assert deliver(m, demo_store, notifier, clock).sent
    assert not deliver(text, demo_store, notifier, clock).sent
    assert [m.recipient for m in notifier.sent] == ["Sarah M.", "Sarah M."]


def test_a_deferred_text_is_dropped_when_the_lead_is_reached_meanwhile(demo_store, clock, notifier):
    clock.set(datetime(2026, 11, 25, 4, 0, tzinfo=UTC))
    outcome, text = lead_text(demo_store, clock, "New York")
    deliver(text, demo_store, notifier, clock)
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    demo_store.update_lead(outcome.lead.lead_id, {"status": "Contacted", "first_contact_at": clock.now()})
    clock.set(datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
    assert retry_due(demo_store, notifier, clock)["cancelled"] == 1
    assert sent_to(notifier) == [] and pending(demo_store) == []


def test_a_lead_who_texts_stop_while_a_text_waits_never_gets_it(demo_store, clock, notifier):
    from automations.notify.optout import set_opted_out
    clock.set(datetime(2026, 11, 25, 4, 0, tzinfo=UTC))
    _, text = lead_text(demo_store, clock, "New York")
    deliver(text, demo_store, notifier, clock)
    set_opted_out(demo_store, text.to, True)
    clock.set(datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
    assert retry_due(demo_store, notifier, clock)["skipped"] == 1
    assert sent_to(notifier) == []


def test_a_lead_whose_zip_is_missing_from_the_data_waits_by_the_phones_area_code(demo_store, clock, notifier):
    clock.set(datetime(2026, 11, 25, 13, 30, tzinfo=UTC))  # 08:30 in New York, 03:30 in Honolulu
    outcome = submit_lead(lead_payload(zip="96899", phone="8085550183", email="hnl@example.com"), demo_store, clock)
    demo_store.update_lead(outcome.lead.lead_id, {"time_zone": ""})  # a row imported without its zone
    lead, config = demo_store.get_lead(outcome.lead.lead_id), demo_store.config()
    assert lead.time_zone == "" and lead.zip == "96899"  # a well-formed ZIP the offline data does not know
    [text] = compose(f"{lead.lead_id}/min5", "lead_text_min5", lead, config, to_producer=None,
                     owner=config.producer(lead.assigned_to))
    result = deliver(text, demo_store, notifier, clock)
    assert not result.sent and "Pacific/Honolulu" in result.detail
    assert [p.due for p in pending(demo_store)] == [datetime(2026, 11, 25, 18, 0, tzinfo=UTC)]  # 08:00 there


def set_quiet_hours(store, value: str) -> None:
    from tests.speed_fixtures import set_setting
    set_setting(store, "Quiet Hours", value)


@pytest.mark.parametrize("setting, waits_until", [
    ("22:00-07:00", datetime(2026, 11, 25, 13, 0, tzinfo=UTC)),  # wider than the law: clamped to 08:00
    ("20:00-09:00", datetime(2026, 11, 25, 14, 0, tzinfo=UTC)),  # narrower: the owner's 09:00 holds
    ("9pm-9am", datetime(2026, 11, 25, 14, 0, tzinfo=UTC)),      # as people write it
    ("never", datetime(2026, 11, 25, 13, 0, tzinfo=UTC)),        # unreadable: the legal 21:00-08:00
])
def test_quiet_hours_can_be_narrowed_but_never_widened_beyond_8am_to_9pm(demo_store, clock, notifier, setting,
                                                                          waits_until):
    set_quiet_hours(demo_store, setting)
    clock.set(datetime(2026, 11, 25, 12, 30, tzinfo=UTC))  # 07:30 in New York
    _, text = lead_text(demo_store, clock, "New York")
    assert not deliver(text, demo_store, notifier, clock).sent
    assert [p.due for p in pending(demo_store)] == [waits_until]


@pytest.mark.parametrize("setting, level, says", [
    ("22:00-07:00", "WARNING", "Quiet Hours 22:00-07:00 would allow texts to leads outside 8:00-21:00, which the law "
                               "does not; 21:00-08:00 is used"),
    ("never", "ERROR", "Quiet Hours 'never' is not readable (write it like 21:00-08:00); 21:00-08:00 is used"),
    ("12:00-13:00", "WARNING", "Quiet Hours 12:00-13:00 is a break inside the day"),
])
def test_check_reports_quiet_hours_it_cannot_use_as_written(demo_store, app, runner, setting, level, says):
    set_quiet_hours(demo_store, setting)
    with app.app_context():
        output = runner.invoke(args=["check"]).output
    assert f"{level:<7} Settings: {says}" in output


def test_check_is_quiet_about_quiet_hours_it_can_use(demo_store, app, runner):
    set_quiet_hours(demo_store, "8:30 pm - 8:30 am")
    with app.app_context():
        assert "Quiet Hours" not in runner.invoke(args=["check"]).output


def test_leadrouter_outbox_says_nothing_waiting_then_lists_a_held_text_with_when_it_goes(app, demo_store, clock,
                                                                                         notifier):
    runner = app.test_cli_runner()
    with app.app_context():
        assert runner.invoke(args=["outbox"]).output == "Nothing waiting: every message has gone out.\n"
    clock.set(datetime(2026, 11, 25, 2, 30, tzinfo=UTC))  # 21:30 in New York: quiet hours
    outcome, text = lead_text(demo_store, clock, "New York")
    assert not deliver(text, demo_store, notifier, clock).sent
    with app.app_context():
        listing = runner.invoke(args=["outbox"]).output
    assert f"{outcome.lead.lead_id} lead_text_min5  held for quiet hours, goes at 2026-11-25 08:00 -05:00" in listing
    assert listing.startswith("2026-11-25 08:00 -05:00  deferred sms   lead (")
