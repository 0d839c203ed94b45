"""A simulated month of the speed clock with producers of different habits.

Leads arrive all month (more in office hours, some at night and at weekends) through the
real intake (round-robin on the demo agency); the real tick runs every minute while
someone is waiting and the office is open; producers reach their leads the way people do:

    Sarah M.   fast      calls within ~2 business minutes, misses 3% of her leads
    James K.   steady    ~8 minutes, misses 5%
    Rachel T.  slow      ~20 minutes, misses 10%
    David L.   flaky     ~12 minutes when he calls, misses 35%
    Morgan P.  manager   after an alert, gets the lead called within 10-30 minutes

A contact is what a producer's "C 1042" reply does (status_changes + apply_status). After a
reassignment the new owner's own habit decides. Minutes are business minutes from arrival.

The same month (same seed, same arrivals, same habits) runs twice: call connect off, then on
(Settings: Call Connect = Y, the real offers, whisper, 1/2 presses and status callbacks of
automations.call_connect, with Twilio's side played here). Assumed answer rates:

    offer call picked up (in business hours)   Sarah M. 85%, James K. 75%, Rachel T. 60%,
                                               David L. 40%; picked up after 5-20 s
    producer who picks up presses 1            90% (else 2: pass)
    lead picks up the bridged call             45% (talks 1-6 minutes; else no answer: an attempt)

A producer who does not pick up lets the offer run out (the 2-minute window) and the next
producer is offered the lead (Max Offers 3). A bridged call the lead did not pick up is an
attempt; the producer's own habit (above) still decides when they try again.

    .venv/bin/python benchmarks/speed_sim.py [--seed N] [--month 2026-11]
"""
from __future__ import annotations

import argparse
import heapq
import logging
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from automations.speed_clock.business_hours import BusinessHours  # noqa: E402
from automations.clock import FrozenClock  # noqa: E402
from automations.contact import normalize_phone  # noqa: E402
from automations.call_connect.offers import call_status, press, prompt, start as start_offer  # noqa: E402
from automations.intake.submission import submit_lead  # noqa: E402
from automations.notify.delivery import deliver_all  # noqa: E402
from automations.speed_clock.status import apply_status, status_changes  # noqa: E402
from automations.speed_clock.tick import run_tick  # noqa: E402
from sheets_schema.demo import demo_rows  # noqa: E402
from automations.ports import Message  # noqa: E402
from sheets_schema.sql_store import SqlStore  # noqa: E402

PICK_UP = {"Sarah M.": 0.85, "James K.": 0.75, "Rachel T.": 0.60, "David L.": 0.40}
PRESS_1 = 0.90
LEAD_PICKS_UP = 0.45
HABITS = {  # name: (median business minutes to call, share of leads never called)
    "Sarah M.": (2.0, 0.03),
    "James K.": (8.0, 0.05),
    "Rachel T.": (20.0, 0.10),
    "David L.": (12.0, 0.35),
}
MANAGER_DELAY = (10, 30)
TYPES = ["Auto", "Home", "Renters", "Condo", "Umbrella", "BOP", "General Liability"]
SOURCES = ["website", "google", "facebook", "referral", "quotewizard", "carrier"]


class Recorder:
    """A notifier that keeps every message (the console notifier keeps only the last 1000, so a
    month of messages would hide the manager alerts after the first thousand)."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> str | None:
        self.sent.append(message)
        return None


class Sim:
    def __init__(self, store: SqlStore, start: datetime, end: datetime, rng: random.Random,
                 call_connect: bool = False) -> None:
        self.store, self.rng, self.end = store, rng, end
        self.call_connect = call_connect
        self.call_rng = random.Random(rng.random())  # its own stream: the arrivals stay the same with it on
        self.calls = Counter()
        self.next_tick = start
        self.seen_sent = 0
        self.config = store.config()
        self.hours = BusinessHours.from_settings(self.config.settings)
        self.clock = FrozenClock(start)
        self.notifier = Recorder()
        self.events: list[tuple[datetime, int, str, str, str]] = []  # (when, seq, kind, lead_id, who)
        self.seq = 0
        self.waiting: dict[str, tuple[str, datetime]] = {}  # lead id -> (owner, assigned at) already scheduled
        self.contacted_by: dict[str, str] = {}
        self.manager_alerts = 0
        self.ticks = 0

    def push(self, when: datetime, kind: str, lead_id: str = "", who: str = "") -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, kind, lead_id, who))

    def plan_arrivals(self, start: datetime) -> int:
        count, day = 0, start
        while day < self.end:
            local = day.astimezone(self.hours.tz)
            open_day = self.hours.is_open(local.replace(hour=12))
            for _ in range(self.rng.randint(14, 22) if open_day else self.rng.randint(2, 5)):
                if open_day and self.rng.random() < 0.85:
                    when = local.replace(hour=8) + timedelta(minutes=self.rng.uniform(0, 600))
                else:
                    when = local.replace(hour=0) + timedelta(minutes=self.rng.uniform(0, 1440))
                self.push(when, "arrive")
                count += 1
            day += timedelta(days=1)
        return count

    def arrive(self, n: int) -> None:
        phone = None
        while phone is None:
            phone = normalize_phone(f"201{self.rng.randint(200, 999)}{self.rng.randint(0, 9999):04d}")
        payload = dict(first_name="Sam", last_name=f"Sim{n}", email=f"sim{n}@example.com", phone=phone,
                       zip=self.rng.choice(["10050", "10150", "10250", "10350"]), insurance_type=self.rng.choice(TYPES),
                       source=self.rng.choice(SOURCES))
        payload["consent"] = "yes, call or text me"
        outcome = submit_lead(payload, self.store, self.clock, config=self.config)
        deliver_all(outcome.messages, self.store, self.notifier, self.clock)
        self.schedule_owner(outcome.lead.lead_id, outcome.lead.assigned_to, outcome.lead.assigned_at)
        if self.call_connect:
            start_offer(self.store, self.notifier, self.clock, outcome.lead.lead_id, config=self.config)
            self.plan_calls()

    # ---- call connect: Twilio's side and the people on the phone ------------------------------
    def plan_calls(self) -> None:
        """Each offer call placed since last time: picked up (after a few seconds) or not."""
        for message in self.notifier.sent[self.seen_sent:]:
            if message.channel != "voice":
                continue
            self.calls["offers"] += 1
            n = int(message.extra["path"].rsplit("n=", 1)[1])
            if self.call_rng.random() < PICK_UP.get(message.recipient, 0.5):
                delay = timedelta(seconds=self.call_rng.uniform(5, 20))
                self.push(self.clock.now() + delay, f"pickup:{n}", message.lead_id, message.recipient)
            else:
                self.push(self.clock.now() + timedelta(seconds=25), f"noanswer:{n}", message.lead_id,
                          message.recipient)
        self.seen_sent = len(self.notifier.sent)

    def phone(self, kind: str, lead_id: str, who: str) -> None:
        what, n = kind.split(":")
        n = int(n)
        if what == "noanswer":
            call_status(self.store, self.clock, lead_id, n, "offer", {"CallSid": f"CA-{lead_id}-{n}",
                                                                        "CallStatus": "no-answer"})
            return
        if prompt(self.store, self.clock, lead_id, n).kind != "offer":
            return
        self.calls["picked up"] += 1
        digit = "1" if self.call_rng.random() < PRESS_1 else "2"
        pressed = press(self.store, self.notifier, self.clock, lead_id, n, digit)
        deliver_all(pressed.messages, self.store, self.notifier, self.clock)
        self.plan_calls()
        if pressed.prompt.kind != "dial":
            return
        self.calls["bridged"] += 1
        talks = self.call_rng.random() < LEAD_PICKS_UP
        self.calls["lead picked up"] += talks
        sid = f"CA-{lead_id}-{n}-lead"
        form = {"CallSid": sid, "CallStatus": "completed" if talks else "no-answer",
                "CallDuration": str(int(self.call_rng.uniform(60, 360)) if talks else 0)}
        call_status(self.store, self.clock, lead_id, n, "lead", form)
        if talks:
            self.contacted_by[lead_id] = f"{who} (call connect)"
            self.waiting.pop(lead_id, None)

    def schedule_owner(self, lead_id: str, owner: str, assigned_at: datetime) -> None:
        self.waiting[lead_id] = (owner, assigned_at)
        median, miss = HABITS.get(owner, (10.0, 0.0))
        if self.rng.random() < miss:
            return  # this one slips through the cracks: the ladder has to catch it
        delay = self.rng.lognormvariate(0, 0.6) * median
        self.push(self.hours.add_minutes(assigned_at, delay), "contact", lead_id, owner)

    def contact(self, lead_id: str, who: str, manager: bool) -> None:
        lead = self.store.get_lead(lead_id)
        if lead is None or lead.first_contact_at is not None:
            return
        if not manager and lead.assigned_to != who:
            return  # reassigned meanwhile: their call no longer counts
        now = self.clock.now()
        apply_status(self.store, lead, status_changes(lead, "Contacted", now, self.hours), now, by=who)
        self.contacted_by[lead_id] = "manager" if manager else who
        self.waiting.pop(lead_id, None)

    def tick(self) -> None:
        before = len(self.notifier.sent)
        run_tick(self.store, self.notifier, self.clock, self.config)
        self.ticks += 1
        if self.call_connect:
            self.plan_calls()
        for message in self.notifier.sent[before:]:
            if message.template == "manager_alert":
                self.manager_alerts += 1
                delay = self.rng.uniform(*MANAGER_DELAY)
                self.push(self.hours.add_minutes(self.clock.now(), delay), "manager", message.lead_id, "Morgan P.")
        for lead_id, (owner, assigned_at) in list(self.waiting.items()):
            lead = self.store.get_lead(lead_id)
            if lead.first_contact_at is not None:
                self.waiting.pop(lead_id)
            elif (lead.assigned_to, lead.assigned_at) != (owner, assigned_at):
                self.schedule_owner(lead_id, lead.assigned_to, lead.assigned_at)

    def run(self) -> None:
        n = 0
        horizon = self.end + timedelta(days=4)
        while self.clock.now() < horizon and (self.events or self.waiting):
            now = self.clock.now()
            while self.events and self.events[0][0] <= now:
                _, _, kind, lead_id, who = heapq.heappop(self.events)
                if kind == "arrive":
                    n += 1
                    self.arrive(n)
                elif ":" in kind:
                    self.phone(kind, lead_id, who)
                else:
                    self.contact(lead_id, who, manager=kind == "manager")
            if self.waiting and self.hours.is_open(now):
                if now >= self.next_tick:  # a tick a minute; events in between happen at their own time
                    self.tick()
                    self.next_tick = now + timedelta(minutes=1)
                nxt = min(self.next_tick, self.events[0][0]) if self.events else self.next_tick
                nxt = max(nxt, now + timedelta(seconds=1))
            elif self.waiting:
                nxt = self.hours.next_open(now)
                if self.events:
                    nxt = min(nxt, self.events[0][0])
                nxt = max(nxt, now + timedelta(minutes=1))
            elif self.events:
                nxt = max(self.events[0][0], now)
            else:
                break
            self.clock.set(nxt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--month", default="2026-11")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    shares = {}
    for call_connect in (False, True):
        with tempfile.TemporaryDirectory(prefix="speed-sim-") as tmp:
            store = SqlStore(f"sqlite:///{tmp}/sim.db")
            store.init()
            for tab, rows in demo_rows().items():
                store.replace_rows(tab, rows)
            if call_connect:
                settings = [r for r in store.read_rows("Settings") if r["setting"] != "Call Connect"]
                store.replace_rows("Settings", settings + [{"setting": "Call Connect", "value": "Y"}])
            tz = store.config().settings.tz
            year, month = (int(p) for p in args.month.split("-"))
            start = datetime(year, month, 1, tzinfo=tz)
            end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
            sim = Sim(store, start, end, random.Random(args.seed), call_connect=call_connect)
            planned = sim.plan_arrivals(start)
            started = time.perf_counter()
            sim.run()
            print(f"== call connect {'ON' if call_connect else 'OFF'} ==")
            shares[call_connect] = report(sim, planned, time.perf_counter() - started)
            store.close()
    print()
    print(f"{'the month':<40}{'call connect off':>18}{'call connect on':>18}   guide's target")
    for key, label, target in (("lt5", "contacted < 5 business min", ">80%"),
                               ("lt30", "contacted < 30 business min", ">95%"),
                               ("never", "never contacted", "0"),
                               ("attempts", "contact attempts (48 hrs) per lead", "6-8")):
        off, on = shares[False][key], shares[True][key]
        fmt = (lambda v: f"{v:.1f}%") if key in ("lt5", "lt30") else (lambda v: f"{v:g}")  # noqa: E731
        print(f"{label:<40}{fmt(off):>18}{fmt(on):>18}   {target}")


def report(sim: Sim, planned: int, seconds: float) -> None:
    leads = sim.store.leads()
    hours = sim.hours
    waits = {l.lead_id: hours.minutes_between(l.received_at, l.first_contact_at) for l in leads if l.first_contact_at}
    never = [l.lead_id for l in leads if l.first_contact_at is None]
    activity = sim.store.activity()
    reassigned = Counter(a.lead_id for a in activity if a.event == "reassigned")
    total = len(leads)
    pct = lambda part: f"{100 * part / total:5.1f}%" if total else "  n/a"  # noqa: E731
    print(f"Simulated month: {total} leads ({planned} planned arrivals), {sim.ticks} ticks, {seconds:.1f} s")
    print(f"  contacted < 5 business min of arrival:  {pct(sum(w < 5 for w in waits.values()))}")
    print(f"  contacted < 30 business min of arrival: {pct(sum(w < 30 for w in waits.values()))}")
    print(f"  never contacted:                        {len(never)}"
          + (f"  ({', '.join(never[:5])})" if never else ""))
    print(f"  reassignments:                          {sum(reassigned.values())} "
          f"({len(reassigned)} leads; {sum(1 for v in reassigned.values() if v >= 2)} reassigned twice)")
    logged = sum(1 for a in activity if a.event == "manager alert")
    print(f"  manager alerts:                         {sim.manager_alerts} texts to the manager "
          f"({logged} alert steps in the Activity log)")
    if waits:
        print(f"  median / 90th percentile wait:          {statistics.median(waits.values()):.1f} / "
              f"{statistics.quantiles(waits.values(), n=10)[-1]:.1f} business min")
    by = defaultdict(list)
    for lead_id, who in sim.contacted_by.items():
        by[who].append(waits[lead_id])
    for who in sorted(by, key=lambda w: (w == "manager", w)):
        got = by[who]
        print(f"    {who:<28} contacted {len(got):>4}  median wait {statistics.median(got):5.1f} min")
    if sim.calls:
        print("  call connect: " + ", ".join(f"{n} {k}" for k, n in sim.calls.items()))
    from automations.reports.frames import activity_frame, leads_frame
    from automations.reports.monthly import attempts_48h
    attempts = attempts_48h(leads_frame(leads, sim.hours.tz), activity_frame(activity, sim.hours.tz)) or 0.0
    share = lambda part: 100 * part / total if total else 0.0  # noqa: E731
    return {"lt5": share(sum(w < 5 for w in waits.values())), "lt30": share(sum(w < 30 for w in waits.values())),
            "never": len(never), "attempts": attempts}


if __name__ == "__main__":
    main()
