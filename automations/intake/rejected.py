"""Nothing lost at the door: a refused submission is kept whole, the manager hears of it once a
day per form, and `leadrouter replay` turns it into a lead once the owner has fixed Form Fields
or an alias.

The Rejected table is capped (MAX_ROWS rows, MAX_CHARS characters of bodies; the oldest go
first) so that a flood of junk cannot fill the disk. Honeypot hits are never kept.
"""
from __future__ import annotations

import base64
from datetime import datetime

from sheets_schema.models import Rejected

from automations.config import AgencyConfig
from automations.ports import Message, Store

MAX_ROWS = 1000
MAX_CHARS = 50_000_000
_BASE64 = "base64:"


def body_text(raw: bytes) -> str:
    """The body as stored: its UTF-8 text, or base64 when it is not UTF-8 (nothing dropped)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _BASE64 + base64.b64encode(raw).decode("ascii")
    return text if not text.startswith(_BASE64) and "\x00" not in text else _BASE64 + base64.b64encode(raw).decode()


def body_bytes(row: Rejected) -> bytes:
    """The body exactly as it was posted."""
    if row.body.startswith(_BASE64):
        return base64.b64decode(row.body[len(_BASE64):])
    return row.body.encode("utf-8")


def describe_errors(errors: dict[str, str]) -> str:
    return "; ".join(f"{field}: {message}" for field, message in errors.items())


def keep(store: Store, now: datetime, *, raw: bytes, content_type: str, errors: dict[str, str], source: str = "",
         form: str = "", query: str = "", referer: str = "", client_ip: str = "") -> str:
    """Store a refused submission whole; returns its Rejected ID."""
    row = Rejected(rejected_id="", received_at=now, source=source, form=form, content_type=content_type,
                   query=query[:2000], referer=referer[:2000], client_ip=client_ip[:64],
                   errors=describe_errors(errors)[:5000], body=body_text(raw))
    return store.add_rejected(row, MAX_ROWS, MAX_CHARS)


def manager_notice(config: AgencyConfig, form: str, rejected_id: str, errors: dict[str, str],
                   now: datetime) -> list[Message]:
    """An email to each active manager, keyed by form and day: delivery's claim makes it once a day."""
    day = now.astimezone(config.settings.tz).date().isoformat()
    body = (f"A form submission was refused and kept as {rejected_id} (form {form}): {describe_errors(errors)}.\n"
            f"Fix the Form Fields tab (or a Lines alias), then run `leadrouter replay {rejected_id}`; "
            "`leadrouter rejected` lists every kept submission and `leadrouter forms` shows where each key went.\n"
            "You hear of the first refusal of each form once a day.")
    return [Message(key=f"rejected/{form}/{day}/{m.name}/email", channel="email", to=m.email, body=body,
                    subject=f"{config.settings.agency_name}: a form post was refused ({form})",
                    recipient=m.name, template="manager_rejected", extra={"from_name": config.settings.agency_name})
            for m in config.managers if m.is_active and m.email]
