"""How long the manager waits: dashboard figures, monthly report and xlsx export over a year of leads.

Run: python benchmarks/reports_bench.py [--leads 10000]
Prints seconds per operation on a throwaway SQLite store (nothing is sent anywhere).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automations.reports.dashboard import dashboard_view  # noqa: E402
from automations.reports.frames import Month  # noqa: E402
from automations.reports.monthly import monthly_report, source_report  # noqa: E402
from sheets_schema.demo import demo_rows  # noqa: E402
from sheets_schema.models import Activity, Lead  # noqa: E402
from sheets_schema.sql_store import SqlStore  # noqa: E402
from sheets_schema.workbook import export_workbook  # noqa: E402

PRODUCERS = ["Sarah M.", "James K.", "Rachel T.", "David L."]
SOURCES = ["Website", "Google Ads", "Facebook Ads", "Referral", "Carrier", "QuoteWizard", "Walk-in / Phone"]


def fill(store: SqlStore, count: int, now: datetime) -> None:
    rng = random.Random(8)
    events = []
    for i in range(count):
        received = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
        status = rng.choice(["New", "Contacted", "Quoted", "Bound", "Lost"])
        minutes = None if status == "New" else round(rng.expovariate(1 / 12), 1)
        store.add_lead(Lead(
            lead_id=f"L-{10000 + i}", received_at=received, first_name="B", last_name=str(i), zip="10050",
            insurance_type="Auto", line="Personal", source=rng.choice(SOURCES), assigned_to=rng.choice(PRODUCERS),
            assigned_at=received, status=status,
            first_contact_at=received + timedelta(minutes=minutes) if minutes is not None else None,
            response_minutes=minutes, premium=round(rng.uniform(500, 3000), 2) if status == "Bound" else None,
            bound_at=received + timedelta(days=2) if status == "Bound" else None))
        events.append(Activity(time=received, lead_id=f"L-{10000 + i}", event="assigned", detail="bench"))
        if rng.random() < 0.05:
            events.append(Activity(time=received + timedelta(minutes=30), lead_id=f"L-{10000 + i}",
                                   event="reassigned", detail="bench"))
    store.add_activity(events)


def timed(label: str, fn) -> None:
    start = time.perf_counter()
    fn()
    print(f"{label:<40} {time.perf_counter() - start:7.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{tmp}/bench.db")
        store.init()
        for tab, rows in demo_rows().items():
            store.replace_rows(tab, rows)
        start = time.perf_counter()
        fill(store, args.leads, now)
        print(f"{args.leads} leads over 12 months loaded in {time.perf_counter() - start:.1f} s")
        config = store.config()
        month = Month.of(now, config.settings.tz)
        timed("read leads + activity from the store", lambda: (store.leads(), store.activity()))
        leads, activity = store.leads(), store.activity()
        timed("dashboard figures (GET /dashboard)", lambda: dashboard_view(leads, activity, config, now))
        timed("source report (one month)", lambda: source_report(leads, config, month))
        timed("monthly report", lambda: monthly_report(leads, activity, config, month))
        timed("export workbook (all tabs + Dashboard)", lambda: export_workbook(store, f"{tmp}/bench.xlsx"))
        print(f"xlsx size: {Path(tmp, 'bench.xlsx').stat().st_size / 1e6:.1f} MB")
        store.close()


if __name__ == "__main__":
    main()
