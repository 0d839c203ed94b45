"""POST /leads latency and throughput on the embedded SQLite store, in one process.

    python benchmarks/intake.py [--leads 2000] [--preload 10000]

Posts JSON leads one after another through the WSGI app (no network) on a SQLite file that
already holds `--preload` leads. Runs twice: the owner's minute-0 text and email (console
notifier) sent on the background pool, as `serve` does, then inline before the response.
Prints p50/p95/p99/max latency and throughput. Target: p99 <= 20 ms.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from automations.clock import SystemClock  # noqa: E402
from sheets_schema.demo import demo_rows  # noqa: E402
from sheets_schema.models import Lead  # noqa: E402
from sheets_schema.sql_store import SqlStore, leads_t  # noqa: E402


def preload(store: SqlStore, count: int) -> None:
    """Old leads, so duplicate checks and workload queries run against a realistic table."""
    start = datetime.now(timezone.utc) - timedelta(days=60)
    owners = ["Sarah M.", "James K.", "Rachel T.", "David L."]
    rows = []
    for i in range(count):
        lead = Lead(lead_id=f"L-{100000 + i}", received_at=start + timedelta(minutes=i), first_name="Old",
                    last_name=f"Lead{i}", email=f"old{i}@example.com", phone=f"+1212555{i % 10000:04d}",
                    zip="10150", insurance_type="Auto", line="Personal", source="Website",
                    assigned_to=owners[i % 4], assigned_at=start + timedelta(minutes=i),
                    status=("New", "Contacted", "Quoted", "Bound", "Lost")[i % 5])
        rows.append({k: v for k, v in lead.to_text_row().items()})
    from sheets_schema.sql_store import _encode
    from sheets_schema.tabs import LEADS
    with store.engine.begin() as conn:
        conn.execute(leads_t.insert(), [_encode(LEADS, Lead.from_row(r).to_row()) for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--preload", type=int, default=10000)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    for inline in (False, True):
        run(args, inline)


def run(args, inline: bool) -> None:

    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{tmp}/bench.db")
        store.init()
        for tab, rows in demo_rows().items():
            store.replace_rows(tab, rows)
        preload(store, args.preload)
        store.init()  # as after a restart: refreshes the planner's statistics
        app = create_app({"SEND_INLINE": inline}, store=store, clock=SystemClock())
        client = app.test_client()
        latencies = []
        began = time.perf_counter()
        for i in range(args.leads):
            payload = dict(first_name="Bench", last_name=f"Mark{i}", email=f"bench{i}@example.com",
                           phone=f"+1917555{i % 10000:04d}", zip="10150", insurance_type="Auto", utm_source="google",
                           consent="yes")
            t = time.perf_counter()  # each lead from its own visitor's address (the public limits count per address)
            r = client.post("/leads", json=payload, environ_base={"REMOTE_ADDR": f"10.9.{i // 256 % 256}.{i % 256}"})
            latencies.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 201, r.get_json()
        elapsed = time.perf_counter() - began
        app.extensions["leadrouter"].drain()
        sent = sum(1 for a in store.activity() if a.event == "sms sent")
        store.close()

    q = statistics.quantiles(latencies, n=100)
    mode = "inline (before the response)" if inline else "on the background pool (as in serve)"
    print(f"POST /leads on SQLite, {args.leads} leads, {args.preload} preloaded, notifications {mode}; "
          f"{sent} owner texts sent")
    print(f"  p50 {q[49]:.2f} ms   p95 {q[94]:.2f} ms   p99 {q[98]:.2f} ms   max {max(latencies):.2f} ms")
    print(f"  throughput {args.leads / elapsed:.0f} leads/s (one thread)")
    print(f"  target p99 <= 20 ms: {'met' if q[98] <= 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
