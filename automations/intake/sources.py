"""Source attribution: which Sources row a lead came from (utm_source, 'how did you hear', a vendor key).

The public types what it likes into utm_source and "how did you hear", so what it types
may choose among the owner's sources but never invent one, nor raise a lead's priority:
- a vendor's API key establishes its source (a Sources row of that name or alias, else its
  own name) with that row's Priority;
- a public answer that contains a source's name or one of its Aliases counts for that
  source; an answer that matches nothing counts under one row, UNMATCHED, and the raw answer
  is kept on the lead (How Heard, or Notes) — no new report row per visitor's wording;
- Priority High comes only from a vendor key or from an owner-configured alias (the
  Aliases column): a visitor typing the name of a High-priority source gets Normal.
"""
from __future__ import annotations

from dataclasses import dataclass

from sheets_schema.models import Source

from automations.config import AgencyConfig
from .payload import norm

UNMATCHED = "Other (unmatched)"


@dataclass(frozen=True)
class Attribution:
    source: str  # the lead's Source
    row: Source | None  # the Sources row it counts under (None: unmatched or a vendor without a row)
    priority: str  # High / Normal
    reason: str  # why, for people


def attribute_lead(hint: str, config: AgencyConfig, *, vendor: str = "") -> Attribution:
    """Who sent this lead and how urgent it is, by the rules in the module docstring."""
    if vendor:
        found = _match(vendor, config)
        if found is None:
            return Attribution(vendor, None, "Normal", f"vendor key {vendor!r} (no Sources row of that name)")
        row, _ = found
        return Attribution(row.source, row, _priority(row), f"vendor key {vendor!r}")
    text = (hint or "").strip()
    if not text:
        default = config.settings.default_source
        found = _match(default, config)
        return (Attribution(found[0].source, found[0], _priority(found[0]), "no answer: Default Source")
                if found else Attribution(default, None, "Normal", "no answer: Default Source"))
    found = _match(text, config)
    if found is None:
        return Attribution(UNMATCHED, None, "Normal", "the answer matches no source or alias")
    row, by_alias = found
    if by_alias:
        return Attribution(row.source, row, _priority(row), "an alias on the Sources tab")
    return Attribution(row.source, row, "Normal", "the source's name typed by the public (priority from aliases only)")


def attribute(hint: str, config: AgencyConfig, vendor: str = "") -> tuple[str, Source | None]:
    """(Source name, its Sources row or None): `attribute_lead` without the priority."""
    found = attribute_lead(hint, config, vendor=vendor)
    return found.source, found.row


def _priority(row: Source) -> str:
    return "High" if row.is_high_priority else "Normal"


def _match(hint: str, config: AgencyConfig) -> tuple[Source, bool] | None:
    """The Sources row whose name or an alias appears in the hint, and whether an alias did it.

    People write sentences ('A friend - referral', 'my agent referred me', 'Google search'), so
    a name or alias counts as a whole word or phrase anywhere in the hint, and the longest one
    found wins: 'google search' (Website) beats 'google' (Google Ads). Ties go to the row
    listed first on the Sources tab; on one row, an alias beats the name.
    """
    words = norm(hint).split()
    best: tuple[int, Source, bool] | None = None
    for source in config.sources:
        for name, by_alias in [(a, True) for a in source.aliases] + [(source.source, False)]:
            phrase = norm(name).split()
            size = len(" ".join(phrase))
            if phrase and (best is None or size > best[0]) and _contains(words, phrase):
                best = (size, source, by_alias)
    return (best[1], best[2]) if best else None


def _contains(words: list[str], phrase: list[str]) -> bool:
    """Whether `phrase` occurs in `words` as consecutive whole words."""
    n = len(phrase)
    return any(words[i:i + n] == phrase for i in range(len(words) - n + 1))
