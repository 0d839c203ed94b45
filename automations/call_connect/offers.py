"""Call connect applied to the store: offers placed, answered, passed, timed out; bridged calls counted.

The open offers live in one state row (OFFERS: lead id -> the offer now ringing), read and written
inside `store.exclusive()`. Every offer is claimed by an Activity key ("L-1001/call/2/offer") before
its call is placed, and the call itself goes through notify's delivery (its own claim, the outbox
when Twilio is down, dropped once the offer window has passed: Message.extra["useful_until"]).
Twilio's webhooks come back here through app.py: `prompt` (the whisper), `press` (1 or 2),
`call_status` (each status callback of the offer call or the bridged call). The tick calls
`advance`, which moves an offer that is over on to the next producer, up to Max Offers.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Mapping

from sheets_schema.models import Activity, Lead

from automations.clock import Clock
from automations.config import AgencyConfig
from automations.contact import mask, normalize_phone
from automations.events import CALL_ATTEMPT
from automations.notify.delivery import deliver
from automations.notify.outbox import RetryPolicy
from automations.ports import Message, Notifier, Store
from automations.routing.round_robin import POINTER
from automations.speed_clock.actions import untouched
from automations.speed_clock.business_hours import BusinessHours
from automations.speed_clock.reassign import reassign
from automations.speed_clock.status import change_status

from .decisions import call_result, lead_call_verdict, move_on_reason, next_offeree, ring_verdict
from .prompts import Prompt, offer_path, whisper
from .settings import CallSettings

log = logging.getLogger("leadrouter.call_connect")
OFFERS = "call_connect_offers"
FINAL = ("completed", "busy", "no-answer", "failed", "canceled")
SHOWN = {"in-progress": "answered", "initiated": "initiated", "ringing": "ringing"}


@dataclass
class Offer:
    n: int
    producer: str
    at: datetime
    state: str = "ringing"  # ringing | unanswered | passed
    offered: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Offer":
        return cls(int(data["n"]), data["producer"], datetime.fromisoformat(data["at"]), data.get("state", "ringing"),
                   list(data.get("offered", [])))


def open_offers(store: Store) -> dict[str, Offer]:
    try:
        raw = json.loads(store.get_state(OFFERS) or "{}")
    except ValueError:
        return {}
    return {lead_id: Offer.from_json(data) for lead_id, data in raw.items()}


def _save(store: Store, offers: dict[str, Offer]) -> None:
    store.set_state(OFFERS, json.dumps({k: v.to_json() for k, v in offers.items()}, separators=(",", ":")))


def _current(store: Store, lead_id: str, n: int) -> Offer | None:
    offer = open_offers(store).get(lead_id)
    return offer if offer is not None and offer.n == n else None


def _note(store: Store, now: datetime, lead_id: str, event: str, detail: str, key: str = "") -> bool:
    row = Activity(time=now, lead_id=lead_id, event=event, detail=detail, key=key)
    if key:
        return store.claim(row)
    store.add_activity([row])
    return True


# ---- minute 0 and the next offers -----------------------------------------------------------
def start(store: Store, notifier: Notifier, clock: Clock, lead_id: str, *, config: AgencyConfig | None = None,
          policy: RetryPolicy | None = None) -> bool:
    """Right after assignment: ring the owner (nothing when Settings: Call Connect is N)."""
    config = config or store.config()
    settings = CallSettings.from_settings(config.settings)
    if not settings.enabled:
        return False
    lead = store.get_lead(lead_id)
    if lead is None or not untouched(lead) or not lead.assigned_to:
        return False
    return _offer(store, notifier, clock, config, settings, lead, lead.assigned_to, 1, [], "the owner of record",
                  policy)


def _offer(store: Store, notifier: Notifier, clock: Clock, config: AgencyConfig, settings: CallSettings, lead: Lead,
           name: str, n: int, offered: list[str], why: str, policy: RetryPolicy | None) -> bool:
    """Offer `lead` to `name` as offer `n`: checked, claimed, recorded as open, then the call is placed."""
    now = clock.now()
    producer = config.producer(name)
    verdict = ring_verdict(lead, producer, now, config.settings, BusinessHours.from_settings(config.settings))
    if not verdict.ok:
        _note(store, now, lead.lead_id, "call not placed", f"offer {n} to {name}: {verdict.reason}",
              f"{lead.lead_id}/call/{n}/{name}/refused")
        return False
    with store.exclusive():
        if not _note(store, now, lead.lead_id, "call offered",
                     f"offer {n} of {settings.max_offers} to {name} ({why}); {verdict.reason}",
                     f"{lead.lead_id}/call/{n}/offer"):
            return False  # another worker placed this offer
        offers = open_offers(store)
        offers[lead.lead_id] = Offer(n, name, now, "ringing", [*offered, name])
        _save(store, offers)
    message = Message(key=f"{lead.lead_id}/call/{n}/{name}/voice", channel="voice",
                      to=normalize_phone(producer.mobile) or producer.mobile, body=whisper(lead),
                      lead_id=lead.lead_id, recipient=name, template="call_offer",
                      extra={"path": offer_path(lead.lead_id, n, "offer"),
                             "status_path": offer_path(lead.lead_id, n, "status") + "&leg=offer",
                             "useful_until": (now + settings.offer_window).isoformat()})
    deliver(message, store, notifier, clock, config=config, policy=policy)
    return True


def advance(store: Store, notifier: Notifier, clock: Clock, config: AgencyConfig | None = None, *,
            policy: RetryPolicy | None = None) -> list[str]:
    """The tick's step: every open offer that is over moves on (lines saying what happened)."""
    offers = open_offers(store)
    if not offers:
        return []
    config = config or store.config()
    settings = CallSettings.from_settings(config.settings)
    return [line for lead_id in offers if (line := _advance_one(store, notifier, clock, config, settings, lead_id,
                                                                 policy))]


def _advance_one(store: Store, notifier: Notifier, clock: Clock, config: AgencyConfig, settings: CallSettings,
                 lead_id: str, policy: RetryPolicy | None) -> str:
    now = clock.now()
    with store.exclusive():
        offers = open_offers(store)
        offer = offers.get(lead_id)
        if offer is None:
            return ""
        lead = store.get_lead(lead_id)
        if lead is None or not untouched(lead) or not settings.enabled:
            why = ("the lead was reached" if lead is not None and settings.enabled
                   else "Call Connect was switched off" if lead is not None else "the lead is gone")
            offers.pop(lead_id)
            _save(store, offers)
            _note(store, now, lead_id, "call connect ended", f"offer {offer.n} to {offer.producer} closed: {why}")
            return f"{lead_id} call connect: {why}"
        why = move_on_reason(offer.state, offer.at, now, settings.offer_window)
        if not why:
            return ""
        offers.pop(lead_id)
        _save(store, offers)
        if not _note(store, now, lead_id, "call offer ended", f"offer {offer.n} to {offer.producer}: {why}",
                     f"{lead_id}/call/{offer.n}/ended"):
            return ""
    return _next(store, notifier, clock, config, settings, lead, offer, why, policy)


def _next(store: Store, notifier: Notifier, clock: Clock, config: AgencyConfig, settings: CallSettings, lead: Lead,
          offer: Offer, why: str, policy: RetryPolicy | None) -> str:
    """After offer n: the owner of record if not offered yet (a PASS moved the lead), else the routing
    model's next choice among those not offered; skipped producers (no mobile, after hours) do not
    use up an offer. Past Max Offers the ordinary ladder simply goes on."""
    now, n, offered = clock.now(), offer.n + 1, list(offer.offered)
    head = f"{lead.lead_id} call connect: offer {offer.n} to {offer.producer} {why}"
    while n <= settings.max_offers:
        if lead.assigned_to and lead.assigned_to not in offered:
            name, reason = lead.assigned_to, "the owner of record"
        else:
            decision = next_offeree(lead, config, store.workload(now), {POINTER: store.get_state(POINTER) or ""},
                                    now, offered)
            if decision is None:
                break
            name, reason = decision.owner, f"next by {decision.model}: {decision.reason}"
        if _offer(store, notifier, clock, config, settings, lead, name, n, offered, reason, policy):
            return f"{head}; offer {n} to {name}"
        offered.append(name)
    detail = (f"{offer.n} offer(s) made without a 1 pressed; the ordinary ladder continues with "
              f"{lead.assigned_to or 'nobody'}")
    _note(store, now, lead.lead_id, "call connect ended", detail, f"{lead.lead_id}/call/done")
    return f"{head}; {detail}"


# ---- Twilio's side: the whisper, the key pressed, the status callbacks ----------------------------
GONE = "This lead is no longer waiting for you. Goodbye."


def prompt(store: Store, clock: Clock, lead_id: str, n: int, answered_by: str = "") -> Prompt:
    """What the offer call says when it is answered: the whisper, unless the offer is over or a
    machine answered (then it is not answered: hang up, and the tick moves on)."""
    now = clock.now()
    with store.exclusive():
        offer = _current(store, lead_id, n)
        lead = store.get_lead(lead_id)
        if offer is None or offer.state != "ringing" or lead is None or not untouched(lead):
            return Prompt("say", GONE)
        if answered_by.strip().lower().startswith(("machine", "fax")):
            _mark(store, lead_id, n, "unanswered")
            _note(store, now, lead_id, "call offer voicemail",
                  f"offer {n} to {offer.producer} reached voicemail ({answered_by}): not answered")
            return Prompt("hangup")
    return Prompt("offer", whisper(lead), action=offer_path(lead_id, n, "answer"),
                  repeat="Nothing pressed. The lead will be offered to someone else. Goodbye.")


def _mark(store: Store, lead_id: str, n: int, state: str) -> None:
    offers = open_offers(store)
    if lead_id in offers and offers[lead_id].n == n:
        offers[lead_id].state = state
        _save(store, offers)


@dataclass
class Pressed:
    prompt: Prompt
    messages: list[Message] = field(default_factory=list)  # to deliver (a PASS's new-lead texts)


def press(store: Store, notifier: Notifier, clock: Clock, lead_id: str, n: int, digits: str, *,
          policy: RetryPolicy | None = None) -> Pressed:
    """1: the offered producer takes the lead (owner of record if not already) and is bridged to it.
    2: passed (by the owner: exactly a PASS reply), and the next offer goes out now."""
    now = clock.now()
    config = store.config()
    settings = CallSettings.from_settings(config.settings)
    digit = (digits or "").strip()[:1]
    with store.exclusive():
        offer = _current(store, lead_id, n)
        lead = store.get_lead(lead_id)
        if offer is None or offer.state != "ringing" or lead is None or not untouched(lead):
            return Pressed(Prompt("say", GONE))
        if digit == "1":
            return Pressed(_accept(store, now, lead, offer, config, settings))
        if digit != "2":
            return Pressed(Prompt("offer", whisper(lead), action=offer_path(lead_id, n, "answer"),
                                  repeat="Nothing pressed. Goodbye."))
        _mark(store, lead_id, n, "passed")
        _note(store, now, lead_id, "call offer passed", f"{offer.producer} pressed 2 on offer {n}")
    messages: list[Message] = []
    if lead.assigned_to == offer.producer:
        moved = reassign(store, lead, config, now, f"{offer.producer} passed it (call connect, pressed 2)",
                         tell_previous=False)
        messages = moved.messages if moved else []
    _advance_one(store, notifier, clock, config, settings, lead_id, policy)
    return Pressed(Prompt("say", "Passed. Thank you."), messages)


def _accept(store: Store, now: datetime, lead: Lead, offer: Offer, config: AgencyConfig,
            settings: CallSettings) -> Prompt:
    """Inside the caller's exclusive section: the offer closes, the owner of record becomes the producer."""
    offers = open_offers(store)
    offers.pop(lead.lead_id, None)
    _save(store, offers)
    previous = lead.assigned_to
    if previous != offer.producer:
        store.update_lead(lead.lead_id, {
            "assigned_to": offer.producer, "assigned_at": now, "reassigned_from": previous,
            "routing_reason": f"accepted a call-connect offer ({offer.n} of {settings.max_offers}) "
                              f"that {previous or 'nobody'} did not take"})
    _note(store, now, lead.lead_id, "call accepted",
          f"{offer.producer} pressed 1 on offer {offer.n}" + (f"; owner {previous} -> {offer.producer}"
                                                               if previous != offer.producer else ""),
          f"{lead.lead_id}/call/{offer.n}/accepted")
    verdict = lead_call_verdict(lead, now, config.settings)
    if not verdict.ok:
        return Prompt("say", f"The lead is yours, but cannot be called now: {verdict.reason}. Goodbye.")
    return Prompt("dial", f"Calling {lead.first_name or 'the lead'} now.",
                  number=normalize_phone(lead.phone) or lead.phone,
                  status=offer_path(lead.lead_id, offer.n, "status") + "&leg=lead")


def call_status(store: Store, clock: Clock, lead_id: str, n: int, leg: str, form: Mapping[str, str]) -> str:
    """One status callback. The offer call's end, unanswered, frees the tick to move on; each
    callback of a bridged call is an Activity row, its first one an attempt (Attempts + 1), and a
    completed call long enough is the first contact (Status Contacted) unless someone set it already."""
    now = clock.now()
    sid, status = form.get("CallSid", ""), (form.get("CallStatus", "") or "").strip().lower()
    if not sid or not status:
        return "ignored: no CallSid or CallStatus"
    shown = SHOWN.get(status, status)
    duration = _number(form.get("CallDuration") or form.get("DialCallDuration"))
    tail = f", {duration:g} s" if duration is not None and status in FINAL else ""
    if leg != "lead":
        with store.exclusive():
            offer = _current(store, lead_id, n)
            who = offer.producer if offer else "producer"
            _note(store, now, lead_id, f"call offer {shown}", f"offer {n} to {who}: call {shown}{tail}",
                  f"call/{sid}/{status}")
            if status in FINAL and offer is not None and offer.state == "ringing":
                _mark(store, lead_id, n, "unanswered")
        return f"offer call {shown}"
    answered_by = form.get("AnsweredBy", "")
    with store.exclusive():
        lead = store.get_lead(lead_id)
        if lead is None:
            return "ignored: unknown lead"
        if not _note(store, now, lead_id, f"call {shown}",
                     f"bridged call by {lead.assigned_to or 'producer'} to the lead ({mask(lead.phone)}): {shown}"
                     f"{tail}" + (f", answered by {answered_by}" if answered_by else ""), f"call/{sid}/{status}"):
            return "already recorded"
        if _note(store, now, lead_id, CALL_ATTEMPT, f"bridged call {sid} by {lead.assigned_to or 'producer'}",
                 f"call/{sid}/attempt"):
            store.update_lead(lead_id, {"attempts": (lead.attempts or 0) + 1})
    if status not in FINAL:
        return f"bridged call {shown}"
    settings = CallSettings.from_settings(store.config().settings)
    result = call_result(status, duration, answered_by, settings.contact_seconds)
    _note(store, now, lead_id, f"call {result.kind}", result.reason, f"call/{sid}/result")
    fresh = store.get_lead(lead_id)
    if result.contact and fresh is not None and fresh.status == "New" and fresh.first_contact_at is None:
        change_status(store, fresh, "Contacted", now, by=f"call connect: {result.reason}")
    return result.reason


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None
