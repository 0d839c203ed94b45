"""What a scheduler tick decides to do, and what it remembers about each lead.

The escalation ladder and the follow-up sequence are pure functions that return `Action`s;
the tick performs them. Every action has an idempotency key ("L-1001/esc-5",
"L-1001/seq-h4") that is claimed in the Activity log once the action is done, and each
message inside it has its own key claimed before it is sent (notify.deliver). So a
restart re-plans the same actions, skips what is done and sends nothing twice.

Status changes are journaled the same way: the n-th change of a lead is the Activity row
keyed "L-1001/status/<n>/<Status>", so the journal also says which Status was last seen
(what the next change is measured against) and two workers never log one change twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from sheets_schema.models import Lead

from automations.events import REASSIGNMENT_EVENTS
from automations.ports import Message



@dataclass(frozen=True)
class Action:
    """One due step for one lead, with a reason a person can read."""
    key: str          # idempotency key of the step, claimed when the step is done
    lead_id: str
    step: str         # "esc-5", "seq-h4", "stamp" ...
    kind: str         # send | reassign | skip | stop | status
    reason: str
    event: str = ""   # Activity event of the row that marks the step done
    label: str = ""   # the lead's Escalation column after this step (ladder rungs only)
    messages: tuple[Message, ...] = ()


@dataclass
class Journal:
    """What the Activity log says about one lead, as much as a tick needs: the keys
    already claimed, how many times the lead was reassigned, and the last Status logged
    (None before the first logged change: the lead is as intake made it, New)."""
    keys: set[str] = field(default_factory=set)
    reassignments: int = 0
    status: str | None = None
    status_changes: int = 0

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str]]) -> "Journal":
        journal = cls()
        for key, event in rows:
            if key:
                journal.keys.add(key)
                journal._note_status(key)
            if event in REASSIGNMENT_EVENTS:
                journal.reassignments += 1
        return journal

    def _note_status(self, key: str) -> None:
        _, marker, rest = key.partition(STATUS_KEY)
        number, _, status = rest.partition("/")
        if marker and number.isdigit() and status and "/" not in status and int(number) >= self.status_changes:
            self.status_changes, self.status = int(number), status

    def done(self, key: str) -> bool:
        return key in self.keys

    @property
    def last_status(self) -> str:
        return self.status or "New"

    def next_status_key(self, lead_id: str, status: str) -> str:
        return status_key(lead_id, self.status_changes + 1, status)

    def add(self, key: str) -> None:
        self.keys.add(key)
        self._note_status(key)


STATUS_KEY = "/status/"
CONTACT_STATUSES = ("Contacted", "Quoted", "Bound", "Lost")


def status_key(lead_id: str, number: int, status: str) -> str:
    """'L-1001/status/2/Lost': the lead's second logged Status change, to Lost."""
    return f"{lead_id}{STATUS_KEY}{number}/{status.strip().replace('/', ' ')[:40]}"


def untouched(lead: Lead) -> bool:
    """Nobody has reached the lead yet: the ladder and the sequence run only for these.

    A Status that is none of the five ("Left VM") is no contact: the lead stays on the clock
    (and its owner is told to fix the cell, see status.status_step)."""
    return lead.first_contact_at is None and lead.status not in CONTACT_STATUSES


def stamp(moment: datetime) -> str:
    """A compact UTC time for keys: 20261124T153000."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S")
