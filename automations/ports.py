"""Ports: what the domain needs from storage and from the outside world.

`Store` is an ABC with template methods (the cosmicpython repository pattern): a backend
implements a handful of primitives; the domain-level queries have plain-Python defaults
that a backend may override with something faster (the SQL store does). Backends live in
sheets_schema/; app.py picks one and wires it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Protocol

from sheets_schema.models import Activity, Lead, Rejected
from sheets_schema.tabs import CONFIG_TABS, OPEN_STATUSES

from automations.config import AgencyConfig
from automations.events import REASSIGNMENT_EVENTS


@dataclass
class ProducerLoad:
    """What routing needs to know about one producer's current and recent work."""
    active: int = 0
    last_assigned_at: datetime | None = None
    assigned_window: int = 0
    bound_window: int = 0
    response_minutes: list[float] = field(default_factory=list)

    @property
    def close_rate(self) -> float | None:
        return self.bound_window / self.assigned_window if self.assigned_window else None

    @property
    def avg_response(self) -> float | None:
        return sum(self.response_minutes) / len(self.response_minutes) if self.response_minutes else None


HISTORY_DAYS = 90


class Store(ABC):
    """The agency's workbook: config tabs, Leads, Activity, and a little private state."""

    # ---- structure -------------------------------------------------------------
    @abstractmethod
    def init(self) -> None:
        """Create missing tables/tabs; safe to run again (keeps data)."""

    @abstractmethod
    def read_rows(self, tab: str) -> list[dict[str, Any]]:
        """Rows of a config tab as {column key: cell value}."""

    @abstractmethod
    def replace_rows(self, tab: str, rows: Iterable[dict[str, Any]]) -> None:
        """Replace every row of a config tab (init --demo, import)."""

    # ---- leads -----------------------------------------------------------------
    @abstractmethod
    def add_lead(self, lead: Lead) -> None: ...

    @abstractmethod
    def get_lead(self, lead_id: str) -> Lead | None: ...

    @abstractmethod
    def update_lead(self, lead_id: str, changes: dict[str, Any]) -> None:
        """Write only the given columns of one lead (found by Lead ID)."""

    @abstractmethod
    def leads(self, since: datetime | None = None) -> list[Lead]:
        """Leads received at or after `since` (all when None), oldest first."""

    def lead_statuses(self, since: datetime | None = None) -> dict[str, tuple[datetime, str]]:
        """Lead ID -> (Received At, Status) of the leads received since `since`: what the tick's
        status sweep compares. A store may answer with a narrow query instead of whole leads."""
        return {lead.lead_id: (lead.received_at, lead.status) for lead in self.leads(since)}

    # ---- activity / journal ----------------------------------------------------
    @abstractmethod
    def add_activity(self, events: Iterable[Activity]) -> None: ...

    @abstractmethod
    def claim(self, event: Activity) -> bool:
        """Record `event` unless an event with the same key exists; True if this call won.

        This is what makes sending exactly-once: the claim row is written before the send.
        """

    @abstractmethod
    def activity(self, lead_id: str | None = None) -> list[Activity]: ...

    @abstractmethod
    def get_state(self, name: str) -> str | None: ...

    @abstractmethod
    def set_state(self, name: str, value: str) -> None: ...

    @abstractmethod
    def next_lead_id(self) -> str:
        """A new, never reused Lead ID ('L-1001'); call inside `exclusive()`."""

    @abstractmethod
    def exclusive(self) -> AbstractContextManager[None]:
        """One writer at a time across threads and processes (routing + persisting a lead)."""

    # Every process (web workers, the worker, other hosts) claims in this one journal, so a claim
    # decides who sends. False for a store that keeps a journal per host (Google Sheets).
    shared_journal: bool = True
    # ---- refused submissions (the Rejected table) -----------------------------------
    def add_rejected(self, row: Rejected, max_rows: int, max_chars: int) -> str:
        """Keep a refused submission; returns its new Rejected ID ('R-1'). The oldest rows go
        first once more than `max_rows` rows or `max_chars` characters of bodies are kept."""
        raise NotImplementedError

    def rejected(self) -> list[Rejected]:
        """Kept refused submissions, oldest first."""
        raise NotImplementedError

    def mark_replayed(self, rejected_id: str, lead_id: str) -> None:
        """Record the lead a refused submission became on replay."""
        raise NotImplementedError

    def get_rejected(self, rejected_id: str) -> Rejected | None:
        wanted = rejected_id.strip().upper()
        return next((r for r in self.rejected() if r.rejected_id.upper() == wanted), None)

    # ---- template methods with plain defaults ------------------------------------
    def config(self) -> AgencyConfig:
        """The config tabs as one snapshot; re-read only when `config_version` says they changed."""
        version = self.config_version()
        cached = getattr(self, "_config_cache", None)
        if version is not None and cached is not None and cached[0] == version:
            return cached[1]
        config = AgencyConfig.from_rows({tab.name: self.read_rows(tab.name) for tab in CONFIG_TABS})
        self._config_cache = (version, config)
        return config

    def config_version(self) -> str | None:
        """A token that changes whenever a config tab changes; None = unknown, always re-read."""
        return None

    def find_duplicate(self, phone: str, email: str, since: datetime) -> Lead | None:
        """The newest lead since `since` with the same phone or email."""
        email = email.lower()
        for lead in reversed(self.leads(since)):
            if (phone and lead.phone == phone) or (email and lead.email.lower() == email):
                return lead
        return None

    def open_leads(self) -> list[Lead]:
        return [lead for lead in self.leads() if lead.status in OPEN_STATUSES]

    def watched_leads(self, now: datetime | None = None) -> list[Lead]:
        """What a scheduler tick looks at: leads nobody has reached yet, and leads whose Status
        moved on without the stamps that go with it (First Contact At, Quoted At, Bound At).

        Given `now`, a backend may leave out untouched leads that cannot have anything due:
        assigned more than WATCH_DAYS ago (their ladder and fixed sequence are over) and
        whose Next Follow-up is still ahead, or whose sequence was stopped (opt-out).
        """
        return [lead for lead in self.leads() if is_watched(lead)]

    def journal(self, lead_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """Per lead, (key, event) of its keyed or reassignment Activity rows, oldest first."""
        wanted = set(lead_ids)
        out: dict[str, list[tuple[str, str]]] = {}
        for event in self.activity():
            if event.lead_id in wanted and (event.key or event.event in REASSIGNMENT_EVENTS):
                out.setdefault(event.lead_id, []).append((event.key, event.event))
        return out

    def workload(self, now: datetime, history: bool = True) -> dict[str, ProducerLoad]:
        """Per producer: open leads, last assignment, and (with `history`) the trailing-90-day record."""
        since = now - timedelta(days=HISTORY_DAYS)
        loads: dict[str, ProducerLoad] = {}
        for lead in self.leads():
            if not lead.assigned_to:
                continue
            load = loads.setdefault(lead.assigned_to, ProducerLoad())
            if lead.status in OPEN_STATUSES:
                load.active += 1
            if lead.assigned_at and (load.last_assigned_at is None or lead.assigned_at > load.last_assigned_at):
                load.last_assigned_at = lead.assigned_at
            if lead.assigned_at and lead.assigned_at >= since:
                load.assigned_window += 1
                load.bound_window += lead.status == "Bound"
                if lead.first_contact_at and lead.response_minutes is not None:
                    load.response_minutes.append(lead.response_minutes)
        return loads

    def refresh(self) -> bool:
        """Re-read what people edit and write queued work (once per tick); True when the store answered.

        A no-op for stores that are always current (SQL); the Google Sheets store reads every
        tab in one call here and caches the configuration until the next tick.
        """
        return True

    def queued(self, lead_id: str) -> bool:
        """True while a lead is kept locally because the store could not be reached (HTTP 202)."""
        return False

    def hold_worker_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        """May `holder` run the scheduler, whichever host it is on? (Taken or renewed for `seconds`.)

        For a store whose private state is not shared by every host (the Google Sheets store keeps
        a journal per host, so it keeps this lease in the spreadsheet). A store whose state every
        worker shares answers True: the scheduler's lease in `set_state` is enough there.
        """
        return True

    def drop_worker_lease(self, holder: str, now: datetime) -> None:
        """A worker that stops lets go, so another takes over at once instead of after expiry."""

    def hit(self, key: str, now: datetime, seconds: float, amount: int = 1) -> tuple[int, datetime]:
        """Count `amount` events (1; 0 to only look) against `key` in the fixed window of `seconds` holding `now`.

        Returns (events in this window so far, this one included; when the window ends). Every
        process that shares this store's state shares the count (rate limits, caps): the SQL
        store keeps it in its database; this default keeps it in the state under exclusive().
        """
        start, end = fixed_window(now, seconds)
        name = f"rate:{key}"
        with self.exclusive():
            stamp, _, count = (self.get_state(name) or "").partition("|")
            hits = (int(count) if stamp == start.isoformat() and count.isdigit() else 0) + amount
            if amount:
                self.set_state(name, f"{start.isoformat()}|{hits}")
        return hits, end

    def close(self) -> None:
        """Release connections."""


def fixed_window(now: datetime, seconds: float) -> tuple[datetime, datetime]:
    """The window of `seconds` (counted from the Unix epoch) that holds `now`: (start, end)."""
    stamp = now.timestamp()
    start = stamp - stamp % seconds
    return (datetime.fromtimestamp(start, now.tzinfo), datetime.fromtimestamp(start + seconds, now.tzinfo))


WATCH_DAYS = 14  # longer than any ladder (60 business minutes) and the fixed sequence (day 7)
SEQUENCE_STOPPED = "/seq-stop"  # Activity key suffix: the follow-up sequence of this lead has stopped


def is_watched(lead: Lead) -> bool:
    """Not contacted yet (New), or a Status edit whose stamps the next tick still has to write."""
    return (lead.first_contact_at is None
            or (lead.status == "Quoted" and lead.quoted_at is None)
            or (lead.status == "Bound" and lead.bound_at is None))


class Notifier(Protocol):
    """Delivers one message on one channel; raises ChannelError on failure."""

    def send(self, message: "Message") -> str | None:
        """Send and return the provider's id for the message (or None)."""


@dataclass(frozen=True)
class Message:
    """One message to one person. `key` is its idempotency key in the Activity log."""
    key: str
    channel: str  # sms | email | push
    to: str
    body: str
    subject: str = ""
    lead_id: str = ""
    recipient: str = ""  # a producer's name, or "lead"
    html: str = ""
    template: str = ""
    extra: dict[str, str] = field(default_factory=dict)
