"""Owners steer routing by editing tabs: the next POST /leads follows the edit, no restart.
And `leadrouter route` / `leadrouter check` explain the routing from the command line."""
from __future__ import annotations

from itertools import count

from tests.conftest import lead_payload

_n = count(10)


def post(client, **fields):
    i = next(_n)
    body = client.post("/leads", json=lead_payload(email=f"lead{i}@example.com", phone=f"20155502{i:02d}", **fields))
    assert body.status_code == 201, body.get_json()
    return body.get_json()


def edit(store, tab, match=None, **changes):
    """Change the rows of a tab where every `match` column equals its value, as an owner would."""
    rows = store.read_rows(tab)
    for row in rows:
        if all(row.get(k) == v for k, v in (match or {}).items()):
            row.update(changes)
    store.replace_rows(tab, rows)


def set_model(store, model):
    edit(store, "Settings", {"setting": "Routing Model"}, value=model)


def test_switching_the_routing_model_in_settings_applies_to_the_next_lead(client, demo_store):
    assert post(client, zip="10150")["assigned_to"] == "Sarah M."  # round-robin starts at the top
    set_model(demo_store, "territory")
    answer = post(client, zip="10150")
    assert answer["assigned_to"] == "James K."
    assert answer["routing_reason"] == "territory: South County → James K. (ZIP 10150 in 10100–10199)"


def test_setting_a_producer_inactive_sends_their_territory_to_the_backup(client, demo_store):
    set_model(demo_store, "territory")
    assert post(client, zip="10150")["assigned_to"] == "James K."
    edit(demo_store, "Producers", {"name": "James K."}, active="N")
    answer = post(client, zip="10150")
    assert answer["assigned_to"] == "Sarah M."
    assert answer["routing_reason"] == "territory: South County → backup Sarah M. (James K. inactive)"
    stored = demo_store.get_lead(answer["lead_id"])
    assert stored.routing_reason == answer["routing_reason"]  # the Leads tab shows the backup's extra load
    edit(demo_store, "Producers", {"name": "James K."}, active="Y")
    assert post(client, zip="10150")["assigned_to"] == "James K."


def test_a_new_territory_row_takes_its_zips_from_the_next_lead_on(client, demo_store):
    set_model(demo_store, "territory")
    assert post(client, zip="10150", insurance_type="BOP")["assigned_to"] == "James K."
    rows = demo_store.read_rows("Territories") + [dict(territory="Harbor", zip_from="10140", zip_to="10160",
                                                       producer="Rachel T.", backup="", line_focus="Commercial")]
    demo_store.replace_rows("Territories", rows)
    answer = post(client, zip="10150", insurance_type="BOP")
    assert answer["assigned_to"] == "Rachel T."
    assert "Harbor → Rachel T." in answer["routing_reason"] and "Line Focus Commercial" in answer["routing_reason"]


def test_changing_a_weight_changes_the_next_weighted_decision(client, demo_store):
    set_model(demo_store, "weighted")
    first = post(client, zip="10050")
    assert first["assigned_to"] == "Sarah M."
    assert first["routing_reason"].startswith("weighted: Sarah M. 84.8 = capacity 10×30% + match 10×35%")
    assert post(client, zip="10050")["assigned_to"] == "Sarah M."  # 1 open lead: still capacity 10
    edit(demo_store, "Weights", {"factor": "capacity"}, weight="65", bands="1:10, *:2")
    edit(demo_store, "Weights", {"factor": "specialization"}, weight="0")
    # Sarah now has 2 open leads: capacity 2; the others 10. Tie among them -> never assigned, tab order.
    answer = post(client, zip="10050")
    assert answer["assigned_to"] == "James K."
    assert answer["routing_reason"].startswith("weighted: James K. 84.8 = capacity 10×65% + match 8×0%")


def test_an_out_until_date_in_the_past_puts_the_producer_back_without_a_catch_up_burst(client, demo_store, clock):
    set_model(demo_store, "territory")
    edit(demo_store, "Producers", {"name": "Sarah M."}, out_until="2026-11-25")
    assert post(client, zip="10050")["assigned_to"] == "David L."
    clock.advance(days=2)
    assert post(client, zip="10050")["assigned_to"] == "Sarah M."
    assert post(client, zip="10150")["assigned_to"] == "James K."


def cli(app, *args):
    """Run a leadrouter command as the console does: inside the app's context."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def test_route_prints_the_candidate_table_the_winner_and_why_the_others_lost(app, demo_store):
    set_model(demo_store, "weighted")
    result = cli(app, "route", "--zip", "10050", "--type", "Auto")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if line.strip().startswith("producer"))
    assert header.split() == ["producer", "open", "capacity", "match", "close", "response", "score", "verdict"]
    assert any(line.split()[:8] == ["Sarah", "M.", "0", "10", "10", "5.5", "6", "84.8"] for line in lines)
    assert "Winner: Sarah M." in result.output
    assert "James K." in result.output and "lower score 77.8 < 84.8 (mostly match 8 vs 10)" in result.output
    assert demo_store.leads() == []  # a dry run stores nothing


def test_route_explains_a_backup_in_the_territory_model(app, demo_store):
    set_model(demo_store, "territory")
    edit(demo_store, "Producers", {"name": "Sarah M."}, out_until="2026-12-01")
    result = cli(app, "route", "--zip", "10050", "--type", "Home")
    assert "Winner: David L." in result.output
    assert "territory: North County → backup David L. (Sarah M. out until 2026-12-01)" in result.output
    assert "unavailable: out until 2026-12-01" in result.output


def test_check_passes_on_the_demo_and_fails_with_clear_messages_on_broken_tabs(app, demo_store):
    assert cli(app, "check").exit_code == 0
    edit(demo_store, "Weights", {"factor": "capacity"}, weight="40")
    edit(demo_store, "Territories", {"territory": "Metro"}, producer="Rachael T.")
    result = cli(app, "check")
    assert result.exit_code == 1
    assert "ERROR   Weights: factor weights sum to 110, not 100" in result.output
    assert "Metro: 'Rachael T.' matches no producer (did you mean Rachel T.?)" in result.output
