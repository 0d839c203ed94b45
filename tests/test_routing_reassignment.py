"""The 30-minute reassignment: which backup takes an untouched lead, and that it writes the lead's line.

The demo agency: Sarah M. (Personal, Small Commercial; Backup David L.), James K. (Personal;
South County 10100-10199, territory backup Sarah M.), Rachel T. (Commercial only; Backup
David L.), David L. (Personal, Commercial; Backup Rachel T.). Auto is Personal, with
Commercial as its related line; Life's related line is Health.
"""
from __future__ import annotations

from datetime import timedelta

from automations.routing import reassignment
from tests.conftest import T0
from tests.routing_fixtures import TODAY, agency, lead, load
from tests.speed_fixtures import post_lead, tick_at


def moved(config, zip_code, insurance_type, owner, had_it=(), loads=None):
    return reassignment(lead(zip_code, insurance_type, assigned_to=owner), config, loads or {}, TODAY,
                        exclude=had_it)


def test_a_backup_who_does_not_write_the_line_is_passed_over_for_one_who_does():
    # The ladder's second step for a South County Auto lead: David's own Backup is Rachel (Commercial only)
    decision = moved(agency("round_robin"), "10150", "Auto", "David L.", had_it=["Sarah M."])
    assert decision.owner == "James K."
    assert decision.reason.startswith("reassign: David L. → James K. (backup Sarah M. already had it; backup "
                                      "Rachel T. writes Personal only as a related line); best available with "
                                      "the Personal line: James K. 84.8")


def test_a_related_line_backup_takes_the_lead_only_when_nobody_available_writes_the_line():
    config = agency("round_robin", producers={"James K.": {"active": "N"}})
    decision = moved(config, "10150", "Auto", "David L.", had_it=["Sarah M."])
    assert decision.owner == "Rachel T."
    assert decision.reason == ("reassign: David L. → backup Rachel T. (capacity 10 > 5, 0 open; writes Personal "
                               "only as a related line, and nobody available writes it; backup Sarah M. already "
                               "had it)")


def test_a_backup_with_neither_the_line_nor_a_related_one_never_gets_the_lead():
    config = agency("round_robin", producers={"David L.": {"lines": "Life"}})
    decision = moved(config, "10250", "BOP", "Rachel T.")  # Metro's backup David now writes Life only
    assert decision.owner == "Sarah M."
    assert "(backup David L. does not write Commercial); best available with the Commercial line" in decision.reason
    nobody = agency("round_robin", producers={"David L.": {"lines": "Life"}, "Sarah M.": {"active": "N"}})
    assert moved(nobody, "10250", "BOP", "Rachel T.") is None  # the caller keeps the owner and alerts the manager


def test_the_leads_territory_backup_comes_before_the_owners_own_backup():
    # round robin gave a Metro (Rachel T., backup David L.) BOP lead to James K., whose own Backup is Sarah M.
    decision = moved(agency("round_robin"), "10250", "BOP", "James K.")
    assert decision.owner == "David L."
    assert decision.reason == "reassign: James K. → backup David L. (capacity 10 > 5, 0 open)"


def test_the_owners_own_backup_is_next_when_the_territory_backup_cannot_take_it():
    config = agency("round_robin", producers={"David L.": {"out_until": "2026-12-01"}})
    decision = moved(config, "10250", "BOP", "James K.")
    assert decision.owner == "Sarah M."
    assert decision.reason == ("reassign: James K. → backup Sarah M. (capacity 10 > 5, 0 open; backup David L. "
                               "out until 2026-12-01)")


def test_a_busy_backup_with_the_line_still_gives_way_to_the_capacity_rule():
    decision = moved(agency("territory"), "10050", "Auto", "Sarah M.", loads={"David L.": load(15)})
    assert decision.owner == "James K."
    assert "(backup David L. has capacity 4 ≤ 5 with 15 open)" in decision.reason


def test_a_lead_of_a_line_nobody_writes_is_not_handed_to_a_backup_of_another_line():
    # nobody writes Life: not Rachel (Commercial), David's Backup; escalation then lets routing decide
    assert moved(agency("round_robin"), "10150", "Life", "David L.", had_it=["Sarah M."]) is None


def test_an_untouched_auto_lead_climbs_to_the_producer_who_writes_personal_not_a_commercial_backup(
        demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)  # ZIP 10150 Auto -> Sarah M. (round robin starts at the top)
    tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=30))
    assert demo_store.get_lead("L-1001").assigned_to == "David L."  # Sarah's own Backup writes Personal
    sent = tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=60))
    stored = demo_store.get_lead("L-1001")
    assert (stored.assigned_to, stored.reassigned_from) == ("James K.", "David L.")
    assert "backup Rachel T. writes Personal only as a related line" in stored.routing_reason
    assert ("James K.", "producer_new_lead") in [(s.to, s.template) for s in sent]
