"""Bad input never crashes: arbitrary JSON and form bodies get a 2xx or a 4xx, never a 5xx."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.conftest import lead_payload

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
FIELDS = st.sampled_from(["first_name", "last_name", "email", "phone", "zip", "insurance_type", "Your Name",
                          "fields[email][value]", "utm_source", "1.3", "website", "notes"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_any_json_body_gets_a_client_answer_never_a_server_error(client, body):
    r = client.post("/leads", json=body)
    assert r.status_code < 500
    assert r.status_code in (200, 201) or "errors" in r.get_json()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(FIELDS, st.text(max_size=40), max_size=8))
def test_any_form_fields_get_a_client_answer_and_valid_ones_are_stored_once(client, demo_store, fields):
    before = len(demo_store.leads())
    r = client.post("/leads", data=fields)
    assert r.status_code < 500
    after = len(demo_store.leads())
    assert after - before == (1 if r.status_code == 201 else 0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=60).filter(lambda s: s.strip()))
def test_any_name_is_stored_exactly_as_typed_apart_from_surrounding_space(client, demo_store, name):
    import re
    r = client.post("/leads", json=lead_payload(first_name=name, email=f"n{abs(hash(name))}@example.com",
                                                phone="2125550199"))
    clean = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", name).strip()
    if r.status_code == 201:
        assert demo_store.get_lead(r.get_json()["lead_id"]).first_name == clean
    else:
        assert r.status_code in (200, 422)
