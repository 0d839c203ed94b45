"""The agency's configuration as one immutable snapshot of the config tabs.

A store builds it from the Producers, Territories, Weights, Sources, Lines, Clients,
Templates, Settings and Form Fields tabs; decisions take it as an argument, so an owner's
edit is seen by the next decision without a restart.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property
from zoneinfo import ZoneInfo

from sheets_schema import cells
from sheets_schema.models import (
    Client, FormField, LineDef, Producer, Setting, Source, Template, Territory, Weight,
)

from automations.settings_text import OpeningHours, describe_hours, read_business_hours, read_holidays, read_time_zone

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
    # the AMS (automations/ams/, docs/ams.md); secrets come from the environment
    "AMS": "none",
    "AMS Lookup Seconds": "0.3",
    "Epic API URL": "",
    "Epic Token Path": "/oauth2/token",
    "Epic Clients Path": "/clients",
    "Epic Notes Path": "/clients/{id}/activities",
    "Epic Scope": "",
    "AMS360 Agency Number": "",
    "AMS360 WSDL Path": "/v2/service.asmx?WSDL",
    "HawkSoft Folder": "hawksoft",
    "HawkSoft Email": "N",
}


def _whole_number(text: str) -> int | None:
    """0, 1, 2 ... as typed in a cell ('2', '2.0'); None for anything else ('two', '-1', '1.5')."""
    value = cells.parse_number(text)
    return int(value) if value is not None and value >= 0 and value == int(value) else None


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
        return read_time_zone(self.get("Time Zone")) or ZoneInfo(DEFAULT_SETTINGS["Time Zone"])

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
        """A whole number of times, 0 or more; anything else means the default (2), not 0."""
        value = _whole_number(self.get("Max Reassignments"))
        return int(DEFAULT_SETTINGS["Max Reassignments"]) if value is None else value

    @property
    def territory_fallback(self) -> str:
        return self.get("Territory Fallback")

    @property
    def default_source(self) -> str:
        return self.get("Default Source")

    @cached_property
    def opening_hours(self) -> OpeningHours:
        """The Business Hours text as read, with what could not be read."""
        return read_business_hours(self.get("Business Hours"))

    @cached_property
    def business_hours(self) -> dict[int, tuple[time, time]]:
        """Hours per weekday. An unreadable text means the default hours (never 'always open' or
        'never open', which would flood or freeze the speed clock); `problems` says so."""
        read = self.opening_hours
        return read_business_hours(DEFAULT_SETTINGS["Business Hours"]).hours if read.errors else read.hours

    @cached_property
    def _holidays(self) -> tuple[frozenset[date], frozenset[tuple[int, int]], tuple[str, ...]]:
        return read_holidays(self.get("Holidays"))

    @property
    def holidays(self) -> frozenset[date]:
        return self._holidays[0]

    @property
    def yearly_holidays(self) -> frozenset[tuple[int, int]]:
        """(month, day) closed every year: a Holidays entry without a year ('Dec 24')."""
        return self._holidays[1]

    @cached_property
    def problems(self) -> tuple[tuple[str, str], ...]:
        """(level, message) for each speed-clock setting not used as written: `leadrouter check` lists
        them; a tick records the errors (and goes on with what is said here)."""
        out: list[tuple[str, str]] = []
        hours = self.opening_hours
        text = self.get("Business Hours")
        if hours.errors:
            out.append(("error", f"Business Hours {text!r}: {'; '.join(hours.errors)}. The default "
                                 f"{DEFAULT_SETTINGS['Business Hours']} is used until it is fixed"))
        elif hours.notes:
            out.append(("warning", f"Business Hours {text!r}: {'; '.join(hours.notes)}; read as "
                                   f"{describe_hours(hours.hours)}"))
        bad = self._holidays[2]
        if bad:
            out.append(("error", f"Holidays: {', '.join(repr(b) for b in bad)} not a date (write it like "
                                 "2026-12-25, or Dec 25 for every year); the office counts as open that day"))
        zone = self.get("Time Zone")
        if read_time_zone(zone) is None:
            out.append(("error", f"Time Zone {zone!r} is not a time zone (write it like America/Chicago); "
                                 f"{DEFAULT_SETTINGS['Time Zone']} is used"))
        cap = self.get("Max Reassignments")
        if _whole_number(cap) is None:
            out.append(("error", f"Max Reassignments {cap!r} is not a whole number (0, 1, 2 ...); "
                                 f"{DEFAULT_SETTINGS['Max Reassignments']} is used"))
        return tuple(out)


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
        """Build from raw tab rows ({tab name: [row, ...]}); blank rows are skipped.

        A row counts when one of its `required` cells is filled; a Territories row with any
        cell filled is kept even without a ZIP From, so `check` can name it instead of the
        row vanishing.
        """
        def filled(value) -> bool:
            return bool(value) if isinstance(value, (list, tuple)) else bool(str(value or "").strip())

        def models(tab: str, model, required: str | tuple[str, ...]):
            keys = (required,) if isinstance(required, str) else required
            out = []
            for row in rows.get(tab, []):
                parsed = model.from_row(row)
                if any(filled(getattr(parsed, key, "")) for key in keys):
                    out.append(parsed)
            return tuple(out)

        settings = {s.setting: s.value for s in models("Settings", Setting, "setting")}
        return cls(
            producers=models("Producers", Producer, "name"),
            territories=models("Territories", Territory, ("zip_from", "zip_to", "territory", "producer", "backup")),
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
