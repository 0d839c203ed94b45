"""The speed clock across daylight-saving changes: durations in real minutes, calendar steps on
the agency's wall clock (US changes: Sun Mar 8 and Sun Nov 1, 2026)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from automations.speed_clock.actions import Journal
from automations.speed_clock.business_hours import BusinessHours
from automations.config import AgencyConfig, Settings
from automations.speed_clock.sequence import STEPS, schedule
from sheets_schema.demo import demo_rows
from sheets_schema.models import Lead

ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles"]


def hours(zone: str, text: str) -> BusinessHours:
    return BusinessHours.from_settings(Settings({"Business Hours": text, "Time Zone": zone}))


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("text", ["Sun 00:00-06:00", "24/7"])
@pytest.mark.parametrize("day, real_minutes", [(8, 120), (1, 240)])  # spring forward, fall back
def test_one_to_four_a_m_on_a_change_night_is_the_time_that_really_passed(zone, text, day, real_minutes):
    tz, month = ZoneInfo(zone), 3 if day == 8 else 11
    clock = hours(zone, text)
    start, end = datetime(2026, month, day, 1, 0, tzinfo=tz), datetime(2026, month, day, 4, 0, tzinfo=tz)
    assert clock.minutes_between(start, end) == pytest.approx(real_minutes)
    assert clock.add_minutes(start, real_minutes) == end
    assert clock.add_minutes(start, real_minutes).astimezone(tz).hour == 4


@pytest.mark.parametrize("zone", ZONES)
def test_business_minutes_on_the_monday_after_the_change_are_plain_minutes(zone):
    tz = ZoneInfo(zone)
    clock = hours(zone, "Mon-Fri 08:00-18:00")
    friday = datetime(2026, 3, 6, 17, 50, tzinfo=tz)
    assert clock.add_minutes(friday, 30) == datetime(2026, 3, 9, 8, 20, tzinfo=tz)
    assert clock.minutes_between(friday, datetime(2026, 3, 9, 8, 20, tzinfo=tz)) == pytest.approx(30)


def config_in(zone: str) -> AgencyConfig:
    rows = demo_rows()
    settings = [r for r in rows["Settings"] if r["setting"] != "Time Zone"] + [{"setting": "Time Zone", "value": zone}]
    return AgencyConfig.from_rows({**rows, "Settings": settings})


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("received, day7, day30", [
    ((2026, 3, 3, 10, 0), "Tue Mar 10 10:00", "Thu Apr 02 10:00"),    # across the March change
    ((2026, 10, 27, 10, 0), "Tue Nov 03 10:00", "Thu Nov 26 10:00"),  # across November's
])
def test_day_7_and_the_nurture_keep_the_time_of_day_across_a_change(zone, received, day7, day30):
    config, tz = config_in(zone), ZoneInfo(zone)
    at = datetime(*received, tzinfo=tz).astimezone(timezone.utc)  # as stores hand times back
    lead = Lead(lead_id="L-1", received_at=at, first_name="Maria", phone="+12015550142", email="m@example.com",
                zip="10150", time_zone=zone, assigned_to="Sarah M.", assigned_at=at)
    done = Journal(keys={f"L-1/{s.step}" for s in STEPS if s.step != "seq-d7"})
    due = {d.follow_up.step: d.at.astimezone(tz).strftime("%a %b %d %H:%M")
           for d in schedule(lead, config, BusinessHours.from_settings(config.settings), done, at)}
    assert (due["seq-d7"], due["seq-d30"]) == (day7, day30)
