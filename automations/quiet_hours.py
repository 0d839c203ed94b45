"""Quiet hours: no text to a lead outside 8 a.m.-9 p.m. in the lead's own time zone.

The lead's zone comes from their ZIP, then their phone's area code, then the agency's.
A text due in quiet hours waits for the next allowed moment.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheets_schema.models import Lead

from .config import Settings
from .contact import phone_time_zone


def lead_zone(lead: Lead, settings: Settings) -> ZoneInfo:
    for name in _zone_names(lead):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return settings.tz


def _zone_names(lead: Lead):
    """The ZIP's zone, then (only if needed: it is slow) the phone's area code zone."""
    yield lead.time_zone
    if lead.phone:
        yield phone_time_zone(lead.phone)


def _quiet(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    return (start <= local or local < end) if start > end else (start <= local < end)


def text_allowed_at(moment: datetime, zone: ZoneInfo, quiet: tuple[time, time]) -> datetime:
    """`moment` if a text may go then; otherwise the end of the quiet window (local time)."""
    start, end = quiet
    local = moment.astimezone(zone)
    if not _quiet(local.time(), start, end):
        return moment
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, zone)


def next_text_time(lead: Lead, moment: datetime, settings: Settings) -> datetime:
    return text_allowed_at(moment, lead_zone(lead, settings), settings.quiet_hours)
