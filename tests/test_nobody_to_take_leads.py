"""After a plain `init` nobody can take a lead: start-up says so, the lead is kept, and the alert repeats."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from app import create_app
from automations.speed_clock.tick import run_tick
from tests.conftest import T0, lead_payload

LEADROUTER = str(Path(sys.executable).with_name("leadrouter"))


def test_serve_starts_by_printing_checks_errors(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADROUTER_", "TWILIO_", "SMTP_"))}
    env["PYTHONUNBUFFERED"] = "1"
    assert subprocess.run([LEADROUTER, "init"], cwd=tmp_path, env=env, capture_output=True, timeout=60).returncode == 0
    server = subprocess.Popen([LEADROUTER, "serve", "--port", "0"], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = []
    try:
        for line in server.stdout:
            lines.append(line)
            if "listening on" in line:
                break
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()
    output = "".join(lines)
    assert "ERROR   Producers: no active producer" in output
    assert "error(s) in the tabs: leads are still taken, but fix these" in output


def test_a_lead_nobody_can_take_is_kept_answered_with_a_warning_and_alerted_on_every_tick(store, clock, notifier,
                                                                                         caplog):
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=store, clock=clock, notifier=notifier)
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="leadrouter"):
        answer = client.post("/leads", json=lead_payload())
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["assigned_to"] == "" and "kept without an owner" in body["warning"]
    lead_id = body["lead_id"]
    assert [lead.lead_id for lead in store.leads()] == [lead_id]
    assert f"ALERT: lead {lead_id} has NO OWNER" in caplog.text
    health = client.get("/healthz")
    assert health.status_code == 200 and "Nobody on the Producers tab can take a lead" in health.get_json()["warning"]
    for minutes in (1, 2):  # every tick says it again
        caplog.clear()
        clock.set(T0 + timedelta(minutes=minutes))
        with caplog.at_level(logging.ERROR):
            report = run_tick(store, notifier, clock)
        assert any(f"NO OWNER and nobody is working them: {lead_id}" in e for e in report.errors)
        assert f"NO OWNER and nobody is working them: {lead_id}" in caplog.text
    assert lead_id in client.get("/healthz").get_json()["warning"]


def test_with_only_a_manager_listed_the_lead_goes_to_the_manager(store, clock, notifier):
    store.replace_rows("Producers", [{"name": "Maria G.", "role": "Manager", "email": "maria@example.com",
                                      "mobile": "2125550199", "active": "Y"}])
    client = create_app({"TESTING": True, "SEND_INLINE": True}, store=store, clock=clock,
                        notifier=notifier).test_client()
    body = client.post("/leads", json=lead_payload()).get_json()
    assert body["assigned_to"] == "Maria G." and "warning" not in body
    assert "warning" not in client.get("/healthz").get_json()
