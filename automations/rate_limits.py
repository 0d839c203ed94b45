"""Rate limits and caps: how many posts or texts a window allows, read forgivingly from Settings.

A limit is a count per fixed window on a key ("ip:203.0.113.9", "contact:+12015550142"),
counted by the store (`Store.hit`) so that every web worker and host sharing the store shares
the count. Over a limit a post is refused with 429 and Retry-After, and nothing is stored.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from automations.config import DEFAULT_SETTINGS, Settings

# Settings (and their defaults, in DEFAULT_SETTINGS): a whole number; 0, "off" or "none" = no limit
FORM_POSTS_PER_MINUTE = "Form Posts Per Minute"  # public posts per client IP
CONTACT_POSTS_PER_HOUR = "Form Posts Per Contact Per Hour"  # public posts naming one phone or email
VENDOR_POSTS_PER_MINUTE = "Vendor Posts Per Minute"  # posts per vendor API key
LEAD_TEXTS_PER_HOUR = "Lead Texts Per Hour Per Source"  # automated texts to leads, per lead source
RATE_SETTINGS = (FORM_POSTS_PER_MINUTE, CONTACT_POSTS_PER_HOUR, VENDOR_POSTS_PER_MINUTE, LEAD_TEXTS_PER_HOUR)
_OFF = {"0", "off", "none", "no", "no limit", "unlimited", "n"}
_NUMBER = re.compile(r"^\s*(\d+)(?:\.0+)?\s*(?:/|per\b|a\b|an\b|each\b|posts?\b|texts?\b|$)", re.I)

Hit = Callable[[str, datetime, float], tuple[int, datetime]]  # Store.hit


def read_rate(text: str) -> int | None:
    """'20', '20 per minute', '20/min' -> 20; '0', 'off', 'none' -> 0 (no limit); unreadable -> None."""
    value = (text or "").strip().lower()
    if value in _OFF:
        return 0
    match = _NUMBER.match(value)
    return int(match.group(1)) if match else None


def rate_setting(settings: Settings, name: str) -> int:
    """The Setting as a whole number; unreadable means the documented default (never 'off')."""
    value = read_rate(settings.get(name))
    return int(DEFAULT_SETTINGS[name]) if value is None else value


def rate_problems(settings: Settings) -> list[str]:
    """The rate Settings that are not used as written (for `leadrouter check`)."""
    return [f"{name} {settings.get(name)!r} is not a whole number; {DEFAULT_SETTINGS[name]} is used"
            for name in RATE_SETTINGS if read_rate(settings.get(name)) is None]


@dataclass(frozen=True)
class Limit:
    key: str  # what is counted, e.g. "ip:203.0.113.9"
    count: int  # allowed per window; 0 = no limit
    seconds: float  # the window
    setting: str  # the Setting that says so, for the reason


@dataclass(frozen=True)
class Refusal:
    limit: Limit
    retry_after: int  # whole seconds until the window ends (at least 1)

    @property
    def reason(self) -> str:
        return f"too many posts: {self.limit.setting} is {self.limit.count}; retry in {self.retry_after} s"


def over_limit(limits: list[Limit], hit: Hit, now: datetime) -> Refusal | None:
    """Count this event against each limit in turn; the first one exceeded refuses it."""
    for limit in limits:
        if limit.count <= 0:
            continue
        hits, ends = hit(limit.key, now, limit.seconds)
        if hits > limit.count:
            return Refusal(limit, max(1, math.ceil((ends - now).total_seconds())))
    return None


def client_limits(settings: Settings, client_ip: str, vendor: str) -> list[Limit]:
    """Before the body is read: per vendor key, else per client IP (public posts)."""
    if vendor:
        return [Limit(f"vendor:{vendor}", rate_setting(settings, VENDOR_POSTS_PER_MINUTE), 60,
                      VENDOR_POSTS_PER_MINUTE)]
    return [Limit(f"ip:{client_ip}", rate_setting(settings, FORM_POSTS_PER_MINUTE), 60, FORM_POSTS_PER_MINUTE)]


def contact_limits(settings: Settings, phone: str, email: str) -> list[Limit]:
    """After validation, public posts only: per phone and per email named (one person, many IPs)."""
    count = rate_setting(settings, CONTACT_POSTS_PER_HOUR)
    return [Limit(f"contact:{value}", count, 3600, CONTACT_POSTS_PER_HOUR) for value in (phone, email.lower())
            if value]
