"""Bad input never crashes: arbitrary JSON and form bodies get a 2xx or a 4xx, never a 5xx."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from automations.one_line import one_line
from tests.conftest import lead_payload
from tests.speed_fixtures import set_setting

# Text as people type it, plus the digits and oddities that once crashed intake: full-width and
# Arabic-Indic digits (the ZIP data's Rust core panicked on them), lone surrogates, control characters.
ODD = "0123456789０１２３４５６７８９٠١٢٣٤٥٦٧٨٩\ud800\udfff\x00\t\n -+().,@"
texts = st.text(max_size=30) | st.text(alphabet=ODD, max_size=12)
FORM_ODD = ODD.replace("\ud800", "").replace("\udfff", "")  # a form body is bytes: no lone surrogates
DIGITS = "0123456789０１２３４５６７８９٠١٢٣٤٥٦٧٨٩"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)


@pytest.fixture(autouse=True)
def no_rate_limits(demo_store):
    """Hundreds of posts from one address in one frozen minute: what is fuzzed here is the body, not the rate."""
    set_setting(demo_store, "Form Posts Per Minute", "off")
    set_setting(demo_store, "Form Posts Per Contact Per Hour", "off")


FIELDS = st.sampled_from(["first_name", "last_name", "email", "phone", "zip", "insurance_type", "Your Name",
                          "fields[email][value]", "utm_source", "1.3", "website", "notes"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_any_json_body_gets_a_client_answer_never_a_server_error(client, body):
    r = client.post("/leads", json=body)
    assert r.status_code < 500
    assert r.status_code in (200, 201) or "errors" in r.get_json()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(FIELDS, st.text(max_size=40) | st.text(alphabet=FORM_ODD, max_size=12), max_size=8))
def test_any_form_fields_get_a_client_answer_and_valid_ones_are_stored_once(client, demo_store, fields):
    before = len(demo_store.leads())
    r = client.post("/leads", data=fields)
    assert r.status_code < 500
    after = len(demo_store.leads())
    assert after - before == (1 if r.status_code == 201 else 0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=60).filter(lambda s: s.strip()))
def test_any_name_is_stored_exactly_as_typed_apart_from_surrounding_space_and_line_breaks(client, demo_store,
                                                                                        name):
    import re
    r = client.post("/leads", json=lead_payload(first_name=name, email=f"n{abs(hash(name))}@example.com",
                                                phone="2125550199"))
    clean = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", one_line(name)).strip()
    assert len(clean.splitlines()) <= 1
    if r.status_code == 201:
        assert demo_store.get_lead(r.get_json()["lead_id"]).first_name == clean
    else:
        assert r.status_code in (200, 422)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zip_code=st.text(alphabet=DIGITS + "- ", min_size=1, max_size=11))
def test_any_zip_in_any_digits_gets_a_client_answer_and_a_stored_zip_is_five_ascii_digits(client, demo_store,
                                                                                         zip_code):
    r = client.post("/leads", json=lead_payload(zip=zip_code))
    assert r.status_code in (200, 201, 422)
    if r.status_code == 201:
        stored = demo_store.get_lead(r.get_json()["lead_id"]).zip
        assert len(stored) == 5 and all(c in "0123456789" for c in stored)
    elif r.status_code == 422:
        assert "zip" in r.get_json()["errors"]
