"""Status changes and the stamps they leave (First Contact At, Response Minutes, Quoted/Bound At).

Two ways in: a producer's text reply (applied at once) and a Status edit in the sheet
(noticed by the next tick, which finds a lead that left New without a First Contact At).
Both use `status_changes`, a pure function, so the stamps are the same either way.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sheets_schema.models import Activity, Lead
from sheets_schema.tabs import STATUSES

from .business_hours import BusinessHours
from .ports import Store


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


def apply_status(store: Store, lead: Lead, changes: dict[str, Any], now: datetime, by: str) -> Lead:
    """Write the changes and their Activity row; returns the updated lead."""
    if not changes:
        return lead
    store.update_lead(lead.lead_id, changes)
    detail = ", ".join(f"{k}={_show(v)}" for k, v in changes.items() if v is not None)
    store.add_activity([Activity(time=now, lead_id=lead.lead_id, event="status", detail=f"{detail} (by {by})")])
    return lead.model_copy(update=changes)


def _show(value: Any) -> str:
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else str(value)
