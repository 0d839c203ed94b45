"""Fixtures for the AMS tests: the loopback AMSs, a demo store with Settings -> AMS set, and the app
wired as in production (channels and the AMS from settings; SMTP to a real mailbox on loopback)."""
from __future__ import annotations

import pytest

from app import create_app
from sheets_schema.sql_store import SqlStore
from tests.ams_fakes import (AGENCY, CLIENT_ID, CLIENT_SECRET, LOGIN, PASSWORD, WEBHOOK_SECRET, Ams360Fake,
                             EpicFake, WebhookReceiver)
from tests.conftest import load_demo, lead_payload  # noqa: F401 - re-exported for the tests
from tests.notify_fixtures import NO_WAIT

MANAGER = "morgan@demo-agency.example"


@pytest.fixture
def epic():
    fake = EpicFake().start()
    yield fake
    fake.stop()


@pytest.fixture
def ams360():
    fake = Ams360Fake().start()
    yield fake
    fake.stop()


@pytest.fixture
def receiver():
    fake = WebhookReceiver().start()
    yield fake
    fake.stop()


@pytest.fixture
def sql_demo(tmp_path):
    """The demo agency on SQLite (the AMS logic is the same on every backend; one test runs on all)."""
    store = SqlStore(f"sqlite:///{tmp_path / 'leads.db'}")
    load_demo(store)
    yield store
    store.close()


def epic_env(fake: EpicFake, **more) -> dict[str, str]:
    return {"LEADROUTER_EPIC_API": fake.url, "LEADROUTER_EPIC_CLIENT_ID": CLIENT_ID,
            "LEADROUTER_EPIC_CLIENT_SECRET": CLIENT_SECRET, "LEADROUTER_AMS_TIMEOUT": "2", **more}


def ams360_env(fake: Ams360Fake, **more) -> dict[str, str]:
    return {"LEADROUTER_AMS360_API": fake.url, "LEADROUTER_AMS360_AGENCY": AGENCY, "LEADROUTER_AMS360_LOGIN": LOGIN,
            "LEADROUTER_AMS360_PASSWORD": PASSWORD, "LEADROUTER_AMS_TIMEOUT": "2", **more}


def webhook_env(fake: WebhookReceiver, **more) -> dict[str, str]:
    return {"LEADROUTER_AMS_WEBHOOK_URL": fake.url + "/leadrouter", "LEADROUTER_AMS_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "LEADROUTER_AMS_TIMEOUT": "2", **more}


def set_settings(store, **values: str) -> None:
    names = {k.replace("_", " ") for k in values}
    rows = [r for r in store.read_rows("Settings") if r.get("setting", "") not in names]
    store.replace_rows("Settings", rows + [{"setting": k.replace("_", " "), "value": v} for k, v in values.items()])


def ams_app(store, clock, ams: str, env: dict[str, str], smtp_port: int | None = None, **config):
    """The app with Settings -> AMS = `ams`; managers' alerts go by email to the loopback mailbox."""
    set_settings(store, AMS=ams)
    cfg = {"TESTING": True, "SEND_INLINE": True, "AMS_ENV": env, "RETRY_POLICY": NO_WAIT, "SECRET_KEY": "k",
           "PUBLIC_URL": "https://agency.example", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "",
           "TWILIO_FROM": "", "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}" if smtp_port else ""}
    cfg.update(config)
    return create_app(cfg, store=store, clock=clock)


def activity(store, lead_id: str, event: str) -> list:
    return [a for a in store.activity(lead_id) if a.event == event]


def alerts_to_manager(mailbox) -> list:
    return [m for m in mailbox.messages() if m["To"] == MANAGER and "AMS" in m["Subject"]]
