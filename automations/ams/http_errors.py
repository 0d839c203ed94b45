"""How an HTTP answer from an AMS becomes an AmsError (shared by the REST adapters, no SDK here)."""
from __future__ import annotations

import json

from .port import AmsError

PASSING = {408, 409, 423, 425, 429}


def message_of(status: int, text: str) -> str:
    """The AMS's own words: a JSON error's message when there is one, else the start of the body."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error_description", "detail", "title", "error", "errors"):
            value = body.get(key)
            if value:
                return f"HTTP {status}: {value if isinstance(value, str) else json.dumps(value)[:300]}"
    return f"HTTP {status}: {' '.join(text.split())[:300]}" if text.strip() else f"HTTP {status}"


def error_for(status: int, text: str) -> AmsError:
    """401/403: credentials; other 4xx (but 408/409/429 ...): the record is refused; 5xx: passing."""
    message = message_of(status, text)
    if status in (401, 403):
        return AmsError(message, credentials=True)
    if 400 <= status < 500 and status not in PASSING:
        return AmsError(message, permanent=True)
    return AmsError(message)
