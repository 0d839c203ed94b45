"""Unsubscribe links need the address the internet reaches us at; without one, lead emails wait."""
from __future__ import annotations

import pytest

from app import create_app
from automations.notify.delivery import compose, deliver, retry_due
from automations.notify.outbox import pending
from tests.conftest import lead_payload
from tests.notify_fixtures import NO_WAIT, mailbox  # noqa: F401
from tests.speed_fixtures import set_setting


def smtp_app(store, clock, port: int, public_url: str = ""):
    return create_app({"TESTING": True, "SEND_INLINE": True, "TWILIO_ACCOUNT_SID": "", "RETRY_POLICY": NO_WAIT,
                       "SMTP_URL": f"smtp://127.0.0.1:{port}", "SMTP_FROM": "quotes@demo-agency.example",
                       "PUBLIC_URL": public_url, "SECRET_KEY": "s"}, store=store, clock=clock)


def check(app):
    return app.test_cli_runner().invoke(args=["check"])


def test_check_fails_when_email_is_configured_without_a_public_url(demo_store, clock):
    result = check(smtp_app(demo_store, clock, 25))
    assert result.exit_code == 1
    assert "ERROR   Settings: no Public URL (set LEADROUTER_PUBLIC_URL or the Settings tab's Public URL)" \
        in result.output


@pytest.mark.parametrize("env, setting", [("https://leads.example.com", ""), ("", "https://leads.example.com")])
def test_a_public_url_from_the_environment_or_the_settings_tab_satisfies_check(demo_store, clock, env, setting):
    if setting:
        set_setting(demo_store, "Public URL", setting)
    assert "Public URL" not in check(smtp_app(demo_store, clock, 25, env)).output


def test_check_warns_about_a_public_url_on_this_machine(demo_store, clock):
    output = check(smtp_app(demo_store, clock, 25, "http://localhost:8000")).output
    assert "WARNING Settings: Public URL http://localhost:8000 is this machine" in output


def test_without_email_no_public_url_is_needed(demo_store, clock):
    app = create_app({"TESTING": True, "SMTP_URL": "", "PUBLIC_URL": ""}, store=demo_store, clock=clock)
    assert "Public URL" not in check(app).output


def test_start_up_says_lead_emails_will_wait(demo_store, clock, caplog):
    app = smtp_app(demo_store, clock, 25)
    with caplog.at_level("ERROR", logger="leadrouter"):
        app.extensions["leadrouter"].notifier  # built at start-up by serve and worker
    assert "emails to leads will wait: no public URL" in caplog.text


def test_a_lead_email_waits_for_a_public_url_and_never_links_to_localhost(demo_store, clock, mailbox):
    app = smtp_app(demo_store, clock, mailbox.port)
    notifier = app.extensions["leadrouter"].notifier
    lead_id = app.test_client().post("/leads", json=lead_payload()).get_json()["lead_id"]
    assert [m["To"] for m in mailbox.messages()] == ["sarah@demo-agency.example"]  # producers need no link
    lead, config = demo_store.get_lead(lead_id), demo_store.config()
    [intro] = compose(f"{lead_id}/min5", "lead_intro_email", lead, config, to_producer=None,
                      owner=config.producer(lead.assigned_to))
    outcome = deliver(intro, demo_store, notifier, clock, policy=NO_WAIT)
    assert not outcome.sent and "no public URL" in outcome.detail
    assert [p.msg.template for p in pending(demo_store)] == ["lead_intro_email"]

    set_setting(demo_store, "Public URL", "https://leads.example.com")  # the owner fixes it
    clock.advance(minutes=2)
    assert retry_due(demo_store, notifier, clock, policy=NO_WAIT)["sent"] == 1
    mail = mailbox.messages()[-1]
    assert mail["To"] == "maria.lopez@example.com" and mail["Reply-To"] == "sarah@demo-agency.example"
    assert mail["List-Unsubscribe"].startswith("<https://leads.example.com/unsubscribe/")
    assert "localhost" not in mail.as_string()
