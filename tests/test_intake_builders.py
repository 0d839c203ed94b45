"""Every form builder's and lead vendor's post, byte for byte as it sends it (tests/fixtures/intake,
sources in tests/fixtures/README.md), lands as a lead with exactly these fields."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.speed_fixtures import set_setting  # noqa: F401 - shared helpers

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
JOTFORM = (FIXTURES / "jotform.content-type").read_text()

# Form Fields rows an owner types for the two Gravity forms whose ids collide
GRAVITY_FORM_FIELDS = [
    dict(key="1.3", field="first_name", form=""), dict(key="1.6", field="last_name", form=""),
    dict(key="2", field="email", form="3"), dict(key="3", field="phone", form="3"),
    dict(key="4.5", field="zip", form=""), dict(key="5", field="insurance_type", form="3"),
    dict(key="6.1", field="consent", form=""), dict(key="6.2", field="consent text", form=""),
    dict(key="7", field="policy_expiration", form="3"),
    dict(key="1", field="full name", form="7"), dict(key="2", field="insurance_type", form="7"),
    dict(key="3", field="email", form="7"), dict(key="5", field="phone", form="7"),
    dict(key="7", field="current_carrier", form="7"),
]

CASES = [
    ("elementor_advanced.txt", FORM, "", dict(
        first_name="Ann", last_name="O'Neill", email="ann.oneill@example.com", phone="+12015550171", zip="10150",
        insurance_type="Home", line="Personal", how_heard="Google search", source="Google Ads",
        consent="on", consent_ip="203.0.113.7",
        consent_page_url="https://agency.example/quote/?utm_source=google&utm_campaign=spring")),
    ("elementor_simple.txt", FORM, "", dict(
        first_name="Brian", last_name="Walsh", zip="10151", insurance_type="Auto", how_heard="A friend",
        source="Referral", current_carrier="Geico", policy_expiration="", consent="")),
    ("gravity_form3.txt", FORM, "", dict(
        first_name="Carla", last_name="Nguyen", email="carla.nguyen@example.com", phone="+12015550173",
        zip="10152", insurance_type="Home", policy_expiration="2025-06-30",
        consent="I agree to receive calls and texts about my quote. (1)", consent_ip="198.51.100.23",
        consent_page_url="https://agency.example/home-quote/")),
    ("gravity_form7.json", JSON, "", dict(
        first_name="Dan", last_name="Brooks", email="dan@brooks-bakery.example", phone="+12015550174",
        zip="10153", insurance_type="BOP", line="Commercial", current_carrier="Travelers",
        consent="I agree to receive calls and texts. (Consent)")),
    ("jotform_renters.multipart", JOTFORM, "", dict(
        first_name="Erin", last_name="O'Neill", email="erin.oneill@example.com", phone="+12015550175",
        zip="10154", insurance_type="Renters", how_heard="Facebook", source="Facebook Ads", policy_expiration="")),
    ("jotform_auto.multipart", JOTFORM, "", dict(
        first_name="Frank", last_name="Di&Marco", phone="+12015550176", zip="10155", insurance_type="Auto",
        policy_expiration="2025-10-15", current_carrier="State Farm")),
    ("typeform_home.json", JSON, "", dict(
        first_name="Grace", last_name="Hopper", email="grace.hopper@example.com", phone="+12015550177",
        zip="10156", insurance_type="Home", policy_expiration="2025-09-01", source="Facebook Ads", consent="yes")),
    ("typeform_choices.json", JSON, "", dict(
        first_name="Henry", last_name="Ito", zip="10157", insurance_type="Auto", policy_expiration="2025-12-31",
        consent="")),
    ("google_forms_onsubmit.json", JSON, "", dict(
        first_name="Iris", last_name="Jones", phone="+12015550179", zip="10158", insurance_type="Home",
        how_heard="Referral from a friend", source="Referral")),
    ("google_forms_namedvalues.json", JSON, "", dict(
        first_name="Jack", last_name="Kim", email="jack.kim@example.com", zip="10159", insurance_type="Life",
        line="Life", current_carrier="", policy_expiration="2025-07-01")),
    ("meta_lead_home.json", JSON, "", dict(
        first_name="Kate", last_name="Lopez", phone="+12015550181", zip="10160", insurance_type="Home",
        policy_expiration="", consent="yes (Meta lead form disclaimer tcpa)")),
    ("meta_lead_auto.json", JSON, "", dict(
        first_name="Liam", last_name="Murphy", zip="10161", insurance_type="Auto", current_carrier="progressive")),
    ("wpforms_name_and_date.txt", FORM, "", dict(
        first_name="Maya", last_name="Patel", zip="10162", insurance_type="Condo", policy_expiration="2025-10-15",
        consent="I consent to calls and texts")),
    ("wpforms_json.json", JSON, "", dict(
        first_name="Noah", last_name="Reed", phone="+12015550184", insurance_type="Umbrella", how_heard="Yelp")),
    ("zapier_flat.json", JSON, "", dict(
        first_name="Olivia", last_name="Stone", zip="10164", insurance_type="Auto", current_carrier="",
        policy_expiration="2025-06-30", notes="")),
    ("make_wrapped.json", JSON, "", dict(
        first_name="Paul", last_name="Vance", zip="07030", county="Hudson County", state="NJ",
        insurance_type="Home", policy_expiration="2025-12-31")),
    ("hubspot_v1_contact.json", JSON, "", dict(
        first_name="Quinn", last_name="Adams", email="quinn.adams@example.com", zip="10165",
        insurance_type="Renters")),
    ("hubspot_flat.json", JSON, "", dict(
        first_name="Rosa", last_name="Diaz", phone="+12015550188", zip="10166", insurance_type="BOP")),
    ("cf7_json.json", JSON, "", dict(
        first_name="Sam", last_name="Lee", phone="+12015550189", zip="10167", insurance_type="Home",
        notes="Please call me", consent="1")),
    ("cf7_form.txt", FORM, "", dict(
        first_name="Tara", last_name="Fox", phone="+12015550190", zip="10168", insurance_type="Motorcycle")),
    ("exchange_home.json", JSON, "", dict(
        first_name="Uma", last_name="Shah", phone="+12015550191", zip="10169", insurance_type="Home",
        current_carrier="Allstate", policy_expiration="2025-08-01", consent_ip="192.0.2.44",
        consent="By clicking Get Quotes, I agree to be contacted by Demo Agency by calls and texts, including "
                "automated ones.",
        consent_certificate_url="https://cert.trustedform.com/2d3c4e5f6a7b8c9d",
        consent_page_url="https://quotes.exchange.example/home?utm_source=exchange")),
    ("exchange_product_in_url.json", JSON, "product=home_insurance", dict(
        first_name="Victor", last_name="Owens", zip="10170", insurance_type="Home", current_carrier="Nationwide",
        consent="I agree to receive calls and texts.",
        consent_certificate_url="https://cert.trustedform.com/aa11bb22cc33")),
]


@pytest.fixture
def gravity_fields(demo_store):
    demo_store.replace_rows("Form Fields", GRAVITY_FORM_FIELDS)
    return demo_store


@pytest.mark.parametrize("name, content_type, query, expected", CASES, ids=[c[0] for c in CASES])
def test_each_builders_post_lands_unchanged_with_exact_fields(client, gravity_fields, name, content_type, query,
                                                              expected):
    body = (FIXTURES / name).read_bytes()
    r = client.post("/leads" + (f"?{query}" if query else ""), data=body, content_type=content_type)
    assert r.status_code == 201, (name, r.get_json())
    lead = gravity_fields.get_lead(r.get_json()["lead_id"])
    got = {k: getattr(lead, k) for k in expected}
    assert got == expected


def test_a_long_free_text_answer_goes_to_notes_cut_with_a_marker(client, demo_store):
    r = client.post("/leads", data=(FIXTURES / "wpforms_json.json").read_bytes(), content_type=JSON)
    notes = demo_store.get_lead(r.get_json()["lead_id"]).notes
    assert notes.startswith("message: xxx") and "more characters cut]" in notes and len(notes) < 5_100


def test_a_bucket_is_kept_in_notes_and_never_made_a_date(client, demo_store):
    r = client.post("/leads", data=(FIXTURES / "elementor_simple.txt").read_bytes(), content_type=FORM)
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert lead.policy_expiration == "" and "Policy expiration: in the next 30 days" in lead.notes


def test_utm_campaign_from_the_page_url_is_kept_beside_the_source(client, demo_store):
    r = client.post("/leads", data=(FIXTURES / "elementor_advanced.txt").read_bytes(), content_type=FORM)
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert lead.source == "Google Ads" and "UTM: campaign spring" in lead.notes


def test_utm_source_in_the_post_url_names_the_source(client, demo_store):
    from tests.conftest import lead_payload
    r = client.post("/leads?utm_source=facebook&utm_campaign=fall", json=lead_payload())
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert lead.source == "Facebook Ads" and "campaign fall" in lead.notes


def test_a_zip_that_exists_nowhere_keeps_the_lead_routes_by_fallback_and_says_so(client, demo_store):
    from tests.conftest import lead_payload
    r = client.post("/leads", json=lead_payload(zip="00000"))
    assert r.status_code == 201
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert lead.zip == "00000" and "not a known US ZIP" in lead.notes
    assert lead.routing_reason.startswith("ZIP 00000 is unknown")
    assert "zip unknown" in [a.event for a in demo_store.activity(lead.lead_id)]


def test_an_owner_alias_on_the_lines_tab_matches_an_answer(client, demo_store):
    from tests.conftest import lead_payload
    rows = demo_store.read_rows("Lines")
    for row in rows:
        if row["insurance_type"] == "Home":
            row["aliases"] = "Casa, Mobile home"
    demo_store.replace_rows("Lines", rows)
    r = client.post("/leads", json=lead_payload(insurance_type="Mobile Home"))
    assert demo_store.get_lead(r.get_json()["lead_id"]).insurance_type == "Home"
    r = client.post("/leads", json=lead_payload(insurance_type="Pet insurance", email="x@example.com",
                                                phone="2015550160"))
    assert demo_store.get_lead(r.get_json()["lead_id"]).insurance_type == "Pet insurance"  # kept as typed


def test_check_and_the_dashboard_list_insurance_types_no_line_matches(client, runner, demo_store, app):
    from tests.conftest import lead_payload
    client.post("/leads", json=lead_payload(insurance_type="Pet insurance"))
    out = runner.invoke(args=["check"]).output
    assert "insurance type 'Pet insurance' (1 lead) matches no Lines row" in out
    app.config["DASHBOARD_TOKEN"] = "t0ken"
    view = client.get("/dashboard.json", headers={"Authorization": "Bearer t0ken"}).get_json()  # as scripts do
    assert any("'Pet insurance'" in alert for alert in view["alerts"])


def test_leads_json_carries_how_heard_and_the_consent_evidence(client, runner, gravity_fields):
    client.post("/leads", data=(FIXTURES / "elementor_advanced.txt").read_bytes(), content_type=FORM)
    import json
    lead = json.loads(runner.invoke(args=["leads", "--json"]).output)[0]
    assert lead["how_heard"] == "Google search" and lead["source"] == "Google Ads"
    assert lead["consent_at"].startswith("2026-11-24T10:00:00") and lead["consent_ip"] == "203.0.113.7"
    assert set(lead) >= {"consent", "consent_page_url", "consent_certificate_url"}
