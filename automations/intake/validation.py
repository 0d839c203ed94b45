"""Intake: validate and normalize one form submission into a `LeadForm`.

Required fields, email and phone format (E.164 via phonenumbers), ZIP (5-digit or
ZIP+4, enriched with county, state and time zone from offline data), insurance type to
line (Lines tab). Every problem is reported at once, by field, so a form can show them all.
Notes (the form's own notes plus every field we do not know) are capped at MAX_NOTES so
that one lead always fits a Google Sheets cell (50,000 characters) and never blocks a batch.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from pydantic import BaseModel, EmailStr, TypeAdapter, ValidationError

from automations.config import AgencyConfig
from automations.contact import lookup_zip, mask, normalize_phone
from automations.errors import InvalidLead
from automations.one_line import one_line
from .payload import flatten, map_fields

REQUIRED = ("first_name", "last_name", "email", "phone", "zip", "insurance_type")
MAX_LENGTH = {"first_name": 100, "last_name": 100, "email": 254, "phone": 40, "zip": 10, "insurance_type": 100,
              "current_carrier": 200, "policy_expiration": 40, "source": 200, "consent": 500}
MAX_NOTES = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = TypeAdapter(EmailStr)
HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "madam"}
SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "md", "phd", "esq", "dds", "cpa"}


class Honeypot(Exception):
    """The hidden `website` field of the public form was filled in: a bot. Drop it quietly.

    `who` is the submitter's masked email/phone, so a real person dropped by a browser's
    autofill can still be found without logging their details.
    """

    def __init__(self, who: str = "") -> None:
        super().__init__(who)
        self.who = who


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


def parse_submission(payload: Any, config: AgencyConfig, *, public: bool = True) -> LeadForm:
    """Raise InvalidLead (errors by field) or Honeypot; otherwise return the normalized form.

    The honeypot only guards the public form (`public`): a vendor that posts with its API key
    is known, and its `website` field is the lead's own website, kept in Notes.
    """
    if not isinstance(payload, Mapping):
        kind = type(payload).__name__.replace("list", "a list").replace("str", "a string")
        raise InvalidLead({"body": f"expected an object of form fields, got {kind}"})
    fields = map_fields(flatten(payload), {f.key: f.field for f in config.form_fields})
    website = fields.pop("website", "")
    if website and public:
        raise Honeypot(" ".join(mask(fields[k]) for k in ("email", "phone") if fields.get(k)))
    if website:
        fields["notes"] = "\n".join(filter(None, [fields.get("notes", ""), f"website: {website}"]))
    fields = {k: _CONTROL.sub("", v if k == "notes" else one_line(v)).strip() for k, v in fields.items()}
    single_name = _split_full_name(fields)

    if not any(fields.get(k) for k in ("first_name", "last_name", "email", "phone")):
        raise InvalidLead({"contact": "no contact details: send a name, an email and a phone number"})

    errors: dict[str, str] = {}
    for name in REQUIRED:
        if not fields.get(name) and not (name == "last_name" and single_name):
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
        source_hint=fields.get("source", ""), consent=fields.get("consent", ""),
        notes=cap_notes(fields.get("notes", "")),
    )


def cap_notes(text: str, limit: int = MAX_NOTES) -> str:
    """Notes cut to `limit` characters, saying how much was cut (the full post is never needed to route)."""
    if len(text) <= limit:
        return text
    kept = text[:limit - 60]  # room for the marker
    return f"{kept}\n[... {len(text) - len(kept):,} more characters cut]"


def _split_full_name(fields: dict[str, str]) -> bool:
    """A single 'Your Name' field -> first and last name; True when it was the only name given.

    'Ann Lee' and 'Ann\tLee' -> Ann / Lee; 'Ann Marie Lee' -> Ann / Marie Lee; 'Lee, Ann' -> Ann / Lee;
    'Dr. Ann Lee' -> Ann / Lee; 'Ann Lee, Jr.' -> Ann / Lee Jr.; a one-word name ('Cher') is the
    first name and the last name stays blank: the form asked for one name, so one name is enough.
    """
    full = " ".join(fields.pop("full_name", "").split())
    if not full:
        return False
    single = not fields.get("first_name") and not fields.get("last_name")
    head, comma, tail = (part.strip() for part in full.partition(","))
    if comma and tail and _word(tail) not in SUFFIXES:
        first, last = tail, head  # 'Lee, Ann'
    else:
        words = head.split()
        while len(words) > 1 and _word(words[0]) in HONORIFICS:
            words.pop(0)
        first, last = words[0] if words else "", " ".join(words[1:])
        if comma and tail:
            last = f"{last} {tail}".strip() if last else tail  # a suffix stays with the last name
    if not fields.get("first_name"):
        fields["first_name"] = first
    if not fields.get("last_name"):
        fields["last_name"] = last
    return single


def _word(text: str) -> str:
    return text.strip().strip(".").lower()
