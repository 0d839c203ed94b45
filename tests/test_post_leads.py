"""POST /leads through the HTTP interface: what a form builder and a web designer see."""
from __future__ import annotations

import json

import pytest

from tests.conftest import lead_payload


def test_a_json_post_gets_an_owner_and_a_reason(client, demo_store):
    r = client.post("/leads", json=lead_payload())
    assert r.status_code == 201
    body = r.get_json()
    assert body["assigned_to"] == "Sarah M."
    assert body["status"] == "New"
    assert "round_robin" in body["routing_reason"]
    stored = demo_store.get_lead(body["lead_id"])
    assert stored.assigned_to == "Sarah M." and stored.phone == "+12015550142"
    assert stored.county == "New York County" and stored.state == "NY" and stored.time_zone == "America/New_York"


def test_an_urlencoded_post_works(client):
    r = client.post("/leads", data=lead_payload(), content_type="application/x-www-form-urlencoded")
    assert r.status_code == 201, r.get_json()


def test_a_multipart_post_works(client):
    r = client.post("/leads", data=lead_payload(), content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()


def test_the_owner_is_notified_by_text_and_email_at_minute_zero(client, demo_store, notifier):
    lead_id = client.post("/leads", json=lead_payload()).get_json()["lead_id"]
    channels = sorted((m.channel, m.recipient) for m in notifier.sent)
    assert channels == [("email", "Sarah M."), ("sms", "Sarah M.")]
    sms = next(m for m in notifier.sent if m.channel == "sms")
    assert sms.to == "+12015550111" and lead_id.split("-")[1] in sms.body
    events = [a.event for a in demo_store.activity(lead_id)]
    assert events[:2] == ["received", "assigned"]
    assert events.count("sms sending") == 1 and events.count("sms sent") == 1
    assert events.index("sms sending") < events.index("sms sent")  # claim before send


def test_successive_leads_rotate_through_the_producers(client):
    owners = [client.post("/leads", json=lead_payload(email=f"p{i}@example.com", phone=f"20155501{i:02d}"))
              .get_json()["assigned_to"] for i in range(6)]
    assert owners == ["Sarah M.", "James K.", "Rachel T.", "David L.", "Sarah M.", "James K."]


@pytest.mark.parametrize("aliases", [
    {"fname": "Ann", "lname": "Lee", "Email Address": "ann@example.com", "Phone Number": "2015550150",
     "Zip Code": "10150", "Coverage": "Home"},
    {"Your Name": "Ann Marie Lee", "your-email": "ann@example.com", "tel": "2015550150", "postal_code": "10150",
     "What type of insurance?": "Home"},
    {"1.3": "Ann", "1.6": "Lee", "2": "ann@example.com", "3": "2015550150", "4": "10150", "5": "Home"},
])
def test_form_builders_field_names_are_understood(client, demo_store, aliases):
    r = client.post("/leads", data=aliases)
    assert r.status_code == 201, r.get_json()
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert (lead.first_name, lead.email, lead.zip, lead.insurance_type, lead.line) == (
        "Ann", "ann@example.com", "10150", "Home", "Personal")
    assert lead.last_name in ("Lee", "Marie Lee")


def test_php_bracket_keys_and_json_envelopes_are_unwrapped(client, demo_store):
    bracket = {"fields[first_name][value]": "Bo", "fields[last_name][value]": "Ray",
               "fields[email][value]": "bo@example.com", "fields[phone][value]": "2015550151",
               "fields[zip][value]": "10050", "fields[type][value]": "Renters"}
    assert client.post("/leads", data=bracket).status_code == 201
    envelope = {"form_response": {"answers": [
        {"field": {"ref": "first_name"}, "type": "text", "text": "Cy"},
        {"field": {"ref": "last_name"}, "type": "text", "text": "Day"},
        {"field": {"ref": "email"}, "type": "email", "email": "cy@example.com"},
        {"field": {"ref": "phone"}, "type": "phone_number", "phone_number": "+12015550152"},
        {"field": {"ref": "zip"}, "type": "text", "text": "10250"},
        {"field": {"ref": "insurance_type"}, "type": "choice", "choice": {"label": "BOP"}},
    ]}}
    r = client.post("/leads", json=envelope)
    assert r.status_code == 201, r.get_json()
    assert demo_store.get_lead(r.get_json()["lead_id"]).line == "Commercial"
    r = client.post("/leads", json={"data": [{"name": "first_name", "value": "Di"}, {"name": "last_name", "value": "Oh"},
                                             {"name": "email", "value": "di@example.com"},
                                             {"name": "phone", "value": "2015550153"},
                                             {"name": "zip", "value": "10350"}, {"name": "type", "value": "Auto"}]})
    assert r.status_code == 201, r.get_json()


def test_unknown_form_fields_are_kept_in_notes(client, demo_store):
    r = client.post("/leads", json=lead_payload(vehicles="2", message="Call after 5"))
    notes = demo_store.get_lead(r.get_json()["lead_id"]).notes
    assert "Call after 5" in notes and "vehicles: 2" in notes


def test_source_is_attributed_from_utm_source_and_how_did_you_hear(client, demo_store):
    a = client.post("/leads", json=lead_payload(utm_source="fb")).get_json()
    b = client.post("/leads", json=lead_payload(email="x@example.com", phone="2015550160",
                                                how_did_you_hear="A friend - referral")).get_json()
    c = client.post("/leads", json=lead_payload(email="y@example.com", phone="2015550161")).get_json()
    assert demo_store.get_lead(a["lead_id"]).source == "Facebook Ads"
    assert demo_store.get_lead(c["lead_id"]).source == "Website"
    ref = demo_store.get_lead(b["lead_id"])
    assert (ref.source, ref.priority) == ("Referral", "High")


def test_a_referral_is_high_priority(client, demo_store):
    r = client.post("/leads", json=lead_payload(source="referral")).get_json()
    assert demo_store.get_lead(r["lead_id"]).priority == "High"


def test_a_resubmission_attaches_to_the_existing_lead_and_tells_its_owner(client, demo_store, notifier):
    first = client.post("/leads", json=lead_payload()).get_json()
    notifier.sent.clear()
    r = client.post("/leads", json=lead_payload(email="other@example.com"))  # same phone
    assert r.status_code == 200
    assert r.get_json() == {"lead_id": first["lead_id"], "duplicate": True}  # a stranger learns nothing more
    assert len(demo_store.leads()) == 1
    assert [m.template for m in notifier.sent] == ["producer_duplicate"]
    assert notifier.sent[0].recipient == first["assigned_to"]
    assert "duplicate" in [a.event for a in demo_store.activity(first["lead_id"])]


def test_a_resubmission_after_the_window_is_a_new_lead(client, demo_store, clock):
    client.post("/leads", json=lead_payload())
    clock.advance(days=31)
    r = client.post("/leads", json=lead_payload())
    assert r.status_code == 201 and len(demo_store.leads()) == 2


def test_an_existing_client_goes_to_their_csr(client):
    r = client.post("/leads", json=lead_payload(email="pat.client@example.com")).get_json()
    assert r["assigned_to"] == "Casey R." and "existing client" in r["routing_reason"]


@pytest.mark.parametrize("overrides, field, message", [
    ({"email": ""}, "email", "required"),
    ({"email": "maria@"}, "email", "not a valid email"),
    ({"phone": "555-0142"}, "phone", "not a valid phone"),
    ({"zip": "1000"}, "zip", "5-digit"),
    ({"first_name": ""}, "first_name", "required"),
    ({"insurance_type": ""}, "insurance_type", "required"),
])
def test_bad_fields_get_422_naming_the_field_and_nothing_is_stored(client, demo_store, overrides, field, message):
    r = client.post("/leads", json=lead_payload(**overrides))
    assert r.status_code == 422
    assert message in r.get_json()["errors"][field]
    assert demo_store.leads() == [] and all(not a.lead_id for a in demo_store.activity())  # a notice is no lead


def test_every_bad_field_is_reported_at_once(client):
    r = client.post("/leads", json=lead_payload(email="nope", phone="12", zip="abc"))
    assert set(r.get_json()["errors"]) == {"email", "phone", "zip"}


def test_a_payload_without_contact_data_says_so(client, demo_store):
    r = client.post("/leads", json={"zip": "10150", "insurance_type": "Auto"})
    assert r.status_code == 422 and "contact" in r.get_json()["errors"]
    assert demo_store.leads() == []


@pytest.mark.parametrize("body, content_type, status, field", [
    (b"[1, 2, 3]", "application/json", 422, "body"),
    (b"{not json", "application/json", 400, "body"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "body"),
    (json.dumps({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": 1}}}}}}}}}}).encode(),
     "application/json", 422, "body"),
    (b'{"first_name": "\xff\xfe"}', "application/json", 400, "body"),
    (b"first_name=%FF%FE&last_name=x", "application/x-www-form-urlencoded", 400, "body"),
    (b"<lead/>", "application/xml", 415, "content_type"),
])
def test_malformed_bodies_get_a_clear_4xx_and_nothing_is_stored(client, demo_store, body, content_type, status,
                                                                field):
    r = client.post("/leads", data=body, content_type=content_type)
    assert r.status_code == status
    assert field in r.get_json()["errors"]
    assert demo_store.leads() == []


def test_a_2mb_body_is_refused_with_413(client, demo_store):
    r = client.post("/leads", data=b"x=" + b"a" * (2 * 1024 * 1024), content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413
    assert "errors" in r.get_json()
    assert demo_store.leads() == []


def test_a_formula_like_value_is_stored_as_literal_text(client, demo_store):
    r = client.post("/leads", json=lead_payload(first_name='=IMPORTXML("http://x","//a")', current_carrier="+1+1"))
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert lead.first_name == '=IMPORTXML("http://x","//a")' and lead.current_carrier == "+1+1"


def test_the_honeypot_drops_the_post_quietly(client, demo_store, notifier):
    r = client.post("/leads", data=lead_payload(website="http://spam.example"))
    assert r.status_code == 200
    assert demo_store.leads() == [] and notifier.sent == type(notifier.sent)()


def test_a_vendor_api_key_names_the_source_and_a_wrong_key_is_refused(demo_store, clock, notifier):
    from app import create_app
    app = create_app({"TESTING": True, "SEND_INLINE": True, "API_KEYS": "QuoteWizard=s3cret"},
                     store=demo_store, clock=clock, notifier=notifier)
    client = app.test_client()
    r = client.post("/leads", json=lead_payload(), headers={"X-API-Key": "s3cret"})
    assert demo_store.get_lead(r.get_json()["lead_id"]).source == "QuoteWizard"
    r = client.post("/leads", json=lead_payload(email="z@example.com", phone="2015550170"),
                    headers={"X-API-Key": "wrong"})
    assert r.status_code == 401 and "api_key" in r.get_json()["errors"]
