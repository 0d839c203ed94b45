"""A lead nobody can take: kept, and said out loud until someone fixes the Producers tab.

`decide()` gives a lead to the manager (or a last resort) when no producer can take it; only
when the tab lists nobody who could answer for it (no active Producer, no Manager, no CSR in)
does a lead stay without an owner. Such a lead is stored, never dropped, and these sentences
are what the post's log line, every tick and /healthz say about it.
"""
from __future__ import annotations

from typing import Iterable

from sheets_schema.models import Lead

from ..config import AgencyConfig

OWNERLESS_STATE = "ownerless_leads"  # the Lead IDs the last tick found without an owner (for /healthz)


def nobody_can_take(config: AgencyConfig) -> str:
    """'' when a new lead would get an owner; else why not, in one sentence."""
    if config.managers or any(p.is_active and p.role in ("Producer", "CSR") for p in config.producers):
        return ""
    return ("nobody on the Producers tab can take a lead (no active Producer, no Manager): new leads are kept "
            "without an owner until you add one")


def ownerless(leads: Iterable[Lead]) -> list[str]:
    """Lead IDs of open leads nobody owns."""
    return [lead.lead_id for lead in leads if not lead.assigned_to.strip() and lead.status in ("", "New")]


def ownerless_alert(lead_ids: list[str]) -> str:
    """The loud line for the log, `tick` and /healthz ('' when every lead has an owner)."""
    if not lead_ids:
        return ""
    shown = ", ".join(lead_ids[:10]) + (f" and {len(lead_ids) - 10} more" if len(lead_ids) > 10 else "")
    return (f"{len(lead_ids)} lead(s) have NO OWNER and nobody is working them: {shown}. Add an active Producer "
            "or a Manager on the Producers tab, then put a name in each lead's Assigned To")
