"""Who takes a lead its owner did not contact in 30 minutes (the guide's reassignment logic).

1. a backup (territory.backup_candidates: the owner's territory's Backup, the lead's
   territory's Backup, the owner's own Backup), if available, writing the lead's line, and
   with a capacity score above 5; the first that qualifies;
2. else the best available producer with the lead's line (weighted score);
3. else a backup as in 1 who writes only a related line;
None when nobody fits: the caller keeps the owner and escalates to the manager.
A backup is checked for the line like everyone else: the ladder must not hand a Personal
Auto lead to a Commercial-only producer while a Personal producer is free.
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
from .lines import lead_line
from .territory import backup_candidates
from .weighted import best_with_line, capacity_score, num
from .weights import parse_weights

MIN_BACKUP_CAPACITY = 5.0
MODEL = "reassign"


def reassignment(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], today: date,
                 exclude: Iterable[str] = ()) -> Decision | None:
    owner = lead.assigned_to.strip()
    skip = {n.strip().lower() for n in (owner, *exclude) if n.strip()}
    line = lead_line(lead, config)
    rules = parse_weights(config.weights)
    notes: list[str] = []
    related_backup: Decision | None = None  # step 3
    for name, _where in backup_candidates(lead, config, owner) if owner else ():
        backup = config.producer(name)
        if backup is None:
            notes.append(f"backup {name} matches no producer")
            continue
        if backup.name.strip().lower() in skip:
            notes.append(f"backup {backup.name} already had it")
            continue
        load = loads.get(backup.name, NO_LOAD)
        why = unavailable_reason(backup, lead, load, today)
        fit = line.level(backup.lines) if line.line else "line"  # an unknown line: nothing to check
        capacity = capacity_score(load.active, rules)
        if why:
            notes.append(f"backup {backup.name} {why}")
        elif fit == "none":
            notes.append(f"backup {backup.name} does not write {line.line}")
        elif capacity <= MIN_BACKUP_CAPACITY:
            notes.append(f"backup {backup.name} has capacity {num(capacity)} ≤ 5 with {load.active} open")
        elif fit == "related":
            if related_backup is None:
                passed = "".join(f"; {n}" for n in notes)
                related_backup = Decision(backup.name, f"{MODEL}: {owner or 'nobody'} → backup {backup.name} "
                                          f"(capacity {num(capacity)} > 5, {load.active} open; writes {line.line} "
                                          f"only as a related line, and nobody available writes it{passed})", MODEL)
            notes.append(f"backup {backup.name} writes {line.line} only as a related line")
        else:
            passed = f"; {'; '.join(notes)}" if notes else ""
            return Decision(backup.name, f"{MODEL}: {owner or 'nobody'} → backup {backup.name} "
                            f"(capacity {num(capacity)} > 5, {load.active} open{passed})", MODEL)
    note = "; ".join(notes) or "no backup"
    best = best_with_line(lead, config, loads, today, exclude=skip, model=MODEL)
    if best is None:
        return related_backup
    return replace(best, reason=f"{MODEL}: {owner or 'nobody'} → {best.owner} ({note}); "
                   + best.reason.removeprefix(f"{MODEL}: "))
