"""How the owner's Settings text is read: Business Hours, Holidays and Time Zone.

Owners type these by hand ("Mon-Fri 8am-6pm, Sat 9-1", "Jan 1 2027, Dec 24"), so the
readers are forgiving about spelling and report what they could not read instead of
failing: `leadrouter check` shows those notes, and the business clock falls back to the
default hours rather than stopping the speed clock.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheets_schema import cells

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_TITLES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_WORDS = {
    **{d: i for i, d in enumerate(DAYS)},
    **{d: i for i, d in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    "m": 0, "mo": 0, "t": 1, "tu": 1, "tues": 1, "w": 2, "we": 2, "weds": 2, "r": 3, "th": 3, "thur": 3,
    "thurs": 3, "f": 4, "fr": 4, "sa": 5, "su": 6,
}
_DAY_GROUPS = {"weekdays": (0, 4), "weekday": (0, 4), "weekends": (5, 6), "weekend": (5, 6), "daily": (0, 6),
               "everyday": (0, 6)}
_ALWAYS_OPEN = {"24/7", "24x7", "24-7", "always", "always open", "open 24/7", "open 24 hours"}
_FILLER = {"from", "open", "opens", "at", "hours", "office"}
_CLOCK_TEXT = re.compile(r"^(\d{1,2})(?:[:.]?(\d{2}))?(am|pm|a|p)?$")
END_OF_DAY = time(0)  # as a closing time: midnight at the end of the day ("24:00")
FULL_DAY = (time(0), END_OF_DAY)


@dataclass(frozen=True)
class OpeningHours:
    """A Business Hours text as read: the hours per weekday, what could not be read (errors), and
    how an ambiguous part was read (notes, e.g. "9-5 read as 09:00-17:00")."""
    hours: dict[int, tuple[time, time]]
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _clock(text: str) -> tuple[int, str | None]:
    """'8', '0830', '8:30', '8.30', '8:30pm', 'noon', '24:00' -> (minutes since midnight, 'am'/'pm'/None)."""
    text = {"noon": "12pm", "midnight": "24:00"}.get(text, text)
    match = _CLOCK_TEXT.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a time of day")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if minute > 59 or hour > 24 or (hour == 24 and minute) or (half and not 1 <= hour <= 12):
        raise ValueError(f"{text!r} is not a time of day")
    if half:
        half = "pm" if half.startswith("p") else "am"
        hour = hour % 12 + (12 if half == "pm" else 0)
    return hour * 60 + minute, half


def _as_time(minutes: int) -> time:
    return END_OF_DAY if minutes == 24 * 60 else time(minutes // 60, minutes % 60)


def _shown(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def read_clock(text: str) -> time:
    """One time of day, as people type it ('8', '08:30', '8:30 pm', '24:00' = midnight); ValueError otherwise.
    Business Hours and Quiet Hours both read their times with it."""
    text = re.sub(r"\s+", "", text.strip().lower().replace("a.m.", "am").replace("p.m.", "pm"))
    return _as_time(_clock(text)[0])


def _opening_span(text: str, notes: list[str]) -> tuple[time, time]:
    """'08:00-18:00', '8am-6pm', '9-5', '00:00-24:00' -> (open, close). A closing time without am/pm
    that is not after the opening time is in the afternoon: '9-5' is 09:00-17:00 (and a note says so)."""
    parts = text.split("-")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"{text!r} is not an opening and a closing time (write it like 08:00-18:00)")
    (opens, open_half), (closes, close_half) = _clock(parts[0]), _clock(parts[1])
    if opens == 24 * 60:
        opens = 0
    if opens == closes == 0:
        return FULL_DAY  # "00:00-00:00"
    if open_half is None and close_half == "pm" and opens < 12 * 60 and opens + 12 * 60 < closes:
        opens += 12 * 60  # "1-9pm": 13:00-21:00
        notes.append(f"{text} read as {_shown(opens)}-{_shown(closes)}")
    elif close_half is None and closes <= opens <= 12 * 60 and closes + 12 * 60 > opens:
        closes += 12 * 60  # "9-5": 09:00-17:00
        notes.append(f"{text} read as {_shown(opens)}-{_shown(closes)}")
    if closes <= opens:
        raise ValueError(f"{text!r} closes before it opens (hours past midnight go on the next day's line)")
    return _as_time(opens), _as_time(closes)


def _day_spec(token: str) -> list[int] | None:
    """'mon', 'Monday', 'mon-fri', 'M-F', 'fri-mon', 'weekdays' -> weekday numbers; None if not days."""
    if token in _DAY_GROUPS:
        first, last = _DAY_GROUPS[token]
        return list(range(first, last + 1))
    first, dash, last = token.partition("-")
    if first not in _DAY_WORDS or (dash and last not in _DAY_WORDS):
        return None
    a, b = _DAY_WORDS[first], _DAY_WORDS[last or first]
    return [(a + i) % 7 for i in range((b - a) % 7 + 1)]


def read_business_hours(text: str) -> OpeningHours:
    """'Mon-Fri 08:00-18:00, Sat 9am-1pm', 'M-F 8-6', 'Mon - Fri 8:00 - 18:00', '24/7' -> hours per weekday.

    Days: names or abbreviations (Mon, Monday, Tu, Thurs, M-F), ranges, weekdays/weekends/daily.
    Times: 8, 08:00, 0800, 8am, 6:30 pm, noon, 24:00. Groups are separated by commas, semicolons or
    new lines; "Sat closed" closes a day; "24/7" or "Mon-Sun 00:00-24:00" is always open.
    """
    t = " ".join(text.lower().split())
    for old, new in (("–", "-"), ("—", "-"), ("−", "-"), ("a.m.", "am"), ("p.m.", "pm")):
        t = t.replace(old, new)
    if t.strip(" .!") in _ALWAYS_OPEN:
        return OpeningHours({day: FULL_DAY for day in range(7)})
    t = re.sub(r"\b(to|thru|through|till|until)\b", "-", t)
    t = re.sub(r"\s*&\s*|\band\b", ",", t)
    t = re.sub(r"\b(all day|24 ?hours|24 ?hrs|24h)\b", "00:00-24:00", t)
    t = re.sub(r"(\d)\s+(am|pm|a|p)\b", r"\1\2", t)
    t = re.sub(r"\s*-\s*", "-", t)
    hours: dict[int, tuple[time, time]] = {}
    errors: list[str] = []
    notes: list[str] = []
    pending: list[int] = []
    closed: set[int] = set()
    for token in (w.strip(".") for w in re.split(r"[\s,;/]+", t)):
        if not token or token in _FILLER:
            continue
        days = _day_spec(token)
        if days is not None:
            pending += days
        elif token in ("closed", "off"):
            closed.update(pending)
            pending = []
        elif any(ch.isdigit() for ch in token):
            try:
                span = _opening_span(token, notes)
            except ValueError as exc:
                errors.append(str(exc))
                pending = []
                continue
            if not pending:
                errors.append(f"{token!r} has no days before it (write it like Mon-Fri {token})")
            for day in pending:
                if day in hours and hours[day] != span:
                    notes.append(f"{DAY_TITLES[day]} is given twice; the last hours are used")
                hours[day] = span
            pending = []
        else:
            errors.append(f"cannot read {token!r} (days are Mon..Sun, times like 08:00)")
    if pending:
        errors.append(f"{', '.join(DAY_TITLES[d] for d in pending)}: no hours given (or write 'closed')")
    for day in closed:
        hours.pop(day, None)
    if not hours and not errors:
        errors.append("no day is open, so the speed clock would never run")
    return OpeningHours(hours, tuple(errors), tuple(notes))


def parse_business_hours(text: str) -> dict[int, tuple[time, time]]:
    """'Mon-Fri 08:00-18:00; Sat 09:00-12:00' -> {weekday: (open, close)}; ValueError naming what is unreadable."""
    read = read_business_hours(text)
    if read.errors:
        raise ValueError("; ".join(read.errors))
    return read.hours


def describe_hours(hours: dict[int, tuple[time, time]]) -> str:
    """{0: (08:00, 18:00), ...} -> 'Mon-Fri 08:00-18:00' (days with the same hours grouped)."""
    groups: list[tuple[list[int], tuple[time, time]]] = []
    for day in sorted(hours):
        if groups and groups[-1][1] == hours[day] and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], hours[day]))
    def span(opens: time, closes: time) -> str:
        return f"{opens:%H:%M}-{'24:00' if closes == END_OF_DAY else f'{closes:%H:%M}'}"
    return ", ".join((DAY_TITLES[d[0]] if len(d) == 1 else f"{DAY_TITLES[d[0]]}-{DAY_TITLES[d[-1]]}") + " "
                     + span(*s) for d, s in groups)


_YEARLY_FORMATS = ("%b %d", "%B %d", "%d %b", "%d %B", "%m/%d", "%m-%d")


def read_holidays(text: str) -> tuple[frozenset[date], frozenset[tuple[int, int]], tuple[str, ...]]:
    """'2026-12-25, Jan 1 2027, Dec 24' -> (dates, every-year (month, day) pairs, unreadable parts).

    A date without a year ('Dec 24', '12/24') is closed every year. Commas inside 'Jan 1, 2027'
    are understood; names like 'Thanksgiving' are not (they move every year): they are reported.
    """
    pieces: list[str] = []
    for part in re.split(r"[;\n]+", text):
        for piece in part.split(","):
            if re.fullmatch(r"\s*\d{4}\s*", piece) and pieces:
                pieces[-1] += " " + piece.strip()  # 'Jan 1, 2027'
            elif piece.strip():
                pieces.append(piece.strip())
    dates: set[date] = set()
    yearly: set[tuple[int, int]] = set()
    bad: list[str] = []
    for piece in pieces:
        cleaned = cells.date_words(piece)
        found = cells.parse_date(piece)
        if found is None and re.fullmatch(r"\d{5}(\.0+)?", piece):  # a sheet's date serial number
            found = cells.parse_date(float(piece))
        found = found or cells.parse_date_words(piece)
        if found is not None:
            dates.add(found)
            continue
        for fmt in _YEARLY_FORMATS:
            try:
                day = datetime.strptime(f"2000 {cleaned}", f"%Y {fmt}").date()  # 2000: Feb 29 exists
                yearly.add((day.month, day.day))
                break
            except ValueError:
                pass
        else:
            bad.append(piece)
    return frozenset(dates), frozenset(yearly), tuple(bad)


TIME_ZONE_ALIASES = {
    **dict.fromkeys(("eastern", "est", "edt", "et", "eastern time"), "America/New_York"),
    **dict.fromkeys(("central", "cst", "cdt", "ct", "central time"), "America/Chicago"),
    **dict.fromkeys(("mountain", "mst", "mdt", "mt", "mountain time"), "America/Denver"),
    **dict.fromkeys(("arizona",), "America/Phoenix"),
    **dict.fromkeys(("pacific", "pst", "pdt", "pt", "pacific time"), "America/Los_Angeles"),
    **dict.fromkeys(("alaska", "akst", "akdt", "alaska time"), "America/Anchorage"),
    **dict.fromkeys(("hawaii", "hst", "hawaii time"), "Pacific/Honolulu"),
}


def read_time_zone(text: str) -> ZoneInfo | None:
    """'America/Chicago', 'Central', 'EST' -> a zone ('EST' means New York's clock, daylight time included)."""
    name = TIME_ZONE_ALIASES.get(" ".join(text.lower().split()), text.strip())
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # 'America' names a folder of zones: IsADirectoryError
        return None


# ---- numbers, durations and yes/no, as owners type them ----------------------------------------
_UNITS = {w: i for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                                       "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                                       "seventeen", "eighteen", "nineteen"))}
_UNITS.update({"a": 1, "an": 1, "none": 0, "no": 0, "half": 0.5, "a half": 0.5, "dozen": 12, "a dozen": 12})
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
YES_WORDS = {"y", "yes", "true", "t", "1", "x", "on", "active", "enabled", "enable", "✓", "✔", "si", "yep", "ok"}
NO_WORDS = {"n", "no", "false", "f", "0", "off", "inactive", "disabled", "disable", "none", "nope", "-"}


def read_number(text: str) -> float:
    """'30', '1,200', '2.5', 'thirty', 'twenty-five', 'a hundred', 'a dozen' -> the number; ValueError otherwise.
    (The readers' ValueError says what is wrong without repeating the text: `check` puts the name and text first.)"""
    t = " ".join(str(text).strip().lower().replace(",", "").split())
    if not t:
        raise ValueError("is blank")
    try:
        return float(t)
    except ValueError:
        t = t.replace("-", " ")  # 'twenty-five'
    if t in _UNITS:
        return float(_UNITS[t])
    total, current, seen = 0.0, 0.0, False
    for word in t.replace(" and ", " ").split():
        if word in ("a", "an") and not seen:
            current, seen = 1.0, True
        elif word in _UNITS and word not in ("a", "an", "no", "none", "half", "a half", "a dozen"):
            current += _UNITS[word]
            seen = True
        elif word in _TENS:
            current += _TENS[word]
            seen = True
        elif word == "hundred" and seen:
            current *= 100
        elif word == "thousand" and seen:
            total, current = total + current * 1000, 0.0
        else:
            raise ValueError("is not a number")
    return total + current


def read_whole_number(text: str) -> int:
    """A count, 0 or more: '2', '2.0', 'two'; ValueError for '-1', '1.5', 'several'."""
    value = read_number(text)
    if value < 0 or value != int(value):
        raise ValueError("is not a whole number (0, 1, 2 ...)")
    return int(value)


_DURATION_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "wks": 604800, "week": 604800, "weeks": 604800,
    "mo": 2592000, "month": 2592000, "months": 2592000,  # a month counts as 30 days
}
_DURATION = re.compile(r"^(.*?)\s*([a-z]+)\.?$")


def read_duration(text: str, unit: str) -> float:
    """'30', '30 days', '2 weeks', 'thirty', '1 month', '90 sec', '2 minutes', '1.5h' -> a count of `unit`
    (seconds, minutes, hours, days); a bare number is already in `unit`. ValueError otherwise."""
    t = " ".join(str(text).strip().lower().split())
    scale = _DURATION_UNITS[unit]
    try:
        value = read_number(t)
    except ValueError:
        match = _DURATION.match(t)
        if not match or match.group(2) not in _DURATION_UNITS:
            raise ValueError(f"is not a number of {unit} (write it like 30 or 30 {unit})") from None
        amount = match.group(1).strip() or "1"  # 'a week', 'week'
        try:
            value = read_number(amount) * _DURATION_UNITS[match.group(2)] / scale
        except ValueError:
            raise ValueError(f"is not a number of {unit} (write it like 30 or 30 {unit})") from None
    if value < 0:
        raise ValueError("is less than nothing")
    return value


def read_yes_no(text: str) -> bool:
    """'Y', 'yes', 'True', 'on', 'x' -> True; 'N', 'no', 'off' -> False; ValueError otherwise."""
    t = str(text).strip().lower().rstrip(".!")
    if t in YES_WORDS:
        return True
    if t in NO_WORDS:
        return False
    raise ValueError("is not yes or no (write Y or N)")
