"""The Templates tab: the owner's texts, the guide's defaults, and `leadrouter check`."""
from __future__ import annotations

from automations.leads import submit_lead
from automations.notify import compose
from tests.conftest import lead_payload


def edit_templates(store, change) -> None:
    rows = store.read_rows("Templates")
    store.replace_rows("Templates", [r for r in (change(dict(r)) for r in rows) if r])


def test_the_guides_minute_5_text_fills_in_name_producer_agency_and_number(demo_store, clock):
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    config = demo_store.config()
    [text] = compose("k", "lead_text_min5", lead, config, to_producer=None, owner=config.producer("Sarah M."))
    assert text.body == ("Hi Maria, this is Sarah M. from Demo Insurance Agency. I just tried to call you about your "
                         "insurance quote. I will try again shortly, or feel free to call me at +12015550111. "
                         "- Sarah M.")


def test_an_owners_edit_is_used_and_an_empty_body_switches_a_message_off(demo_store, clock):
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    edit_templates(demo_store, lambda r: {**r, "body": "Hola [Name]! [Agency]"} if r["key"] == "lead_text_h4"
                   else {**r, "body": ""} if r["key"] == "lead_text_min5" else r)
    config = demo_store.config()
    sarah = config.producer("Sarah M.")
    assert compose("k", "lead_text_h4", lead, config, to_producer=None, owner=sarah)[0].body == \
        "Hola Maria! Demo Insurance Agency"
    assert compose("k", "lead_text_min5", lead, config, to_producer=None, owner=sarah) == []


def test_a_template_missing_from_an_older_sheet_falls_back_to_the_default(demo_store, clock):
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    edit_templates(demo_store, lambda r: None if r["key"] == "producer_lead_reply" else r)
    config = demo_store.config()
    sarah = config.producer("Sarah M.")
    [m] = compose("k", "producer_lead_reply", lead, config, to_producer=sarah, owner=sarah, Reply="call me at 6")
    assert m.body.endswith("texted: call me at 6 (call +12015550142)")


def test_check_warns_about_an_unknown_placeholder(demo_store, app, runner):
    edit_templates(demo_store, lambda r: {**r, "body": "Hi [Nmae]"} if r["key"] == "lead_text_h4" else r)
    with app.app_context():
        result = runner.invoke(args=["check"])
    assert "WARNING Templates: lead_text_h4: unknown placeholder [Nmae]" in result.output
    assert "[Reply]" not in result.output and "[NewOwner]" not in result.output


def test_check_warns_about_a_shared_mobile_and_a_push_webhook_that_is_not_a_url(demo_store, app, runner):
    rows = demo_store.read_rows("Producers")
    for row in rows:
        if row["name"] == "James K.":
            row["mobile"] = "(201) 555-0111"  # Sarah's number, typed differently
            row["push_webhook"] = "slack channel #leads"
    demo_store.replace_rows("Producers", rows)
    with app.app_context():
        output = runner.invoke(args=["check"]).output
    assert "James K. and Sarah M. share a Mobile: text replies from it count as Sarah M.'s" in output
    assert "James K.: Push Webhook is not an http(s) URL" in output
