"""The live dashboard's figures with pandas: the web page's data, and the check on the sheet's formulas.

Every figure means exactly what the Dashboard tab's formula computes (see
sheets_schema.dashboard for the definitions), so the web page and the sheet agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

import pandas as pd

from sheets_schema.dashboard import (
    CLOSE_RATE_DAYS, PRODUCER_SLOTS, RESPONSE_TARGET_MINUTES, SOURCE_SLOTS, UNTOUCHED_MINUTES,
)
from sheets_schema.models import Activity, Lead

from automations.config import AgencyConfig
from automations.unmatched_types import unmatched_message, unmatched_types
from automations.events import MANAGER_ALERT, REASSIGNED
from .formats import round_half_up, show
from .frames import (
    Month, activity_frame, contacted, events_named, leads_frame, mean, ratio,
)


@dataclass
class DashboardView:
    now: datetime  # local, naive
    figures: dict[str, Any]
    producers: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    def display(self) -> dict[str, str]:
        """Every figure as people read it ("75%", "7.8 min", "$14,200", "--" for nothing to show)."""
        return {k: show(v, KINDS.get(k, "count")) for k, v in self.figures.items()}

    def producer_display(self) -> list[dict[str, str]]:
        return [{k: (v if isinstance(v, str) else show(v, KINDS.get(k, "count"))) for k, v in p.items()}
                for p in self.producers]

    def as_json(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(timespec="seconds"), "figures": self.figures, "display": self.display(),
                "producers": self.producers, "producers_display": self.producer_display(),
                "sources": self.sources, "alerts": self.alerts}


KINDS = {"today_contacted_pct": "pct", "today_avg_response": "minutes", "avg_minutes": "minutes",
         "close_rate": "pct", "premium_this_week": "money0", "response_target": "minutes"}  # see report_formats.show


def _same(series: pd.Series, name: str) -> pd.Series:
    """COUNTIFS matches text case-insensitively; so do we."""
    return series.str.casefold() == name.casefold()


def dashboard_view(leads: Iterable[Lead], activity: Iterable[Activity], config: AgencyConfig,
                   now: datetime) -> DashboardView:
    leads = list(leads)
    tz = config.settings.tz
    df = leads_frame(leads, tz)
    events = activity_frame(activity, tz)
    local_now = now.astimezone(tz).replace(tzinfo=None)
    today = datetime.combine(local_now.date(), datetime.min.time())
    tomorrow = today + timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    month = Month(today.year, today.month)

    is_today = (df["received_at"] >= today) & (df["received_at"] < tomorrow)
    reached = contacted(df)
    stale = ((df["status"] == "New") & df["assigned_at"].notna()
             & (df["assigned_at"] <= local_now - timedelta(minutes=UNTOUCHED_MINUTES)) & ~reached)
    window = df["assigned_at"] >= today - timedelta(days=CLOSE_RATE_DAYS)

    producers = []
    for p in config.producers[:PRODUCER_SLOTS]:
        mine = _same(df["assigned_to"], p.name)
        leads_today, reached_today = int((mine & is_today).sum()), int((mine & is_today & reached).sum())
        avg = mean(df.loc[mine & is_today & reached, "response_minutes"])
        untouched = int((mine & stale).sum())
        producers.append({
            # CSR and Manager rows are on the web page only while they hold leads (a client's CSR, a fallback)
            "role": p.role, "listed": p.role == "Producer" or bool(leads_today or untouched),
            "name": p.name, "leads": leads_today, "contacted": reached_today, "avg_minutes": avg,
            "close_rate": ratio(int((mine & window & (df["status"] == "Bound")).sum()), int((mine & window).sum())),
            "untouched": untouched,
            "untouched_alert": (f"{p.name} has {untouched} lead{'' if untouched == 1 else 's'} untouched "
                                f"({UNTOUCHED_MINUTES} min+)") if untouched else "",
            "slow_alert": (f"{p.name} response time above target ({round_half_up(avg):g} min)"
                           if avg is not None and avg > RESPONSE_TARGET_MINUTES else ""),
        })

    in_month = month.contains(df["received_at"])
    sources = [{"source": s.source, "leads": int((in_month & _same(df["source"], s.source)).sum())}
               for s in config.sources[:SOURCE_SLOTS]]
    month_total = int(in_month.sum())
    bound_week = (df["status"] == "Bound") & (df["bound_at"] >= monday) & (df["bound_at"] < monday + timedelta(7))
    event_today = (events["time"] >= today) & (events["time"] < tomorrow)
    today_leads, today_contacted = int(is_today.sum()), int((is_today & reached).sum())

    figures = {
        "today_leads": today_leads,
        "today_contacted": today_contacted,
        "today_contacted_pct": ratio(today_contacted, today_leads),
        "today_avg_response": mean(df.loc[is_today & reached, "response_minutes"]),
        "response_target": RESPONSE_TARGET_MINUTES,
        "producers_untouched": sum(1 for p in producers if p["untouched"] > 0),
        "leads_untouched": int(stale.sum()),
        "producers_slow": sum(1 for p in producers if p["slow_alert"]),
        "reassigned_today": int((event_today & events_named(events, REASSIGNED)).sum()),
        "manager_alerts_today": int((event_today & events_named(events, MANAGER_ALERT)).sum()),
        "pipeline_new_today": today_leads,
        "pipeline_quoted": int((df["status"] == "Quoted").sum()),
        "pipeline_follow_up_due": int(((df["next_follow_up"] < tomorrow)
                                       & ~df["status"].isin(["Bound", "Lost"])).sum()),
        "binds_this_week": int(bound_week.sum()),
        "premium_this_week": float(df.loc[bound_week, "premium"].fillna(0).sum()),
        "month_total": month_total,
        "month_other_sources": month_total - sum(s["leads"] for s in sources),
    }
    alerts = [a for p in producers for a in (p["untouched_alert"], p["slow_alert"]) if a]
    recent = [lead for lead in leads if lead.received_at >= now - timedelta(days=90)]
    alerts += [unmatched_message(answer, n) for answer, n in unmatched_types(recent, config)]
    return DashboardView(local_now, figures, producers, sources, alerts)
