"""AMS360: zeep reads the WSDL our loopback SOAP service serves, signs in, creates the customer and
logs notes as activities; a SOAP Fault on a field is one alert; an outage loses nothing."""
from __future__ import annotations

from tests.ams_fixtures import (activity, alerts_to_manager, ams360, ams360_env, ams_app, lead_payload,  # noqa: F401
                                sql_demo)
from tests.notify_fixtures import mailbox  # noqa: F401


def test_a_new_lead_becomes_an_ams360_customer_with_an_activity_summing_up_the_lead(sql_demo, clock, ams360):
    app = ams_app(sql_demo, clock, "AMS 360", ams360_env(ams360))
    answer = app.test_client().post("/leads", data=lead_payload())
    lead_id = answer.get_json()["lead_id"]
    [customer] = ams360.customers.values()
    assert (customer["FirstName"], customer["LastName"], customer["Email"]) == ("Maria", "Lopez",
                                                                                "maria.lopez@example.com")
    assert (customer["CellAreaCode"], customer["CellPhone"], customer["ZipCode"]) == ("201", "5550142", "10150")
    assert sql_demo.get_lead(lead_id).ams_id == customer["CustomerId"]
    [summary] = ams360.activities
    assert summary["CustomerId"] == customer["CustomerId"]
    assert f"New lead {lead_id}" in summary["Description"] and answer.get_json()["assigned_to"] in summary["Description"]


def test_a_resubmission_and_a_reassignment_add_no_customer_but_a_note(sql_demo, clock, ams360):
    app = ams_app(sql_demo, clock, "ams360", ams360_env(ams360))
    client = app.test_client()
    lead_id = client.post("/leads", data=lead_payload()).get_json()["lead_id"]
    clock.advance(minutes=2)
    assert client.post("/leads", data=lead_payload()).get_json()["duplicate"] is True
    clock.advance(minutes=30)
    app.test_cli_runner().invoke(args=["tick"])
    assert len(ams360.customers) == 1
    [note] = [a for a in ams360.activities if a["Description"].startswith("lead.reassigned")]
    assert note["CustomerId"] == sql_demo.get_lead(lead_id).ams_id


def test_an_ams360_outage_then_recovery_creates_each_customer_once(sql_demo, clock, ams360):
    ams360.outage = True
    app = ams_app(sql_demo, clock, "ams360", ams360_env(ams360))
    client = app.test_client()
    ids = [client.post("/leads", data=lead_payload()).get_json()["lead_id"],
           client.post("/leads", data=lead_payload(first_name="Ann", last_name="Lee", email="ann@example.com",
                                                   phone="2015550199")).get_json()["lead_id"]]
    assert ams360.customers == {}
    ams360.outage = False
    ams360.lose_answers = 1  # the first InsertCustomer after the outage lands, its answer does not
    for _ in range(3):
        clock.advance(minutes=3)
        app.test_cli_runner().invoke(args=["tick"])
    assert sorted(c["LastName"] for c in ams360.customers.values()) == ["Lee", "Lopez"]
    assert all(sql_demo.get_lead(i).ams_id for i in ids)


def test_a_soap_fault_on_a_field_is_one_alert_with_ams360s_words(sql_demo, clock, ams360, mailbox):
    ams360.refuse = ("Email", "Email address format is invalid for AMS360")
    app = ams_app(sql_demo, clock, "ams360", ams360_env(ams360), smtp_port=mailbox.port)
    lead_id = app.test_client().post("/leads", data=lead_payload()).get_json()["lead_id"]
    for _ in range(2):
        clock.advance(minutes=10)
        app.test_cli_runner().invoke(args=["tick"])
    [alert] = alerts_to_manager(mailbox)
    assert "Email address format is invalid for AMS360" in alert.get_body(("plain",)).get_content()
    assert activity(sql_demo, lead_id, "ams refused") and ams360.customers == {}


def test_check_online_signs_in_to_ams360_and_names_a_refused_password(sql_demo, clock, ams360):
    good = ams_app(sql_demo, clock, "ams360", ams360_env(ams360)).test_cli_runner().invoke(args=["check", "--online"])
    assert "signed in" in good.output
    bad = ams_app(sql_demo, clock, "ams360", ams360_env(ams360, LEADROUTER_AMS360_PASSWORD="x")).test_cli_runner()
    result = bad.invoke(args=["check", "--online"])
    assert result.exit_code == 1 and "Authentication failed" in result.output


def test_an_existing_ams360_customer_goes_to_their_account_rep(sql_demo, clock, ams360):
    ams360.customers["c-1"] = {"CustomerId": "c-1", "LastName": "Lopez", "FirstName": "Maria",
                               "Email": "maria.lopez@example.com", "AccountRepCode": "Casey R."}
    answer = ams_app(sql_demo, clock, "ams360", ams360_env(ams360)).test_client().post("/leads", data=lead_payload())
    assert answer.get_json()["assigned_to"] == "Casey R."
