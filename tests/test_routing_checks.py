"""`check_config`: what an owner's edits to the routing tabs would break, before a lead finds out."""
from __future__ import annotations

import pytest

from automations.checks import check_config
from automations.routing import decide
from automations.routing.weights import DEFAULT_MATCH, parse_weights
from tests.routing_fixtures import NOW, TODAY, agency, lead, territory


def problems(config, level=None):
    return [f"{p.tab}: {p.message}" for p in check_config(config, TODAY) if level in (None, p.level)]


@pytest.mark.parametrize("model", ["round_robin", "territory", "weighted"])
def test_the_demo_agency_is_clean(model):
    assert problems(agency(model)) == []


def test_overlapping_ranges_are_reported_with_how_they_are_resolved():
    config = agency("territory", territories=[
        territory("North", "10001", "10099", "Sarah M.", "David L.", "Personal"),
        territory("Corridor", "10090", "10150", "Rachel T.", "David L.", "Commercial"),
        territory("Twin", "10140", "10150", "James K.", "", "Commercial")])
    found = problems(config, "warning")
    assert "Territories: North and Corridor overlap on 10090–10099: the territory whose Line Focus fits the " \
           "lead's line wins, then a blank Line Focus (any line), then a related line; else the narrower range, " \
           "else the row listed first" in found
    assert "Territories: Corridor and Twin overlap on 10140–10150: same Line Focus, so the narrower range, else " \
           "the row listed first, wins" in found
    assert problems(config, "error") == []


@pytest.mark.parametrize("row, message, level", [
    (territory("Typo", "1OO01", "10099", "Sarah M."), "Territories: Typo: '1OO01' is not a ZIP code; the range is "
                                                     "ignored", "error"),
    (territory("Nowhere", "00001", "00099", "Sarah M."), "Territories: Nowhere: no known ZIP code in 00001–00099",
     "warning"),
    (territory("Backwards", "10099", "10001", "Sarah M."), "Territories: Backwards: ZIP From is above ZIP To; read "
                                                           "as 10001–10099", "warning"),
    (territory("Orphan", "10001", "10099", ""), "Territories: Orphan: no Producer", "error"),
    (territory("Misspelt", "10001", "10099", "Sara M."), "Territories: Misspelt: 'Sara M.' matches no producer "
                                                         "(did you mean Sarah M.?)", "error"),
])
def test_bad_territory_rows_are_named(row, message, level):
    assert message in problems(agency("territory", territories=[row]), level)


def test_a_territory_whose_producer_and_backup_are_both_away_is_an_error_under_the_territory_model():
    away = {"Sarah M.": {"out_until": "2026-12-01"}, "David L.": {"active": "N"}}
    message = ("Territories: North County: producer Sarah M. out until 2026-12-01 and backup David L. inactive; "
               "its leads go to the Territory Fallback")
    assert message in problems(agency("territory", producers=away), "error")
    assert message in problems(agency("weighted", producers=away), "warning")


@pytest.mark.parametrize("weights, message", [
    ([dict(factor="capacity", weight="40"), dict(factor="specialization", weight="35"),
      dict(factor="close_rate", weight="25"), dict(factor="response_time", weight="10")],
     "Weights: factor weights sum to 110, not 100"),
    ([dict(factor="capacity", weight="0.3"), dict(factor="specialization", weight="0.35"),
      dict(factor="close_rate", weight="0.25"), dict(factor="response_time", weight="0.1")],
     "Weights: factor weights sum to 1, not 100 (write percents: 30, not 0.3)"),
    ([dict(factor="capacity", weight="30", bands="5:10, ten:8, *:2"), dict(factor="specialization", weight="35"),
      dict(factor="close_rate", weight="25"), dict(factor="response_time", weight="10")],
     "Weights: capacity: unreadable band(s) ten:8 (write limit:score, scores 1-10)"),
])
def test_weights_that_do_not_add_up_or_do_not_parse_are_errors(weights, message):
    assert message in problems(agency("weighted", weights=weights), "error")


def test_names_that_match_nobody_are_errors_wherever_they_are():
    config = agency("territory", producers={"James K.": {"backup": "Sarha M."}},
                    settings={"Territory Fallback": "Davd L."})
    found = problems(config, "error")
    assert "Producers: James K.: Backup 'Sarha M.' matches no producer (did you mean Sarah M.?)" in found
    assert "Settings: Territory Fallback 'Davd L.' matches no producer (did you mean David L.?) (use round_robin " \
           "or a name)" in found


def test_producers_with_no_lines_or_unknown_lines_are_warned_about():
    config = agency("weighted", producers={"James K.": {"lines": ""}, "Rachel T.": {"lines": "Marine"}})
    found = problems(config, "warning")
    assert "Producers: James K.: no Lines, so never a specialization match" in found
    assert "Producers: Rachel T.: line 'Marine' is no Line on the Lines tab" in found


def test_an_unknown_routing_model_is_an_error():
    assert "Settings: Routing Model 'weighed' is not one of round_robin, territory, weighted; round_robin is used" \
        in problems(agency(settings={"Routing Model": "weighed"}), "error")


@pytest.mark.parametrize("change, message", [
    ({"out_until": "next week"}, "Producers: Sarah M.: Out Until 'next week' is not a date (e.g. 12/24/2026); read "
                                 "as blank, so not away: leads keep coming"),
    ({"max_active_leads": "lots"}, "Producers: Sarah M.: Max Active Leads 'lots' is not a whole number; read as "
                                   "blank, so no cap"),  # 'ten' is read as 10
    ({"active": "maybe"}, "Producers: Sarah M.: Active 'maybe' is not Y or N; read as N, so no leads"),
    ({"role": "Closer"}, "Producers: Sarah M.: Role 'Closer' is not Producer, CSR or Manager; kept out of every "
                         "rotation"),
])
def test_cells_that_do_not_parse_are_errors_that_name_the_producer_and_the_text(change, message):
    assert message in problems(agency(producers={"Sarah M.": change}), "error")


@pytest.mark.parametrize("column, text, read", [
    ("active", "yes", True), ("active", "No", False), ("active", "TRUE", True), ("active", "false", False),
    ("active", "1", True), ("active", "0", False), ("active", "x", True), ("active", "n", False),
    ("out_until", "12/24/2026", "2026-12-24"), ("out_until", "2026-12-24", "2026-12-24"),
    ("out_until", "Dec 24 2026", "2026-12-24"), ("out_until", "Dec 24, 2026", "2026-12-24"),
    ("out_until", "December 24th, 2026", "2026-12-24"), ("out_until", "12-24-2026", "2026-12-24"),
    ("role", "Customer Service Rep", "CSR"), ("role", "customer service", "CSR"), ("role", "Account Manager", "CSR"),
    ("role", "csr", "CSR"), ("role", "Agent", "Producer"), ("role", "Sales Manager", "Manager"),
    ("role", "", "Producer"),
])
def test_common_spellings_are_read_as_meant_and_not_reported(column, text, read):
    config = agency(producers={"Sarah M.": {column: text}})
    sarah = config.producer("Sarah M.")
    value = getattr(sarah, column)
    assert (value.isoformat() if column == "out_until" else value) == read
    assert not [p for p in problems(config) if p.startswith("Producers: Sarah M.")]


def test_a_producer_away_by_a_date_written_in_words_gets_no_leads():
    config = agency(producers={"Sarah M.": {"out_until": "Dec 24 2026"}})
    assert decide(lead("10050"), config, {}, {}, NOW).owner == "James K."


def test_a_customer_service_rep_gets_no_new_leads():
    config = agency(producers={"Sarah M.": {"role": "Customer Service"}})
    assert decide(lead("10050"), config, {}, {}, NOW).owner == "James K."


def test_a_territory_owned_by_a_csr_or_a_manager_is_reported():
    config = agency("territory", producers={"James K.": {"role": "CSR"}})
    assert "Territories: South County: Producer James K. is a CSR, who takes no new leads; every lead in " \
           "10100–10199 goes to the backup Sarah M." in problems(config, "error")
    manager = agency("weighted", territories=[territory("Metro", "10200", "10299", "Morgan P.")])
    assert "Territories: Metro: Producer Morgan P. is a Manager, who takes no new leads; every lead in " \
           "10200–10299 goes to the Territory Fallback" in problems(manager, "warning")


def test_a_territory_row_with_a_zip_to_but_no_zip_from_is_reported_not_dropped():
    config = agency("territory", territories=[territory("Harbor", "", "10199", "James K.")])
    assert len(config.territories) == 1
    assert "Territories: Harbor: ZIP From is blank (ZIP To 10199); the row is ignored" in problems(config, "error")


def test_a_factor_listed_twice_on_the_weights_tab_is_an_error_and_the_first_row_counts():
    weights = [dict(factor="capacity", weight="30"), dict(factor="specialization", weight="35"),
               dict(factor="close_rate", weight="25"), dict(factor="response_time", weight="10"),
               dict(factor="Capacity Score", weight="50")]
    config = agency("weighted", weights=weights)
    assert "Weights: capacity: listed twice ('capacity' and 'Capacity Score'); the first row is used" \
        in problems(config, "error")
    assert parse_weights(config.weights).weights["capacity"] == 30


@pytest.mark.parametrize("factor, bands, bad", [
    ("capacity", "5:15, 10:8, *:2", "5:15"), ("response_time", "5:10, 15:0, *:2", "15:0"),
    ("specialization", "territory+line:12, line:8, related:6, none:4", "territory+line:12"),
])
def test_band_scores_outside_1_to_10_are_errors_and_not_used(factor, bands, bad):
    weights = [dict(factor=f, weight=w, bands=bands if f == factor else "") for f, w in (
        ("capacity", "30"), ("specialization", "35"), ("close_rate", "25"), ("response_time", "10"))]
    config = agency("weighted", weights=weights)
    assert f"Weights: {factor}: unreadable band(s) {bad} (write limit:score, scores 1-10)" in problems(config, "error")
    rules = parse_weights(config.weights)
    assert all(1 <= s <= 10 for _, s in rules.capacity_bands + rules.response_bands)
    assert rules.match_score("territory+line") == DEFAULT_MATCH["territory+line"]


def test_every_manager_inactive_is_reported():
    config = agency(producers={"Morgan P.": {"active": "N"}})
    assert any(p.startswith("Producers: every Manager is inactive") for p in problems(config, "warning"))


def test_an_unreadable_weight_is_an_error_naming_the_factor():
    weights = [dict(factor="capacity", weight="a lot"), dict(factor="specialization", weight="35"),
               dict(factor="close_rate", weight="25"), dict(factor="response_time", weight="10")]
    assert "Weights: capacity: Weight 'a lot' is not a number; read as blank, so the default weight is used" \
        in problems(agency("weighted", weights=weights), "error")


def test_a_weight_written_in_words_is_read_as_meant():
    weights = [dict(factor="capacity", weight="thirty"), dict(factor="specialization", weight="thirty-five"),
               dict(factor="close_rate", weight="25"), dict(factor="response_time", weight="10")]
    config = agency("weighted", weights=weights)
    assert config.weights[0].weight == 30 and config.weights[1].weight == 35
    assert not [p for p in problems(config, "error") if p.startswith("Weights")]
