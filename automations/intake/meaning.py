"""What a question means and what its answer says, as people write them.

A form asks "Who is your current auto insurer?" or "When does your policy renew?"; Meta
sends "when_does_your_policy_renew?"; Zapier sends "None" for a blank. `field_of_label`
reads the question, `clean_value` the answer (empty words, HTML escapes), and `read_date`
turns the dates people and builders write into Y-m-d, never inventing one.
"""
from __future__ import annotations

from functools import lru_cache

import html
import re
from datetime import date, datetime, timezone

# (our field, words that must all appear in the label), most specific first
_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("how_heard", ("hear",)), ("how_heard", ("find", "us")), ("how_heard", ("referred",)),
    ("consent", ("consent",)), ("consent", ("agree",)), ("consent", ("tcpa",)), ("consent", ("permission",)),
    ("first_name", ("first", "name")), ("last_name", ("last", "name")), ("last_name", ("surname",)),
    ("email", ("email",)), ("email", ("e", "mail")),
    ("phone", ("phone",)), ("phone", ("mobile",)), ("phone", ("cell",)), ("phone", ("telephone",)),
    ("zip", ("zip",)), ("zip", ("postal",)),
    ("current_carrier", ("insurer",)), ("current_carrier", ("carrier",)),
    ("current_carrier", ("insurance", "company")), ("current_carrier", ("insured", "with")),
    ("policy_expiration", ("renew",)), ("policy_expiration", ("expir",)), ("policy_expiration", ("x", "date")),
    ("insurance_type", ("covered",)), ("insurance_type", ("coverage",)), ("insurance_type", ("type", "insurance")),
    ("insurance_type", ("insurance", "type")), ("insurance_type", ("what", "insurance")),
    ("insurance_type", ("kind", "insurance")), ("insurance_type", ("quote", "for")),
    ("insurance_type", ("interested", "in")), ("insurance_type", ("line", "of", "business")),
    ("full_name", ("full", "name")), ("full_name", ("your", "name")), ("full_name", ("name",)),
)
_LONG_LABEL = 3  # words: a label this long is a question, read by its words


@lru_cache(maxsize=8192)
def field_of_label(label: str) -> str | None:
    """The field a question means by its words, or None. Only for labels of three words or more
    (or with a '?'), so short keys such as 'name_of_business' are not guessed at."""
    text = str(label).lower().replace("_", " ")
    words = re.findall(r"[a-z0-9]+", text)
    if len(words) < _LONG_LABEL and "?" not in text:
        return None
    joined = " ".join(words)
    for field, needed in _RULES:
        if all(re.search(rf"\b{re.escape(w)}", joined) for w in needed):
            if field == "full_name" and any(w in words for w in ("business", "company", "agent", "agency")):
                continue
            return field
    return None


EMPTY_WORDS = {"none", "n/a", "na", "n a", "null", "nil", "-", "--", "undefined", "not applicable", "(none)"}


def clean_value(text: str) -> str:
    """An answer without HTML escapes (Jotform sends O&#039;Neill) and without placeholder words for
    a blank ('None', 'N/A': what Zapier and Make write for an empty field)."""
    value = html.unescape(text) if "&" in text else text
    return "" if value.strip().lower() in EMPTY_WORDS else value


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}


def read_date(text: str) -> str | None:
    """'2025-06-19', '6/19/2025', 'June 19, 2025', '19 Jun 2025', Unix seconds -> '2025-06-19'.

    None for anything else ('in the next 30 days', 'ASAP'): a bucket is not a date, and a date
    is never invented from one.
    """
    value = str(text).strip()
    if not value:
        return None
    if re.fullmatch(r"\d{9,11}(\.\d+)?", value):  # Unix seconds (2001 .. 2286)
        return datetime.fromtimestamp(float(value), timezone.utc).date().isoformat()
    found = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?", value)
    if found:
        return _date(int(found[1]), int(found[2]), int(found[3]))
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})", value)
    if found:
        year = int(found[3]) + (2000 if len(found[3]) == 2 else 0)
        return _date(year, int(found[1]), int(found[2]))
    found = re.fullmatch(r"([A-Za-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})", value)
    if found and found[1][:3].lower() in _MONTHS:
        return _date(int(found[3]), _MONTHS[found[1][:3].lower()], int(found[2]))
    found = re.fullmatch(r"(\d{1,2}) ([A-Za-z]{3,9})\.?,? (\d{4})", value)
    if found and found[2][:3].lower() in _MONTHS:
        return _date(int(found[3]), _MONTHS[found[2][:3].lower()], int(found[1]))
    return None


def _date(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def date_parts(node: dict) -> str | None:
    """A date sent as parts: Jotform's {month, day, year}, WPForms' {value, unix}; None when empty."""
    keys = {str(k).lower(): v for k, v in node.items()}
    if {"month", "day", "year"} <= keys.keys():
        parts = [str(keys[k] or "").strip() for k in ("year", "month", "day")]
        if not all(parts):
            return "" if not any(parts) else None
        try:
            return _date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            return None
    if "unix" in keys or ("value" in keys and "date" in keys):
        shown = str(keys.get("value") or keys.get("date") or "").strip()
        return read_date(shown) or (read_date(str(keys.get("unix") or "")) if keys.get("unix") else None) or shown
    return None
