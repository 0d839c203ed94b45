"""The AMS port: what leadrouter needs from an agency management system.

An adapter (epic.py, ams360.py, hawksoft.py, webhook.py) implements it for one system; the
queue (queue.py) is the only caller that writes, so every call is claimed in the Activity log
first. Errors are one type with a `permanent` flag (the healthchecks TransportError pattern):
a passing failure is retried with backoff; a permanent one (a field the AMS rejects) is not;
`credentials` marks a refusal that no record can pass until someone fixes the settings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

EVENTS = ("lead.created", "lead.status", "lead.reassigned")


class AmsError(Exception):
    """An AMS call failed. `permanent`: retrying this record cannot help (the AMS refused a field);
    `credentials`: the AMS refused us (bad or expired credentials), so every record waits until the
    settings are fixed. The message is the AMS's own words, for the manager."""

    def __init__(self, message: str, permanent: bool = False, *, credentials: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent and not credentials
        self.credentials = credentials


@dataclass(frozen=True)
class AmsRecord:
    """The guide's minimum lead record, as every adapter receives it."""
    lead_id: str
    first_name: str
    last_name: str
    phone: str
    email: str
    source: str
    insurance_type: str
    line: str
    assigned_to: str
    status: str
    received_at: str  # ISO 8601 with offset
    notes: str = ""
    zip: str = ""
    state: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AmsNote:
    """A status change or a reassignment, logged on the AMS record as a note/activity."""
    lead_id: str
    event: str  # lead.status | lead.reassigned
    text: str
    at: str  # ISO 8601


@dataclass(frozen=True)
class AmsClient:
    """A client the AMS already has: its id, and its CSR when the AMS says."""
    ams_id: str
    name: str = ""
    email: str = ""
    phone: str = ""
    csr: str = ""


class AMS(Protocol):
    """One agency management system. Every method raises AmsError on failure."""

    name: str

    def create_client(self, record: AmsRecord) -> str:
        """Create the lead's client/prospect record; return the AMS's id for it."""

    def add_note(self, ams_id: str, record: AmsRecord, note: AmsNote) -> None:
        """Add a note/activity to the record `ams_id`."""

    def find_client(self, *, email: str = "", phone: str = "", last_name: str = "",
                    reference: str = "") -> AmsClient | None:
        """The AMS's client with this email/phone (or created for lead `reference`); None when
        there is none or the AMS offers no lookup."""

    def verify(self) -> str:
        """Authenticate (check --online); return a short description of what was reached."""
