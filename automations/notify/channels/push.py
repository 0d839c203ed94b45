"""Push: the 5-minute reminder to a producer's own webhook (Slack, Teams or ntfy).

The URL is the Producers tab's Push Webhook. The payload is shaped for the service the URL
belongs to; anything else gets a plain JSON object (title, message, text, lead_id) that
generic webhook receivers understand. A 4xx answer is permanent (a wrong or revoked URL),
and notify.deliver then falls back to a text.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from automations.notify.delivery import ChannelError
from automations.ports import Message

RETRYABLE = {408, 425, 429}


def shape(url: str, message: Message) -> tuple[str, dict[str, Any]]:
    """(URL to post to, JSON body) for this kind of webhook."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    title = message.subject or "leadrouter"
    if host.endswith("hooks.slack.com"):
        return url, {"text": message.body}
    if host.endswith(("webhook.office.com", "outlook.office.com")):
        return url, {"@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": title,
                     "title": title, "text": message.body}
    if "ntfy" in host:
        # ntfy's JSON publishing: post to the server root, with the topic in the body
        topic = parts.path.strip("/")
        return urlunsplit((parts.scheme, parts.netloc, "/", "", "")), {
            "topic": topic, "title": title, "message": message.body, "priority": 4, "tags": ["bell"]}
    return url, {"title": title, "message": message.body, "text": message.body, "lead_id": message.lead_id}


class WebhookChannel:
    def __init__(self, session: requests.Session | None = None, timeout: float = 10.0) -> None:
        self.session = session or requests.Session()
        self.timeout = timeout

    def send(self, message: Message) -> str | None:
        if urlsplit(message.to).scheme not in ("http", "https"):
            raise ChannelError("Push Webhook is not an http(s) URL", permanent=True)
        url, body = shape(message.to, message)
        try:
            response = self.session.post(url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ChannelError(f"push webhook unreachable ({type(exc).__name__})") from None
        if response.status_code >= 400:
            code = response.status_code
            raise ChannelError(f"push webhook answered HTTP {code}",
                               permanent=code < 500 and code not in RETRYABLE)
        return None
