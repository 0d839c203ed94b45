"""Email through smtplib to a real SMTP server (aiosmtpd) on loopback, and the unsubscribe link."""
from __future__ import annotations

import re

import pytest

from app import create_app
from automations.notify.channels.smtp import SmtpChannel
from automations.notify.delivery import ChannelError, compose, deliver
from automations.ports import Message
from tests.conftest import lead_payload
from tests.notify_fixtures import (  # noqa: F401
    Mailbox, client_tls, mailbox, server_tls, smtp_server, tls_files,
)

LINK = "https://leads.example.com/unsubscribe/TOKEN"


def lead_email(**over) -> Message:
    data = dict(key="L-1001/min5/lead/email", channel="email", to="maria.lopez@example.com",
                subject="Your insurance quote from Demo Insurance Agency",
                body="Hi Maria,\n\nThanks for asking us for a quote.\n\nSarah M.", lead_id="L-1001", recipient="lead",
                template="lead_intro_email", extra={"from_name": "Demo Insurance Agency",
                                                    "reply_to": "sarah@demo-agency.example"})
    data.update(over)
    return Message(**data)


def channel(port: int, url: str = "", **kw) -> SmtpChannel:
    return SmtpChannel.from_url(url or f"smtp://127.0.0.1:{port}", "quotes@demo-agency.example",
                                unsubscribe_url=lambda m: LINK, **kw)


def test_an_email_to_a_lead_has_text_and_html_and_one_unsubscribe_link(mailbox):
    message_id = channel(mailbox.port).send(lead_email())
    [mail] = mailbox.messages()
    assert mailbox.envelopes[0].rcpt_tos == ["maria.lopez@example.com"]
    assert mail["From"] == "Demo Insurance Agency <quotes@demo-agency.example>"
    assert mail["Reply-To"] == "sarah@demo-agency.example"
    assert mail["Subject"] == "Your insurance quote from Demo Insurance Agency"
    assert mail["Message-ID"] == message_id
    assert mail["List-Unsubscribe"] == f"<{LINK}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert text.startswith("Hi Maria,") and text.count(LINK) == 1
    assert "<p>Hi Maria,</p>" in html and html.count(f'href="{LINK}"') == 1


def test_an_unsubscribe_placeholder_puts_the_link_where_the_owner_wants_it(mailbox):
    channel(mailbox.port).send(lead_email(body="Hi Maria.\n\nNot interested? [Unsubscribe]"))
    text = mailbox.messages()[0].get_body(("plain",)).get_content()
    assert text.strip() == f"Hi Maria.\n\nNot interested? {LINK}"


def test_an_email_to_a_producer_has_no_unsubscribe_link(mailbox):
    channel(mailbox.port).send(lead_email(recipient="Sarah M.", to="sarah@demo-agency.example"))
    mail = mailbox.messages()[0]
    assert mail["List-Unsubscribe"] is None and LINK not in mail.get_body(("plain",)).get_content()


def test_starttls_and_login_when_the_url_has_credentials(tls_files):
    from aiosmtpd.smtp import AuthResult
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cr3t/pw")

    box = Mailbox()
    server = smtp_server(box, tls_context=server_tls(tls_files), require_starttls=True, authenticator=authenticator,
                         auth_require_tls=True)
    try:
        url = f"smtp://quotes%40demo-agency.example:s3cr3t%2Fpw@127.0.0.1:{server.port}"
        SmtpChannel.from_url(url, ssl_context=client_tls(tls_files)).send(lead_email())
    finally:
        server.stop()
    assert logins == [(b"quotes@demo-agency.example", b"s3cr3t/pw")]
    assert box.messages()[0]["From"] == "Demo Insurance Agency <quotes@demo-agency.example>"


def test_smtps_speaks_tls_from_the_first_byte(tls_files):
    box = Mailbox()
    server = smtp_server(box, ssl_context=server_tls(tls_files))
    try:
        channel(0, f"smtps://127.0.0.1:{server.port}", ssl_context=client_tls(tls_files)).send(lead_email())
    finally:
        server.stop()
    assert len(box.envelopes) == 1


def test_a_refused_mailbox_is_permanent_and_a_missing_server_is_not(mailbox):
    mailbox.refuse.add("maria.lopez@example.com")
    with pytest.raises(ChannelError) as refused:
        channel(mailbox.port).send(lead_email())
    from tests.notify_fixtures import free_port
    with pytest.raises(ChannelError) as down:
        channel(free_port()).send(lead_email())
    assert refused.value.permanent and not down.value.permanent


@pytest.fixture
def smtp_app(demo_store, clock, mailbox):
    return create_app({"TESTING": True, "SEND_INLINE": True, "TWILIO_ACCOUNT_SID": "",
                       "SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}", "SMTP_FROM": "quotes@demo-agency.example",
                       "PUBLIC_URL": "https://leads.example.com", "SECRET_KEY": ""}, store=demo_store, clock=clock)


def test_a_lead_who_unsubscribes_gets_no_more_email(smtp_app, demo_store, clock, mailbox):
    client = smtp_app.test_client()
    lead_id = client.post("/leads", json=lead_payload()).get_json()["lead_id"]
    assert [m["To"] for m in mailbox.messages()] == ["sarah@demo-agency.example"]  # the owner's minute-0 email
    lead, config = demo_store.get_lead(lead_id), demo_store.config()
    svc = smtp_app.extensions["leadrouter"]
    intro = compose(f"{lead_id}/min5", "lead_intro_email", lead, config, to_producer=None,
                    owner=config.producer(lead.assigned_to))
    assert deliver(intro[0], demo_store, svc.notifier, clock).sent
    mail = mailbox.messages()[-1]
    link = re.search(r"https://leads\.example\.com(/unsubscribe/\S+)", mail.get_body(("plain",)).get_content())
    assert mail["List-Unsubscribe"] == f"<{link.group(0)}>"
    page = client.get(link.group(1))  # opening the link (or a mail scanner fetching it) only asks
    assert page.status_code == 200 and b'<form method="post">' in page.data
    assert "email unsubscribed" not in [a.event for a in demo_store.activity(lead_id)]
    done = client.post(link.group(1), data={"confirm": "yes"})  # the page's button
    assert done.status_code == 200 and b"You are unsubscribed" in done.data
    assert client.post(link.group(1)).status_code == 200  # a mail client's one-click POST later: same, once
    assert "@" not in link.group(1)  # the token names the lead, not the address

    last_try = compose(f"{lead_id}/h48", "lead_last_try_email", lead, config, to_producer=None,
                       owner=config.producer(lead.assigned_to))
    outcome = deliver(last_try[0], demo_store, svc.notifier, clock)
    assert not outcome.sent and "unsubscribed" in outcome.detail
    assert len(mailbox.envelopes) == 2
    events = [a.event for a in demo_store.activity(lead_id)]
    assert events.count("email unsubscribed") == 1 and "email skipped" in events


def test_a_forged_unsubscribe_link_changes_nothing(smtp_app):
    r = smtp_app.test_client().get("/unsubscribe/eyJsZWFkIjoiTC0xMDAxIn0.forged")
    assert r.status_code == 404 and b"not valid" in r.data


def test_a_name_typed_with_a_line_break_cannot_add_headers(mailbox):
    channel(mailbox.port).send(lead_email(subject="Quote for Maria\r\nBcc: victim@example.com"))
    mail = mailbox.messages()[0]
    assert mail["Bcc"] is None and mail["Subject"] == "Quote for Maria Bcc: victim@example.com"
    assert mailbox.envelopes[0].rcpt_tos == ["maria.lopez@example.com"]


def unsubscribe_path(app, lead_id: str) -> str:
    from app import unsubscribe_url
    from automations.ports import Message
    link = unsubscribe_url(app.extensions["leadrouter"], Message(key="k", channel="email", to="", body="",
                                                                 lead_id=lead_id, recipient="lead"))
    return link.removeprefix("https://leads.example.com")


def test_opening_the_link_only_asks_so_a_mail_scanner_unsubscribes_nobody(smtp_app, demo_store):
    from automations.notify.optout import is_opted_out
    client = smtp_app.test_client()
    lead_id = client.post("/leads", json=lead_payload()).get_json()["lead_id"]
    for _ in range(3):  # scanners and link previews fetch it, sometimes several times
        page = client.get(unsubscribe_path(smtp_app, lead_id))
        assert page.status_code == 200 and b"Stop emails from Demo Insurance Agency?" in page.data
    assert not is_opted_out(demo_store, "maria.lopez@example.com")


def test_a_mail_clients_one_click_post_unsubscribes_without_a_question(smtp_app, demo_store):
    from automations.notify.optout import is_opted_out
    client = smtp_app.test_client()
    lead_id = client.post("/leads", json=lead_payload()).get_json()["lead_id"]
    r = client.post(unsubscribe_path(smtp_app, lead_id), data="List-Unsubscribe=One-Click",
                    content_type="application/x-www-form-urlencoded")  # RFC 8058
    assert r.status_code == 200 and b"You are unsubscribed" in r.data
    assert is_opted_out(demo_store, "maria.lopez@example.com")
    [row] = [a for a in demo_store.activity(lead_id) if a.event == "email unsubscribed"]
    assert row.detail == "m***@example.com confirmed one-click unsubscribe"
    assert b"You are unsubscribed" in client.get(unsubscribe_path(smtp_app, lead_id)).data  # nothing left to ask
