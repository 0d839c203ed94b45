"""The scheduler around the tick: the lease between workers, Tick Seconds, where it runs."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from app import create_app
from automations.clock import FrozenClock
from automations.speed_clock.scheduler import LEASE, SpeedClock, TickLease
from tests.conftest import T0, load_demo
from tests.speed_fixtures import post_lead, set_setting

LEADROUTER = Path(sys.executable).with_name("leadrouter")


def test_only_one_worker_holds_the_tick_lease_until_it_lets_go_or_it_expires(demo_store):
    clock = FrozenClock(T0)
    first, second = TickLease(demo_store, "worker-a", clock=clock), TickLease(demo_store, "worker-b", clock=clock)
    assert first.acquire() and not second.acquire()
    assert first.acquire()  # renewing your own lease is fine
    first.release()
    assert second.acquire() and not first.acquire()
    clock.advance(seconds=121)  # worker-b died holding it
    assert first.acquire()
    assert demo_store.get_state(LEASE).startswith("worker-a|")


def test_a_worker_skips_its_tick_while_another_holds_the_lease(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    clock.advance(minutes=5)
    speed_clock = SpeedClock(demo_store, notifier, clock)
    other = TickLease(demo_store, "another-worker")
    assert other.acquire()
    assert speed_clock.tick_now() is None
    other.release()
    report = speed_clock.tick_now()
    assert report is not None and any(line.startswith("L-1001 esc-5") for line in report.done)
    assert demo_store.get_state(LEASE) == ""  # let go after the tick


def test_the_speed_clock_ticks_every_tick_seconds_and_follows_a_change(demo_store, clock, notifier):
    set_setting(demo_store, "Tick Seconds", "45")
    speed_clock = SpeedClock(demo_store, notifier, clock).start()
    try:
        job = speed_clock.scheduler.get_job(SpeedClock.JOB)
        assert job.trigger.interval == timedelta(seconds=45)
        set_setting(demo_store, "Tick Seconds", "60")
        speed_clock.tick_now()
        assert speed_clock.scheduler.get_job(SpeedClock.JOB).trigger.interval == timedelta(seconds=60)
    finally:
        speed_clock.shutdown(wait=True)
    assert not speed_clock.scheduler.running


def test_the_web_app_factory_never_starts_a_scheduler(demo_store, clock, notifier):
    before = {t.name for t in threading.enumerate()}
    app = create_app({"TESTING": True}, store=demo_store, clock=clock, notifier=notifier)
    assert app.test_client().get("/healthz").status_code == 200
    assert not any(t.name.startswith("APScheduler") for t in threading.enumerate() if t.name not in before)


def test_leadrouter_worker_ticks_until_sigterm_and_then_stops_cleanly(tmp_path):
    from sheets_schema.sql_store import SqlStore
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    store = SqlStore(url)
    load_demo(store)
    store.close()
    env = dict(os.environ, LEADROUTER_STORE=url, PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    proc = subprocess.Popen([str(LEADROUTER), "worker"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "the worker did not start"
        assert proc.stdout.readline().startswith("leadrouter worker: a tick every 30 s")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "leadrouter worker stopped" in out
