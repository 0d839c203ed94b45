"""The escalation ladder: what producers and the manager receive while nobody reaches a lead."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from automations.config import AgencyConfig
from automations.speed_clock.escalation import choose_new_owner
from automations.routing import capacity_score
from automations.ports import ProducerLoad
from automations.notify.delivery import deliver_all
from automations.speed_clock.reassign import reassign
from sheets_schema.demo import demo_rows
from sheets_schema.models import Lead
from tests.conftest import T0
from tests.speed_fixtures import local, minutes, post_lead, set_setting, tick_at, walk


def test_a_lead_nobody_touches_climbs_the_whole_ladder_minute_by_minute(demo_store, clock, notifier):
    lead = post_lead(demo_store, clock, notifier)
    assert (lead.lead_id, lead.assigned_to) == ("L-1001", "Sarah M.")
    sent = walk(demo_store, notifier, clock, minutes(T0, 1, 95))
    assert [s.short for s in sent] == [
        ("Tue 10:05", "Sarah M.", "producer_reminder_5"),
        ("Tue 10:05", "lead", "lead_text_min5"),
        ("Tue 10:05", "lead", "lead_intro_email"),
        ("Tue 10:15", "Sarah M.", "producer_warning_15"),
        ("Tue 10:15", "Sarah M.", "producer_warning_15_email"),
        ("Tue 10:30", "David L.", "producer_new_lead"),          # Sarah's backup takes it
        ("Tue 10:30", "David L.", "producer_new_lead_email"),
        ("Tue 10:30", "Sarah M.", "producer_reassigned_away"),
        ("Tue 10:35", "David L.", "producer_reminder_5"),        # David's own clock
        ("Tue 10:45", "David L.", "producer_warning_15"),
        ("Tue 10:45", "David L.", "producer_warning_15_email"),
        ("Tue 11:00", "James K.", "producer_new_lead"),          # David's backup writes no Personal: the best who does
        ("Tue 11:00", "James K.", "producer_new_lead_email"),
        ("Tue 11:00", "David L.", "producer_reassigned_away"),
        ("Tue 11:00", "Morgan P.", "manager_alert"),             # 60 min since arrival
        ("Tue 11:00", "Morgan P.", "manager_alert_email"),
        ("Tue 11:01", "James K.", "producer_call_reminder"),     # hour 1, in the new owner's name
        ("Tue 11:05", "James K.", "producer_reminder_5"),
        ("Tue 11:15", "James K.", "producer_warning_15"),
        ("Tue 11:15", "James K.", "producer_warning_15_email"),
        ("Tue 11:30", "Morgan P.", "manager_alert"),             # Max Reassignments (2) reached
        ("Tue 11:30", "Morgan P.", "manager_alert_email"),
    ]
    body = {(s.to, s.template, s.short[0]): s.body for s in sent}
    assert body[("Sarah M.", "producer_reminder_5", "Tue 10:05")] == (
        "Reminder: lead #1001 Maria is waiting 5 min. Call +12015550142. Reply C 1001 when done.")
    assert body[("Sarah M.", "producer_warning_15", "Tue 10:15")] == (
        "Warning: lead #1001 Maria untouched for 15 min. It will be reassigned at 30 min.")
    assert body[("Sarah M.", "producer_reassigned_away", "Tue 10:30")] == (
        "Lead #1001 Maria was reassigned to David L. after 30 min without contact.")
    assert body[("David L.", "producer_reassigned_away", "Tue 11:00")] == (
        "Lead #1001 Maria was reassigned to James K. after 30 min without contact.")  # his 30, not the lead's 60
    assert body[("Morgan P.", "manager_alert", "Tue 11:00")] == (
        "Alert: lead #1001 Maria still untouched after 60 min (owner David L.).")
    assert body[("Morgan P.", "manager_alert", "Tue 11:30")] == (
        "Alert: lead #1001 Maria still untouched after 90 min (owner James K.).")
    stored = demo_store.get_lead("L-1001")
    assert (stored.assigned_to, stored.reassigned_from) == ("James K.", "David L.")
    assert stored.assigned_at == local(2026, 11, 24, 11, 0)
    assert stored.escalation == "30 min: reassignment cap reached, manager alerted"
    assert "reassigned from David L." in stored.routing_reason and "backup Rachel T." in stored.routing_reason
    assert "best available with the Personal line: James K." in stored.routing_reason
    assert [a.event for a in demo_store.activity("L-1001")].count("reassigned") == 2


def test_the_escalation_column_shows_the_last_step_reached(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=5))
    assert demo_store.get_lead("L-1001").escalation == "5 min: reminder to Sarah M."
    tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=30))
    assert demo_store.get_lead("L-1001").escalation == "30 min: reassigned from Sarah M. to David L."


def test_a_2am_lead_starts_its_clock_when_the_office_opens(demo_store, clock, notifier):
    clock.set(local(2026, 11, 24, 2, 0))
    post_lead(demo_store, clock, notifier)
    night = walk(demo_store, notifier, clock, minutes(local(2026, 11, 24, 2, 0), 1, 360, step=20))
    assert [s.short for s in night] == [("Tue 02:21", "lead", "lead_intro_email")]  # no call claimed, no ladder
    morning = walk(demo_store, notifier, clock, minutes(local(2026, 11, 24, 8, 0), 0, 60))
    assert [s.short for s in morning if s.to != "lead"] == [
        ("Tue 08:05", "Sarah M.", "producer_reminder_5"),
        ("Tue 08:15", "Sarah M.", "producer_warning_15"),
        ("Tue 08:15", "Sarah M.", "producer_warning_15_email"),
        ("Tue 08:30", "David L.", "producer_new_lead"),
        ("Tue 08:30", "David L.", "producer_new_lead_email"),
        ("Tue 08:30", "Sarah M.", "producer_reassigned_away"),
        ("Tue 08:35", "David L.", "producer_reminder_5"),
        ("Tue 08:45", "David L.", "producer_warning_15"),
        ("Tue 08:45", "David L.", "producer_warning_15_email"),
        ("Tue 09:00", "James K.", "producer_new_lead"),
        ("Tue 09:00", "James K.", "producer_new_lead_email"),
        ("Tue 09:00", "David L.", "producer_reassigned_away"),
        ("Tue 09:00", "Morgan P.", "manager_alert"),
        ("Tue 09:00", "Morgan P.", "manager_alert_email"),
    ]


def test_a_friday_450_pm_lead_waits_for_monday_morning_to_escalate(demo_store, clock, notifier):
    set_setting(demo_store, "Business Hours", "Mon-Fri 08:00-17:00")
    friday = local(2026, 11, 27, 16, 50)
    clock.set(friday)
    post_lead(demo_store, clock, notifier)
    sent = walk(demo_store, notifier, clock, minutes(friday, 1, 20)
                + minutes(local(2026, 11, 27, 18, 0), 0, 60 * 60, step=60 * 6)   # the weekend
                + minutes(local(2026, 11, 30, 8, 0), 0, 55))
    ladder = [s.short for s in sent if s.template.startswith(("producer_reminder", "producer_warning",
                                                               "producer_new_lead", "manager_alert"))]
    assert ladder == [
        ("Fri 16:55", "Sarah M.", "producer_reminder_5"),
        ("Mon 08:05", "Sarah M.", "producer_warning_15"),        # 10 min on Friday + 5 on Monday
        ("Mon 08:05", "Sarah M.", "producer_warning_15_email"),
        ("Mon 08:20", "David L.", "producer_new_lead"),
        ("Mon 08:20", "David L.", "producer_new_lead_email"),
        ("Mon 08:25", "David L.", "producer_reminder_5"),
        ("Mon 08:35", "David L.", "producer_warning_15"),
        ("Mon 08:35", "David L.", "producer_warning_15_email"),
        ("Mon 08:50", "James K.", "producer_new_lead"),
        ("Mon 08:50", "James K.", "producer_new_lead_email"),
        ("Mon 08:50", "Morgan P.", "manager_alert"),
        ("Mon 08:50", "Morgan P.", "manager_alert_email"),
        ("Mon 08:55", "James K.", "producer_reminder_5"),
    ]
    assert not [s for s in sent if local(2026, 11, 27, 17, 0) <= s.at < local(2026, 11, 30, 8, 0)]


def test_contact_at_minute_4_stops_everything(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    assert walk(demo_store, notifier, clock, minutes(T0, 1, 3)) == []
    demo_store.update_lead("L-1001", {"status": "Contacted"})  # the producer edits the sheet
    assert tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=4)) == []
    stamped = demo_store.get_lead("L-1001")
    assert stamped.first_contact_at == T0 + timedelta(minutes=4) and stamped.response_minutes == 4.0
    later = walk(demo_store, notifier, clock, minutes(T0, 5, 120, step=5) + minutes(T0, 180, 60 * 24 * 40, step=60 * 24))
    assert later == []
    assert demo_store.get_lead("L-1001").next_follow_up is None


def test_a_referral_climbs_at_half_the_minutes(demo_store, clock, notifier):
    lead = post_lead(demo_store, clock, notifier, source="referral")
    assert (lead.source, lead.priority) == ("Referral", "High")
    sent = walk(demo_store, notifier, clock, minutes(T0, 1, 31))
    ladder = [s.short for s in sent if s.template.startswith(("producer_reminder", "producer_warning",
                                                               "producer_new_lead", "manager_alert"))]
    assert ladder == [
        ("Tue 10:03", "Sarah M.", "producer_reminder_5"),        # 2.5 business minutes
        ("Tue 10:08", "Sarah M.", "producer_warning_15"),        # 7.5
        ("Tue 10:08", "Sarah M.", "producer_warning_15_email"),
        ("Tue 10:15", "David L.", "producer_new_lead"),          # 15
        ("Tue 10:15", "David L.", "producer_new_lead_email"),
        ("Tue 10:18", "David L.", "producer_reminder_5"),
        ("Tue 10:23", "David L.", "producer_warning_15"),
        ("Tue 10:23", "David L.", "producer_warning_15_email"),
        ("Tue 10:30", "James K.", "producer_new_lead"),
        ("Tue 10:30", "James K.", "producer_new_lead_email"),
        ("Tue 10:30", "Morgan P.", "manager_alert"),             # 30 since arrival
        ("Tue 10:30", "Morgan P.", "manager_alert_email"),
    ]


def test_with_max_reassignments_0_the_manager_is_alerted_instead_of_reassigning(demo_store, clock, notifier):
    set_setting(demo_store, "Max Reassignments", "0")
    post_lead(demo_store, clock, notifier)
    sent = tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=30))
    assert [s.short for s in sent if s.to != "lead"] == [("Tue 10:30", "Morgan P.", "manager_alert"),
                                       ("Tue 10:30", "Morgan P.", "manager_alert_email")]
    lead = demo_store.get_lead("L-1001")
    assert lead.assigned_to == "Sarah M." and lead.escalation == "30 min: reassignment cap reached, manager alerted"


def test_a_pass_hands_the_lead_over_at_once_and_the_new_owner_gets_a_fresh_clock(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    clock.set(T0 + timedelta(minutes=2))
    before = len(notifier.sent)
    moved = reassign(demo_store, demo_store.get_lead("L-1001"), demo_store.config(), clock.now(), "PASS from Sarah M.")
    deliver_all(moved.messages, demo_store, notifier, clock)  # as the text-reply webhook does
    assert moved.owner == "David L."
    sent = [(m.recipient, m.template, m.body) for m in list(notifier.sent)[before:]]
    assert [s[:2] for s in sent] == [("David L.", "producer_new_lead"), ("David L.", "producer_new_lead_email"),
                                     ("Sarah M.", "producer_reassigned_away")]
    assert sent[2][2] == "Lead #1001 Maria was reassigned to David L. after 2 min without contact."
    lead = demo_store.get_lead("L-1001")
    assert (lead.assigned_to, lead.reassigned_from, lead.assigned_at) == ("David L.", "Sarah M.", clock.now())
    ladder = [s.short for s in walk(demo_store, notifier, clock, minutes(T0, 3, 8)) if s.to != "lead"]
    assert ladder == [("Tue 10:07", "David L.", "producer_reminder_5")]  # David's own clock, no repeat messages


# ---- who takes the lead at 30 minutes (pure) ------------------------------------------------
@pytest.fixture
def territory_config() -> AgencyConfig:
    return AgencyConfig.from_rows(demo_rows("territory"))


def north_county_lead(**changes) -> Lead:
    lead = Lead(lead_id="L-1", received_at=T0, zip="10050", state="NY", line="Personal", insurance_type="Auto",
                assigned_to="Sarah M.", assigned_at=T0)
    return lead.model_copy(update=changes)


@pytest.mark.parametrize("active, score", [(0, 10), (4, 10), (5, 8), (9, 8), (10, 6), (14, 6), (15, 4), (19, 4),
                                           (20, 2), (50, 2)])
def test_capacity_score_follows_the_guides_bands(active, score):
    assert capacity_score(active) == score


def test_the_territory_backup_takes_the_lead_when_its_capacity_score_is_above_5(territory_config):
    decision = choose_new_owner(north_county_lead(), territory_config, {"David L.": ProducerLoad(active=12)}, {},
                                T0, {"Sarah M."})
    assert decision.owner == "David L."
    assert decision.reason == "reassign: Sarah M. → backup David L. (capacity 6 > 5, 12 open)"


def test_a_busy_backup_is_passed_over_for_the_best_producer_writing_the_line(territory_config):
    loads = {"David L.": ProducerLoad(active=15), "James K.": ProducerLoad(active=3)}
    decision = choose_new_owner(north_county_lead(), territory_config, loads, {}, T0, {"Sarah M."})
    assert decision.owner == "James K."
    assert decision.reason.startswith("reassign: Sarah M. → James K. (backup David L. has capacity 4 ≤ 5 with 15 open)")


def test_the_capacity_bands_come_from_the_weights_tab(territory_config):
    weights = tuple(w.model_copy(update={"bands": "5:10, 10:8, 15:4, *:2"}) if w.factor == "capacity" else w
                    for w in territory_config.weights)
    config = replace(territory_config, weights=weights)
    decision = choose_new_owner(north_county_lead(), config, {"David L.": ProducerLoad(active=12)}, {}, T0,
                                {"Sarah M."})
    assert decision.owner == "James K."


def test_a_backup_who_is_out_is_skipped_and_the_reason_says_so(territory_config):
    producers = tuple(p.model_copy(update={"out_until": date(2026, 12, 1)}) if p.name == "David L." else p
                      for p in territory_config.producers)
    decision = choose_new_owner(north_county_lead(), replace(territory_config, producers=producers), {}, {}, T0,
                                {"Sarah M."})
    assert decision.owner == "James K."
    assert "backup David L. out until 2026-12-01" in decision.reason


def test_without_anyone_writing_the_line_routing_picks_among_the_others(territory_config):
    lead = north_county_lead(line="Life", insurance_type="Life")
    decision = choose_new_owner(lead, territory_config, {"David L.": ProducerLoad(active=30)}, {}, T0, {"Sarah M."})
    assert decision.owner not in ("Sarah M.", "David L.", "")
    assert "no available Life producer" in decision.reason


def test_nobody_is_chosen_when_only_the_excluded_could_take_it(territory_config):
    alone = replace(territory_config, producers=tuple(p for p in territory_config.producers if p.name == "Sarah M."))
    assert choose_new_owner(north_county_lead(), alone, {}, {}, T0, {"Sarah M."}) is None
