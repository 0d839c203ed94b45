"""The speed clock's Settings as owners type them: read forgivingly, reported by `check` when
unreadable, and never able to stop, freeze or flood the ladder."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from automations.speed_clock.business_hours import BusinessHours
from automations.checks import check_config
from automations.config import AgencyConfig, Settings
from automations.settings_text import describe_hours
from sheets_schema.demo import demo_rows
from tests.conftest import T0
from tests.speed_fixtures import NY, local, minutes, post_lead, set_setting, tick_at, walk


def with_settings(**values: str) -> AgencyConfig:
    rows = demo_rows()
    names = {k.replace("_", " ") for k in values}
    settings = [r for r in rows["Settings"] if r["setting"] not in names]
    settings += [{"setting": k.replace("_", " "), "value": v} for k, v in values.items()]
    return AgencyConfig.from_rows({**rows, "Settings": settings})


def settings_problems(config: AgencyConfig) -> list[tuple[str, str]]:
    return [(p.level, p.message) for p in check_config(config, date(2026, 11, 24)) if p.tab == "Settings"]


@pytest.mark.parametrize("text, read_as", [
    ("Mon-Fri 08:00-18:00", "Mon-Fri 08:00-18:00"),
    ("Mon - Fri 08:00 - 18:00", "Mon-Fri 08:00-18:00"),          # spaces around the dashes
    ("Mon-Fri 8am-6pm", "Mon-Fri 08:00-18:00"),
    ("Mon-Fri 8 a.m. to 6 p.m.", "Mon-Fri 08:00-18:00"),
    ("M-F 8:00-18:00", "Mon-Fri 08:00-18:00"),
    ("Monday-Friday 0800-1800", "Mon-Fri 08:00-18:00"),
    ("Mon-Fri 08:00-18:00, Sat 09:00-13:00", "Mon-Fri 08:00-18:00, Sat 09:00-13:00"),
    ("Mon-Fri 08:00-18:00; Sat 9-1", "Mon-Fri 08:00-18:00, Sat 09:00-13:00"),
    ("Mon, Wed, Fri 09:00-17:00", "Mon 09:00-17:00, Wed 09:00-17:00, Fri 09:00-17:00"),
    ("Weekdays 8:30-17:30, Sat closed", "Mon-Fri 08:30-17:30"),
    ("Mon-Sun 00:00-24:00", "Mon-Sun 00:00-24:00"),
    ("24/7", "Mon-Sun 00:00-24:00"),
])
def test_business_hours_are_read_the_way_owners_write_them(text, read_as):
    settings = Settings({"Business Hours": text})
    assert describe_hours(settings.business_hours) == read_as
    assert [level for level, _ in settings.problems if level == "error"] == []


def test_24_7_and_a_full_week_of_00_00_24_00_are_always_open():
    for text in ("24/7", "Mon-Sun 00:00-24:00", "daily 0-24"):
        hours = BusinessHours.from_settings(Settings({"Business Hours": text}))
        assert hours.always_open, text
        assert hours.minutes_between(local(2026, 11, 29, 2, 0), local(2026, 11, 29, 3, 0)) == 60  # a Sunday night


@pytest.mark.parametrize("values, level, says", [
    ({"Business_Hours": "Mon-Fri 9-5"}, "warning",
     "Business Hours 'Mon-Fri 9-5': 9-5 read as 09:00-17:00; read as Mon-Fri 09:00-17:00"),
    ({"Business_Hours": "Mon-Fri 8am-6pmx"}, "error",
     "Business Hours 'Mon-Fri 8am-6pmx': '6pmx' is not a time of day. The default Mon-Fri 08:00-18:00 is "
     "used until it is fixed"),
    ({"Business_Hours": "Mon-Fri 18:00-08:00"}, "error", "'18:00-08:00' closes before it opens"),
    ({"Business_Hours": "Mon-Fri"}, "error", "Mon, Tue, Wed, Thu, Fri: no hours given"),
    ({"Business_Hours": "8-6"}, "error", "'8-6' has no days before it"),
    ({"Business_Hours": "S-S 08:00-18:00"}, "error", "cannot read 's-s'"),
    ({"Business_Hours": "Mon-Fri 25:00-26:00"}, "error", "'25:00' is not a time of day"),
    ({"Business_Hours": "Mon-Sun closed"}, "error", "no day is open, so the speed clock would never run"),
    ({"Holidays": "2026-12-25, Thanksgiving"}, "error", "Holidays: 'Thanksgiving' not a date"),
    ({"Time_Zone": "America/Nowhere"}, "error",
     "Time Zone 'America/Nowhere' is not a time zone (write it like America/Chicago); America/New_York is used"),
    ({"Time_Zone": "America"}, "error",
     "Time Zone 'America' is not a time zone (write it like America/Chicago); America/New_York is used"),
    ({"Max_Reassignments": "several"}, "error",
     "Max Reassignments 'several' is not a number; 2 is used"),
    ({"Max_Reassignments": "-1"}, "error", "Max Reassignments '-1' is not a whole number"),
])
def test_check_names_the_setting_and_the_text_it_cannot_use(values, level, says):
    found = settings_problems(with_settings(**values))
    assert any(lvl == level and says in message for lvl, message in found), found


@pytest.mark.parametrize("values", [
    {"Business_Hours": "Mon-Fri 8am-6pm"}, {"Business_Hours": "24/7"}, {"Holidays": "Jan 1 2027, Dec 24, 12/31"},
    {"Time_Zone": "Central"}, {"Time_Zone": "EST"}, {"Max_Reassignments": "0"},
])
def test_check_is_quiet_about_settings_it_reads_as_meant(values):
    assert settings_problems(with_settings(**values)) == []


def test_holidays_in_the_ways_people_write_them():
    settings = Settings({"Holidays": "Jan 1 2027; December 31, 2026, Dec 24, 07/04/2027"})
    hours = BusinessHours.from_settings(settings)
    for closed in (local(2027, 1, 1, 10), local(2026, 12, 31, 10), local(2026, 12, 24, 10), local(2027, 12, 24, 10),
                   local(2027, 7, 5, 10) - timedelta(days=1)):
        assert not hours.is_open(closed), closed
    assert hours.is_open(local(2026, 12, 23, 10))


def test_time_zone_names_people_use_mean_their_us_zone():
    assert Settings({"Time Zone": "Central"}).tz.key == "America/Chicago"
    assert Settings({"Time Zone": "EST"}).tz.key == "America/New_York"  # not the fixed-offset 'EST' zone
    assert Settings({"Time Zone": "pacific time"}).tz.key == "America/Los_Angeles"


def test_an_unreadable_max_reassignments_keeps_the_default_instead_of_never_reassigning(demo_store, clock, notifier):
    set_setting(demo_store, "Max Reassignments", "a few")
    post_lead(demo_store, clock, notifier)
    sent = tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=30))
    assert [s.short[1:] for s in sent if s.to != "lead"][:2] == [("David L.", "producer_new_lead"),
                                                                ("David L.", "producer_new_lead_email")]


@pytest.mark.parametrize("text", ["Mon-Fri 8am-6pmx", "M-F 8-6 Sat", "Mon-Fri 9-5-7"])
def test_a_tick_with_unreadable_hours_uses_the_default_hours_and_records_the_problem(demo_store, clock, notifier,
                                                                                     text):
    set_setting(demo_store, "Business Hours", text)
    post_lead(demo_store, clock, notifier)
    sent = walk(demo_store, notifier, clock, minutes(T0, 1, 15))  # tick_at asserts: no tick error
    assert [s.short for s in sent if s.to != "lead"] == [
        ("Tue 10:05", "Sarah M.", "producer_reminder_5"),
        ("Tue 10:15", "Sarah M.", "producer_warning_15"), ("Tue 10:15", "Sarah M.", "producer_warning_15_email")]
    rows = [a for a in demo_store.activity() if a.event == "settings problem"]
    assert len(rows) == 1 and rows[0].detail.startswith(f"Business Hours {text!r}: ")  # once a day, not per tick
    assert "default Mon-Fri 08:00-18:00 is used" in rows[0].detail


def test_the_cli_tick_and_check_both_say_what_is_wrong(runner, demo_store):
    set_setting(demo_store, "Business Hours", "Mon-Fri 8am-6pmx")
    tick = runner.invoke(args=["tick", "--now", "2026-11-24T10:05:00"])
    assert tick.exit_code == 0 and "Settings problem: Business Hours 'Mon-Fri 8am-6pmx'" in tick.output
    check = runner.invoke(args=["check"])
    assert check.exit_code == 1
    assert "ERROR   Settings: Business Hours 'Mon-Fri 8am-6pmx': '6pmx' is not a time of day" in check.output


def test_an_always_open_office_escalates_on_a_sunday_night(demo_store, clock, notifier):
    set_setting(demo_store, "Business Hours", "Mon-Sun 00:00-24:00")
    sunday = local(2026, 11, 29, 3, 0)
    clock.set(sunday)
    post_lead(demo_store, clock, notifier)
    sent = walk(demo_store, notifier, clock, minutes(sunday, 1, 61))
    assert [s.short for s in sent if s.template.startswith(("producer_reminder", "producer_warning",
                                                             "manager_alert"))] == [
        ("Sun 03:05", "Sarah M.", "producer_reminder_5"),
        ("Sun 03:15", "Sarah M.", "producer_warning_15"),
        ("Sun 03:15", "Sarah M.", "producer_warning_15_email"),
        ("Sun 03:35", "David L.", "producer_reminder_5"),         # reassigned to him at 03:30
        ("Sun 03:45", "David L.", "producer_warning_15"),
        ("Sun 03:45", "David L.", "producer_warning_15_email"),
        ("Sun 04:00", "Morgan P.", "manager_alert"),              # 60 min since arrival, at 4 a.m.
        ("Sun 04:00", "Morgan P.", "manager_alert_email"),
    ]
    moves = [s.short[:2] for s in sent if s.template == "producer_new_lead"]
    assert moves[0] == ("Sun 03:30", "David L.") and [m[0] for m in moves] == ["Sun 03:30", "Sun 04:00"]
    assert [s for s in sent if s.to == "lead" and s.channel == "sms"] == []  # texts to the lead wait for 8 a.m.
    assert demo_store.get_lead("L-1001").next_follow_up.astimezone(NY).hour == 8
