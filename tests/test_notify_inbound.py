"""POST /webhooks/twilio: signed texts from producers and leads, and what each one does."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from twilio.request_validator import RequestValidator

from app import create_app
from automations.notify.delivery import compose, deliver
from automations.notify.optout import is_opted_out
from tests.conftest import lead_payload
from tests.notify_fixtures import FROM, twilio, twilio_config  # noqa: F401
from tests.twilio_fake import AUTH_TOKEN

SARAH, JAMES, DAVID = "+12015550111", "+12015550112", "+12015550114"
MARIA = "+12015550142"
URL = "http://localhost/webhooks/twilio"
_sids = iter(range(1, 10_000))


def signed(url: str, form: dict, token: str = AUTH_TOKEN) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


@pytest.fixture
def app(demo_store, clock, twilio):
    return create_app(twilio_config(twilio), store=demo_store, clock=clock)


@pytest.fixture
def client(app):
    return app.test_client()


def text(client, sender: str, body: str, sid: str | None = None):
    form = {"From": sender, "To": FROM, "Body": body, "MessageSid": sid or f"SM{next(_sids):032d}",
            "AccountSid": "AC1"}
    r = client.post("/webhooks/twilio", data=form, headers=signed(URL, form))
    assert r.status_code == 200 and r.mimetype == "text/xml"
    return r.get_data(as_text=True)


def new_lead(client, **over) -> str:
    return client.post("/leads", json=lead_payload(**over)).get_json()["lead_id"]


# ---- signatures ---------------------------------------------------------------------------
def test_a_signed_request_is_answered_with_twiml(client):
    assert text(client, SARAH, "HELP").startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Reply C')


@pytest.mark.parametrize("headers", [{}, {"X-Twilio-Signature": "forged"},
                                     signed(URL, {"From": SARAH, "Body": "C"}, token="another-token")])
def test_a_forged_or_unsigned_request_is_refused_and_changes_nothing(client, demo_store, headers):
    lead_id = new_lead(client)
    r = client.post("/webhooks/twilio", data={"From": SARAH, "Body": "C"}, headers=headers)
    assert r.status_code == 403
    assert demo_store.get_lead(lead_id).status == "New"


def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(demo_store, clock, twilio):
    app = create_app(twilio_config(twilio, PUBLIC_URL="https://leads.example.com"), store=demo_store, clock=clock)
    form = {"From": SARAH, "Body": "HELP", "MessageSid": "SMproxy"}
    public = app.test_client().post("/webhooks/twilio", data=form,
                                    headers=signed("https://leads.example.com/webhooks/twilio", form))
    internal = app.test_client().post("/webhooks/twilio", data=form, headers=signed(URL, form))
    assert (public.status_code, internal.status_code) == (200, 403)


def test_without_a_twilio_auth_token_every_inbound_request_is_refused(demo_store, clock):
    app = create_app({"TESTING": True, "TWILIO_AUTH_TOKEN": ""}, store=demo_store, clock=clock)
    form = {"From": SARAH, "Body": "HELP"}
    assert app.test_client().post("/webhooks/twilio", data=form, headers=signed(URL, form)).status_code == 403


# ---- producer commands ----------------------------------------------------------------------
def test_c_marks_the_newest_open_lead_contacted_and_stamps_the_response_time(client, demo_store, clock):
    lead_id = new_lead(client)
    clock.advance(minutes=4)
    answer = text(client, SARAH, "C")
    lead = demo_store.get_lead(lead_id)
    assert lead.status == "Contacted" and lead.response_minutes == 4.0
    assert f"Lead #{lead.number} Maria Lopez: Contacted" in answer
    assert any(a.event == "status" and "Sarah M. (text reply)" in a.detail for a in demo_store.activity(lead_id))


def test_a_bare_reply_applies_to_the_newest_lead_and_a_number_picks_another(client, demo_store, clock):
    first = new_lead(client, email="a@example.com", phone="2015550161")
    for i in range(4):  # round robin: the 5th lead is Sarah's again
        clock.advance(minutes=1)
        last = new_lead(client, email=f"b{i}@example.com", phone=f"20155501{70 + i}")
    assert demo_store.get_lead(last).assigned_to == "Sarah M."
    text(client, SARAH, "c")
    assert (demo_store.get_lead(first).status, demo_store.get_lead(last).status) == ("New", "Contacted")
    text(client, SARAH, f"C {demo_store.get_lead(first).number}")
    assert demo_store.get_lead(first).status == "Contacted"


def test_q_with_a_premium_quotes_and_b_with_number_and_premium_binds(client, demo_store):
    lead_id = new_lead(client)
    number = demo_store.get_lead(lead_id).number
    assert "Quoted, premium $1,450" in text(client, SARAH, "Q $1,450")
    lead = demo_store.get_lead(lead_id)
    assert (lead.status, lead.premium) == ("Quoted", 1450.0) and lead.quoted_at and lead.first_contact_at
    assert "Bound, premium $1,200" in text(client, SARAH, f"B {number} 1200")
    lead = demo_store.get_lead(lead_id)
    assert (lead.status, lead.premium) == ("Bound", 1200.0) and lead.bound_at


def test_q_naming_one_of_the_producers_leads_is_read_as_the_lead_number(client, demo_store):
    lead_id = new_lead(client)
    number = demo_store.get_lead(lead_id).number
    text(client, SARAH, f"Q {number}")
    lead = demo_store.get_lead(lead_id)
    assert (lead.status, lead.premium) == ("Quoted", None)


def test_b_without_a_premium_asks_for_it(client, demo_store):
    lead_id = new_lead(client)
    assert "send the premium too" in text(client, SARAH, "B")
    assert demo_store.get_lead(lead_id).status == "New"


def test_l_with_a_reason_marks_the_lead_lost(client, demo_store):
    lead_id = new_lead(client)
    assert "Lost (went with a cheaper carrier)" in text(client, SARAH, "L went with a cheaper carrier")
    lead = demo_store.get_lead(lead_id)
    assert (lead.status, lead.lost_reason) == ("Lost", "went with a cheaper carrier")


def test_pass_reassigns_now_and_tells_the_new_owner(client, demo_store, twilio):
    lead_id = new_lead(client)
    answer = text(client, SARAH, "PASS")
    lead = demo_store.get_lead(lead_id)
    assert lead.assigned_to == "David L." and lead.reassigned_from == "Sarah M."  # Sarah's backup
    assert "passed to David L." in answer
    assert [r["To"][0] for r in twilio.received] == [SARAH, DAVID]  # minute 0 to Sarah, then David
    assert "Sarah M. passed it" in lead.routing_reason
    assert any(a.event == "passed" for a in demo_store.activity(lead_id))


def test_help_lists_the_commands(client):
    assert "C (contacted), Q [premium] (quoted), B premium (bound)" in text(client, SARAH, "HELP")


def test_a_producer_cannot_act_on_another_producers_lead(client, demo_store):
    lead_id = new_lead(client)  # Sarah's
    answer = text(client, JAMES, f"C {demo_store.get_lead(lead_id).number}")
    assert "assigned to Sarah M., not you" in answer and demo_store.get_lead(lead_id).status == "New"


def test_an_unknown_lead_number_or_command_gets_a_helpful_answer(client):
    new_lead(client)
    assert "No lead #9999" in text(client, SARAH, "C 9999")
    assert "did not understand" in text(client, SARAH, "on my way")


def test_a_closed_lead_is_not_reopened_by_a_late_reply(client, demo_store):
    lead_id = new_lead(client)
    number = demo_store.get_lead(lead_id).number
    text(client, SARAH, "B 900")
    assert "already Bound" in text(client, SARAH, f"C {number}")
    assert demo_store.get_lead(lead_id).status == "Bound"


def test_a_webhook_twilio_retries_is_applied_once(client, demo_store):
    lead_id = new_lead(client, email="c@example.com")
    text(client, SARAH, "Q 1000", sid="SMsame")
    text(client, SARAH, "B 2000", sid="SMother")
    text(client, SARAH, "Q 1000", sid="SMsame")  # a retry of the first webhook
    lead = demo_store.get_lead(lead_id)
    assert (lead.status, lead.premium) == ("Bound", 2000.0)


# ---- leads ------------------------------------------------------------------------------------
def test_stop_means_no_further_text_to_that_lead(client, demo_store, clock, twilio, app):
    lead_id = new_lead(client)
    assert text(client, MARIA, "STOP") == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert is_opted_out(demo_store, MARIA)
    lead, config = demo_store.get_lead(lead_id), demo_store.config()
    follow_up = compose(f"{lead_id}/min5", "lead_text_min5", lead, config, to_producer=None,
                        owner=config.producer("Sarah M."))[0]
    outcome = deliver(follow_up, demo_store, app.extensions["leadrouter"].notifier, clock)
    assert not outcome.sent and "opted out" in outcome.detail
    assert MARIA not in [r["To"][0] for r in twilio.received]
    assert [a.event for a in demo_store.activity(lead_id)][-1] == "sms skipped"


def test_start_lets_texts_through_again(client, demo_store):
    new_lead(client)
    text(client, MARIA, "STOP")
    assert "you will get our texts again" in text(client, MARIA, "Start")
    assert not is_opted_out(demo_store, MARIA)


def test_help_from_a_lead_names_the_agency_and_how_to_stop(client):
    new_lead(client)
    answer = text(client, MARIA, "help")
    assert "Demo Insurance Agency" in answer and "+12015550100" in answer and "STOP" in answer


def test_anything_else_a_lead_texts_is_forwarded_to_the_owner(client, demo_store, twilio):
    lead_id = new_lead(client)
    answer = text(client, MARIA, "Can you call after 5pm?")
    assert "passed your message to Sarah M." in answer
    forwarded = twilio.received[-1]
    assert forwarded["To"] == [SARAH] and "texted: Can you call after 5pm?" in forwarded["Body"][0]
    assert any(a.event == "sms received" and a.lead_id == lead_id for a in demo_store.activity(lead_id))


def test_twilios_delivery_report_lands_in_the_leads_activity_once(client, demo_store):
    lead_id = new_lead(client)
    url = f"http://localhost/webhooks/twilio/status?lead={lead_id}"
    form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    for _ in range(2):
        r = client.post(f"/webhooks/twilio/status?lead={lead_id}", data=form, headers=signed(url, form))
        assert r.status_code == 204
    rows = [a for a in demo_store.activity(lead_id) if a.event == "sms undelivered"]
    assert len(rows) == 1 and rows[0].detail == f"id SM{'1' * 32}, error 30003"
    forged = client.post(f"/webhooks/twilio/status?lead={lead_id}", data=form, headers={"X-Twilio-Signature": "x"})
    assert forged.status_code == 403


@pytest.mark.parametrize("body, command, numbers, rest", [
    ("C", "C", (), ""), ("c 1042", "C", ("1042",), ""), ("Contacted #1042", "C", ("#1042",), ""),
    ("Q $1,450", "Q", ("$1,450",), ""), ("B 1042 1200", "B", ("1042", "1200"), ""), ("b 1.2k", "B", ("1.2k",), ""),
    ("L 1042 went with Geico", "L", ("1042",), "went with Geico"), ("L price", "L", (), "price"),
    ("pass", "PASS", (), ""), ("Help", "HELP", (), ""), ("on my way", "", (), "on my way"), ("", "", (), ""),
])
def test_replies_are_read_the_way_producers_type_them(body, command, numbers, rest):
    from automations.notify.replies import parse_reply
    assert parse_reply(body) == type(parse_reply(body))(command, numbers, rest)


def test_a_managers_bare_reply_applies_to_the_lead_they_were_alerted_about(client, app, demo_store, clock):
    lead_id = new_lead(client)
    lead, config = demo_store.get_lead(lead_id), demo_store.config()
    morgan = config.producer("Morgan P.")
    alert = compose(f"{lead_id}/manager-60", "manager_alert", lead, config, to_producer=morgan,
                    owner=config.producer("Sarah M."), Minutes="60")[0]
    assert deliver(alert, demo_store, app.extensions["leadrouter"].notifier, clock).sent
    assert "Contacted" in text(client, morgan.mobile, "C")
    assert demo_store.get_lead(lead_id).status == "Contacted"


def test_a_producer_who_texts_stop_gets_no_answer_and_the_log_says_why(client, demo_store):
    assert text(client, SARAH, "STOP") == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert any(a.event == "sms opted out" and "Sarah M." in a.detail for a in demo_store.activity())



@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(max_size=80) | st.from_regex(r"(?i)(c|q|b|l|pass|help|stop)( #?\$?[0-9,.]{0,12}k?){0,3}( .*)?",
                                                 fullmatch=True))
def test_no_reply_text_can_crash_the_webhook_or_change_a_lead_wrongly(demo_store, clock, body):
    from automations.notify.replies import handle_inbound
    lead = submit_lead_once(demo_store, clock)
    for sender in (SARAH, MARIA, "+15005550006", "not a number"):
        answer = handle_inbound(demo_store, clock, sender, body, sid="")
        assert isinstance(answer.text, str)
    after = demo_store.get_lead(lead)
    assert after.status in ("New", "Contacted", "Quoted", "Bound", "Lost")
    assert after.premium is None or 0 <= after.premium <= 10_000_000


def submit_lead_once(store, clock) -> str:
    from automations.intake.submission import submit_lead
    found = store.leads()
    return found[0].lead_id if found else submit_lead(lead_payload(), store, clock).lead.lead_id


# ---- a lead's phone typed by hand (an owner's edit of the Phone cell, an import) ----------------
def owner_retypes_phone(store, lead_id: str, phone: str = "(201) 555-0142") -> None:
    store.update_lead(lead_id, {"phone": phone})


def texts_to_maria(twilio) -> list[str]:
    from automations.contact import normalize_phone
    return [r["Body"][0] for r in twilio.received if normalize_phone(r["To"][0]) == MARIA]


def test_a_lead_whose_phone_cell_was_retyped_is_texted_in_e164(client, app, demo_store, clock, twilio):
    from automations.speed_clock.tick import run_tick
    lead_id = new_lead(client)
    owner_retypes_phone(demo_store, lead_id)
    clock.advance(minutes=5)
    run_tick(demo_store, app.extensions["leadrouter"].notifier, clock)
    assert [r["To"][0] for r in twilio.received if r["To"][0] not in (SARAH,)] == [MARIA]


def test_stop_from_a_lead_whose_phone_cell_was_retyped_stops_the_follow_ups(client, app, demo_store, clock,
                                                                           twilio):
    from automations.speed_clock.tick import run_tick
    lead_id = new_lead(client)
    owner_retypes_phone(demo_store, lead_id)
    text(client, MARIA, "STOP")  # Twilio reports the sender in E.164
    assert is_opted_out(demo_store, "(201) 555-0142") and is_opted_out(demo_store, "201.555.0142")
    for minutes in (5, 55, 180):  # past the minute-5 and the hour-4 texts
        clock.advance(minutes=minutes)
        run_tick(demo_store, app.extensions["leadrouter"].notifier, clock)
    assert texts_to_maria(twilio) == []
    assert "sms opted out" in [a.event for a in demo_store.activity(lead_id)]


def test_a_reply_from_a_lead_whose_phone_cell_was_retyped_reaches_the_owner(client, demo_store, twilio):
    lead_id = new_lead(client)
    owner_retypes_phone(demo_store, lead_id, "201-555-0142")
    answer = text(client, MARIA, "Can you call after 5pm?")
    assert "passed your message to Sarah M." in answer
    assert twilio.received[-1]["To"] == [SARAH] and "texted: Can you call after 5pm?" in twilio.received[-1]["Body"][0]
    assert any(a.event == "sms received" and a.lead_id == lead_id for a in demo_store.activity(lead_id))


def test_start_clears_an_opt_out_stored_under_the_old_spelling(demo_store):
    from automations.notify.optout import set_opted_out
    demo_store.set_state("optout:(201) 555-0142", "1")  # a carrier opt-out recorded before phones were normalized
    assert is_opted_out(demo_store, "(201) 555-0142")
    set_opted_out(demo_store, "(201) 555-0142", False)  # START
    assert not is_opted_out(demo_store, "(201) 555-0142") and not is_opted_out(demo_store, MARIA)


# ---- which lead a number names, and what a premium is ------------------------------------------
@pytest.fixture
def bound_and_open(client, demo_store, clock):
    """Sarah's first lead, already Bound, and her fifth (round robin), still New."""
    first = new_lead(client, email="a@example.com", phone="2015550161")
    text(client, SARAH, "B 900")
    for i in range(4):
        clock.advance(minutes=1)
        last = new_lead(client, email=f"b{i}@example.com", phone=f"20155501{70 + i}")
    assert demo_store.get_lead(last).assigned_to == "Sarah M."
    return demo_store.get_lead(first), demo_store.get_lead(last)


@pytest.mark.parametrize("reply, answer, status, premium", [
    ("Q {closed}", "is already Bound; nothing changed", "New", None),
    ("B {closed}", "is already Bound; nothing changed", "New", None),
    ("B {open}", "send the premium too: B {open} 1200", "New", None),
    ("Q {open}", "Quoted. Thanks!", "Quoted", None),
    ("B {open} 1200", "Bound, premium $1,200.", "Bound", 1200.0),
    ("B 1200", "Bound, premium $1,200.", "Bound", 1200.0),
    ("Q $1,450.50", "Quoted, premium $1,450.50.", "Quoted", 1450.5),
    ("Q 1.2k", "Quoted, premium $1,200.", "Quoted", 1200.0),
    ("B 0", "0 is not a premium I can use; nothing changed", "New", None),
    ("B 1,2,3,4", "1,2,3,4 is not a premium I can use; nothing changed", "New", None),
    ("Q 12,34", "12,34 is not a premium I can use; nothing changed", "New", None),
])
def test_a_number_after_q_or_b_is_the_lead_when_it_names_one_of_theirs_else_the_premium(
        client, demo_store, bound_and_open, reply, answer, status, premium):
    closed, open_ = bound_and_open
    fill = dict(closed=closed.number, open=open_.number)
    assert answer.format(**fill) in text(client, SARAH, reply.format(**fill))
    after = demo_store.get_lead(open_.lead_id)
    assert (after.status, after.premium) == (status, premium)
    assert (demo_store.get_lead(closed.lead_id).status, demo_store.get_lead(closed.lead_id).premium) == \
        ("Bound", 900.0)


def test_b_with_the_number_of_the_only_open_lead_asks_for_the_premium(client, demo_store):
    lead = demo_store.get_lead(new_lead(client))
    assert "send the premium too" in text(client, SARAH, f"B {lead.number}")
    assert demo_store.get_lead(lead.lead_id).status == "New"


def test_b_naming_a_lead_passed_on_to_someone_else_does_not_bind_their_own(client, demo_store, clock):
    passed = new_lead(client, email="p@example.com", phone="2015550163")
    text(client, SARAH, "PASS")  # now David's; Sarah was texted about it
    for i in range(4):
        clock.advance(minutes=1)
        mine = new_lead(client, email=f"m{i}@example.com", phone=f"20155501{80 + i}")
    assert demo_store.get_lead(mine).assigned_to == "Sarah M."
    number = demo_store.get_lead(passed).number
    assert "assigned to David L., not you" in text(client, SARAH, f"B {number}")
    assert demo_store.get_lead(mine).status == "New" and demo_store.get_lead(passed).status == "New"


def test_pass_answers_with_one_period_after_a_name_that_ends_in_one(client, demo_store):
    new_lead(client)
    answer = text(client, SARAH, "PASS")
    assert "passed to David L.</Message>" in answer and "L..<" not in answer


# ---- a text from a number we do not know ------------------------------------------------------
def test_a_text_from_an_unknown_number_is_logged_masked_and_forwarded_to_the_manager(client, demo_store, twilio):
    stranger = "+13125550199"
    answer = text(client, stranger, "Hi, this is Maria, I filled the form on my husband's phone")
    assert answer == '<?xml version="1.0" encoding="UTF-8"?><Response />'  # strangers get no answer
    manager = demo_store.config().managers[0]
    from automations.contact import normalize_phone
    forwarded = twilio.received[-1]
    assert forwarded["To"] == [normalize_phone(manager.mobile)]
    assert stranger in forwarded["Body"][0] and "filled the form" in forwarded["Body"][0]
    rows = [a for a in demo_store.activity() if a.event in ("sms received", "sms forwarded")]
    assert [r.event for r in rows] == ["sms received", "sms forwarded"]
    assert all(stranger not in r.detail and "***-***-0199" in r.detail for r in rows)
    assert manager.name in rows[1].detail


def test_stop_from_an_unknown_number_is_honoured_and_not_forwarded(client, demo_store, twilio):
    before = len(twilio.received)
    text(client, "+13125550199", "STOP")
    assert is_opted_out(demo_store, "+13125550199") and len(twilio.received) == before
