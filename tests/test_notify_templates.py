"""The Templates tab: the owner's texts, the guide's defaults, and `leadrouter check`."""
from __future__ import annotations

import pytest

from automations.intake.submission import submit_lead
from automations.notify.delivery import compose
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
    assert "WARNING Templates: lead_text_h4: unknown placeholder [Nmae] (did you mean [Name]?)" in result.output
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


def check_output(app, runner) -> tuple[int, str]:
    with app.app_context():
        result = runner.invoke(args=["check"])
    return result.exit_code, result.output


def set_channel(store, key: str, channel: str) -> None:
    edit_templates(store, lambda r: {**r, "channel": channel} if r["key"] == key else r)


@pytest.mark.parametrize("written, channel", [("Text", "sms"), ("SMS", "sms"), (" text message ", "sms"),
                                              ("E-mail", "email"), ("Email", "email"), ("", "sms")])
def test_common_spellings_of_a_channel_are_understood(demo_store, clock, app, runner, written, channel):
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    set_channel(demo_store, "lead_text_h4", written)
    config = demo_store.config()
    [m] = compose("k", "lead_text_h4", lead, config, to_producer=None, owner=config.producer("Sarah M."))
    assert m.channel == channel and m.to == (lead.phone if channel == "sms" else lead.email)
    assert "lead_text_h4" not in check_output(app, runner)[1]


def test_a_text_template_written_text_still_honours_stop(demo_store, clock, notifier):
    from automations.notify.delivery import deliver
    from automations.notify.optout import set_opted_out
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    set_channel(demo_store, "lead_text_h4", "Text")
    set_opted_out(demo_store, lead.phone, True)
    config = demo_store.config()
    [m] = compose("k", "lead_text_h4", lead, config, to_producer=None, owner=config.producer("Sarah M."))
    outcome = deliver(m, demo_store, notifier, clock)
    assert not outcome.sent and "opted out" in outcome.detail and list(notifier.sent) == []


def test_a_channel_that_is_neither_is_an_error_and_nothing_goes_to_the_console(demo_store, clock, app, runner):
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    set_channel(demo_store, "lead_text_h4", "WhatsApp")
    config = demo_store.config()
    assert compose("k", "lead_text_h4", lead, config, to_producer=None, owner=config.producer("Sarah M.")) == []
    code, output = check_output(app, runner)
    assert code == 1
    assert "ERROR   Templates: lead_text_h4: Channel 'WhatsApp' is not sms or email; the message is not sent" in output


@pytest.mark.parametrize("typed, hint", [("[First Name]", " (did you mean [Name]?)"),
                                         ("[Lead ID]", " (did you mean [Lead]?)"),
                                         ("[Agent_Name]", " (did you mean [Producer]?)"), ("[Policy]", "")])
def test_placeholders_with_spaces_or_underscores_are_reported_not_sent_silently(demo_store, app, runner, typed,
                                                                                 hint):
    edit_templates(demo_store, lambda r: {**r, "body": f"Hi {typed}"} if r["key"] == "lead_text_h4" else r)
    output = check_output(app, runner)[1]
    assert f"WARNING Templates: lead_text_h4: unknown placeholder {typed}{hint}; it is sent as typed" in output


def test_a_known_placeholder_spelled_with_spaces_or_lower_case_is_filled_in(demo_store, clock, app, runner):
    lead = submit_lead(lead_payload(), demo_store, clock).lead
    edit_templates(demo_store, lambda r: {**r, "body": "Hi [Full Name] in [zip], call [number]"}
                   if r["key"] == "lead_text_h4" else r)
    config = demo_store.config()
    [m] = compose("k", "lead_text_h4", lead, config, to_producer=None, owner=config.producer("Sarah M."))
    assert m.body == "Hi Maria Lopez in 10150, call +12015550111"
    assert "lead_text_h4" not in check_output(app, runner)[1]


def test_check_reports_a_key_no_message_uses_and_unsubscribe_in_a_text(demo_store, app, runner):
    rows = demo_store.read_rows("Templates")
    rows.append({"key": "lead_text_min_5", "channel": "sms", "subject": "", "body": "Hi [Name]"})
    demo_store.replace_rows("Templates", rows)
    edit_templates(demo_store, lambda r: {**r, "body": r["body"] + " [Unsubscribe]"}
                   if r["key"] in ("lead_text_h4", "lead_intro_email") else r)
    code, output = check_output(app, runner)
    assert code == 1
    assert ("ERROR   Templates: lead_text_min_5: no message uses this Key (did you mean lead_text_min5?); "
            "its text is never sent") in output
    assert "WARNING Templates: lead_text_h4: [Unsubscribe] is for emails" in output
    assert "lead_intro_email" not in output  # in an email it is the link's place
