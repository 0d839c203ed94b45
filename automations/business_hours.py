"""The business clock: minutes that count only while the office is open.

A lead that arrives at 2 a.m. starts its clock when the office opens; Friday 4:50 p.m.
plus 30 business minutes is Monday 8:20 a.m. Hours per weekday and holidays come from
Settings; everything is computed in the agency's time zone and returned timezone-aware.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .config import Settings

MAX_DAYS = 400  # a schedule with no open day at all must not loop forever


@dataclass(frozen=True)
class BusinessHours:
    tz: ZoneInfo
    hours: dict[int, tuple[time, time]]  # weekday -> (open, close)
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> "BusinessHours":
        return cls(settings.tz, settings.business_hours, settings.holidays)

    def _span(self, day: date) -> tuple[datetime, datetime] | None:
        if day in self.holidays or day.weekday() not in self.hours:
            return None
        opens, closes = self.hours[day.weekday()]
        start = datetime.combine(day, opens, self.tz)
        end = datetime.combine(day, closes, self.tz)
        return (start, end) if end > start else None

    @property
    def always_open(self) -> bool:
        return not self.hours

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        local = moment.astimezone(self.tz)
        span = self._span(local.date())
        return span is not None and span[0] <= local < span[1]

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when open, else the next opening time."""
        if self.always_open or self.is_open(moment):
            return moment
        local = moment.astimezone(self.tz)
        for offset in range(MAX_DAYS):
            span = self._span(local.date() + timedelta(days=offset))
            if span and span[1] > local:
                return max(span[0], local)
        return moment

    def minutes_between(self, start: datetime, end: datetime) -> float:
        """Open-office minutes in [start, end)."""
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds() / 60
        total = 0.0
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        day = local_start.date()
        while day <= local_end.date():
            span = self._span(day)
            if span:
                lo, hi = max(span[0], local_start), min(span[1], local_end)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 60
            day += timedelta(days=1)
        return total

    def add_minutes(self, start: datetime, minutes: float) -> datetime:
        """The moment when `minutes` business minutes have passed since `start`."""
        if self.always_open:
            return start + timedelta(minutes=minutes)
        remaining = timedelta(minutes=minutes)
        local = start.astimezone(self.tz)
        for offset in range(MAX_DAYS):
            span = self._span(local.date() + timedelta(days=offset))
            if not span or span[1] <= local:
                continue
            lo = max(span[0], local)
            if lo + remaining <= span[1]:
                return lo + remaining
            remaining -= span[1] - lo
        return start + timedelta(minutes=minutes)
