"""Weighted routing, hand-computed: score = 10 × Σ weight% × factor (DESIGN.md "Exact definitions").

Unless a case says otherwise: the demo agency, an Auto (Personal) lead in ZIP 10050, which
is North County (Sarah M.'s territory), so specialization is Sarah 10 (line + territory),
James 8 and David 8 (line elsewhere; David is only North County's backup), Rachel 6
(Commercial is a related line of Auto). With no history, close = 5.5 and response = 6.
"""
from __future__ import annotations

import pytest

from automations.routing import best_with_line, capacity_score, decide, reassignment
from automations.routing.weighted import response_score, show
from automations.routing.weights import parse_weights
from sheets_schema.models import Weight
from tests.routing_fixtures import NOW, TODAY, agency, lead, load

FOUR = ("Sarah M.", "James K.", "Rachel T.", "David L.")


def route(config=None, zip_code="10050", insurance_type="Auto", loads=None):
    return decide(lead(zip_code, insurance_type), config or agency("weighted"), loads or {}, {}, NOW)


def scores(decision) -> dict[str, str]:
    return {r["producer"]: r["score"] for r in decision.table}


@pytest.mark.parametrize("active, factor", [
    (0, 10), (4, 10), (5, 8), (9, 8), (10, 6), (14, 6), (15, 4), (19, 4), (20, 2), (250, 2),
])
def test_capacity_bands_have_exclusive_upper_limits(active, factor):
    assert capacity_score(active) == factor
    # Sarah's score with everything else fixed: 10 × (0.30 c + 0.35×10 + 0.25×5.5 + 0.10×6) = 3c + 54.75
    decision = route(loads={"Sarah M.": load(active)})
    assert scores(decision)["Sarah M."] == show(3 * factor + 54.75)


@pytest.mark.parametrize("minutes, factor", [
    (0, 10), (4.9, 10), (5, 8), (14.9, 8), (15, 6), (29.9, 6), (30, 4), (59.9, 4), (60, 2), (600, 2),
])
def test_response_bands_have_exclusive_upper_limits(minutes, factor):
    assert response_score(minutes) == factor
    # 10 × (0.30×10 + 0.35×10 + 0.25×5.5 + 0.10 r) = 78.75 + r
    decision = route(loads={"Sarah M.": load(minutes=[minutes, minutes])})
    assert scores(decision)["Sarah M."] == show(78.75 + factor)


def test_the_default_weights_and_bands_are_the_guides():
    rules = parse_weights(agency("weighted").weights)
    assert rules.weights == {"capacity": 30, "specialization": 35, "close_rate": 25, "response_time": 10}
    assert rules.problems == ()


def test_specialization_is_10_for_line_and_own_territory_8_line_6_related_4_none():
    auto = {r["producer"]: r["match"] for r in route(insurance_type="Auto").table}
    assert auto == {"Sarah M.": "10", "James K.": "8", "David L.": "8", "Rachel T.": "6"}
    home = {r["producer"]: r["match"] for r in route(insurance_type="Home").table}
    assert home["Rachel T."] == "4"  # Home has no related line
    bop = {r["producer"]: r["match"] for r in route(zip_code="10250", insurance_type="BOP").table}
    assert bop == {"Rachel T.": "10", "Sarah M.": "8", "David L.": "8", "James K.": "4"}


CASES = [
    # (what it shows, loads, winner, reason, {producer: displayed score})
    ("no history: the territory match decides", {}, "Sarah M.",
     "weighted: Sarah M. 84.8 = capacity 10×30% + match 10×35% + close 5.5×25% + response 6×10% "
     "(0 open, territory+line, no history, no data); next James K. 77.8",
     {"Sarah M.": "84.8", "James K.": "77.8", "David L.": "77.8", "Rachel T.": "70.8"}),
    ("a 5th open lead drops capacity to 8: 78.75 still beats 77.75", {"Sarah M.": load(5)}, "Sarah M.",
     None, {"Sarah M.": "78.8", "James K.": "77.8"}),
    ("at 10 open leads Sarah (72.75) loses; James and David tie at 77.75, James is listed first",
     {"Sarah M.": load(10)}, "James K.",
     "weighted: James K. 77.8 = capacity 10×30% + match 8×35% + close 5.5×25% + response 6×10% "
     "(0 open, line, no history, no data); tied with David L., listed first on the Producers tab wins",
     {"Sarah M.": "72.8", "James K.": "77.8", "David L.": "77.8"}),
    # close: Sarah 2/10 = .2, James 10/20 = .5 (best), David 5 assigned and Rachel none -> average .35
    # factors 1 + 9 × rate/.5: Sarah 4.6, James 10, David and Rachel 7.3
    ("close rate normalised against the best candidate; thin history gets the average",
     {"Sarah M.": load(assigned=10, bound=2), "James K.": load(assigned=20, bound=10),
      "David L.": load(assigned=5, bound=5)}, "James K.",
     "weighted: James K. 89.0 = capacity 10×30% + match 8×35% + close 10×25% + response 6×10% "
     "(0 open, line, 10/20 bound, no data); next Sarah M. 82.5",
     {"Sarah M.": "82.5", "James K.": "89.0", "David L.": "82.3", "Rachel T.": "75.3"}),
    # response: Sarah 4.9 -> 10, James 5 -> 8, Rachel 60 -> 2, David none -> mean(10, 8, 2) = 6.667
    ("response bands; no data gets the candidates' mean factor",
     {"Sarah M.": load(minutes=[4.9]), "James K.": load(minutes=[4, 6]), "Rachel T.": load(minutes=[60])},
     "Sarah M.", None, {"Sarah M.": "88.8", "James K.": "79.8", "David L.": "78.4", "Rachel T.": "66.8"}),
    ("nobody has a bind yet: close is 5.5 for everyone",
     {n: load(assigned=12) for n in FOUR}, "Sarah M.", None, {"Sarah M.": "84.8", "Rachel T.": "70.8"}),
]


@pytest.mark.parametrize("case, loads, winner, reason, shown", CASES, ids=[c[0] for c in CASES])
def test_hand_computed_weighted_decisions(case, loads, winner, reason, shown):
    decision = route(loads=loads)
    assert decision.owner == winner
    if reason:
        assert decision.reason == reason
    table = scores(decision)
    assert {name: table[name] for name in shown} == shown


def test_the_exact_score_decides_when_the_displayed_scores_are_equal():
    # James 1000/1000 -> close 10 -> 89.0; David 999/1000 -> close 9.991 -> 88.9775, shown 89.0 too.
    # David was never assigned, so a tie would go to him: the exact comparison must not call it a tie.
    config = agency("weighted", producers={"Sarah M.": {"active": "N"}, "Rachel T.": {"active": "N"}})
    loads = {"James K.": load(assigned=1000, bound=1000, last_hours_ago=1), "David L.": load(assigned=1000, bound=999)}
    decision = route(config, zip_code="90210", loads=loads)
    assert decision.owner == "James K."
    assert scores(decision) == {"James K.": "89.0", "David L.": "89.0", "Sarah M.": "-", "Rachel T.": "-"}
    assert decision.reason.endswith("; next David L. 88.978")


@pytest.mark.parametrize("hours_ago, winner", [
    ({"Sarah M.": 1, "James K.": 2}, "David L."),  # never assigned beats everyone
    ({"Sarah M.": 1, "James K.": 2, "David L.": 0.5}, "James K."),
    ({"Sarah M.": 3, "James K.": 2, "David L.": 0.5}, "Sarah M."),
])
def test_ties_go_to_the_least_recently_assigned(hours_ago, winner):
    loads = {n: load(last_hours_ago=h) for n, h in hours_ago.items()}
    decision = route(zip_code="90210", loads=loads)  # no territory: Sarah, James, David all 8 -> 77.75
    assert decision.owner == winner
    assert "least recently assigned wins" in decision.reason


def test_weights_and_bands_come_from_the_weights_tab():
    weights = [dict(factor="Capacity", weight="100", bands="3:10, *:1"),
               dict(factor="Specialization", weight="0", bands=""),
               dict(factor="Close Rate", weight="0", bands=""),
               dict(factor="Response Time", weight="0%", bands="")]
    loads = {"Sarah M.": load(3), "James K.": load(2, last_hours_ago=1), "Rachel T.": load(4), "David L.": load(2)}
    decision = route(agency("weighted", weights=weights), loads=loads)
    assert decision.owner == "David L."  # James and David score 100 with 2 open; David was never assigned
    assert decision.reason.startswith("weighted: David L. 100.0 = capacity 10×100% + match 8×0%")
    assert scores(decision)["Sarah M."] == "10.0"


def test_unreadable_weights_cells_keep_the_guides_defaults():
    weights = [dict(factor="capacity", weight="lots", bands="x:y"), dict(factor="speed", weight="-5", bands="")]
    rules = parse_weights([Weight.from_row(w) for w in weights])
    assert rules.weights == {"capacity": 30, "specialization": 35, "close_rate": 25, "response_time": 10}
    assert any("unreadable" in p for p in rules.problems) and any("not a percent" in p for p in rules.problems)
    assert route(agency("weighted", weights=weights)).owner == "Sarah M."


def test_unavailable_producers_are_never_scored_and_the_table_says_why():
    config = agency("weighted", producers={"Sarah M.": {"out_until": "2026-12-01"}, "James K.": {"active": "N"}})
    decision = route(config)
    assert decision.owner == "David L."
    rows = {r["producer"]: r for r in decision.table}
    assert rows["Sarah M."]["verdict"] == "unavailable: out until 2026-12-01" and rows["Sarah M."]["score"] == "-"
    assert rows["Rachel T."]["verdict"].startswith("lower score 70.8 < 77.8 (mostly match 6 vs 8)")


def test_the_best_producer_with_the_line_excludes_the_one_it_is_taken_from():
    config = agency("weighted")
    decision = best_with_line(lead("10050", "Auto"), config, {}, TODAY, exclude=["Sarah M."])
    assert decision.owner == "James K."  # ties with David at 77.75, listed first
    assert "best available with the Personal line" in decision.reason
    bop = best_with_line(lead("10050", "BOP"), config, {}, TODAY, exclude=["Sarah M.", "Rachel T.", "David L."])
    assert bop is None  # James writes Personal only


@pytest.mark.parametrize("backup_open, owner, says", [
    (0, "David L.", "backup David L. (capacity 10 > 5, 0 open)"),
    (14, "David L.", "backup David L. (capacity 6 > 5, 14 open)"),
    (15, "James K.", "(backup David L. has capacity 4 ≤ 5 with 15 open); best available with the Personal line"),
])
def test_a_30_minute_reassignment_goes_to_a_backup_with_capacity_above_5_else_the_best_with_the_line(
        backup_open, owner, says):
    stale = lead("10050", "Auto", assigned_to="Sarah M.")
    decision = reassignment(stale, agency("weighted"), {"David L.": load(backup_open)}, TODAY)
    assert decision.owner == owner and says in decision.reason
    assert decision.reason.startswith("reassign: Sarah M. → ")


def test_a_reassignment_skips_an_away_backup_and_returns_none_when_nobody_writes_the_line():
    stale = lead("10250", "BOP", assigned_to="Rachel T.")
    config = agency("weighted", producers={"David L.": {"out_until": "2026-12-01"}, "Sarah M.": {"active": "N"}})
    assert reassignment(stale, config, {}, TODAY) is None
    config = agency("weighted", producers={"David L.": {"out_until": "2026-12-01"}})
    decision = reassignment(stale, config, {}, TODAY)
    assert decision.owner == "Sarah M." and "backup David L. out until 2026-12-01" in decision.reason


def test_when_everyone_is_at_cap_the_weighted_model_falls_back_to_the_least_loaded():
    config = agency("weighted", producers={n: {"max_active_leads": "1"} for n in FOUR})
    loads = {"Sarah M.": load(3), "James K.": load(1), "Rachel T.": load(2), "David L.": load(2)}
    decision = route(config, loads=loads)
    assert decision.owner == "James K." and decision.fallback and "cap ignored" in decision.reason


def test_the_factors_in_the_reason_add_up_to_the_score_shown():
    # Sarah 15/20 bound, James 20/20 (the best): Sarah's close factor is 1 + 9 × 0.75 = 7.75.
    # 10 × (0.3×10 + 0.35×10 + 0.25×7.75 + 0.1×6) = 90.375 -> 90.4; "close 7.8" would add up to 90.5
    loads = {"Sarah M.": load(assigned=20, bound=15), "James K.": load(assigned=20, bound=20)}
    decision = route(loads=loads)
    assert decision.reason == ("weighted: Sarah M. 90.4 = capacity 10×30% + match 10×35% + close 7.75×25% + "
                               "response 6×10% (0 open, territory+line, 15/20 bound, no data); next James K. 89.0")
    row = next(r for r in decision.table if r["producer"] == "Sarah M.")
    assert (row["close"], row["score"]) == ("7.75", "90.4")


def test_the_fallback_table_names_the_winner_and_that_the_cap_was_ignored():
    config = agency("weighted", producers={n: {"max_active_leads": "2"} for n in FOUR})
    loads = {"Sarah M.": load(3), "James K.": load(2), "Rachel T.": load(2, last_hours_ago=1), "David L.": load(4)}
    rows = {r["producer"]: r["verdict"] for r in route(config, loads=loads).table}
    assert rows == {
        "James K.": "winner: fewest open leads (2), cap ignored",
        "Sarah M.": "at cap (3/2 open leads); cap ignored, but more open leads than James K. (3 > 2)",
        "Rachel T.": "at cap (2/2 open leads); cap ignored, but as many open leads as James K., assigned more "
                     "recently",
        "David L.": "at cap (4/2 open leads); cap ignored, but more open leads than James K. (4 > 2)",
    }
