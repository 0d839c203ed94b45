"""The Weights tab, parsed into `ScoringRules` (pure, never raises; cached per distinct tab content).

Rows: capacity, specialization, close_rate, response_time, each with a Weight (%) and,
for capacity and response_time, bands written 'limit:score' with exclusive upper limits:
"5:10, 10:8, 15:6, 20:4, *:2" means fewer than 5 active leads score 10, 5-9 score 8 ...
and anything else 2. Specialization's bands name its four levels
("territory+line:10, line:8, related:6, none:4"). Scores are on the factors' 1-10 scale. A
blank or unreadable cell, or a score outside 1-10, keeps the guide's default; a factor listed
twice uses its first row (as the Lines tab does); `leadrouter check` names each of these.
Weights that do not sum to 100 are used as written (the ranking does not change with the
scale) and `check` reports them as an error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Iterable, Mapping

from sheets_schema.models import Weight

FACTORS = ("capacity", "specialization", "close_rate", "response_time")
ALIASES = {
    "capacity": "capacity", "capacity_score": "capacity", "workload": "capacity", "load": "capacity",
    "specialization": "specialization", "specialization_match": "specialization", "match": "specialization",
    "specialisation": "specialization", "line_match": "specialization",
    "close_rate": "close_rate", "close": "close_rate", "close_rate_score": "close_rate", "closing": "close_rate",
    "response_time": "response_time", "response": "response_time", "response_time_avg": "response_time",
    "speed": "response_time",
}
DEFAULT_WEIGHTS = {"capacity": 30.0, "specialization": 35.0, "close_rate": 25.0, "response_time": 10.0}
Band = tuple[float, float]  # (exclusive upper limit, score); math.inf for '*'
DEFAULT_CAPACITY: tuple[Band, ...] = ((5, 10), (10, 8), (15, 6), (20, 4), (math.inf, 2))
DEFAULT_RESPONSE: tuple[Band, ...] = ((5, 10), (15, 8), (30, 6), (60, 4), (math.inf, 2))
MATCH_LEVELS = ("territory+line", "line", "related", "none")
DEFAULT_MATCH = {"territory+line": 10.0, "line": 8.0, "related": 6.0, "none": 4.0}
SCORE_RANGE = (1.0, 10.0)  # every factor's scale
MIN_HISTORY = 10  # assigned leads in the window before a producer's own close rate counts
NO_RESPONSE_DATA = 6.0  # response factor when no candidate has any response data


def factor_key(name: str) -> str | None:
    """'Close Rate' / 'close_rate' / 'Response Time Avg' -> the factor it means, else None."""
    key = "_".join("".join(c.lower() if c.isalnum() else " " for c in name.split("(")[0]).split())
    return ALIASES.get(key)


def parse_bands(text: str) -> tuple[tuple[Band, ...], list[str]]:
    """'5:10, 10:8, *:2' -> ((5, 10), (10, 8), (inf, 2)) sorted by limit, plus unreadable parts
    (a score outside 1-10 is one: it would push the 0-100 score off its scale)."""
    bands: list[Band] = []
    bad: list[str] = []
    for part in str(text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        limit, sep, score = part.partition(":")
        try:
            value = float(score)
            bound = math.inf if limit.strip() in ("*", "") else float(limit)
        except ValueError:
            bad.append(part)
            continue
        if not sep or not math.isfinite(value) or math.isnan(bound) or not _in_range(value):
            bad.append(part)
            continue
        bands.append((bound, value))
    bands.sort(key=lambda b: b[0])
    return tuple(bands), bad


def _in_range(score: float) -> bool:
    return SCORE_RANGE[0] <= score <= SCORE_RANGE[1]


def band_score(value: float, bands: tuple[Band, ...]) -> float:
    """The score of the first band whose (exclusive) limit is above `value`; past the last, its score."""
    for limit, score in bands:
        if value < limit:
            return score
    return bands[-1][1]


@dataclass(frozen=True)
class ScoringRules:
    weights: Mapping[str, float]  # factor -> percent (read-only: rules are cached and shared)
    capacity_bands: tuple[Band, ...] = DEFAULT_CAPACITY
    response_bands: tuple[Band, ...] = DEFAULT_RESPONSE
    match_scores: Mapping[str, float] | None = None
    problems: tuple[str, ...] = ()  # what was unreadable and replaced by a default

    def match_score(self, level: str) -> float:
        return (self.match_scores or DEFAULT_MATCH)[level]

    def weight(self, factor: str) -> float:
        return self.weights[factor]


def parse_weights(rows: Iterable[Weight]) -> ScoringRules:
    """The rules of these Weights rows (parsed once per distinct tab content)."""
    return _parse(tuple((row.factor, row.weight, row.bands) for row in rows))


@lru_cache(maxsize=32)
def _parse(rows: tuple[tuple[str, float | None, str], ...]) -> ScoringRules:
    weights = dict(DEFAULT_WEIGHTS)
    capacity, response = DEFAULT_CAPACITY, DEFAULT_RESPONSE
    match = dict(DEFAULT_MATCH)
    problems: list[str] = []
    first: dict[str, str] = {}  # factor -> the name of the row that set it
    for name, weight, text in rows:
        factor = factor_key(name)
        if factor is None:
            problems.append(f"unknown factor {name!r} (known: {', '.join(FACTORS)})")
            continue
        if factor in first:
            problems.append(f"{factor}: listed twice ({first[factor]!r} and {name!r}); the first row is used")
            continue
        first[factor] = name
        if weight is not None and math.isfinite(weight) and weight >= 0:
            weights[factor] = weight
        elif weight is not None:
            problems.append(f"{factor}: weight {weight:g} is not a percent; {DEFAULT_WEIGHTS[factor]:g} used")
        if not (text or "").strip() or factor == "close_rate":
            continue
        if factor == "specialization":
            match, bad = _match_scores(text)
        else:
            bands, bad = parse_bands(text)
            if bands:
                if factor == "capacity":
                    capacity = bands
                else:
                    response = bands
            else:
                bad = bad or [text]
        if bad:
            problems.append(f"{factor}: unreadable band(s) {', '.join(bad)} (write limit:score, scores 1-10)")
    return ScoringRules(MappingProxyType(weights), capacity, response, MappingProxyType(match), tuple(problems))


def _match_scores(text: str) -> tuple[dict[str, float], list[str]]:
    scores, bad = dict(DEFAULT_MATCH), []
    for part in str(text).replace(";", ",").split(","):
        if not part.strip():
            continue
        name, _, score = part.partition(":")
        level = "".join(name.lower().split()).replace("&", "+").replace("and", "+")
        level = {"exact": "territory+line", "line+territory": "territory+line"}.get(level, level)
        try:
            value = float(score)
        except ValueError:
            value = math.nan
        if level not in MATCH_LEVELS or not math.isfinite(value) or not _in_range(value):
            bad.append(part.strip())
        else:
            scores[level] = value
    return scores, bad


DEFAULT_RULES = parse_weights(())
