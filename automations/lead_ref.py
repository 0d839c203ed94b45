"""The lead a person means: `1013`, `#1013`, `L-1013` (as texts and the thank-you page show it) all
name lead L-1013. Every command that takes a lead resolves it here."""
from __future__ import annotations

import re

from sheets_schema.models import Lead

from automations.ports import Store

_SHORT = re.compile(r"^(?:#|l\s*-?\s*#?)?\s*(\d+)$", re.IGNORECASE)


def find_lead(store: Store, text: str) -> Lead | None:
    """The lead `text` names (its Lead ID, or its short number in any of the forms people write), or None."""
    text = text.strip()
    if not text:
        return None
    lead = store.get_lead(text)
    if lead is not None:
        return lead
    match = _SHORT.match(text)
    if match is None:
        return None
    number = match.group(1)
    return store.get_lead(f"L-{number}") or next((l for l in store.leads() if l.number == number), None)
