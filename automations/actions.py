"""What a scheduler tick decides to do, and what it remembers about each lead.

The escalation ladder and the follow-up sequence are pure functions that return `Action`s;
the tick performs them. Every action has an idempotency key ("L-1001/esc-5",
"L-1001/seq-h4") that is claimed in the Activity log once the action is done, and each
message inside it has its own key claimed before it is sent (notify.deliver). So a
restart re-plans the same actions, skips what is done and sends nothing twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from sheets_schema.models import Lead

from .events import REASSIGNMENT_EVENTS
from .ports import Message



@dataclass(frozen=True)
class Action:
    """One due step for one lead, with a reason a person can read."""
    key: str          # idempotency key of the step, claimed when the step is done
    lead_id: str
    step: str         # "esc-5", "seq-h4", "stamp" ...
    kind: str         # send | reassign | skip | stop | stamp
    reason: str
    event: str = ""   # Activity event of the row that marks the step done
    label: str = ""   # the lead's Escalation column after this step (ladder rungs only)
    messages: tuple[Message, ...] = ()


@dataclass
class Journal:
    """What the Activity log says about one lead, as much as a tick needs: the keys
    already claimed, and how many times the lead was reassigned."""
    keys: set[str] = field(default_factory=set)
    reassignments: int = 0

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str]]) -> "Journal":
        journal = cls()
        for key, event in rows:
            if key:
                journal.keys.add(key)
            if event in REASSIGNMENT_EVENTS:
                journal.reassignments += 1
        return journal

    def done(self, key: str) -> bool:
        return key in self.keys


def untouched(lead: Lead) -> bool:
    """Nobody has reached the lead yet: the ladder and the sequence run only for these."""
    return lead.status == "New" and lead.first_contact_at is None


def stamp(moment: datetime) -> str:
    """A compact UTC time for keys: 20261124T153000."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S")
