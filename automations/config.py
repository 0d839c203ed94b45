"""The agency's configuration as one immutable snapshot of the config tabs.

A store builds it from the Producers, Territories, Weights, Sources, Lines, Clients,
Templates, Settings and Form Fields tabs; decisions take it as an argument, so an owner's
edit is seen by the next decision without a restart.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheets_schema import cells
from sheets_schema.models import (
    Client, FormField, LineDef, Producer, Setting, Source, Template, Territory, Weight,
)

DEFAULT_SETTINGS: dict[str, str] = {
    "Agency Name": "Our Agency",
    "Agency Phone": "",
    "Time Zone": "America/New_York",
    "Business Hours": "Mon-Fri 08:00-18:00",
    "Holidays": "",
    "Routing Model": "round_robin",
    "Duplicate Window": "30",
    "Quiet Hours": "21:00-08:00",
    "Tick Seconds": "30",
    "Territory Fallback": "round_robin",
    "Max Reassignments": "2",
    "Default Source": "Website",
    "Public URL": "",
}

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hhmm(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours) % 24, int(minutes or 0))


def parse_business_hours(text: str) -> dict[int, tuple[time, time]]:
    """'Mon-Fri 08:00-18:00; Sat 09:00-12:00' -> {weekday: (open, close)}."""
    hours: dict[int, tuple[time, time]] = {}
    for part in text.replace(",", ";").split(";"):
        bits = part.split()
        if len(bits) != 2:
            continue
        days, span = bits
        start_day, _, end_day = days.lower().partition("-")
        opens, _, closes = span.partition("-")
        first = DAYS.index(start_day[:3])
        last = DAYS.index((end_day or start_day)[:3])
        for day in range(first, last + 1):
            hours[day] = (_hhmm(opens), _hhmm(closes))
    return hours


@dataclass(frozen=True)
class Settings:
    values: dict[str, str]

    def get(self, name: str) -> str:
        for key, value in self.values.items():
            if key.strip().lower() == name.lower() and value.strip():
                return value.strip()
        return DEFAULT_SETTINGS.get(name, "")

    @property
    def agency_name(self) -> str:
        return self.get("Agency Name")

    @property
    def agency_phone(self) -> str:
        return self.get("Agency Phone")

    @cached_property
    def tz(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.get("Time Zone"))
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_SETTINGS["Time Zone"])

    @property
    def routing_model(self) -> str:
        return self.get("Routing Model").lower().replace("-", "_").replace(" ", "_")

    @property
    def duplicate_window_days(self) -> float:
        return cells.parse_number(self.get("Duplicate Window")) or 0.0

    @property
    def tick_seconds(self) -> float:
        return max(5.0, cells.parse_number(self.get("Tick Seconds")) or 30.0)

    @property
    def max_reassignments(self) -> int:
        return cells.parse_int(self.get("Max Reassignments")) or 0

    @property
    def territory_fallback(self) -> str:
        return self.get("Territory Fallback")

    @property
    def default_source(self) -> str:
        return self.get("Default Source")

    @cached_property
    def business_hours(self) -> dict[int, tuple[time, time]]:
        return parse_business_hours(self.get("Business Hours"))

    @cached_property
    def holidays(self) -> frozenset[date]:
        days = (cells.parse_date(p) for p in self.get("Holidays").replace(";", ",").split(","))
        return frozenset(d for d in days if d)

    @cached_property
    def quiet_hours(self) -> tuple[time, time]:
        """(start, end) of the quiet window, e.g. 21:00-08:00."""
        start, _, end = self.get("Quiet Hours").partition("-")
        try:
            return _hhmm(start), _hhmm(end)
        except ValueError:
            return time(21), time(8)


@dataclass(frozen=True)
class AgencyConfig:
    producers: tuple[Producer, ...] = ()
    territories: tuple[Territory, ...] = ()
    weights: tuple[Weight, ...] = ()
    sources: tuple[Source, ...] = ()
    lines: tuple[LineDef, ...] = ()
    clients: tuple[Client, ...] = ()
    templates: tuple[Template, ...] = ()
    settings: Settings = field(default_factory=lambda: Settings({}))
    form_fields: tuple[FormField, ...] = ()

    @classmethod
    def from_rows(cls, rows: dict[str, list[dict]]) -> "AgencyConfig":
        """Build from raw tab rows ({tab name: [row, ...]}); blank rows are skipped."""
        def models(tab: str, model, required: str):
            out = []
            for row in rows.get(tab, []):
                parsed = model.from_row(row)
                if str(getattr(parsed, required, "")).strip():
                    out.append(parsed)
            return tuple(out)

        settings = {s.setting: s.value for s in models("Settings", Setting, "setting")}
        return cls(
            producers=models("Producers", Producer, "name"),
            territories=models("Territories", Territory, "zip_from"),
            weights=models("Weights", Weight, "factor"),
            sources=models("Sources", Source, "source"),
            lines=models("Lines", LineDef, "insurance_type"),
            clients=models("Clients", Client, "csr"),
            templates=models("Templates", Template, "key"),
            settings=Settings(settings),
            form_fields=models("Form Fields", FormField, "key"),
        )

    def producer(self, name: str) -> Producer | None:
        wanted = name.strip().lower()
        return next((p for p in self.producers if p.name.strip().lower() == wanted), None)

    def producer_by_mobile(self, e164: str) -> Producer | None:
        from automations.contact import normalize_phone
        for p in self.producers:
            if p.mobile and normalize_phone(p.mobile) == e164:
                return p
        return None

    @property
    def managers(self) -> list[Producer]:
        return [p for p in self.producers if p.role == "Manager"]

    def line_of(self, insurance_type: str) -> LineDef | None:
        wanted = insurance_type.strip().lower()
        return next((l for l in self.lines if l.insurance_type.strip().lower() == wanted), None)

    def template(self, key: str) -> Template | None:
        return next((t for t in self.templates if t.key.strip() == key), None)
