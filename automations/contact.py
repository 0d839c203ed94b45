"""Phone numbers, emails and ZIPs: normalizing them, and masking them for logs."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
import zipcodes

ZIP_RE = re.compile(r"^\s*(\d{5})(?:-?\d{4})?\s*$")


def normalize_phone(raw: str, region: str = "US") -> str | None:
    """E.164 for a valid number ('(201) 555-0100' -> '+12015550100'), else None."""
    try:
        number = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_time_zone(e164: str) -> str | None:
    """The time zone of a number's area code, when it has exactly one."""
    from phonenumbers import timezone as phone_tz
    try:
        zones = phone_tz.time_zones_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return None
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else None


@dataclass(frozen=True)
class Place:
    zip5: str
    county: str = ""
    state: str = ""
    time_zone: str = ""
    known: bool = False


def lookup_zip(raw: str) -> Place | None:
    """ZIP or ZIP+4 -> the 5-digit ZIP with county, state and time zone (offline data).

    A well-formed ZIP missing from the data set still yields a Place (known=False): a real
    lead is never refused because a new ZIP is absent from a data file.
    """
    match = ZIP_RE.match(str(raw))
    return _place(match.group(1)) if match else None


@lru_cache(maxsize=8192)
def _place(zip5: str) -> Place:
    """ZIP data never changes while we run: look each ZIP up once."""
    try:
        found = zipcodes.matching(zip5)
    except (ValueError, TypeError):
        found = []
    if not found:
        return Place(zip5)
    info = found[0]
    return Place(zip5, info.get("county", ""), info.get("state", ""), info.get("timezone", ""), True)


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    return f"***-***-{digits[-4:]}" if len(digits) >= 4 else "***"


def mask_email(value: str) -> str:
    local, _, domain = (value or "").partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask(value: str) -> str:
    """Mask whatever contact detail this is: emails keep their domain, phones their last 4."""
    return mask_email(value) if "@" in (value or "") else mask_phone(value)


_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s().-]{8,}\d")


def redact(text: str) -> str:
    """Mask every email and phone number inside free text (log lines)."""
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
