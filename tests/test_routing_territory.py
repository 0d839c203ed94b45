"""Territory routing, hand-checked against the guide's territory table and the Territories tab rules."""
from __future__ import annotations

import pytest

from automations.routing import decide
from automations.routing.round_robin import POINTER
from automations.routing.territory import territory_backup
from tests.routing_fixtures import NOW, agency, lead, load, territory


def route(config, zip_code="10050", insurance_type="Auto", loads=None, state=None):
    return decide(lead(zip_code, insurance_type), config, loads or {}, state or {}, NOW)


@pytest.mark.parametrize("zip_code, owner, name", [
    ("10001", "Sarah M.", "North County"), ("10050", "Sarah M.", "North County"), ("10099", "Sarah M.", "North County"),
    ("10100", "James K.", "South County"), ("10199", "James K.", "South County"),
    ("10200", "Rachel T.", "Metro"), ("10299", "Rachel T.", "Metro"),
    ("10300", "David L.", "West Side"), ("10399", "David L.", "West Side"),
])
def test_the_guides_territory_table_sends_each_zip_to_its_producer(zip_code, owner, name):
    decision = route(agency("territory"), zip_code)
    assert decision.owner == owner
    assert decision.reason == f"territory: {name} → {owner} (ZIP {zip_code} in {decision.reason.split(' in ')[1]}"
    assert not decision.fallback


@pytest.mark.parametrize("zip_code", ["10000", "10400"])
def test_zips_just_outside_the_ranges_go_to_the_fallback(zip_code):
    decision = route(agency("territory", settings={"Territory Fallback": "Rachel T."}), zip_code)
    assert decision.owner == "Rachel T."
    assert decision.reason == f"territory: ZIP {zip_code} is in no territory; Territory Fallback → Rachel T."


def test_an_out_producers_territory_goes_to_the_backup_and_the_reason_says_so():
    config = agency("territory", producers={"Sarah M.": {"out_until": "2026-12-01"}})
    decision = route(config, "10050")
    assert decision.owner == "David L."
    assert decision.reason == "territory: North County → backup David L. (Sarah M. out until 2026-12-01)"


@pytest.mark.parametrize("change, loads, why", [
    ({"active": "N"}, {}, "inactive"),
    ({"max_active_leads": "3"}, {"Sarah M.": load(3)}, "at cap (3/3 open leads)"),
    ({"licensed_states": "NJ, CT"}, {}, "not licensed in NY"),
    ({"role": "CSR"}, {}, "CSR: existing clients only"),
])
def test_the_backup_covers_every_kind_of_unavailability(change, loads, why):
    decision = route(agency("territory", producers={"Sarah M.": change}), "10050", loads=loads)
    assert decision.owner == "David L."
    assert decision.reason == f"territory: North County → backup David L. (Sarah M. {why})"


def test_a_producer_back_from_time_off_gets_their_territory_again():
    config = agency("territory", producers={"Sarah M.": {"out_until": "2026-11-23"}})
    assert route(config, "10050").owner == "Sarah M."


def test_a_blank_territory_backup_falls_to_the_producers_own_backup():
    config = agency("territory", producers={"James K.": {"active": "N", "backup": "Rachel T."}},
                    territories=[territory("South County", "10100", "10199", "James K.", "", "Personal Lines")])
    decision = route(config, "10150")
    assert decision.owner == "Rachel T." and "backup Rachel T. (James K. inactive)" in decision.reason


def test_when_producer_and_backup_are_both_out_the_fallback_rotates_among_producers_with_the_line():
    config = agency("territory", producers={"Sarah M.": {"active": "N"}, "David L.": {"out_until": "2026-12-24"}})
    decision = route(config, "10050", "Auto", state={POINTER: "James K."})
    # Personal writers available: James K. (Personal); Sarah and David are away; Rachel writes Commercial only.
    assert decision.owner == "James K."
    assert decision.reason == ("territory: North County: Sarah M. inactive, backup David L. out until 2026-12-24; "
                               "fallback round-robin → James K., next in rotation among producers with the "
                               "Personal line")
    assert decision.state == {POINTER: "James K. (#2 of 6)"}


def test_a_zip_in_no_territory_rotates_among_producers_with_the_leads_line():
    config = agency("territory")
    owners = []
    state = {}
    for _ in range(4):
        d = route(config, "90210", "BOP", state=state)
        owners.append(d.owner)
        state = d.state
    # Commercial writers in tab order: Sarah M. (Small Commercial), Rachel T., David L.; James K. writes Personal only.
    assert owners == ["Sarah M.", "Rachel T.", "David L.", "Sarah M."]
    assert "ZIP 90210 is in no territory" in d.reason


def test_the_territory_fallback_can_name_a_producer():
    decision = route(agency("territory", settings={"Territory Fallback": "david l."}), "90210")
    assert decision.owner == "David L."
    assert decision.reason == "territory: ZIP 90210 is in no territory; Territory Fallback → David L."


def test_a_named_fallback_who_is_away_gives_way_to_the_rotation():
    config = agency("territory", settings={"Territory Fallback": "David L."}, producers={"David L.": {"active": "N"}})
    decision = route(config, "90210", "Home")
    assert decision.owner == "Sarah M."
    assert "Territory Fallback David L. inactive" in decision.reason


def test_an_unknown_insurance_type_outside_every_territory_rotates_among_everyone():
    decision = route(agency("territory"), "90210", "Pet Insurance")
    assert decision.owner == "Sarah M." and "Pet Insurance is on no row of the Lines tab" in decision.reason


OVERLAP = [territory("South County", "10100", "10199", "James K.", "Sarah M.", "Personal Lines"),
           territory("Commercial Corridor", "10150", "10250", "Rachel T.", "David L.", "Commercial"),
           territory("Metro", "10200", "10299", "David L.", "", "Commercial")]


@pytest.mark.parametrize("zip_code, insurance_type, owner, why", [
    ("10160", "Auto", "James K.", "Line Focus Personal Lines fits Personal"),
    ("10160", "BOP", "Rachel T.", "Line Focus Commercial fits Commercial"),
    ("10120", "BOP", "James K.", None),  # only South County holds 10120
    ("10220", "BOP", "David L.", "narrower range"),  # both focus Commercial; Metro is 99 wide, Corridor 100
])
def test_line_focus_breaks_ties_between_overlapping_ranges(zip_code, insurance_type, owner, why):
    decision = route(agency("territory", territories=OVERLAP), zip_code, insurance_type)
    assert decision.owner == owner
    if why:
        assert why in decision.reason
    else:
        assert "also in" not in decision.reason


BLANK_FOCUS = [territory("Whole county", "10000", "10999", "James K."),  # no Line Focus: takes any line
               territory("Biz district", "10100", "10199", "Rachel T.", "", "Commercial")]


@pytest.mark.parametrize("insurance_type, owner, why", [
    # Home is Personal, which Commercial does not fit: the blank focus wins despite the wider range
    ("Home", "James K.", "blank Line Focus takes any line; Biz district's Line Focus Commercial does not fit "
                         "Personal"),
    # Auto's related line is Commercial: a related focus still ranks below a blank one
    ("Auto", "James K.", "blank Line Focus takes any line; Biz district's Line Focus Commercial is only a related "
                         "line of Personal"),
    # BOP is Commercial: an exact fit beats a blank focus
    ("BOP", "Rachel T.", "Line Focus Commercial fits Commercial"),
])
def test_a_blank_line_focus_takes_any_line_and_beats_a_focus_that_does_not_fit(insurance_type, owner, why):
    decision = route(agency("territory", territories=BLANK_FOCUS), "10150", insurance_type)
    assert decision.owner == owner
    assert decision.reason.endswith(f"; also in {'Biz district' if owner == 'James K.' else 'Whole county'}: {why})")


def test_a_focus_that_fits_the_line_beats_a_related_one_and_a_related_one_beats_one_that_does_not_fit():
    config = agency("territory", territories=[territory("Wide", "10000", "10999", "James K.", "", "Life"),
                                              territory("Mid", "10100", "10499", "Rachel T.", "", "Commercial"),
                                              territory("Narrow", "10150", "10160", "David L.", "", "Health")])
    # Auto: Personal, related Commercial. Nobody focuses Personal: the related focus (Mid) wins over
    # the narrower Narrow, whose Health does not fit
    assert route(config, "10155", "Auto").owner == "Rachel T."
    # Life: Wide fits it exactly; Narrow's Health is related; Mid's Commercial does not fit
    decision = route(config, "10155", "Life")
    assert decision.owner == "James K." and "also in Narrow, Mid: Line Focus Life fits Life" in decision.reason


def test_equal_overlapping_ranges_with_the_same_focus_go_to_the_row_listed_first():
    config = agency("territory", territories=[territory("A", "10100", "10199", "James K."),
                                              territory("B", "10100", "10199", "Rachel T.")])
    decision = route(config, "10150")
    assert decision.owner == "James K." and "listed first" in decision.reason


def test_when_the_winning_territory_is_unreachable_the_overlapping_one_takes_the_lead():
    config = agency("territory", territories=OVERLAP,
                    producers={"Rachel T.": {"active": "N"}, "David L.": {"out_until": "2026-12-31"}})
    decision = route(config, "10160", "BOP")
    assert decision.owner == "James K."
    assert decision.reason.startswith("territory: South County → James K.")
    passed = "passed over Commercial Corridor: Rachel T. inactive, backup David L. out until 2026-12-31"
    assert passed in decision.reason


def test_malformed_and_reversed_ranges_never_crash_routing():
    config = agency("territory", territories=[territory("Typo", "abc", "10199", "James K."),
                                              territory("Backwards", "10199", "10100", "Rachel T."),
                                              territory("Single", "10050", "", "David L.")])
    assert route(config, "10150").owner == "Rachel T."
    assert route(config, "10050").owner == "David L."
    assert route(config, "10051").owner == "Sarah M."  # no territory: rotation from the top


def test_zips_keep_their_leading_zeros_even_when_a_sheet_stored_them_as_numbers():
    config = agency("territory", territories=[territory("Boston", "02100", "02199", "James K."),
                                              territory("Cambridge", 2200, "2299.0", "Rachel T.")])
    assert route(config, "02134").owner == "James K."
    assert route(config, "02238").owner == "Rachel T."


def test_the_table_shows_every_producers_part_and_why_they_did_not_win():
    config = agency("territory", producers={"Sarah M.": {"out_until": "2026-12-01"}})
    rows = {r["producer"]: r for r in route(config, "10050").table}
    assert rows["David L."]["verdict"] == "winner" and rows["David L."]["territory"] == "North County backup"
    assert rows["Sarah M."]["verdict"] == "unavailable: out until 2026-12-01"
    assert rows["James K."]["verdict"] == "no territory for this ZIP"


def test_when_everyone_is_at_cap_the_least_loaded_gets_the_lead_regardless_and_the_reason_says_so():
    config = agency("territory", producers={n: {"max_active_leads": "2"} for n in
                                            ("Sarah M.", "James K.", "Rachel T.", "David L.")})
    loads = {"Sarah M.": load(2), "James K.": load(3), "Rachel T.": load(2, last_hours_ago=1), "David L.": load(4)}
    decision = route(config, "10050", loads=loads)
    assert decision.owner == "Sarah M." and decision.fallback
    assert "at cap" in decision.reason and "cap ignored" in decision.reason


def test_when_every_producer_is_away_the_manager_gets_the_lead():
    config = agency("territory", producers={n: {"active": "N"} for n in
                                            ("Sarah M.", "James K.", "Rachel T.", "David L.")})
    decision = route(config, "10050")
    assert decision.owner == "Morgan P." and "assigned to manager Morgan P." in decision.reason


def test_the_backup_for_a_reassignment_is_the_territorys_backup():
    config = agency("territory")
    assert territory_backup(lead("10050"), config, "Sarah M.") == "David L."
    assert territory_backup(lead("90210"), config, "Sarah M.") == "David L."  # Producers tab Backup
    assert territory_backup(lead("10150"), config, "James K.") == "Sarah M."
