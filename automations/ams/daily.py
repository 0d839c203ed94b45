"""HawkSoft's daily file by email: from 8 a.m. (agency time), yesterday's leads as the client-import
CSV, attached to an email to every manager (Settings: AMS = hawksoft, HawkSoft Email = Y).

Once a day: the state row says which day went out, and each manager's message key (the day) is
claimed by delivery, so two workers never both send it; a failed send waits in the outbox.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sheets_schema import cells

from automations.config import AgencyConfig
from automations.ports import Message, Store

from .hawksoft import export_csv
from .settings import read_kind

STATE = "hawksoft_email_day"
FROM_HOUR = 8


def daily_messages(store: Store, config: AgencyConfig, now: datetime) -> tuple[str, list[Message]]:
    """(the day, the managers' emails) when yesterday's file is due; ('', []) otherwise."""
    settings = config.settings
    if read_kind(settings.get("AMS")) != "hawksoft" or not cells.parse_bool(settings.get("HawkSoft Email") or "N"):
        return "", []
    local = now.astimezone(settings.tz)
    day = local.date() - timedelta(days=1)
    if local.hour < FROM_HOUR or store.get_state(STATE) == day.isoformat():
        return "", []
    start = datetime.combine(day, time(0), tzinfo=settings.tz)
    leads = [lead for lead in store.leads(start) if lead.received_at < start + timedelta(days=1)]
    if not leads:
        return day.isoformat(), []
    attachment = export_csv(leads)
    messages = [Message(key=f"ams/hawksoft-email/{day}/{m.name}/email", channel="email", to=m.email,
                        subject=f"HawkSoft import: {len(leads)} lead(s) of {day:%a %b %d}",
                        body=f"Attached: the {len(leads)} lead(s) received on {day:%A %B %d, %Y}, as the CSV for "
                             "HawkSoft's client import.", recipient=m.name, template="hawksoft_daily",
                        extra={"attachment": attachment, "attachment_name": f"hawksoft-clients-{day}.csv"})
                for m in config.managers if m.is_active and m.email]
    return day.isoformat(), messages
