"""Consent (TCPA): may the service contact this lead automatically (texts and calls)?

Settings -> Texts Need Consent (Y by default): a lead with no recorded consent is not texted
or called by the service; a person may still reach them by hand. One function, so texts and
call connect ask the same question and get the same answer.
"""
from __future__ import annotations

from sheets_schema.models import Lead

from automations.config import Settings

SETTING = "Texts Need Consent"
NOT_NEEDED = {"n", "no", "false", "0", "off"}


def consent_refusal(lead: Lead, settings: Settings) -> str:
    """Why `lead` must not be contacted automatically ('' when it may be)."""
    if (settings.get(SETTING) or "Y").strip().lower() in NOT_NEEDED:  # anything unreadable means Y: the safe side
        return ""
    if lead.consent.strip():
        return ""
    return "no consent recorded for this lead (Settings: Texts Need Consent = Y)"
