"""The ladder's 5-minute reminder through a tick: to the owner's Push Webhook when they have one,
by text when the push fails; never both. The app's own channels: the webhook channel, the
twilio client against the Twilio stand-in."""
from __future__ import annotations

from tests.conftest import lead_payload
from tests.notify_fixtures import receiver, twilio, twilio_app, with_push  # noqa: F401

SARAH = "+12015550111"


def texts_to_sarah(fake) -> list[str]:
    return [r["Body"][0] for r in fake.received if r["To"] == [SARAH]]


def tick(app, now: str) -> None:
    result = app.test_cli_runner().invoke(args=["tick", "--now", now])
    assert result.exit_code == 0 and " 0 error(s)" in result.output, result.output


def test_the_5_minute_reminder_goes_to_the_push_webhook_and_not_by_text(with_push, twilio_app, twilio, receiver):
    assert twilio_app.test_client().post("/leads", json=lead_payload()).status_code == 201
    assert [b.split(":")[0] for b in texts_to_sarah(twilio)] == ["New lead #1001"]  # minute 0 is a text
    tick(twilio_app, "2026-11-24T10:04:00")
    assert receiver.posts == []
    tick(twilio_app, "2026-11-24T10:05:00")
    [(path, body)] = receiver.posts
    assert path == "/hooks/sarah" and body["message"].startswith("Reminder: lead #1001 Maria is waiting 5 min.")
    assert len(texts_to_sarah(twilio)) == 1  # no reminder text as well
    tick(twilio_app, "2026-11-24T10:06:00")
    assert len(receiver.posts) == 1 and len(texts_to_sarah(twilio)) == 1


def test_a_webhook_answering_404_gets_the_reminder_by_text_exactly_once(with_push, twilio_app, twilio, receiver):
    receiver.status = 404
    assert twilio_app.test_client().post("/leads", json=lead_payload()).status_code == 201
    tick(twilio_app, "2026-11-24T10:05:00")
    tick(twilio_app, "2026-11-24T10:06:00")
    assert len(receiver.posts) == 1  # tried once, not retried
    reminders = [b for b in texts_to_sarah(twilio) if b.startswith("Reminder:")]
    assert reminders == ["Reminder: lead #1001 Maria is waiting 5 min. Call +12015550142. Reply C 1001 when done."]
