"""Issue 14, item 9: GET /openapi.json describes the HTTP API, and schemathesis holds the app to it
(bounded examples, in-process WSGI: no network)."""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis import checks
from hypothesis import HealthCheck, given, settings

from app import create_app
from sheets_schema.sql_store import SqlStore
from tests.conftest import lead_payload, load_demo
from tests.speed_fixtures import set_setting


@pytest.fixture
def api_app(tmp_path, clock, notifier):
    store = SqlStore(f"sqlite:///{tmp_path / 'leads.db'}")
    load_demo(store)
    app = create_app({"TESTING": True, "SEND_INLINE": True, "API_KEYS": "QuoteWizard=s3cret",
                      "TWILIO_AUTH_TOKEN": "twilio-token"}, store=store, clock=clock, notifier=notifier)
    yield app
    store.close()


@pytest.fixture
def api_schema(api_app):
    return schemathesis.openapi.from_wsgi("/openapi.json", api_app)


# What the document promises about answers. Not positive_data_acceptance: a phone number that phonenumbers
# calls invalid, or a ZIP that does not exist, is schema-valid and rightly refused with 422.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@pytest.mark.parametrize("path, method", [("/leads", "POST"), ("/healthz", "GET"), ("/webhooks/twilio", "POST"),
                                          ("/webhooks/twilio/status", "POST"), ("/openapi.json", "GET")])
def test_every_answer_is_one_the_document_describes(api_app, api_schema, path, method):
    store = api_app.extensions["leadrouter"].store
    for name in ("Form Posts Per Minute", "Form Posts Per Contact Per Hour"):  # same input, same answer (429 is
        set_setting(store, name, "off")  # checked below), or hypothesis calls a replay flaky
    operation = api_schema[path][method]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())
    def answers_as_documented(case):
        case.call_and_validate(checks=CHECKS)

    answers_as_documented()


def test_the_document_is_openapi_3_1_and_covers_every_way_to_post_a_lead(api_app):
    doc = api_app.test_client().get("/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    post = doc["paths"]["/leads"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "application/x-www-form-urlencoded",
                                                   "multipart/form-data", "text/plain"}
    assert set(post["responses"]) == {"200", "201", "202", "400", "401", "413", "415", "422", "429", "503"}
    assert {"/webhooks/twilio", "/webhooks/twilio/status", "/healthz"} <= set(doc["paths"])


def test_real_answers_match_the_documented_shapes(api_app, api_schema):
    """The answers schemathesis rarely reaches at random: a new lead, a public and a vendor duplicate, 429."""
    client = api_app.test_client()
    operation = api_schema["/leads"]["POST"]
    for payload, headers in [(lead_payload(), {}), (lead_payload(), {}), (lead_payload(), {"X-API-Key": "s3cret"})]:
        r = client.post("/leads", json=payload, headers=headers)
        operation.validate_response(r)
    for i in range(25):
        r = client.post("/leads", json=lead_payload(email=f"x{i}@example.com", phone=f"201555{2000 + i:04d}"))
    assert r.status_code == 429
    operation.validate_response(r)
