"""The outbound webhook (signed JSON, retried) and HawkSoft (CSV files for its client import)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from automations.ams.webhook import sign, verify
from tests.ams_fixtures import ams_app, lead_payload, receiver, set_settings, sql_demo, webhook_env  # noqa: F401
from tests.notify_fixtures import mailbox  # noqa: F401


def test_the_webhook_posts_a_signed_lead_created_event_a_receiver_can_verify(sql_demo, clock, receiver):
    app = ams_app(sql_demo, clock, "webhook", webhook_env(receiver))
    lead_id = app.test_client().post("/leads", data=lead_payload()).get_json()["lead_id"]
    [event] = receiver.events
    assert event["event"] == "lead.created" and receiver.forged == 0
    lead = event["lead"]
    assert (lead["lead_id"], lead["first_name"], lead["phone"], lead["status"]) == (lead_id, "Maria", "+12015550142",
                                                                                  "New")
    assert sql_demo.get_lead(lead_id).ams_id == f"webhook:{lead_id}"


def test_a_webhook_that_fails_is_retried_with_backoff_and_delivered_once(sql_demo, clock, receiver):
    receiver.fail = 2
    app = ams_app(sql_demo, clock, "webhook", webhook_env(receiver))
    app.test_client().post("/leads", data=lead_payload())
    assert receiver.events == []
    app.test_cli_runner().invoke(args=["tick"])  # not due yet: backoff
    assert receiver.events == [] and receiver.fail == 1
    for _ in range(3):
        clock.advance(minutes=3)
        app.test_cli_runner().invoke(args=["tick"])
    assert [e["event"] for e in receiver.events] == ["lead.created"]


def test_status_and_reassignment_events_follow_the_created_one(sql_demo, clock, receiver):
    app = ams_app(sql_demo, clock, "webhook", webhook_env(receiver))
    lead_id = app.test_client().post("/leads", data=lead_payload()).get_json()["lead_id"]
    clock.advance(minutes=31)
    app.test_cli_runner().invoke(args=["tick"])
    sql_demo.update_lead(lead_id, {"status": "Contacted"})
    clock.advance(minutes=1)
    app.test_cli_runner().invoke(args=["tick"])
    assert [e["event"] for e in receiver.events] == ["lead.created", "lead.reassigned", "lead.status"]
    assert receiver.events[2]["lead"]["status"] == "Contacted" and "New -> Contacted" in receiver.events[2]["note"]


def test_a_signature_is_the_documented_hmac_and_a_changed_body_fails_it():
    body = b'{"event":"lead.created"}'
    header = sign("secret", body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify("secret", body, header, now=1_700_000_010)
    assert not verify("secret", body + b" ", header, now=1_700_000_010)
    assert not verify("secret", body, header, now=1_700_000_000 + 3600)  # replayed an hour later


def test_hawksoft_leads_are_rows_of_a_daily_import_file_written_once(sql_demo, clock, tmp_path):
    folder = tmp_path / "hawksoft"
    set_settings(sql_demo, HawkSoft_Folder=str(folder))
    app = ams_app(sql_demo, clock, "HawkSoft", {})
    client = app.test_client()
    lead_id = client.post("/leads", data=lead_payload(notes="=HYPERLINK(1)")).get_json()["lead_id"]
    client.post("/leads", data=lead_payload())  # a resubmission: no second row
    app.test_cli_runner().invoke(args=["tick"])
    [path] = folder.glob("hawksoft-clients-*.csv")
    assert path.name == "hawksoft-clients-2026-11-24.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) == 1
    assert (rows[0]["Lead ID"], rows[0]["Cell Phone"], rows[0]["Last Name"]) == (lead_id, "(201) 555-0142", "Lopez")
    assert "HYPERLINK" in rows[0]["Notes"] and not rows[0]["Notes"].startswith("=")


def test_ams_export_writes_the_hawksoft_layout_since_a_date(sql_demo, clock, tmp_path):
    app = ams_app(sql_demo, clock, "none", {})
    app.test_client().post("/leads", data=lead_payload())
    out = tmp_path / "export.csv"
    result = app.test_cli_runner().invoke(args=["ams", "export", "--format", "hawksoft", "--since", "2026-11-24",
                                                "--output", str(out)])
    assert result.exit_code == 0 and "1 lead(s)" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows[0]["Email"] == "maria.lopez@example.com"
    later = app.test_cli_runner().invoke(args=["ams", "export", "--since", "2026-11-25"])
    assert later.output.strip().count("\n") == 0  # the header only
    bad = app.test_cli_runner().invoke(args=["ams", "export", "--since", "someday"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_the_managers_get_yesterdays_hawksoft_file_by_email_once_from_8am(sql_demo, clock, tmp_path, mailbox):
    set_settings(sql_demo, HawkSoft_Folder=str(tmp_path / "hs"), HawkSoft_Email="yes")
    app = ams_app(sql_demo, clock, "hawksoft", {}, smtp_port=mailbox.port)
    app.test_client().post("/leads", data=lead_payload())
    clock.set(datetime(2026, 11, 25, 12, 30, tzinfo=timezone.utc))  # 7:30 in New York: not yet
    app.test_cli_runner().invoke(args=["tick"])
    assert not [m for m in mailbox.messages() if "HawkSoft" in m["Subject"]]
    for minutes in (31, 5):
        clock.advance(minutes=minutes)
        app.test_cli_runner().invoke(args=["tick"])
    [mail] = [m for m in mailbox.messages() if "HawkSoft" in m["Subject"]]
    assert mail["To"] == "morgan@demo-agency.example" and "1 lead(s)" in mail["Subject"]
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "hawksoft-clients-2026-11-24.csv"
    assert "maria.lopez@example.com" in attachment.get_content()
