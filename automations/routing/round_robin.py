"""Round-robin: the next available producer after the last one assigned, in tab order.

The pointer is the name of the last producer this model assigned. A producer back from
time off is simply in the rotation again at their place in the tab: no catch-up burst.
"""
from __future__ import annotations

from datetime import date

from sheets_schema.models import Lead

from ..config import AgencyConfig
from ..ports import ProducerLoad
from .availability import screen
from .decision import Decision

POINTER = "round_robin_pointer"


def route(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], state: dict[str, str],
          today: date, model: str = "round_robin") -> Decision | None:
    roster = list(config.producers)
    result = screen(roster, lead, loads, today)
    if not result.available:
        return None
    names = [p.name for p in roster]
    last = state.get(POINTER, "")
    start = names.index(last) + 1 if last in names else 0
    order = roster[start:] + roster[:start]
    chosen = next(p for p in order if p in result.available)
    skipped = [f"{p.name} ({result.why_not(p.name)})" for p in order[:order.index(chosen)]
               if result.why_not(p.name) and p.role == "Producer"]
    reason = f"{model}: {chosen.name} is next in rotation" + (f" after {last}" if last in names else "")
    if skipped:
        reason += "; skipped " + ", ".join(skipped)
    table = tuple({"producer": p.name, "available": p in result.available, "why_not": result.why_not(p.name),
                   "open_leads": loads.get(p.name, ProducerLoad()).active} for p in roster)
    return Decision(chosen.name, reason, model, table, {POINTER: chosen.name})
