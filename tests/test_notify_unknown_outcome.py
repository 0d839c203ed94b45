"""A provider that takes a message and does not answer in time: the lead never gets it twice.

Twilio answering after the client's timeout, or an SMTP server dropping the connection after
the message went out and before its 250, may still have delivered it. Those messages are
recorded as "unknown" and not sent to a lead again; to a producer they are retried (better
twice than never). Failures that sent nothing (429, 500, a refused connection) are retried.
"""
from __future__ import annotations

import pytest

from app import create_app
from automations.notify.channels.smtp import SmtpChannel
from automations.notify.delivery import ChannelError, compose, deliver, retry_due
from automations.notify.outbox import RetryPolicy, pending
from tests.conftest import lead_payload
from tests.notify_fixtures import Mailbox, free_port, serving, twilio, twilio_config  # noqa: F401

SARAH, MARIA = "+12015550111", "+12015550142"


@pytest.fixture
def waits():
    return []


@pytest.fixture
def policy(waits):
    """One quick in-process retry (not slept: the waits are recorded), then the outbox."""
    return RetryPolicy(immediate=(1.0,), backoff=(60, 120), sleep=waits.append)


def lead_message(store, lead_id: str, template: str):
    lead, config = store.get_lead(lead_id), store.config()
    return compose(f"{lead_id}/{template}", template, lead, config, to_producer=None,
                   owner=config.producer(lead.assigned_to))[0]


def retry_for(store, notifier, clock, policy, minutes: int = 30) -> None:
    for _ in range(minutes):  # two workers, every minute
        clock.advance(minutes=1)
        retry_due(store, notifier, clock, policy=policy)
        retry_due(store, notifier, clock, policy=policy)


def test_a_slow_twilio_texts_the_lead_once_and_the_producer_until_it_is_confirmed(demo_store, clock, twilio,
                                                                                  policy, waits):
    app = create_app(twilio_config(twilio, RETRY_POLICY=policy, TWILIO_TIMEOUT="0.3"), store=demo_store,
                     clock=clock)
    notifier = app.extensions["leadrouter"].notifier
    twilio.delay = 1.0  # Twilio takes each message and answers after the client stopped waiting
    lead_id = app.test_client().post("/leads", json=lead_payload()).get_json()["lead_id"]
    outcome = deliver(lead_message(demo_store, lead_id, "lead_text_min5"), demo_store, notifier, clock,
                      policy=policy)
    assert not outcome.sent and "may have gone out" in outcome.detail
    twilio.delay = 0.0
    retry_for(demo_store, notifier, clock, policy)

    to = [r["To"][0] for r in twilio.received]
    assert to.count(MARIA) == 1  # never re-sent: she may already have it
    assert to.count(SARAH) == 3  # the first try, the quick retry, then the outbox's confirmed send
    assert waits == [1.0]  # only the producer's text was retried in-process
    rows = [a for a in demo_store.activity(lead_id) if a.event == "sms unknown"]
    assert len(rows) == 1 and "lead (***-***-0142)" in rows[0].detail and MARIA not in rows[0].detail
    assert pending(demo_store) == []


def test_twilio_unreachable_sent_nothing_so_the_lead_text_is_retried(demo_store, clock, twilio, policy):
    closed = f"http://127.0.0.1:{free_port()}"  # nobody listens: refused, nothing left this machine
    app = create_app(twilio_config(twilio, RETRY_POLICY=policy, TWILIO_API=closed), store=demo_store, clock=clock)
    notifier = app.extensions["leadrouter"].notifier
    lead_id = app.test_client().post("/leads", json=lead_payload()).get_json()["lead_id"]
    outcome = deliver(lead_message(demo_store, lead_id, "lead_text_min5"), demo_store, notifier, clock,
                      policy=policy)
    assert not outcome.sent and "next try" in outcome.detail
    assert {p.msg.recipient: p.state for p in pending(demo_store)}["lead"] == "failed"


@pytest.mark.parametrize("status, code, text", [(429, 20429, "Too Many Requests"),
                                                (500, 20500, "Internal Server Error")])
def test_twilio_429_and_500_are_retried_until_the_text_goes_once(demo_store, clock, twilio, policy, waits,
                                                                 status, code, text):
    app = create_app(twilio_config(twilio, RETRY_POLICY=policy), store=demo_store, clock=clock)
    notifier = app.extensions["leadrouter"].notifier
    twilio.error = (status, code, text)
    lead_id = app.test_client().post("/leads", json=lead_payload()).get_json()["lead_id"]
    assert twilio.received == [] and len(twilio.refused) == 2 and waits == [1.0]
    failed = [a for a in demo_store.activity(lead_id) if a.event == "sms failed"]
    assert len(failed) == 1 and f"Twilio error {code}" in failed[0].detail
    twilio.recover()
    retry_for(demo_store, notifier, clock, policy, minutes=3)
    assert [r["To"][0] for r in twilio.received] == [SARAH]
    assert pending(demo_store) == []


# ---- SMTP: the connection lost after the message went out ------------------------------------------
class DropsAfterData(Mailbox):
    """Takes the message, then hangs up instead of answering 250 (while `dropping`)."""
    dropping = True

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        if self.dropping:
            server.transport.close()
        return "250 Message accepted"


@pytest.fixture
def dropping_mailbox():
    yield from serving(DropsAfterData())


def test_an_smtp_hang_up_after_the_message_is_outcome_unknown_and_a_refusal_before_it_is_not(dropping_mailbox):
    from automations.ports import Message
    channel = SmtpChannel.from_url(f"smtp://127.0.0.1:{dropping_mailbox.port}", "quotes@demo-agency.example")
    email = Message(key="k", channel="email", to="maria.lopez@example.com", body="Hi", recipient="lead")
    with pytest.raises(ChannelError) as dropped:
        channel.send(email)
    assert dropped.value.outcome_unknown and not dropped.value.permanent
    with pytest.raises(ChannelError) as down:
        SmtpChannel.from_url(f"smtp://127.0.0.1:{free_port()}", "quotes@demo-agency.example").send(email)
    assert not down.value.outcome_unknown and not down.value.permanent


def test_an_email_to_a_lead_cut_off_before_the_250_is_not_sent_again(demo_store, clock, dropping_mailbox, policy):
    app = create_app({"TESTING": True, "SEND_INLINE": True, "TWILIO_ACCOUNT_SID": "", "RETRY_POLICY": policy,
                      "SMTP_URL": f"smtp://127.0.0.1:{dropping_mailbox.port}", "SMTP_FROM": "quotes@demo-agency.example",
                      "PUBLIC_URL": "https://leads.example.com", "SECRET_KEY": "s"}, store=demo_store, clock=clock)
    notifier = app.extensions["leadrouter"].notifier
    lead_id = app.test_client().post("/leads", json=lead_payload()).get_json()["lead_id"]
    outcome = deliver(lead_message(demo_store, lead_id, "lead_intro_email"), demo_store, notifier, clock,
                      policy=policy)
    assert not outcome.sent and "may have gone out" in outcome.detail
    dropping_mailbox.dropping = False
    retry_for(demo_store, notifier, clock, policy, minutes=5)
    rcpts = [e.rcpt_tos[0] for e in dropping_mailbox.envelopes]
    assert rcpts.count("maria.lopez@example.com") == 1
    assert rcpts.count("sarah@demo-agency.example") == 3  # cut off twice, then confirmed
    assert [a.event for a in demo_store.activity(lead_id)].count("email unknown") == 1
    assert pending(demo_store) == []
