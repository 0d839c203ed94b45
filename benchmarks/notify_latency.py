"""How long from a form post to the owner's text reaching Twilio (target: under 2 s), and how
fast the outbox drains after an outage.

Runs the real app (werkzeug server, background send pool, as `leadrouter serve` does) on a
throwaway SQLite store, with the real twilio client pointed at the Twilio stand-in on
127.0.0.1. Run:  .venv/bin/python benchmarks/notify_latency.py [--leads 40] [--backlog 200]
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from automations.clock import SystemClock  # noqa: E402
from automations.notify.delivery import retry_due  # noqa: E402
from automations.notify.outbox import RetryPolicy, pending  # noqa: E402
from sheets_schema.sql_store import SqlStore  # noqa: E402
from tests.conftest import lead_payload, load_demo  # noqa: E402
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, TwilioFake  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=40)
    parser.add_argument("--backlog", type=int, default=100)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("leadrouter").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{tmp}/bench.db")
        load_demo(store)
        # every post comes from 127.0.0.1: the per-address limits (benchmarks/abuse.py) are off here
        store.replace_rows("Settings", store.read_rows("Settings") + [
            {"setting": "Form Posts Per Minute", "value": "off"},
            {"setting": "Form Posts Per Contact Per Hour", "value": "off"}])
        twilio = TwilioFake().start()
        policy = RetryPolicy(immediate=())
        app = create_app({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                          "TWILIO_FROM": "+12015550100", "TWILIO_API": twilio.url, "SMTP_URL": "",
                          "SECRET_KEY": "bench", "RETRY_POLICY": policy}, store=store, clock=SystemClock())
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.port}"
        session = requests.Session()
        session.post(f"{base}/leads", json=lead_payload(email="warm@example.com", phone="2015559999"))  # imports
        time.sleep(1.0)
        twilio.received.clear(), twilio.received_at.clear()

        latencies = []
        for i in range(args.leads):
            start = time.perf_counter()
            r = session.post(f"{base}/leads", json=lead_payload(email=f"b{i}@example.com", phone=f"201555{i:04d}"))
            assert r.status_code == 201, r.text
            while len(twilio.received_at) <= i:
                time.sleep(0.002)
            latencies.append(twilio.received_at[i] - start)
        latencies.sort()
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        median = statistics.median(latencies)
        print(f"post -> owner's text at Twilio, {len(latencies)} leads: median {median * 1000:.0f} ms, "
              f"p95 {p95*1000:.0f} ms, max {latencies[-1]*1000:.0f} ms (target < 2000 ms)")

        twilio.outage()
        svc = app.extensions["leadrouter"]
        for i in range(args.backlog):  # each lead's text waits in the outbox (its email goes to the console)
            session.post(f"{base}/leads", json=lead_payload(email=f"o{i}@example.com", phone=f"201556{i:04d}"))
        svc.drain()
        held = len(pending(store))
        twilio.recover()
        sent_before = len(twilio.received)
        start = time.perf_counter()
        far = type("Later", (), {"now": staticmethod(lambda: SystemClock().now().replace(year=2099))})()
        report = retry_due(store, svc.notifier, far, policy=policy)
        took = time.perf_counter() - start
        print(f"outbox after an outage: {held} held, {report['sent']} sent in {took:.2f} s "
              f"({report['sent'] / took:.0f} msg/s); Twilio received {len(twilio.received) - sent_before}")
        server.shutdown()
        twilio.stop()
        store.close()


if __name__ == "__main__":
    main()
