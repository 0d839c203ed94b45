"""Status changes, the stamps they leave (First Contact At, Response Minutes, Quoted/Bound At),
and their Activity rows.

Two ways in: a producer's text reply (applied at once, `apply_status`) and an edit of the
Status cell (noticed by the tick, `status_step`). Both use `status_changes`, a pure function,
so the stamps are the same either way, and both log the change as one Activity row keyed by
its number ("L-1001/status/2/Lost", see actions.status_key) that reads "Contacted -> Lost: ...".
The journal's last such row is the Status last seen, so an edit is logged once, by whichever
worker sees it first. The tick writes the canonical spelling back ("contacted " -> Contacted)
with the stamps, because SQL queries and sheet formulas match the exact text.

A Status that is none of the five ("Left VM") is logged once and its owner (else the managers)
is told to fix it; until then the lead counts as New and keeps its speed clock, since a
misspelt cell must not silence the ladder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sheets_schema.models import Activity, Lead
from sheets_schema.tabs import STATUSES

from .actions import Action, Journal
from .business_hours import BusinessHours
from automations.clock import for_people
from automations.ams.queue import queue_note
from automations.config import AgencyConfig
from automations.contact import normalize_phone, redact
from automations.ports import Message, Store

STATUS_EVENT = "status"


def status_changes(lead: Lead, status: str, now: datetime, hours: BusinessHours, *,
                   premium: float | None = None, lost_reason: str = "") -> dict[str, Any]:
    """The column updates for moving `lead` to `status` at `now` (empty when nothing changes)."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    changes: dict[str, Any] = {}
    if status != lead.status:
        changes["status"] = status
    if status != "New" and lead.first_contact_at is None:
        changes.update(contact_stamp(lead, now, hours))
    if status == "Quoted" and lead.quoted_at is None:
        changes["quoted_at"] = now
    if status == "Bound" and lead.bound_at is None:
        changes["bound_at"] = now
    if premium is not None and status in ("Quoted", "Bound"):
        changes["premium"] = premium
    if status == "Lost" and lost_reason:
        changes["lost_reason"] = lost_reason
    return changes


def contact_stamp(lead: Lead, now: datetime, hours: BusinessHours) -> dict[str, Any]:
    """First contact: when, and how many business minutes after assignment."""
    assigned = lead.assigned_at or lead.received_at
    return {"first_contact_at": now, "response_minutes": round(hours.minutes_between(assigned, now), 1),
            "next_follow_up": None}


# ---- the tick's side: a Status cell that changed -----------------------------------------------
@dataclass(frozen=True)
class StatusStep:
    action: Action                                          # its key is the change's number
    changes: dict[str, Any] = field(default_factory=dict)   # stamps + the canonical Status


def status_step(lead: Lead, journal: Journal, now: datetime, hours: BusinessHours,
                config: AgencyConfig) -> StatusStep | None:
    """What the tick records for `lead`'s Status (None when it is as last seen).

    Compared with the journal's last logged Status; the changes are the stamps the new Status
    needs plus the canonical spelling, the messages the notice about a Status we do not know.
    """
    seen, status = journal.last_status, lead.status
    known = status in STATUSES
    changes = {k: v for k, v in status_changes(lead, status, now, hours).items() if k != "status"} if known else {}
    stamps = [k for k in changes if k != "next_follow_up"]
    if status == seen and not changes:
        return None
    if status != seen:
        key = journal.next_status_key(lead.lead_id, status)
        what = f"{seen} -> {status}"
    else:  # the same Status, a stamp missing (a cell cleared by hand)
        key = f"{lead.lead_id}/stamp/{journal.status_changes}/{'+'.join(sorted(stamps))}"
        what = f"Status {status}"
    messages: tuple[Message, ...] = ()
    if known:
        reason = what + (": " + ", ".join(f"{k}={_show(changes[k], config.settings.tz)}" for k in stamps) if stamps else "")
        changes["status"] = status  # written even when only its spelling differs in the cell
    else:
        shown = redact(status)[:40]
        what = f"{seen} -> {shown!r}"
        reason = (f"{what}: not one of {', '.join(STATUSES)}; "
                  + ("counted as New, so the speed clock keeps running" if lead.first_contact_at is None
                     else "the lead keeps its stamps") + "; owner asked to fix it")
        notice = f"{lead.lead_id}/status-notice/{journal.status_changes + 1}"  # once per change to it
        messages = tuple(unknown_status_notice(lead, config, notice, shown))
    return StatusStep(Action(key, lead.lead_id, "status", "status", reason + " (by Status edit seen by the tick)",
                             STATUS_EVENT, messages=messages), changes)


def unknown_status_notice(lead: Lead, config: AgencyConfig, key: str, shown: str) -> list[Message]:
    """A text to the lead's owner (an email when they have no mobile; the managers when nobody
    owns it) saying the Status cell is not one the service knows, and what that means."""
    clock = ("it counts as New and the speed clock keeps running" if lead.first_contact_at is None
             else "reports cannot count it")
    body = (f"Lead #{lead.number} {lead.first_name}: Status \"{shown}\" is not one of "
            f"{', '.join(STATUSES)}, so {clock}. Fix the Status cell"
            + (f", or reply C {lead.number} once you have reached them." if lead.first_contact_at is None else "."))
    owner = config.producer(lead.assigned_to) if lead.assigned_to else None
    people = [owner] if owner is not None and (owner.mobile or owner.email) else \
        [m for m in config.managers if m.is_active and m.email]
    out = []
    for person in people:
        phone = normalize_phone(person.mobile) if person.mobile and person is owner else None
        channel, to = ("sms", phone) if phone else ("email", person.email)
        if to:
            out.append(Message(key=f"{key}/{person.name}/{channel}", channel=channel, to=to, body=body,
                               subject=f"Lead #{lead.number}: Status {shown!r} is not one we know",
                               lead_id=lead.lead_id, recipient=person.name, template="status_unknown"))
    return out


# ---- both sides: write and log ------------------------------------------------------------------
def apply_status(store: Store, lead: Lead, changes: dict[str, Any], now: datetime, by: str) -> Lead:
    """Write the changes and their Activity row ("Contacted -> Quoted: quoted_at=..."); returns the
    updated lead. A change of Status is keyed by its number, so the tick does not log it again."""
    if not changes:
        return lead
    tz = store.config().settings.tz  # times in the detail are the agency's, as people read them
    with store.exclusive():
        journal = Journal.from_rows(store.journal([lead.lead_id]).get(lead.lead_id, []))
        new = changes.get("status", lead.status)
        old = journal.status if journal.status is not None else lead.status
        shown = ", ".join(f"{k}={_show(v, tz)}" for k, v in changes.items() if v is not None and k != "status")
        head = f"{old} -> {new}" if new != old else f"Status {new}"
        row = Activity(time=now, lead_id=lead.lead_id, event=STATUS_EVENT,
                       detail=f"{head}{': ' + shown if shown else ''} (by {by})",
                       key=journal.next_status_key(lead.lead_id, new) if new != journal.last_status else "")
        if not row.key or not store.claim(row):
            store.add_activity([row.model_copy(update={"key": ""})])
        store.update_lead(lead.lead_id, changes)
        if new != old:
            queue_note(store, lead.lead_id, "lead.status", row.detail, now)
    return lead.model_copy(update=changes)


def _show(value: Any, tz) -> str:
    return for_people(value, tz) if isinstance(value, datetime) else str(value)


def change_status(store: Store, lead: Lead, status: str, now: datetime, by: str, *,
                  premium: float | None = None, lost_reason: str = "") -> Lead:
    """A Status set from outside the sheet (a workbook import, the CLI): stamped and logged as a
    sheet edit would be. ValueError for a Status the lead cannot take."""
    hours = BusinessHours.from_settings(store.config().settings)
    changes = status_changes(lead, status, now, hours, premium=premium, lost_reason=lost_reason)
    return apply_status(store, lead, changes, now, by=by)
