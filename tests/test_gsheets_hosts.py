"""One spreadsheet, several processes and hosts; and the spreadsheet's own time zone.

Each GSheetsStore here has its own journal file, as on separate machines: the tick lease in
the spreadsheet lets one worker tick, a standby takes over without sending again what the
first one sent, a web process on its own keeps its config fresh, and a new journal never
hands out a Lead ID the sheet already has.
"""
from __future__ import annotations

from collections import Counter

import pytest

from app import create_app
from automations.checks import check_config
from automations.notify.channels.console import ConsoleNotifier
from automations.speed_clock.scheduler import TickLease, tick_once
from tests.conftest import T0, load_demo
from tests.gsheets_fixtures import Waits, make_store, post


@pytest.fixture
def host_a(store_gsheets):
    load_demo(store_gsheets)
    yield store_gsheets
    store_gsheets.close()


@pytest.fixture
def other_host(fake_sheets, service_account_file, tmp_path, clock):
    """Opens stores with their own journal files, as processes on other machines do."""
    opened = []

    def open_store(name: str, **kwargs):
        s = make_store(fake_sheets, service_account_file, tmp_path / f"{name}.db", Waits(), clock=clock, **kwargs)
        opened.append(s)
        return s
    yield open_store
    for s in opened:
        s.close()


# ---- the tick lease in the spreadsheet ---------------------------------------------------------------
def test_two_workers_on_different_hosts_tick_one_at_a_time_and_a_takeover_sends_nothing_twice(
        host_a, other_host, fake_sheets, clock, caplog):
    store_b = other_host("host-b")
    text_a, text_b = ConsoleNotifier(), ConsoleNotifier()
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=host_a, clock=clock, notifier=text_a)
    lead_id = post(app.test_client()).get_json()["lead_id"]
    worker_a = TickLease(host_a, "worker-a", clock=clock)
    worker_b = TickLease(store_b, "worker-b", clock=clock)

    for _ in range(12):  # six minutes of ticks on both hosts
        clock.advance(seconds=30)
        tick_once(host_a, text_a, clock, worker_a)
        assert tick_once(store_b, text_b, clock, worker_b) is None
    assert any(m.key.startswith(f"{lead_id}/esc-5") for m in text_a.sent)
    assert list(text_b.sent) == []
    assert any("standing by: worker worker-a holds the tick lease" in r.getMessage() for r in caplog.records)

    worker_a.release()  # host A stops (SIGTERM): its last Activity rows are written, the lease let go
    clock.advance(minutes=10)  # the 15-minute warning is due
    report = tick_once(store_b, text_b, clock, worker_b)
    assert report is not None
    assert tick_once(host_a, text_a, clock, worker_a) is None  # were A to come back, it stands by

    sent = Counter(m.key for m in text_a.sent + text_b.sent)
    assert all(n == 1 for n in sent.values()), sent
    assert not any(m.key.startswith(f"{lead_id}/esc-5") for m in text_b.sent)  # A had sent it
    assert any(m.key.startswith(f"{lead_id}/esc-15") for m in text_b.sent)


def test_a_worker_whose_holder_died_takes_over_when_the_lease_runs_out(host_a, other_host, fake_sheets, clock):
    store_b = other_host("host-b")
    worker_a = TickLease(host_a, "worker-a", clock=clock)
    worker_b = TickLease(store_b, "worker-b", clock=clock)
    assert worker_a.acquire()
    worker_a.release(between_ticks=True)  # a tick done; then host A loses power
    assert not worker_b.acquire()
    clock.advance(seconds=121)
    assert worker_b.acquire()
    worker_b.release(between_ticks=True)
    assert not worker_a.acquire()


def test_a_lone_worker_renews_its_lease_within_the_ticks_own_calls(host_a, fake_sheets, clock):
    worker = TickLease(host_a, "worker-a", clock=clock)
    assert worker.acquire()
    worker.release(between_ticks=True)
    calls = []
    for _ in range(8):  # four minutes of 30-second ticks
        clock.advance(seconds=30)
        mark = fake_sheets.mark()
        assert tick_once(host_a, ConsoleNotifier(), clock, worker) is not None
        calls.append(fake_sheets.kinds(mark))
    assert all(kinds[0] == "values.batchGet" and kinds.count("values.batchGet") == 1 for kinds in calls)
    assert sum(len(kinds) for kinds in calls) <= 8 + 4  # one read a tick, a renewal every other minute at most


# ---- a web process on its own -------------------------------------------------------------------------
def test_a_web_process_no_worker_shares_a_journal_with_reads_the_sheet_itself(host_a, other_host, fake_sheets,
                                                                              clock, caplog):
    web = other_host("web", web_refresh_seconds=0.0)  # "has a worker read it lately?" -> never, here
    assert web.config().settings.agency_name != "Harbor Insurance"
    web.settle()
    row = next(i for i, r in enumerate(fake_sheets.table("Settings")) if r and r[0] == "Agency Name")
    fake_sheets.type("Settings", f"B{row + 1}", "Harbor Insurance")  # the owner's edit
    assert web.config().settings.agency_name != "Harbor Insurance"  # cached: no read per request
    clock.advance(seconds=6)
    mark = fake_sheets.mark()
    web.config()  # a request: it starts one read in the background and does not wait for it
    web.settle()
    assert fake_sheets.kinds(mark) == ["values.batchGet"]
    assert web.config().settings.agency_name == "Harbor Insurance"
    assert any("no worker shares this journal" in r.getMessage() for r in caplog.records)


def test_a_new_journal_never_hands_out_a_lead_id_the_sheet_already_has(host_a, other_host, fake_sheets, clock):
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=host_a, clock=clock, notifier=ConsoleNotifier())
    ids = [post(app.test_client(), i).get_json()["lead_id"] for i in range(3)]
    host_a.refresh()
    moved = other_host("new-machine")  # the journal file was lost, or the service moved machines
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=moved, clock=clock, notifier=ConsoleNotifier())
    new_id = post(app.test_client(), 9).get_json()["lead_id"]
    assert new_id not in ids and new_id == "L-1004"
    assert Counter(r["Lead ID"] for r in fake_sheets.records("Leads"))[new_id] == 1


# ---- the spreadsheet's time zone -------------------------------------------------------------------------
def test_init_sets_the_spreadsheets_time_zone_from_settings_and_keeps_the_times_already_written(
        host_a, fake_sheets, clock):
    assert (fake_sheets.time_zone, fake_sheets.auto_recalc) == ("America/New_York", "MINUTE")
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=host_a, clock=clock, notifier=ConsoleNotifier())
    lead_id = post(app.test_client()).get_json()["lead_id"]  # 10:00 in New York
    host_a.refresh()
    assert not [p for p in check_config(host_a.config()) if "time zone" in p.message]

    row = next(i for i, r in enumerate(fake_sheets.table("Settings")) if r and r[0] == "Time Zone")
    fake_sheets.type("Settings", f"B{row + 1}", "America/Chicago")  # the agency is in Chicago after all
    host_a.refresh()
    warning = [p.message for p in check_config(host_a.config()) if "time zone" in p.message]
    assert warning and "America/New_York" in warning[0] and "America/Chicago" in warning[0]

    host_a.init()
    assert fake_sheets.time_zone == "America/Chicago"
    received = fake_sheets.table("Leads")[0].index("Received At")
    sheet = fake_sheets.sheets["Leads"]
    from tests.fake_sheets_api import formatted
    assert formatted(sheet.grid[1][received].value, sheet.number_format(1, received)).startswith("2026-11-24 09:00")
    host_a.refresh()
    assert host_a.get_lead(lead_id).received_at == T0  # the same instant, shown in Chicago time
    assert not [p for p in check_config(host_a.config()) if "time zone" in p.message]


def test_check_warns_when_the_owner_changes_the_spreadsheets_time_zone_by_hand(host_a, fake_sheets, clock):
    fake_sheets.time_zone = "Europe/London"  # File -> Settings -> Time zone
    clock.advance(minutes=11)  # the spreadsheet's properties are re-read every ten minutes
    assert host_a.refresh()
    warning = [p for p in check_config(host_a.config()) if "time zone" in p.message]
    assert warning and warning[0].level == "warning" and "Europe/London" in warning[0].message


def test_a_time_zone_written_the_short_way_gives_the_spreadsheet_the_zone_the_service_uses(host_a, fake_sheets):
    row = next(i for i, r in enumerate(fake_sheets.table("Settings")) if r and r[0] == "Time Zone")
    fake_sheets.type("Settings", f"B{row + 1}", "Pacific")  # Settings read it as America/Los_Angeles
    host_a.refresh()
    host_a.init()
    assert fake_sheets.time_zone == "America/Los_Angeles" == host_a.config().settings.tz.key
    host_a.refresh()
    assert not [p for p in check_config(host_a.config()) if "time zone" in p.message]
