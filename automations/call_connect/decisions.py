"""The pure rules of call connect, each answering with a reason a person can read.

- `lead_call_verdict`: may the lead be called now (consent, the lead's quiet hours)?
- `ring_verdict`: may this producer's phone ring now for this lead (the above, a mobile, business
  hours unless the producer opted in to After Hours Calls)?
- `next_offeree`: who is offered next (the current routing model among those not offered yet).
- `move_on_reason`: is an open offer over (window passed, call unanswered, passed)?
- `call_result`: what a finished bridged call means (contact, voicemail, too short, no answer).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Iterable

from sheets_schema.models import Lead, Producer

from automations.config import AgencyConfig, Settings
from automations.contact import normalize_phone
from automations.notify.consent import consent_refusal
from automations.notify.quiet_hours import lead_zone, next_text_time
from automations.ports import ProducerLoad
from automations.routing import decide
from automations.routing.decision import Decision
from automations.speed_clock.business_hours import BusinessHours


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str


def lead_call_verdict(lead: Lead, now: datetime, settings: Settings) -> Verdict:
    """Calls to a lead follow the rules of texts: recorded consent, and the lead's local window."""
    refusal = consent_refusal(lead, settings)
    if refusal:
        return Verdict(False, f"the lead is not called: {refusal}")
    if not normalize_phone(lead.phone or ""):
        return Verdict(False, "the lead has no phone number we can call")
    allowed = next_text_time(lead, now, settings)
    if allowed > now:
        zone = lead_zone(lead, settings)
        local = allowed.astimezone(zone)
        return Verdict(False, f"quiet hours for the lead ({zone.key}) until {local:%Y-%m-%d %H:%M}")
    return Verdict(True, "the lead may be called now")


def ring_verdict(lead: Lead, producer: Producer | None, now: datetime, settings: Settings,
                 hours: BusinessHours) -> Verdict:
    """May `producer`'s phone ring now for `lead`? Checked before every offer."""
    if producer is None:
        return Verdict(False, "nobody owns the lead")
    if not normalize_phone(producer.mobile or ""):
        return Verdict(False, f"{producer.name} has no Mobile to ring")
    lead_ok = lead_call_verdict(lead, now, settings)
    if not lead_ok.ok:
        return lead_ok
    if not hours.is_open(now) and not producer.after_hours_calls:
        return Verdict(False, f"outside business hours and {producer.name} has not opted in "
                              "(Producers: After Hours Calls = Y)")
    why = "in business hours" if hours.is_open(now) else "after hours, and they opted in to After Hours Calls"
    return Verdict(True, f"ring {producer.name} {why}")


def next_offeree(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], state: dict[str, str],
                 now: datetime, offered: Iterable[str]) -> Decision | None:
    """The next producer to offer the lead to: the routing model's choice among the producers not
    offered yet. None when nobody is left but the model's fallback (the manager is not rung)."""
    skip = {name.strip().lower() for name in offered if name}
    others = replace(config, producers=tuple(p for p in config.producers if p.name.strip().lower() not in skip))
    if not others.producers:
        return None
    decision = decide(lead, others, loads, state, now)
    if not decision.owner or decision.fallback or decision.owner.strip().lower() in skip:
        return None
    return decision


def move_on_reason(state: str, offered_at: datetime, now: datetime, window: timedelta) -> str:
    """Why an open offer is over ('' while it is still running)."""
    if state == "passed":
        return "passed (2 pressed)"
    if state == "unanswered":
        return "not answered (no 1 pressed, voicemail or no pick-up)"
    if state == "failed":
        return "the call could not be placed in time"
    if now - offered_at >= window:
        return f"no 1 pressed within the offer window ({_minutes(window)})"
    return ""


@dataclass(frozen=True)
class CallResult:
    contact: bool
    kind: str   # contact | voicemail | short | no answer
    reason: str


MACHINE = ("machine", "fax")


def call_result(status: str, duration: float | None, answered_by: str, contact_seconds: float) -> CallResult:
    """A bridged call that ended: a contact when a person answered and talked long enough."""
    status = (status or "").strip().lower()
    if status != "completed":
        return CallResult(False, "no answer", f"call {status or 'ended'}: an attempt, not a contact")
    if (answered_by or "").strip().lower().startswith(MACHINE):
        return CallResult(False, "voicemail", f"reached voicemail ({answered_by}): an attempt, not a contact")
    seconds = duration or 0
    if seconds < contact_seconds:
        return CallResult(False, "short", f"{seconds:g} s connected, under {contact_seconds:g} s "
                                          "(Settings: Call Contact Seconds): an attempt, not a contact")
    return CallResult(True, "contact", f"{seconds:g} s connected (at least {contact_seconds:g} s): contact")


def _minutes(span: timedelta) -> str:
    seconds = span.total_seconds()
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
