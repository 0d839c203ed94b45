"""Call connect end to end: the real twilio client places calls on the loopback Twilio, and the
test plays Twilio's side (fetches our TwiML, presses keys, posts signed status callbacks)."""
from __future__ import annotations


from automations.speed_clock.tick import run_tick
from tests.call_fixtures import call_app, details, events, post_lead, side  # noqa: F401
from tests.notify_fixtures import FROM, twilio  # noqa: F401
from tests.speed_fixtures import set_setting
from tests.twilio_fake import ACCOUNT_SID
from tests.voice_driver import PUBLIC

MOBILES = {"Sarah M.": "+12015550111", "James K.": "+12015550112", "Rachel T.": "+12015550113",
           "David L.": "+12015550114"}
WHISPER = "New Auto lead, Maria Lopez, ZIP 10150. Press 1 to call now, 2 to pass"


def tick(app, clock, minutes: float = 0):
    clock.advance(minutes=minutes)
    svc = app.extensions["leadrouter"]
    return run_tick(svc.store, svc.notifier, clock)


def test_a_new_lead_rings_its_owner_who_presses_1_talks_40_seconds_and_the_lead_is_contacted(
        call_app, side, twilio, demo_store):
    lead = post_lead(call_app)
    owner = lead["assigned_to"]
    assert len(twilio.calls) == 1
    call = side.call()
    assert call["To"] == MOBILES[owner] and call["From"] == FROM
    assert call["Url"] == f"{PUBLIC}/voice/offer?lead={lead['lead_id']}&n=1" and call["Method"] == "POST"
    assert twilio.calls[0]["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert call["MachineDetection"] == "Enable"

    offer = side.answer(call)
    assert offer.find("Gather/Say").text == WHISPER
    assert offer.find("Gather").get("numDigits") == "1"
    dial = side.press(call, offer, "1")
    assert dial.find("Dial").get("callerId") == FROM
    assert dial.find("Dial/Number").text == "+12015550142"

    side.bridge(call, dial, duration=40)
    saved = demo_store.get_lead(lead["lead_id"])
    assert saved.status == "Contacted" and saved.first_contact_at is not None
    assert saved.attempts == 1 and saved.assigned_to == owner
    assert {"call accepted", "call initiated", "call ringing", "call answered", "call completed",
            "call contact", "call attempt"} <= set(events(demo_store, lead["lead_id"]))
    assert any("40 s connected" in d for d in details(demo_store, lead["lead_id"], "call contact"))


def test_a_short_bridged_call_is_an_attempt_and_a_second_call_adds_another(call_app, side, twilio, demo_store):
    lead = post_lead(call_app)
    call = side.call()
    dial = side.press(call, side.answer(call), "1")
    side.bridge(call, dial, final="no-answer", events=("initiated", "ringing"))
    side.bridge(call, dial, duration=12)
    saved = demo_store.get_lead(lead["lead_id"])
    assert saved.status == "New" and saved.first_contact_at is None and saved.attempts == 2
    assert any("under 30 s" in d for d in details(demo_store, lead["lead_id"], "call short"))


def test_a_bridged_call_that_reached_voicemail_is_an_attempt_not_a_contact(call_app, side, demo_store):
    lead = post_lead(call_app)
    call = side.call()
    dial = side.press(call, side.answer(call), "1")
    side.bridge(call, dial, duration=75, answered_by="machine_end_beep")
    saved = demo_store.get_lead(lead["lead_id"])
    assert saved.status == "New" and saved.attempts == 1
    assert any("voicemail" in d for d in details(demo_store, lead["lead_id"], "call voicemail"))


def test_a_callback_sent_twice_by_twilio_counts_once(call_app, side, demo_store):
    lead = post_lead(call_app)
    call = side.call()
    dial = side.press(call, side.answer(call), "1")
    child = side.bridge(call, dial, duration=5, events=())
    number = dial.find("Dial/Number")
    again = {"AccountSid": ACCOUNT_SID, "CallSid": child, "CallStatus": "completed", "CallDuration": "5"}
    assert side.post(number.get("statusCallback"), again).status_code == 204
    assert demo_store.get_lead(lead["lead_id"]).attempts == 1


def test_pressing_2_passes_the_lead_like_a_pass_reply_and_rings_the_new_owner(call_app, side, twilio, demo_store):
    lead = post_lead(call_app)
    first = lead["assigned_to"]
    call = side.call()
    goodbye = side.press(call, side.answer(call), "2")
    assert goodbye.find("Say").text.startswith("Passed")
    saved = demo_store.get_lead(lead["lead_id"])
    assert saved.assigned_to != first and saved.reassigned_from == first
    assert "passed" in events(demo_store, lead["lead_id"])
    assert len(twilio.calls) == 2 and side.call()["To"] == MOBILES[saved.assigned_to]
    assert side.call()["Url"].endswith("&n=2")
    assert any(r["To"] == [MOBILES[saved.assigned_to]] for r in twilio.received)  # the new owner's text


def test_an_owner_who_does_not_press_1_in_the_window_loses_the_offer_to_the_next_producer(
        call_app, side, twilio, demo_store, clock):
    lead = post_lead(call_app)
    owner = lead["assigned_to"]
    tick(call_app, clock, minutes=1)
    assert len(twilio.calls) == 1  # still inside the 2-minute window
    tick(call_app, clock, minutes=1.5)
    assert len(twilio.calls) == 2
    second = side.call()
    assert second["To"] != MOBILES[owner] and second["Url"].endswith("&n=2")
    assert demo_store.get_lead(lead["lead_id"]).assigned_to == owner  # an offer does not change the owner
    offered = details(demo_store, lead["lead_id"], "call offered")[-1]
    assert "next by round_robin" in offered
    assert any("offer window (2 min)" in d for d in details(demo_store, lead["lead_id"], "call offer ended"))

    taker = next(name for name, mobile in MOBILES.items() if mobile == second["To"])
    side.press(second, side.answer(second), "1")
    saved = demo_store.get_lead(lead["lead_id"])
    assert saved.assigned_to == taker and saved.reassigned_from == owner


def test_an_unanswered_offer_moves_on_at_the_next_tick_and_stops_after_max_offers(
        call_app, side, twilio, demo_store, clock):
    set_setting(demo_store, "Max Offers", "2")
    lead = post_lead(call_app)
    side.offer_status(side.call(), "no-answer")
    tick(call_app, clock, minutes=0.5)
    assert len(twilio.calls) == 2
    side.offer_status(side.call(), "busy")
    tick(call_app, clock, minutes=0.5)
    tick(call_app, clock, minutes=5)
    assert len(twilio.calls) == 2
    ended = details(demo_store, lead["lead_id"], "call connect ended")
    assert len(ended) == 1 and "the ordinary ladder continues" in ended[0]
    assert demo_store.get_lead(lead["lead_id"]).assigned_to == lead["assigned_to"]


def test_an_offer_answered_by_voicemail_is_not_answered_and_the_next_producer_is_rung(
        call_app, side, twilio, demo_store, clock):
    lead = post_lead(call_app)
    reply = side.answer(side.call(), answered_by="machine_start")
    assert reply.find("Hangup") is not None and reply.find("Gather") is None
    tick(call_app, clock, minutes=0.5)
    assert len(twilio.calls) == 2
    assert "call offer voicemail" in events(demo_store, lead["lead_id"])


def test_a_lead_reached_by_text_reply_stops_the_offers(call_app, side, twilio, demo_store, clock):
    lead = post_lead(call_app)
    call_app.extensions["leadrouter"].store.update_lead(lead["lead_id"], {"status": "Contacted"})
    late = side.answer(side.call())
    assert late.find("Gather") is None and "no longer waiting" in late.find("Say").text
    tick(call_app, clock, minutes=3)
    assert len(twilio.calls) == 1


def test_during_a_twilio_outage_the_offer_waits_in_the_outbox_and_is_placed_while_still_useful(
        call_app, side, twilio, demo_store, clock):
    from automations.call_connect.offers import advance
    from automations.notify.delivery import retry_due
    from tests.notify_fixtures import NO_WAIT
    twilio.outage()
    lead = post_lead(call_app)
    assert twilio.calls == [] and "voice failed" in events(demo_store, lead["lead_id"])
    twilio.recover()
    clock.advance(seconds=61)
    svc = call_app.extensions["leadrouter"]
    assert retry_due(demo_store, svc.notifier, clock, policy=NO_WAIT)["sent"] >= 1
    assert advance(demo_store, svc.notifier, clock, policy=NO_WAIT) == []  # still its window
    assert len(twilio.calls) == 1 and side.call()["To"] == MOBILES[lead["assigned_to"]]


def test_an_offer_still_undelivered_when_its_window_passes_is_dropped_and_the_activity_says_so(
        call_app, twilio, demo_store, clock):
    from automations.notify.delivery import retry_due
    from tests.notify_fixtures import NO_WAIT
    twilio.outage()
    lead = post_lead(call_app)
    svc = call_app.extensions["leadrouter"]
    clock.advance(seconds=61)
    retry_due(demo_store, svc.notifier, clock, policy=NO_WAIT)  # Twilio still down
    twilio.recover()
    clock.advance(minutes=3)
    retry_due(demo_store, svc.notifier, clock, policy=NO_WAIT)
    calls_to_owner = [c for c in twilio.calls if c["To"] == [MOBILES[lead["assigned_to"]]]]
    assert calls_to_owner == []
    dropped = details(demo_store, lead["lead_id"], "voice dropped")
    assert len(dropped) == 1 and "offer window passed" in dropped[0]


def test_a_forged_voice_webhook_is_refused_and_changes_nothing(call_app, side, demo_store):
    lead = post_lead(call_app)
    call = side.call()
    url = f"{PUBLIC}/voice/answer?lead={lead['lead_id']}&n=1"
    forged = side.post(url, {"CallSid": call["sid"], "Digits": "2"}, signature="bm90IGEgc2lnbmF0dXJl")
    assert forged.status_code == 403
    unsigned = side.client.post(f"/voice/status?lead={lead['lead_id']}&n=1&leg=lead",
                                data={"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "300"})
    assert unsigned.status_code == 403
    assert side.post(call["Url"], {"CallSid": call["sid"]}, signature="x").status_code == 403
    saved = demo_store.get_lead(lead["lead_id"])
    assert saved.assigned_to == lead["assigned_to"] and saved.status == "New" and not saved.attempts


def test_a_lead_without_recorded_consent_is_never_called(call_app, twilio, demo_store):
    from tests.conftest import lead_payload
    reply = call_app.test_client().post("/leads", json=lead_payload(consent=""))  # the box left unticked
    assert reply.status_code == 201
    assert twilio.calls == []
    assert any("gave no consent" in d for d in details(demo_store, reply.json["lead_id"], "call not placed"))


def test_no_call_is_placed_while_call_connect_is_off(call_app, twilio, demo_store):
    set_setting(demo_store, "Call Connect", "N")
    post_lead(call_app)
    assert twilio.calls == []


def test_an_offer_started_twice_by_two_workers_rings_the_owner_once(call_app, twilio, demo_store, clock):
    from automations.call_connect.offers import start
    lead = post_lead(call_app)
    svc = call_app.extensions["leadrouter"]
    assert start(demo_store, svc.notifier, clock, lead["lead_id"]) is False
    assert len(twilio.calls) == 1
    assert details(demo_store, lead["lead_id"], "call offered") and len(
        details(demo_store, lead["lead_id"], "call offered")) == 1


def test_no_phone_number_or_email_reaches_the_log_during_a_call(call_app, side, caplog):
    import logging
    caplog.set_level(logging.DEBUG)
    post_lead(call_app)
    call = side.call()
    side.bridge(call, side.press(call, side.answer(call), "1"), duration=40)
    text = caplog.text
    assert "5550142" not in text and "maria.lopez@example.com" not in text and "5550111" not in text
