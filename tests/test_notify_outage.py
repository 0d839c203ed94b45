"""Outages and crashes delay messages; they never drop or double them."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app import create_app
from automations.intake.submission import submit_lead
from automations.notify.delivery import compose, deliver, retry_due
from automations.notify.outbox import RetryPolicy, pending
from tests.conftest import lead_payload
from tests.notify_fixtures import twilio, twilio_config  # noqa: F401

SARAH = "+12015550111"


@pytest.fixture
def waits():
    return []


@pytest.fixture
def policy(waits):
    return RetryPolicy(immediate=(0.5,), backoff=(60, 120, 240, 480), sleep=waits.append)


@pytest.fixture
def app(demo_store, clock, twilio, policy):
    return create_app(twilio_config(twilio, RETRY_POLICY=policy), store=demo_store, clock=clock)


def svc(app):
    return app.extensions["leadrouter"]


def test_a_30_minute_twilio_outage_delays_every_text_and_sends_each_once(app, demo_store, clock, twilio, policy,
                                                                       waits):
    client = app.test_client()
    start = clock.now()
    twilio.outage()
    lead_ids = []
    for minute in range(31):
        if minute in (0, 10, 20):  # leads keep arriving during the outage
            r = client.post("/leads", json=lead_payload(email=f"o{minute}@example.com", phone=f"20155502{minute:02d}"))
            assert r.status_code == 201
            lead_ids.append(r.get_json()["lead_id"])
        for _worker in range(2):  # two workers tick at once: neither doubles a message
            retry_due(demo_store, svc(app).notifier, clock, policy=policy)
        clock.set(start + timedelta(minutes=minute + 1))
    assert twilio.received == [] and len(twilio.refused) > 3
    assert waits and set(waits) == {0.5}  # quick retries happened, on the injected clock of waits

    twilio.recover()
    for minute in range(31, 50):
        for _worker in range(2):
            retry_due(demo_store, svc(app).notifier, clock, policy=policy)
        clock.set(start + timedelta(minutes=minute + 1))

    owners = [demo_store.get_lead(i).assigned_to for i in lead_ids]
    assert sorted(r["To"][0] for r in twilio.received) == sorted(demo_store.config().producer(o).mobile
                                                                 for o in owners)
    for lead_id in lead_ids:
        number = demo_store.get_lead(lead_id).number
        assert sum(f"#{number}:" in body for body in twilio.bodies()) == 1
        events = [a.event for a in demo_store.activity(lead_id)]
        assert events.count("sms sent") == 1 and events.count("sms failed") >= 2
        assert events.count("email sent") == 1  # email was never down
    assert pending(demo_store) == []


def test_a_failure_is_logged_with_its_attempt_and_next_try_and_masks_the_number(app, demo_store, clock, twilio,
                                                                              policy):
    twilio.outage()
    lead_id = app.test_client().post("/leads", json=lead_payload()).get_json()["lead_id"]
    [failed] = [a for a in demo_store.activity(lead_id) if a.event == "sms failed"]
    assert "Twilio error 503" in failed.detail and "attempt 1" in failed.detail and "next try" in failed.detail
    assert "0111" in failed.detail and SARAH not in failed.detail
    [held] = pending(demo_store)
    assert (held.state, held.attempts, held.due) == ("failed", 1, clock.now() + timedelta(seconds=60))


def test_an_invalid_number_fails_once_and_is_not_retried(app, demo_store, clock, twilio, policy):
    twilio.error = (400, 21211, "The 'To' number +12015550111 is not a valid phone number.")
    lead_id = app.test_client().post("/leads", json=lead_payload()).get_json()["lead_id"]
    clock.advance(hours=1)
    assert retry_due(demo_store, svc(app).notifier, clock, policy=policy) == {}
    events = [a.event for a in demo_store.activity(lead_id)]
    assert events.count("sms failed permanently") == 1 and len(twilio.refused) == 1
    assert pending(demo_store) == []


def test_a_message_failing_for_days_is_given_up_and_says_so(app, demo_store, clock, twilio):
    policy = RetryPolicy(immediate=(), backoff=(3600,), give_up_after=timedelta(hours=5))
    twilio.outage()
    lead_id = submit_lead(lead_payload(), demo_store, clock).lead.lead_id
    message = compose(f"{lead_id}/assigned", "producer_new_lead", demo_store.get_lead(lead_id), demo_store.config(),
                      to_producer=demo_store.config().producer("Sarah M."), owner=None)[0]
    deliver(message, demo_store, svc(app).notifier, clock, policy=policy)
    for _ in range(8):
        clock.advance(hours=1)
        retry_due(demo_store, svc(app).notifier, clock, policy=policy)
    last = demo_store.activity(lead_id)[-1]
    assert last.event == "sms failed permanently" and "gave up after 6 attempts" in last.detail
    assert pending(demo_store) == [] and len(twilio.refused) == 6


class Crash(BaseException):
    """The process dies in the middle of a send (the power goes, the container is killed)."""


class DyingChannel:
    """A channel whose process dies after the claim was written: the outcome is unknown."""

    def send(self, message):
        raise Crash()


def test_after_a_crash_mid_send_the_producer_gets_the_text_again_but_the_lead_does_not(demo_store, clock,
                                                                                      notifier, policy):
    outcome = submit_lead(lead_payload(), demo_store, clock)
    config, lead = demo_store.config(), outcome.lead
    to_producer = outcome.messages[0]
    to_lead = compose(f"{lead.lead_id}/min5", "lead_text_min5", lead, config, to_producer=None,
                      owner=config.producer(lead.assigned_to))[0]
    for message in (to_producer, to_lead):
        with pytest.raises(Crash):
            deliver(message, demo_store, DyingChannel(), clock, policy=policy)
    clock.advance(minutes=5)  # a send may still be in flight: nothing is touched yet
    assert retry_due(demo_store, notifier, clock, policy=policy) == {}
    clock.advance(minutes=6)
    report = retry_due(demo_store, notifier, clock, policy=policy)
    retry_due(demo_store, notifier, clock, policy=policy)
    assert report == {"sent": 1, "unknown": 1}
    assert [m.recipient for m in notifier.sent] == ["Sarah M."]
    events = [(a.event, a.detail) for a in demo_store.activity(lead.lead_id)]
    assert any(e == "sms unknown" and "not sent again to a lead" in d for e, d in events)
    assert any(e == "sms sending" and "interrupted" in d for e, d in events)
    assert pending(demo_store) == []


def test_leadrouter_outbox_lists_what_waits_and_sends_it_when_due(app, demo_store, clock, twilio):
    twilio.outage()
    app.test_client().post("/leads", json=lead_payload())
    runner = app.test_cli_runner()
    with app.app_context():
        listing = runner.invoke(args=["outbox"]).output
    assert "failed   sms   Sarah M. (***-***-0111)" in listing and "attempts 1" in listing
    assert SARAH not in listing
    twilio.recover()
    clock.advance(minutes=2)
    with app.app_context():
        result = runner.invoke(args=["outbox", "--send"]).output
    assert result.splitlines() == ["1 sent", "Nothing waiting: every message has gone out."]
    assert len(twilio.received) == 1


def test_two_workers_retrying_at_the_same_moment_send_each_held_text_once(app, demo_store, clock, twilio, policy):
    import threading
    twilio.outage()
    client = app.test_client()
    for i in range(12):
        client.post("/leads", json=lead_payload(email=f"w{i}@example.com", phone=f"20155503{i:02d}"))
    assert len(pending(demo_store)) == 12
    twilio.recover()
    clock.advance(minutes=5)
    barrier = threading.Barrier(3)

    def worker():
        barrier.wait()
        retry_due(demo_store, svc(app).notifier, clock, policy=policy)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bodies = twilio.bodies()
    assert len(bodies) == 12 and len(set(bodies)) == 12 and pending(demo_store) == []


def test_a_lead_twilio_reports_as_unsubscribed_is_never_tried_again(app, demo_store, clock, twilio, policy):
    from automations.notify.optout import is_opted_out
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    config = demo_store.config()
    texts = [compose(f"{lead.lead_id}/{step}", "lead_text_min5", lead, config, to_producer=None,
                     owner=config.producer(lead.assigned_to))[0] for step in ("min5", "h4")]
    twilio.error = (400, 21610, "Attempt to send to unsubscribed recipient")
    assert not deliver(texts[0], demo_store, svc(app).notifier, clock, policy=policy).sent
    assert is_opted_out(demo_store, lead.phone)
    twilio.recover()
    assert "opted out" in deliver(texts[1], demo_store, svc(app).notifier, clock, policy=policy).detail
    assert len(twilio.refused) == 1 and twilio.received == []
