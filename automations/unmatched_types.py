"""Insurance types leads asked for that no Lines row (name or alias) matches: kept as typed on
the lead, listed by `leadrouter check` and the dashboard so the owner adds an alias."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from sheets_schema.models import Lead

from automations.config import AgencyConfig


def unmatched_types(leads: Iterable[Lead], config: AgencyConfig) -> list[tuple[str, int]]:
    """(answer as typed, how many leads) for answers matching no Lines row, most frequent first."""
    counts = Counter(lead.insurance_type.strip() for lead in leads
                     if lead.insurance_type.strip() and config.line_of(lead.insurance_type) is None)
    return counts.most_common()


def unmatched_message(answer: str, count: int) -> str:
    return (f"insurance type {answer!r} ({count} lead{'s' if count != 1 else ''}) matches no Lines row: add it "
            "to a row's Aliases (e.g. Home) so such leads get their line")
