"""Composing messages and delivering them exactly once.

Delivery is claim-before-send (the healthchecks pattern): an Activity row with the
message's idempotency key is written *before* the channel is called, so a second worker,
a retry or a restart never sends the same message twice. The outcome is logged after.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sheets_schema.models import Activity, Lead, Producer

from .clock import Clock
from .config import AgencyConfig
from .contact import mask, redact
from .optout import is_opted_out
from .ports import Message, Notifier, Store
from .templates import placeholders, render

log = logging.getLogger("leadrouter.notify")


class ChannelError(Exception):
    """A channel failed. `permanent` means retrying cannot help (e.g. an invalid number)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def compose(key: str, template_key: str, lead: Lead, config: AgencyConfig, *, to_producer: Producer | None,
            owner: Producer | None, **extra: str) -> list[Message]:
    """The message(s) of one template for one recipient: a producer (when given) or the lead."""
    template = config.template(template_key)
    if template is None:
        return []
    values = placeholders(lead, owner, config, **extra)
    channel = template.channel.strip().lower() or "sms"
    if to_producer is not None:
        address = to_producer.mobile if channel == "sms" else to_producer.email
        recipient = to_producer.name
    else:
        address = lead.phone if channel == "sms" else lead.email
        recipient = "lead"
    if not address:
        return []
    return [Message(key=f"{key}/{recipient}/{channel}", channel=channel, to=address, body=render(template.body, values),
                    subject=render(template.subject, values), lead_id=lead.lead_id, recipient=recipient,
                    template=template_key)]


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


def deliver(message: Message, store: Store, notifier: Notifier, clock: Clock) -> Delivery:
    """Claim, send, record. Returns sent=False when another process already claimed it."""
    who = f"{message.recipient} ({mask(message.to)})"
    if message.channel == "sms" and message.recipient == "lead" and is_opted_out(store, message.to):
        return Delivery(message, False, "opted out")
    claim = Activity(time=clock.now(), lead_id=message.lead_id, event=f"{message.channel} sending",
                     detail=f"{message.template} to {who}", key=message.key)
    if not store.claim(claim):
        return Delivery(message, False, "already claimed")
    try:
        provider_id = notifier.send(message)
    except ChannelError as exc:
        detail = f"{message.template} to {who}: {redact(str(exc))}"
        store.add_activity([Activity(time=clock.now(), lead_id=message.lead_id,
                                     event=f"{message.channel} failed" + (" permanently" if exc.permanent else ""),
                                     detail=detail)])
        log.warning("send failed: %s", detail)
        return Delivery(message, False, detail)
    store.add_activity([Activity(time=clock.now(), lead_id=message.lead_id, event=f"{message.channel} sent",
                                 detail=f"{message.template} to {who}" + (f" id {provider_id}" if provider_id else ""),
                                 key=message.key + "|sent")])
    return Delivery(message, True)


def deliver_all(messages: list[Message], store: Store, notifier: Notifier, clock: Clock) -> list[Delivery]:
    return [deliver(m, store, notifier, clock) for m in messages]
