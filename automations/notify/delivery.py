"""Composing messages and delivering them exactly once.

Delivery is claim-before-send (the healthchecks pattern): an Activity row with the
message's idempotency key is written *before* the channel is called, so a second worker,
a retry or a restart never sends the same message twice. The outcome is logged after.

What cannot go now is not lost: a text to a lead in quiet hours is deferred, a send that
fails for a passing reason is retried with backoff, and both wait in the outbox
(automations/outbox.py) until `retry_due` (called by the scheduler's tick) sends them.
Every later try claims its own key (KEY#1, KEY#2 ...), so two workers never both retry.
A send whose outcome is unknown (a crash after the claim, or a provider that took the message
and did not answer in time) is never repeated to a lead (better a missing text than a double
one) and is repeated to a producer (better twice than never).
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from sheets_schema.models import Activity, Lead, Producer

from . import outbox
from automations.clock import Clock, for_people
from automations.config import AgencyConfig
from automations.contact import mask, normalize_phone, redact
from .consent import consent_refusal
from .optout import is_opted_out, set_opted_out
from .outbox import Pending, RetryPolicy
from automations.ports import Message, Notifier, Store
from .quiet_hours import lead_zone, next_text_time
from .templates import channel_of, placeholders, render
from .text_cap import cap_alerts, capped_until

log = logging.getLogger("leadrouter.notify")
DEFAULT_POLICY = RetryPolicy()


class ChannelError(Exception):
    """A channel failed. `permanent` means retrying cannot help (e.g. an invalid number);
    `unsubscribed` means the provider says the recipient opted out (Twilio 21610);
    `outcome_unknown` means the request reached the provider and the answer did not come back
    (a read timeout, a dropped connection), so the message may have gone out."""

    def __init__(self, message: str, permanent: bool = False, *, unsubscribed: bool = False,
                 outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent or unsubscribed
        self.unsubscribed = unsubscribed
        self.outcome_unknown = outcome_unknown and not self.permanent


def template_for(config: AgencyConfig, key: str):
    """The Templates tab's row; a row missing from an older sheet falls back to the default text.

    A row that is present with an empty Body switches that message off.
    """
    template = config.template(key)
    if template is None:
        from sheets_schema.demo import TEMPLATES
        from sheets_schema.models import Template
        row = next((t for t in TEMPLATES if t["key"] == key), None)
        template = Template.from_row(row) if row else None
    return template if template is not None and template.body.strip() else None


def compose(key: str, template_key: str, lead: Lead, config: AgencyConfig, *, to_producer: Producer | None,
            owner: Producer | None, push: bool = False, **extra: str) -> list[Message]:
    """The message(s) of one template for one recipient: a producer (when given) or the lead.

    push=True (the 5-minute reminder): a producer with a Push Webhook gets it there, and by
    text if the push fails; the text keeps the key it would have had, so it never goes twice.
    """
    template = template_for(config, template_key)
    if template is None:
        return []
    values = placeholders(lead, owner, config, **extra)
    channel = channel_of(template)
    if channel is None:  # `leadrouter check` reports it; guessing could text someone who asked for email
        log.warning("template %s: Channel %r is neither sms nor email; message not sent", template_key,
                    template.channel)
        return []
    info: dict[str, str] = {}
    if to_producer is not None:
        address = to_producer.mobile if channel == "sms" else to_producer.email
        recipient = to_producer.name
    else:
        address = lead.phone if channel == "sms" else lead.email
        recipient = "lead"
        if channel == "email" and owner is not None and owner.email:
            info["reply_to"] = owner.email
    if channel == "sms" and address:
        address = normalize_phone(address) or address  # owners type "(201) 555-0111", in Mobile or a lead's Phone
    if channel == "email":
        info["from_name"] = config.settings.agency_name
    body, subject = render(template.body, values), render(template.subject, values)
    if push and to_producer is not None and channel == "sms" and to_producer.push_webhook.strip():
        return [Message(key=f"{key}/{recipient}/push", channel="push", to=to_producer.push_webhook.strip(),
                        body=body, subject=subject or f"Lead #{lead.number}", lead_id=lead.lead_id,
                        recipient=recipient, template=template_key,
                        extra={"fallback_to": address, "fallback_key": f"{key}/{recipient}/sms"})]
    if not address:
        return []
    return [Message(key=f"{key}/{recipient}/{channel}", channel=channel, to=address, body=body, subject=subject,
                    lead_id=lead.lead_id, recipient=recipient, template=template_key, extra=info)]


def new_lead_messages(lead: Lead, config: AgencyConfig, step: str = "assigned") -> list[Message]:
    """Minute 0: the owner's text and email."""
    owner = config.producer(lead.assigned_to)
    if owner is None:
        return []
    key = f"{lead.lead_id}/{step}"
    return (compose(key, "producer_new_lead", lead, config, to_producer=owner, owner=owner)
            + compose(key, "producer_new_lead_email", lead, config, to_producer=owner, owner=owner))


@dataclass
class Delivery:
    message: Message
    sent: bool
    detail: str = ""


def deliver(message: Message, store: Store, notifier: Notifier, clock: Clock, *,
            config: AgencyConfig | None = None, policy: RetryPolicy | None = None) -> Delivery:
    """Claim, send, record. sent=False when opted out, deferred, failed (to be retried) or already claimed."""
    policy = policy or DEFAULT_POLICY
    now = clock.now()
    stop = _stopped(message, store)
    if stop:
        store.claim(_row(message, now, "skipped", stop, message.key))
        return Delivery(message, False, stop)
    if _is_text_to_lead(message):
        config = config or store.config()
        lead = store.get_lead(message.lead_id)
        if lead is not None:
            allowed = next_text_time(lead, now, config.settings)
            if allowed > now:
                return _defer(message, store, now, allowed, lead, config, message.key,
                              Pending.of(message, state="deferred", due=allowed, created=now))
            capped = _capped(lead, message, store, notifier, clock, config, policy)
            if capped is not None:
                return _defer(message, store, now, capped, lead, config, message.key,
                              Pending.of(message, state="deferred", due=capped, created=now), why="source's hourly cap")
    return _attempt(message, store, notifier, clock, policy, message.key,
                    Pending.of(message, state="sending", due=now + policy.lease, created=now))


def deliver_all(messages: list[Message], store: Store, notifier: Notifier, clock: Clock, *,
                policy: RetryPolicy | None = None) -> list[Delivery]:
    return [deliver(m, store, notifier, clock, policy=policy) for m in messages]


def retry_due(store: Store, notifier: Notifier, clock: Clock, config: AgencyConfig | None = None, *,
              policy: RetryPolicy | None = None) -> Counter:
    """Send what the outbox owes now: deferred texts whose quiet hours ended, failed sends whose
    backoff ran out, interrupted producer messages. Safe to run in several workers at once.
    Returns how many messages ended each way ({"sent": 3, "failed": 1, ...})."""
    policy = policy or DEFAULT_POLICY
    report: Counter = Counter()
    entries = outbox.due(store, clock.now())
    if entries:  # an idle tick reads one state row and nothing else
        config = config or store.config()
    for entry in entries:
        report[_retry_one(entry, store, notifier, clock, config, policy)] += 1
    return report


# ---- the steps ---------------------------------------------------------------------------
def _retry_one(entry: Pending, store: Store, notifier: Notifier, clock: Clock, config: AgencyConfig,
               policy: RetryPolicy) -> str:
    message, now = entry.msg, clock.now()
    seq = entry.seq + 1
    key = f"{message.key}#{seq}"
    nxt = entry.model_copy(update={"seq": seq})
    expired = _expired(message, now)
    if expired:
        _close(store, message, now, "dropped", expired, key)
        return "dropped"
    if entry.state == "sending" and message.recipient == "lead":
        _close(store, message, now, "unknown", "interrupted while sending; outcome unknown, so not sent again "
               "to a lead", key)
        return "unknown"
    stop = _stopped(message, store)
    if stop:
        _close(store, message, now, "skipped", stop, key)
        return "skipped"
    lead = store.get_lead(message.lead_id) if message.recipient == "lead" else None
    if lead is not None and lead.first_contact_at is not None and lead.first_contact_at > entry.created:
        _close(store, message, now, "cancelled", f"lead was contacted ({lead.status}) after it was written", key)
        return "cancelled"
    if lead is not None and _is_text_to_lead(message):
        allowed = next_text_time(lead, now, config.settings)
        if allowed > now:
            _defer(message, store, now, allowed, lead, config, key, nxt.model_copy(update={"state": "deferred",
                                                                                        "due": allowed}))
            return "deferred"
        capped = _capped(lead, message, store, notifier, clock, config, policy)
        if capped is not None:
            _defer(message, store, now, capped, lead, config, key,
                   nxt.model_copy(update={"state": "deferred", "due": capped}), why="source's hourly cap")
            return "deferred"
    if entry.state == "sending" and _found_at_provider(entry, store, notifier, clock, key):
        return "sent"
    note = " (again: the earlier try was interrupted)" if entry.state == "sending" else ""
    result = _attempt(message, store, notifier, clock, policy, key,
                      nxt.model_copy(update={"state": "sending", "due": now + policy.lease}), note)
    return "sent" if result.sent else ("claimed" if result.detail == "already claimed" else "failed")


def _attempt(message: Message, store: Store, notifier: Notifier, clock: Clock, policy: RetryPolicy,
             claim_key: str, entry: Pending, note: str = "") -> Delivery:
    """Claim `claim_key` (and keep the message in the outbox while in flight), send, record."""
    now = clock.now()
    with store.exclusive():
        if not store.claim(_row(message, now, "sending", f"{message.template} to {_who(message)}{note}", claim_key)):
            return Delivery(message, False, "already claimed")
        outbox.hold(store, entry)
    try:
        provider_id = _send(notifier, message, policy)
    except ChannelError as exc:
        if exc.outcome_unknown and message.recipient == "lead":
            return _unknown(message, store, clock, claim_key, exc)
        return _failed(message, store, notifier, clock, policy, entry, exc)
    except Exception as exc:  # noqa: BLE001 - a broken channel must not lose the message
        log.exception("channel %s crashed", message.channel)
        return _failed(message, store, notifier, clock, policy, entry, ChannelError(type(exc).__name__))
    with store.exclusive():
        store.add_activity([_row(message, clock.now(), "sent", f"{message.template} to {_who(message)}"
                                 + (f" id {provider_id}" if provider_id else ""), claim_key + "|sent")])
        outbox.release(store, message.key)
        if message.channel == "sms" and message.recipient != "lead" and message.lead_id:
            store.set_state(last_texted_key(message.to), message.lead_id)  # what a bare reply refers to
    return Delivery(message, True)


def last_texted_key(phone: str) -> str:
    """State name of the lead most recently texted to this (producer's) number."""
    return f"last_texted:{phone}"


def _send(notifier: Notifier, message: Message, policy: RetryPolicy) -> str | None:
    """One try plus the quick in-process retries for passing errors (waits from the policy)."""
    waits = list(policy.immediate) if message.channel != "push" else []
    while True:
        try:
            return notifier.send(message)
        except ChannelError as exc:
            if exc.permanent or not waits or (exc.outcome_unknown and message.recipient == "lead"):
                raise
            policy.sleep(waits.pop(0))


def _agency_zone(store: Store):
    """The agency's time zone for a detail a person reads; UTC when the tabs cannot be read (an outage)."""
    from datetime import timezone
    try:
        return store.config().settings.tz
    except Exception:  # noqa: BLE001 - a failed send is recorded whatever the tabs say
        return timezone.utc


def _failed(message: Message, store: Store, notifier: Notifier, clock: Clock, policy: RetryPolicy,
            entry: Pending, exc: ChannelError) -> Delivery:
    now = clock.now()
    attempts = entry.attempts + 1
    error = redact(str(exc))
    give_up = exc.permanent or message.channel == "push" or now - entry.created >= policy.give_up_after
    if give_up:
        why = error if exc.permanent or message.channel == "push" else f"{error}; gave up after {attempts} attempts"
        detail = f"{message.template} to {_who(message)}: {why}"
        with store.exclusive():
            store.add_activity([_row(message, now, "failed permanently", detail)])
            outbox.release(store, message.key)
            if exc.unsubscribed and _is_text_to_lead(message):  # opted out at the carrier: remember it
                set_opted_out(store, message.to, True)
        log.warning("send failed for good: %s", detail)
        if message.channel == "push" and message.extra.get("fallback_to"):
            fallback = replace(message, key=message.extra["fallback_key"], channel="sms",
                               to=message.extra["fallback_to"], extra={})
            return deliver(fallback, store, notifier, clock, policy=policy)
        return Delivery(message, False, detail)
    retry_at = policy.next_try(attempts, now)
    detail = (f"{message.template} to {_who(message)}: {error}; attempt {attempts}, "
              f"next try {for_people(retry_at, _agency_zone(store), seconds=True)}")
    with store.exclusive():
        outbox.hold(store, entry.model_copy(update={"state": "failed", "due": retry_at, "attempts": attempts,
                                                     "error": error}))
        store.add_activity([_row(message, now, "failed", detail)])
    log.warning("send failed, will retry: %s", detail)
    return Delivery(message, False, detail)


def _unknown(message: Message, store: Store, clock: Clock, claim_key: str, exc: ChannelError) -> Delivery:
    """The provider may have sent it: record that, and never send it to the lead again."""
    detail = (f"{message.template} to {_who(message)}: {redact(str(exc))}; it may have gone out, "
              "so it is not sent again to a lead")
    with store.exclusive():
        store.add_activity([_row(message, clock.now(), "unknown", detail, claim_key + "|unknown")])
        outbox.release(store, message.key)
    log.warning("send outcome unknown: %s", detail)
    return Delivery(message, False, detail)


def _found_at_provider(entry: Pending, store: Store, notifier: Notifier, clock: Clock, claim_key: str) -> bool:
    """An interrupted send the provider says it took (Twilio's message lookup): recorded as sent, not
    sent again. Channels that cannot tell leave it to be sent again (a producer's at most twice)."""
    finder = getattr(notifier, "find_sent", None)
    sid = finder(entry.msg, entry.created) if finder else None
    if not sid:
        return False
    message = entry.msg
    with store.exclusive():
        if store.claim(_row(message, clock.now(), "sent", f"{message.template} to {_who(message)} id {sid} "
                            "(interrupted; the provider had taken it)", claim_key + "|sent")):
            outbox.release(store, message.key)
    return True


def _capped(lead: Lead, message: Message, store: Store, notifier: Notifier, clock: Clock, config: AgencyConfig,
            policy: RetryPolicy) -> datetime | None:
    """When the lead's source is over its hourly cap of texts: until when (and the managers are told)."""
    ends = capped_until(store, lead, clock.now(), config)
    if ends is not None:
        log.warning("texts to leads from %s over the hourly cap; held until %s", lead.source, ends.isoformat())
        deliver_all(cap_alerts(lead, config, ends), store, notifier, clock, policy=policy)
    return ends


def _defer(message: Message, store: Store, now: datetime, allowed: datetime, lead: Lead, config: AgencyConfig,
           claim_key: str, entry: Pending, why: str = "quiet hours") -> Delivery:
    zone = lead_zone(lead, config.settings)
    local = allowed.astimezone(zone)
    agency = config.settings.tz
    also = "" if zone.key == agency.key else f" = {for_people(allowed, agency)} agency time"
    detail = (f"until {local:%Y-%m-%d %H:%M} {local.tzname()} ({zone.key}, {why}{also}): "
              f"{message.template} to {_who(message)}")
    with store.exclusive():
        if not store.claim(_row(message, now, "deferred", detail, claim_key)):
            return Delivery(message, False, "already claimed")
        outbox.hold(store, entry)
    return Delivery(message, False, f"deferred {detail}")


def _close(store: Store, message: Message, now: datetime, event: str, why: str, claim_key: str) -> None:
    with store.exclusive():
        if store.claim(_row(message, now, event, f"{message.template} to {_who(message)}: {why}", claim_key)):
            outbox.release(store, message.key)


def _expired(message: Message, now: datetime) -> str:
    """Why a message that is only useful for a while (a call-connect offer: extra["useful_until"])
    must not go any more ('' while it still may)."""
    until = message.extra.get("useful_until", "")
    try:
        moment = datetime.fromisoformat(until) if until else None
    except ValueError:
        return ""
    if moment is None or now < moment:
        return ""
    return f"not sent: it was useful only until {moment.isoformat(timespec='seconds')} (its offer window passed)"


def _stopped(message: Message, store: Store) -> str:
    """Why a message to a lead must not go at all (STOP or no consent for texts, unsubscribe for email)."""
    if message.recipient != "lead":
        return ""
    if message.channel == "sms" and is_opted_out(store, message.to):
        return "opted out of texts (STOP)"
    if message.channel == "sms":
        refusal = consent_refusal(store.get_lead(message.lead_id), store.config().settings)
        if refusal:
            return refusal
    if message.channel == "email" and is_opted_out(store, message.to.strip().lower()):
        return "unsubscribed from email"
    return ""


def _is_text_to_lead(message: Message) -> bool:
    return message.channel == "sms" and message.recipient == "lead"


def _who(message: Message) -> str:
    if message.channel == "push":
        return f"{message.recipient} (push to {urlsplit(message.to).hostname or 'webhook'})"
    return f"{message.recipient} ({mask(message.to)})"


def _row(message: Message, now: datetime, outcome: str, detail: str, key: str = "") -> Activity:
    return Activity(time=now, lead_id=message.lead_id, event=f"{message.channel} {outcome}", detail=detail, key=key)
