"""Abuse: what a single-address flood makes the service send, and whether slow clients starve it.

    python benchmarks/abuse.py [--seconds 60] [--slow-seconds 20] [--slow-clients 50]

1. Floods, each `--seconds` long, from one client address through the WSGI app (no network) on
   a SQLite store with the demo agency: the same person posted again and again (duplicates), then
   a new stranger's phone every post (new leads). Run with the limits of issue 14 (Settings
   defaults: 20 posts a minute per address, 5 an hour per phone/email, owner told of
   resubmissions once an hour, 60 texts to leads an hour per source), then as before (limits off,
   the owner texted on every resubmission) in the same run. Counts what was stored and the texts
   sent: the owners' minute-0 texts as posted, the texts to leads at the next tick (minute 5).
   Targets: <= 1 owner text per lead per hour; posts beyond the limit answered 429, none stored.
2. Slow clients: `--slow-clients` loopback sockets trickle request headers a byte every 0.5 s
   for `--slow-seconds`, while /healthz is asked every 0.5 s (2 s timeout). Against the old
   Procfile (gunicorn, 2 workers x 4 threads) and the new web process (`leadrouter web`,
   waitress). Target: 100% of /healthz answered.
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from automations.clock import FrozenClock  # noqa: E402
from automations.intake import submission  # noqa: E402
from automations.notify.channels.console import ConsoleNotifier  # noqa: E402
from automations.speed_clock.tick import run_tick  # noqa: E402
from sheets_schema.demo import demo_rows  # noqa: E402
from sheets_schema.sql_store import SqlStore  # noqa: E402

LIMIT_SETTINGS = ("Form Posts Per Minute", "Form Posts Per Contact Per Hour", "Lead Texts Per Hour Per Source")


def fresh_store(path: Path, limits: bool) -> SqlStore:
    store = SqlStore(f"sqlite:///{path}")
    store.init()
    for tab, rows in demo_rows().items():
        store.replace_rows(tab, rows)
    if not limits:
        rows = [r for r in store.read_rows("Settings") if r["setting"] not in LIMIT_SETTINGS]
        store.replace_rows("Settings", rows + [{"setting": s, "value": "off"} for s in LIMIT_SETTINGS])
    return store


def payload(i: int | None) -> dict:
    n = 0 if i is None else i + 1
    return dict(first_name="Bot", last_name=f"Victim{n}", email=f"victim{n}@example.com",
                phone=f"+1201{5550000 + n % 10_000_000:07d}"[:12] if n else "(201) 555-0142", zip="10150",
                insurance_type="Auto")


class OfficeHoursClock:
    """Real time running from a Tuesday 10:00 in New York: rate windows pass as they would, and the
    texts to leads at minute 5 fall inside business and allowed hours."""

    def __init__(self) -> None:
        self.start, self.base = time.monotonic(), datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.base + timedelta(seconds=time.monotonic() - self.start)


def flood(kind: str, limits: bool, seconds: float, tmp: Path) -> dict:
    store = fresh_store(tmp / f"{kind}-{limits}.db", limits)
    notifier = ConsoleNotifier()
    notifier.sent = type(notifier.sent)(maxlen=None)
    clock = OfficeHoursClock()
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=store, clock=clock, notifier=notifier)
    client = app.test_client()
    codes: Counter = Counter()
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        r = client.post("/leads", json=payload(None if kind == "duplicates" else i),
                        environ_base={"REMOTE_ADDR": "203.0.113.66"})
        codes[r.status_code] += 1
        i += 1
    leads = store.leads()
    owner_texts = sum(1 for m in notifier.sent if m.channel == "sms" and m.recipient != "lead")
    per_lead = Counter(m.lead_id for m in notifier.sent if m.template == "producer_duplicate" and m.channel == "sms")
    before = len(notifier.sent)
    tick_seconds = 0.0
    lead_texts = 0
    if kind == "new leads" and limits:  # the next tick, at minute 6, texts the leads themselves
        started = time.monotonic()
        run_tick(store, notifier, FrozenClock(clock.now() + timedelta(minutes=6)))
        tick_seconds = time.monotonic() - started
        lead_texts = sum(1 for m in list(notifier.sent)[before:] if m.channel == "sms" and m.recipient == "lead")
    alerts = sum(1 for m in notifier.sent if m.template == "manager_text_cap")
    store.close()
    return dict(posts=i, codes=dict(sorted(codes.items())), leads=len(leads), owner_texts=owner_texts,
                max_per_lead=max(per_lead.values(), default=0), lead_texts=lead_texts, alerts=alerts,
                tick_seconds=tick_seconds)


def report_floods(seconds: float) -> None:
    print(f"1. Single-address floods, {seconds:g} s each (in-process WSGI, SQLite, demo agency)")
    print(f"   {'flood':<11} {'limits':<22} {'posts':>6} {'answers':<28} {'stored':>6} {'owner texts':>11} "
          f"{'resubmission texts/lead':>23} {'texts to leads at the next tick':>32}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("duplicates", "new leads"):
            for limits in (True, False):
                every = submission.DUPLICATE_NOTICE_EVERY
                if not limits:  # before issue 14: every resubmission texted the owner
                    submission.DUPLICATE_NOTICE_EVERY = timedelta(0)
                try:
                    r = flood(kind, limits, seconds, Path(tmp))
                finally:
                    submission.DUPLICATE_NOTICE_EVERY = every
                answers = ", ".join(f"{k}: {v}" for k, v in r["codes"].items())
                if kind == "new leads" and limits:
                    later = f"{r['lead_texts']} (cap alerts to the manager: {r['alerts']}; tick {r['tick_seconds']:.1f} s)"
                elif kind == "new leads":
                    later = f"{r['leads']} (one minute-5 text per stored lead; not run)"
                else:
                    later = "0 (no new lead)"
                print(f"   {kind:<11} {'issue 14 (defaults)' if limits else 'before (no limits)':<22} {r['posts']:>6} "
                      f"{answers:<28} {r['leads']:>6} {r['owner_texts']:>11} {r['max_per_lead']:>23}  {later}")


# ---- slow clients -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def slow_run(command: list[str], env: dict, port: int, clients: int, seconds: float) -> tuple[int, int, float]:
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(port)
        stop = threading.Event()

        def trickle() -> None:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
            except OSError:
                return
            with s:
                for byte in b"POST /leads HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100_000:
                    if stop.wait(0.5):
                        return
                    try:
                        s.send(bytes([byte]))
                    except OSError:
                        return

        threads = [threading.Thread(target=trickle, daemon=True) for _ in range(clients)]
        for t in threads:
            t.start()
        time.sleep(1)  # let them connect
        ok = asked = 0
        worst = 0.0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            asked += 1
            started = time.monotonic()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    ok += r.status == 200
            except OSError:
                pass
            worst = max(worst, time.monotonic() - started)
            time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(5)
        return ok, asked, worst
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def report_slow(clients: int, seconds: float) -> None:
    print(f"\n2. /healthz while {clients} slow clients trickle headers (a byte each 0.5 s), {seconds:g} s")
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LEADROUTER_STORE=f"sqlite:///{tmp}/leads.db", LOG_LEVEL="WARNING")
        subprocess.run([str(bin_dir / "leadrouter"), "init", "--demo"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        for label, make in [
            ("before: gunicorn, 2 workers x 4 threads (old Procfile)",
             lambda p: [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{p}", "--workers", "2", "--threads", "4",
                        "app:create_app()"]),
            ("issue 14: leadrouter web (waitress, new Procfile)",
             lambda p: [str(bin_dir / "leadrouter"), "web", "--host", "127.0.0.1", "--port", str(p)]),
        ]:
            port = free_port()
            ok, asked, worst = slow_run(make(port), env, port, clients, seconds)
            print(f"   {label:<56} {ok}/{asked} answered ({100 * ok / max(asked, 1):.0f}%), slowest {worst:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each flood (the issue's figure: 60)")
    parser.add_argument("--slow-seconds", type=float, default=20.0)
    parser.add_argument("--slow-clients", type=int, default=50)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    report_floods(args.seconds)
    report_slow(args.slow_clients, args.slow_seconds)


if __name__ == "__main__":
    main()
