"""Quiet hours: no text to a lead outside 8 a.m.-9 p.m. in the lead's own time zone.

The lead's zone comes from their ZIP, then their phone's area code, then the agency's.
A text due in quiet hours waits for the next allowed moment.

The Settings tab's Quiet Hours may make the window narrower ("20:00-09:00"), never wider:
8 a.m.-9 p.m. is the legal limit (TCPA), so a wider or unreadable setting is clamped to it and
`leadrouter check` says so (`quiet_hours_problems`).
"""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sheets_schema.models import Lead

from automations.config import Settings
from automations.contact import phone_time_zone
from automations.settings_text import read_clock, read_time_zone

LEGAL_FIRST, LEGAL_LAST = time(8), time(21)  # texts to leads only from 8:00 until 21:00, local time
_SPAN = re.compile(r"\s*(?:-|–|—|\bto\b|\buntil\b)\s*")


def lead_zone(lead: Lead, settings: Settings) -> ZoneInfo:
    for name in _zone_names(lead):
        zone = read_time_zone(name) if name else None
        if zone is not None:
            return zone
    return settings.tz


def _zone_names(lead: Lead):
    """The ZIP's zone, then (only if needed: it is slow) the phone's area code zone."""
    yield lead.time_zone
    if lead.phone:
        yield phone_time_zone(lead.phone)


def _clock(text: str) -> time | None:
    """'21:00', '21', '9pm', '9:30 p.m.' -> a time; None if it is not a time of day."""
    try:
        return read_clock(text)
    except ValueError:
        return None


def quiet_window(text: str) -> tuple[tuple[time, time], str]:
    """The quiet window (start, end) to use for a Quiet Hours setting, and what was wrong with it
    ('' when it is used as written)."""
    legal = (LEGAL_LAST, LEGAL_FIRST)
    shown = text.strip()
    parts = _SPAN.split(shown, maxsplit=1)
    start, end = (_clock(parts[0]), _clock(parts[1])) if len(parts) == 2 else (None, None)
    if start is None or end is None:
        return legal, f"Quiet Hours {shown!r} is not readable (write it like 21:00-08:00); 21:00-08:00 is used"
    if start > end:  # the usual overnight window: texts may go from `end` until `start`
        first, last = max(end, LEGAL_FIRST), min(start, LEGAL_LAST)
    elif start == end or end <= LEGAL_FIRST or start >= LEGAL_LAST:  # no quiet time inside the legal day
        first, last = LEGAL_FIRST, LEGAL_LAST
    elif start <= LEGAL_FIRST:  # "00:00-09:00"
        first, last = end, LEGAL_LAST
    elif end >= LEGAL_LAST:  # "20:00-23:59"
        first, last = LEGAL_FIRST, start
    else:
        return legal, (f"Quiet Hours {shown} is a break inside the day; only one overnight window is "
                       "supported, so 21:00-08:00 is used")
    if first >= last:
        return legal, f"Quiet Hours {shown} leaves no time for texts; 21:00-08:00 is used"
    window = (last, first)
    if window != (start, end):
        return window, (f"Quiet Hours {shown} would allow texts to leads outside 8:00-21:00, which the law "
                        f"does not; {window[0]:%H:%M}-{window[1]:%H:%M} is used")
    return window, ""


def quiet_hours_problems(settings: Settings) -> list[tuple[str, str]]:
    """(level, message) about the Quiet Hours setting, for `leadrouter check`."""
    _, problem = quiet_window(settings.get("Quiet Hours"))
    if not problem or "not readable" in problem:  # unreadable text: Settings.problems names it (the registry)
        return []
    return [("warning", problem)]


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
    window, _ = quiet_window(settings.get("Quiet Hours"))
    return text_allowed_at(moment, lead_zone(lead, settings), window)
