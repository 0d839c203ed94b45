"""TCPA: no automated text (or call) to a lead without recorded consent.

One rule, one function: `consent_refusal`. Delivery asks it before every text to a lead (so
no path can text a lead without consent) and the call-connect feature asks it before calling
one. Settings -> Texts Need Consent (default Y) switches the rule; the owner's own calls and
every email are outside it.
"""
from __future__ import annotations

from sheets_schema.models import Lead

from automations.config import DEFAULT_SETTINGS, Settings

SETTING = "Texts Need Consent"
NO_WORDS = {"no", "n", "false", "0", "off", "unchecked", "declined", "i do not agree", "do not agree", "none"}
_YES = {"y", "yes", "true", "1", "on", "required", "x"}
_NO = {"n", "no", "false", "0", "off", "not required"}


def read_needs_consent(settings: Settings) -> tuple[bool, str]:
    """(the rule is on, a problem for `leadrouter check`); unreadable text means the default, Y."""
    text = settings.get(SETTING).strip()
    word = text.lower().rstrip(".")
    if word in _YES:
        return True, ""
    if word in _NO:
        return False, ""
    default = DEFAULT_SETTINGS.get(SETTING, "Y")
    return default.lower() in _YES, (f"{SETTING} {text!r} is not Y or N; read as {default}, so texts to leads "
                                     "need their recorded consent")


def has_consent(lead: Lead) -> bool:
    answer = (lead.consent or "").strip()
    return bool(answer) and answer.lower() not in NO_WORDS


def consent_refusal(lead: Lead | None, settings: Settings) -> str:
    """'' when an automated text or call to this lead is allowed; else a sentence saying why not."""
    needed, _ = read_needs_consent(settings)
    if not needed:
        return ""
    if lead is None:
        return "no lead record to check consent against; not sent (Settings: Texts Need Consent)"
    if has_consent(lead):
        return ""
    return (f"lead {lead.lead_id} gave no consent to automated texts or calls (TCPA; Settings: Texts Need "
            "Consent is Y); not sent - the owner still calls, emails are unaffected")
