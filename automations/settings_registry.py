"""Every Settings row the service reads: what it means, how its text is read, what an unreadable one means.

One registry serves both sides: `Settings.value(name)` reads a cell with the setting's reader
and falls back to the documented default (DEFAULT_SETTINGS) when the text cannot be read —
never to 0 or "off" — and `Settings.unreadable()` names every such cell, which `leadrouter
check` lists. A setting added to DEFAULT_SETTINGS without an entry here still gets a reader
chosen from its default's shape (a number, Y/N, or free text), so it is covered too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from sheets_schema.tabs import ROUTING_MODELS

from automations.contact import normalize_phone
from automations.settings_text import (
    NO_WORDS, YES_WORDS, read_business_hours, read_clock, read_duration, read_holidays, read_number,
    read_time_zone, read_whole_number, read_yes_no,
)

Reader = Callable[[str], Any]  # raises ValueError(why) when the text cannot be read as meant


@dataclass(frozen=True)
class SettingSpec:
    name: str
    meaning: str
    read: Reader
    # how a problem reads in `check`; {name} {text} {why} {default}
    message: str = "{name} {text!r} {why}; {default} is used"
    free_text: bool = False  # any text is a valid value (names, addresses): nothing to misread

    def problem(self, text: str, default: str) -> str | None:
        """The sentence `check` shows when `text` cannot be read; None when it can."""
        try:
            self.read(text)
        except ValueError as exc:
            return self.message.format(name=self.name, text=text, why=str(exc), default=default or "(blank)")
        return None


def _text(text: str) -> str:
    return text.strip()


def _time_zone(text: str):
    zone = read_time_zone(text)
    if zone is None:
        raise ValueError("is not a time zone (write it like America/Chicago)")
    return zone


def _business_hours(text: str):
    read = read_business_hours(text)
    if read.errors:
        raise ValueError("; ".join(read.errors))
    return read.hours


def _holidays(text: str):
    dates, yearly, bad = read_holidays(text)
    if bad:
        raise ValueError(f"{', '.join(repr(b) for b in bad)} not a date (write it like 2026-12-25, or Dec 25 for "
                         "every year)")
    return dates, yearly


def routing_model_name(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def _routing_model(text: str) -> str:
    name = {"roundrobin": "round_robin", "rotation": "round_robin", "rr": "round_robin",
            "territories": "territory", "score": "weighted", "scored": "weighted"}.get(routing_model_name(text),
                                                                                      routing_model_name(text))
    if name not in ROUTING_MODELS:
        raise ValueError(f"is not one of {', '.join(ROUTING_MODELS)}")
    return name


_SPAN = re.compile(r"\s*(?:-|–|—|\bto\b|\buntil\b)\s*")


def quiet_hours_span(text: str):
    """'21:00-08:00', '9pm-8am', '9 pm to 8 am' -> (start, end) as written (the law's limits are applied by
    automations.notify.quiet_hours)."""
    parts = _SPAN.split(text.strip(), maxsplit=1)
    try:
        if len(parts) != 2:
            raise ValueError
        return read_clock(parts[0]), read_clock(parts[1])
    except ValueError:
        raise ValueError("is not readable (write it like 21:00-08:00)") from None


def _days(text: str) -> float:
    return read_duration(text, "days")


def _seconds(text: str) -> float:
    return read_duration(text, "seconds")


def _phone(text: str) -> str:
    if text.strip() and not normalize_phone(text):
        raise ValueError("is not a phone number (write it like (555) 010-2000)")
    return text.strip()


def _url(text: str) -> str:
    if text.strip() and not text.strip().lower().startswith(("https://", "http://")):
        raise ValueError("is not an http(s) address: unsubscribe links and Twilio signatures need one")
    return text.strip().rstrip("/")


def _territory_fallback(text: str) -> str:
    return text.strip()  # a rotation word or a producer's name: `check` compares it with the Producers tab


def _round_robin_lines(text: str) -> str:
    t = " ".join(text.strip().lower().replace("'", "").split())
    if t in ("line", "lines", "by line", "same line", "matching", "matching line", "leads line", "y", "yes"):
        return "line"
    if t in ("any", "all", "anyone", "everyone", "pure", "rotation", "n", "no", "off"):
        return "any"
    raise ValueError("is not line or any")


SPECS: dict[str, SettingSpec] = {s.name.lower(): s for s in (
    SettingSpec("Agency Name", "the agency's name in texts, emails and pages", _text, free_text=True),
    SettingSpec("Agency Phone", "the number texts and emails give leads to call back", _phone),
    SettingSpec("Time Zone", "the agency's clock: business hours, today's figures, times shown to people", _time_zone),
    SettingSpec("Business Hours", "when the speed clock runs (a lead at 2 a.m. starts its clock at opening)",
                _business_hours, message="{name} {text!r}: {why}. The default {default} is used until it is fixed"),
    SettingSpec("Holidays", "days the office is closed (dates, or 'Dec 24' for every year)", _holidays,
                message="{name}: {why}; the office counts as open that day"),
    SettingSpec("Routing Model", "who gets a new lead: round_robin, territory or weighted", _routing_model),
    SettingSpec("Duplicate Window", "how long the same phone or email counts as the same lead ('30 days', "
                                    "'2 weeks'); a bare number is days", _days,
                message="{name} {text!r} {why}; {default} days is used"),
    SettingSpec("Quiet Hours", "no texts to leads in this window, their local time (never wider than "
                               "21:00-08:00)", quiet_hours_span),
    SettingSpec("Tick Seconds", "how often the speed clock looks at open leads ('30', '1 minute'); at least 5",
                _seconds, message="{name} {text!r} {why}; {default} seconds is used"),
    SettingSpec("Territory Fallback", "where a ZIP outside every territory goes: round_robin or a producer's "
                                      "name", _territory_fallback, free_text=True),
    SettingSpec("Max Reassignments", "how many times one lead may be reassigned by the speed clock",
                read_whole_number),
    SettingSpec("Default Source", "the source of a lead that names none", _text, free_text=True),
    SettingSpec("Public URL", "where the internet reaches this service (unsubscribe links, Twilio)", _url),
    SettingSpec("Round Robin Lines", "line: round-robin rotates among producers who write the lead's line (when "
                                     "anyone available does); any: among everyone available", _round_robin_lines),
)}


def _inferred(name: str, default: str) -> SettingSpec:
    """A setting nobody registered: read it the way its default is written."""
    d = default.strip().lower()
    if d in YES_WORDS | NO_WORDS and not d.isdigit():
        return SettingSpec(name, "yes or no", read_yes_no)
    try:
        value = read_number(d)
    except ValueError:
        return SettingSpec(name, "text", _text, free_text=True)
    return SettingSpec(name, "a whole number", read_whole_number) if value == int(value) \
        else SettingSpec(name, "a number", read_number)


def spec_for(name: str, default: str = "") -> SettingSpec:
    """The registered spec of `name` (any case), else one inferred from its default."""
    return SPECS.get(name.strip().lower()) or _inferred(name, default)
