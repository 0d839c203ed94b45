"""Helpers for the speed-clock tests: a lead posted through intake, and a clock walked tick by tick."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable
from zoneinfo import ZoneInfo

from automations.clock import FrozenClock
from automations.notify.channels.console import ConsoleNotifier
from automations.intake.submission import submit_lead
from automations.notify.delivery import deliver_all
from automations.speed_clock.tick import run_tick
from sheets_schema.models import Lead
from tests.conftest import lead_payload

NY = ZoneInfo("America/New_York")


def local(*args: int) -> datetime:
    """A New York wall-clock time (the demo agency's zone)."""
    return datetime(*args, tzinfo=NY)


@dataclass(frozen=True)
class Sent:
    at: datetime
    to: str        # a producer's name, or "lead"
    template: str
    channel: str
    body: str

    @property
    def short(self) -> tuple[str, str, str]:
        return (self.at.astimezone(NY).strftime("%a %H:%M"), self.to, self.template)


def post_lead(store, clock: FrozenClock, notifier: ConsoleNotifier, **fields) -> Lead:
    """A lead through intake, with its minute-0 messages sent, as POST /leads does."""
    outcome = submit_lead(lead_payload(**fields), store, clock)
    deliver_all(outcome.messages, store, notifier, clock)
    return outcome.lead


def tick_at(store, notifier: ConsoleNotifier, clock: FrozenClock, moment: datetime) -> list[Sent]:
    """Move the clock to `moment`, run one tick, return what it sent about leads (the agency's
    monthly report email, which a walk across the 1st meets, has its own test)."""
    clock.set(moment)
    before = len(notifier.sent)
    report = run_tick(store, notifier, clock)
    assert not report.errors, report.errors
    return [Sent(moment, m.recipient, m.template, m.channel, m.body) for m in list(notifier.sent)[before:]
            if m.lead_id]


def walk(store, notifier: ConsoleNotifier, clock: FrozenClock, moments: Iterable[datetime]) -> list[Sent]:
    sent: list[Sent] = []
    for moment in moments:
        sent += tick_at(store, notifier, clock, moment)
    return sent


def minutes(start: datetime, first: int, last: int, step: int = 1) -> list[datetime]:
    return [start + timedelta(minutes=m) for m in range(first, last + 1, step)]


def set_setting(store, name: str, value: str) -> None:
    rows = [r for r in store.read_rows("Settings") if r["setting"].strip().lower() != name.lower()]
    store.replace_rows("Settings", rows + [{"setting": name, "value": value}])
