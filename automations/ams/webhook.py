"""The outbound webhook (any other AMS, Zapier, Make): signed JSON, retried by the AMS queue.

POST {"event": "lead.created" | "lead.status" | "lead.reassigned", "id": ..., "lead": {...}} with
`X-Leadrouter-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (the
Stripe scheme, so receivers have code for it). 2xx means delivered; anything else is retried with
backoff. `id` is the same on every try of one event (also sent as `Idempotency-Key`): a receiver
that keeps the ids it has seen never acts twice on a retry whose first answer was lost.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Callable

import requests

from .http_errors import message_of
from .port import AmsClient, AmsError, AmsNote, AmsRecord
from .record import record_json
from .settings import AmsSettings

HEADER = "X-Leadrouter-Signature"


def sign(secret: str, body: bytes, t: int) -> str:
    """The header value for `body` sent at unix time `t`."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, body: bytes, header: str, now: float, tolerance: float = 300) -> bool:
    """What a receiver does (and our tests do): the signature matches and is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts.get("t", ""))
    except ValueError:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return abs(now - t) <= tolerance and hmac.compare_digest(expected, parts.get("v1", ""))


class WebhookAms:
    name = "webhook"

    def __init__(self, settings: AmsSettings, *, unix_time: Callable[[], float] = time.time) -> None:
        self.s = settings
        self.session = requests.Session()
        self._time = unix_time

    def create_client(self, record: AmsRecord) -> str:
        answer = self._post({"event": "lead.created", "id": f"{record.lead_id}/lead.created",
                             "lead": record_json(record)})
        return str(answer.get("id") or f"webhook:{record.lead_id}") if isinstance(answer, dict) \
            else f"webhook:{record.lead_id}"

    def add_note(self, ams_id: str, record: AmsRecord, note: AmsNote) -> None:
        self._post({"event": note.event, "id": f"{record.lead_id}/{note.event}/{note.at}", "note": note.text,
                    "at": note.at, "ams_id": ams_id, "lead": record_json(record)})

    def find_client(self, **_: str) -> AmsClient | None:
        return None  # a webhook answers no questions; retries carry the same id instead

    def verify(self) -> str:
        return f"webhook {self.s.webhook_url}: not contacted (a receiver only hears real lead events)"

    def _post(self, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json", HEADER: sign(self.s.webhook_secret, body, int(self._time())),
                   "Idempotency-Key": payload["id"], "User-Agent": "leadrouter"}
        try:
            response = self.session.post(self.s.webhook_url, data=body, headers=headers, timeout=self.s.timeout)
        except requests.RequestException as exc:
            raise AmsError(f"webhook unreachable: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise AmsError(message_of(response.status_code, response.text))  # anything else is retried
        try:
            return response.json()
        except ValueError:
            return {}
