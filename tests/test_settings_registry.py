"""Every Settings row is read as a person means it, or named by `check` with its documented default used."""
from __future__ import annotations

import pytest

from app import create_app
from automations.checks import check_config, check_delivery
from automations.config import DEFAULT_SETTINGS, AgencyConfig, Settings
from automations.settings_registry import spec_for
from automations.settings_text import read_duration, read_number, read_yes_no
from sheets_schema.demo import demo_rows
from tests.conftest import lead_payload
from tests.speed_fixtures import set_setting

UNREADABLE = "zzz ?? !!"


def demo_config(**settings: str) -> AgencyConfig:
    rows = demo_rows()
    rows["Settings"] = [r for r in rows["Settings"] if r["setting"] not in settings]
    rows["Settings"] += [{"setting": k, "value": v} for k, v in settings.items()]
    return AgencyConfig.from_rows(rows)


def messages(config: AgencyConfig) -> list[str]:
    problems = check_config(config) + check_delivery(config, email_configured=False, public_url="")
    return [f"{p.level} {p.tab}: {p.message}" for p in problems]


def walk(defaults: dict[str, str]) -> list[str]:
    """Each setting given unreadable text: the names `check` did not mention, or whose value was not the default."""
    failures = []
    for name, default in defaults.items():
        if spec_for(name, default).free_text:
            continue
        config = demo_config(**{name: UNREADABLE})
        named = [m for m in messages(config) if m.startswith("error Settings") and name in m and UNREADABLE in m]
        if not named:
            failures.append(f"{name}: check is silent")
        if config.settings.value(name) != Settings({}).value(name):
            failures.append(f"{name}: {config.settings.value(name)!r} used instead of the default")
    return failures


def test_every_setting_with_unreadable_text_is_named_by_check_and_falls_back_to_its_documented_default():
    assert walk(DEFAULT_SETTINGS) == []


def test_a_setting_added_later_without_a_reader_is_read_by_its_defaults_shape_and_covered_too(monkeypatch):
    monkeypatch.setitem(DEFAULT_SETTINGS, "Leads Per Hour Limit", "20")
    monkeypatch.setitem(DEFAULT_SETTINGS, "Text Owners", "Y")
    assert walk({"Leads Per Hour Limit": "20", "Text Owners": "Y"}) == []
    assert demo_config(**{"Leads Per Hour Limit": "twenty five"}).settings.value("Leads Per Hour Limit") == 25
    assert demo_config(**{"Text Owners": "no"}).settings.value("Text Owners") is False


def test_free_text_settings_take_any_text_as_written():
    assert demo_config(**{"Agency Name": UNREADABLE}).settings.agency_name == UNREADABLE
    assert not [m for m in messages(demo_config(**{"Agency Name": UNREADABLE})) if UNREADABLE in m]


@pytest.mark.parametrize("text, days", [("30", 30), ("30 days", 30), ("2 weeks", 14), ("thirty", 30),
                                        ("a month", 30), ("1 week", 7), ("Forty-five days", 45), ("0", 0)])
def test_duplicate_window_is_read_as_people_write_it(text, days):
    assert demo_config(**{"Duplicate Window": text}).settings.duplicate_window_days == days
    assert not [m for m in messages(demo_config(**{"Duplicate Window": text})) if "Duplicate Window" in m]


def test_an_unreadable_duplicate_window_keeps_30_days_instead_of_switching_duplicates_off():
    config = demo_config(**{"Duplicate Window": "about a month-ish"})
    assert config.settings.duplicate_window_days == 30
    assert ("error Settings: Duplicate Window 'about a month-ish' is not a number of days (write it like 30 or 30 "
            "days); 30 days is used") in messages(config)


@pytest.mark.parametrize("window", ["thirty", "30 days"])
def test_the_same_person_posting_twice_inside_a_worded_window_has_one_owner(demo_store, clock, notifier, window):
    set_setting(demo_store, "Duplicate Window", window)
    client = create_app({"TESTING": True, "SEND_INLINE": True}, store=demo_store, clock=clock,
                        notifier=notifier).test_client()
    first = client.post("/leads", json=lead_payload())
    second = client.post("/leads", json=lead_payload())
    assert first.status_code == 201 and second.status_code == 200 and second.get_json()["duplicate"] is True
    assert len(demo_store.leads()) == 1


def test_tick_seconds_and_max_reassignments_take_words_and_units():
    settings = demo_config(**{"Tick Seconds": "1 minute", "Max Reassignments": "three"}).settings
    assert settings.tick_seconds == 60 and settings.max_reassignments == 3


def test_the_readers_understand_words_units_and_yes_no():
    assert read_number("twenty-five") == 25 and read_number("a hundred") == 100 and read_number("1,200") == 1200
    assert read_duration("90 sec", "minutes") == 1.5 and read_duration("2 hours", "minutes") == 120
    assert [read_yes_no(t) for t in ("Y", "yes", "TRUE", "x", "N", "no", "off")] == [True] * 4 + [False] * 3
    for bad in ("maybe", "later"):
        with pytest.raises(ValueError):
            read_yes_no(bad)


def test_producers_cells_take_number_words_and_yes_no_words_and_check_names_what_it_cannot_read():
    config = demo_config()
    rows = demo_rows()
    rows["Producers"][0].update(max_active_leads="ten", active="Yes!")
    rows["Producers"][1].update(max_active_leads="lots")
    config = AgencyConfig.from_rows(rows)
    sarah, james = config.producer("Sarah M."), config.producer("James K.")
    assert sarah.max_active_leads == 10 and sarah.is_active and not sarah.problems
    assert james.max_active_leads is None
    assert "error Producers: James K.: Max Active Leads 'lots' is not a whole number; read as blank, so no cap" \
        in messages(config)
