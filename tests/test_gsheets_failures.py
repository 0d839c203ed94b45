"""Google misbehaving in the ways that make writes uncertain: nothing is lost, nothing is written twice.

An append slower than our patience (it lands after we gave up, even after the next read),
HTML error pages from Google's front end, a lost Activity batch that merely resembles rows
already there, and a form post that must answer within a second while Google hangs.
"""
from __future__ import annotations

import time
from collections import Counter

import pytest

from app import create_app
from sheets_schema.models import Activity
from tests.conftest import load_demo
from tests.gsheets_fixtures import make_store, post, sheet_store  # noqa: F401


def ids_in_sheet(fake) -> Counter:
    return Counter(row["Lead ID"] for row in fake.records("Leads"))


@pytest.fixture
def impatient(fake_sheets, service_account_file, tmp_path, waits, clock, notifier):
    """A demo store whose form path gives Google 0.3 s, and a client posting to it."""
    s = make_store(fake_sheets, service_account_file, tmp_path / "impatient.db", waits, clock=clock,
                   append_timeout=0.3, hot_budget=0.3)
    load_demo(s)
    s.refresh()
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=s, clock=clock, notifier=notifier)
    yield s, app.test_client()
    fake_sheets.wait_idle()
    s.close()


# ---- an append that times out ----------------------------------------------------------------------
def test_an_append_that_lands_after_the_next_read_is_still_written_once(impatient, fake_sheets, clock):
    store, client = impatient
    fake_sheets.slow_next("batchUpdate.appendCells", 1.5)  # Google takes 1.5 s; we give up after 0.3 s
    r = post(client)
    assert r.status_code == 202
    lead_id = r.get_json()["lead_id"]
    assert store.refresh()  # a tick right away: its read does not show the row yet
    fake_sheets.wait_idle()  # ... then Google finishes the append we gave up on
    assert ids_in_sheet(fake_sheets) == {lead_id: 1}
    assert store.refresh()  # found by its Lead ID
    assert not store.queued(lead_id)
    clock.advance(seconds=90)
    assert store.refresh() and store.refresh()
    assert ids_in_sheet(fake_sheets) == {lead_id: 1}


def test_an_append_that_never_lands_is_written_once_from_a_read_a_grace_period_later(impatient, fake_sheets, clock):
    store, client = impatient
    fake_sheets.slow_next("batchUpdate.appendCells", 0.6, applied=False)
    lead_id = post(client).get_json()["lead_id"]
    fake_sheets.wait_idle()
    assert store.refresh()
    assert ids_in_sheet(fake_sheets) == {} and store.queued(lead_id)  # it might still be landing
    assert store.get_lead(lead_id).assigned_to == "Sarah M."  # meanwhile the local copy has it
    store.update_lead(lead_id, {"escalation": "5-minute reminder"})
    clock.advance(seconds=61)
    assert store.refresh()
    assert ids_in_sheet(fake_sheets) == {lead_id: 1} and not store.queued(lead_id)
    assert store.refresh()
    row = {r["Lead ID"]: r for r in fake_sheets.records("Leads")}[lead_id]
    assert row["Escalation"] == "5-minute reminder"  # the update made meanwhile is not lost


# ---- HTML error pages --------------------------------------------------------------------------------
def test_a_read_answered_by_an_html_502_page_is_retried(store, fake_sheets, waits):
    fake_sheets.fail_next(1, 502, kind="values.batchGet", html=True)
    assert store.refresh()
    assert len(waits) == 1


def test_an_activity_batch_whose_answer_is_an_html_502_page_is_mirrored_once(store, fake_sheets, client):
    lead_id = post(client).get_json()["lead_id"]
    fake_sheets.lose_next_answers(1, 502, html=True)  # the gateway gave up; the write went through
    assert store.refresh()
    assert store.refresh()
    assert store.refresh()
    events = [r["Event"] for r in fake_sheets.records("Activity") if r["Lead ID"] == lead_id]
    assert events == [a.event for a in store.activity(lead_id)]


# ---- a lost Activity batch --------------------------------------------------------------------------
def test_a_lost_activity_batch_that_only_resembles_rows_already_there_is_sent_again(store, fake_sheets, client,
                                                                                     clock):
    lead_id = post(client).get_json()["lead_id"]
    note = dict(lead_id=lead_id, event="note", detail="left a voicemail")
    store.add_activity([Activity(time=clock.now(), **note)])
    assert store.refresh()
    clock.advance(minutes=20)
    store.add_activity([Activity(time=clock.now(), **note)])  # the same words, twenty minutes later
    fake_sheets.fail_next(1, 503, kind="spreadsheets.batchUpdate")  # that batch never lands
    assert store.refresh()
    assert store.refresh()  # looks for it, does not find it, sends it
    notes = [r for r in fake_sheets.records("Activity") if r["Event"] == "note"]
    assert len(notes) == 2 and notes[0]["Time"] != notes[1]["Time"]


# ---- the form's time budget ---------------------------------------------------------------------------
def test_the_form_answers_within_a_second_and_the_owner_is_texted_while_google_hangs(store, fake_sheets, client,
                                                                                      notifier):
    fake_sheets.slow_next("batchUpdate.appendCells", 4.0)
    started = time.perf_counter()
    r = post(client)
    elapsed = time.perf_counter() - started
    assert r.status_code == 202 and elapsed < 1.5, elapsed  # it took 3.3 s with a 3 s append timeout
    assert [m.channel for m in notifier.sent if m.recipient != "lead"][:1] == ["sms"]
    fake_sheets.wait_idle()


def test_a_429_storm_costs_the_form_one_short_retry_then_the_lead_waits_in_the_outbox(store, fake_sheets, client,
                                                                                       waits, notifier):
    fake_sheets.fail_next(5, 429, kind="batchUpdate.appendCells")
    started = time.perf_counter()
    r = post(client)
    assert r.status_code == 202 and time.perf_counter() - started < 1.0
    assert waits == [0.15]
    assert sorted(m.channel for m in notifier.sent) == ["email", "sms"]
    assert store.refresh()  # the tick writes it (in its own batched write, which the storm spared)
    assert ids_in_sheet(fake_sheets) == {r.get_json()["lead_id"]: 1}
