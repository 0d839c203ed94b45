"""The 5-minute reminder by push webhook (Slack, Teams, ntfy or plain JSON), falling back to a text."""
from __future__ import annotations

import pytest

from automations.notify.channels import ChannelRouter
from automations.notify.channels.push import WebhookChannel, shape
from automations.notify.channels.console import ConsoleNotifier
from automations.intake.submission import submit_lead
from automations.notify.delivery import compose, deliver
from automations.ports import Message
from tests.conftest import lead_payload
from tests.notify_fixtures import receiver, with_push  # noqa: F401




def reminder(store, clock):
    lead = submit_lead(lead_payload(), store, clock).lead
    config = store.config()
    sarah = config.producer("Sarah M.")
    return compose(f"{lead.lead_id}/reminder-5", "producer_reminder_5", lead, config, to_producer=sarah,
                   owner=sarah, push=True, Minutes="5")[0]


def test_a_producer_with_a_push_webhook_gets_the_reminder_there(with_push, clock, receiver):
    console = ConsoleNotifier()
    router = ChannelRouter(default=console).register("push", WebhookChannel())
    message = reminder(with_push, clock)
    assert deliver(message, with_push, router, clock).sent
    [(path, body)] = receiver.posts
    assert path == "/hooks/sarah" and body["message"].startswith("Reminder: lead #")
    assert list(console.sent) == []  # no text as well
    sent = [a for a in with_push.activity(message.lead_id) if a.event == "push sent"]
    assert len(sent) == 1 and "push to 127.0.0.1" in sent[0].detail and "/hooks/sarah" not in sent[0].detail


def test_a_broken_webhook_falls_back_to_a_text_at_once(with_push, clock, receiver):
    receiver.status = 404
    console = ConsoleNotifier()
    message = reminder(with_push, clock)
    outcome = deliver(message, with_push, ChannelRouter(default=console).register("push", WebhookChannel()), clock)
    assert outcome.sent and [(m.channel, m.to) for m in console.sent] == [("sms", "+12015550111")]
    events = [a.event for a in with_push.activity(message.lead_id)]
    assert events[-4:] == ["push sending", "push failed permanently", "sms sending", "sms sent"]


def test_without_a_webhook_the_reminder_is_a_text(demo_store, clock):
    message = reminder(demo_store, clock)
    assert (message.channel, message.to) == ("sms", "+12015550111")


@pytest.mark.parametrize("url, posted_to, body", [
    ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/services/T0/B0/XYZ", {"text": "Call now"}),
    ("https://ntfy.sh/agency-sarah", "https://ntfy.sh/",
     {"topic": "agency-sarah", "title": "Lead #1001", "message": "Call now", "priority": 4, "tags": ["bell"]}),
])
def test_slack_and_ntfy_get_the_json_they_understand(url, posted_to, body):
    m = Message(key="k", channel="push", to=url, body="Call now", subject="Lead #1001", lead_id="L-1001")
    assert shape(url, m) == (posted_to, body)


def test_teams_gets_a_message_card():
    url = "https://agency.webhook.office.com/webhookb2/abc"
    _, body = shape(url, Message(key="k", channel="push", to=url, body="Call now", subject="Lead #1001"))
    assert body["@type"] == "MessageCard" and body["text"] == "Call now" and body["title"] == "Lead #1001"
