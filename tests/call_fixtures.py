"""Fixtures for call connect: the app with Twilio (texts and calls) on the loopback fake, a public
URL Twilio calls back, Settings -> Call Connect = Y, and Twilio's side of the calls (TwilioSide)."""
from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import lead_payload
from tests.notify_fixtures import twilio_config
from tests.speed_fixtures import set_setting
from tests.voice_driver import PUBLIC, TwilioSide


@pytest.fixture
def call_app(demo_store, clock, twilio):
    set_setting(demo_store, "Call Connect", "Y")
    app = create_app(twilio_config(twilio, PUBLIC_URL=PUBLIC), store=demo_store, clock=clock)
    yield app
    app.extensions["leadrouter"].drain()


@pytest.fixture
def side(call_app, twilio):
    return TwilioSide(call_app.test_client(), twilio)


def consenting_lead(**more) -> dict:
    return lead_payload(consent="Yes, you may call and text me about my quote", **more)


def post_lead(app, **more) -> dict:
    reply = app.test_client().post("/leads", json=consenting_lead(**more))
    assert reply.status_code == 201, reply.json
    return reply.json


def events(store, lead_id: str) -> list[str]:
    return [a.event for a in store.activity(lead_id)]


def details(store, lead_id: str, event: str) -> list[str]:
    return [a.detail for a in store.activity(lead_id) if a.event == event]
