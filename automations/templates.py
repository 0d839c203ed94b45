"""Message texts from the Templates tab, with [Placeholder] substitution."""
from __future__ import annotations

import re

from sheets_schema.models import Lead, Producer, Template

from .config import AgencyConfig

PLACEHOLDER = re.compile(r"\[([A-Za-z]+)\]")
KNOWN = {"Name", "FullName", "Producer", "Agency", "Number", "Lead", "Phone", "Email", "Type", "ZIP", "Source",
         "Reason", "Minutes", "NewOwner", "Unsubscribe", "Reply"}


def placeholders(lead: Lead, owner: Producer | None, config: AgencyConfig, **extra: str) -> dict[str, str]:
    number = (owner.mobile if owner and owner.mobile else "") or config.settings.agency_phone
    values = {
        "Name": lead.first_name, "FullName": lead.full_name, "Producer": owner.name if owner else "",
        "Agency": config.settings.agency_name, "Number": number, "Lead": lead.number, "Phone": lead.phone,
        "Email": lead.email, "Type": lead.insurance_type, "ZIP": lead.zip, "Source": lead.source,
        "Reason": lead.routing_reason,
    }
    values.update({k: str(v) for k, v in extra.items()})
    return values


def render(text: str, values: dict[str, str]) -> str:
    """Replace known placeholders; unknown ones stay visible (and `check` reports them)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def unknown_placeholders(template: Template) -> set[str]:
    return {m for m in PLACEHOLDER.findall(template.subject + " " + template.body) if m not in KNOWN}
