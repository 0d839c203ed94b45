"""The guide's reports with pandas: the lead source report and the monthly summary.

Definitions (so that a hand count agrees with the report):
- a lead belongs to the month it was received in (the agency's time zone);
- contacted = First Contact At present; "< 5 min" / "< 30 min" = contacted with Response
  Minutes (business minutes from assignment) under 5 / 30;
- quoted = Status Quoted or Bound, or a Quoted At stamp; bound = Status Bound;
- premium written = sum of Premium of the bound leads; commission = premium x the source's
  Commission Rate (blank = 0);
- cost of a source = Cost Per Lead x its leads + Monthly Spend; cost per lead/bind = cost
  divided by leads/binds; ROI = (commission - cost) / cost;
- reassignments = Activity events starting with "reassign"; escalations to the manager =
  Activity events starting with "manager", both timed in the month;
- contact attempts (48 hrs) = call connect's "call attempt" rows (one per bridged call to the lead)
  within 48 hours of arrival, per lead of the month;
- producers are ranked by close rate (bound / leads), then by average response time.
A ratio with nothing to divide by is None (shown as "--"), never an error.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import pandas as pd

from sheets_schema.models import Activity, Lead

from automations.config import AgencyConfig
from automations.events import CALL_ATTEMPT, MANAGER_ALERT, REASSIGNED
from automations.ports import Message, Store
from .figures import PRODUCER_COLUMNS, SOURCE_COLUMNS, Figure, MonthlyReport
from .frames import (
    Month, activity_frame, bound, contacted, events_named, leads_frame, mean, quoted, ratio,
)

UNSOURCED = "(no source)"
UNASSIGNED = "(unassigned)"
NO_LINE = "(no line)"

def _month_leads(leads: Iterable[Lead], config: AgencyConfig, month: Month) -> pd.DataFrame:
    df = leads_frame(leads, config.settings.tz)
    return df[month.contains(df["received_at"])].reset_index(drop=True)


def _source_row(name: str, df: pd.DataFrame, cost_per_lead: float, spend: float, rate: float) -> dict[str, Any]:
    n = len(df)
    fast = int((contacted(df) & (df["response_minutes"] < 5)).sum())
    n_quoted, is_bound = int(quoted(df).sum()), bound(df)
    n_bound = int(is_bound.sum())
    premium = float(df.loc[is_bound, "premium"].fillna(0).sum())
    cost = cost_per_lead * n + spend
    commission = premium * rate
    return {
        "source": name, "leads": n, "contacted_5": fast, "contacted_5_pct": ratio(fast, n),
        "quoted": n_quoted, "quoted_pct": ratio(n_quoted, n), "bound": n_bound, "bound_pct": ratio(n_bound, n),
        "premium": premium, "cost": cost, "cost_per_lead": ratio(cost, n), "cost_per_bind": ratio(cost, n_bound),
        "avg_premium": ratio(premium, n_bound), "commission": commission, "roi": ratio(commission - cost, cost),
    }


def source_table(df: pd.DataFrame, config: AgencyConfig) -> pd.DataFrame:
    """One row per source of the Sources tab (zero-lead ones too: their spend still counts),
    then sources seen on leads but missing from the tab (no cost known), then a Total row."""
    key = df["source"].str.strip().str.casefold()
    rows, seen = [], set()
    for s in config.sources:
        folded = s.source.strip().casefold()
        seen.add(folded)
        rows.append(_source_row(s.source, df[key == folded], s.cost_per_lead or 0.0, s.monthly_spend or 0.0,
                                s.commission_rate or 0.0))
    for name in sorted({n for n in df["source"] if n.strip().casefold() not in seen}, key=str.casefold):
        rows.append(_source_row(name or UNSOURCED, df[df["source"] == name], 0.0, 0.0, 0.0))
    total = _source_row("Total", df, 0.0, 0.0, 0.0)
    total["cost"] = sum(r["cost"] for r in rows)
    total["commission"] = sum(r["commission"] for r in rows)
    total.update(cost_per_lead=ratio(total["cost"], total["leads"]), cost_per_bind=ratio(total["cost"], total["bound"]),
                 roi=ratio(total["commission"] - total["cost"], total["cost"]))
    return pd.DataFrame(rows + [total], columns=list(SOURCE_COLUMNS), dtype=object)  # None stays None


def source_report(leads: Iterable[Lead], config: AgencyConfig, month: Month) -> pd.DataFrame:
    """The guide's "Lead Source Report" for one month."""
    return source_table(_month_leads(leads, config, month), config)


def producer_table(df: pd.DataFrame, config: AgencyConfig) -> pd.DataFrame:
    """Producers ranked by close rate, then response time; everyone with the Producer role is listed,
    with or without leads, plus anyone else who owned a lead this month."""
    names = [p.name for p in config.producers if p.role == "Producer"]
    folded = {n.casefold() for n in names}
    names += sorted({n for n in df["assigned_to"] if n.casefold() not in folded}, key=str.casefold)
    rows = []
    for name in names:
        mine = df[df["assigned_to"].str.casefold() == name.casefold()]
        n, reached = len(mine), contacted(mine)
        n_bound = int(bound(mine).sum())
        rows.append({
            "producer": name or UNASSIGNED, "leads": n, "contacted": int(reached.sum()),
            "contacted_5_pct": ratio(int((reached & (mine["response_minutes"] < 5)).sum()), n),
            "avg_response": mean(mine.loc[reached, "response_minutes"]), "quoted": int(quoted(mine).sum()),
            "bound": n_bound, "close_rate": ratio(n_bound, n),
            "premium": float(mine.loc[bound(mine), "premium"].fillna(0).sum()),
        })
    rows.sort(key=lambda r: (r["close_rate"] is None, -(r["close_rate"] or 0),
                             r["avg_response"] is None, r["avg_response"] or 0, r["producer"].casefold()))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return pd.DataFrame(rows, columns=list(PRODUCER_COLUMNS), dtype=object)


def _counts(series: pd.Series, blank: str, name: str) -> pd.DataFrame:
    values = series.where(series.str.strip() != "", blank)
    counts = values.value_counts(sort=False)
    frame = pd.DataFrame({name: counts.index.astype(str), "leads": counts.to_numpy(dtype=int)})
    return frame.sort_values(["leads", name], ascending=[False, True], ignore_index=True)


def monthly_report(leads: Iterable[Lead], activity: Iterable[Activity], config: AgencyConfig,
                   month: Month) -> MonthlyReport:
    """The guide's "Lead Distribution Monthly Report" for one month."""
    df = _month_leads(leads, config, month)
    every_event = activity_frame(activity, config.settings.tz)
    events = every_event[month.contains(every_event["time"])]
    n = len(df)
    reached = contacted(df)
    minutes = df["response_minutes"]
    n_quoted, n_bound = int(quoted(df).sum()), int(bound(df).sum())
    sources = source_table(df, config)
    total = sources.iloc[-1]
    sections = {
        "Volume": [Figure("total_leads", "Total leads received", n)],
        "Speed": [
            Figure("avg_response", "Avg first response time", mean(df.loc[reached, "response_minutes"]), "minutes"),
            Figure("contacted_5_pct", "Leads contacted <5 min", ratio(int((reached & (minutes < 5)).sum()), n), "pct"),
            Figure("contacted_30_pct", "Leads contacted <30 min", ratio(int((reached & (minutes < 30)).sum()), n),
                   "pct"),
            Figure("never_contacted", "Leads never contacted", int((~reached).sum())),
            Figure("contact_attempts_48h", "Contact attempts (48 hrs)", attempts_48h(df, every_event)),
        ],
        "Distribution": [
            Figure("reassignments", "Reassignments due to slow response",
                   int(events_named(events, REASSIGNED).sum())),
            Figure("escalations", "Escalations to manager", int(events_named(events, MANAGER_ALERT).sum())),
        ],
        "Conversion": [
            Figure("lead_to_quote", "Lead-to-quote ratio", ratio(n_quoted, n), "pct"),
            Figure("quote_to_bind", "Quote-to-bind ratio", ratio(n_bound, n_quoted), "pct"),
            Figure("lead_to_bind", "Lead-to-bind ratio", ratio(n_bound, n), "pct"),
            Figure("premium", "Total premium written", float(total["premium"]), "money"),
        ],
        "Cost": [
            Figure("total_cost", "Total lead acquisition cost", float(total["cost"]), "money"),
            Figure("cost_per_lead", "Cost per lead", _opt(total["cost_per_lead"]), "money"),
            Figure("cost_per_bind", "Cost per bind", _opt(total["cost_per_bind"]), "money"),
        ],
    }
    return MonthlyReport(month, config.settings.agency_name, sections,
                         by_source=_counts(df["source"], UNSOURCED, "source"),
                         by_line=_counts(df["line"], NO_LINE, "line"),
                         producers=producer_table(df, config), sources=sources)


def attempts_48h(df: pd.DataFrame, events: pd.DataFrame) -> float | None:
    """Mean bridged calls per lead within 48 hours of its arrival (call connect's "call attempt"
    rows, one per call placed to the lead), over the month's leads; None without leads."""
    if df.empty:
        return None
    calls = events[events["event"].str.lower() == CALL_ATTEMPT][["lead_id", "time"]]
    joined = calls.merge(df[["lead_id", "received_at"]], on="lead_id")
    within = joined[(joined["time"] >= joined["received_at"])
                    & (joined["time"] - joined["received_at"] <= pd.Timedelta(hours=48))]
    return round(len(within) / len(df), 1)


def _opt(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def monthly_report_message(store: Store, config: AgencyConfig, month: Month | str) -> Message | None:
    """The monthly report as one email to every Manager with an Email: None when there is
    nobody to send it to, or when the month had neither a lead nor a cost.

    The key is per month, so claim-before-send (automations.notify.delivery.deliver) sends it once
    however often the scheduler calls this on the 1st.
    """
    from .formats import monthly_html, monthly_markdown  # renderings live with the other formats
    month = Month.parse(month) if isinstance(month, str) else month
    emails = [m.email.strip() for m in config.managers if m.email.strip()]
    if not emails:
        return None
    report = monthly_report(store.leads(), store.activity(), config, month)
    if not report.figure("total_leads").value and not report.figure("total_cost").value:
        return None  # spend with no lead is news; an empty month of a new install is not
    return Message(key=f"report/monthly/{month}", channel="email", to=", ".join(emails),
                   subject=f"{config.settings.agency_name}: lead distribution report {month}",
                   body=monthly_markdown(report), html=monthly_html(report), recipient="manager",
                   template="monthly_report")


def report_month(now: datetime, config: AgencyConfig, text: str | None = None) -> Month:
    """The month asked for, or the current month in the agency's time zone."""
    return Month.parse(text) if text else Month.of(now, config.settings.tz)
