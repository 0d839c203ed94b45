"""Phone numbers, emails and ZIPs: normalizing them, and masking them for logs."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
import zipcodes

# [0-9], not \d: \d also matches '１' or '١', which the zipcodes data (Rust) cannot slice and panics on.
ZIP_RE = re.compile(r"^\s*([0-9]{5})(?:-?[0-9]{4})?\s*$")


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
    """ZIP data never changes while we run: look each ZIP up once.

    A ZIP missing from the data still gets the state (and time zone) of its 3-digit prefix,
    so the Licensed States filter and quiet hours still apply to it.
    """
    found = _zip_data(zipcodes.matching, zip5)
    if found:
        info = found[0]
        return Place(zip5, info.get("county", ""), info.get("state", ""), info.get("timezone", ""), True)
    state, time_zone = _prefix_region(zip5[:3])
    return Place(zip5, "", state, time_zone)


@lru_cache(maxsize=1024)
def _prefix_region(prefix: str) -> tuple[str, str]:
    """(state, time zone) most ZIPs of a 3-digit prefix share; ('', '') when the prefix is unknown."""
    found = _zip_data(zipcodes.similar_to, prefix)
    states = Counter(z.get("state", "") for z in found if z.get("state"))
    if not states:
        return "", ""
    state = states.most_common(1)[0][0]
    zones = Counter(z.get("timezone", "") for z in found if z.get("state") == state and z.get("timezone"))
    return state, zones.most_common(1)[0][0] if zones else ""


def _zip_data(lookup, text: str) -> list[dict]:
    """Call the zipcodes data; a failure inside it (its Rust core panics on odd input) means 'not found'.

    pyo3's PanicException derives from BaseException, so `except Exception` would let it kill
    the request (or the gunicorn worker); interrupts and exits still pass through.
    """
    try:
        return list(lookup(text))
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except Exception:  # noqa: BLE001 - bad input for the data set is simply not a known ZIP
        return []
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        return []


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
# A date (with its time) is matched first and kept, so '2026-11-24 15:00' stays legible while a
# phone number right after it is still masked.
_PHONE_IN_TEXT = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)"
                            r"|(?P<phone>\+?\d[\d\s().-]{8,}\d)")


def redact(text: str) -> str:
    """Mask every email and phone number inside free text (log lines)."""
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(lambda m: m.group(0) if m.group("date") else mask_phone(m.group(0)), text)
