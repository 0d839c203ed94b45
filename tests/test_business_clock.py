"""The business clock and quiet hours: minutes count while the office is open; texts wait for daytime."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from automations.speed_clock.business_hours import BusinessHours
from automations.config import Settings
from automations.notify.quiet_hours import next_text_time
from sheets_schema.models import Lead

NY = ZoneInfo("America/New_York")
HOURS = BusinessHours.from_settings(Settings({"Business Hours": "Mon-Fri 08:00-18:00", "Holidays": "2026-12-25"}))


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_a_lead_at_2am_starts_its_clock_when_the_office_opens():
    assert HOURS.next_open(ny(2026, 11, 24, 2, 0)) == ny(2026, 11, 24, 8, 0)
    assert HOURS.add_minutes(ny(2026, 11, 24, 2, 0), 30) == ny(2026, 11, 24, 8, 30)


def test_friday_4_50_pm_plus_30_business_minutes_is_monday_8_20_am():
    assert HOURS.add_minutes(ny(2026, 11, 27, 17, 50), 30) == ny(2026, 11, 30, 8, 20)
    assert HOURS.minutes_between(ny(2026, 11, 27, 17, 50), ny(2026, 11, 30, 8, 20)) == pytest.approx(30)


def test_holidays_are_closed():
    assert not HOURS.is_open(ny(2026, 12, 25, 10, 0))
    assert HOURS.next_open(ny(2026, 12, 25, 10, 0)) == ny(2026, 12, 28, 8, 0)  # Friday holiday -> Monday


def test_minutes_inside_one_day_are_plain_minutes():
    assert HOURS.minutes_between(ny(2026, 11, 24, 9, 0), ny(2026, 11, 24, 9, 7)) == pytest.approx(7)


def test_weekend_hours_can_be_configured():
    hours = BusinessHours.from_settings(Settings({"Business Hours": "Mon-Fri 08:00-18:00; Sat 09:00-12:00"}))
    assert hours.is_open(ny(2026, 11, 28, 10, 0)) and not hours.is_open(ny(2026, 11, 29, 10, 0))


@pytest.mark.parametrize("zip_code, tz, utc_hour, allowed_utc_hour", [
    ("10150", "America/New_York", 3, 13),  # 10 p.m. in New York -> 8 a.m. New York
    ("60601", "America/Chicago", 3, 14),  # 9 p.m. in Chicago -> 8 a.m. Chicago
    ("96813", "Pacific/Honolulu", 3, 3),  # 5 p.m. in Honolulu: fine
    ("96813", "Pacific/Honolulu", 8, 18),  # 10 p.m. in Honolulu -> 8 a.m. Honolulu
])
def test_texts_to_a_lead_wait_for_daytime_in_the_leads_own_time_zone(zip_code, tz, utc_hour, allowed_utc_hour):
    from datetime import timezone
    lead = Lead(lead_id="L-1", received_at=datetime(2026, 11, 25, tzinfo=timezone.utc), zip=zip_code, time_zone=tz)
    moment = datetime(2026, 11, 25, utc_hour, 0, tzinfo=timezone.utc)
    allowed = next_text_time(lead, moment, Settings({}))
    assert allowed.astimezone(timezone.utc).hour == allowed_utc_hour
    assert allowed >= moment
