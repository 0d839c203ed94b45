"""Row models: one pydantic model per tab, parsed from cell text.

Backends hand over rows as {header or key: cell}; `from_row` parses each cell by its
column kind (sheets_schema.cells), so the domain only ever sees typed values.
`to_row` gives back {key: python value} for a backend to format by kind.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Mapping

from pydantic import BaseModel, ConfigDict, field_validator

from . import cells
from .tabs import (
    ACTIVITY, CLIENTS, FORM_FIELDS, LEADS, LINES, PRODUCERS, SETTINGS, SOURCES, TEMPLATES, TERRITORIES, WEIGHTS, Tab,
)


class RowModel(BaseModel):
    model_config = ConfigDict(validate_assignment=False, extra="ignore")
    TAB: ClassVar[Tab]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]):
        values: dict[str, Any] = {}
        for col in cls.TAB.columns:
            if col.key in row:
                raw = row[col.key]
            elif col.header in row:
                raw = row[col.header]
            else:
                continue
            values[col.key] = cells.parse(col.kind, raw)
        return cls.model_validate(values)

    def to_row(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.TAB.keys}

    def to_text_row(self) -> dict[str, str]:
        return {c.key: cells.to_text(c.kind, getattr(self, c.key)) for c in self.TAB.columns}


_STATUS_SPELLING = {s.lower(): s for s in LEADS.column("status").choices}


def _list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return cells.split_list(value)


class Producer(RowModel):
    TAB = PRODUCERS
    name: str
    role: str = "Producer"
    email: str = ""
    mobile: str = ""
    lines: list[str] = []
    active: bool | None = True
    out_until: date | None = None
    max_active_leads: int | None = None
    licensed_states: list[str] = []
    push_webhook: str = ""
    backup: str = ""

    @field_validator("lines", "licensed_states", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> list[str]:
        return _list(v)

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, v: Any) -> str:
        text = str(v or "Producer").strip().lower()
        return {"csr": "CSR", "manager": "Manager"}.get(text, "Producer")

    @property
    def is_active(self) -> bool:
        return self.active is not False

    def is_out(self, today: date) -> bool:
        return self.out_until is not None and today <= self.out_until

    def writes_line(self, line: str) -> bool:
        wanted = line.strip().lower()
        return any(wanted and (l.lower() == wanted or wanted in l.lower().split()) for l in self.lines)


class Territory(RowModel):
    TAB = TERRITORIES
    territory: str = ""
    zip_from: str = ""
    zip_to: str = ""
    producer: str = ""
    backup: str = ""
    line_focus: list[str] = []

    @field_validator("line_focus", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> list[str]:
        return _list(v)

    def contains(self, zip5: str) -> bool:
        lo, hi = self.zip_from.strip().zfill(5), (self.zip_to or self.zip_from).strip().zfill(5)
        return lo <= zip5 <= hi


class Weight(RowModel):
    TAB = WEIGHTS
    factor: str
    weight: float | None = None
    bands: str = ""


class Source(RowModel):
    TAB = SOURCES
    source: str
    type: str = ""
    cost_per_lead: float | None = None
    monthly_spend: float | None = None
    commission_rate: float | None = None
    priority: str = "Normal"
    aliases: list[str] = []

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, v: Any) -> list[str]:
        if isinstance(v, (list, tuple)):
            return [str(x).strip() for x in v if str(x).strip()]
        return [p.strip() for p in str(v or "").split(",") if p.strip()]

    @property
    def is_high_priority(self) -> bool:
        return self.priority.strip().lower() == "high"


class LineDef(RowModel):
    TAB = LINES
    insurance_type: str
    line: str = ""
    related_lines: list[str] = []

    @field_validator("related_lines", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> list[str]:
        return _list(v)


class Client(RowModel):
    TAB = CLIENTS
    name: str = ""
    email: str = ""
    phone: str = ""
    csr: str = ""


class Template(RowModel):
    TAB = TEMPLATES
    key: str
    channel: str = "sms"
    subject: str = ""
    body: str = ""


class Setting(RowModel):
    TAB = SETTINGS
    setting: str
    value: str = ""


class FormField(RowModel):
    TAB = FORM_FIELDS
    key: str
    field: str = ""


class Lead(RowModel):
    TAB = LEADS
    lead_id: str
    received_at: datetime
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    zip: str = ""
    county: str = ""
    state: str = ""
    time_zone: str = ""
    insurance_type: str = ""
    line: str = ""
    current_carrier: str = ""
    policy_expiration: str = ""
    source: str = ""
    priority: str = "Normal"
    assigned_to: str = ""
    assigned_at: datetime | None = None
    routing_reason: str = ""
    status: str = "New"
    first_contact_at: datetime | None = None
    response_minutes: float | None = None
    attempts: int | None = None
    premium: float | None = None
    quoted_at: datetime | None = None
    bound_at: datetime | None = None
    lost_reason: str = ""
    reassigned_from: str = ""
    escalation: str = ""
    next_follow_up: datetime | None = None
    consent: str = ""
    notes: str = ""

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> str:
        """People type 'contacted' or ' Quoted '; the canonical spelling is kept."""
        text = str(v or "").strip().lower()
        return _STATUS_SPELLING.get(text, str(v).strip()) if text else "New"

    @property
    def number(self) -> str:
        """The short number people type in replies ('C 1042')."""
        return self.lead_id.rsplit("-", 1)[-1]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_open(self) -> bool:
        return self.status in ("New", "Contacted", "Quoted")


class Activity(RowModel):
    TAB = ACTIVITY
    time: datetime
    lead_id: str = ""
    event: str
    detail: str = ""
    key: str = ""


MODELS: dict[str, type[RowModel]] = {m.TAB.name: m for m in (
    Producer, Territory, Weight, Source, LineDef, Client, Template, Setting, FormField, Lead, Activity,
)}
