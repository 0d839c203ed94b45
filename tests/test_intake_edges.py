"""POST /leads at the edges: odd digits, odd JSON, chunked bodies, resubmissions, names as people type them."""
from __future__ import annotations

import http.client
import json
import logging
import threading

import pytest

from tests.conftest import lead_payload

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _nothing_stored(store) -> bool:
    """No lead and no lead's Activity (the managers' notice of a refused post is not a lead's)."""
    return store.leads() == [] and all(not a.lead_id for a in store.activity())


# ---- digits that are not 0-9 -------------------------------------------------------------------------------
@pytest.mark.parametrize("zip_code", ["１０１５０", "١٠١٥٠", "10１50", "１０１５０-１２３４"])
def test_a_zip_in_non_ascii_digits_gets_422_naming_zip_and_nothing_is_stored(client, demo_store, zip_code):
    r = client.post("/leads", json=lead_payload(zip=zip_code))
    assert r.status_code == 422
    assert "5-digit ZIP" in r.get_json()["errors"]["zip"]
    assert _nothing_stored(demo_store)


def test_route_refuses_a_full_width_zip_instead_of_crashing(runner):
    result = runner.invoke(args=["route", "--zip", "１０３５０", "--type", "Auto"])
    assert result.exit_code == 2 and "--zip" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# ---- JSON that json.loads accepts or almost accepts --------------------------------------------------------
def test_a_json_number_longer_than_4300_digits_gets_400_naming_body(client, demo_store):
    body = '{"first_name": "Maria", "vehicles": ' + "9" * 5000 + "}"
    r = client.post("/leads", data=body, content_type="application/json")
    assert r.status_code == 400
    assert "too many digits" in r.get_json()["errors"]["body"]
    assert _nothing_stored(demo_store)


@pytest.mark.parametrize("body, field", [
    ('{"first_name": "\\ud800x", "last_name": "Lopez"}', "first_name"),
    ('{"favourite_colour": "blue\\udfff"}', "favourite_colour"),
    ('{"colour\\ud800": "blue"}', "colour\\ud800"),
])
def test_a_lone_surrogate_gets_400_naming_the_field_and_nothing_is_stored(client, demo_store, body, field):
    payload = json.loads(body)
    payload = {**{k: v for k, v in lead_payload().items() if k not in payload}, **payload}
    r = client.post("/leads", data=json.dumps(payload), content_type="application/json")
    assert r.status_code == 400
    errors = r.get_json()["errors"]
    assert list(errors) == [field] and "invalid character" in errors[field]
    assert _nothing_stored(demo_store)


# ---- a chunked body past the 1 MB limit, over a real HTTP server -------------------------------------------
@pytest.fixture
def live_server(app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(timeout=5)


def _post_chunked(server, body: bytes, content_type: str) -> tuple[int, dict]:
    def chunks():
        for i in range(0, len(body), 64 * 1024):
            yield body[i:i + 64 * 1024]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", "/leads", body=chunks(), encode_chunked=True,
                     headers={"Content-Type": content_type, "Accept": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_a_chunked_body_within_the_limit_is_accepted(live_server, demo_store):
    body = json.dumps(lead_payload(message="a" * 4000)).encode()
    status, answer = _post_chunked(live_server, body, "application/json")
    assert status == 201, answer
    assert len(demo_store.leads()) == 1


@pytest.mark.parametrize("content_type, make", [
    ("application/x-www-form-urlencoded",
     lambda: "&".join(f"{k}={v}" for k, v in lead_payload().items()).encode() + b"&junk=" + b"a" * (1024 * 1024)),
    ("application/json",
     lambda: json.dumps(lead_payload(junk="a" * (1024 * 1024))).encode()),
    ("multipart/form-data; boundary=XyZ",
     lambda: b"".join(f'--XyZ\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                      for k, v in lead_payload(junk="a" * (1024 * 1024)).items()) + b"--XyZ--\r\n"),
])
def test_a_chunked_body_over_1mb_gets_413_and_nothing_is_stored(live_server, demo_store, content_type, make):
    status, answer = _post_chunked(live_server, make(), content_type)
    assert status == 413
    assert "body" in answer["errors"]
    assert _nothing_stored(demo_store)


# ---- the honeypot ------------------------------------------------------------------------------------------
def test_a_vendor_with_an_api_key_may_send_a_website_field(demo_store, clock, notifier):
    from app import create_app
    app = create_app({"TESTING": True, "SEND_INLINE": True, "API_KEYS": "QuoteWizard=s3cret"},
                     store=demo_store, clock=clock, notifier=notifier)
    r = app.test_client().post("/leads", json=lead_payload(website="acme-plumbing.com"),
                               headers={"X-API-Key": "s3cret"})
    assert r.status_code == 201, r.get_json()
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert lead.source == "QuoteWizard" and "website: acme-plumbing.com" in lead.notes
    assert {m.recipient for m in notifier.sent} == {"Sarah M."}


def test_a_browser_form_post_with_the_honeypot_left_empty_is_stored(client, demo_store):
    body = "&".join(f"{k}={v}" for k, v in lead_payload().items()) + "&website="
    r = client.post("/leads", data=body, content_type="application/x-www-form-urlencoded", headers=BROWSER)
    assert r.status_code == 201
    assert "Thank you" in r.get_data(as_text=True)
    assert len(demo_store.leads()) == 1


def test_a_filled_honeypot_is_logged_as_a_warning_without_contact_details(client, demo_store, caplog):
    caplog.set_level(logging.INFO, logger="leadrouter")
    r = client.post("/leads", data=lead_payload(website="http://spam.example"))
    assert r.status_code == 200 and demo_store.leads() == []
    warning = next(rec for rec in caplog.records if "honeypot" in rec.getMessage())
    assert warning.levelno == logging.WARNING
    assert "m***@example.com" in warning.getMessage() and "***-***-0142" in warning.getMessage()
    assert "maria.lopez" not in caplog.text and "555-0142" not in caplog.text


# ---- resubmissions -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["Bound", "Lost"])
def test_a_resubmission_of_a_closed_lead_tells_its_owner_and_keeps_what_is_new(client, demo_store, notifier,
                                                                              status):
    first = client.post("/leads", json=lead_payload()).get_json()
    demo_store.update_lead(first["lead_id"], {"status": status})
    notifier.sent.clear()
    r = client.post("/leads", json=lead_payload(insurance_type="Home", current_carrier="Geico",
                                                message="Also need home insurance"))
    assert r.status_code == 200 and r.get_json()["duplicate"] is True
    assert "assigned_to" not in r.get_json() and len(demo_store.leads()) == 1
    assert [(m.template, m.recipient) for m in notifier.sent] == [("producer_duplicate", "Sarah M.")]
    lead = demo_store.get_lead(first["lead_id"])
    assert lead.status == status and lead.insurance_type == "Auto"
    assert "insurance type Home" in lead.notes and "current carrier Geico" in lead.notes
    assert "Also need home insurance" in lead.notes
    detail = next(a.detail for a in demo_store.activity(first["lead_id"]) if a.event == "duplicate")
    assert "Home" in detail and status in detail


def test_a_resubmission_whose_owner_is_inactive_goes_to_the_manager(client, demo_store, notifier):
    first = client.post("/leads", json=lead_payload()).get_json()
    producers = [dict(row, active="N") if row.get("name") == "Sarah M." else row
                 for row in demo_store.read_rows("Producers")]
    demo_store.replace_rows("Producers", producers)
    notifier.sent.clear()
    r = client.post("/leads", json=lead_payload())
    assert r.status_code == 200 and r.get_json() == {"lead_id": first["lead_id"], "duplicate": True}
    assert [(m.template, m.recipient) for m in notifier.sent] == [("producer_duplicate", "Morgan P.")]
    assert notifier.sent[0].to == "+12015550116"


def test_a_resubmission_whose_owner_is_inactive_still_tells_the_owner_when_there_is_no_manager(client, demo_store,
                                                                                              notifier):
    client.post("/leads", json=lead_payload())
    producers = [dict(row, active="N") if row.get("name") == "Sarah M." else row
                 for row in demo_store.read_rows("Producers") if row.get("role") != "Manager"]
    demo_store.replace_rows("Producers", producers)
    notifier.sent.clear()
    assert client.post("/leads", json=lead_payload()).status_code == 200
    assert [(m.template, m.recipient) for m in notifier.sent] == [("producer_duplicate", "Sarah M.")]


def test_the_same_email_with_another_phone_is_a_duplicate(client, demo_store, notifier):
    first = client.post("/leads", json=lead_payload()).get_json()
    r = client.post("/leads", json=lead_payload(phone="(973) 555-0199"))
    assert r.status_code == 200 and r.get_json()["lead_id"] == first["lead_id"]
    assert len(demo_store.leads()) == 1
    assert "phone +19735550199" in demo_store.get_lead(first["lead_id"]).notes  # the new number is kept


def test_the_same_phone_written_differently_is_a_duplicate(client, demo_store):
    first = client.post("/leads", json=lead_payload(phone="201.555.0142")).get_json()
    r = client.post("/leads", json=lead_payload(phone="+1 201 555 0142", email="maria@work.example"))
    assert r.status_code == 200 and r.get_json()["lead_id"] == first["lead_id"]
    assert len(demo_store.leads()) == 1


# ---- Form Fields tab ---------------------------------------------------------------------------------------
def test_form_fields_targets_written_as_people_write_them_are_understood(client, demo_store):
    demo_store.replace_rows("Form Fields", [
        {"key": "7", "field": "First Name"}, {"key": "8", "field": "Last name"}, {"key": "9", "field": "E-mail"},
        {"key": "10", "field": "Phone Number"}, {"key": "11", "field": "ZIP Code"},
        {"key": "12", "field": "Insurance Type"}, {"key": "13", "field": "Favourite colour"},
    ])
    r = client.post("/leads", data={"7": "Ann", "8": "Lee", "9": "ann@example.com", "10": "2015550150",
                                    "11": "10150", "12": "Home", "13": "blue"})
    assert r.status_code == 201, r.get_json()
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert (lead.first_name, lead.last_name, lead.email, lead.insurance_type) == ("Ann", "Lee", "ann@example.com",
                                                                                "Home")
    assert "13: blue" in lead.notes


def test_check_flags_a_form_fields_target_that_names_no_field(runner, demo_store):
    demo_store.replace_rows("Form Fields", [{"key": "7", "field": "First Name"},
                                            {"key": "13", "field": "Favourite colour"}])
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "Form Fields: 13: Field 'Favourite colour' is not one of ours" in result.output
    assert "First Name" not in result.output


# ---- top-level keys that look like a labelled answer -------------------------------------------------------
FORM_WITH_NAME_AND_TEXT = {"name": "Ann Lee", "email": "ann@example.com", "phone": "2015550150", "zip": "10150",
                           "insurance": "Auto", "text": "hi"}


@pytest.mark.parametrize("post", [
    lambda c: c.post("/leads", data="&".join(f"{k}={v}" for k, v in FORM_WITH_NAME_AND_TEXT.items()),
                     content_type="application/x-www-form-urlencoded"),
    lambda c: c.post("/leads", json={"data": FORM_WITH_NAME_AND_TEXT}),
], ids=["top-level form", "inside an envelope"])
def test_a_form_with_name_and_text_fields_is_a_form_not_one_answer(client, demo_store, post):
    r = post(client)
    assert r.status_code == 201, r.get_json()
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert (lead.first_name, lead.last_name, lead.insurance_type) == ("Ann", "Lee", "Auto")
    assert "text: hi" in lead.notes


# ---- "how did you hear about us" ---------------------------------------------------------------------------
@pytest.mark.parametrize("hint, source, priority", [
    ("A friend - referral", "Referral", "High"),
    ("From a friend", "Referral", "High"),
    ("my agent referred me", "Referral", "High"),
    ("Google search", "Website", "Normal"),
    ("Google Ads - Auto campaign", "Google Ads", "Normal"),
    ("saw it on Facebook", "Facebook Ads", "Normal"),
    ("billboard on route 9", "Other (unmatched)", "Normal"),
])
def test_how_did_you_hear_is_attributed_by_the_words_people_use(client, demo_store, hint, source, priority):
    r = client.post("/leads", json=lead_payload(how_did_you_hear=hint)).get_json()
    lead = demo_store.get_lead(r["lead_id"])
    assert (lead.source, lead.priority) == (source, priority)


def test_a_word_inside_another_word_is_not_an_alias(client, demo_store):
    r = client.post("/leads", json=lead_payload(how_did_you_hear="Fbi agent friendly")).get_json()
    assert demo_store.get_lead(r["lead_id"]).source == "Other (unmatched)"  # not 'fb', not 'friend'


# ---- size of Notes -----------------------------------------------------------------------------------------
def test_notes_are_capped_so_the_lead_fits_a_sheet_cell(client, demo_store):
    extras = {f"extra_{i}": "x" * 4900 for i in range(150)}
    r = client.post("/leads", json=lead_payload(**extras))
    assert r.status_code == 201, r.get_json()
    notes = demo_store.get_lead(r.get_json()["lead_id"]).notes
    assert 19_000 < len(notes) <= 20_000
    assert notes.startswith("extra_0: xxx") and notes.endswith("more characters cut]")


# ---- names as people type them into one "Your Name" field --------------------------------------------------
@pytest.mark.parametrize("typed, first, last", [
    ("Cher", "Cher", ""),
    ("Ann\tLee", "Ann", "Lee"),
    ("  Ann   Marie  Lee ", "Ann", "Marie Lee"),
    ("Lee, Ann", "Ann", "Lee"),
    ("Dr. Ann Lee", "Ann", "Lee"),
    ("Mrs Ann Lee", "Ann", "Lee"),
    ("Ann Lee, Jr.", "Ann", "Lee Jr."),
])
def test_a_single_name_field_is_split_as_a_person_expects(client, demo_store, typed, first, last):
    data = {k: v for k, v in lead_payload().items() if k not in ("first_name", "last_name")}
    r = client.post("/leads", data={**data, "Your Name": typed})
    assert r.status_code == 201, r.get_json()
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert (lead.first_name, lead.last_name) == (first, last)


def test_a_form_with_its_own_last_name_field_still_requires_it(client, demo_store):
    r = client.post("/leads", json=lead_payload(last_name=""))
    assert r.status_code == 422 and r.get_json()["errors"] == {"last_name": "required"}


# ---- a ZIP missing from the ZIP data -----------------------------------------------------------------------
def test_a_zip_missing_from_the_data_gets_the_state_of_its_prefix(client, demo_store):
    import zipcodes
    assert zipcodes.matching("10050") == []  # a New York ZIP the offline data does not list
    producers = [dict(row, licensed_states="NJ") if row.get("name") == "Sarah M." else row
                 for row in demo_store.read_rows("Producers")]
    demo_store.replace_rows("Producers", producers)
    r = client.post("/leads", json=lead_payload(zip="10050"))
    assert r.status_code == 201
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert (lead.state, lead.time_zone) == ("NY", "America/New_York")
    assert lead.assigned_to == "James K." and "not licensed in NY" in lead.routing_reason


# ---- leadrouter activity -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["activity", "L-9999"], ["activity", "L-9999", "--json"], ["activity", " "]])
def test_activity_of_an_unknown_lead_says_so_and_exits_non_zero(runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "no lead" in result.stderr and result.stdout == ""


def test_activity_of_a_known_lead_still_lists_its_events(client, runner):
    lead_id = client.post("/leads", json=lead_payload()).get_json()["lead_id"]
    result = runner.invoke(args=["activity", lead_id, "--json"])
    assert result.exit_code == 0
    assert [e["event"] for e in json.loads(result.stdout)][:2] == ["received", "assigned"]
