"""The speed clock's heartbeat: APScheduler runs a tick every Settings "Tick Seconds".

It runs in `leadrouter serve` (next to the web app, one process) and in `leadrouter
worker` (the Procfile's worker), never inside gunicorn's web workers. When several
workers run, a lease in the store's state (taken inside `store.exclusive()`: BEGIN
IMMEDIATE on SQLite, an advisory lock on PostgreSQL) lets one tick at a time; a worker
that dies holding it is replaced when the lease expires. On SQL, ticks are idempotent
anyway (claims in the Activity log), so that lease saves work, not correctness.

A store whose state is not shared by every host (Google Sheets: a journal per host, so
claims are per host too) also keeps a worker lease of its own (`Store.hold_worker_lease`,
in the spreadsheet): a worker on another host stands by, saying so once in its log, and
takes over when the holder stops or its lease runs out. That lease is kept between ticks
and let go only when the worker stops.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from sheets_schema import cells

from automations.ams.queue import AmsProvider
from automations.clock import Clock, SystemClock
from automations.config import AgencyConfig
from automations.ports import Notifier, Store
from .tick import TickReport, run_tick

log = logging.getLogger("leadrouter.scheduler")
LEASE = "tick_lease"
LEASE_SECONDS = 120.0
LEASE_MARGIN = 5.0  # seconds past one interval: the holder's next tick renews it before it runs out
DEFAULT_TICK_SECONDS = 30.0


def lease_seconds(store: Store, interval: float) -> float:
    """How long a tick lease lasts. With one journal for every worker (SQL) a tick is idempotent, so the
    lease only saves work: it lasts one interval and a bit, and a worker that died holding it is
    replaced at the standby's next tick. With a journal per host (Google Sheets) two hosts ticking at
    once could both send, so a long tick must not lose it: LEASE_SECONDS."""
    return interval + LEASE_MARGIN if store.shared_journal else max(LEASE_SECONDS, interval + LEASE_MARGIN)


class TickLease:
    """'holder|expires' in the store's state: whoever holds an unexpired lease ticks."""

    def __init__(self, store: Store, holder: str | None = None, seconds: float = LEASE_SECONDS,
                 clock: Clock | None = None) -> None:
        self.store = store
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.seconds = seconds
        self.clock = clock or SystemClock()

    def acquire(self) -> bool:
        now = self.clock.now()
        with self.store.exclusive():
            holder, until = self._read()
            if holder and holder != self.holder and until is not None and until > now:
                return False
            self.store.set_state(LEASE, f"{self.holder}|{(now + timedelta(seconds=self.seconds)).isoformat()}")
        if not self.store.hold_worker_lease(self.holder, now, self.seconds):
            self.release(between_ticks=True)
            return False
        return True

    def release(self, *, between_ticks: bool = False) -> None:
        """Let go. `between_ticks`: only the lease in the store's state; the worker lease is kept
        (renewed by the next tick) until the worker stops."""
        with self.store.exclusive():
            holder, _ = self._read()
            if holder == self.holder:
                self.store.set_state(LEASE, "")
        if not between_ticks:
            self.store.drop_worker_lease(self.holder, self.clock.now())

    def _read(self) -> tuple[str, datetime | None]:
        holder, _, until = (self.store.get_state(LEASE) or "").partition("|")
        return holder, cells.parse_datetime(until)


def tick_once(store: Store, notifier: Notifier, clock: Clock, lease: TickLease,
              config: AgencyConfig | None = None, ams: AmsProvider | None = None) -> TickReport | None:
    """One tick under the lease; None when another worker holds it."""
    if not lease.acquire():
        return None
    try:
        return run_tick(store, notifier, clock, config, ams)
    finally:
        lease.release(between_ticks=True)


class SpeedClock:
    """The scheduler: one interval job, one tick at a time, rescheduled when Tick Seconds changes."""

    JOB = "speed-clock-tick"

    def __init__(self, store: Store, notifier: Notifier, clock: Clock | None = None,
                 ams: AmsProvider | None = None) -> None:
        self.store, self.notifier, self.ams = store, notifier, ams
        self.clock = clock or SystemClock()
        self.lease = TickLease(store, clock=SystemClock())  # the lease follows real time, even for a frozen clock
        self.scheduler = BackgroundScheduler(timezone=timezone.utc)
        self.interval = DEFAULT_TICK_SECONDS
        self._lock = threading.Lock()

    def start(self) -> "SpeedClock":
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not two lines every 30 s; ticks log their work
        self.interval = self.configured_interval()
        self.lease.seconds = lease_seconds(self.store, self.interval)
        self.scheduler.add_job(self.tick_now, "interval", seconds=self.interval, id=self.JOB, max_instances=1,
                               coalesce=True, misfire_grace_time=None, next_run_time=datetime.now(timezone.utc))
        self.scheduler.start()
        log.info("speed clock started: a tick every %g s", self.interval)
        return self

    def configured_interval(self) -> float:
        try:
            return self.store.config().settings.tick_seconds
        except Exception:  # noqa: BLE001 - the store may be down at start; ticks will tell
            log.warning("could not read Tick Seconds; using %g s", DEFAULT_TICK_SECONDS)
            return DEFAULT_TICK_SECONDS

    def tick_now(self) -> TickReport | None:
        """One tick (the job's body); errors are logged, never raised into the scheduler."""
        with self._lock:
            try:
                config = self.store.config()
                report = tick_once(self.store, self.notifier, self.clock, self.lease, config, self.ams)
            except Exception:  # noqa: BLE001 - the store or a channel is down: the next tick retries
                log.exception("tick failed")
                return None
            if report is not None:
                for line in report.done + report.errors:
                    log.info("%s", line)
                if report.done or report.errors:
                    log.info("%s", report.summary())
            self._follow_setting(config.settings.tick_seconds)
            return report

    def _follow_setting(self, wanted: float) -> None:
        if wanted != self.interval and self.scheduler.running:
            self.interval = wanted
            self.lease.seconds = lease_seconds(self.store, wanted)
            self.scheduler.reschedule_job(self.JOB, trigger="interval", seconds=wanted)
            log.info("Tick Seconds is now %g", wanted)

    def shutdown(self, wait: bool = True) -> None:
        """Stop scheduling; with wait=True the tick in hand finishes first (SIGTERM). Then the
        worker lease is let go, so that a standby worker takes over at its next tick."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        try:
            self.lease.release()
        except Exception:  # noqa: BLE001 - the store may be down; the lease then simply expires
            log.warning("could not let go of the tick lease; it expires in %g s", self.lease.seconds)
