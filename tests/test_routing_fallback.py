"""When nobody can take a lead: it still gets an owner, and the reason says who and why."""
from __future__ import annotations

from automations.config import AgencyConfig
from automations.routing import decide
from sheets_schema.demo import demo_rows
from tests.conftest import lead_payload
from tests.routing_fixtures import NOW, agency, lead

FOUR = ("Sarah M.", "James K.", "Rachel T.", "David L.")


def test_with_every_producer_and_the_manager_inactive_the_manager_still_owns_the_lead():
    config = agency("territory", producers={n: {"active": "N"} for n in (*FOUR, "Morgan P.")})
    decision = decide(lead("10050"), config, {}, {}, NOW)
    assert decision.owner == "Morgan P." and decision.fallback
    assert decision.reason == ("territory: nobody can take this lead (Sarah M. inactive; James K. inactive; "
                               "Rachel T. inactive; David L. inactive) and no manager is active; assigned to "
                               "manager Morgan P. (inactive) so that it has an owner: fix the Producers tab")
    rows = {r["producer"]: r["verdict"] for r in decision.table}
    assert rows["Morgan P."] == "winner: last resort, inactive" and rows["Sarah M."] == "unavailable: inactive"


def without_managers(**changes):
    rows = demo_rows("round_robin")
    rows["Producers"] = [dict(r, **changes.get(r["name"], {})) for r in rows["Producers"] if r["role"] != "Manager"]
    return AgencyConfig.from_rows(rows)


def test_with_no_manager_row_a_csr_who_is_in_owns_the_lead_rather_than_nobody():
    decision = decide(lead("10050"), without_managers(**{n: {"active": "N"} for n in FOUR}), {}, {}, NOW)
    assert decision.owner == "Casey R."
    assert decision.reason.endswith("assigned to CSR Casey R. so that it has an owner: fix the Producers tab")


def test_with_no_manager_and_no_csr_in_a_producer_who_is_away_beats_no_owner_but_an_inactive_one_never_does():
    changes = {"Casey R.": {"active": "N"}, "Sarah M.": {"active": "N"}, "James K.": {"active": "N"},
               "Rachel T.": {"out_until": "2026-12-01"}, "David L.": {"active": "N"}}
    decision = decide(lead("10050"), without_managers(**changes), {}, {}, NOW)
    assert decision.owner == "Rachel T."
    assert "assigned to producer Rachel T. (out until 2026-12-01) so that it has an owner" in decision.reason
    changes["Rachel T."] = {"active": "N"}
    nobody = decide(lead("10050"), without_managers(**changes), {}, {}, NOW)
    assert nobody.owner == "" and "nobody listed can answer for it" in nobody.reason


def test_a_post_while_everyone_is_inactive_is_accepted_and_owned_by_the_manager(client, demo_store):
    rows = [dict(r, active="N") for r in demo_store.read_rows("Producers")]
    demo_store.replace_rows("Producers", rows)
    answer = client.post("/leads", json=lead_payload())
    assert answer.status_code == 201
    assert answer.get_json()["assigned_to"] == "Morgan P."
    assert demo_store.get_lead(answer.get_json()["lead_id"]).assigned_to == "Morgan P."
