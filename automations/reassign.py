"""Reassign a lead now: route it again without its current owner, and say who must be told.

Used by a producer's PASS reply and by the speed clock's 30-minute step. The new owner
comes from the same `decide` every new lead goes through (so the routing model, the
territory backup, caps and the never-ownerless fallback all apply), with the current
owner, the owner before it (Reassigned From: a lead does not bounce straight back) and
anyone in `exclude` taken out of the roster. The caller sends the messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterable

from sheets_schema.models import Activity, Lead

from .business_hours import BusinessHours
from .config import AgencyConfig
from .notify import compose, new_lead_messages
from .ports import Message, Store
from .routing import decide
from .routing.decision import Decision
from .routing.round_robin import POINTER


@dataclass
class Reassignment:
    lead: Lead  # as it is now, with its new owner
    previous: str
    decision: Decision
    messages: list[Message] = field(default_factory=list)

    @property
    def owner(self) -> str:
        return self.lead.assigned_to


def reassign(store: Store, lead: Lead, config: AgencyConfig, now: datetime, reason: str,
             exclude: Iterable[str] = (), *, tell_previous: bool = True) -> Reassignment | None:
    """Give `lead` to someone else; None when nobody else can take it or it moved meanwhile.

    Writes Assigned To / Assigned At / Reassigned From / Routing Reason and an Activity row
    in one exclusive section (a PASS and the speed clock cannot both move the lead); returns
    the new owner's new-lead messages and, when `tell_previous`, the old owner's notice.
    """
    previous = lead.assigned_to
    out = {n.strip().lower() for n in (*exclude, lead.reassigned_from, previous) if n and n.strip()}
    roster = replace(config, producers=tuple(p for p in config.producers if p.name.strip().lower() not in out))
    with store.exclusive():
        current = store.get_lead(lead.lead_id) or lead
        if current.assigned_to != previous or not current.is_open:
            return None
        decision = decide(current, roster, store.workload(now), {POINTER: store.get_state(POINTER) or ""}, now)
        if not decision.owner:
            store.add_activity([Activity(time=now, lead_id=lead.lead_id, event="reassign failed",
                                         detail=f"{reason}; {decision.reason}")])
            return None
        changes = {"assigned_to": decision.owner, "assigned_at": now, "reassigned_from": previous,
                   "routing_reason": f"{reason}; {decision.reason}"}
        store.update_lead(lead.lead_id, changes)
        for name, value in decision.state.items():
            store.set_state(name, value)
        store.add_activity([Activity(time=now, lead_id=lead.lead_id, event="reassigned",
                                     detail=f"{previous or 'nobody'} -> {decision.owner}: {reason}; "
                                            f"{decision.reason}")])
    updated = current.model_copy(update=changes)
    step = f"reassigned@{now.isoformat()}"  # one set of messages per reassignment (its Assigned At)
    messages = new_lead_messages(updated, config, step=step)
    old = config.producer(previous) if previous else None
    if tell_previous and old is not None:
        hours = BusinessHours.from_settings(config.settings)
        minutes = round(hours.minutes_between(current.assigned_at or current.received_at, now))
        messages += compose(f"{lead.lead_id}/{step}", "producer_reassigned_away", updated, config, to_producer=old,
                            owner=old, NewOwner=decision.owner, Minutes=str(minutes))
    return Reassignment(updated, previous, decision, messages)
