"""Intake: validate and normalize one form submission into a `LeadForm`.

Required fields, email and phone format (E.164 via phonenumbers), ZIP (5-digit or
ZIP+4, enriched with county, state and time zone from offline data), insurance type to
line (Lines tab). Every problem is reported at once, by field, so a form can show them all.
Notes (the form's own notes plus every field we do not know) are capped at MAX_NOTES so
that one lead always fits a Google Sheets cell (50,000 characters) and never blocks a batch.
"""
from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Mapping

from pydantic import BaseModel, EmailStr, TypeAdapter, ValidationError

from automations.config import AgencyConfig
from automations.contact import lookup_zip, mask, normalize_phone
from automations.errors import InvalidLead
from automations.notify.consent import NO_WORDS
from automations.one_line import one_line
from .forms import fields_for_form, form_label, form_of
from .meaning import read_date
from .payload import cut, flatten, map_fields
from .shapes import reshape

REQUIRED = ("first_name", "last_name", "email", "phone", "zip", "insurance_type")
MAX_LENGTH = {"first_name": 100, "last_name": 100, "email": 254, "phone": 40, "zip": 10, "insurance_type": 100,
              "current_carrier": 200, "policy_expiration": 40, "source": 200, "how_heard": 500}
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
    zip_known: bool = True  # False: a ZIP found in no data (00000, a typo): routed by the fallback
    county: str = ""
    state: str = ""
    time_zone: str = ""
    insurance_type: str
    line: str = ""
    current_carrier: str = ""
    policy_expiration: str = ""
    source_hint: str = ""
    how_heard: str = ""
    consent: str = ""
    consent_ip: str = ""
    consent_page_url: str = ""
    consent_certificate_url: str = ""
    notes: str = ""


@dataclass
class PostContext:
    """What the HTTP request says beside its body: the URL's query (?product=, ?utm_source=, ?form=),
    the Referer, and the client's IP (evidence only when the post is our own form's)."""
    query: Mapping[str, str] = field(default_factory=dict)
    referer: str = ""
    client_ip: str = ""


@dataclass
class Reading:
    """What intake saw of a submission, filled as it goes (also when it is refused): the form and
    where each key went."""
    form_id: str = ""
    form_name: str = ""
    trace: list[tuple[str, str]] = field(default_factory=list)

    @property
    def form(self) -> str:
        return form_label(self.form_id, self.form_name)


OUR_FORM = "leadrouter"  # the embeddable form's form_id


def parse_submission(payload: Any, config: AgencyConfig, *, public: bool = True,
                     context: PostContext | None = None, reading: Reading | None = None) -> LeadForm:
    """Raise InvalidLead (errors by field) or Honeypot; otherwise return the normalized form.

    The honeypot only guards the public form (`public`): a vendor that posts with its API key
    is known, and its `website` field is the lead's own website, kept in Notes.
    """
    context = context or PostContext()
    reading = reading if reading is not None else Reading()
    payload = reshape(payload)
    if not isinstance(payload, Mapping):
        kind = type(payload).__name__.replace("list", "a list").replace("str", "a string")
        raise InvalidLead({"body": f"expected an object of form fields, got {kind}"})
    pairs = list(flatten(payload))
    reading.form_id, reading.form_name = form_of(pairs, context.query)
    mapping = fields_for_form(config.form_fields, reading.form_id, reading.form_name)
    fields = map_fields(pairs, mapping, reading.trace)
    website = fields.pop("website", "")
    if website and public:
        raise Honeypot(" ".join(mask(fields[k]) for k in ("email", "phone") if fields.get(k)))
    if website:
        fields["notes"] = "\n".join(filter(None, [fields.get("notes", ""), f"website: {website}"]))
    fields = {k: _CONTROL.sub("", v if k == "notes" else one_line(v)).strip() for k, v in fields.items()}
    _from_context(fields, context, reading)
    single_name = _split_full_name(fields)
    _move_long_answers(fields)
    _read_expiration(fields)

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
    consent = consent_given(fields)
    notes = fields.get("notes", "")
    if fields.get("jornaya"):
        notes = "\n".join(filter(None, [notes, f"Jornaya LeadiD: {fields['jornaya']}"]))
    # a ZIP neither in the ZIP data nor in one of the agency's own Territories exists nowhere we know
    zip_known = place.known or any(t.contains(place.zip5) for t in config.territories)
    if not zip_known:
        notes = "\n".join(filter(None, [notes, unknown_zip_note(place.zip5)]))
    return LeadForm(
        first_name=fields["first_name"], last_name=fields["last_name"], email=email, phone=phone,
        zip=place.zip5, zip_known=zip_known, county=place.county, state=place.state, time_zone=place.time_zone,
        insurance_type=line.insurance_type if line else fields["insurance_type"], line=line.line if line else "",
        current_carrier=fields.get("current_carrier", ""), policy_expiration=fields.get("policy_expiration", ""),
        source_hint=fields.get("source", ""), how_heard=fields.get("how_heard", ""), consent=consent,
        consent_ip=fields.get("consent_ip", "")[:64] if consent else "",
        consent_page_url=fields.get("consent_page_url", "")[:2000],
        consent_certificate_url=fields.get("consent_certificate_url", "")[:2000],
        notes=cap_notes(notes),
    )


def unknown_zip_note(zip5: str) -> str:
    return f"ZIP {zip5} is not a known US ZIP code (a typo?): routed by the fallback; please check it with the lead"


MAX_CONSENT = 2000


def consent_given(fields: Mapping[str, str]) -> str:
    """The consent kept with the lead: the vendor's consent text, else the answer to the checkbox,
    else the certificate that proves it; blank when none was given (or the answer was 'no')."""
    answer = fields.get("consent", "").strip()
    if answer.lower() in NO_WORDS:
        return ""
    text = fields.get("consent_text", "").strip()
    if answer and text:
        return cut(f"{text} ({answer})" if answer.lower() not in text.lower() else text, MAX_CONSENT)
    if answer:
        return cut(answer, MAX_CONSENT)
    if text and fields.get("consent_certificate_url"):
        return cut(text, MAX_CONSENT)
    if fields.get("consent_certificate_url"):
        return f"certificate {fields['consent_certificate_url'][:1900]}"
    return ""


def _from_context(fields: dict[str, str], context: PostContext, reading: Reading) -> None:
    """What the URL, the Referer and our own form add: product, UTM source and campaign, evidence."""
    query = {str(k).lower(): str(v) for k, v in context.query.items()}
    if not fields.get("insurance_type"):
        product = query.get("product") or query.get("insurance_type") or query.get("type") or ""
        fields["insurance_type"] = product.replace("_", " ").strip()
    page_query = _url_query(fields.get("consent_page_url", ""))
    referer_query = _url_query(context.referer)
    for utm, field in (("utm_source", "source"), ("utm_campaign", "utm_campaign"), ("utm_medium", "utm_medium")):
        value = query.get(utm) or fields.get(field) or page_query.get(utm) or referer_query.get(utm) or ""
        if value:
            fields[field] = value
    campaign = ", ".join(f"{k.replace('utm_', '')} {fields[k]}" for k in ("utm_campaign", "utm_medium")
                         if fields.get(k))
    if campaign:
        fields["notes"] = "\n".join(filter(None, [fields.get("notes", ""), f"UTM: {campaign}"]))
    if reading.form_id == OUR_FORM:  # our own page: the browser is the lead's
        fields.setdefault("consent_ip", context.client_ip)
        if not fields.get("consent_page_url"):
            fields["consent_page_url"] = context.referer
    if not fields.get("consent_page_url") and context.referer and fields.get("consent"):
        fields["consent_page_url"] = context.referer


def _url_query(url: str) -> dict[str, str]:
    if "?" not in url:
        return {}
    return {k.lower(): v for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)}


_OPTIONAL_TO_NOTES = {"current_carrier": "Current carrier", "policy_expiration": "Policy expiration",
                      "source": "Source", "how_heard": "How heard"}


def _move_long_answers(fields: dict[str, str]) -> None:
    """An optional answer too long for its column goes to Notes whole (a lead is never refused for it)."""
    for name, label in _OPTIONAL_TO_NOTES.items():
        if len(fields.get(name, "")) > MAX_LENGTH[name]:
            fields["notes"] = "\n".join(filter(None, [fields.get("notes", ""), f"{label}: {fields.pop(name)}"]))


def _read_expiration(fields: dict[str, str]) -> None:
    """A policy date as Y-m-d; a bucket ('in the next 30 days') stays in Notes, never a made-up date."""
    text = fields.get("policy_expiration", "")
    if not text:
        return
    when = read_date(text)
    if when:
        fields["policy_expiration"] = when
    else:
        fields.pop("policy_expiration")
        fields["notes"] = "\n".join(filter(None, [fields.get("notes", ""), f"Policy expiration: {text}"]))


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
