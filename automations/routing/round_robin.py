"""Round-robin: the next available producer after the last one assigned, in tab order.

The pointer is the name of the last producer this model assigned. A producer back from
time off is simply in the rotation again at their place in the tab: no catch-up burst.
The territory model's fallback rotates with the same pointer over a narrower group.
"""
from __future__ import annotations

from datetime import date
from functools import partial
from typing import Iterable

from sheets_schema.models import Lead, Producer

from ..config import AgencyConfig
from ..ports import ProducerLoad
from .availability import NO_LOAD, Screen, screen
from .decision import Decision

POINTER = "round_robin_pointer"


def next_in_rotation(roster: list[Producer], eligible: Iterable[Producer],
                     last: str) -> tuple[Producer | None, list[Producer]]:
    """The first eligible producer after `last` in tab order, and those passed over on the way."""
    allowed = {p.name for p in eligible}
    names = [p.name for p in roster]
    start = names.index(last) + 1 if last in names else 0
    order = roster[start:] + roster[:start]
    for i, p in enumerate(order):
        if p.name in allowed:
            return p, order[:i]
    return None, order


def route(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], state: dict[str, str],
          today: date, model: str = "round_robin") -> Decision | None:
    roster = list(config.producers)
    result = screen(roster, lead, loads, today)
    if not result.available:
        return None
    last = state.get(POINTER, "")
    chosen, passed = next_in_rotation(roster, result.available, last)
    skipped = [f"{p.name} ({result.why_not(p.name)})" for p in passed
               if result.why_not(p.name) and p.role == "Producer"]
    after = f" after {last}" if any(p.name == last for p in roster) else ""
    reason = f"{model}: {chosen.name} is next in rotation{after}"
    if skipped:
        reason += "; skipped " + ", ".join(skipped)
    table = partial(rotation_table, roster, result, loads, chosen)
    return Decision(chosen.name, reason, model, table, {POINTER: chosen.name})


def rotation_table(roster: list[Producer], result: Screen, loads: dict[str, ProducerLoad],
                   chosen: Producer, not_eligible: dict[str, str] | None = None) -> tuple[dict, ...]:
    rows = []
    for p in roster:
        if p.role != "Producer":
            continue
        why = result.why_not(p.name) or (not_eligible or {}).get(p.name, "")
        verdict = "winner" if p.name == chosen.name else (why or "later in rotation")
        rows.append({"producer": p.name, "open": loads.get(p.name, NO_LOAD).active,
                     "available": "no" if result.why_not(p.name) else "yes", "verdict": verdict})
    return tuple(rows)
