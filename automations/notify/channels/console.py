"""The default channel when no Twilio or SMTP is configured: messages go to the console.

Contact details are masked; the Activity log (written by notify.deliver) keeps the record.
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
        log.info("%s to %s (%s)%s: %s", message.channel.upper(), message.recipient, mask(message.to), subject,
                 redact(message.body.splitlines()[0]) if message.body else "")
        return None
