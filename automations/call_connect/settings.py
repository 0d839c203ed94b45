"""The Call Connect settings, read as an owner types them ('Y', '2 minutes', '90 seconds').

A value that cannot be read falls back to its documented default and is named in `problems`
(listed by `leadrouter check`), never silently 0 or off.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from automations.config import DEFAULT_SETTINGS, Settings

YES = {"y", "yes", "true", "1", "on", "x"}
NO = {"n", "no", "false", "0", "off", ""}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|"
                       r"hours)?\s*$", re.IGNORECASE)


def read_seconds(text: str, unit: str = "minutes") -> float | None:
    """'2', '2 minutes', '90 sec', '1.5 min' -> seconds (a bare number is in `unit`); None when unreadable."""
    match = _DURATION.match(text or "")
    if not match:
        return None
    value, word = float(match.group(1)), (match.group(2) or unit).lower()
    scale = 1 if word.startswith("s") else 3600 if word.startswith("h") else 60
    return value * scale


@dataclass(frozen=True)
class CallSettings:
    enabled: bool = False
    offer_window: timedelta = timedelta(minutes=2)
    contact_seconds: float = 30.0
    max_offers: int = 3
    problems: tuple[str, ...] = field(default=())

    @classmethod
    def from_settings(cls, settings: Settings) -> "CallSettings":
        problems: list[str] = []

        def fallback(name: str, text: str, what: str) -> str:
            problems.append(f"{name} {text!r} is not {what}; {DEFAULT_SETTINGS[name]!r} is used")
            return DEFAULT_SETTINGS[name]

        switch = settings.get("Call Connect").strip().lower()
        if switch not in YES | NO:
            fallback("Call Connect", switch, "Y or N")
            switch = "n"
        window_text = settings.get("Offer Window")
        window = read_seconds(window_text, "minutes")
        if window is None or window <= 0:
            window = read_seconds(fallback("Offer Window", window_text, "a time such as 2 minutes"))
        contact_text = settings.get("Call Contact Seconds")
        contact = read_seconds(contact_text, "seconds")
        if contact is None or contact <= 0:
            contact = read_seconds(fallback("Call Contact Seconds", contact_text, "a number of seconds"), "seconds")
        offers_text = settings.get("Max Offers")
        try:
            offers = int(float(offers_text))
            if offers < 1 or offers != float(offers_text):
                raise ValueError
        except ValueError:
            offers = int(fallback("Max Offers", offers_text, "a whole number of 1 or more"))
        return cls(switch in YES, timedelta(seconds=window), contact, offers, tuple(problems))
