"""A tick against what happens around it: a reply landing mid-tick, a web process that died
before sending minute 0, and what a producer who lost a lead is told."""
from __future__ import annotations

from datetime import timedelta

from automations.notify.channels.console import ConsoleNotifier
from automations.speed_clock.escalation import rung_key, RUNGS
from automations.intake.submission import submit_lead
from automations.speed_clock.reassign import reassign
from automations.notify.replies import handle_inbound
from automations.speed_clock.tick import move_lead
from tests.conftest import T0, lead_payload
from tests.speed_fixtures import minutes, post_lead, tick_at, walk

SARAH = "+12015550111"


class PhoneThatReplies(ConsoleNotifier):
    """Delivers like the console; when Sarah's 5-minute reminder reaches her, she replies "C 1001" at
    once, through the real reply handler (as the Twilio webhook would, while the tick is running)."""

    def __init__(self, store, clock) -> None:
        super().__init__()
        self.store, self.clock = store, clock

    def send(self, message):
        answer = super().send(message)
        if message.template == "producer_reminder_5" and message.recipient == "Sarah M.":
            handle_inbound(self.store, self.clock, SARAH, "C 1001", "SM-reply")
        return answer


def test_a_reply_to_the_reminder_stops_the_rest_of_the_same_tick(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    phone = PhoneThatReplies(demo_store, clock)
    sent = tick_at(demo_store, phone, clock, T0 + timedelta(minutes=5))
    assert [s.short[1:] for s in sent] == [("Sarah M.", "producer_reminder_5")]  # no "I just tried to call you"
    lead = demo_store.get_lead("L-1001")
    assert lead.status == "Contacted" and lead.first_contact_at == T0 + timedelta(minutes=5)
    assert walk(demo_store, phone, clock, minutes(T0, 6, 90, step=7)) == []
    events = [a.event for a in demo_store.activity("L-1001")]
    assert "follow-up" not in events and events.count("status") == 1


def test_minute_zero_lost_with_the_web_process_is_sent_by_the_next_tick_once(demo_store, clock, notifier):
    submit_lead(lead_payload(), demo_store, clock)  # persisted; the process died before its background send
    from automations.speed_clock.tick import minute_zero_grace_for
    grace = minute_zero_grace_for(demo_store)  # seconds on SQL (one journal), a minute on Google Sheets
    assert tick_at(demo_store, notifier, clock, T0 + grace - timedelta(seconds=1)) == []  # the web may still send
    sent = tick_at(demo_store, notifier, clock, T0 + grace + timedelta(seconds=30))
    assert [s.short[1:] for s in sent] == [("Sarah M.", "producer_new_lead"), ("Sarah M.", "producer_new_lead_email")]
    assert [m.key for m in notifier.sent] == ["L-1001/assigned/Sarah M./sms", "L-1001/assigned/Sarah M./email"]
    assert tick_at(demo_store, notifier, clock, T0 + timedelta(minutes=3)) == []
    ladder = [s.short[1:] for s in walk(demo_store, notifier, clock, minutes(T0, 4, 31)) if s.to != "lead"]
    assert ladder[0] == ("Sarah M.", "producer_reminder_5")
    assert ("Sarah M.", "producer_new_lead") not in ladder  # nor again once the ladder moved the lead


def test_minute_zero_already_sent_by_the_web_is_never_repeated(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    walk(demo_store, notifier, clock, minutes(T0, 1, 4))
    assert [m.template for m in notifier.sent] == ["producer_new_lead", "producer_new_lead_email"]


def test_a_pass_whose_messages_were_lost_is_told_to_the_new_owner_by_the_tick(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    clock.set(T0 + timedelta(minutes=2))
    moved = reassign(demo_store, demo_store.get_lead("L-1001"), demo_store.config(), clock.now(), "PASS from Sarah M.")
    assert moved.owner == "David L."  # ... and the process died before delivering moved.messages
    sent = [s.short[1:] for s in walk(demo_store, notifier, clock, minutes(T0, 3, 6)) if s.to != "lead"]
    assert sent == [("David L.", "producer_new_lead"), ("David L.", "producer_new_lead_email")]
    davids = [m.key for m in notifier.sent if m.recipient == "David L."]
    assert davids == [m.key for m in moved.messages if m.recipient == "David L."]  # the PASS's own keys: never twice


def test_a_producer_who_loses_a_lead_at_30_minutes_hears_how_long_they_had_it(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    sent = walk(demo_store, notifier, clock, minutes(T0, 5, 60, step=5))
    notes = [(s.short[0], s.to, s.body) for s in sent if s.template == "producer_reassigned_away"]
    assert [(at, who) for at, who, _ in notes] == [("Tue 10:30", "Sarah M."), ("Tue 11:00", "David L.")]
    assert [body.split(" after ")[1] for *_, body in notes] == ["30 min without contact."] * 2


def test_the_note_after_a_crash_still_counts_the_owners_own_minutes(demo_store, clock, notifier):
    post_lead(demo_store, clock, notifier)
    walk(demo_store, notifier, clock, minutes(T0, 5, 55, step=5))  # Sarah -> David at 10:30
    hour = T0 + timedelta(minutes=60)
    config, lead = demo_store.config(), demo_store.get_lead("L-1001")
    move = move_lead(demo_store, lead, config, hour, demo_store.workload(hour), {}, key=rung_key(lead, RUNGS[-1]),
                     reason="untouched 30 business min", label="30 min: reassigned")  # ... and the worker died
    assert move.decision is not None
    sent = tick_at(demo_store, notifier, clock, hour)
    [note] = [s.body for s in sent if s.template == "producer_reassigned_away"]
    assert note.startswith("Lead #1001 Maria was reassigned to ") and note.endswith("after 30 min without contact.")
