"""Who may take a lead right now: one filter shared by every routing model.

A producer is available when Active, not out of office, under their Max Active Leads,
licensed in the lead's state, and a Producer (CSRs only take existing clients; managers
only get alerts and last-resort leads). Each exclusion carries its reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sheets_schema.models import Lead, Producer

from ..ports import ProducerLoad


NO_LOAD = ProducerLoad()  # the load of someone with no leads; shared, so never mutated


@dataclass(frozen=True)
class Screen:
    available: list[Producer]
    excluded: dict[str, str]  # name -> why not

    def why_not(self, name: str) -> str:
        return self.excluded.get(name, "")


def unavailable_reason(p: Producer, lead: Lead, load: ProducerLoad, today: date, *, cap: bool = True,
                       roles: tuple[str, ...] = ("Producer",)) -> str:
    """Empty when the producer may take the lead; otherwise why not."""
    if p.role not in roles:
        return "CSR: existing clients only" if p.role == "CSR" else f"{p.role}: not in rotation"
    if not p.is_active:
        return "inactive"
    if p.is_out(today):
        return f"out until {p.out_until.isoformat()}"
    if p.licensed_states and lead.state and lead.state.upper() not in {s.upper() for s in p.licensed_states}:
        return f"not licensed in {lead.state}"
    if cap and p.max_active_leads is not None and load.active >= p.max_active_leads:
        return f"at cap ({load.active}/{p.max_active_leads} open leads)"
    return ""


def screen(producers: tuple[Producer, ...] | list[Producer], lead: Lead, loads: dict[str, ProducerLoad],
           today: date, *, cap: bool = True, roles: tuple[str, ...] = ("Producer",)) -> Screen:
    available, excluded = [], {}
    for p in producers:
        why = unavailable_reason(p, lead, loads.get(p.name, NO_LOAD), today, cap=cap, roles=roles)
        if why:
            excluded[p.name] = why
        else:
            available.append(p)
    return Screen(available, excluded)


def is_available(p: Producer, lead: Lead, loads: dict[str, ProducerLoad], today: date) -> bool:
    return not unavailable_reason(p, lead, loads.get(p.name, NO_LOAD), today)
