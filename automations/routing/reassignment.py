"""Who takes a lead its owner did not contact in 30 minutes (the guide's reassignment logic).

1. the territory's backup, if available and their capacity score is above 5;
2. else the best available producer with the lead's line (weighted score);
None when nobody fits: the caller keeps the owner and escalates to the manager.
Pure: the speed clock calls it with the current loads and acts on the Decision.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Iterable

from sheets_schema.models import Lead

from ..config import AgencyConfig
from ..ports import ProducerLoad
from .availability import NO_LOAD, unavailable_reason
from .decision import Decision
from .territory import territory_backup
from .weighted import best_with_line, capacity_score, num
from .weights import parse_weights

MIN_BACKUP_CAPACITY = 5.0
MODEL = "reassign"


def reassignment(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], today: date,
                 exclude: Iterable[str] = ()) -> Decision | None:
    owner = lead.assigned_to.strip()
    skip = {n.strip().lower() for n in (owner, *exclude) if n.strip()}
    note = ""
    backup_name = territory_backup(lead, config, owner) if owner else ""
    backup = config.producer(backup_name) if backup_name else None
    if backup_name and backup is None:
        note = f"backup {backup_name} matches no producer"
    elif backup is not None and backup.name.strip().lower() in skip:
        note = f"backup {backup.name} already had it"
    elif backup is not None:
        load = loads.get(backup.name, NO_LOAD)
        why = unavailable_reason(backup, lead, load, today)
        capacity = capacity_score(load.active, parse_weights(config.weights))
        if not why and capacity > MIN_BACKUP_CAPACITY:
            return Decision(backup.name, f"{MODEL}: {owner or 'nobody'} → backup {backup.name} "
                            f"(capacity {num(capacity)} > 5, {load.active} open)", MODEL)
        note = f"backup {backup.name} {why or f'has capacity {num(capacity)} ≤ 5 with {load.active} open'}"
    else:
        note = "no backup"
    best = best_with_line(lead, config, loads, today, exclude=skip, model=MODEL)
    if best is None:
        return None
    return replace(best, reason=f"{MODEL}: {owner or 'nobody'} → {best.owner} ({note}); "
                   + best.reason.removeprefix(f"{MODEL}: "))
