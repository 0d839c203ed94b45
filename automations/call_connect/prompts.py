"""What a producer hears on a call-connect call, as plain data (the Twilio channel renders it).

The whisper is short on purpose: the producer decides in a few seconds whether to call now.
"""
from __future__ import annotations

from dataclasses import dataclass

from sheets_schema.models import Lead

GATHER_SECONDS = 8  # silence this long after the whisper = not answered


@dataclass(frozen=True)
class Prompt:
    """One answer to Twilio: `offer` (say, then wait for 1 or 2 posted to `action`), `dial` (say,
    then bridge to `number` showing `caller_id`), `say` (say, then hang up) or `hangup`."""
    kind: str
    text: str = ""
    action: str = ""        # path Twilio posts the pressed digit to
    number: str = ""        # the lead's phone, for `dial`
    status: str = ""        # path for the bridged call's status callbacks
    repeat: str = ""        # said when nothing was pressed, before hanging up


def whisper(lead: Lead) -> str:
    """'New Auto lead, Maria Lopez, ZIP 10150. Press 1 to call now, 2 to pass'."""
    kind = f"{lead.insurance_type} " if lead.insurance_type.strip() else ""
    name = lead.full_name or "no name given"
    place = f", ZIP {lead.zip}" if lead.zip else ""
    return f"New {kind}lead, {name}{place}. Press 1 to call now, 2 to pass"


def offer_path(lead_id: str, n: int, what: str) -> str:
    """Our voice endpoint for offer `n` of a lead: what = offer | answer | status | bridged."""
    return f"/voice/{what}?lead={lead_id}&n={n}"
