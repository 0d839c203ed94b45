"""The default channel when no Twilio or SMTP is configured: messages go to the console.

The whole message is shown (an email's every line, indented), so the demo shows what a person would
read; contact details are masked; the Activity log (written by notify.deliver) keeps the record.
"""
from __future__ import annotations

import logging

from collections import deque

from automations.contact import mask, redact
from automations.ports import Message

log = logging.getLogger("leadrouter.console")


class ConsoleNotifier:
    def __init__(self) -> None:
        self.sent: deque[Message] = deque(maxlen=1000)

    def send(self, message: Message) -> str | None:
        self.sent.append(message)
        subject = f" [{message.subject}]" if message.subject else ""
        body = "\n    ".join(redact(line) for line in message.body.splitlines())  # the whole message, indented
        log.info("%s to %s (%s)%s: %s", message.channel.upper(), message.recipient, mask(message.to), subject, body)
        return None
