"""Lines of business: which line a lead is, and whether a producer or territory covers it.

The Lines tab maps an insurance type (what the form asks: Auto, BOP ...) to its line
(Personal, Commercial ...) and related lines. People write lines loosely in the other
tabs ("Personal Lines", "Small Commercial", "Personal + Commercial"), so a line is covered
by an entry when every word of the line appears in the entry, ignoring "line(s)".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from sheets_schema.models import Lead

from ..config import AgencyConfig

_NOISE = {"line", "lines", "of", "business", "insurance"}


@lru_cache(maxsize=4096)
def words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _NOISE)


def covers(entries: Iterable[str], line: str) -> bool:
    """True when one of `entries` names `line` ('Small Commercial' covers 'Commercial')."""
    wanted = words(line)
    return bool(wanted) and any(wanted <= words(e) for e in entries)


@dataclass(frozen=True)
class LeadLine:
    """The lead's line and the lines related to it (from the Lines tab)."""
    line: str
    related: tuple[str, ...] = ()

    def level(self, entries: Iterable[str]) -> str:
        """'line' when the entries cover the line, 'related' for a related line, else 'none'."""
        return _level(self.line, self.related, tuple(entries))


@lru_cache(maxsize=4096)
def _level(line: str, related: tuple[str, ...], entries: tuple[str, ...]) -> str:
    if line and covers(entries, line):
        return "line"
    if any(covers(entries, r) for r in related):
        return "related"
    return "none"


def lead_line(lead: Lead, config: AgencyConfig) -> LeadLine:
    """The Lines-tab row of the lead's insurance type; a type typed as a line ('Commercial') counts too."""
    row = config.line_of(lead.insurance_type) if lead.insurance_type else None
    if row is not None:
        return LeadLine(row.line or lead.line, tuple(row.related_lines))
    if lead.line:
        return LeadLine(lead.line)
    if lead.insurance_type and any(covers([l.line], lead.insurance_type) for l in config.lines if l.line):
        return LeadLine(lead.insurance_type.strip())
    return LeadLine("")
