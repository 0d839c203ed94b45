"""Any body, of any content type a builder may send, gets a client answer (never a 5xx) and either
one whole lead or none: no half-lead is ever stored, and what is refused is kept in Rejected."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
JSON_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.json"))
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=XyZ",
                 "text/plain", "application/vnd.api+json", "application/xml", "", "multipart/form-data"]
KEYS = st.sampled_from(["first_name", "Full Name", "email", "phone", "zip", "1.3", "4.5", "form_id", "rawRequest",
                        "field_data", "namedValues", "form_response", "properties", "fields", "form", "consent",
                        "How did you hear about us?", "When does your policy renew?", "renewal_date[unix]",
                        "website"])
values = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.text(max_size=20),
                      lambda c: st.lists(c, max_size=3) | st.dictionaries(KEYS | st.text(max_size=8), c, max_size=4),
                      max_leaves=15)


def _whole(lead) -> bool:
    return all((lead.first_name, lead.email, lead.phone, lead.zip, lead.insurance_type, lead.assigned_to))


def _check(client, store, body: bytes, content_type: str) -> None:
    leads, kept = len(store.leads()), len(store.rejected())
    r = client.post("/leads", data=body, content_type=content_type)
    assert r.status_code < 500, r.data[:200]
    added = store.leads()[leads:]
    assert len(added) == (1 if r.status_code == 201 else 0)
    assert all(_whole(lead) for lead in added)
    if r.status_code in (400, 415, 422):
        assert len(store.rejected()) == kept + 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), content_type=st.sampled_from(CONTENT_TYPES))
def test_any_bytes_of_any_content_type_never_make_a_server_error_or_a_half_lead(client, demo_store, body,
                                                                                  content_type):
    _check(client, demo_store, body, content_type)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(KEYS, values, max_size=8), as_form=st.booleans())
def test_any_builder_shaped_payload_is_a_whole_lead_or_none(client, demo_store, payload, as_form):
    if as_form:
        import urllib.parse
        body = urllib.parse.urlencode({k: json.dumps(v) if not isinstance(v, str) else v for k, v in payload.items()})
        _check(client, demo_store, body.encode(), "application/x-www-form-urlencoded")
    else:
        _check(client, demo_store, json.dumps(payload).encode(), "application/json")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(JSON_FIXTURES), drop=st.sets(st.integers(0, 30), max_size=4),
       junk=st.one_of(st.none(), st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=2)))
def test_a_real_builders_post_with_fields_dropped_or_garbled_is_a_whole_lead_or_none(client, demo_store, name,
                                                                                      drop, junk):
    payload = json.loads((FIXTURES / name).read_text())
    node = payload[0] if isinstance(payload, list) else payload
    for i, key in enumerate(list(node)):
        if i in drop:
            node[key] = junk
    _check(client, demo_store, json.dumps(payload).encode(), "application/json")
