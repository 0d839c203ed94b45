"""One tick: status sync, exactly-once under crashes and concurrent workers, errors, the CLI."""
from __future__ import annotations

import pytest

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from automations.speed_clock.actions import Journal
from automations.speed_clock.business_hours import BusinessHours
from automations.clock import FrozenClock
from automations.notify.channels.console import ConsoleNotifier
from automations.speed_clock.escalation import ladder
from automations.notify.delivery import deliver_all, new_lead_messages
from automations.speed_clock.tick import move_lead, run_tick
from sheets_schema.models import Activity
from sheets_schema.sql_store import SqlStore
from tests.conftest import T0, lead_payload
from tests.speed_fixtures import local, minutes, post_lead, set_setting, tick_at, walk


def test_a_status_edit_in_the_sheet_is_stamped_on_the_next_tick(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    demo_store.update_lead("L-1001", {"status": "quoted", "premium": 1200})  # typed by a person
    tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=12))
    lead = demo_store.get_lead("L-1001")
    assert (lead.status, lead.first_contact_at, lead.quoted_at) == ("Quoted", clock.now(), clock.now())
    assert lead.response_minutes == 12.0 and lead.next_follow_up is None
    status_rows = [a.detail for a in demo_store.activity("L-1001") if a.event == "status"]
    assert len(status_rows) == 1 and "first_contact_at=" in status_rows[0] and "quoted_at=" in status_rows[0]
    tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=13))
    assert [a.event for a in demo_store.activity("L-1001")].count("status") == 1


def test_a_bound_edit_gets_its_bound_date(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    demo_store.update_lead("L-1001", {"status": "Contacted", "first_contact_at": T0})
    tick_at(demo_store, notifier, clock, T0 + timedelta(hours=2))
    demo_store.update_lead("L-1001", {"status": "Bound"})
    tick_at(demo_store, notifier, clock, T0 + timedelta(days=3))
    lead = demo_store.get_lead("L-1001")
    assert lead.bound_at == T0 + timedelta(days=3) and lead.first_contact_at == T0


def test_ticking_again_at_the_same_moment_does_nothing(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    first = tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=15))
    assert [s.template for s in first] == ["producer_warning_15", "producer_warning_15_email", "lead_text_min5",
                                           "lead_intro_email"]
    rows = len(demo_store.activity("L-1001"))
    assert tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=15)) == []
    assert len(demo_store.activity("L-1001")) == rows


def test_a_message_claimed_before_a_crash_is_never_sent_again(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    five = T0 + timedelta(minutes=5)
    # the worker died after claiming the lead's minute-5 text and before handing it to Twilio
    assert demo_store.claim(Activity(time=five, lead_id="L-1001", event="sms sending",
                                     detail="lead_text_min5 to lead", key="L-1001/seq-min5/lead/sms"))
    sent = tick_at(demo_store, notifier, clock, five)
    assert [s.template for s in sent] == ["producer_reminder_5", "lead_intro_email"]
    assert walk(demo_store, notifier, clock, [five, five + timedelta(seconds=30)]) == []
    keys = Counter(a.key for a in demo_store.activity("L-1001") if a.key)
    assert keys["L-1001/seq-min5/lead/sms"] == 1 and keys["L-1001/seq-min5"] == 1  # the step is closed


def test_a_crash_after_sending_but_before_closing_the_step_sends_nothing_twice(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=5))
    fifteen = T0 + timedelta(minutes=15)
    config, lead = demo_store.config(), demo_store.get_lead("L-1001")
    journal = Journal.from_rows(demo_store.journal(["L-1001"])["L-1001"])
    rung = next(a for a in ladder(lead, config, BusinessHours.from_settings(config.settings), journal, fifteen)
                if a.step == "esc-15")
    # a dead worker sent the 15-minute text and email but never wrote the step's done row
    deliver_all(list(rung.messages), demo_store, ConsoleNotifier(), FrozenClock(fifteen))
    sent = tick_at(demo_store, notifier, clock, fifteen)
    assert [s.template for s in sent if s.to != "lead"] == []
    assert demo_store.get_lead("L-1001").escalation == "15 min: warning to Sarah M."


def test_a_crash_right_after_a_reassignment_is_finished_by_the_next_tick(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    thirty = T0 + timedelta(minutes=30)
    config, lead = demo_store.config(), demo_store.get_lead("L-1001")
    move = move_lead(demo_store, lead, config, thirty, demo_store.workload(thirty), {}, key="L-1001/esc-30",
                     reason="untouched 30 business min", label="30 min: reassigned")  # ... and the worker died
    assert move.decision.owner == "David L."
    sent = tick_at(demo_store, notifier, clock, thirty)
    assert [s.short[1:] for s in sent if s.to != "lead"] == [
        ("David L.", "producer_new_lead"), ("David L.", "producer_new_lead_email"),
        ("Sarah M.", "producer_reassigned_away")]
    assert tick_at(demo_store, notifier, clock, thirty + timedelta(seconds=30)) == []
    assert demo_store.get_lead("L-1001").assigned_to == "David L."  # reassigned once, not twice


def test_two_workers_ticking_the_same_store_at_once_do_each_thing_once(tmp_path, demo_store, clock, notifier):
    for i in range(3):
        post_lead(demo_store, clock, notifier, email=f"w{i}@example.com", phone=f"20155502{i:02d}")
    if not isinstance(demo_store, SqlStore):
        pytest.skip("on a Google Sheet, web and worker share one local journal: see test_gsheets_store")
    workers = [(SqlStore(demo_store.url), ConsoleNotifier()) for _ in range(2)]  # two processes' own engines
    barrier = threading.Barrier(2)

    def tick(worker, moment):
        store, inbox = worker
        barrier.wait()
        return run_tick(store, inbox, FrozenClock(moment))

    with ThreadPoolExecutor(2) as pool:
        for moment in minutes(T0, 1, 62):
            reports = list(pool.map(tick, workers, [moment, moment]))
            assert not any(r.errors for r in reports)
    for store, _ in workers:
        store.close()
    keys = Counter(m.key for _, inbox in workers for m in inbox.sent)
    assert keys and max(keys.values()) == 1
    # each lead's first move is told once: the new owner's text and the old owner's note
    assert Counter(k.split("/")[0] for k in keys if "/reassigned-1/" in k and k.endswith("/sms")) == {
        "L-1001": 2, "L-1002": 2, "L-1003": 2}
    assert "L-1001/reassigned-1/David L./sms" in keys  # Sarah's lead goes to her backup
    assert sum(1 for k in keys if "/esc-60/Morgan P./sms" in k) == 3
    reassignments = Counter(a.lead_id for a in demo_store.activity() if a.event == "reassigned")
    assert set(reassignments.values()) == {2}


class _OneBadLead(SqlStore):
    """The real SQLite store, except that reading L-1001 fails (a corrupt row, a driver bug)."""

    def get_lead(self, lead_id):
        if lead_id == "L-1001":
            raise RuntimeError("row L-1001 cannot be read")
        return super().get_lead(lead_id)


def test_a_bad_lead_is_recorded_once_an_hour_and_the_others_still_move(demo_store, clock, notifier):
    if not isinstance(demo_store, SqlStore):
        pytest.skip("the failure is injected into the SQLite store")
    post_lead(demo_store, clock, notifier)
    post_lead(demo_store, clock, notifier, email="b@example.com", phone="2015550177")
    store = _OneBadLead(demo_store.url)
    report = run_tick(store, notifier, FrozenClock(T0 + timedelta(minutes=5)))
    assert report.errors and all(e.startswith("L-1001 ") for e in report.errors)
    assert any(line.startswith("L-1002 esc-5") for line in report.done)
    again = run_tick(store, notifier, FrozenClock(T0 + timedelta(minutes=6)))
    assert again.errors  # still failing, but the Activity log hears of it once an hour per step
    errors = [a.detail for a in demo_store.activity("L-1001") if a.event == "tick error"]
    assert len(errors) == len(set(errors)) == len(report.errors)
    store.close()


def test_a_lead_without_a_reachable_owner_is_still_escalated(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    demo_store.update_lead("L-1001", {"assigned_to": "Someone Who Left"})
    sent = walk(demo_store, notifier, clock, minutes(T0, 5, 30, step=5))
    # an unknown owner has no backup of their own: the backup of the lead's territory (South County) takes it
    assert [s.short[1:] for s in sent if s.to != "lead"] == [
        ("Sarah M.", "producer_new_lead"), ("Sarah M.", "producer_new_lead_email")]
    assert demo_store.get_lead("L-1001").assigned_to == "Sarah M."


# ---- the command line -------------------------------------------------------------------------
def test_leadrouter_tick_runs_one_pass_at_the_given_time_and_prints_what_it_did(client, runner):
    assert client.post("/leads", json=lead_payload()).status_code == 201
    result = runner.invoke(args=["tick", "--now", "2026-11-24T10:05:00"])  # no offset: the agency's zone
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("L-1001 esc-5: reminder to Sarah M.")
    assert lines[-1].startswith("tick at 2026-11-24 10:05:00 -05:00: 1 lead(s) watched, 3 step(s) done, "
                                "3 message(s) sent, 0 error(s)")
    again = runner.invoke(args=["tick", "--now", "2026-11-24T15:05:00+00:00"])
    assert "0 step(s) done" in again.output


def test_leadrouter_tick_refuses_a_time_it_cannot_read(runner):
    result = runner.invoke(args=["tick", "--now", "next tuesday"])
    assert result.exit_code == 2 and "ISO-8601" in result.output


def test_a_2am_lead_gets_the_intro_email_at_once_and_the_call_text_in_the_morning(demo_store, clock, notifier):
    clock.set(local(2026, 11, 24, 2, 0))
    post_lead(demo_store, clock, notifier)
    night = walk(demo_store, notifier, clock, [local(2026, 11, 24, 2, 5), local(2026, 11, 24, 7, 59)])
    assert [s.short for s in night] == [("Tue 02:05", "lead", "lead_intro_email")]  # claims no call
    morning = tick_at(demo_store, notifier, clock, local(2026, 11, 24, 8, 5))
    assert [s.template for s in morning if s.to == "lead"] == ["lead_text_min5"]  # "I just tried to call you"


def test_minute_zero_messages_are_not_repeated_by_the_tick(demo_store, clock, notifier):
    lead = post_lead(demo_store, clock, notifier)
    assert [m.key for m in new_lead_messages(lead, demo_store.config())] == [m.key for m in notifier.sent]
    assert tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=1)) == []


def monthly_reports(notifier) -> list:
    return [m for m in notifier.sent if m.template == "monthly_report"]


def test_on_the_first_of_the_month_the_managers_get_last_months_report_once(demo_store, clock, notifier):
    lead = post_lead(demo_store, clock, notifier)  # a November lead, reached at once
    demo_store.update_lead(lead.lead_id, {"status": "Contacted"})
    first = datetime(2026, 12, 1, 13, 30, tzinfo=timezone.utc)  # 8:30 a.m. in New York
    run_tick(demo_store, notifier, FrozenClock(first - timedelta(hours=1)))  # 7:30: not yet
    assert monthly_reports(notifier) == []
    for moment in (first, first + timedelta(minutes=1), first + timedelta(hours=3), first + timedelta(days=2)):
        run_tick(demo_store, notifier, FrozenClock(moment))
    [report] = monthly_reports(notifier)
    assert report.channel == "email" and "morgan@demo-agency.example" in report.to
    assert "2026-11" in report.subject
    assert "Total leads received: **1**" in report.body and f"| {lead.assigned_to} | 1 |" in report.body


def test_a_worker_down_on_the_first_sends_the_report_when_it_is_back_that_week(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    run_tick(demo_store, notifier, FrozenClock(datetime(2026, 12, 3, 15, 0, tzinfo=timezone.utc)))
    assert len(monthly_reports(notifier)) == 1


def test_no_monthly_report_when_the_setting_is_off_or_the_week_has_passed(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    run_tick(demo_store, notifier, FrozenClock(datetime(2026, 12, 9, 15, 0, tzinfo=timezone.utc)))
    set_setting(demo_store, "Monthly Report Email", "N")
    run_tick(demo_store, notifier, FrozenClock(datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)))
    assert monthly_reports(notifier) == []



def test_a_manager_email_added_on_the_2nd_still_gets_last_months_report(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    rows = demo_store.read_rows("Producers")
    email = {r["name"]: r["email"] for r in rows}["Morgan P."]
    demo_store.replace_rows("Producers", [dict(r, email="") if r["name"] == "Morgan P." else r for r in rows])
    first = datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc)  # 9 a.m. on the 1st: nobody to send it to
    run_tick(demo_store, notifier, FrozenClock(first))
    assert monthly_reports(notifier) == [] and demo_store.get_state("monthly_report_sent") is None
    demo_store.replace_rows("Producers", rows)  # the owner fills in Morgan's email on the 2nd
    run_tick(demo_store, notifier, FrozenClock(first + timedelta(days=1)))
    [report] = monthly_reports(notifier)
    assert report.to == email and "2026-11" in report.subject
    run_tick(demo_store, notifier, FrozenClock(first + timedelta(days=1, hours=2)))
    assert len(monthly_reports(notifier)) == 1


def test_a_month_with_nothing_to_send_is_not_rebuilt_every_tick(demo_store, clock, notifier):
    demo_store.replace_rows("Producers", [dict(r, email="") if r["name"] == "Morgan P." else r
                                          for r in demo_store.read_rows("Producers")])
    first = datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc)
    run_tick(demo_store, notifier, FrozenClock(first))
    tried = demo_store.get_state("monthly_report_tried")
    run_tick(demo_store, notifier, FrozenClock(first + timedelta(minutes=30)))
    assert demo_store.get_state("monthly_report_tried") == tried  # looked at again an hour later, not each tick
    run_tick(demo_store, notifier, FrozenClock(first + timedelta(minutes=61)))
    assert demo_store.get_state("monthly_report_tried") != tried
