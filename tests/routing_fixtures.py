"""Builders for routing tests: the demo agency as an AgencyConfig with tabs edited in place,
leads at a ZIP, and producer loads, so hand-computed cases read like the tabs they test."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from automations.config import AgencyConfig
from automations.ports import ProducerLoad
from sheets_schema.demo import demo_rows
from sheets_schema.models import Lead

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in New York
TODAY = date(2026, 11, 24)
STATES = {"10": "NY", "90": "CA"}


def agency(model: str = "round_robin", *, producers: dict[str, dict] | None = None,
           territories: list[dict] | None = None, weights: list[dict] | None = None,
           settings: dict[str, str] | None = None, lines: list[dict] | None = None,
           extra_producers: list[dict] | None = None) -> AgencyConfig:
    """The demo agency; `producers` edits rows by name ({"Sarah M.": {"active": "N"}})."""
    rows = demo_rows(model)
    for row in rows["Producers"]:
        row.update((producers or {}).get(row["name"], {}))
    rows["Producers"] += extra_producers or []
    if territories is not None:
        rows["Territories"] = territories
    if weights is not None:
        rows["Weights"] = weights
    if lines is not None:
        rows["Lines"] = lines
    for name, value in ({"Round Robin Lines": "any", **(settings or {})}).items():  # see conftest.PURE_ROTATION
        rows["Settings"] = [r for r in rows["Settings"] if r["setting"] != name] + [dict(setting=name, value=value)]
    return AgencyConfig.from_rows(rows)


def lead(zip_code: str = "10050", insurance_type: str = "Auto", **extra) -> Lead:
    return Lead(lead_id="L-1", received_at=NOW, zip=zip_code, state=STATES.get(zip_code[:2], "NY"),
                insurance_type=insurance_type, **extra)


def load(active: int = 0, *, assigned: int = 0, bound: int = 0, minutes: list[float] | None = None,
         last_hours_ago: float | None = None) -> ProducerLoad:
    last = NOW - timedelta(hours=last_hours_ago) if last_hours_ago is not None else None
    return ProducerLoad(active=active, last_assigned_at=last, assigned_window=assigned, bound_window=bound,
                        response_minutes=list(minutes or []))


def territory(name: str, lo: str, hi: str, producer: str, backup: str = "", focus: str = "") -> dict:
    return dict(territory=name, zip_from=lo, zip_to=hi, producer=producer, backup=backup, line_focus=focus)
