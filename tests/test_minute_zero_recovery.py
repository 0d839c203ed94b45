"""Issue 14, item 6: a web process killed after saving a lead costs the owner one tick, not a minute;
a worker that dies holding the tick lease is replaced at the standby's next tick."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from app import create_app
from automations.speed_clock.scheduler import TickLease, lease_seconds
from automations.speed_clock.tick import run_tick
from tests.conftest import lead_payload
from tests.notify_fixtures import twilio  # noqa: F401


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def test_the_owners_text_lost_with_a_killed_web_process_goes_at_the_next_tick_seconds_later(demo_store, clock,
                                                                                           notifier):
    app = create_app({"TESTING": True}, store=demo_store, clock=clock, notifier=notifier)
    dead = ThreadPoolExecutor(max_workers=1)
    dead.shutdown()
    app.extensions["leadrouter"]._pool = dead  # the web process's sends died with it (kill -9 after the commit)
    lead_id = app.test_client().post("/leads", json=lead_payload()).get_json()["lead_id"]
    assert notifier.sent == deque_empty()
    clock.advance(seconds=10)  # the worker's next tick, well inside the old grace minute
    run_tick(demo_store, notifier, clock)
    assert sorted((m.channel, m.recipient) for m in notifier.sent) == [("email", "Sarah M."), ("sms", "Sarah M.")]
    run_tick(demo_store, notifier, clock)
    clock.advance(minutes=2)
    run_tick(demo_store, notifier, clock)
    assert len([m for m in notifier.sent if m.lead_id == lead_id and m.template == "producer_new_lead"]) == 1


def test_a_web_send_and_the_tick_never_both_text_the_owner(demo_store, clock, notifier):
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=demo_store, clock=clock, notifier=notifier)
    app.test_client().post("/leads", json=lead_payload())
    clock.advance(seconds=6)
    run_tick(demo_store, notifier, clock)
    assert [m.template for m in notifier.sent if m.channel == "sms"] == ["producer_new_lead"]


def test_a_worker_that_died_holding_the_lease_is_replaced_at_the_standbys_next_tick(store, clock):
    seconds = lease_seconds(store, 30)
    dead = TickLease(store, "worker-a", seconds=seconds, clock=clock)
    standby = TickLease(store, "worker-b", seconds=seconds, clock=clock)
    assert dead.acquire()  # ... and the process is killed mid-tick: never released
    clock.advance(seconds=30)
    assert not standby.acquire()  # its tick could still be running
    clock.advance(seconds=30)
    assert standby.acquire()  # one tick later, not after two minutes


def deque_empty():
    from collections import deque
    return deque(maxlen=1000)


# ---- a producer's text interrupted between Twilio's accept and our record ------------------------------
def _interrupted(store, clock, twilio, *, twilio_took_it: bool):
    """Claimed and in flight when the process died; Twilio took it (or not); our record never written."""
    from automations.notify import outbox
    from automations.notify.channels import ChannelRouter
    from automations.notify.channels.console import ConsoleNotifier
    from automations.notify.channels.twilio import TwilioSms
    from automations.notify.outbox import Pending
    from automations.ports import Message
    from sheets_schema.models import Activity
    from tests.notify_fixtures import FROM
    from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN
    sms = TwilioSms(ACCOUNT_SID, AUTH_TOKEN, FROM, base_url=twilio.url)
    message = Message(key="L-1001/assigned/Sarah M./sms", channel="sms", to="+12015550111",
                      body="New lead #1001: Maria, Auto, ZIP 10150.", lead_id="L-1001", recipient="Sarah M.",
                      template="producer_new_lead")
    with store.exclusive():
        store.claim(Activity(time=clock.now(), lead_id="L-1001", event="sms sending", detail="", key=message.key))
        outbox.hold(store, Pending.of(message, state="sending", due=clock.now() + timedelta(minutes=10),
                                      created=clock.now()))
    if twilio_took_it:
        sms.send(message)
    return ChannelRouter(default=ConsoleNotifier()).register("sms", sms)


def test_a_producer_text_twilio_took_before_the_crash_is_found_by_lookup_and_not_sent_again(store, clock, twilio):
    from automations.notify.delivery import retry_due
    load_demo_rows(store)
    router = _interrupted(store, clock, twilio, twilio_took_it=True)
    clock.advance(minutes=11)
    assert retry_due(store, router, clock) == {"sent": 1}
    assert len(twilio.received) == 1 and twilio.lookups == 1
    assert any(a.event == "sms sent" and "provider had taken it" in a.detail for a in store.activity("L-1001"))
    assert retry_due(store, router, clock) == {}


def test_a_producer_text_twilio_never_got_is_sent_once_after_the_crash(store, clock, twilio):
    from automations.notify.delivery import retry_due
    load_demo_rows(store)
    router = _interrupted(store, clock, twilio, twilio_took_it=False)
    clock.advance(minutes=11)
    assert retry_due(store, router, clock) == {"sent": 1}
    assert len(twilio.received) == 1


def load_demo_rows(store):
    from tests.conftest import load_demo
    load_demo(store)
