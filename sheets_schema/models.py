"""Row models: one pydantic model per tab, parsed from cell text.

Backends hand over rows as {header or key: cell}; `from_row` parses each cell by its
column kind (sheets_schema.cells), so the domain only ever sees typed values.
`to_row` gives back {key: python value} for a backend to format by kind.

A config row people type (Producers, Weights) keeps a `problems` list: the cells that did
not parse and how they were read instead ("Out Until 'next week' is not a date; read as
blank"), so `leadrouter check` can name them. It is never stored or exported.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from automations.contact import normalize_phone

from . import cells
from .tabs import (
    ACTIVITY, CLIENTS, FORM_FIELDS, LEADS, LINES, PRODUCERS, REJECTED, SETTINGS, SOURCES, TEMPLATES, TERRITORIES,
    WEIGHTS, Tab,
)


FALSE_WORDS = {"n", "no", "false", "0", "off", "inactive"}
_KIND_WORDS = {"bool": "Y or N", "date": "a date (e.g. 12/24/2026)", "datetime": "a date and time",
               "int": "a whole number", "number": "a number", "money": "an amount", "percent": "a percent"}
class RowModel(BaseModel):
    model_config = ConfigDict(validate_assignment=False, extra="ignore")
    TAB: ClassVar[Tab]
    # per column key, how an unreadable cell is read, as the owner should hear it
    MISREAD: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]):
        values: dict[str, Any] = {}
        problems: list[str] | None = [] if "problems" in cls.model_fields else None
        for col in cls.TAB.columns:
            if col.key in row:
                raw = row[col.key]
            elif col.header in row:
                raw = row[col.header]
            else:
                continue
            value = cells.parse(col.kind, raw)
            if problems is not None and col.kind in _KIND_WORDS and not cells.is_blank(raw):
                value = cls._checked(col, raw, value, problems)
            values[col.key] = value
        if problems:
            values["problems"] = problems
        return cls.model_validate(values)

    @classmethod
    def _checked(cls, col, raw: Any, value: Any, problems: list[str]) -> Any:
        """The value of a typed cell; records a problem when the text could not be read."""
        from automations.settings_text import read_number, read_yes_no  # the Settings tab's forgiving readers
        if col.kind == "bool":
            known = isinstance(raw, bool) or str(raw).strip().lower() in cells.TRUE_WORDS | FALSE_WORDS
            if not known:
                try:
                    value, known = read_yes_no(str(raw)), True  # 'Yes!', 'enabled', 'nope'
                except ValueError:
                    pass
        elif col.kind in ("int", "number") and value is None:
            try:
                number = read_number(str(raw))  # 'ten', 'twenty-five'
                value, known = (int(number) if col.kind == "int" else number), number >= 0
            except ValueError:
                known = False
        elif col.kind == "date" and value is None and isinstance(raw, str):
            value = cells.parse_date_words(raw)
            known = value is not None
        else:
            known = value is not None
        if not known:
            how = cls.MISREAD.get(col.key, "read as N" if col.kind == "bool" else "read as blank")
            problems.append(f"{col.header} {str(raw).strip()!r} is not {_KIND_WORDS[col.kind]}; {how}")
        return value

    def to_row(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.TAB.keys}

    def to_text_row(self) -> dict[str, str]:
        return {c.key: cells.to_text(c.kind, getattr(self, c.key)) for c in self.TAB.columns}


_STATUS_SPELLING = {s.lower(): s for s in LEADS.column("status").choices}


def canonical_status(value: Any) -> str:
    """People type 'contacted' or ' Quoted '; the canonical spelling is kept (blank = New)."""
    text = str(value or "").strip().lower()
    return _STATUS_SPELLING.get(text, str(value).strip()) if text else "New"


_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


def canonical_phone(value: Any) -> str:
    """People type '(201) 555-0142' into a Phone cell; the service keeps E.164, the form Twilio
    reports, so a STOP, a reply and a duplicate all find the lead. A cell that is no valid number
    is kept as typed."""
    text = str(value or "").strip()
    if not text or _E164.match(text):
        return text
    return normalize_phone(text) or text


_CANONICAL = {"status": canonical_status, "phone": canonical_phone}


def canonical_lead_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """An update to a lead spelled as the Lead model keeps it, so a store never holds what a read
    of the same lead would spell otherwise."""
    return {k: _CANONICAL[k](v) if k in _CANONICAL else v for k, v in changes.items()}


def _list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return cells.split_list(value)


ROLE_ALIASES = {
    "producer": "Producer", "agent": "Producer", "sales": "Producer", "salesperson": "Producer",
    "sales agent": "Producer", "sales producer": "Producer", "account executive": "Producer",
    "csr": "CSR", "customer service": "CSR", "customer service rep": "CSR",
    "customer service representative": "CSR", "service": "CSR", "account manager": "CSR",
    "manager": "Manager", "sales manager": "Manager", "agency manager": "Manager", "owner": "Manager",
    "agency owner": "Manager", "principal": "Manager",
}


class Producer(RowModel):
    TAB = PRODUCERS
    MISREAD = {"active": "read as N, so no leads", "out_until": "read as blank, so not away: leads keep coming",
               "max_active_leads": "read as blank, so no cap"}
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
    after_hours_calls: bool | None = False
    problems: list[str] = Field(default_factory=list, exclude=True)  # cells that did not parse

    @field_validator("lines", "licensed_states", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> list[str]:
        return _list(v)

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, v: Any) -> str:
        """'csr', 'Customer Service Rep', 'Agent' -> CSR / Producer ...; an unknown role is kept as typed
        (out of every rotation, so a CSR never gets new leads by a spelling) and reported."""
        text = " ".join(str(v or "").replace("-", " ").replace("_", " ").split())
        key = text.lower()
        return (ROLE_ALIASES.get(key) or ROLE_ALIASES.get(key.removesuffix("s")) or text) if text else "Producer"

    @model_validator(mode="after")
    def _unknown_role(self) -> "Producer":
        if self.role not in ("Producer", "CSR", "Manager") and not any(p.startswith("Role ") for p in self.problems):
            self.problems.append(f"Role {self.role!r} is not Producer, CSR or Manager; kept out of every "
                                 "rotation")
        return self

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
        if not self.zip_from.strip():  # no range (`check` reports the row)
            return False
        lo, hi = self.zip_from.strip().zfill(5), (self.zip_to or self.zip_from).strip().zfill(5)
        return lo <= zip5 <= hi


class Weight(RowModel):
    TAB = WEIGHTS
    MISREAD = {"weight": "read as blank, so the default weight is used"}
    factor: str
    weight: float | None = None
    bands: str = ""
    problems: list[str] = Field(default_factory=list, exclude=True)  # cells that did not parse


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
    aliases: list[str] = []

    @field_validator("related_lines", "aliases", mode="before")
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
    form: str = ""


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
    how_heard: str = ""
    consent_at: datetime | None = None
    consent_ip: str = ""
    consent_page_url: str = ""
    consent_certificate_url: str = ""
    ams_id: str = ""

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> str:
        return canonical_status(v)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v: Any) -> str:
        return canonical_phone(v)

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


class Rejected(RowModel):
    """A submission refused at intake, kept whole so that `leadrouter replay` can make it a lead."""
    TAB = REJECTED
    rejected_id: str
    received_at: datetime
    source: str = ""
    form: str = ""
    content_type: str = ""
    query: str = ""
    referer: str = ""
    client_ip: str = ""
    errors: str = ""
    body: str = ""
    replayed_as: str = ""


SAME_MOMENT = timedelta(seconds=1)  # a copied row's time may have lost its microseconds (xlsx, a sheet cell)


def activity_not_in(existing: Iterable[Activity], incoming: Iterable[Activity]) -> list[Activity]:
    """The incoming Activity rows a journal does not have yet, for copying rows between journals
    (a workbook import, a worker taking over a spreadsheet). A Key is a claim: never recorded
    twice. A row without one is known by its lead, event and detail at the same moment; two
    alike incoming rows are two happenings, so only the journal's own rows are matched."""
    keys: set[str] = set()
    seen: dict[tuple[str, str, str], list[datetime]] = {}
    for event in existing:
        if event.key:
            keys.add(event.key)
        else:
            seen.setdefault((event.lead_id, event.event, event.detail), []).append(event.time)
    new = []
    for event in incoming:
        if event.key:
            if event.key not in keys:
                keys.add(event.key)
                new.append(event)
        else:
            alike = seen.get((event.lead_id, event.event, event.detail), ())
            if not any(abs(event.time - t) < SAME_MOMENT for t in alike):
                new.append(event)
    return new


MODELS: dict[str, type[RowModel]] = {m.TAB.name: m for m in (
    Producer, Territory, Weight, Source, LineDef, Client, Template, Setting, FormField, Lead, Activity,
)}
