"""How long one scheduler tick takes, and its peak memory, at 1k, 10k and 100k leads on SQLite.

Builds a year of history per size (most leads contacted and closed, ~3% never reached and
in the monthly nurture, a few dozen arriving in the last two hours and climbing the
ladder, a few Status edits waiting for their stamps), with the Activity journal that
earlier ticks would have left, then times `run_tick` (config read included) twice:
the first pass does the due work, the second is the steady state.

    .venv/bin/python benchmarks/tick.py [1000 10000 100000]
Target: under 1 s per tick at 100k leads.
"""
from __future__ import annotations

import logging
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from automations.actions import Journal  # noqa: E402
from automations.business_hours import BusinessHours  # noqa: E402
from automations.clock import FrozenClock  # noqa: E402
from automations.console_notifier import ConsoleNotifier  # noqa: E402
from automations.escalation import MANAGER_RUNG, RUNGS  # noqa: E402
from automations.sequence import STEPS, next_follow_up, nurture  # noqa: E402
from automations.tick import run_tick  # noqa: E402
from sheets_schema.demo import demo_rows  # noqa: E402
from sheets_schema.models import Activity, Lead  # noqa: E402
from sheets_schema.sql_store import SqlStore, _encode, activity_t, leads_t  # noqa: E402
from sheets_schema.tabs import ACTIVITY, LEADS  # noqa: E402

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)  # a Tuesday, 10:00 in New York
PRODUCERS = ["Sarah M.", "James K.", "Rachel T.", "David L."]
ZIPS = ["10050", "10150", "10250", "10350"]
TYPES = ["Auto", "Home", "Renters", "BOP", "General Liability"]
SOURCES = ["Website", "Google Ads", "Facebook Ads", "Referral", "QuoteWizard"]


def build(store: SqlStore, n: int, rng: random.Random) -> None:
    store.init()
    for tab, rows in demo_rows().items():
        store.replace_rows(tab, rows)
    config = store.config()
    hours = BusinessHours.from_settings(config.settings)
    leads, events = [], []
    recent = min(40, n // 50)
    for i in range(n):
        lead_id = f"L-{1001 + i}"
        if i >= n - recent:  # arriving now: the ladder's business
            received = NOW - timedelta(minutes=rng.uniform(0, 120))
        else:
            received = NOW - timedelta(days=rng.uniform(0.2, 365))
        owner = PRODUCERS[i % 4]
        lead = Lead(lead_id=lead_id, received_at=received, first_name="Pat", last_name=f"Lee{i}",
                    email=f"p{i}@example.com", phone=f"+1201555{i % 10000:04d}", zip=ZIPS[i % 4], state="NY",
                    time_zone="America/New_York", insurance_type=TYPES[i % 5], line="Personal",
                    source=SOURCES[i % 5], priority="High" if i % 5 == 3 else "Normal", assigned_to=owner,
                    assigned_at=received, routing_reason="round_robin", status="New")
        events += [Activity(time=received, lead_id=lead_id, event="received", detail="lead"),
                   Activity(time=received, lead_id=lead_id, event="assigned", detail=owner)]
        for channel in ("sms", "email"):
            key = f"{lead_id}/assigned/{owner}/{channel}"
            events += [Activity(time=received, lead_id=lead_id, event=f"{channel} sending", detail="x", key=key),
                       Activity(time=received, lead_id=lead_id, event=f"{channel} sent", detail="x", key=key + "|sent")]
        untouched = i >= n - recent or rng.random() < 0.03
        edited = not untouched and i % 997 == 0  # a Status edit the tick has not seen yet
        if untouched and i < n - recent:
            keys = [f"{lead_id}/{r.step}" for r in (*RUNGS, MANAGER_RUNG)] + [f"{lead_id}/{s.step}" for s in STEPS]
            age = (NOW - received).days
            keys += [f"{lead_id}/{nurture(m).step}" for m in range(1, 14) if 30 * m + 3 < age]
            events += [Activity(time=received, lead_id=lead_id, event="follow-up", detail="done", key=k) for k in keys]
            journal = Journal.from_rows((k, "follow-up") for k in keys)
            lead = lead.model_copy(update={"next_follow_up": next_follow_up(lead, config, hours, journal, NOW)})
        elif not untouched:
            status = rng.choice(["Contacted", "Quoted", "Bound", "Lost", "Lost"])
            contact = received + timedelta(minutes=rng.uniform(1, 40))
            lead = lead.model_copy(update={
                "status": status, "first_contact_at": None if edited else contact,
                "response_minutes": None if edited else round((contact - received).total_seconds() / 60, 1),
                "quoted_at": contact if status in ("Quoted", "Bound") and not edited else None,
                "bound_at": contact if status == "Bound" and not edited else None})
            events.append(Activity(time=contact, lead_id=lead_id, event="status", detail=status))
        leads.append(_encode(LEADS, lead.to_row()))
    indexes = [*leads_t.indexes, *activity_t.indexes]
    with store.engine.begin() as conn:  # bulk load without indexes, then build them once
        for index in indexes:
            index.drop(conn)
        for i in range(0, len(leads), 5000):
            conn.execute(insert(leads_t), leads[i:i + 5000])
        rows = [_encode(ACTIVITY, e.to_row()) for e in events]
        for i in range(0, len(rows), 20000):
            conn.execute(insert(activity_t), rows[i:i + 20000])
        for index in indexes:
            index.create(conn)
    store.set_state("lead_counter", str(1000 + n))


def timed_tick(store: SqlStore, notifier: ConsoleNotifier, at: datetime):
    started = time.perf_counter()
    report = run_tick(store, notifier, FrozenClock(at))  # reads the config tabs too, as every tick does
    return report, time.perf_counter() - started


def measure(n: int, workdir: Path) -> None:
    store = SqlStore(f"sqlite:///{workdir / f'bench-{n}.db'}")
    started = time.perf_counter()
    build(store, n, random.Random(n))
    built = time.perf_counter() - started
    notifier = ConsoleNotifier()
    first, first_s = timed_tick(store, notifier, NOW)
    second, _ = timed_tick(store, notifier, NOW + timedelta(seconds=30))  # sequences deferred by reassignments
    steady, steady_s = timed_tick(store, notifier, NOW + timedelta(seconds=60))
    tracemalloc.start()
    timed_tick(store, notifier, NOW + timedelta(seconds=90))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    errors = len(first.errors + second.errors + steady.errors)
    print(f"{n:>7} leads | watched {first.watched:>5} | busy tick {first_s:6.3f} s ({len(first.done)} steps, "
          f"{first.sent} sent) | steady tick {steady_s:6.3f} s ({len(steady.done)} steps) | "
          f"peak memory {peak / 1e6:5.1f} MB | errors {errors} | data built in {built:.0f} s")
    store.close()


def main() -> None:
    logging.disable(logging.INFO)
    sizes = [int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000]
    with tempfile.TemporaryDirectory(prefix="tick-bench-") as tmp:
        for n in sizes:
            measure(n, Path(tmp))


if __name__ == "__main__":
    main()
