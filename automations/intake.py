"""Intake: validate and normalize one form submission into a `LeadForm`.

Required fields, email and phone format (E.164 via phonenumbers), ZIP (5-digit or
ZIP+4, enriched with county, state and time zone from offline data), insurance type to
line (Lines tab). Every problem is reported at once, by field, so a form can show them all.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from pydantic import BaseModel, EmailStr, TypeAdapter, ValidationError

from .config import AgencyConfig
from .contact import lookup_zip, normalize_phone
from .errors import InvalidLead
from .form_payload import flatten, map_fields

REQUIRED = ("first_name", "last_name", "email", "phone", "zip", "insurance_type")
MAX_LENGTH = {"first_name": 100, "last_name": 100, "email": 254, "phone": 40, "zip": 10, "insurance_type": 100,
              "current_carrier": 200, "policy_expiration": 40, "source": 200, "consent": 500}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = TypeAdapter(EmailStr)


class Honeypot(Exception):
    """The hidden `website` field was filled in: a bot. Drop it quietly."""


class LeadForm(BaseModel):
    """A submission that passed validation, normalized."""
    first_name: str
    last_name: str
    email: str
    phone: str  # E.164
    zip: str  # 5 digits
    county: str = ""
    state: str = ""
    time_zone: str = ""
    insurance_type: str
    line: str = ""
    current_carrier: str = ""
    policy_expiration: str = ""
    source_hint: str = ""
    consent: str = ""
    notes: str = ""


def parse_submission(payload: Any, config: AgencyConfig) -> LeadForm:
    """Raise InvalidLead (errors by field) or Honeypot; otherwise return the normalized form."""
    if not isinstance(payload, Mapping):
        kind = type(payload).__name__.replace("list", "a list").replace("str", "a string")
        raise InvalidLead({"body": f"expected an object of form fields, got {kind}"})
    fields = map_fields(flatten(payload), {f.key: f.field for f in config.form_fields})
    if fields.get("website"):
        raise Honeypot()
    fields = {k: _CONTROL.sub("", v).strip() for k, v in fields.items()}
    _split_full_name(fields)

    if not any(fields.get(k) for k in ("first_name", "last_name", "email", "phone")):
        raise InvalidLead({"contact": "no contact details: send a name, an email and a phone number"})

    errors: dict[str, str] = {}
    for name in REQUIRED:
        if not fields.get(name):
            errors[name] = "required"
    for name, limit in MAX_LENGTH.items():
        if len(fields.get(name, "")) > limit:
            errors[name] = f"longer than {limit} characters"

    email = fields.get("email", "")
    if email and "email" not in errors:
        try:
            email = str(_EMAIL.validate_python(email)).lower()
        except ValidationError:
            errors["email"] = "not a valid email address"
    phone = ""
    if fields.get("phone") and "phone" not in errors:
        phone = normalize_phone(fields["phone"]) or ""
        if not phone:
            errors["phone"] = "not a valid phone number (10 digits with area code)"
    place = None
    if fields.get("zip") and "zip" not in errors:
        place = lookup_zip(fields["zip"])
        if place is None:
            errors["zip"] = "must be a 5-digit ZIP code (or ZIP+4)"
    if errors:
        raise InvalidLead(errors)

    line = config.line_of(fields["insurance_type"])
    return LeadForm(
        first_name=fields["first_name"], last_name=fields["last_name"], email=email, phone=phone,
        zip=place.zip5, county=place.county, state=place.state, time_zone=place.time_zone,
        insurance_type=line.insurance_type if line else fields["insurance_type"], line=line.line if line else "",
        current_carrier=fields.get("current_carrier", ""), policy_expiration=fields.get("policy_expiration", ""),
        source_hint=fields.get("source", ""), consent=fields.get("consent", ""), notes=fields.get("notes", ""),
    )


def _split_full_name(fields: dict[str, str]) -> None:
    """A single 'Your Name' field: the first word is the first name, the rest the last name."""
    full = fields.pop("full_name", "")
    if not full:
        return
    first, _, last = full.partition(" ")
    if not fields.get("first_name"):
        fields["first_name"] = first
    if not fields.get("last_name"):
        fields["last_name"] = last.strip()
