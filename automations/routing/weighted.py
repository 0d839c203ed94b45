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
score is rounded to one decimal; comparisons use the exact value. Factors are shown with as
many decimals as it takes (up to 4) for the reason's arithmetic to give the score shown.

A producer back from time off has few or no open leads, so capacity scores them high and
they win more of the next leads until their load matches the team's: by design (capacity
is what spreads work), not a catch-up burst. Max Active Leads bounds it.

`capacity_score` and `best_with_line` serve the 30-minute reassignment too.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timezone
from functools import partial
from operator import itemgetter
from typing import Iterable, NamedTuple

from sheets_schema.models import Lead, Producer

from ..config import AgencyConfig
from ..ports import ProducerLoad
from .availability import NO_LOAD, screen
from .decision import Decision
from .lines import LeadLine, covers, lead_line
from .territory import zip5, zip_range
from .weights import (DEFAULT_MATCH, DEFAULT_RULES, MIN_HISTORY, NO_RESPONSE_DATA, ScoringRules, band_score,
                      parse_weights)

NO_HISTORY = 5.5
NEVER = datetime.min.replace(tzinfo=timezone.utc)  # last assignment of someone never assigned
FACTOR_ORDER = ("capacity", "specialization", "close_rate", "response_time")
LABELS = {"capacity": "capacity", "specialization": "match", "close_rate": "close", "response_time": "response"}


class Score(NamedTuple):
    """One candidate's factors, exact score and what the factors were computed from."""
    producer: Producer
    factors: dict[str, float]  # factor -> 1..10
    total: float
    load: ProducerLoad
    level: str  # specialization level: territory+line | line | related | none
    close_basis: str  # own | team average | no history | no binds yet
    close_rate: float | None  # the rate the close factor used
    response_basis: str  # own | team mean | no data
    key: tuple[int, datetime, int]  # best first; ties to the least recently assigned, then tab order

    @property
    def last_assigned_at(self) -> datetime | None:
        return self.load.last_assigned_at

    @property
    def notes(self) -> dict[str, str]:
        """What each factor came from, as people read it (built only when someone reads it)."""
        load = self.load
        close = {"own": f"{load.bound_window}/{load.assigned_window} bound",
                 "team average": f"team average {self.close_rate or 0:.0%} ({load.assigned_window} assigned)"
                 }.get(self.close_basis, self.close_basis)
        response = (f"avg {load.avg_response:.1f} min" if self.response_basis == "own"
                    else "no data: team mean" if self.response_basis == "team mean" else "no data")
        return {"capacity": f"{load.active} open", "specialization": self.level, "close_rate": close,
                "response_time": response}


def capacity_score(active: int, rules: ScoringRules = DEFAULT_RULES) -> float:
    """Capacity factor (1-10) of a producer with `active` open leads."""
    return band_score(active, rules.capacity_bands)


def response_score(minutes: float, rules: ScoringRules = DEFAULT_RULES) -> float:
    return band_score(minutes, rules.response_bands)


def close_rate_factors(loads: list[ProducerLoad]) -> list[tuple[float, str, float | None]]:
    """Per candidate load: (close factor, basis, rate used)."""
    known = [l.bound_window / l.assigned_window if l.assigned_window >= MIN_HISTORY else None for l in loads]
    rates = [r for r in known if r is not None]
    best = max(rates, default=0.0)
    if best <= 0:
        basis = "no binds yet" if rates else "no history"
        return [(NO_HISTORY, basis, None)] * len(loads)
    average = min(sum(rates) / len(rates), best)  # a mean of equal floats can exceed them by an ulp

    def factor(rate: float) -> float:
        return min(10.0, 1 + 9 * (rate / best))
    return [(factor(r), "own", r) if r is not None else (factor(average), "team average", average) for r in known]


def response_factors(loads: list[ProducerLoad], rules: ScoringRules) -> list[tuple[float, str]]:
    """Per candidate load: (response factor, basis)."""
    own = []
    for load in loads:
        mean = load.avg_response
        # a NaN or inf in bad data counts as no data
        own.append(response_score(mean, rules) if mean is not None and math.isfinite(mean) else None)
    have = [f for f in own if f is not None]
    fill = (sum(have) / len(have), "team mean") if have else (NO_RESPONSE_DATA, "no data")
    return [(f, "own") if f is not None else fill for f in own]


def territory_owners(zip_code: str, config: AgencyConfig) -> set[str]:
    """Lower-cased names of the Producers (not Backups) of territories holding the ZIP."""
    z = zip5(zip_code)
    owners: set[str] = set()
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
    mine = [loads.get(p.name, NO_LOAD) for p in candidates]
    close = close_rate_factors(mine)
    response = response_factors(mine, rules)
    index = {p.name: i for i, p in enumerate(config.producers)}
    w_capacity, w_match, w_close, w_response = (rules.weights[f] / 100 for f in FACTOR_ORDER)
    bands, match_scores = rules.capacity_bands, rules.match_scores or DEFAULT_MATCH
    scores = []
    # the hot loop of `decide`: helpers are inlined here (match_level, capacity_score, match_score)
    for p, load, (close_f, close_basis, rate), (response_f, response_basis) in zip(candidates, mine, close, response):
        level = line.level(p.lines)
        if level == "line" and p.name.strip().lower() in owners:
            level = "territory+line"
        capacity_f = band_score(load.active, bands)
        match_f = match_scores[level]
        total = 10 * (w_capacity * capacity_f + w_match * match_f + w_close * close_f + w_response * response_f)
        factors = {"capacity": capacity_f, "specialization": match_f, "close_rate": close_f,
                   "response_time": response_f}
        last = load.last_assigned_at or NEVER
        if last.tzinfo is None:  # row models give aware times; a naive one must not crash the sort
            last = last.replace(tzinfo=timezone.utc)
        key = (-exact(total), last, index.get(p.name, len(index)))
        scores.append(Score(p, factors, total, load, level, close_basis, rate, response_basis, key))
    scores.sort(key=itemgetter(-1))
    return scores


def route(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], state: dict[str, str],
          today: date, model: str = "weighted") -> Decision | None:
    rules = parse_weights(config.weights)
    result = screen(config.producers, lead, loads, today)
    if not result.available:
        return None
    scores = score_candidates(lead, config, result.available, loads, rules)
    reason = f"{model}: " + explain(scores, rules)
    return Decision(scores[0].producer.name, reason, model,
                    partial(score_table, scores, config, result.excluded, loads, rules))


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
    chosen = {p.name for p in group}
    for p in config.producers:
        if p.role == "Producer" and p.name not in chosen and p.name not in excluded:
            excluded[p.name] = "excluded" if p.name.strip().lower() in skip else f"does not write {line.line}"
    reason = f"{model}: best available with the {line.line} line: " + explain(scores, rules)
    table = partial(score_table, scores, config, excluded, loads, rules)
    return Decision(scores[0].producer.name, reason, model, table)


def exact(score: float) -> int:
    """The score in billionths: equal here means tied (float noise below 1e-9 is not a difference)."""
    return math.floor(score * 1e9 + 0.5)


def show(x: float, places: int = 1) -> str:
    """Rounded half-up as people round by hand (84.75 -> '84.8'), after dropping float noise."""
    scale = 10 ** places
    return f"{math.floor(round(round(x, 9) * scale, 6) + 0.5) / scale:.{places}f}"


def num(x: float, places: int = 1) -> str:
    """8 -> '8', 8.44 -> '8.4', 7.75 -> '7.8' (or '7.75' with places=2): factors as people read them."""
    text = show(x, places)
    return text.rstrip("0").rstrip(".") if "." in text else text


def factor_texts(factors: dict[str, float], weights, total: float) -> dict[str, str]:
    """The factors as shown, with the fewest decimals (1 to 4) whose weighted sum rounds to the
    score shown: 'close 7.8' for 7.75 would add up to 84.5 next to a displayed 84.4."""
    for places in (1, 2, 3, 4):
        texts = {f: num(v, places) for f, v in factors.items()}
        if show(10 * sum(weights[f] / 100 * float(texts[f]) for f in factors)) == show(total):
            break
    return texts


def explain(scores: list[Score], rules: ScoringRules) -> str:
    """'Sarah M. 86.0 = capacity 8×30% + match 10×35% + close 8.4×25% + response 10×10% (...)'."""
    top = scores[0]
    shown = factor_texts(top.factors, rules.weights, top.total)
    terms = " + ".join(f"{LABELS[f]} {shown[f]}×{rules.weights[f]:g}%" for f in top.factors)
    notes = ", ".join(top.notes.values())
    text = f"{top.producer.name} {show(top.total)} = {terms} ({notes})"
    if len(scores) > 1:
        second = scores[1]
        if second.key[0] == top.key[0]:
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
    if s.key[0] == top.key[0]:
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
    rows = []
    for s in scores:
        shown = factor_texts(s.factors, rules.weights, s.total)
        rows.append({"producer": s.producer.name, "open": s.load.active,
                     "capacity": shown["capacity"], "match": shown["specialization"],
                     "close": shown["close_rate"], "response": shown["response_time"],
                     "score": show(s.total), "verdict": verdict(s, top, rules)})
    scored = {s.producer.name for s in scores}
    for p in config.producers:
        if p.role == "Producer" and p.name not in scored:
            rows.append({"producer": p.name, "open": loads.get(p.name, NO_LOAD).active, "capacity": "-",
                         "match": "-", "close": "-", "response": "-", "score": "-",
                         "verdict": f"unavailable: {excluded.get(p.name, 'not a candidate')}"})
    return tuple(rows)
