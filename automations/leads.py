"""The intake use case: a submission becomes a lead with exactly one owner.

validate -> duplicate check -> attribute source -> route -> persist (one exclusive
section, so concurrent posts can neither double-assign nor skip the rotation) -> the
messages to send. Sending is the caller's job, right after this returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sheets_schema.models import Activity, Lead

from .clock import Clock
from .config import AgencyConfig
from .intake import LeadForm, parse_submission
from .notify import compose, new_lead_messages
from .ports import Message, Store
from .routing import decide, needs_history
from .routing.round_robin import POINTER
from .sources import attribute

STATE_KEYS = (POINTER,)


@dataclass
class Outcome:
    lead: Lead
    duplicate: bool = False
    messages: list[Message] = field(default_factory=list)


def submit_lead(payload: Any, store: Store, clock: Clock, *, source: str = "",
                config: AgencyConfig | None = None) -> Outcome:
    """Validate, dedupe, route and persist one submission. Raises InvalidLead / Honeypot."""
    config = config or store.config()
    form = parse_submission(payload, config)
    now = clock.now()
    with store.exclusive():
        window = timedelta(days=config.settings.duplicate_window_days)
        existing = store.find_duplicate(form.phone, form.email, now - window) if window else None
        if existing is not None:
            return _attach_duplicate(existing, form, store, config, now)
        lead = build_lead(form, store.next_lead_id(), now, config, source)
        state = {k: store.get_state(k) or "" for k in STATE_KEYS}
        decision = decide(lead, config, store.workload(now, needs_history(config)), state, now)
        lead = lead.model_copy(update={"assigned_to": decision.owner, "assigned_at": now if decision.owner else None,
                                       "routing_reason": decision.reason})
        store.add_lead(lead)
        for name, value in decision.state.items():
            store.set_state(name, value)
        store.add_activity([
            Activity(time=now, lead_id=lead.lead_id, event="received",
                     detail=f"{lead.insurance_type} lead from {lead.source}, ZIP {lead.zip}"),
            Activity(time=now, lead_id=lead.lead_id, event="assigned", detail=f"{decision.owner or 'nobody'}: "
                     f"{decision.reason}"),
        ])
    return Outcome(lead, messages=new_lead_messages(lead, config))


def build_lead(form: LeadForm, lead_id: str, now, config: AgencyConfig, vendor_source: str = "") -> Lead:
    source_name, source = attribute(vendor_source or form.source_hint, config)
    return Lead(
        lead_id=lead_id, received_at=now, first_name=form.first_name, last_name=form.last_name, email=form.email,
        phone=form.phone, zip=form.zip, county=form.county, state=form.state, time_zone=form.time_zone,
        insurance_type=form.insurance_type, line=form.line, current_carrier=form.current_carrier,
        policy_expiration=form.policy_expiration, source=source_name,
        priority="High" if source and source.is_high_priority else "Normal",
        status="New", consent=form.consent, notes=form.notes,
    )


def _attach_duplicate(existing: Lead, form: LeadForm, store: Store, config: AgencyConfig, now) -> Outcome:
    """A resubmission stays with its lead and its owner; the owner hears about it."""
    store.add_activity([Activity(time=now, lead_id=existing.lead_id, event="duplicate",
                                 detail=f"submitted again ({form.insurance_type}, ZIP {form.zip})")])
    owner = config.producer(existing.assigned_to)
    messages = []
    if owner is not None and existing.is_open:
        key = f"{existing.lead_id}/duplicate-{now.strftime('%Y%m%dT%H%M%S%f')}"
        messages = compose(key, "producer_duplicate", existing, config, to_producer=owner, owner=owner)
    return Outcome(existing, duplicate=True, messages=messages)
