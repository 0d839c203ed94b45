"""Reassign a lead now (a producer's PASS reply), and say who must be told.

The new owner is chosen by the same rule as the speed clock's 30-minute step
(`escalation.choose_new_owner`: the territory backup when its capacity score is above 5,
else the best available producer writing the line, else the routing model among the
others), never the current owner or the one before it (a lead does not bounce straight
back). The 'reassigned' Activity row restarts the ladder for the new owner and counts
toward Max Reassignments. The caller sends the messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sheets_schema.models import Activity, Lead

from .business_hours import BusinessHours
from automations.ams.queue import queue_note
from automations.config import AgencyConfig
from automations.events import PASSED
from automations.notify.delivery import compose, new_lead_messages
from automations.ports import Message, Store
from .escalation import choose_new_owner
from automations.routing.decision import Decision
from automations.routing.round_robin import POINTER


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
             exclude: Iterable[str] = (), *, tell_previous: bool = True, event: str = PASSED) -> Reassignment | None:
    """Give `lead` to someone else; None when nobody else can take it or it moved meanwhile.

    Writes Assigned To / Assigned At / Reassigned From / Routing Reason and an Activity row
    (`event`: a PASS by default, which reports keep apart from slow-response moves)
    in one exclusive section (a PASS and the speed clock cannot both move the lead); returns
    the new owner's new-lead messages and, when `tell_previous`, the old owner's notice.
    """
    previous = lead.assigned_to
    out = {n.strip() for n in (*exclude, lead.reassigned_from, previous) if n and n.strip()}
    with store.exclusive():
        current = store.get_lead(lead.lead_id) or lead
        if current.assigned_to != previous or not current.is_open:
            return None
        state = {POINTER: store.get_state(POINTER) or ""}
        decision = choose_new_owner(current, config, store.workload(now), state, now, out)
        if decision is None:
            store.add_activity([Activity(time=now, lead_id=lead.lead_id, event="reassign failed",
                                         detail=f"{reason}; nobody else can take it")])
            return None
        changes = {"assigned_to": decision.owner, "assigned_at": now, "reassigned_from": previous,
                   "routing_reason": f"{reason}; {decision.reason}"}
        store.update_lead(lead.lead_id, changes)
        for name, value in decision.state.items():
            store.set_state(name, value)
        store.add_activity([Activity(time=now, lead_id=lead.lead_id, event=event,
                                     detail=f"{previous or 'nobody'} -> {decision.owner}: {reason}; "
                                            f"{decision.reason}")])
        queue_note(store, lead.lead_id, "lead.reassigned", f"{previous or 'nobody'} -> {decision.owner}: "
                   f"{reason}; {decision.reason}", now, config)
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
