"""reassign(): a lead goes to someone else now, with the reason and the messages it needs."""
from __future__ import annotations

from automations.intake.submission import submit_lead
from automations.events import REASSIGNMENT_EVENTS
from automations.speed_clock.reassign import reassign
from tests.conftest import lead_payload


def test_a_reassigned_lead_gets_a_new_owner_who_is_told_and_the_old_owner_hears_why(demo_store, clock):
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    clock.advance(minutes=30)
    moved = reassign(demo_store, lead, demo_store.config(), clock.now(), "no contact in 30 business minutes")
    stored = demo_store.get_lead(lead.lead_id)
    # the guide's rule: Sarah's backup David L. (capacity 10 > 5) takes it
    assert (stored.assigned_to, stored.reassigned_from, stored.assigned_at) == ("David L.", "Sarah M.", clock.now())
    assert stored.routing_reason.startswith("no contact in 30 business minutes; reassign: Sarah M. → backup David L.")
    assert [(m.recipient, m.template) for m in moved.messages] == [
        ("David L.", "producer_new_lead"), ("David L.", "producer_new_lead_email"),
        ("Sarah M.", "producer_reassigned_away")]
    assert "reassigned to David L. after 30 min" in moved.messages[-1].body
    [row] = [a for a in demo_store.activity(lead.lead_id) if a.event in REASSIGNMENT_EVENTS]
    assert row.detail.startswith("Sarah M. -> David L.: no contact in 30 business minutes")


def test_a_second_reassignment_skips_the_owner_before_and_anyone_excluded(demo_store, clock):
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    first = reassign(demo_store, lead, demo_store.config(), clock.now(), "PASS")
    clock.advance(minutes=30)
    second = reassign(demo_store, first.lead, demo_store.config(), clock.now(), "PASS", exclude=["Rachel T."])
    assert second.owner == "James K." and second.lead.reassigned_from == "David L."
    first_keys, second_keys = {m.key for m in first.messages}, {m.key for m in second.messages}
    assert first_keys.isdisjoint(second_keys)  # each reassignment's messages are sent, not deduplicated away
    rows = [a.detail for a in demo_store.activity(lead.lead_id) if a.event in REASSIGNMENT_EVENTS]
    assert [r.split(":")[0] for r in rows] == ["Sarah M. -> David L.", "David L. -> James K."]


def test_a_stale_copy_of_the_lead_cannot_reassign_it_twice(demo_store, clock):
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    assert reassign(demo_store, lead, demo_store.config(), clock.now(), "PASS") is not None
    assert reassign(demo_store, lead, demo_store.config(), clock.now(), "30 minutes") is None
    assert demo_store.get_lead(lead.lead_id).assigned_to == "David L."


def test_when_everyone_has_had_the_lead_it_goes_to_the_manager_not_back(demo_store, clock):
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    moved = reassign(demo_store, lead, demo_store.config(), clock.now(), "PASS",
                     exclude=["James K.", "Rachel T.", "David L."])
    assert moved.owner == "Morgan P." and "assigned to manager Morgan P." in moved.lead.routing_reason
