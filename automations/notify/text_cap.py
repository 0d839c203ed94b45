"""A cap on automated texts to leads, per lead source and hour, with an alert to the managers.

Whoever can post a form can type strangers' numbers: without a cap, a bot's hour of posts
becomes thousands of texts from the agency's number (and the agency's TCPA exposure). Over
Settings -> Lead Texts Per Hour Per Source, texts to leads of that source wait for the next
hour (they stay in the outbox, nothing is dropped) and each active manager gets one text
per source and hour saying so.
"""
from __future__ import annotations

from datetime import datetime

from sheets_schema.models import Lead

from automations.config import AgencyConfig
from automations.contact import normalize_phone
from automations.one_line import one_line
from automations.ports import Message, Store
from automations.rate_limits import LEAD_TEXTS_PER_HOUR, rate_setting

HOUR = 3600.0


def capped_until(store: Store, lead: Lead, now: datetime, config: AgencyConfig) -> datetime | None:
    """Counts a text to `lead`; None when it may go, else when the source's hour ends."""
    cap = rate_setting(config.settings, LEAD_TEXTS_PER_HOUR)
    if cap <= 0:
        return None
    hits, ends = store.hit(f"lead-texts:{_source(lead).casefold()}", now, HOUR)
    return ends if hits > cap else None


def cap_alerts(lead: Lead, config: AgencyConfig, ends: datetime) -> list[Message]:
    """One text per active manager per source and hour (the key makes repeats no-ops)."""
    cap = rate_setting(config.settings, LEAD_TEXTS_PER_HOUR)
    local = ends.astimezone(config.settings.tz)
    body = (f"{config.settings.agency_name}: more than {cap} automated texts to leads from {_source(lead)} "
            f"this hour; the rest wait until {local:%H:%M}. A bot posting strangers' numbers? "
            f"Check the Leads tab (Lead Texts Per Hour Per Source in Settings).")
    return [Message(key=f"text-cap/{_source(lead).casefold()}/{ends:%Y%m%dT%H%M}/{m.name}/sms", channel="sms",
                    to=normalize_phone(m.mobile) or m.mobile, body=body, lead_id=lead.lead_id, recipient=m.name,
                    template="manager_text_cap")
            for m in config.managers if m.is_active and m.mobile]


def _source(lead: Lead) -> str:
    return one_line(lead.source) or "(no source)"
