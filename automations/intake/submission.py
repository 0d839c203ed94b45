"""The intake use case: a submission becomes a lead with exactly one owner.

validate -> duplicate check -> attribute source -> route -> persist (one exclusive
section, so concurrent posts can neither double-assign nor skip the rotation) -> the
messages to send. Sending is the caller's job, right after this returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable

from sheets_schema.models import Activity, Client, Lead

from automations.ams.queue import queue_created
from automations.clock import Clock
from automations.config import AgencyConfig
from .validation import (
    MAX_NOTES, LeadForm, PostContext, Reading, cap_notes, parse_submission, unknown_zip_note,
)
from automations.notify.delivery import compose, new_lead_messages
from automations.ports import Message, Store
from automations.routing import decide, needs_history
from automations.routing.clients import find_client
from automations.routing.round_robin import POINTER
from .sources import UNMATCHED, attribute, attribute_lead

STATE_KEYS = (POINTER,)
DUPLICATE_NOTICE_EVERY = timedelta(hours=1)  # the owner hears of resubmissions of one lead at most this often
RESUBMISSION_NOTE = 4_000  # one resubmission's share of Notes
# A lead's Notes after resubmissions: room for several under the 50,000-character Sheets cell.
MAX_NOTES_WITH_RESUBMISSIONS = 2 * MAX_NOTES


@dataclass
class Outcome:
    lead: Lead
    duplicate: bool = False
    messages: list[Message] = field(default_factory=list)


ClientLookup = Callable[[LeadForm], "Client | None"]


def submit_lead(payload: Any, store: Store, clock: Clock, *, source: str = "",
                config: AgencyConfig | None = None, admit: Callable[[LeadForm], None] | None = None,
                context: PostContext | None = None, reading: Reading | None = None,
                client_lookup: ClientLookup | None = None) -> Outcome:
    """Validate, dedupe, route and persist one submission. Raises InvalidLead / Honeypot.

    `source` is the vendor named by an API key; only posts without one (the public form)
    are subject to the honeypot. `admit` sees the valid form before anything is stored and
    may refuse it by raising (a rate limit per phone or email). `reading` is filled with the
    form and its key map. `client_lookup` asks the AMS for an existing client when the
    Clients tab has none (within its own small time budget, before the store is locked).
    """
    config = config or store.config()
    form = parse_submission(payload, config, public=not source, context=context, reading=reading)
    if admit is not None:
        admit(form)
    now = clock.now()
    if client_lookup is not None:
        config = _with_ams_client(form, config, client_lookup, now)
    with store.exclusive():
        window = timedelta(days=config.settings.duplicate_window_days)
        existing = store.find_duplicate(form.phone, form.email, now - window) if window else None
        if existing is not None:
            return _attach_duplicate(existing, form, store, config, now, source)
        lead = build_lead(form, store.next_lead_id(), now, config, source)
        state = {k: store.get_state(k) or "" for k in STATE_KEYS}
        routed = lead if form.zip_known else lead.model_copy(update={"zip": ""})  # unknown ZIP: the fallback
        decision = decide(routed, config, store.workload(now, needs_history(config)), state, now)
        reason = decision.reason if form.zip_known else f"ZIP {lead.zip} is unknown; {decision.reason}"
        lead = lead.model_copy(update={"assigned_to": decision.owner, "assigned_at": now if decision.owner else None,
                                       "routing_reason": reason})
        store.add_lead(lead)
        for name, value in decision.state.items():
            store.set_state(name, value)
        store.add_activity([
            Activity(time=now, lead_id=lead.lead_id, event="received",
                     detail=f"{lead.insurance_type} lead from {lead.source}, ZIP {lead.zip}"),
            Activity(time=now, lead_id=lead.lead_id, event="assigned", detail=f"{decision.owner or 'nobody'}: "
                     f"{reason}"),
        ] + ([] if form.zip_known else [
            Activity(time=now, lead_id=lead.lead_id, event="zip unknown", detail=unknown_zip_note(lead.zip))]))
        queue_created(store, lead, now, config)  # the AMS record, made off the request path
    return Outcome(lead, messages=new_lead_messages(lead, config))


def _with_ams_client(form: LeadForm, config: AgencyConfig, client_lookup: ClientLookup, now) -> AgencyConfig:
    """The config with the AMS's client for this person added after the Clients tab's rows (the tab
    wins); unchanged when the tab already knows them or the AMS has no answer in time."""
    probe = Lead(lead_id="", received_at=now, email=form.email, phone=form.phone)
    if find_client(probe, config.clients) is not None:
        return config
    found = client_lookup(form)
    return replace(config, clients=config.clients + (found,)) if found is not None else config


def build_lead(form: LeadForm, lead_id: str, now, config: AgencyConfig, vendor_source: str = "") -> Lead:
    found = attribute_lead(form.source_hint or form.how_heard, config, vendor=vendor_source)
    # the lead's own answer stays with the lead (How Heard), so attribution can be re-run after an alias is added
    how_heard = form.how_heard or (form.source_hint if found.source == UNMATCHED else "")
    return Lead(
        lead_id=lead_id, received_at=now, first_name=form.first_name, last_name=form.last_name, email=form.email,
        phone=form.phone, zip=form.zip, county=form.county, state=form.state, time_zone=form.time_zone,
        insurance_type=form.insurance_type, line=form.line, current_carrier=form.current_carrier,
        policy_expiration=form.policy_expiration, source=found.source, priority=found.priority,
        status="New", consent=form.consent, notes=form.notes, how_heard=how_heard,
        consent_at=now if form.consent else None, consent_ip=form.consent_ip,
        consent_page_url=form.consent_page_url, consent_certificate_url=form.consent_certificate_url,
    )


def _attach_duplicate(existing: Lead, form: LeadForm, store: Store, config: AgencyConfig, now,
                      vendor_source: str = "") -> Outcome:
    """A resubmission stays with its lead and its owner, whatever its Status; someone hears about it.

    What the new submission says that the lead does not (another line, a carrier, a new email)
    is appended to the lead's Notes, marked unverified (whoever knows a phone number can post it),
    so nothing the person typed is lost and nothing replaces what the lead said first. The owner is told, or
    the managers when the owner has left, is inactive or is out: a Bound client asking again
    is a cross-sell, a Lost one a second chance.
    """
    source_name, _ = attribute(form.source_hint or form.how_heard, config, vendor=vendor_source)
    news = _resubmitted(existing, form, source_name)
    if news:
        stamp = now.astimezone(config.settings.tz).strftime("%Y-%m-%d %H:%M")
        entry = cap_notes(f"Submitted again {stamp} (unverified: anyone who knows the phone or email can post): "
                          + "; ".join(f"{k} {v}" for k, v in news.items()),
                          RESUBMISSION_NOTE)
        notes = cap_notes("\n".join(filter(None, [existing.notes, entry])), MAX_NOTES_WITH_RESUBMISSIONS)
        store.update_lead(existing.lead_id, {"notes": notes})
        existing = existing.model_copy(update={"notes": notes})
    private = [k for k in news if k in ("name", "email", "phone", "notes")]
    detail = (f"submitted again ({form.insurance_type}, ZIP {form.zip}, source {source_name}) while "
              f"{existing.status}" + (f"; new {', '.join(private)} in Notes" if private else ""))
    store.add_activity([Activity(time=now, lead_id=existing.lead_id, event="duplicate", detail=detail)])
    owner = config.producer(existing.assigned_to)
    available = owner is not None and owner.is_active and not owner.is_out(now.astimezone(config.settings.tz).date())
    managers = [m for m in config.managers if m.is_active]
    recipients = [owner] if available or (owner and not managers) else managers
    if _told_within_the_hour(store, existing.lead_id, now):  # a flood of resubmissions texts nobody
        return Outcome(existing, duplicate=True)
    key = f"{existing.lead_id}/duplicate-{now.strftime('%Y%m%dT%H%M%S%f')}"
    messages = [m for to in recipients
                for m in compose(key, "producer_duplicate", existing, config, to_producer=to, owner=owner or to)]
    return Outcome(existing, duplicate=True, messages=messages)


def _told_within_the_hour(store: Store, lead_id: str, now) -> bool:
    """True when the owner heard of a resubmission of this lead less than DUPLICATE_NOTICE_EVERY ago;
    otherwise records that they hear of this one. Call inside store.exclusive()."""
    name = f"duplicate_told:{lead_id}"
    last = store.get_state(name)
    try:
        if last and now - datetime.fromisoformat(last) < DUPLICATE_NOTICE_EVERY:
            return True
    except ValueError:
        pass
    store.set_state(name, now.isoformat())
    return False


def _resubmitted(existing: Lead, form: LeadForm, source_name: str) -> dict[str, str]:
    """The new submission's details that differ from the lead's (label -> value), in Notes' order."""
    name = f"{form.first_name} {form.last_name}".strip()
    candidates = {
        "name": (name, existing.full_name), "email": (form.email, existing.email),
        "phone": (form.phone, existing.phone), "ZIP": (form.zip, existing.zip),
        "insurance type": (form.insurance_type, existing.insurance_type),
        "current carrier": (form.current_carrier, existing.current_carrier),
        "policy expiration": (form.policy_expiration, existing.policy_expiration),
        "source": (source_name, existing.source), "consent": (form.consent, existing.consent),
    }
    news = {label: new for label, (new, old) in candidates.items() if new and new.lower() != (old or "").lower()}
    if form.notes and form.notes not in existing.notes:
        news["notes"] = form.notes
    return news
