"""The follow-up sequence: what the lead and the owner receive while nobody has reached the lead."""
from __future__ import annotations

from datetime import timedelta

import pytest

from automations.speed_clock.actions import Journal
from automations.speed_clock.business_hours import BusinessHours
from automations.config import AgencyConfig
from automations.notify.optout import set_opted_out
from automations.speed_clock.sequence import STEPS, schedule
from sheets_schema.demo import demo_rows
from sheets_schema.models import Lead
from tests.conftest import T0
from tests.speed_fixtures import NY, local, minutes, post_lead, set_setting, tick_at, walk


@pytest.fixture
def config() -> AgencyConfig:
    return AgencyConfig.from_rows(demo_rows())


def a_lead(received, **changes) -> Lead:
    lead = Lead(lead_id="L-1", received_at=received, first_name="Maria", phone="+12015550142",
                email="maria@example.com", zip="10150", time_zone="America/New_York", assigned_to="Sarah M.",
                assigned_at=received)
    return lead.model_copy(update=changes)


def when(config, lead, journal=None, now=None):
    hours = BusinessHours.from_settings(config.settings)
    return [(d.follow_up.step, d.at.astimezone(NY).strftime("%a %b %d %H:%M"))
            for d in schedule(lead, config, hours, journal or Journal(), now or lead.received_at)]


def test_the_sequence_follows_the_guide_for_a_tuesday_morning_lead(config):
    assert when(config, a_lead(T0)) == [
        ("seq-min5", "Tue Nov 24 10:05"),
        ("seq-min5-email", "Tue Nov 24 10:05"),
        ("seq-h1", "Tue Nov 24 11:00"),
        ("seq-h4", "Tue Nov 24 14:00"),
        ("seq-h24", "Wed Nov 25 10:00"),
        ("seq-h48", "Thu Nov 26 10:00"),
        ("seq-d7", "Tue Dec 01 10:00"),
        ("seq-d30", "Thu Dec 24 10:00"),
    ]


def test_a_2am_lead_gets_its_minute_5_text_at_8_05_not_2_05(config):
    assert when(config, a_lead(local(2026, 11, 24, 2, 0)))[:6] == [
        ("seq-min5", "Tue Nov 24 08:05"),
        ("seq-min5-email", "Tue Nov 24 02:05"),  # the intro email claims no call: it goes at any hour
        ("seq-h1", "Tue Nov 24 09:00"),
        ("seq-h4", "Tue Nov 24 12:00"),
        ("seq-h24", "Wed Nov 25 08:00"),
        ("seq-h48", "Thu Nov 26 08:00"),
    ]


def test_a_friday_450_pm_lead_is_followed_up_on_business_days(config):
    hours = dict(config.settings.values, **{"Business Hours": "Mon-Fri 08:00-17:00"})
    config = AgencyConfig.from_rows({**demo_rows(), "Settings": [{"setting": k, "value": v} for k, v in hours.items()]})
    assert when(config, a_lead(local(2026, 11, 27, 16, 50)))[:7] == [
        ("seq-min5", "Fri Nov 27 16:55"),
        ("seq-min5-email", "Fri Nov 27 16:55"),
        ("seq-h1", "Mon Nov 30 08:50"),
        ("seq-h4", "Mon Nov 30 11:50"),
        ("seq-h24", "Mon Nov 30 16:50"),       # the next business day, not Saturday
        ("seq-h48", "Tue Dec 01 16:50"),
        ("seq-d7", "Fri Dec 04 16:50"),
    ]


def test_the_monthly_nurture_starts_at_day_30_and_skips_weekends(config):
    done = Journal(keys={f"L-1/{s.step}" for s in STEPS} | {"L-1/seq-d30"})
    assert when(config, a_lead(T0), done, now=T0 + timedelta(days=31)) == [("seq-d60", "Mon Jan 25 08:00")]


def test_texts_to_a_lead_in_california_wait_for_8am_there(demo_store, clock, notifier):
    set_setting(demo_store, "Max Reassignments", "0")
    lead = post_lead(demo_store, clock, notifier, zip="90210")
    assert lead.time_zone == "America/Los_Angeles"
    at_1005 = tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=5))
    assert [s.template for s in at_1005 if s.to == "lead"] == ["lead_intro_email"]  # 7:05 a.m. in California
    assert demo_store.get_lead(lead.lead_id).next_follow_up == local(2026, 11, 24, 11, 0)
    later = walk(demo_store, notifier, clock, minutes(T0, 6, 61))
    texts = [s for s in later if s.to == "lead"]
    assert [(s.short[0], s.template) for s in texts] == [("Tue 11:00", "lead_text_min5")]  # 8:00 a.m. there
    assert texts[0].body.startswith("Hi Maria, this is Sarah M. from Demo Insurance Agency. I just tried to call you")


def test_the_whole_sequence_reaches_a_lead_nobody_can_reach(demo_store, clock, notifier):
    set_setting(demo_store, "Max Reassignments", "0")
    post_lead(demo_store, clock, notifier)
    moments = (minutes(T0, 5, 240, step=5) + minutes(T0, 60 * 24, 60 * 24 * 3, step=60)
               + minutes(T0, 60 * 24 * 7, 60 * 24 * 7) + minutes(T0, 60 * 24 * 30, 60 * 24 * 62, step=60 * 24))
    sent = [s for s in walk(demo_store, notifier, clock, moments)
            if s.to == "lead" or s.template == "producer_call_reminder"]
    assert [s.short for s in sent] == [
        ("Tue 10:05", "lead", "lead_text_min5"),
        ("Tue 10:05", "lead", "lead_intro_email"),
        ("Tue 11:00", "Sarah M.", "producer_call_reminder"),
        ("Tue 14:00", "lead", "lead_text_h4"),
        ("Wed 10:00", "Sarah M.", "producer_call_reminder"),
        ("Thu 10:00", "lead", "lead_last_try_email"),
        ("Tue 10:00", "lead", "lead_final_email"),
        ("Thu 10:00", "lead", "lead_nurture_email"),       # day 30: Thursday Dec 24
        ("Mon 10:00", "lead", "lead_nurture_email"),       # day 60 falls on a Saturday: Monday's tick
    ]
    assert [s.at.date().isoformat() for s in sent[-3:]] == ["2026-12-01", "2026-12-24", "2027-01-25"]
    assert demo_store.get_lead("L-1001").next_follow_up == local(2027, 2, 22, 10, 0)  # day 90, a Monday


def test_after_a_long_outage_only_the_newest_step_of_each_kind_is_sent(demo_store, clock, notifier):
    set_setting(demo_store, "Max Reassignments", "0")
    post_lead(demo_store, clock, notifier)
    sent = walk(demo_store, notifier, clock, [T0 + timedelta(hours=5)])
    assert sorted(s.short[1:] for s in sent) == sorted([
        ("Morgan P.", "manager_alert"), ("Morgan P.", "manager_alert_email"),          # 30 min: cap 0
        ("lead", "lead_intro_email"), ("Sarah M.", "producer_call_reminder"), ("lead", "lead_text_h4"),
    ])
    events = [(a.event, a.key) for a in demo_store.activity("L-1001")]
    assert ("follow-up skipped", "L-1001/seq-min5") in events  # no "I just tried to call you" five hours late
    assert ("escalation skipped", "L-1001/esc-5") in events and ("escalation skipped", "L-1001/esc-15") in events
    assert ("escalation skipped", "L-1001/esc-60") in events  # the manager hears once, not twice at once
    assert walk(demo_store, notifier, clock, [T0 + timedelta(hours=5, minutes=1)]) == []


def test_a_lead_who_texts_stop_gets_nothing_more_from_the_sequence(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    set_opted_out(demo_store, "+12015550142", True)
    sent = walk(demo_store, notifier, clock, minutes(T0, 1, 65) + minutes(T0, 60 * 24, 60 * 24 * 8, step=60 * 24))
    assert [s for s in sent if s.to == "lead" or s.template == "producer_call_reminder"] == []
    assert "follow-up stopped" in [a.event for a in demo_store.activity("L-1001")]
    assert demo_store.get_lead("L-1001").next_follow_up is None
    assert [s.template for s in sent][:1] == ["producer_reminder_5"]  # the owner is still chased to call


def test_a_lead_marked_lost_gets_nothing_more(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    walk(demo_store, notifier, clock, minutes(T0, 1, 9))
    demo_store.update_lead("L-1001", {"status": "Lost", "lost_reason": "wrong number"})
    assert tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=10)) == []
    assert demo_store.get_lead("L-1001").first_contact_at == T0 + timedelta(minutes=10)
    later = walk(demo_store, notifier, clock, minutes(T0, 11, 120, step=5) + minutes(T0, 60 * 24, 60 * 24 * 31,
                                                                                    step=60 * 24))
    assert later == []


def test_next_follow_up_shows_the_next_step(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    tick_at(demo_store, notifier, clock, T0)
    assert demo_store.get_lead("L-1001").next_follow_up == local(2026, 11, 24, 10, 5)
    tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=5))
    assert demo_store.get_lead("L-1001").next_follow_up == local(2026, 11, 24, 11, 0)


def test_a_text_template_whose_channel_reads_text_is_scheduled_for_the_leads_waking_hours(config):
    """Owners write 'Text' or 'SMS' in the Channel column: the schedule still treats it as a text."""
    lead = a_lead(T0, zip="90210", time_zone="America/Los_Angeles")  # 7:00 a.m. in California
    spelled = AgencyConfig.from_rows({**demo_rows(), "Templates": [
        dict(row, channel="Text") if row["key"] == "lead_text_min5" else row for row in demo_rows()["Templates"]]})
    assert dict(when(spelled, lead))["seq-min5"] == dict(when(config, lead))["seq-min5"] == "Tue Nov 24 11:00"
