"""Status changes as the tick sees them: one Activity row per change (old -> new), the canonical
spelling written back, and a Status nobody knows reported instead of freezing the ladder."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from automations.notify.replies import handle_inbound
from tests.conftest import T0, load_demo
from tests.speed_fixtures import minutes, post_lead, tick_at, walk

SARAH = "+12015550111"


@pytest.fixture
def demo(store):
    load_demo(store)
    return store


def status_rows(store, lead_id="L-1001") -> list[str]:
    return [a.detail for a in store.activity(lead_id) if a.event == "status"]


def reply(store, clock, body: str, sid: str) -> str:
    return handle_inbound(store, clock, SARAH, body, sid).text


@pytest.mark.parametrize("typed, counted", [("contacted ", "active"), ("bound", "bound_window")])
def test_a_status_typed_loosely_is_written_back_canonical_and_counted(demo, clock, notifier, typed, counted):
    post_lead(demo, clock, notifier)
    demo.update_lead("L-1001", {"status": typed})  # a person typing in the Status cell
    tick_at(demo, notifier, clock, T0 + timedelta(minutes=3))
    load = demo.workload(clock.now())["Sarah M."]
    assert getattr(load, counted) == 1  # workload matches the exact text "Contacted" / "Bound"
    if counted == "active":
        assert [lead.lead_id for lead in demo.open_leads()] == ["L-1001"]
    assert status_rows(demo)[0].startswith(f"New -> {typed.strip().title()}: first_contact_at=")


def test_every_status_change_is_one_activity_row_with_old_and_new(demo, clock, notifier):
    post_lead(demo, clock, notifier)
    clock.set(T0 + timedelta(minutes=2))
    assert reply(demo, clock, "C 1001", "SM1").startswith("Lead #1001")
    tick_at(demo, notifier, clock, T0 + timedelta(minutes=3))
    demo.update_lead("L-1001", {"status": "Lost"})        # sheet edits: not a lead the tick watches
    tick_at(demo, notifier, clock, T0 + timedelta(minutes=14))
    demo.update_lead("L-1001", {"status": "Quoted"})
    tick_at(demo, notifier, clock, T0 + timedelta(minutes=25))
    walk(demo, notifier, clock, minutes(T0, 26, 60, step=7))
    rows = status_rows(demo)
    assert [re.split(r":| \(by", r)[0] for r in rows] == ["New -> Contacted", "Contacted -> Lost", "Lost -> Quoted"]
    assert "(by Sarah M. (text reply))" in rows[0] and "(by Status edit seen by the tick)" in rows[1]
    assert "quoted_at=" in rows[2]
    keys = [a.key for a in demo.activity("L-1001") if a.event == "status"]
    assert keys == ["L-1001/status/1/Contacted", "L-1001/status/2/Lost", "L-1001/status/3/Quoted"]


def test_a_reopened_or_closed_lead_is_logged_by_the_sweep_within_ten_minutes(demo, clock, notifier):
    post_lead(demo, clock, notifier)
    post_lead(demo, clock, notifier, email="b@example.com", phone="2015550177")
    clock.set(T0 + timedelta(minutes=1))
    reply(demo, clock, "C 1001", "SM1")
    reply(demo, clock, "B 1001 1200", "SM2")
    tick_at(demo, notifier, clock, T0 + timedelta(minutes=2))
    demo.update_lead("L-1001", {"status": "Lost"})        # Bound -> Lost: every stamp is already there
    assert status_rows(demo)[-1].startswith("Contacted -> Bound")
    tick_at(demo, notifier, clock, T0 + timedelta(minutes=5))
    assert len(status_rows(demo)) == 2                    # not yet: the sweep runs every ten minutes
    tick_at(demo, notifier, clock, T0 + timedelta(minutes=12))
    assert status_rows(demo)[-1] == "Bound -> Lost (by Status edit seen by the tick)"
    assert status_rows(demo, "L-1002") == []


def test_an_unknown_status_is_reported_once_and_the_lead_keeps_escalating(demo, clock, notifier):
    post_lead(demo, clock, notifier)
    demo.update_lead("L-1001", {"status": "Left VM"})
    sent = walk(demo, notifier, clock, minutes(T0, 3, 31))
    notices = [s for s in sent if s.template == "status_unknown"]
    assert [(s.short, s.channel) for s in notices] == [(("Tue 10:03", "Sarah M.", "status_unknown"), "sms")]
    assert notices[0].body == ('Lead #1001 Maria: Status "Left VM" is not one of New, Contacted, Quoted, Bound, '
                               'Lost, so it counts as New and the speed clock keeps running. Fix the Status cell, '
                               'or reply C 1001 once you have reached them.')
    ladder = [s.short[1:] for s in sent if s.template in ("producer_reminder_5", "producer_warning_15",
                                                          "producer_new_lead")]
    assert ladder == [("Sarah M.", "producer_reminder_5"), ("Sarah M.", "producer_warning_15"),
                      ("David L.", "producer_new_lead")]
    assert [a.event for a in demo.activity("L-1001")].count("tick error") == 0
    rows = status_rows(demo)
    assert len(rows) == 1 and rows[0].startswith("New -> 'Left VM': not one of New, Contacted")
    demo.update_lead("L-1001", {"status": "Contacted"})
    tick_at(demo, notifier, clock, T0 + timedelta(minutes=32))
    assert status_rows(demo)[-1].startswith("Left VM -> Contacted: first_contact_at=")


def test_an_unknown_status_on_a_reached_lead_goes_to_its_owner_once(demo, clock, notifier):
    post_lead(demo, clock, notifier)
    clock.set(T0 + timedelta(minutes=1))
    reply(demo, clock, "C 1001", "SM1")
    tick_at(demo, notifier, clock, T0 + timedelta(minutes=2))
    demo.update_lead("L-1001", {"status": "Call back Friday"})
    sent = walk(demo, notifier, clock, minutes(T0, 13, 60, step=11))
    assert [s.short[1:] for s in sent] == [("Sarah M.", "status_unknown")]
    assert "so reports cannot count it. Fix the Status cell." in sent[0].body


def test_an_edit_on_a_lead_older_than_a_month_is_logged_by_the_daily_sweep(demo, clock, notifier):
    old = T0 - timedelta(days=40)
    clock.set(old)
    post_lead(demo, clock, notifier)
    clock.set(old + timedelta(minutes=1))
    reply(demo, clock, "C 1001", "SM1")
    tick_at(demo, notifier, clock, T0)                       # a full sweep: the last one is weeks old
    demo.update_lead("L-1001", {"status": "Lost"})
    tick_at(demo, notifier, clock, T0 + timedelta(minutes=11))  # the 10-minute sweep reads the last 30 days
    assert status_rows(demo)[-1].startswith("New -> Contacted")
    tick_at(demo, notifier, clock, T0 + timedelta(days=1, minutes=1))
    assert status_rows(demo)[-1] == "Contacted -> Lost (by Status edit seen by the tick)"
