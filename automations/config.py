"""The agency's configuration as one immutable snapshot of the config tabs.

A store builds it from the Producers, Territories, Weights, Sources, Lines, Clients,
Templates, Settings and Form Fields tabs; decisions take it as an argument, so an owner's
edit is seen by the next decision without a restart.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sheets_schema.models import (
    Client, FormField, LineDef, Producer, Setting, Source, Template, Territory, Weight,
)

from automations.coverage import find_line
from automations.settings_registry import spec_for
from automations.settings_text import OpeningHours, describe_hours, read_business_hours, read_holidays

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
    "Call Connect": "N",  # issue 15: ring the owner's phone at minute 0 and bridge to the lead
    "Offer Window": "2 minutes",
    "Call Contact Seconds": "30",
    "Max Offers": "3",
    # issue 14: abuse limits (automations/rate_limits.py reads them)
    "Form Posts Per Minute": "20",
    "Form Posts Per Contact Per Hour": "5",
    "Vendor Posts Per Minute": "300",
    "Lead Texts Per Hour Per Source": "60",
    "Texts Need Consent": "Y",  # TCPA: automated texts to a lead need the lead's recorded consent
    "Round Robin Lines": "line",  # line: rotate among producers who write the lead's line; any: pure rotation
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


@dataclass(frozen=True)
class Settings:
    values: dict[str, str]

    def get(self, name: str) -> str:
        for key, value in self.values.items():
            if key.strip().lower() == name.lower() and value.strip():
                return value.strip()
        return DEFAULT_SETTINGS.get(name, "")

    def value(self, name: str) -> Any:
        """The setting as its reader understands it (automations.settings_registry); the documented
        default's reading when the text cannot be read (and `unreadable()` names it for `check`)."""
        spec = spec_for(name, DEFAULT_SETTINGS.get(name, ""))
        try:
            return spec.read(self.get(name))
        except ValueError:
            return spec.read(DEFAULT_SETTINGS.get(name, ""))

    def unreadable(self) -> list[str]:
        """A sentence for each setting whose text cannot be read as meant, naming the default used instead."""
        out = []
        for name, default in DEFAULT_SETTINGS.items():
            problem = spec_for(name, default).problem(self.get(name), default)
            if problem:
                out.append(problem)
        return out

    @property
    def agency_name(self) -> str:
        return self.get("Agency Name")

    @property
    def agency_phone(self) -> str:
        return self.value("Agency Phone")

    @cached_property
    def tz(self) -> ZoneInfo:
        return self.value("Time Zone")

    @cached_property
    def routing_model(self) -> str:
        """round_robin, territory or weighted ('Round Robin' and 'rotation' too); unreadable -> round_robin."""
        return self.value("Routing Model")

    @property
    def duplicate_window_days(self) -> float:
        """'30', '30 days', '2 weeks', 'thirty'; unreadable -> the default 30 days, never 0 (= off)."""
        return self.value("Duplicate Window")

    @property
    def tick_seconds(self) -> float:
        return max(5.0, self.value("Tick Seconds") or float(DEFAULT_SETTINGS["Tick Seconds"]))

    @property
    def max_reassignments(self) -> int:
        """A whole number of times, 0 or more ('two' too); anything else means the default (2), not 0."""
        return self.value("Max Reassignments")

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
        return self.value("Business Hours")

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
        """(level, message) for each setting not used as written (every DEFAULT_SETTINGS row, through
        automations.settings_registry): `leadrouter check` lists them; a tick records the errors (and goes
        on with the defaults named here)."""
        out: list[tuple[str, str]] = [("error", message) for message in self.unreadable()]
        hours = self.opening_hours
        if not hours.errors and hours.notes:
            out.append(("warning", f"Business Hours {self.get('Business Hours')!r}: {'; '.join(hours.notes)}; "
                                   f"read as {describe_hours(hours.hours)}"))
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
        """The Lines row of an answer: its name, its Aliases or a common way of saying it."""
        return find_line(self.lines, insurance_type)

    def template(self, key: str) -> Template | None:
        return next((t for t in self.templates if t.key.strip() == key), None)
