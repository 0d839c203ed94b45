"""Insurance-type answers as people give them ('Homeowners', 'Car / Auto', 'Business Owners
Policy (BOP)') matched to the Lines tab: by the row's own name, its Aliases column, then a
built-in set of common answers the owner does not have to type. Shared by intake (what the lead
asked for) and routing (which line that is)."""
from __future__ import annotations

from functools import lru_cache

import re
from typing import Iterable

from sheets_schema.models import LineDef

# Insurance Type -> answers that mean it; an owner's Aliases add to these, never replace them.
DEFAULT_LINE_ALIASES: dict[str, tuple[str, ...]] = {
    "Home": ("homeowners", "homeowner", "homeowners insurance", "home insurance", "house", "house insurance",
             "homeowners policy", "ho3", "ho 3", "dwelling", "property home"),
    "Auto": ("car", "car auto", "car insurance", "auto insurance", "vehicle", "vehicle insurance", "automobile",
             "personal auto", "car truck"),
    "Renters": ("renters insurance", "renter", "renters", "tenant", "tenants insurance", "apartment", "ho4"),
    "Condo": ("condo insurance", "condominium", "ho6"),
    "Umbrella": ("umbrella insurance", "personal umbrella", "umbrella policy"),
    "Motorcycle": ("motorcycle insurance", "bike", "motorbike"),
    "BOP": ("business owners policy", "business owners policy bop", "businessowners policy",
            "business owner s policy", "business insurance", "small business insurance"),
    "General Liability": ("gl", "liability", "general liability insurance", "cgl"),
    "Workers Comp": ("workers compensation", "workers comp insurance", "work comp", "workman s comp",
                     "workers compensation insurance"),
    "Commercial Auto": ("business auto", "commercial vehicle", "fleet", "commercial auto insurance"),
    "Commercial Property": ("business property", "commercial property insurance", "building"),
    "Life": ("life insurance", "term life", "whole life", "final expense"),
    "Health": ("health insurance", "medical", "medical insurance"),
}


@lru_cache(maxsize=8192)
def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", str(text).lower()).split())


@lru_cache(maxsize=8192)
def _bare(text: str) -> str:
    """'Homeowners insurance' and 'Homeowners' are the same answer."""
    return " ".join(w for w in _norm(text).split() if w not in ("insurance", "policy", "coverage", "quote"))


def find_line(lines: Iterable[LineDef], answer: str) -> LineDef | None:
    """The Lines row an answer means; None when nothing matches (the answer is then kept as typed)."""
    rows = list(lines)
    wanted, bare = _norm(answer), _bare(answer)
    if not wanted:
        return None
    for row in rows:  # the row's own name, then the owner's aliases
        if wanted in {_norm(row.insurance_type), *(_norm(a) for a in row.aliases)}:
            return row
    for row in rows:
        if bare and bare in {_bare(row.insurance_type), *(_bare(a) for a in row.aliases)}:
            return row
    by_name = {_norm(row.insurance_type): row for row in rows}
    for name, aliases in DEFAULT_LINE_ALIASES.items():
        row = by_name.get(_norm(name))
        if row is not None and (wanted in aliases or (bare and bare in {_bare(a) for a in aliases})):
            return row
    if "," in answer or "/" in answer or ";" in answer:  # 'Auto, Home' (a checkbox list): the first that matches
        for part in re.split(r"[,;/]", answer):
            row = find_line(rows, part) if part.strip() and part.strip() != answer.strip() else None
            if row is not None:
                return row
    return None
