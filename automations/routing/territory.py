"""Territory routing: the lead's ZIP picks a territory; its producer, else its backup, owns the lead.

Ranges are inclusive ZIP text ranges ('10001'-'10099'). When ranges overlap, the territory
whose Line Focus covers the lead's line wins; a blank Line Focus takes any line, so it comes
next; then a focus that is only a related line; a focus that excludes the line comes last.
Equal there, the narrower range wins, then the row listed first. If a territory's producer is
unavailable its Backup (or, when blank, the producer's own Backup on the Producers tab)
takes the lead, and the reason says so. When nobody in any matching territory can take
it, or the ZIP is in no range, Settings' "Territory Fallback" decides: a producer's name,
or round_robin (rotation among available producers who write the lead's line).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, partial
from datetime import date

from sheets_schema.models import Lead, Producer, Territory

from ..config import AgencyConfig
from ..ports import ProducerLoad
from .availability import NO_LOAD, Screen, screen
from .decision import Decision
from .lines import LeadLine, covers, lead_line
from .round_robin import POINTER, next_in_rotation, pointer

ROTATION_WORDS = {"", "round_robin", "rotation", "roundrobin"}
_ZIP = re.compile(r"\s*(\d{3,5})(?:\.0+)?(?:-\d{4})?\s*")  # '02134', '2134' (a numeric cell), '10001-1234'
# how a Line Focus fits the lead's line, best first: the line itself, blank (any line), a related
# line, none of them
FOCUS_RANK = {"line": 0, "any": 1, "related": 2, "none": 3}


@dataclass(frozen=True)
class ZipRange:
    lo: str
    hi: str
    swapped: bool = False  # typed high-to-low; read as the same range

    def __contains__(self, zip5: str) -> bool:
        return self.lo <= zip5 <= self.hi

    @property
    def width(self) -> int:
        return int(self.hi) - int(self.lo)

    def __str__(self) -> str:
        return self.lo if self.lo == self.hi else f"{self.lo}–{self.hi}"


def zip5(text: object) -> str | None:
    match = _ZIP.fullmatch(str(text or ""))
    return match.group(1).zfill(5) if match else None


def zip_range(t: Territory) -> ZipRange | None:
    """The territory's range, or None when a bound is not a ZIP (skipped; `check` reports it)."""
    return _range(t.zip_from, t.zip_to)


@lru_cache(maxsize=4096)
def _range(zip_from: str, zip_to: str) -> ZipRange | None:
    lo = zip5(zip_from)
    hi = zip5(zip_to) if str(zip_to or "").strip() else lo
    if lo is None or hi is None:
        return None
    return ZipRange(hi, lo, True) if lo > hi else ZipRange(lo, hi)


@dataclass(frozen=True)
class Hit:
    territory: Territory
    range: ZipRange
    focus: str  # how its Line Focus fits the lead: line | any (blank focus) | related | none
    index: int  # row in the tab

    @property
    def rank(self) -> tuple[int, int, int]:
        return FOCUS_RANK[self.focus], self.range.width, self.index


def focus_fit(focus: list[str], line: LeadLine) -> str:
    """How a territory's Line Focus fits the lead's line; a blank focus takes any line."""
    return line.level(focus) if focus else "any"


def containing(zip_code: str, config: AgencyConfig, line: LeadLine) -> list[Hit]:
    """Territories whose range holds the ZIP, best first (Line Focus, narrower range, tab order)."""
    z = zip5(zip_code)
    if z is None:
        return []
    hits = []
    for i, t in enumerate(config.territories):
        r = zip_range(t)
        if r is not None and z in r:
            hits.append(Hit(t, r, focus_fit(t.line_focus, line), i))
    return sorted(hits, key=lambda h: h.rank)


def why_ahead(first: Hit, other: Hit, line: LeadLine) -> str:
    if first.focus != other.focus:
        text = _focus_text(first, line)
        return text if first.focus == "line" else f"{text}; {other.territory.territory}'s {_focus_text(other, line)}"
    if first.range.width != other.range.width:
        return "narrower range"
    return "listed first"


def _focus_text(hit: Hit, line: LeadLine) -> str:
    focus, what = " + ".join(hit.territory.line_focus), line.line or "the lead's line"
    return {"line": f"Line Focus {focus} fits {what}",
            "any": "blank Line Focus takes any line",
            "related": f"Line Focus {focus} is only a related line of {what}",
            "none": f"Line Focus {focus} does not fit {what}"}[hit.focus]


def backup_candidates(lead: Lead, config: AgencyConfig, owner: str) -> list[tuple[str, str]]:
    """Who may back `owner` up for this lead, in the order to try: (name, where it comes from).

    The Backup of the owner's own territory holding the lead's ZIP, then the Backup of the
    territory the ZIP routes to (the lead's territory, whoever owns the lead now: round
    robin gives leads to people outside their territory), then the owner's own Backup on
    the Producers tab. Never the owner; each name once.
    """
    wanted = owner.strip().lower()
    hits = containing(lead.zip, config, lead_line(lead, config))
    own = [h for h in hits if h.territory.producer.strip().lower() == wanted]
    found = [(h.territory.backup.strip(), f"{h.territory.territory} backup") for h in (*own, *hits[:1])]
    person = config.producer(owner) if owner.strip() else None
    if person is not None:
        found.append((person.backup.strip(), f"{person.name}'s backup"))
    out, seen = [], {wanted}
    for name, where in found:
        if name and name.lower() not in seen:
            seen.add(name.lower())
            out.append((name, where))
    return out


def territory_backup(lead: Lead, config: AgencyConfig, owner: str) -> str:
    """The first backup to try for `owner` on this lead ('' when none); see backup_candidates."""
    candidates = backup_candidates(lead, config, owner)
    return candidates[0][0] if candidates else ""


def route(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], state: dict[str, str],
          today: date, model: str = "territory") -> Decision | None:
    line = lead_line(lead, config)
    result = screen(config.producers, lead, loads, today)
    hits = containing(lead.zip, config, line)
    passed: list[str] = []
    for n, hit in enumerate(hits):
        t = hit.territory
        owner_name, owner = t.producer.strip(), config.producer(t.producer)
        why = _why_not(owner, owner_name, result)
        where = f"ZIP {lead.zip} in {hit.range}"
        if n == 0 and len(hits) > 1:
            where += f"; also in {', '.join(h.territory.territory for h in hits[1:])}: {why_ahead(hit, hits[1], line)}"
        if not why:
            reason = f"{model}: {t.territory} → {owner.name} ({where})"
            return _decision(owner, _with(reason, passed), model, config, result, loads, hits, line)
        backup_name = t.backup.strip() or (owner.backup.strip() if owner else "")
        backup = config.producer(backup_name) if backup_name else None
        backup_why = _why_not(backup, backup_name, result) if backup_name else "not set"
        if not backup_why:
            reason = f"{model}: {t.territory} → backup {backup.name} ({owner_name or 'no producer'} {why})"
            return _decision(backup, _with(reason, passed), model, config, result, loads, hits, line)
        passed.append(f"{t.territory}: {owner_name or 'no producer'} {why}, backup "
                      f"{backup_name + ' ' if backup_name else ''}{backup_why}")
    return _fallback(lead, config, loads, state, model, line, result, hits, passed)


def _fallback(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], state: dict[str, str], model: str,
              line: LeadLine, result: Screen, hits: list[Hit], passed: list[str]) -> Decision | None:
    where = "; ".join(passed) if hits else f"ZIP {lead.zip or '(none)'} is in no territory"
    setting = config.settings.territory_fallback.strip()
    if setting.lower().replace(" ", "_").replace("-", "_") not in ROTATION_WORDS:
        named = config.producer(setting)
        why = _why_not(named, setting, result)
        if not why:
            reason = f"{model}: {where}; Territory Fallback → {named.name}"
            return _decision(named, reason, model, config, result, loads, hits, line)
        where += f"; Territory Fallback {setting} {why}"
    with_line = [p for p in result.available if line.line and covers(p.lines, line.line)]
    group = with_line or result.available
    if not group:
        return None
    last = state.get(POINTER, "")
    chosen, _ = next_in_rotation(list(config.producers), group, last)
    if with_line:
        how = f"next in rotation among producers with the {line.line} line"
    elif line.line:
        how = f"next in rotation (no available producer writes {line.line})"
    else:
        how = f"next in rotation ({lead.insurance_type or 'the type'} is on no row of the Lines tab)"
    reason = f"{model}: {where}; fallback round-robin → {chosen.name}, {how}"
    writers = {p.name for p in with_line}  # by name: comparing pydantic rows field by field is slow
    no_line = {p.name: f"does not write {line.line}" for p in result.available if writers and p.name not in writers}
    table = partial(_table, chosen, config, result, loads, hits, line, no_line, rotation=True)
    return Decision(chosen.name, reason, model, table, {POINTER: pointer(list(config.producers), chosen)})


def _why_not(p: Producer | None, name: str, result: Screen) -> str:
    if not name:
        return "not set"
    if p is None:
        return "matches no producer"
    return result.why_not(p.name)


def _with(reason: str, passed: list[str]) -> str:
    return reason + ("; passed over " + "; ".join(passed) if passed else "")


def _decision(chosen: Producer, reason: str, model: str, config: AgencyConfig, result: Screen,
              loads: dict[str, ProducerLoad], hits: list[Hit], line: LeadLine) -> Decision:
    return Decision(chosen.name, reason, model, partial(_table, chosen, config, result, loads, hits, line))


def _table(chosen: Producer, config: AgencyConfig, result: Screen, loads: dict[str, ProducerLoad],
           hits: list[Hit], line: LeadLine, not_eligible: dict[str, str] | None = None,
           rotation: bool = False) -> tuple[dict, ...]:
    """One row per producer: their part in the matching territories and why they did not win."""
    roles: dict[str, list[str]] = {}
    for hit in hits:
        t = hit.territory
        roles.setdefault(t.producer.strip().lower(), []).append(f"{t.territory} owner")
        if t.backup.strip():
            roles.setdefault(t.backup.strip().lower(), []).append(f"{t.territory} backup")
    rows = []
    for p in config.producers:
        if p.role != "Producer":
            continue
        mine = roles.get(p.name.strip().lower(), [])
        why = result.why_not(p.name)
        if p.name == chosen.name:
            verdict = "winner"
        elif why:
            verdict = f"unavailable: {why}"
        elif (not_eligible or {}).get(p.name):
            verdict = not_eligible[p.name]
        elif rotation:
            verdict = "later in rotation"
        elif mine:
            verdict = _lost_in_territory(p, chosen, hits, line)
        else:
            verdict = "no territory for this ZIP"
        rows.append({"producer": p.name, "territory": ", ".join(mine) or "-", "lines": ", ".join(p.lines) or "-",
                     "open": loads.get(p.name, NO_LOAD).active, "verdict": verdict})
    return tuple(rows)


def _lost_in_territory(p: Producer, chosen: Producer, hits: list[Hit], line: LeadLine) -> str:
    name, winner = p.name.strip().lower(), chosen.name.strip().lower()
    won = next((h for h in hits if winner in (h.territory.producer.strip().lower(),
                                              h.territory.backup.strip().lower())), None)
    for hit in hits:
        t = hit.territory
        if won is not None and hit is won and t.backup.strip().lower() == name:
            return f"{t.territory} backup; its producer is available"
        if won is not None and hit is not won and name in (t.producer.strip().lower(), t.backup.strip().lower()):
            return f"{t.territory} ranks below {won.territory.territory} ({why_ahead(won, hit, line)})"
    return "not the owner of this ZIP's territory"
