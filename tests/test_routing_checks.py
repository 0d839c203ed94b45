"""`check_config`: what an owner's edits to the routing tabs would break, before a lead finds out."""
from __future__ import annotations

import pytest

from automations.checks import check_config
from tests.routing_fixtures import TODAY, agency, territory


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
           "lead's line wins" in found
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
     "Weights: capacity: unreadable band(s) ten:8"),
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
