"""The Clock port: every decision about time asks a clock, so tests move time instead of sleeping."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FrozenClock:
    """A clock that only moves when told to (tests, `leadrouter tick --now`)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


def for_people(moment: datetime, tz: tzinfo, *, seconds: bool = False) -> str:
    """'2026-11-24 10:05 -05:00': a moment in the agency's time zone, with its offset. Everything a person
    reads (CLI lines, logs, Activity details) uses it; only JSON keeps ISO 8601."""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local.strftime('%Y-%m-%d %H:%M:%S' if seconds else '%Y-%m-%d %H:%M')} {offset[:3]}:{offset[3:]}"
