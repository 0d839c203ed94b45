"""Applied Epic: every lead becomes one Epic client, notes follow it, outages and refusals lose nothing.

The Epic stand-in is a REST server on loopback with an OAuth2 token endpoint (tests/ams_fakes.py);
the real `requests` client talks to it; time moves with the injected clock.
"""
from __future__ import annotations

from tests.ams_fixtures import (activity, alerts_to_manager, ams_app, epic, epic_env, lead_payload,  # noqa: F401
                                sql_demo)
from tests.notify_fixtures import mailbox  # noqa: F401


def test_a_new_lead_becomes_an_epic_client_with_the_guides_minimum_record(demo_store, clock, epic):
    app = ams_app(demo_store, clock, "Applied Epic", epic_env(epic))
    answer = app.test_client().post("/leads", data=lead_payload(source="Google Ads", notes="two cars"))
    assert answer.status_code == 201
    lead_id = answer.get_json()["lead_id"]
    [client] = epic.clients.values()
    assert (client["firstName"], client["lastName"], client["email"], client["phone"]) == \
        ("Maria", "Lopez", "maria.lopez@example.com", "+12015550142")
    assert client["insuranceType"] == "Auto" and client["assignedProducer"] == answer.get_json()["assigned_to"]
    assert client["status"] == "New" and client["dateReceived"].startswith("2026-11-24")
    assert client["externalReference"] == lead_id and client["source"]
    assert demo_store.get_lead(lead_id).ams_id == client["id"]
    [created] = activity(demo_store, lead_id, "ams created")
    assert client["id"] in created.detail


def test_a_resubmission_makes_no_second_epic_client(sql_demo, clock, epic):
    client = ams_app(sql_demo, clock, "epic", epic_env(epic)).test_client()
    assert client.post("/leads", data=lead_payload()).status_code == 201
    clock.advance(minutes=3)
    again = client.post("/leads", data=lead_payload(insurance_type="Home"))
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert len(epic.clients) == 1


def test_a_reassignment_is_logged_on_the_epic_client_with_its_reason(sql_demo, clock, epic):
    app = ams_app(sql_demo, clock, "epic", epic_env(epic))
    lead_id = app.test_client().post("/leads", data=lead_payload()).get_json()["lead_id"]
    first_owner = sql_demo.get_lead(lead_id).assigned_to
    clock.advance(minutes=31)
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    lead = sql_demo.get_lead(lead_id)
    assert lead.reassigned_from == first_owner
    [note] = [a for a in epic.activities if a["event"] == "lead.reassigned"]
    assert note["client"] == lead.ams_id
    assert f"{first_owner} -> {lead.assigned_to}" in note["description"]


def test_a_status_change_is_a_note_on_the_epic_client(sql_demo, clock, epic):
    app = ams_app(sql_demo, clock, "epic", epic_env(epic))
    lead_id = app.test_client().post("/leads", data=lead_payload()).get_json()["lead_id"]
    clock.advance(minutes=2)
    sql_demo.update_lead(lead_id, {"status": "Contacted"})  # a sheet edit, seen by the tick
    app.test_cli_runner().invoke(args=["tick"])
    notes = [a for a in epic.activities if a["event"] == "lead.status"]
    assert notes and "New -> Contacted" in notes[-1]["description"]
    assert all(a["client"] == sql_demo.get_lead(lead_id).ams_id for a in notes)


def test_leads_posted_during_an_epic_outage_are_created_once_each_when_it_is_back_even_after_a_restart(
        sql_demo, clock, epic):
    epic.outage = True
    client = ams_app(sql_demo, clock, "epic", epic_env(epic)).test_client()
    first = client.post("/leads", data=lead_payload())
    second = client.post("/leads", data=lead_payload(first_name="Ann", last_name="Lee", email="ann@example.com",
                                                     phone="2015550199"))
    assert (first.status_code, second.status_code) == (201, 201)  # the form never waits for the AMS
    ids = [first.get_json()["lead_id"], second.get_json()["lead_id"]]
    assert epic.clients == {} and all(activity(sql_demo, i, "ams failed") for i in ids)
    restarted = ams_app(sql_demo, clock, "epic", epic_env(epic))  # a new process: only the store remains
    clock.advance(minutes=2)
    restarted.test_cli_runner().invoke(args=["tick"])
    assert epic.clients == {}  # still down: still queued
    epic.outage = False
    clock.advance(minutes=5)
    restarted.test_cli_runner().invoke(args=["tick"])
    clock.advance(minutes=5)
    restarted.test_cli_runner().invoke(args=["tick"])
    assert sorted(c["externalReference"] for c in epic.clients.values()) == sorted(ids)
    assert all(sql_demo.get_lead(i).ams_id for i in ids)


def test_a_create_whose_answer_was_lost_is_found_not_made_again(sql_demo, clock, epic):
    epic.lose_answers = 1  # Epic creates the client, and the answer never arrives
    app = ams_app(sql_demo, clock, "epic", epic_env(epic))
    lead_id = app.test_client().post("/leads", data=lead_payload()).get_json()["lead_id"]
    assert len(epic.clients) == 1 and not sql_demo.get_lead(lead_id).ams_id
    clock.advance(minutes=2)
    app.test_cli_runner().invoke(args=["tick"])
    [only] = epic.clients.values()
    assert sql_demo.get_lead(lead_id).ams_id == only["id"]
    assert "found" in activity(sql_demo, lead_id, "ams created")[0].detail


def test_a_field_epic_refuses_is_reported_to_the_manager_once_with_epics_message(sql_demo, clock, epic, mailbox):
    epic.refuse = ("email", "Email: the domain example.com is blocked by agency policy")
    app = ams_app(sql_demo, clock, "epic", epic_env(epic), smtp_port=mailbox.port)
    lead_id = app.test_client().post("/leads", data=lead_payload()).get_json()["lead_id"]
    for _ in range(3):
        clock.advance(minutes=20)
        app.test_cli_runner().invoke(args=["tick"])
    [alert] = alerts_to_manager(mailbox)
    body = alert.get_body(("plain",)).get_content()
    assert "the domain example.com is blocked by agency policy" in body and lead_id in body
    assert epic.clients == {}
    [refused] = activity(sql_demo, lead_id, "ams refused")
    assert "blocked by agency policy" in refused.detail


def test_bad_epic_credentials_keep_every_lead_waiting_and_tell_the_manager_once(sql_demo, clock, epic, mailbox):
    env = epic_env(epic, LEADROUTER_EPIC_CLIENT_SECRET="wrong")
    app = ams_app(sql_demo, clock, "epic", env, smtp_port=mailbox.port)
    client = app.test_client()
    client.post("/leads", data=lead_payload())
    client.post("/leads", data=lead_payload(first_name="Ann", email="ann@example.com", phone="2015550199"))
    clock.advance(hours=2)
    app.test_cli_runner().invoke(args=["tick"])
    [alert] = alerts_to_manager(mailbox)
    assert "Client authentication failed" in alert.get_body(("plain",)).get_content()
    queue = app.test_cli_runner().invoke(args=["ams", "queue"]).output
    assert "L-1001 lead.created" in queue and "L-1002 lead.created" in queue
    fixed = ams_app(sql_demo, clock, "epic", epic_env(epic), smtp_port=mailbox.port)
    clock.advance(hours=1, minutes=1)
    fixed.test_cli_runner().invoke(args=["tick"])
    assert len(epic.clients) == 2 and len(alerts_to_manager(mailbox)) == 1
    assert {a["event"] for a in epic.activities} == {"lead.reassigned"}  # the notes that waited for them


def test_an_existing_epic_client_goes_to_their_csr(sql_demo, clock, epic):
    epic.add_existing(firstName="Maria", lastName="Lopez", email="maria.lopez@example.com", csr="Casey R.")
    answer = ams_app(sql_demo, clock, "epic", epic_env(epic)).test_client().post("/leads", data=lead_payload())
    assert answer.get_json()["assigned_to"] == "Casey R."
    assert "existing client" in answer.get_json()["routing_reason"]


def test_a_slow_epic_lookup_does_not_hold_the_lead_the_clients_tab_decides(sql_demo, clock, epic):
    epic.add_existing(firstName="Maria", lastName="Lopez", email="maria.lopez@example.com", csr="Casey R.")
    epic.delay = 1.0  # longer than the 0.3 s budget
    answer = ams_app(sql_demo, clock, "epic", epic_env(epic)).test_client().post("/leads", data=lead_payload())
    assert answer.status_code == 201
    assert answer.get_json()["assigned_to"] != "Casey R."  # routed without the AMS's answer
    assert "existing client" not in answer.get_json()["routing_reason"]


def test_check_names_missing_epic_settings_and_online_names_refused_credentials(sql_demo, clock, epic):
    runner = ams_app(sql_demo, clock, "Applied Epic", {"LEADROUTER_EPIC_API": epic.url}).test_cli_runner()
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1 and "LEADROUTER_EPIC_CLIENT_ID" in result.output
    wrong = ams_app(sql_demo, clock, "epic", epic_env(epic, LEADROUTER_EPIC_CLIENT_SECRET="nope")).test_cli_runner()
    assert "Client authentication failed" in wrong.invoke(args=["check", "--online"]).output
    good = ams_app(sql_demo, clock, "epic", epic_env(epic)).test_cli_runner().invoke(args=["check", "--online"])
    assert "token granted" in good.output and "AMS sign-in failed" not in good.output


def test_an_unreadable_ams_setting_is_named_by_check(sql_demo, clock):
    result = ams_app(sql_demo, clock, "Salesforce", {}).test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1 and "AMS 'Salesforce' is not one of" in result.output


def test_no_ams_means_nothing_is_queued(sql_demo, clock, epic):
    client = ams_app(sql_demo, clock, "none", epic_env(epic)).test_client()
    client.post("/leads", data=lead_payload())
    from automations.ams.queue import pending
    assert pending(sql_demo) == [] and epic.requests == []


def test_after_a_refused_record_later_notes_are_dropped_not_retried(sql_demo, clock, epic, mailbox):
    epic.refuse = ("email", "Email: blocked")
    app = ams_app(sql_demo, clock, "epic", epic_env(epic), smtp_port=mailbox.port)
    lead_id = app.test_client().post("/leads", data=lead_payload()).get_json()["lead_id"]
    sql_demo.update_lead(lead_id, {"status": "Contacted"})
    for _ in range(3):
        clock.advance(minutes=2)
        app.test_cli_runner().invoke(args=["tick"])
    from automations.ams.queue import pending
    assert pending(sql_demo) == [] and len(alerts_to_manager(mailbox)) == 1
    assert len([r for r in epic.requests if r == ("POST", "/clients")]) == 1
    assert activity(sql_demo, lead_id, "ams skipped")


def test_a_rate_limited_create_waits_and_goes_through_without_an_alert(sql_demo, clock, epic, mailbox):
    epic.throttle = 1
    app = ams_app(sql_demo, clock, "epic", epic_env(epic), smtp_port=mailbox.port)
    lead_id = app.test_client().post("/leads", data=lead_payload()).get_json()["lead_id"]
    assert "Rate limit exceeded" in activity(sql_demo, lead_id, "ams failed")[0].detail
    clock.advance(minutes=1)
    app.test_cli_runner().invoke(args=["tick"])
    assert len(epic.clients) == 1 and sql_demo.get_lead(lead_id).ams_id
    assert alerts_to_manager(mailbox) == [] and not activity(sql_demo, lead_id, "ams refused")
