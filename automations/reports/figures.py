"""The reports' data types: a figure beside its target, the monthly report, and the tables' columns.

Both the report builders (monthly) and their formats import these, so neither imports the other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from .frames import Month

SOURCE_COLUMNS = {
    "source": "Source", "leads": "Leads received", "contacted_5": "Contacted <5 min",
    "contacted_5_pct": "Contacted <5 min %", "quoted": "Quoted", "quoted_pct": "Quoted %", "bound": "Bound",
    "bound_pct": "Bound %", "premium": "Premium written", "cost": "Cost", "cost_per_lead": "Cost per lead",
    "cost_per_bind": "Cost per bind", "avg_premium": "Average premium", "commission": "Commission",
    "roi": "ROI",
}
PRODUCER_COLUMNS = {
    "rank": "Rank", "producer": "Producer", "leads": "Leads", "contacted": "Contacted",
    "contacted_5_pct": "Contacted <5 min %", "avg_response": "Avg response (min)", "quoted": "Quoted",
    "bound": "Bound", "close_rate": "Close rate", "premium": "Premium written",
}


@dataclass(frozen=True)
class Target:
    text: str  # as the guide writes it: "<5", ">80%", "0"
    met: Callable[[float], bool]


TARGETS: dict[str, Target] = {
    "avg_response": Target("<5 min", lambda v: v < 5),
    "contacted_5_pct": Target(">80%", lambda v: v > 0.80),
    "contacted_30_pct": Target(">95%", lambda v: v > 0.95),
    "never_contacted": Target("0", lambda v: v == 0),
    "contact_attempts_48h": Target("6-8 (the guide's best; good 4-6)", lambda v: v >= 6),
    "lead_to_quote": Target(">70%", lambda v: v > 0.70),
    "quote_to_bind": Target(">25%", lambda v: v > 0.25),
    "lead_to_bind": Target(">18%", lambda v: v > 0.18),
}


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float | int | None
    kind: str = "count"  # count | pct | minutes | money

    @property
    def target(self) -> Target | None:
        return TARGETS.get(self.key)

    @property
    def met(self) -> bool | None:
        return None if self.target is None or self.value is None else self.target.met(self.value)


@dataclass
class MonthlyReport:
    month: Month
    agency: str
    sections: dict[str, list[Figure]]
    by_source: pd.DataFrame  # source, leads
    by_line: pd.DataFrame  # line, leads
    producers: pd.DataFrame  # ranked; columns PRODUCER_COLUMNS
    sources: pd.DataFrame  # the source report (ROI by source)
    notes: list[str] = field(default_factory=list)

    def figure(self, key: str) -> Figure:
        return next(f for figures in self.sections.values() for f in figures if f.key == key)
