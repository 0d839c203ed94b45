"""One time zone for people: CLI lines, logs and Activity details in the agency's time, with the offset."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from app import AgencyTimeFormatter, LOG_FORMAT
from automations.clock import for_people
from tests.conftest import T0, lead_payload
from tests.speed_fixtures import set_setting

LEADROUTER = str(Path(sys.executable).with_name("leadrouter"))


def test_for_people_is_the_agencys_wall_clock_with_its_offset():
    assert for_people(T0, ZoneInfo("America/New_York")) == "2026-11-24 10:00 -05:00"
    assert for_people(T0, ZoneInfo("America/Chicago"), seconds=True) == "2026-11-24 09:00:00 -06:00"


def test_log_lines_carry_the_agency_time_and_offset(monkeypatch):
    monkeypatch.setattr(AgencyTimeFormatter, "tz", ZoneInfo("America/Los_Angeles"))
    record = logging.LogRecord("leadrouter", logging.ERROR, __file__, 1, "ALERT", (), None)
    record.created = T0.timestamp()
    assert AgencyTimeFormatter(LOG_FORMAT).format(record).startswith("2026-11-24 07:00:00 -08:00 ERROR leadrouter")


def test_a_real_tick_logs_in_agency_time_on_a_machine_set_to_utc(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADROUTER_", "TWILIO_", "SMTP_"))}
    env.update(TZ="UTC", LOG_LEVEL="INFO")
    assert subprocess.run([LEADROUTER, "init", "--demo"], cwd=tmp_path, env=env, capture_output=True,
                          timeout=60).returncode == 0
    tick = subprocess.run([LEADROUTER, "tick"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert tick.returncode == 0, tick.stderr
    log_lines = [line for line in tick.stderr.splitlines() if " INFO " in line]
    assert log_lines and all(line[20:26] in ("-05:00", "-04:00") for line in log_lines), log_lines  # New York
    summary = tick.stdout.splitlines()[-1]
    assert summary.startswith("tick at ") and summary[28:34] in ("-05:00", "-04:00")


def test_cli_lines_and_activity_details_show_agency_time_and_json_keeps_iso(client, runner, demo_store, clock):
    set_setting(demo_store, "Time Zone", "America/Chicago")
    lead_id = client.post("/leads", json=lead_payload()).get_json()["lead_id"]
    clock.set(T0 + timedelta(minutes=3))
    assert runner.invoke(args=["status", lead_id, "Contacted"]).exit_code == 0
    leads = runner.invoke(args=["leads"]).output
    assert "2026-11-24 09:00 -06:00" in leads
    activity = runner.invoke(args=["activity", lead_id]).output
    assert "2026-11-24 09:00:00 -06:00  received" in activity
    assert "first_contact_at=2026-11-24 09:03 -06:00" in activity  # not 15:03+00:00
    rows = json.loads(runner.invoke(args=["leads", "--json"]).output)
    assert rows[0]["received_at"] == "2026-11-24T09:00:00-06:00"
