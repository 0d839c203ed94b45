"""Round-robin: the next available producer after the last one assigned, in tab order.

The pointer is the last producer this model assigned and where they stood on the tab
("Rachel T. (#3 of 6)"): when that row is deleted or renamed, the rotation goes on from
that place instead of restarting at the top (which would cost everyone below their turn).
A producer back from time off is simply in the rotation again at their place in the tab:
no catch-up burst. By default the rotation is among the available producers who write the
lead's line (when any does), as reassignment does; Settings -> Round Robin Lines = any makes it
the guide's pure rotation among everyone available. The reason says which. The territory model's fallback rotates with the same pointer over a
narrower group.
"""
from __future__ import annotations

import re
from datetime import date
from functools import partial
from typing import Iterable

from sheets_schema.models import Lead, Producer

from ..config import AgencyConfig
from ..ports import ProducerLoad
from .availability import NO_LOAD, Screen, screen
from .decision import Decision
from .lines import lead_line

POINTER = "round_robin_pointer"
_POSITION = re.compile(r"(.*) \(#(\d+) of (\d+)\)")


def pointer(roster: list[Producer], chosen: Producer) -> str:
    """The pointer to save after `chosen` got a lead: 'Rachel T. (#3 of 6)'."""
    position = next((i for i, p in enumerate(roster) if p.name == chosen.name), 0)
    return f"{chosen.name} (#{position + 1} of {len(roster)})"


def read_pointer(text: str) -> tuple[str, int | None, int | None]:
    """(name, 1-based position, roster size) of a saved pointer; a bare name (older pointers) has no position."""
    match = _POSITION.fullmatch(text or "")
    if match is None:
        return (text or "").strip(), None, None
    return match.group(1), int(match.group(2)), int(match.group(3))


def _start(roster: list[Producer], last: str) -> int:
    """Where the rotation resumes: after the pointer's producer, or at their old place when they are gone."""
    name, position, size = read_pointer(last)
    names = [p.name for p in roster]
    if name in names:
        return names.index(name) + 1
    if position is None or not roster:
        return 0
    # a deleted row: the next producer moved up into its place; a renamed one still holds it
    start = position - 1 if size is not None and len(roster) < size else position
    return start if start < len(roster) else 0


def next_in_rotation(roster: list[Producer], eligible: Iterable[Producer],
                     last: str) -> tuple[Producer | None, list[Producer]]:
    """The first eligible producer after the pointer `last` in tab order, and those passed over on the way."""
    allowed = {p.name for p in eligible}
    start = _start(roster, last)
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
    group, among, not_writing = by_line(lead, config, result.available)
    chosen, passed = next_in_rotation(roster, group, last)
    skipped = [f"{p.name} ({result.why_not(p.name) or not_writing[p.name]})" for p in passed
               if (result.why_not(p.name) or p.name in not_writing) and p.role == "Producer"]
    name, position, _ = read_pointer(last)
    if any(p.name == name for p in roster):
        after = f" after {name}"
    elif position is not None:
        after = f" from #{position}, where {name} stood (no longer on the Producers tab)"
    else:
        after = ""
    reason = f"{model}: {chosen.name} is next in rotation{among}{after}"
    if skipped:
        reason += "; skipped " + ", ".join(skipped)
    table = partial(rotation_table, roster, result, loads, chosen, not_writing)
    return Decision(chosen.name, reason, model, table, {POINTER: pointer(roster, chosen)})


def by_line(lead: Lead, config: AgencyConfig, available: list[Producer]) -> tuple[list[Producer], str, dict[str, str]]:
    """Who rotates for this lead, how the reason says it, and {name: why passed over} for those left out."""
    if config.settings.value("Round Robin Lines") == "any":
        return available, " among everyone available (Round Robin Lines = any)", {}
    line = lead_line(lead, config)
    writers = [p for p in available if line.line and line.level(p.lines) == "line"]
    if not writers:
        why = f"no available producer writes {line.line}" if line.line else \
            f"{lead.insurance_type or 'the type'} is on no row of the Lines tab"
        return available, f" among everyone available ({why})", {}
    names = {p.name for p in writers}
    left_out = {p.name: f"does not write {line.line}" for p in available if p.name not in names}
    return writers, f" among producers who write {line.line}", left_out


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
