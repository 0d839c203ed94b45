"""Fixtures for the notification tests: Twilio and SMTP fakes on loopback, apps wired to them."""
from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app import create_app
from automations.notify.outbox import RetryPolicy
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, TwilioFake

FROM = "+12015550100"
NO_WAIT = RetryPolicy(immediate=(), backoff=(60, 120, 240, 480, 900))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def twilio():
    fake = TwilioFake().start()
    yield fake
    fake.stop()


def twilio_config(fake: TwilioFake, **more) -> dict:
    cfg = {"TESTING": True, "SEND_INLINE": True, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_FROM": FROM, "TWILIO_API": fake.url, "SMTP_URL": "", "PUBLIC_URL": "",
           "SECRET_KEY": "test-secret", "RETRY_POLICY": NO_WAIT}
    cfg.update(more)
    return cfg


@pytest.fixture
def twilio_app(demo_store, clock, twilio):
    """The app with its channels built from settings, as in production: texts go to the Twilio fake."""
    app = create_app(twilio_config(twilio), store=demo_store, clock=clock)
    yield app
    app.extensions["leadrouter"].drain()


# ---- SMTP ------------------------------------------------------------------------------------
@dataclass
class Mailbox:
    """What an SMTP server on loopback accepted."""
    envelopes: list = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self):
        from email import message_from_bytes, policy
        return [message_from_bytes(e.content.replace(b"\r\n", b"\n"), policy=policy.default) for e in self.envelopes]


def smtp_server(mailbox: Mailbox, **kwargs):
    from aiosmtpd.controller import Controller
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


def serving(box: Mailbox):
    """Yield `box` with an SMTP server on loopback delivering into it (its port set), then stop it."""
    controller = smtp_server(box)
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture
def mailbox():
    yield from serving(Mailbox())


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (openssl), for STARTTLS and smtps tests."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def server_tls(tls_files) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*map(str, tls_files))
    return ctx


def client_tls(tls_files) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls_files[0]))


# ---- a push webhook endpoint (Slack, Teams, ntfy-style JSON) -------------------------------------
class Receiver:
    """A webhook endpoint on loopback that records JSON posts and answers with `status`."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posts.append((self.path, json.loads(body)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/sarah"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def with_push(demo_store, receiver):
    rows = demo_store.read_rows("Producers")
    for row in rows:
        if row["name"] == "Sarah M.":
            row["push_webhook"] = receiver.url
    demo_store.replace_rows("Producers", rows)
    return demo_store
