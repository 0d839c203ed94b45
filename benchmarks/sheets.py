"""Google Sheets backend under a slow Google: 300 ms per API call (the fake Sheets API on loopback).

Prints form response time p50/p99 (target <= 1 s), time from post to the owner's
notification (target <= 2 s), and API calls per lead and per tick; then the same figures
during an outage, a 429 storm (every append refused) and an append hang (Google takes 5 s
to answer each append); and whether each lead ended up in the sheet exactly once. Backoff
waits are real sleeps here.

    .venv/bin/python benchmarks/sheets.py [--leads 30] [--latency 0.3] [--concurrency 4]
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from app import create_app  # noqa: E402
from automations.clock import FrozenClock  # noqa: E402
from sheets_schema.demo import demo_rows  # noqa: E402
from tests.fake_sheets_api import FakeSheets  # noqa: E402
from tests.gsheets_fixtures import make_store, write_service_account  # noqa: E402


class TimedNotifier:
    """Records when each owner's text left (a stand-in for Twilio)."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.lock = threading.Lock()

    def send(self, message) -> str:
        if message.channel == "sms" and message.recipient != "lead":
            with self.lock:
                self.sent.setdefault(message.lead_id, time.perf_counter())
        return "SM" + message.key[-8:]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    logging.getLogger("leadrouter").setLevel(logging.ERROR)  # the outage part warns on purpose

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    workdir = Path(tempfile.mkdtemp(prefix="leadrouter-bench-"))
    fake = FakeSheets("1BenchSpreadsheet", public_key_pem=public).start()
    clock = FrozenClock(datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc))
    store = make_store(fake, write_service_account(workdir / "sa.json", private, fake.token_uri),
                       workdir / "journal.db", time.sleep, clock=clock)
    try:
        store.init()
        for tab, rows in demo_rows().items():
            store.replace_rows(tab, rows)
        store.refresh()
        fake.latency = args.latency
        notifier = TimedNotifier()
        app = create_app({"TESTING": True}, store=store, clock=clock, notifier=notifier)  # sends on a pool
        client = app.test_client()

        def post(i: int) -> tuple[str, float, float, int]:
            start = time.perf_counter()
            r = client.post("/leads", json={"first_name": "Bench", "last_name": f"Lead{i}",
                                            "email": f"bench{i}@example.com", "phone": f"201555{i:04d}",
                                            "zip": "10150", "insurance_type": "Auto"})
            return r.get_json()["lead_id"], start, time.perf_counter() - start, r.status_code

        warm_up = post(9_999)[2]  # the first post also loads the ZIP database and builds the config cache
        mark = fake.mark()
        sequential = [post(i) for i in range(args.leads)]
        with ThreadPoolExecutor(args.concurrency) as pool:
            concurrent = list(pool.map(post, range(args.leads, 2 * args.leads)))
        calls_posts = fake.count(since=mark)
        app.extensions["leadrouter"].drain()
        results = sequential + concurrent
        mark = fake.mark()
        store.refresh()  # the tick after the burst: mirrors Activity
        calls_busy_tick = fake.count(since=mark)
        mark = fake.mark()
        store.refresh()
        calls_idle_tick = fake.count(since=mark)
        fake.down = True  # Google answers 503 (after the same latency) for a while
        outage = [post(i) for i in range(2 * args.leads, 2 * args.leads + 10)]
        app.extensions["leadrouter"].drain()
        fake.down = False
        mark = fake.mark()
        store.refresh()
        calls_recovery = fake.count(since=mark)
        in_sheet = sum(1 for r in fake.records("Leads") if r["Lead ID"] in {lead_id for lead_id, *_ in outage})

        fake.fail_next(20, 429, kind="values.append")  # quota: Google refuses every append for a while
        storm = [post(i) for i in range(3000, 3010)]
        app.extensions["leadrouter"].drain()
        fake.slow_next("values.append", 5.0, count=10)  # Google takes 5 s over each append (it lands then)
        hang = [post(i) for i in range(4000, 4010)]
        app.extensions["leadrouter"].drain()
        fake.wait_idle(30)
        clock.advance(seconds=61)  # past the grace period of the appends we gave up on
        store.refresh()
        store.refresh()
        counts = Counter(r["Lead ID"] for r in fake.records("Leads"))
        once = {label: sum(1 for lead_id, *_ in rows if counts[lead_id] == 1)
                for label, rows in (("storm", storm), ("hang", hang))}
    finally:
        store.close()
        fake.stop()

    statuses = {code for *_, code in results}
    print(f"Google Sheets backend, {args.latency * 1000:.0f} ms per API call, {2 * args.leads} leads "
          f"({args.leads} one by one, {args.leads} with {args.concurrency} at a time); statuses {sorted(statuses)}")
    print(f"  warm-up post (first in the process, not counted): {warm_up:.3f} s")
    for label, rows in (("one by one", sequential), (f"{args.concurrency} at a time", concurrent)):
        times = [t for _, _, t, _ in rows]
        notify = [notifier.sent[lead_id] - start for lead_id, start, _, _ in rows if lead_id in notifier.sent]
        print(f"  {label:>12}: form response p50 {statistics.median(times):.3f} s  p99 {pct(times, 99):.3f} s"
              f"  (target <= 1 s) | post -> owner's text p50 {statistics.median(notify):.3f} s"
              f"  p99 {pct(notify, 99):.3f} s  (target <= 2 s)")
    times = [t for _, _, t, _ in outage]
    notify = [notifier.sent[lead_id] - start for lead_id, start, _, _ in outage if lead_id in notifier.sent]
    print(f"  during an outage: statuses {sorted({code for *_, code in outage})}, form response p50 "
          f"{statistics.median(times):.3f} s, owner's text p50 {statistics.median(notify):.3f} s; "
          f"after it, {in_sheet} of {len(outage)} queued leads written in {calls_recovery} API calls")
    for label, rows in (("429 storm (every append refused)", storm), ("append hang (5 s per append)", hang)):
        times = [t for _, _, t, _ in rows]
        notify = [notifier.sent[lead_id] - start for lead_id, start, _, _ in rows if lead_id in notifier.sent]
        key = "storm" if "storm" in label else "hang"
        print(f"  {label}: statuses {sorted({code for *_, code in rows})}, form response p50 "
              f"{statistics.median(times):.3f} s  max {max(times):.3f} s | owner's text p50 "
              f"{statistics.median(notify):.3f} s  max {max(notify):.3f} s; in the sheet exactly once afterwards: "
              f"{once[key]} of {len(rows)}")
    print(f"  API calls per new lead: {calls_posts / len(results):.2f}  (target <= 1 write)")
    print(f"  API calls per tick: {calls_busy_tick} after the burst (1 read + 1 batched write), "
          f"{calls_idle_tick} when idle  (quota 60/min; a 30 s tick uses {2 * calls_idle_tick}/min idle)")


if __name__ == "__main__":
    main()
