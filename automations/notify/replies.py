"""Text replies: what a producer or a lead texted back, and what it does.

Producers (known by the Producers tab's Mobile) run a lead from their phone:
  C [#]            contacted            Q [#] [premium]   quoted
  B [#] premium    bound                L [#] [reason]    lost
  PASS [#]         give it to someone else now            HELP   this list
`#` is the lead's short number from the text ("C 1042"); without it the reply applies to the
lead most recently texted to that producer (when it is still open and theirs, or they are a
Manager), else to their newest open lead. A single number after Q or B is the lead's number
when it names one of the producer's leads (open or closed), else the premium: "B 1001" about
a Bound #1001 must not bind #1005 at $1,001. Leads may text STOP / START / HELP; anything
else is forwarded to their lead's owner, and a text from a number we do not know to the
managers. `parse_reply` is pure; `handle_inbound` applies a reply and returns the answer to
text back plus the messages to deliver.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sheets_schema import cells
from sheets_schema.models import Activity, Lead, Producer

from automations.speed_clock.business_hours import BusinessHours
from automations.clock import Clock
from automations.config import AgencyConfig
from automations.contact import mask, normalize_phone, redact
from .delivery import compose, last_texted_key
from .optout import is_opted_out, set_opted_out
from automations.ports import Message, Store
from automations.speed_clock.reassign import reassign
from automations.speed_clock.status import apply_status, status_changes

COMMANDS = {"C": "Contacted", "Q": "Quoted", "B": "Bound", "L": "Lost", "PASS": "pass", "HELP": "help"}
ALIASES = {"CONTACTED": "C", "QUOTED": "Q", "BOUND": "B", "LOST": "L", "SOLD": "B", "INFO": "HELP", "?": "HELP"}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "UNSTOP", "YES", "OPTIN"}
HELP_WORDS = {"HELP", "INFO"}
PRODUCER_HELP = ("Reply C (contacted), Q [premium] (quoted), B premium (bound), L [reason] (lost), "
                 "PASS (reassign now). Add the lead number to pick a lead: C 1042")
_NUMBER = re.compile(r"^#?\$?\d[\d,]*(\.\d+)?[kK]?$")


@dataclass(frozen=True)
class Reply:
    """A producer's reply, parsed: the command, the numbers in it, and any words after."""
    command: str  # C Q B L PASS HELP, or "" when not understood
    numbers: tuple[str, ...] = ()
    text: str = ""


def parse_reply(body: str) -> Reply:
    words = (body or "").strip().split()
    if not words:
        return Reply("")
    head = words[0].upper().rstrip(".!,:")
    head = ALIASES.get(head, head)
    if head not in COMMANDS:
        return Reply("", text=body.strip())
    numbers: list[str] = []
    rest = words[1:]
    while rest and _NUMBER.match(rest[0]) and len(numbers) < 2:
        numbers.append(rest.pop(0))
    return Reply(head, tuple(numbers), " ".join(rest))


MAX_PREMIUM = 10_000_000.0
# 1450, 1,450 and 1,450.50 (commas only between groups of three), 1.2k
_AMOUNT = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$")


def money(token: str) -> float | None:
    """'$1,450' -> 1450.0, '1.2k' -> 1200.0; None for anything that is not a sane premium
    ('0', '1,2,3,4', '$12,34')."""
    text = token.lstrip("#").lstrip("$").lower()
    scale = 1000 if text.endswith("k") else 1
    text = text[:-1] if scale > 1 else text
    if not _AMOUNT.match(text):
        return None
    value = cells.parse_number(text)
    if value is None or not math.isfinite(value * scale) or not 0 < value * scale <= MAX_PREMIUM:
        return None
    return round(value * scale, 2)


def dollars(amount: float) -> str:
    """$1,450 or $1,450.50: cents only when there are some."""
    return f"${amount:,.0f}" if amount == int(amount) else f"${amount:,.2f}"


def _sentence(text: str) -> str:
    """End with one period: a name like 'David L.' already has it."""
    return text if text.endswith((".", "!", "?")) else text + "."


@dataclass
class Answer:
    text: str = ""  # what to text back (TwiML); empty = no reply
    messages: list[Message] = field(default_factory=list)  # to deliver after answering
    lead_id: str = ""


def handle_inbound(store: Store, clock: Clock, sender: str, body: str, sid: str,
                   config: AgencyConfig | None = None) -> Answer:
    """Apply one inbound text once (keyed by the provider's message id)."""
    config = config or store.config()
    now = clock.now()
    phone = normalize_phone(sender) or sender.strip()
    producer = config.producer_by_mobile(phone)
    lead = None if producer else _newest_lead_by_phone(store, phone)
    who = producer.name if producer else "lead" if lead else "an unknown number"
    heard = Activity(time=now, lead_id=lead.lead_id if lead else "", event="sms received",
                     detail=f"from {who} ({mask(phone)}): {redact(body.strip())[:160]}",
                     key=f"inbound/{sid}" if sid else "")
    if sid and not store.claim(heard):
        return Answer()  # Twilio retried a webhook we already handled
    if not sid:
        store.add_activity([heard])
    if producer is not None:
        word = body.strip().upper().rstrip(".!")
        if word in STOP_WORDS:  # the carrier now blocks our texts to them; never answer a STOP
            store.add_activity([Activity(time=now, event="sms opted out", detail=f"producer {producer.name} texted "
                                         f"{word}: texts to them fail until they text START")])
            return Answer()
        if word in ("START", "UNSTOP"):  # not YES: a producer's "yes" is conversation
            return Answer(f"Texts resumed. {PRODUCER_HELP}")
        return _producer_reply(store, config, now, producer, parse_reply(body))
    return _lead_reply(store, config, now, phone, body, lead, sid)


# ---- producers --------------------------------------------------------------------------
def _producer_reply(store: Store, config: AgencyConfig, now: datetime, producer: Producer, reply: Reply) -> Answer:
    if reply.command in ("", "HELP"):
        return Answer(PRODUCER_HELP if reply.command else f"Sorry, I did not understand. {PRODUCER_HELP}")
    lead, premium = _pick_lead(store, producer, reply)
    if isinstance(lead, str):
        return Answer(lead)
    label = f"Lead #{lead.number} {lead.full_name}".strip()
    if not lead.is_open:
        return Answer(f"{label} is already {lead.status}; nothing changed.", lead_id=lead.lead_id)
    if premium == "unreadable":
        return Answer(f"{reply.numbers[-1]} is not a premium I can use; nothing changed. Send it like "
                      f"{reply.command} {lead.number} 1450 or {reply.command} {lead.number} 1,450.50",
                      lead_id=lead.lead_id)
    if reply.command == "PASS":
        moved = reassign(store, lead, config, now, f"{producer.name} passed it (text reply)", tell_previous=False)
        if moved is None:
            return Answer(f"{label}: nobody else can take it right now; it stays with you.", lead_id=lead.lead_id)
        return Answer(_sentence(f"{label} passed to {moved.owner}"), moved.messages, lead.lead_id)
    status = COMMANDS[reply.command]
    order = ("New", "Contacted", "Quoted", "Bound")
    if status in order and lead.status in order and order.index(status) < order.index(lead.status):
        return Answer(f"{label} is already {lead.status}; nothing changed.", lead_id=lead.lead_id)
    if reply.command == "B" and premium is None:
        return Answer(f"To bind {label} send the premium too: B {lead.number} 1200", lead_id=lead.lead_id)
    hours = BusinessHours.from_settings(config.settings)
    changes = status_changes(lead, status, now, hours, premium=premium,
                             lost_reason=reply.text if reply.command == "L" else "")
    apply_status(store, lead, changes, now, by=f"{producer.name} (text reply)")
    extra = f", premium {dollars(premium)}" if premium is not None else ""
    extra += f" ({reply.text})" if reply.command == "L" and reply.text else ""
    return Answer(f"{label}: {status}{extra}. Thanks!", lead_id=lead.lead_id)


def _pick_lead(store: Store, producer: Producer, reply: Reply) -> tuple[Lead | str, float | str | None]:
    """The lead the reply is about and the premium it names (or an answer saying what is wrong).

    The premium is "unreadable" when one was given that `money` cannot read ("B 1,2,3,4", "B 0").
    """
    numbers = list(reply.numbers)
    mine = sorted((l for l in store.open_leads() if l.assigned_to == producer.name),
                  key=lambda l: l.assigned_at or l.received_at)
    wanted = None
    if len(numbers) == 2 or (numbers and numbers[0].startswith("#")):
        wanted = numbers.pop(0).lstrip("#")
    elif numbers and reply.command in ("C", "L", "PASS"):
        wanted = numbers.pop(0)
    elif numbers and reply.command in ("Q", "B") and _names_their_lead(store, producer, numbers[0]):
        wanted = numbers.pop(0)  # "B 1001": that lead of theirs (perhaps closed), not a premium
    premium: float | str | None = None
    if numbers and reply.command in ("Q", "B"):
        premium = money(numbers[0])
        premium = "unreadable" if premium is None else premium
    if wanted is None:
        texted = store.get_state(last_texted_key(normalize_phone(producer.mobile) or producer.mobile))
        lead = store.get_lead(texted) if texted else None
        if lead is not None and lead.is_open and (lead.assigned_to == producer.name or producer.role == "Manager"):
            return lead, premium
        if not mine:
            return "You have no open lead to apply that to. Add the lead number: C 1042", None
        return mine[-1], premium
    lead = _lead_by_number(store, wanted)
    if lead is None:
        return f"No lead #{wanted}. Check the number in the text.", None
    if lead.assigned_to != producer.name and producer.role != "Manager":
        return f"Lead #{wanted} is assigned to {lead.assigned_to or 'nobody'}, not you.", None
    return lead, premium


def _lead_by_number(store: Store, number: str) -> Lead | None:
    return store.get_lead(f"L-{number}") or next((l for l in store.leads() if l.number == number), None)


def _names_their_lead(store: Store, producer: Producer, token: str) -> bool:
    """Whether a bare number is one of this producer's leads, open or closed (a Manager's: any lead)."""
    if not token.isdigit():  # "$1,450" or "1.2k" is money, never a lead number
        return False
    lead = _lead_by_number(store, token)
    if lead is None:
        return False
    return producer.role == "Manager" or producer.name in (lead.assigned_to, lead.reassigned_from)


# ---- leads ------------------------------------------------------------------------------
def _lead_reply(store: Store, config: AgencyConfig, now: datetime, phone: str, body: str, lead: Lead | None,
                sid: str) -> Answer:
    word = body.strip().upper().rstrip(".!")
    agency = config.settings.agency_name
    lead_id = lead.lead_id if lead else ""
    if word in STOP_WORDS:
        set_opted_out(store, phone, True)
        store.add_activity([Activity(time=now, lead_id=lead_id, event="sms opted out",
                                     detail=f"{mask(phone)} texted {word}: no more texts")])
        # No answer: nothing is ever texted to an opted-out number. Twilio's own opt-out
        # handling sends the one confirmation carriers require.
        return Answer(lead_id=lead_id)
    if word in START_WORDS:
        set_opted_out(store, phone, False)
        store.add_activity([Activity(time=now, lead_id=lead_id, event="sms opted in",
                                     detail=f"{mask(phone)} texted {word}")])
        return Answer(f"{agency}: you will get our texts again. Reply STOP to stop.", lead_id=lead_id)
    opted_out = is_opted_out(store, phone)
    if word in HELP_WORDS:
        phone_line = f" Call {config.settings.agency_phone}." if config.settings.agency_phone else ""
        return Answer("" if opted_out else f"{agency}: insurance quotes.{phone_line} Reply STOP to stop texts.",
                      lead_id=lead_id)
    if lead is None:
        return _forward_unknown(store, config, now, phone, body, sid)
    owner = config.producer(lead.assigned_to)
    if owner is None:
        return Answer(lead_id=lead_id)
    messages = compose(f"{lead.lead_id}/reply-{sid or now.strftime('%Y%m%dT%H%M%S%f')}", "producer_lead_reply",
                       lead, config, to_producer=owner, owner=owner, Reply=body.strip()[:300])
    text = "" if opted_out else f"Thanks, {lead.first_name or 'there'}. I passed your message to {owner.name}."
    return Answer(text, messages, lead.lead_id)


def _forward_unknown(store: Store, config: AgencyConfig, now: datetime, phone: str, body: str, sid: str) -> Answer:
    """A text from a number that is neither a producer's nor a lead's: a lead writing from another
    phone, a producer whose Mobile is not on the tab. The managers see it; the sender gets no
    answer (we do not text strangers)."""
    text = body.strip()
    managers = [m for m in config.managers if m.mobile and normalize_phone(m.mobile)]
    if not text or not managers:
        return Answer()
    key = f"unknown-sender/{sid or now.strftime('%Y%m%dT%H%M%S%f')}"
    messages = [Message(key=f"{key}/{m.name}/sms", channel="sms", to=normalize_phone(m.mobile) or m.mobile,
                        body=f"Text from {phone}, a number that is no lead or producer: {text[:300]}",
                        recipient=m.name, template="unknown_sender_forward") for m in managers]
    store.add_activity([Activity(time=now, event="sms forwarded",
                                 detail=f"text from an unknown number ({mask(phone)}) forwarded to "
                                        f"{', '.join(m.name for m in managers)}")])
    return Answer(messages=messages)


def _newest_lead_by_phone(store: Store, phone: str) -> Lead | None:
    """The newest lead with this phone. Stores keep phones in E.164 however the cell was typed
    ('(201) 555-0142'), so one indexed look-up finds it."""
    if not phone:
        return None
    return store.find_duplicate(phone, "", datetime(1970, 1, 1, tzinfo=timezone.utc))
