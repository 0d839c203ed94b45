"""The business clock: minutes that count only while the office is open.

A lead that arrives at 2 a.m. starts its clock when the office opens; Friday 4:50 p.m.
plus 30 business minutes is Monday 8:20 a.m. Hours per weekday and holidays come from
Settings. Days and opening times are the agency's wall clock; durations are real time (a
span is converted to UTC before it is measured), so the night the clocks change counts the
hour that really passed. Results are timezone-aware, in the agency's zone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from automations.config import Settings
from automations.settings_text import END_OF_DAY, FULL_DAY

MAX_DAYS = 400  # a schedule with no open day at all must not loop forever
UTC = timezone.utc


@dataclass(frozen=True)
class BusinessHours:
    tz: ZoneInfo
    hours: dict[int, tuple[time, time]]  # weekday -> (open, close); a close of 00:00 is midnight at the day's end
    holidays: frozenset[date] = frozenset()
    yearly: frozenset[tuple[int, int]] = frozenset()  # (month, day) closed every year

    @classmethod
    def from_settings(cls, settings: Settings) -> "BusinessHours":
        return cls(settings.tz, settings.business_hours, settings.holidays, settings.yearly_holidays)

    def _span(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's opening hours in UTC, or None when closed."""
        if day in self.holidays or (day.month, day.day) in self.yearly or day.weekday() not in self.hours:
            return None
        opens, closes = self.hours[day.weekday()]
        start = datetime.combine(day, opens, self.tz).astimezone(UTC)
        last = day + timedelta(days=1) if closes == END_OF_DAY else day
        end = datetime.combine(last, closes, self.tz).astimezone(UTC)
        return (start, end) if end > start else None

    @property
    def always_open(self) -> bool:
        """Every hour of every day counts ('24/7'), so minutes are plain minutes."""
        if not self.hours:
            return True
        return (not self.holidays and not self.yearly and len(self.hours) == 7
                and all(span == FULL_DAY for span in self.hours.values()))

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        span = self._span(self._local_day(moment))
        return span is not None and span[0] <= moment.astimezone(UTC) < span[1]

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when open, else the next opening time."""
        if self.always_open or self.is_open(moment):
            return moment
        now, first = moment.astimezone(UTC), self._local_day(moment)
        for offset in range(MAX_DAYS):
            span = self._span(first + timedelta(days=offset))
            if span and span[1] > now:
                return max(span[0], now).astimezone(self.tz)
        return moment

    def minutes_between(self, start: datetime, end: datetime) -> float:
        """Open-office minutes in [start, end), in real time."""
        lo_all, hi_all = start.astimezone(UTC), end.astimezone(UTC)
        if hi_all <= lo_all:
            return 0.0
        if self.always_open:
            return (hi_all - lo_all).total_seconds() / 60
        total = 0.0
        day, last = self._local_day(start), self._local_day(end)
        while day <= last:
            span = self._span(day)
            if span:
                lo, hi = max(span[0], lo_all), min(span[1], hi_all)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 60
            day += timedelta(days=1)
        return total

    def add_minutes(self, start: datetime, minutes: float) -> datetime:
        """The moment when `minutes` business minutes have passed since `start`."""
        remaining = timedelta(minutes=minutes)
        at = start.astimezone(UTC)
        if self.always_open:
            return (at + remaining).astimezone(self.tz)
        first = self._local_day(start)
        for offset in range(MAX_DAYS):
            span = self._span(first + timedelta(days=offset))
            if not span or span[1] <= at:
                continue
            lo = max(span[0], at)
            if lo + remaining <= span[1]:
                return (lo + remaining).astimezone(self.tz)
            remaining -= span[1] - lo
        return (at + timedelta(minutes=minutes)).astimezone(self.tz)
