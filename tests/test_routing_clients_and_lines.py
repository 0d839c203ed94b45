"""Existing clients go to their CSR; the Lines tab decides what counts as a line match."""
from __future__ import annotations

from dataclasses import replace

import pytest

from automations.routing import decide
from sheets_schema.demo import CLIENTS
from sheets_schema.models import Client
from tests.conftest import lead_payload
from tests.routing_fixtures import NOW, agency, lead, load


def with_clients(config, rows):
    return replace(config, clients=tuple(Client.from_row(r) for r in rows))


@pytest.mark.parametrize("email, phone", [
    ("PAT.CLIENT@example.com", "+12015550999"),  # email, any case
    ("someone.else@example.com", "+12015550190"),  # phone, written differently on the Clients tab
])
def test_an_existing_client_goes_to_their_csr_by_email_or_phone(email, phone):
    config = with_clients(agency("weighted"), [dict(name="Pat Existing", email="pat.client@example.com",
                                                    phone="(201) 555-0190", csr="Casey R.")])
    decision = decide(lead("10050", email=email, phone=phone), config, {}, {}, NOW)
    assert decision.owner == "Casey R."
    assert decision.reason == "existing client Pat Existing: their CSR Casey R."


def test_an_away_csr_lets_the_routing_model_decide_and_the_reason_says_why():
    config = agency("territory", producers={"Casey R.": {"out_until": "2026-12-01"}})
    decision = decide(lead("10050", email=CLIENTS[0]["email"]), config, {}, {}, NOW)
    assert decision.owner == "Sarah M."
    assert decision.reason == (f"existing client {CLIENTS[0]['name']}: CSR Casey R. out until 2026-12-01; "
                               "territory: North County → Sarah M. (ZIP 10050 in 10001–10099)")


@pytest.mark.parametrize("change, loads, why", [
    ({"max_active_leads": "2"}, {"Casey R.": load(2)}, "CSR Casey R. at cap (2/2 open leads)"),
    ({"active": "N"}, {}, "CSR Casey R. inactive"),
])
def test_a_csr_at_cap_or_inactive_is_named_before_the_models_reason(change, loads, why):
    config = agency("round_robin", producers={"Casey R.": change})
    decision = decide(lead("10050", email=CLIENTS[0]["email"]), config, loads, {}, NOW)
    assert decision.owner == "Sarah M."
    assert decision.reason.startswith(f"existing client {CLIENTS[0]['name']}: {why}; round_robin: Sarah M. is next")


def test_a_client_whose_csr_is_not_on_the_producers_tab_says_so():
    config = with_clients(agency("round_robin"), [dict(name="Pat", email="pat@example.com", csr="Casy R.")])
    decision = decide(lead("10050", email="pat@example.com"), config, {}, {}, NOW)
    assert decision.reason.startswith("existing client Pat: CSR 'Casy R.' matches no producer; round_robin: ")


def test_a_csr_never_gets_a_new_lead_from_a_model():
    config = agency("round_robin", producers={n: {"active": "N"} for n in ("Sarah M.", "James K.", "Rachel T.")})
    for _ in range(3):
        assert decide(lead("10050"), config, {"David L.": load(30)}, {}, NOW).owner == "David L."


def test_a_new_client_row_routes_the_next_post_to_the_csr(client, demo_store):
    first = client.post("/leads", json=lead_payload(email="jo@example.com", phone="2015550177")).get_json()
    assert first["assigned_to"] != "Casey R."
    rows = demo_store.read_rows("Clients") + [dict(name="Jo", email="", phone="201-555-0178", csr="Casey R.")]
    demo_store.replace_rows("Clients", rows)
    answer = client.post("/leads", json=lead_payload(email="jo2@example.com", phone="2015550178")).get_json()
    assert answer["assigned_to"] == "Casey R." and answer["routing_reason"].startswith("existing client Jo")


def test_the_lines_tab_decides_related_line_matches():
    base = {r["producer"]: r["match"] for r in decide(lead("10050", "Auto"), agency("weighted"), {}, {}, NOW).table}
    assert base["Rachel T."] == "6"  # Auto's related line is Commercial
    lines = [dict(insurance_type="Auto", line="Personal", related_lines="")]
    edited = agency("weighted", lines=lines)
    after = {r["producer"]: r["match"] for r in decide(lead("10050", "Auto"), edited, {}, {}, NOW).table}
    assert after["Rachel T."] == "4"


def test_a_type_missing_from_the_lines_tab_is_a_match_for_nobody_but_still_routed():
    decision = decide(lead("10050", "Pet"), agency("weighted"), {}, {}, NOW)
    assert {r["match"] for r in decision.table} == {"4"}
    assert decision.owner == "Sarah M."  # all equal; tab order


def test_lines_are_matched_loosely_as_people_write_them():
    config = agency("weighted", producers={"James K.": {"lines": "personal lines"},
                                           "Rachel T.": {"lines": "Small Commercial"}})
    rows = {r["producer"]: r["match"] for r in decide(lead("10250", "BOP"), config, {}, {}, NOW).table}
    assert rows["Rachel T."] == "10" and rows["James K."] == "4"
    rows = {r["producer"]: r["match"] for r in decide(lead("10150", "Home"), config, {}, {}, NOW).table}
    assert rows["James K."] == "10"
