"""The CLI an installer and an owner use: init, check, route, leads, activity."""
from __future__ import annotations

import json

from app import create_app
from tests.conftest import lead_payload


def test_init_creates_an_empty_store_and_demo_loads_the_guides_agency(store, clock):
    runner = create_app({"TESTING": True}, store=store, clock=clock).test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    assert store.read_rows("Producers") == []
    result = runner.invoke(args=["init", "--demo", "--model", "territory"])
    assert result.exit_code == 0, result.output
    names = [r["name"] for r in store.read_rows("Producers")]
    assert names[:4] == ["Sarah M.", "James K.", "Rachel T.", "David L."]
    assert {"CSR", "Manager"} <= {r["role"] for r in store.read_rows("Producers")}
    territories = {r["territory"]: (r["zip_from"], r["zip_to"], r["producer"]) for r in store.read_rows("Territories")}
    assert territories["North County"] == ("10001", "10099", "Sarah M.")
    assert territories["West Side"] == ("10300", "10399", "David L.")
    assert store.config().settings.routing_model == "territory"
    assert store.config().settings.tz.key == "America/New_York"


def test_init_again_keeps_the_leads(client, runner, demo_store):
    client.post("/leads", json=lead_payload())
    assert runner.invoke(args=["init"]).exit_code == 0
    assert len(demo_store.leads()) == 1


def test_check_passes_on_the_demo_and_fails_with_clear_messages(runner, demo_store):
    assert runner.invoke(args=["check"]).exit_code == 0
    producers = demo_store.read_rows("Producers")
    producers[0]["backup"] = "Nobody Here"
    demo_store.replace_rows("Producers", producers)
    settings = [dict(r, value="fastest") if r["setting"] == "Routing Model" else r
                for r in demo_store.read_rows("Settings")]
    demo_store.replace_rows("Settings", settings)
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "Backup 'Nobody Here' matches no producer" in result.output
    assert "Routing Model 'fastest'" in result.output


def test_route_is_a_dry_run_that_names_the_winner_and_why(runner, demo_store):
    result = runner.invoke(args=["route", "--zip", "10150", "--type", "Auto", "--source", "fb"])
    assert result.exit_code == 0, result.output
    assert "Winner: Sarah M." in result.output and "Why: round_robin" in result.output
    assert "Facebook Ads" in result.output
    assert demo_store.leads() == []


def test_route_refuses_a_bad_zip(runner):
    result = runner.invoke(args=["route", "--zip", "1", "--type", "Auto"])
    assert result.exit_code != 0 and "--zip" in result.output


def test_leads_and_activity_as_json_use_snake_case_keys_and_offsets(client, runner):
    lead_id = client.post("/leads", json=lead_payload()).get_json()["lead_id"]
    leads = json.loads(runner.invoke(args=["leads", "--json"]).output)
    assert leads[0]["lead_id"] == lead_id and leads[0]["assigned_to"] == "Sarah M."
    assert {"received_at", "status", "first_contact_at", "reassigned_from"} <= set(leads[0])
    assert leads[0]["received_at"] == "2026-11-24T10:00:00-05:00"
    events = json.loads(runner.invoke(args=["activity", lead_id, "--json"]).output)
    assert [e["event"] for e in events][:2] == ["received", "assigned"]
    assert all(e["time"].endswith("-05:00") for e in events)


def test_leads_without_json_is_a_readable_table(client, runner):
    client.post("/leads", json=lead_payload())
    out = runner.invoke(args=["leads"]).output
    assert "L-1001" in out and "Sarah M." in out and "2026-11-24 10:00" in out
