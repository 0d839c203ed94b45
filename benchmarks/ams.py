"""Does a slow AMS slow the form? POST /leads while Applied Epic takes 2 s per call.

    python benchmarks/ams.py [--leads 8] [--latency 2.0]

A loopback Epic (tests/ams_fakes.py: OAuth token endpoint + /clients) answers every call after
`--latency` seconds. The same leads are posted three ways, in one run, on SQLite:
  1. no AMS (the baseline);
  2. leadrouter's way: the AMS record is queued with the lead and created off the request thread
     (what `serve` does); the intake's existing-client lookup waits at most Settings -> AMS Lookup
     Seconds (0.3 s), and after a slow answer the AMS is not asked for a minute;
  3. a naive inline create: the lookup and the create on the request path, before the response
     (leadrouter's SEND_INLINE mode, which is what an integration that "just calls the API" does).
Prints the form's response time per mode, and for (2) when every record existed in Epic and how
many clients Epic holds (each lead once).
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from automations.ams.queue import pending  # noqa: E402
from automations.clock import SystemClock  # noqa: E402
from sheets_schema.sql_store import SqlStore  # noqa: E402
from tests.ams_fakes import CLIENT_ID, CLIENT_SECRET, EpicFake  # noqa: E402
from tests.conftest import lead_payload, load_demo  # noqa: E402


def run(mode: str, leads: int, latency: float) -> None:
    epic = EpicFake().start()
    epic.delay = latency
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{tmp}/bench.db")
        load_demo(store)
        rows = [r for r in store.read_rows("Settings") if r["setting"] != "AMS"]
        store.replace_rows("Settings", rows + [{"setting": "AMS", "value": "none" if mode == "none" else "epic"}])
        env = {"LEADROUTER_EPIC_API": epic.url, "LEADROUTER_EPIC_CLIENT_ID": CLIENT_ID,
               "LEADROUTER_EPIC_CLIENT_SECRET": CLIENT_SECRET, "LEADROUTER_AMS_TIMEOUT": str(latency * 3)}
        app = create_app({"SEND_INLINE": mode == "inline", "AMS_ENV": env}, store=store, clock=SystemClock())
        client = app.test_client()
        times = []
        began = time.perf_counter()
        for i in range(leads):
            payload = lead_payload(first_name="Bench", last_name=f"Mark{i}", email=f"bench{i}@example.com",
                                   phone=f"+1917555{i:04d}")
            t = time.perf_counter()
            answer = client.post("/leads", data=payload)
            times.append((time.perf_counter() - t) * 1000)
            assert answer.status_code == 201, answer.get_json()
        posted = time.perf_counter() - began
        app.extensions["leadrouter"].drain()  # the background sends and AMS creates finish
        done = time.perf_counter() - began
        label = {"none": "no AMS (baseline)", "queued": "leadrouter (queued, off the request)",
                 "inline": "naive inline create"}[mode]
        print(f"{label:<40} form p50 {statistics.median(times):8.1f} ms   max {max(times):8.1f} ms   "
              f"{leads} posts in {posted:6.2f} s")
        if mode != "none":
            refs = [c["externalReference"] for c in epic.clients.values()]
            print(f"{'':<40} Epic holds {len(refs)} client(s) for {leads} lead(s), {len(set(refs))} distinct; "
                  f"every record there {done:6.2f} s after the first post; {len(pending(store))} still queued")
        store.close()
    epic.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=8)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds Epic takes per call")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print(f"Applied Epic stand-in answering each call after {args.latency:g} s; {args.leads} leads per mode")
    for mode in ("none", "queued", "inline"):
        run(mode, args.leads, args.latency)


if __name__ == "__main__":
    main()
