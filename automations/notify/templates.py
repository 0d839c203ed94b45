"""Message texts from the Templates tab, with [Placeholder] substitution.

Owners type the tab by hand, so its two free-form fields are read forgivingly, in one place:
Channel "Text", "SMS" or "e-mail" means sms or email (`channel_of`), and a placeholder may be
spelled "[Full Name]" or "[zip]". What still cannot be read is left visible in the message and
reported by `leadrouter check` (`template_problems`), never guessed.
"""
from __future__ import annotations

import difflib
import re

from sheets_schema.models import Lead, Producer, Template

from automations.config import AgencyConfig
from automations.one_line import one_line

# Anything in brackets on one line counts, so "[First Name]" or "[Lead ID]" is caught and
# reported instead of going out literally.
PLACEHOLDER = re.compile(r"\[([^\[\]\n]{1,40})\]")
KNOWN = {"Name", "FullName", "Producer", "Agency", "Number", "Lead", "Phone", "Email", "Type", "ZIP", "Source",
         "Reason", "Minutes", "NewOwner", "Unsubscribe", "Reply"}
CHANNELS = {"sms": "sms", "text": "sms", "texts": "sms", "txt": "sms", "textmessage": "sms", "mobile": "sms",
            "email": "email", "mail": "email", "emails": "email"}
UNSUBSCRIBE = "[Unsubscribe]"


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-.]+", "", text).lower()


_BY_FOLD = {_fold(k): k for k in KNOWN}
# what owners copy from other tools, for check's "did you mean"; never filled in silently
_LOOKALIKES = {"firstname": "Name", "first": "Name", "leadname": "Name", "lastname": "FullName",
               "leadid": "Lead", "leadnumber": "Lead", "id": "Lead", "agentname": "Producer", "agent": "Producer",
               "producername": "Producer", "agencyname": "Agency", "company": "Agency", "phonenumber": "Phone",
               "mobile": "Phone", "emailaddress": "Email", "insurancetype": "Type", "zipcode": "ZIP"}


def canonical(name: str) -> str | None:
    """The known placeholder a spelling means ('Full Name' -> 'FullName'), else None."""
    return _BY_FOLD.get(_fold(name))


def channel_of(template: Template) -> str | None:
    """'sms' or 'email' for what the Channel cell says ('' means sms); None when it names neither."""
    return CHANNELS.get(_fold(template.channel), None) if template.channel.strip() else "sms"


def placeholders(lead: Lead, owner: Producer | None, config: AgencyConfig, **extra: str) -> dict[str, str]:
    number = (owner.mobile if owner and owner.mobile else "") or config.settings.agency_phone
    values = {
        "Name": lead.first_name, "FullName": lead.full_name, "Producer": owner.name if owner else "",
        "Agency": config.settings.agency_name, "Number": number, "Lead": lead.number, "Phone": lead.phone,
        "Email": lead.email, "Type": lead.insurance_type, "ZIP": lead.zip, "Source": lead.source,
        "Reason": lead.routing_reason,
    }
    values.update({k: str(v) for k, v in extra.items()})
    return {k: one_line(v) for k, v in values.items()}  # a value never adds a line to a text


def render(text: str, values: dict[str, str]) -> str:
    """Replace known placeholders; unknown ones stay visible (and `check` reports them).

    A known name with no value here ([Unsubscribe], filled in by the email channel) is written
    in its canonical spelling, so the channel finds it.
    """
    def one(match: re.Match) -> str:
        name = canonical(match.group(1))
        return match.group(0) if name is None else values.get(name, f"[{name}]")
    return PLACEHOLDER.sub(one, text)


def unknown_placeholders(template: Template) -> set[str]:
    return {m for m in PLACEHOLDER.findall(template.subject + " " + template.body) if canonical(m) is None}


def template_problems(template: Template, known_keys: set[str]) -> list[tuple[str, str]]:
    """(level, message) for one Templates row: what would go out wrong, or not at all."""
    key = template.key.strip()
    out: list[tuple[str, str]] = []
    if key not in known_keys:
        close = difflib.get_close_matches(key, sorted(known_keys), n=1, cutoff=0.6)
        out.append(("error", f"{key}: no message uses this Key" + (f" (did you mean {close[0]}?)" if close else "")
                    + "; its text is never sent"))
    channel = channel_of(template)
    if channel is None:
        out.append(("error", f"{key}: Channel {template.channel.strip()!r} is not sms or email; "
                             "the message is not sent"))
    for name in sorted(unknown_placeholders(template)):
        close = difflib.get_close_matches(_fold(name), list(_BY_FOLD), n=1, cutoff=0.75)
        meant = _LOOKALIKES.get(_fold(name)) or (_BY_FOLD[close[0]] if close else "")
        hint = f" (did you mean [{meant}]?)" if meant else ""
        out.append(("warning", f"{key}: unknown placeholder [{name}]{hint}; it is sent as typed"))
    if channel == "sms" and any(canonical(m) == "Unsubscribe" for m in PLACEHOLDER.findall(template.body)):
        out.append(("warning", f"{key}: [Unsubscribe] is for emails; a text shows it literally "
                               "(texts to leads say 'Reply STOP to stop')"))
    return out
