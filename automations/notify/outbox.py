"""The outbox: messages that must still go out (deferred by quiet hours, failed, or in flight).

Why a persisted outbox: a retry needs the message itself, not just its key, and the text a
producer should receive is decided when it is composed (a template edited later must not
change it). Each pending message is kept whole, as JSON, in the store's private state (the
local journal on every backend), next to the Activity journal that holds its claims. The
journal says what happened; the outbox says what is still owed. Entries are few (normally
none; during an outage one per message held back) and spread over a fixed number of small
JSON documents (`outbox:00` ... `outbox:15`, by a hash of the key), so that holding or
releasing one message rewrites a sixteenth of the backlog, not all of it.

Call `hold` and `release` inside `store.exclusive()`: they read, change and write a document.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Literal

from pydantic import BaseModel

from automations.ports import Message, Store
from automations.state_shelf import StateShelf

OUTBOX = "outbox"

State = Literal["deferred", "failed", "sending"]


class Pending(BaseModel):
    """One message still owed. `seq` counts outbox pickups (claim keys KEY#1, KEY#2 ...)."""
    message: dict
    state: State
    due: datetime
    created: datetime
    seq: int = 0
    attempts: int = 0
    error: str = ""

    @classmethod
    def of(cls, message: Message, **fields) -> "Pending":
        return cls(message=asdict(message), **fields)

    @property
    def msg(self) -> Message:
        return Message(**self.message)

    @property
    def key(self) -> str:
        return self.message["key"]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Waits are data so tests (and owners) can change them without sleeping.

    immediate: seconds to wait between quick in-process tries before a failure is handed to
    the outbox; backoff: seconds until the outbox's next try after failed attempt n (the last
    value repeats); lease: how long a send may be in flight before it counts as interrupted;
    give_up_after: a message still failing this long after it was composed is abandoned
    (recorded as failed permanently), so a dead configuration does not retry forever.
    """
    immediate: tuple[float, ...] = (1.0,)
    backoff: tuple[float, ...] = (60, 120, 300, 600, 900)
    lease: timedelta = timedelta(minutes=10)
    give_up_after: timedelta = timedelta(days=3)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def next_try(self, attempts: int, now: datetime) -> datetime:
        waits = self.backoff or (60,)
        return now + timedelta(seconds=waits[min(max(attempts, 1), len(waits)) - 1])


SHELF = StateShelf(OUTBOX)


def pending(store: Store) -> list[Pending]:
    """Everything still owed, soonest first."""
    out = []
    for entry in SHELF.documents(store):
        try:
            out.append(Pending.model_validate(entry))
        except ValueError:
            continue  # a damaged entry must not block the others
    return sorted(out, key=lambda p: p.due)


def due(store: Store, now: datetime) -> list[Pending]:
    return [p for p in pending(store) if p.due <= now]


def hold(store: Store, entry: Pending) -> None:
    """Add or replace the entry for this message's key (inside store.exclusive())."""
    SHELF.put(store, entry.key, entry.model_dump(mode="json"))


def release(store: Store, key: str) -> None:
    """The message is done with (sent, skipped, or failed for good) (inside store.exclusive())."""
    SHELF.drop(store, key)
