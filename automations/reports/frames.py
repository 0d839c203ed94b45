"""Leads and Activity as pandas DataFrames in the agency's local time, the shape every report reads.

Times are converted to naive local datetimes (the agency's time zone), exactly what the
xlsx export writes into cells, so a pandas figure and a spreadsheet formula look at the
same clock: "today", "this week" and "this month" are local calendar periods.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable
from zoneinfo import ZoneInfo

import pandas as pd

from sheets_schema.models import Activity, Lead
from sheets_schema.tabs import ACTIVITY, LEADS

LEAD_TIMES = [c.key for c in LEADS.columns if c.kind == "datetime"]
LEAD_NUMBERS = [c.key for c in LEADS.columns if c.kind in ("number", "money", "int")]


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value


def leads_frame(leads: Iterable[Lead], tz: ZoneInfo) -> pd.DataFrame:
    rows = []
    for lead in leads:
        row = lead.to_row()
        for key in LEAD_TIMES:
            row[key] = _local(row[key], tz)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=LEADS.keys)
    for key in LEAD_TIMES:
        frame[key] = pd.to_datetime(frame[key])
    for key in LEAD_NUMBERS:
        frame[key] = pd.to_numeric(frame[key], errors="coerce").astype("float64")
    for key in ("assigned_to", "source", "line", "status"):
        frame[key] = frame[key].fillna("").astype(str)
    return frame


def activity_frame(events: Iterable[Activity], tz: ZoneInfo) -> pd.DataFrame:
    rows = [{**e.to_row(), "time": _local(e.time, tz)} for e in events]
    frame = pd.DataFrame(rows, columns=ACTIVITY.keys)
    frame["time"] = pd.to_datetime(frame["time"])
    frame["event"] = frame["event"].fillna("").astype(str)
    return frame


def contacted(frame: pd.DataFrame) -> pd.Series:
    """Contacted = First Contact At present."""
    return frame["first_contact_at"].notna()


def quoted(frame: pd.DataFrame) -> pd.Series:
    """Quoted = Status Quoted or Bound, or a Quoted At stamp (a quote that was later lost still counts)."""
    return frame["status"].isin(["Quoted", "Bound"]) | frame["quoted_at"].notna()


def bound(frame: pd.DataFrame) -> pd.Series:
    return frame["status"] == "Bound"


def ratio(numerator: float, denominator: float) -> float | None:
    """A share or a per-unit figure; None (shown as a dash) instead of a division by zero."""
    return float(numerator) / float(denominator) if denominator else None


def mean(series: pd.Series) -> float | None:
    series = series.dropna()
    return float(series.mean()) if len(series) else None


def events_named(frame: pd.DataFrame, name: str) -> pd.Series:
    """Activity events called exactly `name` (case-insensitive, as COUNTIFS "name" matches)."""
    return frame["event"].str.strip().str.lower() == name.lower()


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        """'2026-11' -> Month(2026, 11); ValueError with a readable message otherwise."""
        try:
            year, month = (int(p) for p in text.strip().split("-"))
            date(year, month, 1)
        except (ValueError, TypeError):
            raise ValueError(f"month must look like YYYY-MM (got {text!r})") from None
        return cls(year, month)

    @classmethod
    def of(cls, moment: datetime, tz: ZoneInfo) -> "Month":
        local = moment.astimezone(tz)
        return cls(local.year, local.month)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1)

    @property
    def end(self) -> datetime:
        return datetime(self.year + self.month // 12, self.month % 12 + 1, 1)

    def previous(self) -> "Month":
        return Month(self.year - (self.month == 1), 12 if self.month == 1 else self.month - 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def contains(self, times: pd.Series) -> pd.Series:
        return (times >= self.start) & (times < self.end)
