"""Weighted routing: every available producer gets a 0-100 score; the highest wins.

score = 10 × Σ weight% × factor, with factors on a 1-10 scale (DESIGN.md "Exact definitions"):
- capacity: open leads (New, Contacted, Quoted) through the Weights tab's capacity bands;
- specialization: 10 line + own territory, 8 line elsewhere, 6 related line, 4 none;
- close rate: 1 + 9 × rate ÷ best rate among the candidates, over leads assigned in the
  trailing 90 days; fewer than 10 assigned → the candidates' average rate; nobody with
  history (or no bind at all) → 5.5 for everyone;
- response: mean business minutes to first contact through the response bands; no data →
  the mean of the other candidates' response factors; nobody with data → 6.
Ties (equal to 1e-9) go to the least recently assigned, then to tab order. The displayed
score is rounded to one decimal; comparisons use the exact value.

`capacity_score` and `best_with_line` serve the 30-minute reassignment too.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from sheets_schema.models import Lead, Producer

from ..config import AgencyConfig
from ..ports import ProducerLoad
from .availability import screen
from .decision import Decision
from .lines import LeadLine, covers, lead_line
from .territory import zip5, zip_range
from .weights import DEFAULT_RULES, MIN_HISTORY, NO_RESPONSE_DATA, ScoringRules, band_score, parse_weights

NO_HISTORY = 5.5
LABELS = {"capacity": "capacity", "specialization": "match", "close_rate": "close", "response_time": "response"}
_EMPTY = ProducerLoad()


@dataclass(frozen=True)
class Score:
    """One candidate's factors, exact score and what the factors were computed from."""
    producer: Producer
    factors: dict[str, float]  # factor -> 1..10
    total: float
    notes: dict[str, str]
    last_assigned_at: datetime | None
    index: int

    @property
    def key(self) -> tuple[float, float, int]:
        """Sort key: best first; ties to the least recently assigned, then tab order."""
        last = self.last_assigned_at.timestamp() if self.last_assigned_at else -math.inf
        return -round(self.total, 9), last, self.index


def capacity_score(active: int, rules: ScoringRules = DEFAULT_RULES) -> float:
    """Capacity factor (1-10) of a producer with `active` open leads."""
    return band_score(active, rules.capacity_bands)


def response_score(minutes: float, rules: ScoringRules = DEFAULT_RULES) -> float:
    return band_score(minutes, rules.response_bands)


def close_rate_factors(candidates: list[Producer], loads: dict[str, ProducerLoad]) -> dict[str, tuple[float, str]]:
    """name -> (close factor, what it came from)."""
    rates = {p.name: loads.get(p.name, _EMPTY) for p in candidates}
    known = {n: l.bound_window / l.assigned_window for n, l in rates.items() if l.assigned_window >= MIN_HISTORY}
    best = max(known.values(), default=0.0)
    out = {}
    if best <= 0:
        note = "no history" if not known else "no binds yet"
        return {n: (NO_HISTORY, note) for n in rates}
    average = sum(known.values()) / len(known)
    for name, load in rates.items():
        if name in known:
            note = f"{load.bound_window}/{load.assigned_window} bound"
            rate = known[name]
        else:
            note = f"team average {average:.0%} ({load.assigned_window} assigned)"
            rate = average
        out[name] = (1 + 9 * rate / best, note)
    return out


def response_factors(candidates: list[Producer], loads: dict[str, ProducerLoad],
                     rules: ScoringRules) -> dict[str, tuple[float, str]]:
    own: dict[str, tuple[float, str]] = {}
    for p in candidates:
        minutes = [m for m in loads.get(p.name, _EMPTY).response_minutes if m is not None and math.isfinite(m)]
        if minutes:
            mean = sum(minutes) / len(minutes)
            own[p.name] = (response_score(mean, rules), f"avg {mean:.1f} min")
    fill = (sum(f for f, _ in own.values()) / len(own), "no data: team mean") if own else (NO_RESPONSE_DATA, "no data")
    return {p.name: own.get(p.name, fill) for p in candidates}


def territory_owners(zip_code: str, config: AgencyConfig) -> set[str]:
    """Lower-cased names of the Producers (not Backups) of territories holding the ZIP."""
    z = zip5(zip_code)
    owners = set()
    if z is None:
        return owners
    for t in config.territories:
        r = zip_range(t)
        if r is not None and z in r:
            owners.add(t.producer.strip().lower())
    return owners


def match_level(p: Producer, line: LeadLine, owners: set[str]) -> str:
    level = line.level(p.lines)
    if level == "line" and p.name.strip().lower() in owners:
        return "territory+line"
    return level


def score_candidates(lead: Lead, config: AgencyConfig, candidates: Iterable[Producer],
                     loads: dict[str, ProducerLoad], rules: ScoringRules) -> list[Score]:
    """Scores of the given (available) producers, best first."""
    candidates = list(candidates)
    line = lead_line(lead, config)
    owners = territory_owners(lead.zip, config)
    close = close_rate_factors(candidates, loads)
    response = response_factors(candidates, loads, rules)
    index = {p.name: i for i, p in enumerate(config.producers)}
    w = rules.weights
    scores = []
    for p in candidates:
        load = loads.get(p.name, _EMPTY)
        level = match_level(p, line, owners)
        factors = {"capacity": capacity_score(load.active, rules), "specialization": rules.match_score(level),
                   "close_rate": close[p.name][0], "response_time": response[p.name][0]}
        total = 10 * sum(w[f] / 100 * v for f, v in factors.items())
        notes = {"capacity": f"{load.active} open", "specialization": level,
                 "close_rate": close[p.name][1], "response_time": response[p.name][1]}
        scores.append(Score(p, factors, total, notes, load.last_assigned_at, index.get(p.name, len(index))))
    scores.sort(key=lambda s: s.key)
    return scores


def route(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], state: dict[str, str],
          today: date, model: str = "weighted") -> Decision | None:
    rules = parse_weights(config.weights)
    result = screen(config.producers, lead, loads, today)
    if not result.available:
        return None
    scores = score_candidates(lead, config, result.available, loads, rules)
    reason = f"{model}: " + explain(scores, rules)
    return Decision(scores[0].producer.name, reason, model, score_table(scores, config, result.excluded, loads, rules))


def best_with_line(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], today: date,
                   exclude: Iterable[str] = (), model: str = "best with line") -> Decision | None:
    """The highest-scoring available producer who writes the lead's line (None when nobody does).

    For the 30-minute reassignment: `exclude` the producer the lead is taken from."""
    skip = {n.strip().lower() for n in exclude}
    line = lead_line(lead, config)
    if not line.line:
        return None
    result = screen(config.producers, lead, loads, today)
    group = [p for p in result.available if p.name.strip().lower() not in skip and covers(p.lines, line.line)]
    if not group:
        return None
    rules = parse_weights(config.weights)
    scores = score_candidates(lead, config, group, loads, rules)
    excluded = dict(result.excluded)
    for p in config.producers:
        if p.role == "Producer" and p not in group and p.name not in excluded:
            excluded[p.name] = "excluded" if p.name.strip().lower() in skip else f"does not write {line.line}"
    reason = f"{model}: best available with the {line.line} line: " + explain(scores, rules)
    return Decision(scores[0].producer.name, reason, model, score_table(scores, config, excluded, loads, rules))


def show(x: float, places: int = 1) -> str:
    """Rounded half-up as people round by hand (84.75 -> '84.8'), after dropping float noise."""
    exact = Decimal(f"{x:.9f}")
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def num(x: float) -> str:
    """8 -> '8', 8.44 -> '8.4' (factors as people read them)."""
    text = show(x)
    return text[:-2] if text.endswith(".0") else text


def explain(scores: list[Score], rules: ScoringRules) -> str:
    """'Sarah M. 86.0 = capacity 8×30% + match 10×35% + close 8.4×25% + response 10×10% (...)'."""
    top = scores[0]
    terms = " + ".join(f"{LABELS[f]} {num(v)}×{rules.weights[f]:g}%" for f, v in top.factors.items())
    notes = ", ".join(top.notes[f] for f in top.factors)
    text = f"{top.producer.name} {show(top.total)} = {terms} ({notes})"
    if len(scores) > 1:
        second = scores[1]
        if round(second.total, 9) == round(top.total, 9):
            text += f"; tied with {second.producer.name}, {_tie_reason(top, second)}"
        else:
            text += f"; next {second.producer.name} {_shown(second.total, top.total)}"
    return text


def _shown(score: float, winner: float) -> str:
    """One decimal, or three when one decimal would hide the difference."""
    return show(score, 3) if show(score) == show(winner) else show(score)


def _tie_reason(top: Score, other: Score) -> str:
    if top.last_assigned_at != other.last_assigned_at:
        return "least recently assigned wins"
    return "listed first on the Producers tab wins"


def verdict(s: Score, top: Score, rules: ScoringRules) -> str:
    if s is top:
        return "winner"
    if round(s.total, 9) == round(top.total, 9):
        return "tie; " + ("assigned more recently" if s.last_assigned_at != top.last_assigned_at
                          else "listed later on the Producers tab")
    gaps = {f: rules.weights[f] * (top.factors[f] - s.factors[f]) for f in top.factors}
    worst = max(gaps, key=gaps.get)
    return (f"lower score {_shown(s.total, top.total)} < {_shown(top.total, s.total)} "
            f"(mostly {LABELS[worst]} {num(s.factors[worst])} vs {num(top.factors[worst])})")


def score_table(scores: list[Score], config: AgencyConfig, excluded: dict[str, str],
                loads: dict[str, ProducerLoad], rules: ScoringRules) -> tuple[dict, ...]:
    """All producers: factors and score for candidates, why not for the others; best first."""
    top = scores[0]
    rows = [{"producer": s.producer.name, "open": loads.get(s.producer.name, _EMPTY).active,
             "capacity": num(s.factors["capacity"]), "match": num(s.factors["specialization"]),
             "close": num(s.factors["close_rate"]), "response": num(s.factors["response_time"]),
             "score": show(s.total), "verdict": verdict(s, top, rules)} for s in scores]
    scored = {s.producer.name for s in scores}
    for p in config.producers:
        if p.role == "Producer" and p.name not in scored:
            rows.append({"producer": p.name, "open": loads.get(p.name, _EMPTY).active, "capacity": "-",
                         "match": "-", "close": "-", "response": "-", "score": "-",
                         "verdict": f"unavailable: {excluded.get(p.name, 'not a candidate')}"})
    return tuple(rows)
