"""Cell codec: what people type in a sheet <-> Python values.

People type "y", "Yes", "$1,200", "12%", "12/31/2026". Backends hand us cell text (or a
number when the sheet stored one); these functions turn it into typed values and back,
so ZIP "02134" and phone numbers always stay text.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

from .tabs import Kind

TRUE_WORDS = {"y", "yes", "true", "1", "x", "active", "on"}
FORMULA_START = ("=", "+", "-", "@")


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in TRUE_WORDS


def parse_number(raw: Any) -> float | None:
    if is_blank(raw):
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    text = str(raw).strip().replace(",", "").replace("$", "").replace("%", "")
    try:
        return float(text)
    except ValueError:
        return None


def parse_percent(raw: Any) -> float | None:
    """'12%', '12' and 0.12 all mean twelve percent; returns a fraction (0.12)."""
    value = parse_number(raw)
    if value is None:
        return None
    if isinstance(raw, str) and "%" in raw:
        return value / 100
    return value / 100 if value > 1 else value


def parse_int(raw: Any) -> int | None:
    value = parse_number(raw)
    return None if value is None else int(value)


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%d %b %Y", "%b %d, %Y", "%B %d, %Y")
SHEETS_EPOCH = datetime(1899, 12, 30)


def parse_date(raw: Any) -> date | None:
    if is_blank(raw):
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, (int, float)):  # a spreadsheet serial number
        return (SHEETS_EPOCH + _days(raw)).date()
    text = str(raw).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


# Dates as people write them beyond the formats above: "Dec 24 2026", "Dec. 24th, 2026",
# "24 December 2026", "12.24.2026", "24-Dec-2026" (matched once dots and commas are spaces and
# ordinals are gone, see date_words).
_WORDY_DATE_FORMATS = ("%b %d %Y", "%B %d %Y", "%d %b %Y", "%d %B %Y", "%m-%d-%Y", "%m %d %Y", "%d-%b-%Y",
                       "%b %d %y")


def date_words(text: str) -> str:
    """'Dec. 24th, 2026' -> 'Dec 24 2026': the spelling parse_date_words (and a reader of dates
    without a year) matches against."""
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip().replace(",", " ").replace(".", " "),
                     flags=re.IGNORECASE)
    return " ".join(cleaned.split())


def parse_date_words(text: str) -> date | None:
    """A date typed in words or with other separators (the formats above), else None."""
    cleaned = date_words(text)
    for fmt in _WORDY_DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            pass
    return None


def _days(serial: float):
    from datetime import timedelta
    return timedelta(days=float(serial))


def parse_datetime(raw: Any) -> datetime | None:
    """ISO text (with or without offset; naive is taken as UTC) or a sheet serial (UTC)."""
    if is_blank(raw):
        return None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, (int, float)):
        value = SHEETS_EPOCH + _days(raw)
    else:
        text = str(raw).strip().replace("Z", "+00:00")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            parsed = parse_date(text)
            if parsed is None:
                return None
            value = datetime(parsed.year, parsed.month, parsed.day)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def split_list(raw: Any) -> list[str]:
    """'Personal + Small Commercial', 'Personal, Commercial' -> ['Personal', ...]."""
    if is_blank(raw):
        return []
    return [p.strip() for p in re.split(r"[,;+/]|\band\b", str(raw)) if p.strip()]


def parse(kind: Kind, raw: Any) -> Any:
    if kind == "bool":
        return None if is_blank(raw) else parse_bool(raw)
    if kind in ("number", "money"):
        return parse_number(raw)
    if kind == "percent":
        return parse_percent(raw)
    if kind == "int":
        return parse_int(raw)
    if kind == "date":
        return parse_date(raw)
    if kind == "datetime":
        return parse_datetime(raw)
    return "" if raw is None else (raw if isinstance(raw, str) else _plain(raw))


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_text(kind: Kind, value: Any) -> str:
    """The canonical text of a value (SQL storage, CSV, JSON)."""
    if value is None:
        return ""
    if kind == "bool":
        return "Y" if value else "N"
    if kind == "datetime" and isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="seconds")
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind == "percent" and isinstance(value, (int, float)):
        return f"{value * 100:g}%"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return _plain(value)


def neutralize(text: Any) -> Any:
    """Text that a spreadsheet would evaluate (=, +, -, @) gets a leading apostrophe."""
    if isinstance(text, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text
