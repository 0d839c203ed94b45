"""How long one scheduler tick takes, and its peak memory, at 1k, 10k and 100k leads on SQLite.

Builds a year of history per size (most leads contacted and closed, ~3% never reached and
in the monthly nurture, a few dozen arriving in the last two hours and climbing the
ladder, a few Status edits waiting for their stamps), with the Activity journal and the
status-sweep memory that earlier ticks would have left, then times `run_tick` (config read
included): the busy pass that does the due work (and its peak memory, measured on a copy of
the same database, since tracing slows the pass down), the steady state, and the ticks that
run the status sweeps (the 10-minute one over the last 30 days' leads, the daily one over
all of them; a few sheet edits to log each time).

    .venv/bin/python benchmarks/tick.py [1000 10000 100000]
Target: under 1 s per tick at 100k leads.
"""
from __future__ import annotations

import json
import logging
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from automations.speed_clock.actions import Journal  # noqa: E402
from automations.speed_clock.business_hours import BusinessHours  # noqa: E402
from automations.clock import FrozenClock  # noqa: E402
from automations.notify.channels.console import ConsoleNotifier  # noqa: E402
from automations.speed_clock.escalation import MANAGER_RUNG, RUNGS  # noqa: E402
from automations.speed_clock.sequence import STEPS, next_follow_up, nurture  # noqa: E402
from automations.speed_clock.tick import (  # noqa: E402
    RECENT_DAYS, STATUS_FULL_SWEEP_AT, STATUS_SEEN, STATUS_SWEPT_AT, SWEEP_EVERY, run_tick)
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
    leads, events, seen = [], [], {}
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
        seen[lead_id] = "New" if edited else lead.status  # what the last sweep saw
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
    store.set_state(STATUS_SEEN, json.dumps({"since": (NOW - timedelta(days=366)).isoformat(), "seen": seen}))
    store.set_state(STATUS_SWEPT_AT, (NOW - timedelta(minutes=1)).isoformat())
    store.set_state(STATUS_FULL_SWEEP_AT, (NOW - timedelta(hours=1)).isoformat())


def edit_statuses(store: SqlStore, n: int, rng: random.Random, recent: bool) -> int:
    """People close a few contacted leads in the sheet (Contacted -> Lost): the sweep's work."""
    edge = NOW - timedelta(days=RECENT_DAYS)
    contacted = [lead for lead in store.open_leads()
                 if lead.status == "Contacted" and (lead.received_at >= edge) == recent]
    edited = rng.sample(contacted, min(len(contacted), max(1, n // 2000)))
    for lead in edited:
        store.update_lead(lead.lead_id, {"status": "Lost"})
    return len(edited)


def timed_tick(store: SqlStore, notifier: ConsoleNotifier, at: datetime):
    started = time.perf_counter()
    report = run_tick(store, notifier, FrozenClock(at))  # reads the config tabs too, as every tick does
    return report, time.perf_counter() - started


def busy_peak_memory(path: Path, copy: Path) -> float:
    """Peak memory (MB) of the busy tick, on a copy of the database as built."""
    shutil.copyfile(path, copy)
    store = SqlStore(f"sqlite:///{copy}")
    tracemalloc.start()
    timed_tick(store, ConsoleNotifier(), NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    store.close()
    return peak / 1e6


def measure(n: int, workdir: Path) -> None:
    path = workdir / f"bench-{n}.db"
    store = SqlStore(f"sqlite:///{path}")
    started = time.perf_counter()
    build(store, n, random.Random(n))
    built = time.perf_counter() - started
    store.close()
    peak = busy_peak_memory(path, workdir / f"bench-{n}-copy.db")
    store = SqlStore(f"sqlite:///{path}")
    notifier = ConsoleNotifier()
    first, first_s = timed_tick(store, notifier, NOW)
    second, _ = timed_tick(store, notifier, NOW + timedelta(seconds=30))  # sequences deferred by reassignments
    steady, steady_s = timed_tick(store, notifier, NOW + timedelta(seconds=60))
    edited = edit_statuses(store, n, random.Random(n + 1), recent=True)
    sweep, sweep_s = timed_tick(store, notifier, NOW + SWEEP_EVERY)  # the 10-minute sweep: recent leads
    old = edit_statuses(store, n, random.Random(n + 2), recent=False)
    store.set_state(STATUS_FULL_SWEEP_AT, (NOW - timedelta(days=2)).isoformat())
    daily, daily_s = timed_tick(store, notifier, NOW + 2 * SWEEP_EVERY)  # the daily sweep: every lead
    logged = [sum(1 for line in r.done if " status: Contacted -> Lost" in line) for r in (sweep, daily)]
    errors = len(first.errors + second.errors + steady.errors + sweep.errors + daily.errors)
    print(f"{n:>7} leads | watched {first.watched:>5} | busy tick {first_s:6.3f} s ({len(first.done)} steps, "
          f"{first.sent} sent, peak memory {peak:5.1f} MB) | steady tick {steady_s:6.3f} s "
          f"({len(steady.done)} steps) | 10-min sweep tick {sweep_s:6.3f} s ({logged[0]}/{edited} edits) | "
          f"daily sweep tick {daily_s:6.3f} s ({logged[1]}/{old} edits) | errors {errors} | "
          f"data built in {built:.0f} s")
    store.close()


def main() -> None:
    logging.disable(logging.INFO)
    sizes = [int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000]
    with tempfile.TemporaryDirectory(prefix="tick-bench-") as tmp:
        for n in sizes:
            measure(n, Path(tmp))


if __name__ == "__main__":
    main()
