"""Moving an agency between stores with `leadrouter export` / `import`: the same instants, the
same journal (no message sent twice), and a Google Sheet written within its quota."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import Workbook

from automations.clock import FrozenClock
from automations.notify.channels.console import ConsoleNotifier
from sheets_schema.models import Activity
from sheets_schema.sql_store import SqlStore
from automations.speed_clock.status import change_status
from sheets_schema.workbook import export_workbook, import_workbook
from tests.conftest import T0, load_demo
from tests.dashboard_fixtures import lead, set_time_zone
from tests.speed_fixtures import minutes, post_lead, tick_at, walk


def test_a_los_angeles_agency_moved_into_a_fresh_store_keeps_every_instant(demo_store, fresh_store, tmp_path):
    set_time_zone(demo_store, "America/Los_Angeles")
    demo_store.add_lead(lead("L-2001", T0, "Sarah M.", first_contact_at=T0 + timedelta(minutes=4)))
    demo_store.add_activity([Activity(time=T0, lead_id="L-2001", event="note", detail="called back")])
    export_workbook(demo_store, tmp_path / "la.xlsx")

    import_workbook(fresh_store, tmp_path / "la.xlsx", T0, change_status)  # a fresh store starts on New York time

    moved = fresh_store.get_lead("L-2001")
    assert moved.received_at == T0 and moved.first_contact_at == T0 + timedelta(minutes=4)
    assert [a.time for a in fresh_store.activity("L-2001") if a.event == "note"] == [T0]
    assert str(fresh_store.config().settings.tz) == "America/Los_Angeles"


@pytest.mark.parametrize("typed", ["America/Los_Angeles", "Pacific"])  # as the Settings tab reads it
def test_a_hand_made_workbook_is_read_in_its_own_settings_time_zone(demo_store, tmp_path, typed):
    book = Workbook()
    book.active.title = "Settings"
    book["Settings"].append(["Setting", "Value"])
    book["Settings"].append(["Time Zone", typed])
    leads = book.create_sheet("Leads")
    leads.append(["Lead ID", "Received At", "Status"])
    leads.append(["L-5000", datetime(2026, 11, 2, 9), "New"])
    book.save(tmp_path / "typed.xlsx")

    import_workbook(demo_store, tmp_path / "typed.xlsx", T0, change_status)  # the store was on New York time

    assert demo_store.get_lead("L-5000").received_at == datetime(2026, 11, 2, 17, tzinfo=timezone.utc)


def test_a_store_filled_from_a_workbook_does_not_run_the_escalation_ladder_again(demo_store, fresh_store, tmp_path):
    """The lead was reminded, warned, reassigned twice (Max Reassignments) and the manager alerted."""
    clock, notifier = FrozenClock(T0), ConsoleNotifier()
    untouched = post_lead(demo_store, clock, notifier)
    walk(demo_store, notifier, clock, minutes(T0, 1, 100, step=3))
    owner = demo_store.get_lead(untouched.lead_id).assigned_to
    assert tick_at(demo_store, ConsoleNotifier(), clock, T0 + timedelta(minutes=101)) == []  # the ladder is done
    export_workbook(demo_store, tmp_path / "move.xlsx")

    summary = import_workbook(fresh_store, tmp_path / "move.xlsx", T0 + timedelta(minutes=101), change_status)
    sent = tick_at(fresh_store, ConsoleNotifier(), clock, T0 + timedelta(minutes=101))

    assert sent == [], [s.short for s in sent]
    assert fresh_store.get_lead(untouched.lead_id).assigned_to == owner
    assert summary.activity_added == len(demo_store.activity()) and summary.activity_known == 0
    assert fresh_store.journal([untouched.lead_id]) == demo_store.journal([untouched.lead_id])


def test_importing_a_workbook_into_the_store_it_came_from_adds_no_activity(demo_store, tmp_path):
    clock, notifier = FrozenClock(T0), ConsoleNotifier()
    post_lead(demo_store, clock, notifier)
    demo_store.add_activity([Activity(time=T0 + timedelta(microseconds=999_700), lead_id="L-1001", event="note")])
    export_workbook(demo_store, tmp_path / "same.xlsx")
    before = [a.to_row() for a in demo_store.activity()]

    summary = import_workbook(demo_store, tmp_path / "same.xlsx", T0 + timedelta(hours=1), change_status)

    assert [a.to_row() for a in demo_store.activity()] == before
    assert summary.activity_added == 0 and summary.activity_known == len(before)
    assert f"Activity rows added: 0 ({len(before)} already there)" in summary.lines()


def test_an_activity_tab_without_time_and_event_columns_is_left_alone(demo_store, tmp_path):
    book = Workbook()
    book.active.title = "Activity"
    book["Activity"].append(["When", "What"])
    book["Activity"].append(["yesterday", "called"])
    book.save(tmp_path / "odd.xlsx")
    before = len(demo_store.activity())

    summary = import_workbook(demo_store, tmp_path / "odd.xlsx", T0, change_status)

    assert len(demo_store.activity()) == before
    assert any("Activity" in s and "'Time'" in s for s in summary.skipped)


@pytest.fixture
def sheet_store(store_gsheets):
    load_demo(store_gsheets)
    yield store_gsheets
    store_gsheets.close()


def test_importing_forty_leads_into_a_google_sheet_costs_one_append(sheet_store, fake_sheets, tmp_path):
    source = SqlStore(f"sqlite:///{tmp_path / 'source.db'}")
    load_demo(source)
    for i in range(40):
        source.add_lead(lead(f"L-{3000 + i}", T0 - timedelta(hours=i), "Sarah M.", status="Contacted"))
    export_workbook(source, tmp_path / "forty.xlsx")
    source.close()
    sheet_store.refresh()
    mark = fake_sheets.mark()

    summary = import_workbook(sheet_store, tmp_path / "forty.xlsx", T0, change_status)

    assert summary.leads_added == 40
    assert fake_sheets.count("batchUpdate.appendCells", since=mark) == 1, fake_sheets.kinds(mark)
    # one call per config tab replaced and one for the leads (it was 49: an append per lead)
    assert fake_sheets.count(since=mark) <= 12, fake_sheets.kinds(mark)
    assert sorted(r["Lead ID"] for r in fake_sheets.records("Leads")) == [f"L-{3000 + i}" for i in range(40)]
